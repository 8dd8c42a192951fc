"""The Runs page with Streamlit's AppTest: the registry table, opening a run from the URL,
renaming, deleting with a confirmation, broken runs, sweeps and bundle import."""

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core import purchase
from core.data.loading import ShopData
from core.ml.network import NetworkConfig
from core.runs import MANIFEST, RunStore, bundles
from core.runs.tasks import purchase_run_record
from tests.pages.apptest import DATA, PURCHASE, RECOMMENDATIONS, RUNS, run_page, train_purchase
from tests.records import stub_record
from ui import jobs, runs, state, trainer


def _save(store: RunStore, shop: ShopData, layers: tuple[int, ...], name: str) -> str:
    data = purchase.build_purchase_data(shop.events.frame, shop.products.frame, horizon_days=30)
    models = purchase.train_purchase_models(data, NetworkConfig(hidden_layers=layers, epochs=2))
    evaluation = purchase.evaluate_purchase_models(models, data, importance_rows=100)
    return store.save(purchase_run_record(models, evaluation, data), shop, name=name)


def _page(run_id: str | None = None) -> AppTest:
    return run_page(RUNS, query={state.RUN_QUERY: run_id} if run_id is not None else None)


def test_without_runs_the_page_says_how_to_make_one():
    at = _page()
    assert not at.exception and not at.error
    assert any("No runs yet" in i.value for i in at.info)


@pytest.mark.slow
def test_runs_are_listed_and_the_one_in_the_url_is_selected(runs_dir, small_shop):
    store = RunStore(runs_dir)
    first = _save(store, small_shop, (4,), "narrow")
    second = _save(store, small_shop, (8, 4), "deeper")
    at = _page(second)
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert set(table["name"]) == {"deeper", "narrow"}
    assert set(table["run_id"]) == {first, second}
    assert any(h.value == "1 run selected" for h in at.subheader)
    assert at.button(key=runs.OPEN)
    assert at.text_input(key=f"{runs.RENAME_NAME}.{second}").value == "deeper"


def test_the_table_and_the_comparison_say_which_headline_scores_the_mlp_loses(runs_dir, small_shop):
    store = RunStore(runs_dir)
    scores = {
        "mlp": {"mse": 0.80, "roc_auc": 0.77, "pr_auc": 0.61},
        "linear": {"mse": 0.95, "roc_auc": 0.78, "pr_auc": 0.59},
    }
    run_id = store.save(stub_record(metrics=scores), small_shop, name="close call")
    at = _page(run_id)
    assert not at.exception and not at.error
    row = at.dataframe[0].value.set_index("run_id").loc[run_id]
    verdict = "wins MSE, PR-AUC; loses ROC-AUC to Linear / logistic regression"
    assert not row["beats_baselines"]
    assert row["versus_baselines"] == verdict
    assert any(c.value.endswith(f": the MLP {verdict}.") for c in at.caption)


def test_a_run_can_be_renamed_and_deleted_after_confirming(runs_dir, small_shop):
    store = RunStore(runs_dir)
    run_id = _save(store, small_shop, (4,), "old name")
    at = _page(run_id)
    at.text_input(key=f"{runs.RENAME_NAME}.{run_id}").input("new name")
    at.text_input(key=f"{runs.RENAME_TAGS}.{run_id}").input("keep, Best")
    at.button(key=f"FormSubmitter:{runs.RENAME_FORM}.{run_id}-Save").click().run()
    assert not at.exception and not at.error
    info = store.info(run_id)
    assert (info.name, info.tags) == ("new name", ("keep", "best"))

    at.text_input(key=f"{runs.RENAME_NAME}.{run_id}").input("../escape")
    at.button(key=f"FormSubmitter:{runs.RENAME_FORM}.{run_id}-Save").click().run()
    assert len(at.error) == 1 and "run name" in at.error[0].value
    assert store.info(run_id).name == "new name"

    at.button(key=runs.DELETE).click().run()
    assert any("Delete run 'new name'?" in w.value for w in at.warning)
    assert store.runs()  # nothing is deleted before the confirmation
    at.button(key=runs.DELETE_CONFIRM).click().run()
    assert not at.exception
    assert store.runs() == []
    assert any("was deleted" in s.value for s in at.success)
    assert any("No runs yet" in i.value for i in at.info)


