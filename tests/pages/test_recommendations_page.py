"""The Recommendations page with Streamlit's AppTest: train, scoreboard, per-user browser."""

from functools import partial
from types import SimpleNamespace

import pandas as pd
import pytest

from core import purchase, recommend, schema, services
from core.images.sample import LIST_FILE, PHOTOS_DIR
from core.ml import metrics as m
from core.ml.network import NetworkConfig
from core.ml.timesplit import data_end_of, default_cutoff
from core.runs import RunStore
from core.runs.tasks import recommender_run_record
from tests.pages.apptest import (
    RECOMMENDATIONS,
    finished_training,
    metric,
    open_dataset_with_feature_tables,
    run_page,
    table,
    train_recommender,
)
from ui import jobs, recommendations, state, trainer

TINY = recommend.RecommenderConfig(network=NetworkConfig(hidden_layers=(8,), epochs=5))


@pytest.fixture(scope="module")
def cutoff(sample_shop) -> pd.Timestamp:
    return default_cutoff(sample_shop.events.frame, 30)


def test_the_form_starts_at_k_10_without_items_bought_before_or_a_catalogue_filter():
    # What both model pages show before a training is in test_model_pages.py.
    at = run_page(RECOMMENDATIONS)
    assert at.radio(key=state.RECS_K).value == 10
    assert not at.checkbox(key=state.RECS_BUY_AGAIN).value
    assert not at.checkbox(key=state.RECS_CATALOGUE_ONLY).value


@pytest.mark.slow
def test_training_shows_every_model_and_the_core_ndcg(sample_shop, cutoff):
    at = train_recommender(run_page(RECOMMENDATIONS))
    assert not at.exception
    assert not at.error

    _, expected = recommend.evaluate_recommender(
        sample_shop.events.frame,
        sample_shop.products.frame,
        cutoff=cutoff,
        horizon_days=30,
        k=10,
        config=TINY,
        photos=services.shop_photo_vectors(sample_shop),  # the sample shop has photos
    )
    result = at.session_state[state.RECS_RESULT]
    assert result.settings.config == TINY
    assert result.settings.cutoff == cutoff
    assert result.evaluation.users == expected.users
    board = table(at, "NDCG@10")
    labels = [recommend.MODEL_LABELS[n] for n in (m.MLP, *recommend.BASELINES)]
    assert list(board["model"]) == labels
    ndcg = expected.scores.loc[m.MLP, "ndcg"]
    assert board.loc[0, "NDCG@10"] == pytest.approx(ndcg, rel=1e-9)
    assert list(board["NDCG@10"]) == pytest.approx(
        [expected.scores.loc[n, "ndcg"] for n in (m.MLP, *recommend.BASELINES)],
        rel=1e-9,
    )
    assert metric(at, "NDCG@10 · MLP ranker") == f"{ndcg:.3f}"
    assert metric(at, "Users evaluated") == f"{expected.users:,}"
    assert metric(at, "Top-3 accuracy") == f"{expected.category_report.top3_accuracy:.1%}"
    # The ranker with photo features beside the same one without, on the new products.
    photos = table(at, "NDCG@10 · products first sold in the test window")
    assert list(photos["model"]) == list(recommendations.PHOTO_MODELS.values())
    comparison = result.evaluation.photos
    assert photos.loc[0, "NDCG@10 · every user"] == pytest.approx(ndcg, rel=1e-9)
    verdict = f"{comparison.new_items:,} products were first sold in the test window"
    assert any(verdict in caption.value for caption in at.caption)
    # The fitted recommender and its evaluation survive reruns under "recs." keys.
    assert jobs.session_key(recommendations.PAGE) not in at.session_state
    at.run()
    assert at.session_state[state.RECS_RESULT] is result


