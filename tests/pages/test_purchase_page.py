"""The Purchase prediction page and its hidden-layer editor, with Streamlit's AppTest."""

import json
import math
from functools import partial

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core import purchase, services
from core.ml import metrics as m
from core.ml.network import NetworkConfig
from core.runs import RunStore
from tests.pages.apptest import (
    PURCHASE,
    TIMEOUT,
    finished_training,
    metric,
    open_dataset_with_feature_tables,
    run_page,
    train_purchase,
)
from ui import jobs, state, trainer
from ui import purchase as purchase_page

TINY = NetworkConfig(hidden_layers=(8,), epochs=5)


@pytest.fixture(scope="module")
def sample_data(sample_shop) -> purchase.PurchaseData:
    events, products = sample_shop.events.frame, sample_shop.products.frame
    return purchase.build_purchase_data(events, products, horizon_days=30)


@pytest.mark.slow
def test_a_tiny_network_trains_and_the_page_shows_the_core_scores(sample_data):
    at = train_purchase(run_page(PURCHASE), "8", epochs=5)
    assert not at.exception
    assert not at.error

    models = purchase.train_purchase_models(sample_data, TINY)
    expected = purchase.evaluate_purchase_models(models, sample_data).scores
    result = at.session_state[state.PURCHASE_RESULT]
    assert result.models.config == TINY
    assert metric(at, "MSE · MLP") == f"{expected.loc[m.MLP, 'mse']:.4f}"
    assert metric(at, "ROC-AUC · MLP") == f"{expected.loc[m.MLP, 'roc_auc']:.3f}"

    orders, buyers = at.dataframe[0].value, at.dataframe[1].value
    labels = [purchase.MODEL_LABELS[n] for n in purchase.MODEL_NAMES]
    assert list(orders["model"]) == labels and list(buyers["model"]) == labels
    assert all(math.isfinite(v) for v in orders["MSE"])
    assert list(orders["MSE"]) == pytest.approx(
        [expected.loc[n, "mse"] for n in purchase.MODEL_NAMES], rel=1e-9
    )
    assert list(buyers["ROC-AUC"]) == pytest.approx(
        [expected.loc[n, "roc_auc"] for n in purchase.MODEL_NAMES], rel=1e-9
    )
    assert any("hold" in c.value and "next-period buyers" in c.value for c in at.caption)
    bgnbd = purchase.describe_bgnbd(sample_data)
    assert "purchase days" in bgnbd and "orders per purchase day" in bgnbd
    assert any(c.value == bgnbd for c in at.caption)

    at.text_input(key=state.PURCHASE_USER_SEARCH).input("U0437").run()  # case does not matter
    assert not at.exception
    users = at.dataframe[2].value
    expected_ids = sorted(u for u in sample_data.evaluation.index if "u0437" in u)
    assert sorted(users["user_id"]) == expected_ids
    scaled = users[purchase.BGNBD_EXPECTED] * users[purchase.BGNBD_SCALE]
    assert users["bgnbd_orders"].to_numpy() == pytest.approx(scaled.to_numpy())
    assert any(f"Showing {len(expected_ids)} users" in c.value for c in at.caption)


@pytest.mark.slow
def test_each_training_is_saved_as_a_run_and_listed_under_runs_on_this_data(runs_dir):
    at = train_purchase(run_page(PURCHASE), "8", epochs=2)
    first = at.session_state[state.PURCHASE_RESULT].run_id
    at = train_purchase(at, "4,2", epochs=2)
    assert not at.exception
    second = at.session_state[state.PURCHASE_RESULT].run_id
    assert first and second and first != second
    assert at.query_params[state.RUN_QUERY] == second  # a refresh reopens this run
    saved = RunStore(runs_dir).runs()
    assert sorted(i.run_id for i in saved) == sorted([first, second])
    names = {i.run_id: i.name for i in saved}
    assert names[first].startswith("8 · seed 0 · sample_events · ")
    assert names[second].startswith("4,2 · seed 0 · sample_events · ")
    history = at.dataframe[-1].value  # the "Runs on this data" tab comes last
    assert list(history["name"]) == [names[first], names[second]]
    assert all(math.isfinite(v) for v in history["mse"])
    assert any(second in c.value for c in at.caption)