def test_a_broken_run_is_listed_with_its_reason_and_never_crashes_the_page(runs_dir, small_shop):
    store = RunStore(runs_dir)
    good = _save(store, small_shop, (4,), "fine")
    broken = store.path_of(good).parent / "20260101-000000-purchase-0badc0de"
    broken.mkdir()
    (broken / MANIFEST).write_text("{half a manifest", encoding="utf-8")
    at = _page(broken.name)
    assert not at.exception
    table = at.dataframe[0].value
    status = dict(zip(table["run_id"], table["status"], strict=True))
    assert status[good] == "ok"
    assert status[broken.name].startswith("broken: manifest.json cannot be read")
    assert any("is broken" in w.value for w in at.warning)
    at.button(key=runs.DELETE).click().run()
    at.button(key=runs.DELETE_CONFIRM).click().run()
    assert [i.run_id for i in store.runs()] == [good]


@pytest.mark.slow
def test_a_sweep_saves_one_run_per_configuration_and_seed(runs_dir):
    at = _page()
    at.multiselect(key=runs.SWEEP_LAYERS).set_value(["16"])
    at.text_input(key=runs.SWEEP_EXTRA).input("4")
    at.text_input(key=runs.SWEEP_SEEDS).input("0,1")
    at.number_input(key=runs.SWEEP_EPOCHS).set_value(2)
    at.button(key=f"FormSubmitter:{runs.SWEEP_FORM}-Run sweep").click().run()
    assert not at.exception and not at.error
    saved = RunStore(runs_dir).runs()
    assert sorted(i.name for i in saved) == [
        "sweep 16 seed 0",
        "sweep 16 seed 1",
        "sweep 4 seed 0",
        "sweep 4 seed 1",
    ]
    assert all("sweep" in i.tags for i in saved)
    assert any(s.value.startswith("Best of 4 runs") for s in at.success)
    assert not any("stopped" in i.value for i in at.info)
    # The trainer ran it and the page collected it: it follows no sweep any more.
    assert jobs.session_key(trainer.SWEEP_PAGE) not in at.session_state
    assert trainer.TrainingJob.QUERY not in at.query_params
    assert not at.button(key=f"FormSubmitter:{runs.SWEEP_FORM}-Run sweep").disabled
    # The registry below the form lists the new runs at once, not "No runs yet".
    assert not any("No runs yet" in i.value for i in at.info)
    assert len(at.dataframe[0].value) == 4


SWEEP_REQUEST = runs.SweepRequest("purchase", ((4,), (8,)), (0, 1), 2)


def finished_sweep(shop, store, *, stop_after: int) -> trainer.TrainingJob:
    """A sweep of ``SWEEP_REQUEST`` run to its end here, as the background trainer runs it, with
    Stop pressed once ``stop_after`` trainings are done, and left for the Runs page to pick up.
    One training at a time, so that no other is under way when Stop is pressed."""
    job = trainer.TrainingJob(
        f"test-sweep-{stop_after}", trainer.SWEEP_PAGE, "of 4 trainings", SWEEP_REQUEST
    )
    if stop_after == 0:
        job.request_stop()
    report = job.report

    def stop_at(progress):
        if progress.epoch == stop_after:
            job.request_stop()
        return report(progress)

    job.report = stop_at
    job._run(runs.sweep_work(shop, store, SWEEP_REQUEST))
    jobs._JOBS[job.job_id] = job
    return job


@pytest.mark.slow
def test_a_sweep_stopped_after_one_training_keeps_that_run_and_says_it_was_stopped(
    runs_dir, sample_shop
):
    job = finished_sweep(sample_shop, RunStore(runs_dir), stop_after=1)
    at = run_page(RUNS, query={trainer.TrainingJob.QUERY: job.job_id})  # as after a refresh
    assert not at.exception and not at.error
    [saved] = RunStore(runs_dir).runs()
    assert saved.name == "sweep 4 seed 0" and saved.ok
    assert any(
        i.value == "The sweep was stopped: 1 of 4 trainings finished and were saved; the others "
        "did not start."
        for i in at.info
    )
    assert any(s.value.startswith("Best of 1 run: sweep 4 seed 0 (mse ") for s in at.success)
    assert jobs.session_key(trainer.SWEEP_PAGE) not in at.session_state
    assert trainer.TrainingJob.QUERY not in at.query_params
    # Re-attached from the URL, the form shows what the sweep was asked for.
    assert at.multiselect(key=runs.SWEEP_LAYERS).value == []
    assert at.text_input(key=runs.SWEEP_EXTRA).value == "4; 8"
    assert at.text_input(key=runs.SWEEP_SEEDS).value == "0,1"
    assert at.number_input(key=runs.SWEEP_EPOCHS).value == 2


def test_a_sweep_stopped_before_any_training_finished_says_so_in_one_line(runs_dir, sample_shop):
    job = finished_sweep(sample_shop, RunStore(runs_dir), stop_after=0)
    at = run_page(RUNS, session={jobs.session_key(trainer.SWEEP_PAGE): job.job_id})
    assert not at.exception and not at.error
    stopped = [i.value for i in at.info if "stopped" in i.value]
    assert stopped == ["The sweep was stopped before any training finished; no run was saved."]
    assert RunStore(runs_dir).runs() == []
    assert not at.success