@pytest.mark.slow
def test_picking_a_user_shows_history_and_k_recommendations_with_reasons_and_hits():
    at = train_recommender(run_page(RECOMMENDATIONS), k=5)
    assert not at.exception
    result = at.session_state[state.RECS_RESULT]
    relevant = result.evaluation.relevant
    user = relevant[schema.USER_ID].value_counts().index[3]
    at.selectbox(key=state.RECS_USER_PICK).set_value(user).run()
    assert not at.exception
    assert not at.error

    recs = table(at, recommend.REASON)
    assert len(recs) == 5
    assert list(recs["rank"]) == [1, 2, 3, 4, 5]
    assert all(isinstance(r, str) and r.strip() for r in recs[recommend.REASON])
    assert (recs["score"].diff().dropna() <= 0).all()
    bought = set(relevant.loc[relevant[schema.USER_ID] == user, schema.ITEM_ID])
    expected_hits = [item in bought for item in recs[schema.ITEM_ID]]
    assert [mark == recommendations.HIT_MARK for mark in recs[recommendations.HIT]] == (
        expected_hits
    )
    assert metric(at, "Hits in the top 5") == f"{sum(expected_hits)} of 5"
    assert metric(at, "Bought in the test window") == f"{len(bought):,}"

    history = table(at, schema.EVENT_TYPE)
    events = at.session_state[state.SHOP].events.frame
    mine = events[
        (events[schema.USER_ID] == user) & (events[schema.TIMESTAMP] < result.settings.cutoff)
    ]
    assert len(history) == min(len(mine), 200)
    assert metric(at, "Events before the cutoff") == f"{len(mine):,}"  # every one, never "200+"
    bought_lines = mine[mine[schema.EVENT_TYPE] == schema.PURCHASE]
    assert metric(at, "Purchase lines") == f"{len(bought_lines):,}"
    orders = bought_lines[schema.ORDER_ID].nunique() if schema.ORDER_ID in mine else None
    assert orders is not None and metric(at, "Orders") == f"{orders:,}"
    assert history[schema.TIMESTAMP].is_monotonic_decreasing
    assert history[schema.NAME].notna().all()
    assert history[schema.TIMESTAMP].max() < result.settings.cutoff
    _assert_thumbnails(recs, at.session_state[state.SHOP])
    _assert_thumbnails(history, at.session_state[state.SHOP])

    # A user who bought grocery products sees their photos in the history.
    grocery = events[
        (events[schema.ITEM_ID].astype("str").isin(PHOTO_ITEMS))
        & (events[schema.EVENT_TYPE] == schema.PURCHASE)
        & (events[schema.TIMESTAMP] < result.settings.cutoff)
    ]
    at.radio(key=state.RECS_USER_SOURCE).set_value(recommendations.TYPE).run()
    at.text_input(key=state.RECS_USER_SEARCH).input(str(grocery[schema.USER_ID].iloc[0])).run()
    history = table(at, schema.EVENT_TYPE)
    assert history[recommendations.PHOTO].notna().any()
    _assert_thumbnails(history, at.session_state[state.SHOP])


PHOTO_ITEMS = set(pd.read_csv(PHOTOS_DIR / LIST_FILE, dtype="str")["item_id"])


def _assert_thumbnails(shown: pd.DataFrame, shop) -> None:
    """Products with a photo show a JPEG data URL, the others nothing."""
    has_photo = shown[schema.ITEM_ID].astype("str").isin(PHOTO_ITEMS)
    photos = shown[recommendations.PHOTO]
    assert photos[has_photo].str.startswith("data:image/jpeg;base64,").all()
    assert photos[~has_photo].isna().all()
    assert shop.photos is not None


@pytest.mark.slow
def test_an_unknown_user_id_shows_a_one_line_error():
    at = train_recommender(run_page(RECOMMENDATIONS))
    at.radio(key=state.RECS_USER_SOURCE).set_value(recommendations.TYPE).run()
    at.text_input(key=state.RECS_USER_SEARCH).input("nobody-42").run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "'nobody-42' is not in this data" in message and "\n" not in message


@pytest.mark.slow
def test_recommend_now_mode_trains_on_all_data_without_scores(sample_shop):
    at = train_recommender(run_page(RECOMMENDATIONS), mode=recommendations.DEPLOY)
    assert not at.exception
    assert not at.error
    result = at.session_state[state.RECS_RESULT]
    assert result.evaluation is None
    assert result.settings.cutoff == data_end_of(sample_shop.events.frame)
    assert any("Scores need a held-out window" in i.value for i in at.info)
    recs = table(at, recommend.REASON)
    assert len(recs) == 10
    assert recommendations.HIT not in recs.columns