@pytest.mark.slow
def test_a_run_named_in_the_url_is_reopened_with_the_same_scores(runs_dir):
    at = train_purchase(run_page(PURCHASE), "8", epochs=2)
    trained = at.session_state[state.PURCHASE_RESULT]
    fresh = run_page(PURCHASE, query={state.RUN_QUERY: trained.run_id})
    assert not fresh.exception and not fresh.error
    reopened = fresh.session_state[state.PURCHASE_RESULT]
    assert reopened.run_id == trained.run_id
    pd.testing.assert_frame_equal(reopened.evaluation.scores, trained.evaluation.scores)
    assert metric(fresh, "MSE · MLP") == metric(at, "MSE · MLP")
    assert fresh.text_input(key=state.PURCHASE_LAYERS_TEXT).value == "8"  # ready to tune
    assert fresh.number_input(key=state.PURCHASE_EPOCHS).value == 2  # the run's settings
    assert fresh.date_input(key=state.PURCHASE_CUTOFF).value == trained.data.cutoff.date()
    assert not fresh.warning  # widgets take their values from session state only


def test_an_unknown_run_in_the_url_shows_one_line_and_the_page_still_works():
    at = run_page(PURCHASE, query={state.RUN_QUERY: "../../etc/passwd"})
    assert not at.exception
    assert len(at.error) == 1 and "not a run id" in at.error[0].value
    assert "\n" not in at.error[0].value
    assert any("press **Train**" in i.value for i in at.info)


def test_invalid_hidden_layer_text_shows_one_line_error_and_no_exception():
    at = run_page(PURCHASE)
    at.text_input(key=state.PURCHASE_LAYERS_TEXT).input("64,abc").run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "'abc' is not a whole number" in message and "\n" not in message
    assert at.button(key=state.PURCHASE_TRAIN).disabled
    assert at.session_state[state.PURCHASE_LAYERS] == (64, 32)  # the last valid layers stay

    at.text_input(key=state.PURCHASE_LAYERS_TEXT).input("2000").run()
    assert len(at.error) == 1 and "out of range" in at.error[0].value
    at.text_input(key=state.PURCHASE_LAYERS_TEXT).input("16 8").run()
    assert not at.error
    assert at.session_state[state.PURCHASE_LAYERS] == (16, 8)
    assert not at.button(key=state.PURCHASE_TRAIN).disabled


@pytest.mark.slow
def test_a_training_stopped_at_epoch_3_keeps_its_best_epochs_and_is_saved_as_stopped(
    sample_shop, runs_dir
):
    settings = services.PurchaseSettings(
        NetworkConfig(hidden_layers=(8,), epochs=50, early_stopping=False)
    )
    train = partial(services.train_purchase, sample_shop, settings, RunStore(runs_dir))
    job = finished_training(purchase_page.PAGE, train, stop_at=3)
    at = run_page(PURCHASE, query={trainer.TrainingJob.QUERY: job.job_id})  # as after a refresh
    assert not at.exception
    assert jobs.session_key(purchase_page.PAGE) not in at.session_state
    assert trainer.TrainingJob.QUERY not in at.query_params
    result = at.session_state[state.PURCHASE_RESULT]
    assert result.models.stopped and result.epochs == 3
    assert max(result.models.epochs_run) == 3
    notice = next(i.value for i in at.info if "stopped" in i.value)
    assert notice.startswith("Training was stopped at epoch 3;")
    assert f"orders network: epoch {result.models.best_epochs[0]}" in notice
    [info] = RunStore(runs_dir).runs()
    assert info.run_id == result.run_id == at.query_params[state.RUN_QUERY]
    assert info.manifest.status == "stopped" and info.manifest.stopped_at_epoch == 3
    assert info.name.startswith("8 · seed 0 · ")
    assert info.name.endswith(" (stopped at epoch 3)")


@pytest.mark.slow
def test_a_training_stopped_before_it_started_keeps_nothing(sample_shop, runs_dir):
    settings = services.PurchaseSettings(TINY)
    train = partial(services.train_purchase, sample_shop, settings, RunStore(runs_dir))
    job = finished_training(purchase_page.PAGE, train, stop_first=True)
    page_switch = {jobs.session_key(purchase_page.PAGE): job.job_id}
    at = run_page(PURCHASE, session=page_switch)
    assert not at.exception
    assert len(at.error) == 1 and "stopped before it started" in at.error[0].value
    assert jobs.session_key(purchase_page.PAGE) not in at.session_state
    assert state.PURCHASE_RESULT not in at.session_state
    assert RunStore(runs_dir).runs() == []


def _editor_app():
    import streamlit as st

    from ui import purchase

    st.session_state["test.layers"] = purchase.hidden_layer_editor()


def _editor() -> AppTest:
    return AppTest.from_function(_editor_app, default_timeout=TIMEOUT).run()