def test_the_caption_says_how_many_trainings_of_a_sweep_run_at_once(runs_dir, monkeypatch):
    monkeypatch.setattr(trainer, "SLOT_COUNT", 3)
    at = _page()
    assert any("Runs train up to 3 at a time" in c.value for c in at.caption)
    monkeypatch.setattr(trainer, "SLOT_COUNT", 1)
    at = _page()
    assert any("Runs train one at a time" in c.value for c in at.caption)


def test_bad_sweep_seeds_show_one_line(runs_dir):
    at = _page()
    at.text_input(key=runs.SWEEP_SEEDS).input("0,x")
    at.button(key=f"FormSubmitter:{runs.SWEEP_FORM}-Run sweep").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "not whole numbers" in at.error[0].value
    assert RunStore(runs_dir).runs() == []


def test_a_foreign_upload_is_refused_with_one_line(runs_dir):
    at = _page()
    at.file_uploader(key=runs.IMPORT).set_value(("model.zip", b"\x80\x04pickle", "application/zip"))
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and "not a run bundle" in at.error[0].value
    assert RunStore(runs_dir).runs() == []


def test_a_bundle_exported_here_imports_as_a_new_run(runs_dir, small_shop):
    store = RunStore(runs_dir)
    run_id = _save(store, small_shop, (4,), "shared")
    bundle = bundles.export_bundle(store, run_id)
    at = _page()
    at.file_uploader(key=runs.IMPORT).set_value(("run.zip", bundle, "application/zip")).run()
    assert not at.exception and not at.error
    assert any(s.value.startswith("Imported run.zip as run") for s in at.success)
    names = sorted(i.name for i in store.runs())
    assert names == ["shared", "shared"]


def _open(run_id: str) -> AppTest:
    """The app, gone to the Runs page from a URL that names ``run_id``, after pressing Open."""
    at = run_page(RUNS, query={state.RUN_QUERY: run_id}, through_app=True)
    return at.button(key=runs.OPEN).click().run()


@pytest.mark.slow
def test_open_makes_the_run_the_model_of_its_page(runs_dir, small_shop):
    store = RunStore(runs_dir)
    run_id = _save(store, small_shop, (4,), "to open")
    at = _open(run_id)
    assert not at.exception and not at.error
    result = at.session_state[state.PURCHASE_RESULT]
    assert result.run_id == run_id
    assert at.session_state[state.SHOP].fingerprint == small_shop.fingerprint
    assert any(t.value == "Purchase prediction" for t in at.title)  # switched to its page
    assert at.query_params[state.RUN_QUERY] == run_id


# --- odd runs, filters, URLs and uploads ------------------------------------------------------

CURVE = pd.DataFrame({"epoch": [1, 2], "training loss": [0.7, 0.6]})


def _stub(store: RunStore, shop: ShopData, task: str, *, name: str, tags=(), **parts) -> str:
    """A run with a tiny estimator: the Runs page reads only its manifest."""
    curves = parts.get("curves", {"ranker": CURVE} if task == "recommend" else None)
    record = stub_record(task, metrics=parts.get("metrics"), curves=curves, evaluate=False)
    return store.save(record, shop, name=name, tags=tags)


def test_a_recommender_run_trained_without_a_test_window_can_be_selected(runs_dir, small_shop):
    run_id = _stub(RunStore(runs_dir), small_shop, "recommend", name="recommend now")
    at = _page(run_id)
    assert not at.exception and not at.error
    assert any(h.value == "1 run selected" for h in at.subheader)


def test_runs_without_any_curves_can_be_selected(runs_dir, small_shop):
    scores = {"mlp": {"mse": 1.0, "accuracy": 0.5}}
    store = RunStore(runs_dir)
    run_id = _stub(store, small_shop, "purchase", name="no curves", metrics=scores)
    at = _page(run_id)
    assert not at.exception and not at.error
    assert any(h.value == "1 run selected" for h in at.subheader)


def test_filtering_after_a_run_was_selected_never_selects_another_run(runs_dir, small_shop):
    store = RunStore(runs_dir)
    oldest = _stub(store, small_shop, "recommend", name="oldest")
    tagged = _stub(store, small_shop, "recommend", name="tagged", tags=("keep",))
    _stub(store, small_shop, "recommend", name="newest")
    at = _page(oldest)  # selected from the URL
    assert at.text_input(key=f"{runs.RENAME_NAME}.{oldest}")
    at.multiselect(key=runs.FILTER_TAG).set_value(["keep"]).run()
    assert not at.exception
    assert list(at.dataframe[0].value["run_id"]) == [tagged]
    assert not any(h.value == "1 run selected" for h in at.subheader)  # not "tagged" instead