@pytest.mark.slow
def test_a_stopped_training_keeps_the_rankers_best_epoch(sample_shop, cutoff, runs_dir):
    settings = services.RecommendSettings(
        recommend.RecommenderConfig(
            network=NetworkConfig(hidden_layers=(8,), epochs=500, early_stopping=False)
        ),
        cutoff=cutoff,
    )
    train = partial(services.train_recommender, sample_shop, settings, RunStore(runs_dir))
    job = finished_training(recommendations.PAGE, train, stop_at=4)
    at = run_page(RECOMMENDATIONS, query={trainer.TrainingJob.QUERY: job.job_id})  # after a refresh
    assert not at.exception
    assert jobs.session_key(recommendations.PAGE) not in at.session_state
    result = at.session_state[state.RECS_RESULT]
    assert result.stopped
    assert result.epochs == 4
    assert len(result.recommender.curves) == result.epochs
    notice = next(i.value for i in at.info if "stopped" in i.value)
    assert notice.startswith(f"Training was stopped at epoch {result.epochs};")
    assert table(at, "NDCG@10").shape[0] == 5
    [info] = RunStore(runs_dir).runs()
    assert info.manifest.status == "stopped" and info.manifest.stopped_at_epoch == 4


@pytest.mark.slow
def test_top_predicted_buyers_from_the_purchase_page_can_be_picked():
    at = train_recommender(run_page(RECOMMENDATIONS))
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
    assert list(table(at, recommend.REASON)[schema.ITEM_ID]) == list(expected[schema.ITEM_ID])


@pytest.mark.slow
def test_the_what_if_panel_recommends_for_clicked_products_at_once():
    at = train_recommender(run_page(RECOMMENDATIONS))
    inter = at.session_state[state.RECS_RESULT].recommender.interactions
    clicked = [str(inter.item_ids[inter.popularity.argmax()])]
    at.multiselect(key=state.RECS_WHATIF_ITEMS).set_value(clicked).run()
    assert not at.exception
    what_if = next(
        d.value
        for d in at.dataframe
        if recommend.REASON in d.value.columns and schema.ITEM_ID not in d.value.columns
    )
    assert len(what_if) == 10
    assert what_if[recommend.REASON].str.startswith("close to what you clicked").all()


@pytest.mark.slow
def test_a_run_in_the_url_reopens_on_its_own_data_with_the_same_scores(runs_dir, small_shop):
    other = small_shop  # not the sample shop the page starts with
    cutoff = default_cutoff(other.events.frame, 30)
    fitted, evaluation = recommend.evaluate_recommender(
        other.events.frame, other.products.frame, cutoff=cutoff, horizon_days=30, k=5, config=TINY
    )
    record = recommender_run_record(
        fitted, evaluation, cutoff=cutoff, horizon_days=30, k=5, stopped=False
    )
    run_id = RunStore(runs_dir).save(record, other, name="small shop")

    at = run_page(RECOMMENDATIONS, query={state.RUN_QUERY: run_id})
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
    at = run_page(RECOMMENDATIONS, query={state.RUN_QUERY: "20260101-000000-purchase-00000000"})
    assert not at.exception
    assert len(at.error) == 1 and "There is no run" in at.error[0].value


def test_a_datasets_own_feature_tables_feed_the_recommender(
    tmp_path, monkeypatch, small_shop_files
):
    at, job, read = open_dataset_with_feature_tables(
        RECOMMENDATIONS, tmp_path, small_shop_files, monkeypatch, "interactions_at"
    )
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "User x item interactions read from the dataset's feature tables" in captions
    at = train_recommender(at, epochs=1)
    assert not at.exception and not at.error
    assert at.session_state[state.RECS_RESULT].evaluation is not None
    assert read and set(read) <= set(job.interaction_dates)  # the cutoff and every window
    assert len(set(read)) == 1 + recommend.RecommenderConfig().train_windows
    at.number_input(key=state.RECS_HORIZON).set_value(21).run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "not for these settings, so the interactions are computed here" in captions
