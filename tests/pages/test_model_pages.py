"""What both model pages, Purchase prediction and Recommendations, do alike, with AppTest: the
form before a training, a cutoff too late to train at, and data they cannot train on."""

import datetime as dt
from dataclasses import dataclass

import pytest

from core.data.loading import load_shop
from tests.pages.apptest import PURCHASE, RECOMMENDATIONS, run_page
from tests.reading import write
from ui import purchase, recommendations, state


@dataclass(frozen=True)
class ModelPage:
    script: str
    trainer_page: str  # the page's name for the background trainer
    prefix: str  # of the names in ui.state of its widgets' keys: PURCHASE_CUTOFF, RECS_CUTOFF

    def key(self, name: str) -> str:
        """The session-state key of one of the page's widgets, or of its result."""
        return getattr(state, f"{self.prefix}_{name}")


MODEL_PAGES = {
    "purchase": ModelPage(PURCHASE, purchase.PAGE, "PURCHASE"),
    "recommendations": ModelPage(RECOMMENDATIONS, recommendations.PAGE, "RECS"),
}


@pytest.mark.parametrize("page", MODEL_PAGES.values(), ids=MODEL_PAGES.keys())
def test_the_page_renders_with_the_sample_shop_and_asks_for_a_training(page):
    at = run_page(page.script)
    assert not at.exception
    assert not at.error
    assert any("press **Train**" in i.value for i in at.info)
    assert at.text_input(key=page.key("LAYERS_TEXT")).value == "64,32"
    assert at.number_input(key=page.key("HORIZON")).value == 30


@pytest.mark.parametrize("page", MODEL_PAGES.values(), ids=MODEL_PAGES.keys())
def test_the_cutoff_shows_the_date_in_use_and_follows_the_horizon_while_it_is_the_latest(page):
    at = run_page(page.script)
    cutoff = at.date_input(key=page.key("CUTOFF"))
    last_day = cutoff.proto.max
    assert cutoff.value == dt.date.fromisoformat(last_day) - dt.timedelta(days=29)
    at.number_input(key=page.key("HORIZON")).set_value(10).run()
    assert at.date_input(key=page.key("CUTOFF")).value == (
        dt.date.fromisoformat(last_day) - dt.timedelta(days=9)
    )
    picked = dt.date.fromisoformat(last_day) - dt.timedelta(days=60)
    at.date_input(key=page.key("CUTOFF")).set_value(picked).run()
    at.number_input(key=page.key("HORIZON")).set_value(20).run()
    assert at.date_input(key=page.key("CUTOFF")).value == picked  # a chosen date stays
    assert not at.error


@pytest.mark.parametrize("page", MODEL_PAGES.values(), ids=MODEL_PAGES.keys())
def test_a_cutoff_without_h_days_after_it_disables_train_and_names_the_date_on_screen(page):
    at = run_page(page.script)
    last_day = at.date_input(key=page.key("CUTOFF")).proto.max
    at.date_input(key=page.key("CUTOFF")).set_value(last_day).run()
    assert not at.exception
    assert len(at.error) == 1
    assert f"Cutoff {last_day} leaves less than 30 days of data after it" in at.error[0].value
    train = at.button(key=page.key("TRAIN"))
    assert train.disabled and at.error[0].value in train.help
    earlier = dt.date.fromisoformat(last_day) - dt.timedelta(days=40)
    at.date_input(key=page.key("CUTOFF")).set_value(earlier).run()
    assert not at.error
    assert not at.button(key=page.key("TRAIN")).disabled


UNUSABLE = {
    "a_shop_without_purchases_on_the_purchase_page": (
        PURCHASE,
        "views.csv",
        "user_id,item_id,event_type,timestamp\n"
        "u1,i1,view,2024-03-01 10:00:00\n"
        "u2,i2,view,2024-03-02 11:00:00\n"
        "u1,i2,cart,2024-03-03 12:00:00\n",
        "no purchases",
    ),
    "data_without_item_ids_on_the_recommendations_page": (
        RECOMMENDATIONS,
        "orders.csv",
        "customer_id,order_date,amount\nc1,2024-03-01,10.00\nc2,2024-03-02,12.50\n"
        "c1,2024-03-09,8.00\n",
        "Recommendations need item ids",
    ),
}


@pytest.mark.parametrize(("script", "file", "text", "message"), UNUSABLE.values(), ids=UNUSABLE)
def test_data_a_page_cannot_train_on_shows_why_and_stops_before_the_form(
    tmp_path, script, file, text, message
):
    shop = load_shop(write(tmp_path, file, text))
    # Through app.py, so the page link to the Data page resolves as in the running app.
    at = run_page(script, session={state.SHOP: shop}, through_app=True)
    assert not at.exception
    assert not at.error
    assert len(at.info) == 1
    assert message in at.info[0].value
    assert not at.main.text_input  # stopped before the editor