def test_the_layer_editor_adds_and_removes_layers_within_one_to_six():
    at = _editor()
    assert at.session_state["test.layers"] == (64, 32)
    at.button(key=state.PURCHASE_ADD_LAYER).click().run()
    assert at.session_state["test.layers"] == (64, 32, 16)
    assert at.text_input(key=state.PURCHASE_LAYERS_TEXT).value == "64,32,16"
    assert at.selectbox(key=state.PURCHASE_PRESET).value == "custom"
    for _ in range(3):
        at.button(key=state.PURCHASE_ADD_LAYER).click().run()
    assert at.session_state["test.layers"] == (64, 32, 16, 8, 4, 2)
    assert at.button(key=state.PURCHASE_ADD_LAYER).disabled
    for _ in range(5):
        at.button(key=state.PURCHASE_REMOVE_LAYER).click().run()
    assert at.session_state["test.layers"] == (64,)
    assert at.button(key=state.PURCHASE_REMOVE_LAYER).disabled
    assert not at.exception


def test_the_layer_editor_follows_presets_and_width_inputs():
    at = _editor()
    at.selectbox(key=state.PURCHASE_PRESET).set_value("128,64,32").run()
    assert at.session_state["test.layers"] == (128, 64, 32)
    assert [at.number_input(key=state.layer_key(i)).value for i in range(3)] == [128, 64, 32]
    at.number_input(key=state.layer_key(1)).set_value(48).run()
    assert at.session_state["test.layers"] == (128, 48, 32)
    assert at.text_input(key=state.PURCHASE_LAYERS_TEXT).value == "128,48,32"
    assert at.selectbox(key=state.PURCHASE_PRESET).value == "custom"
    at.text_input(key=state.PURCHASE_LAYERS_TEXT).input("64, 32").run()
    assert at.selectbox(key=state.PURCHASE_PRESET).value == "64,32"
    assert not at.exception


@pytest.mark.slow
def test_a_run_saved_with_another_scikit_learn_opens_with_a_warning(runs_dir):
    at = train_purchase(run_page(PURCHASE), "8", epochs=2)
    run_id = at.session_state[state.PURCHASE_RESULT].run_id
    manifest_path = RunStore(runs_dir).path_of(run_id) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["versions"]["scikit-learn"] = "0.1"
    manifest_path.write_text(json.dumps(manifest))
    fresh = run_page(PURCHASE, query={state.RUN_QUERY: run_id})
    assert not fresh.exception and not fresh.error
    assert any("trained with scikit-learn 0.1" in w.value for w in fresh.warning)


def test_the_caption_of_users_to_train_on_says_whether_users_are_drawn():
    assert purchase_page.users_caption(2_345, 100_000) == "All 2,345 users are used."
    assert purchase_page.users_caption(100_000, 100_000) == "All 100,000 users are used."
    assert purchase_page.users_caption(300_000, 100_000) == (
        "The loaded data has 300,000 users: training draws a random 100,000."
    )


@pytest.mark.slow
def test_users_to_train_on_reaches_the_training_and_the_reopened_run(runs_dir):
    assert purchase_page.DEFAULT.max_users == 100_000  # the page's default; the CLI uses all
    # Set before the first draw, so that the page never builds the tables of every user.
    at = run_page(PURCHASE, session={state.PURCHASE_MAX_USERS: 1_000})
    assert at.number_input(key=state.PURCHASE_MAX_USERS).value == 1_000
    captions = [c.value for c in at.caption]
    assert "The loaded data has 5,000 users: training draws a random 1,000." in captions
    assert any(c.endswith("rows, from a random 1,000 of the 5,000 users.") for c in captions)
    at = train_purchase(at, "4", epochs=1)
    assert not at.exception and not at.error
    result = at.session_state[state.PURCHASE_RESULT]
    sample = result.data.user_sample
    assert (sample.drawn, sample.total) == (1_000, 5_000)
    assert len(result.data.evaluation) <= 1_000 and len(result.next_orders) <= 1_000
    assert any("random 1,000 of the 5,000 users" in w.value for w in at.warning)
    [info] = RunStore(runs_dir).runs()
    assert info.manifest.config.max_users == 1_000

    fresh = run_page(PURCHASE, query={state.RUN_QUERY: result.run_id})
    assert not fresh.exception and not fresh.error
    assert fresh.number_input(key=state.PURCHASE_MAX_USERS).value == 1_000
    reopened = fresh.session_state[state.PURCHASE_RESULT]
    assert list(reopened.data.evaluation.index) == list(result.data.evaluation.index)
    pd.testing.assert_frame_equal(reopened.evaluation.scores, result.evaluation.scores)


def test_a_datasets_own_feature_tables_feed_the_purchase_page(
    tmp_path, monkeypatch, small_shop_files
):
    at, job, read = open_dataset_with_feature_tables(
        PURCHASE, tmp_path, small_shop_files, monkeypatch, "users_at"
    )
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "Per-user features read from the dataset's feature tables" in captions
    assert sorted(read) == sorted(job.dates)  # the default split reads every date it wrote
    read.clear()
    at.number_input(key=state.PURCHASE_HORIZON).set_value(21).run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "not for these settings, so the features are computed here" in captions
    assert read == []
