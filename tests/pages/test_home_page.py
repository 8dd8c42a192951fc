"""The Home page with Streamlit's AppTest: three starts, the guided path and its ticks, and the
current dataset in the sidebar of every page."""

import dataclasses

import pytest
from streamlit.testing.v1 import AppTest

from core import services
from core.ml.network import NetworkConfig
from core.recommend import RecommenderConfig
from tests.pages.apptest import DATA, HOME, OVERVIEW, RECOMMENDATIONS, ROOT, run_page
from ui import state

PAGES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))
DONE = "✔ done"
EVENTS_CSV = (
    b"user_id,item_id,event_type,timestamp\n"
    b"k1,a1,view,2024-03-01 10:00\n"
    b"k2,a2,purchase,2024-03-02 11:00\n"
)


def _home(**options) -> AppTest:
    return run_page(HOME, through_app=True, **options)


def _step_titles(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**") and " · " in m.value]


def _done_count(at: AppTest) -> str:
    return next(c.value for c in at.caption if "done in this session" in c.value)


def test_home_is_the_first_page_and_offers_three_starts_and_four_steps():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert at.title[0].value == "ShopLens"  # "/" opens Home
    labels = [b.label for b in at.button]
    for start in ("Explore the sample shop", "Load your own files", "Open a saved run"):
        assert start in labels
    steps = _step_titles(at)
    assert [s.split(" · ")[0] for s in steps] == ["**1", "**2", "**3", "**4"]
    assert not any(DONE in s for s in steps)
    assert "0 of 4 done" in _done_count(at)


def test_exploring_the_sample_replaces_the_dataset_and_opens_the_overview(small_shop, sample_shop):
    at = _home(session={state.SHOP: small_shop, "recs.result": "trained on the small shop"})
    at.button(key=state.HOME_SAMPLE).click().run()
    assert not at.exception
    assert at.title[0].value == "Shop overview"
    assert at.session_state[state.SHOP].fingerprint == sample_shop.fingerprint
    assert "recs.result" not in at.session_state  # models of the other data are cleared


def test_loading_your_own_files_opens_the_data_page_on_its_uploaders():
    at = _home()
    at.button(key=state.HOME_UPLOAD).click().run()
    assert not at.exception
    assert at.title[0].value == "Data"
    assert at.radio(key=state.SOURCE).value == state.SOURCE_UPLOAD
    assert at.info  # asks for a file


def test_opening_a_saved_run_says_how_many_there_are_and_opens_the_runs_page(runs_dir):
    assert any("No saved runs yet" in m.value for m in _home().markdown)
    for run_id in ("20261128-101500-purchase-1a2b3c4d", "20261128-101600-recommend-1a2b3c4e"):
        (runs_dir / run_id).mkdir()
    (runs_dir / "not-a-run").mkdir()
    at = _home()
    assert any(m.value.startswith("2 saved runs") for m in at.markdown)
    at.button(key=state.HOME_RUNS).click().run()
    assert not at.exception
    assert at.title[0].value == "Runs"


def test_the_guided_steps_tick_as_they_are_done_in_the_session(small_shop):
    at = _home(session={state.SHOP: small_shop})
    assert "0 of 4 done" in _done_count(at)  # other data than the sample

    at.button(key=state.HOME_STEP_SAMPLE).click().run()
    assert not at.exception
    assert DONE in _step_titles(at)[0] and "1 of 4 done" in _done_count(at)
    assert at.button(key=state.HOME_STEP_SAMPLE).disabled

    at.switch_page(OVERVIEW).run()  # looking at the overview ticks step 2
    assert at.session_state[state.HOME_SAW_OVERVIEW]
    at.switch_page(HOME).run()
    assert DONE in _step_titles(at)[1] and "2 of 4 done" in _done_count(at)

    at.session_state[state.RECS_RESULT] = "a trained recommender"
    at.run()
    assert DONE in _step_titles(at)[2] and DONE not in _step_titles(at)[3]
    at.session_state[state.HOME_SAW_REASONS] = True
    at.run()
    assert all(DONE in s for s in _step_titles(at)) and "4 of 4 done" in _done_count(at)


@pytest.mark.slow
def test_the_recommendations_page_ticks_the_reasons_step_once_it_shows_a_user(small_shop):
    tiny = RecommenderConfig(network=NetworkConfig(hidden_layers=(4,), epochs=2))
    result = services.train_recommender(small_shop, services.RecommendSettings(tiny), None)
    at = run_page(
        RECOMMENDATIONS,
        session={state.SHOP: small_shop, state.RECS_RESULT: result},
        through_app=True,
    )
    assert not at.exception
    assert at.session_state[state.HOME_SAW_REASONS]


# --- the current dataset in the sidebar ---------------------------------------------------------


def _sidebar(at: AppTest) -> tuple[str, str]:
    name = next(m.value for m in at.sidebar.markdown if m.value.startswith("**Dataset**"))
    facts = next(c.value for c in at.sidebar.caption if " events  \n" in c.value)
    return name, facts


@pytest.mark.parametrize("script", PAGES)
def test_every_page_shows_the_current_dataset_in_the_sidebar(script, small_shop):
    at = run_page(script, session={state.SHOP: small_shop}, through_app=True)
    assert not at.exception
    times = small_shop.events.frame["timestamp"]
    first, last = times.min(), times.max()
    assert _sidebar(at) == (
        "**Dataset** · events.csv + products.csv",
        f"{len(times):,} events  \n{first.day} {first:%b %Y} – {last.day} {last:%b %Y}",
    )


def test_the_sidebar_names_the_sample_shop_and_the_data_of_an_opened_run(sample_shop, small_shop):
    at = run_page(HOME, session={state.SHOP: sample_shop}, through_app=True)
    assert _sidebar(at) == (
        "**Dataset** · Sample shop",
        "208,865 events  \n1 May 2026 – 31 Oct 2026",
    )
    kept = {state.SHOP: small_shop, state.KEPT_DATA: small_shop.fingerprint}
    at = run_page(HOME, session=kept, through_app=True)
    assert _sidebar(at)[0] == r"**Dataset** · Data of an opened run\: events.csv + products.csv"


def test_before_any_data_is_loaded_the_sidebar_says_the_sample_comes_first():
    at = _home()
    assert "No dataset loaded yet" in at.sidebar.caption[0].value


def test_the_data_page_shows_the_dataset_it_has_just_loaded_in_the_sidebar():
    at = run_page(DATA, through_app=True)  # a fresh session: the page loads the sample
    assert _sidebar(at)[0] == "**Dataset** · Sample shop"


def test_coming_back_to_the_data_page_keeps_an_uploaded_dataset():
    at = run_page(DATA, through_app=True)
    at.radio(key=state.SOURCE).set_value(state.SOURCE_UPLOAD).run()
    at.file_uploader(key=state.EVENTS_FILE).set_value(("mine.csv", EVENTS_CSV, "text/csv")).run()
    at.switch_page(OVERVIEW).run()
    at.switch_page(DATA).run()
    assert not at.exception
    assert at.session_state[state.SHOP].events.source_name == "mine.csv"
    assert at.radio(key=state.SOURCE).value == state.SOURCE_UPLOAD
    assert at.info  # asks for a file again, keeping the upload meanwhile


def test_an_uploaded_file_name_shows_as_plain_text_in_the_sidebar(small_shop):
    name = "[deal](https://e.vil) $x$ :red[big] **b**.csv"
    events = dataclasses.replace(small_shop.events, source_name=name)
    shop = dataclasses.replace(small_shop, events=events, products=None, fingerprint="odd")
    shown = _sidebar(run_page(HOME, session={state.SHOP: shop}, through_app=True))[0]
    assert shown == (
        "**Dataset** · \\[deal\\]\\(https\\:\u2060//e.vil\\) \\$x\\$ \\:red\\[big\\] "
        "\\*\\*b\\*\\*.csv"
    )  # a word joiner keeps the URL from being linked