def test_after_a_delete_no_other_run_is_selected(runs_dir, small_shop):
    store = RunStore(runs_dir)
    older = _stub(store, small_shop, "recommend", name="older")
    newer = _stub(store, small_shop, "recommend", name="newer")
    at = _page(newer)
    at.button(key=runs.DELETE).click().run()
    at.button(key=runs.DELETE_CONFIRM).click().run()
    assert not at.exception
    assert [i.run_id for i in store.runs()] == [older]
    assert not any(h.value == "1 run selected" for h in at.subheader)
    assert not [t for t in at.text_input if t.key.startswith(runs.RENAME_NAME)]


@pytest.mark.parametrize("script", [PURCHASE, RECOMMENDATIONS])
def test_a_bad_run_id_in_the_url_is_shown_as_plain_text(script):
    at = run_page(script, query={state.RUN_QUERY: "[Sign in again](https://evil.example)"})
    assert not at.exception
    assert len(at.error) == 1 and "not a run id" in at.error[0].value
    assert "[Sign in again](https" not in at.error[0].value
    assert state.RUN_QUERY not in at.query_params


def test_the_name_of_an_uploaded_bundle_is_shown_as_plain_text(runs_dir):
    at = _page()
    upload = ("[Click](https://evil.example) **now**.zip", b"junk", "application/zip")
    at.file_uploader(key=runs.IMPORT).set_value(upload).run()
    assert not at.exception
    assert len(at.error) == 1 and "not a run bundle" in at.error[0].value
    assert "[Click](https" not in at.error[0].value and "**now**" not in at.error[0].value


def test_importing_into_a_runs_folder_that_cannot_be_written_shows_one_line(
    sample_shop, tmp_path, monkeypatch
):
    source = RunStore(tmp_path / "elsewhere")
    bundle = bundles.export_bundle(source, source.save(stub_record(), sample_shop))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SHOPLENS_RUNS_DIR", str(blocker / "runs"))
    at = _page()
    at.file_uploader(key=runs.IMPORT).set_value(("run.zip", bundle, "application/zip")).run()
    assert not at.exception
    assert len(at.error) == 1 and "cannot be written" in at.error[0].value


@pytest.mark.slow
def test_a_training_whose_run_cannot_be_saved_is_kept_with_a_warning(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SHOPLENS_RUNS_DIR", str(blocker / "runs"))
    at = train_purchase(run_page(PURCHASE), "4", epochs=2)
    assert not at.exception and not at.error
    assert any("kept in this session only" in w.value for w in at.warning)
    assert at.session_state[state.PURCHASE_RESULT].run_id is None
    assert state.RUN_QUERY not in at.query_params


@pytest.mark.slow
@pytest.mark.parametrize("part", ["events.parquet", "dataset.json"])
def test_a_run_whose_kept_data_was_damaged_shows_one_line_when_opened(runs_dir, small_shop, part):
    store = RunStore(runs_dir)
    run_id = _save(store, small_shop, (4,), "kept data gone")
    (runs_dir / "_datasets" / small_shop.fingerprint / part).unlink()
    # The session holds the sample shop, so the run's own data must be read.
    at = run_page(PURCHASE, query={state.RUN_QUERY: run_id})
    assert not at.exception
    assert len(at.error) == 1 and "Data page" in at.error[0].value
    assert state.RUN_QUERY not in at.query_params


@pytest.mark.slow
def test_the_data_page_keeps_the_data_of_an_opened_run_until_another_source_is_picked(
    runs_dir, small_shop
):
    store = RunStore(runs_dir)
    run_id = _save(store, small_shop, (4,), "on small data")
    at = _open(run_id)
    assert at.session_state[state.PURCHASE_RESULT].run_id == run_id

    at.switch_page(DATA).run()
    assert not at.exception and not at.error
    assert at.radio(key=state.SOURCE).value == state.SOURCE_KEPT
    assert at.session_state[state.SHOP].fingerprint == small_shop.fingerprint
    assert at.session_state[state.PURCHASE_RESULT].run_id == run_id  # still open
    assert any("events.csv" in i.value for i in at.info)

    at.radio(key=state.SOURCE).set_value(state.SOURCE_SAMPLE).run()
    assert at.session_state[state.SHOP].fingerprint != small_shop.fingerprint
    assert state.PURCHASE_RESULT not in at.session_state
    at.run()  # drawn again, the choice of the run's data is gone
    assert not at.exception
    assert state.SOURCE_KEPT not in at.radio(key=state.SOURCE).options
    assert at.radio(key=state.SOURCE).value == state.SOURCE_SAMPLE
