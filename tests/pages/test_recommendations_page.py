"""The Recommendations page with Streamlit's AppTest: train, scoreboard, per-user browser."""

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core import purchase, recommend, schema, services
from core.config import load_settings
from core.data.loading import ShopData, load_shop
from core.data.sample import generate_sample_shop
from core.ml import metrics as m
from core.ml.network import NetworkConfig
from core.ml.timesplit import data_end_of, default_cutoff
from core.runs import RunStore
from core.runs.tasks import recommender_run_record
from ui import recommendations, state, trainer

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "4_Recommendations.py")
TIMEOUT = 90
TINY = recommend.RecommenderConfig(network=NetworkConfig(hidden_layers=(8,), epochs=5))


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


@pytest.fixture(scope="module")
def sample_shop() -> ShopData:
    settings = load_settings()
    return load_shop(settings.sample_events, settings.sample_products)


@pytest.fixture(scope="module")
def cutoff(sample_shop) -> pd.Timestamp:
    return default_cutoff(sample_shop.events.frame, 30)


def _page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()


def _train(
    at: AppTest,
    *,
    layers: str = "8",
    epochs: int = 5,
    k: int | None = None,
    mode: str | None = None,
) -> AppTest:
    """Type the layers (a run of its own), then set the form's fields and press Train."""
    at.text_input(key=state.RECS_LAYERS_TEXT).input(layers).run()
    at.number_input(key=state.RECS_EPOCHS).set_value(epochs)
    if k is not None:
        at.radio(key=state.RECS_K).set_value(k)
    if mode is not None:
        at.radio(key=state.RECS_MODE).set_value(mode)
    return at.button(key=state.RECS_TRAIN).click().run()


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _table(at: AppTest, column: str) -> pd.DataFrame:
    """The first dataframe on the page that has ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_the_page_renders_with_the_sample_shop_and_asks_for_a_training():
    at = _page()
    assert not at.exception
    assert not at.error
    assert any("press **Train**" in i.value for i in at.info)
    assert at.text_input(key=state.RECS_LAYERS_TEXT).value == "64,32"
    assert at.radio(key=state.RECS_K).value == 10
    assert at.number_input(key=state.RECS_HORIZON).value == 30
    assert not at.checkbox(key=state.RECS_BUY_AGAIN).value
    assert not at.checkbox(key=state.RECS_CATALOGUE_ONLY).value


def test_training_shows_every_model_and_the_core_ndcg(sample_shop, cutoff):
    at = _train(_page())
    assert not at.exception
    assert not at.error

    _, expected = recommend.evaluate_recommender(
        sample_shop.events.frame,
        sample_shop.products.frame,
        cutoff=cutoff,
        horizon_days=30,
        k=10,
        config=TINY,
    )
    result = at.session_state[state.RECS_RESULT]
    assert result.settings.config == TINY
    assert result.settings.cutoff == cutoff
    assert result.evaluation.users == expected.users
    board = _table(at, "NDCG@10")
    labels = [recommend.MODEL_LABELS[n] for n in (m.MLP, *recommend.BASELINES)]
    assert list(board["model"]) == labels
    ndcg = expected.scores.loc[m.MLP, "ndcg"]
    assert board.loc[0, "NDCG@10"] == pytest.approx(ndcg, rel=1e-9)
    assert list(board["NDCG@10"]) == pytest.approx(
        [expected.scores.loc[n, "ndcg"] for n in (m.MLP, *recommend.BASELINES)],
        rel=1e-9,
    )
    assert _metric(at, "NDCG@10 · MLP ranker") == f"{ndcg:.3f}"
    assert _metric(at, "Users evaluated") == f"{expected.users:,}"
    assert _metric(at, "Top-3 accuracy") == f"{expected.category_report.top3_accuracy:.1%}"
    # The fitted recommender and its evaluation survive reruns under "recs." keys.
    assert trainer.session_key(recommendations.PAGE) not in at.session_state
    at.run()
    assert at.session_state[state.RECS_RESULT] is result


def test_picking_a_user_shows_history_and_k_recommendations_with_reasons_and_hits():
    at = _train(_page(), k=5)
    assert not at.exception
    result = at.session_state[state.RECS_RESULT]
    relevant = result.evaluation.relevant
    user = relevant[schema.USER_ID].value_counts().index[3]
    at.selectbox(key=state.RECS_USER_PICK).set_value(user).run()
    assert not at.exception
    assert not at.error

    recs = _table(at, recommend.REASON)
    assert len(recs) == 5
    assert list(recs["rank"]) == [1, 2, 3, 4, 5]
    assert all(isinstance(r, str) and r.strip() for r in recs[recommend.REASON])
    assert (recs["score"].diff().dropna() <= 0).all()
    bought = set(relevant.loc[relevant[schema.USER_ID] == user, schema.ITEM_ID])
    expected_hits = [item in bought for item in recs[schema.ITEM_ID]]
    assert [mark == recommendations.HIT_MARK for mark in recs[recommendations.HIT]] == (
        expected_hits
    )
    assert _metric(at, "Hits in the top 5") == f"{sum(expected_hits)} of 5"
    assert _metric(at, "Bought in the test window") == f"{len(bought):,}"

    history = _table(at, schema.EVENT_TYPE)
    events = at.session_state[state.SHOP].events.frame
    mine = events[
        (events[schema.USER_ID] == user) & (events[schema.TIMESTAMP] < result.settings.cutoff)
    ]
    assert len(history) == min(len(mine), 200)
    assert history[schema.TIMESTAMP].is_monotonic_decreasing
    assert history[schema.NAME].notna().all()
    assert history[schema.TIMESTAMP].max() < result.settings.cutoff


def test_an_unknown_user_id_shows_a_one_line_error():
    at = _train(_page())
    at.radio(key=state.RECS_USER_SOURCE).set_value(recommendations.TYPE).run()
    at.text_input(key=state.RECS_USER_SEARCH).input("nobody-42").run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "'nobody-42' is not in this data" in message and "\n" not in message


def test_a_cutoff_without_h_days_after_it_shows_the_core_error():
    at = _page()
    last_day = at.date_input(key=state.RECS_CUTOFF).proto.max
    at.date_input(key=state.RECS_CUTOFF).set_value(last_day)
    at.button(key=state.RECS_TRAIN).click().run()
    assert not at.exception
    assert len(at.error) == 1
    assert "leaves less than 30 days of data after it" in at.error[0].value
    assert state.RECS_RESULT not in at.session_state
    assert trainer.session_key(recommendations.PAGE) not in at.session_state
    assert not at.button(key=state.RECS_TRAIN).disabled


def test_data_without_item_ids_shows_the_info_and_no_exception(tmp_path):
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "customer_id,order_date,amount\n"
        "c1,2024-03-01,10.00\n"
        "c2,2024-03-02,12.50\n"
        "c1,2024-03-09,8.00\n"
    )
    # Through app.py, so the page link to the Data page resolves as in the running app.
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state[state.SHOP] = load_shop(orders)
    at.switch_page("pages/4_Recommendations.py").run()
    assert not at.exception
    assert not at.error
    assert len(at.info) == 1
    assert "Recommendations need item ids" in at.info[0].value
    assert not at.text_input  # stopped before the editor


def test_recommend_now_mode_trains_on_all_data_without_scores(sample_shop):
    at = _train(_page(), mode=recommendations.DEPLOY)
    assert not at.exception
    assert not at.error
    result = at.session_state[state.RECS_RESULT]
    assert result.evaluation is None
    assert result.settings.cutoff == data_end_of(sample_shop.events.frame)
    assert any("Scores need a held-out window" in i.value for i in at.info)
    recs = _table(at, recommend.REASON)
    assert len(recs) == 10
    assert recommendations.HIT not in recs.columns


def test_a_stopped_training_keeps_the_rankers_best_epoch(sample_shop, cutoff, runs_dir):
    settings = services.RecommendSettings(
        recommend.RecommenderConfig(
            network=NetworkConfig(hidden_layers=(8,), epochs=500, early_stopping=False)
        ),
        cutoff=cutoff,
    )
    job = trainer.TrainingJob("test-recs-job", recommendations.PAGE, "test")

    def work(on_progress):
        def stop_at_epoch(progress):
            if progress.epoch == 4:  # as the Stop button's callback does
                job.request_stop()
            return on_progress(progress)

        store = RunStore(runs_dir)
        return services.train_recommender(sample_shop, settings, store, on_progress=stop_at_epoch)

    job._run(work)
    trainer._JOBS[job.job_id] = job
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.query_params[trainer.TRAINING_QUERY] = job.job_id  # as after a refresh
    at.run()
    assert not at.exception
    assert trainer.session_key(recommendations.PAGE) not in at.session_state
    result = at.session_state[state.RECS_RESULT]
    assert result.stopped
    assert result.epochs == 4
    assert len(result.recommender.curves) == result.epochs
    notice = next(i.value for i in at.info if "stopped" in i.value)
    assert notice.startswith(f"Training was stopped at epoch {result.epochs};")
    assert _table(at, "NDCG@10").shape[0] == 5
    [info] = RunStore(runs_dir).runs()
    assert info.manifest.status == "stopped" and info.manifest.stopped_at_epoch == 4


def test_top_predicted_buyers_from_the_purchase_page_can_be_picked():
    at = _train(_page())
    users = at.session_state[state.RECS_RESULT].recommender.interactions.user_ids
    buyers = pd.DataFrame(
        {purchase.PROBABILITY: [0.91, 0.35, 0.72]},
        index=pd.Index([users[5], users[9], users[7]], name=schema.USER_ID),
    )
    # A stand-in for the Purchase prediction page's result: only what this page reads.
    at.session_state[state.PURCHASE_RESULT] = SimpleNamespace(
        next_orders=buyers, data=SimpleNamespace(horizon_days=30)
    )
    at.run()
    at.radio(key=state.RECS_USER_SOURCE).set_value(recommendations.BUYERS).run()
    picker = at.selectbox(key=state.RECS_BUYER)
    assert picker.options == [
        f"{users[5]} · 91% likely to buy in the next 30 days",
        f"{users[7]} · 72% likely to buy in the next 30 days",
        f"{users[9]} · 35% likely to buy in the next 30 days",
    ]
    picker.set_value(users[7]).run()
    assert not at.exception
    result = at.session_state[state.RECS_RESULT]
    expected = recommend.recommend_for_user(result.recommender, users[7], k=10)
    assert list(_table(at, recommend.REASON)[schema.ITEM_ID]) == list(expected[schema.ITEM_ID])


def test_the_what_if_panel_recommends_for_clicked_products_at_once():
    at = _train(_page())
    inter = at.session_state[state.RECS_RESULT].recommender.interactions
    clicked = [str(inter.item_ids[inter.popularity.argmax()])]
    at.multiselect(key=state.RECS_WHATIF_ITEMS).set_value(clicked).run()
    assert not at.exception
    table = next(
        d.value
        for d in at.dataframe
        if recommend.REASON in d.value.columns and schema.ITEM_ID not in d.value.columns
    )
    assert len(table) == 10
    assert table[recommend.REASON].str.startswith("close to what you clicked").all()


def test_a_run_in_the_url_reopens_on_its_own_data_with_the_same_scores(runs_dir, tmp_path):
    events, products = generate_sample_shop(n_users=300, n_items=60, random_state=1)
    events.to_csv(tmp_path / "events.csv", index=False)
    products.to_csv(tmp_path / "products.csv", index=False)
    other = load_shop(tmp_path / "events.csv", tmp_path / "products.csv")
    cutoff = default_cutoff(other.events.frame, 30)
    fitted, evaluation = recommend.evaluate_recommender(
        other.events.frame, other.products.frame, cutoff=cutoff, horizon_days=30, k=5, config=TINY
    )
    record = recommender_run_record(
        fitted, evaluation, cutoff=cutoff, horizon_days=30, k=5, stopped=False
    )
    run_id = RunStore(runs_dir).save(record, other, name="small shop")

    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.query_params[state.RUN_QUERY] = run_id
    at.run()
    assert not at.exception and not at.error
    assert at.session_state[state.SHOP].fingerprint == other.fingerprint  # its data, reloaded
    result = at.session_state[state.RECS_RESULT]
    assert result.run_id == run_id and result.settings.k == 5
    pd.testing.assert_frame_equal(result.evaluation.scores, evaluation.scores)
    assert any(run_id in c.value for c in at.caption)
    assert at.radio(key=state.RECS_K).value == 5  # the form shows the run's settings
    assert at.number_input(key=state.RECS_EPOCHS).value == TINY.network.epochs
    assert at.date_input(key=state.RECS_CUTOFF).value == cutoff.date()


def test_a_purchase_run_in_the_recommendations_url_is_refused_with_one_line(runs_dir):
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.query_params[state.RUN_QUERY] = "20260101-000000-purchase-00000000"
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and "There is no run" in at.error[0].value
