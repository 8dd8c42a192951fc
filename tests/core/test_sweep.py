"""Sweeps over hidden layers and seeds: every point saved as a run, the same result as a single
training, parallel jobs, progress, the best run, one-line errors and `python -m core sweep`."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from core import purchase, recommend, services
from core.errors import ShopLensError
from core.ml.network import NetworkConfig
from core.runs import RunStore, scores_to_metrics
from core.runs.tasks import purchase_models_from_run
from core.sweep import SweepError, parse_seeds, sweep
from tests.cli import run_cli, run_json

CONFIG = NetworkConfig(hidden_layers=(64, 32), epochs=3, batch_size=64, random_state=0)
HIDDEN = [(4,), (8,)]
SEEDS = [0, 1]
CUTOFF = pd.Timestamp("2026-09-15")
HORIZON = 21
RUN_KEYS = {"run_id", "hidden", "seed", "metrics"}


def run_purchase_sweep(shop, store, *, jobs, stop_after=None):
    """A purchase sweep and its ``on_done`` calls; Stop is pressed once ``stop_after`` runs are
    done (never when it is None)."""
    calls = []
    result = sweep(
        shop,
        store,
        hidden=HIDDEN,
        seeds=SEEDS,
        base=services.PurchaseSettings(CONFIG, HORIZON, CUTOFF),
        jobs=jobs,
        on_done=lambda done, total, run: calls.append((done, total, run)),
        should_stop=None if stop_after is None else lambda: len(calls) >= stop_after,
    )
    return result, calls


@pytest.fixture(scope="module")
def swept(small_shop, tmp_path_factory):
    store = RunStore(tmp_path_factory.mktemp("sweep") / "runs")
    result, calls = run_purchase_sweep(small_shop, store, jobs=1)
    return store, result, calls


@pytest.fixture(scope="module")
def recommend_swept(small_shop, tmp_path_factory):
    store = RunStore(tmp_path_factory.mktemp("sweep") / "runs")
    config = recommend.RecommenderConfig(network=CONFIG)
    base = services.RecommendSettings(config, cutoff=CUTOFF, horizon_days=HORIZON, k=5)
    result = sweep(small_shop, store, hidden=[(4,)], seeds=SEEDS, base=base, jobs=1)
    return store, result


@pytest.mark.slow
def test_every_point_of_a_sweep_is_saved_as_a_run_and_listed(swept):
    store, result, _ = swept
    listed = {info.run_id: info for info in store.runs()}
    assert set(listed) == {run.run_id for run in result.runs}
    for run in result.runs:
        manifest = listed[run.run_id].manifest
        widths = ",".join(str(w) for w in run.hidden_layers)
        assert manifest.name == f"sweep {widths} seed {run.seed}"
        assert manifest.tags == ("sweep",)
        assert manifest.config.network.hidden_layers == run.hidden_layers
        assert manifest.config.network.random_state == run.seed
        assert manifest.config.network.epochs == CONFIG.epochs
        assert manifest.metrics["mlp"] == run.metrics


@pytest.mark.slow
def test_runs_come_back_in_configuration_then_seed_order(swept):
    _, result, _ = swept
    assert [(run.hidden_layers, run.seed) for run in result.runs] == [
        ((4,), 0),
        ((4,), 1),
        ((8,), 0),
        ((8,), 1),
    ]
    assert all(run.train_seconds > 0 for run in result.runs)


@pytest.mark.slow
def test_a_sweep_run_equals_a_single_training_with_the_same_seed(small_shop, swept):
    store, result, _ = swept
    [run] = [r for r in result.runs if (r.hidden_layers, r.seed) == ((8,), 1)]
    data = purchase.build_purchase_data(
        small_shop.events.frame, small_shop.products.frame, cutoff=CUTOFF, horizon_days=HORIZON
    )
    config = dataclasses.replace(CONFIG, hidden_layers=(8,), random_state=1)
    models = purchase.train_purchase_models(data, config)
    evaluation = purchase.evaluate_purchase_models(models, data, random_state=1)
    assert run.metrics == scores_to_metrics(evaluation.scores)["mlp"]
    loaded = store.load(run.run_id)
    assert loaded.manifest.metrics == scores_to_metrics(evaluation.scores)
    saved = purchase_models_from_run(loaded)
    pd.testing.assert_frame_equal(
        purchase.predict_all(saved, data.evaluation, HORIZON),
        purchase.predict_all(models, data.evaluation, HORIZON),
        check_exact=True,
    )


@pytest.mark.slow
def test_the_progress_callback_is_called_once_per_point_with_increasing_counts(swept):
    _, result, calls = swept
    assert [(done, total) for done, total, _ in calls] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert {run.run_id for _, _, run in calls} == {run.run_id for run in result.runs}


@pytest.mark.slow
def test_the_best_purchase_run_has_the_lowest_mlp_mse(swept):
    _, result, _ = swept
    lowest = min(result.runs, key=lambda run: run.metrics["mse"])
    assert result.best_run_id == lowest.run_id == result.best.run_id
    assert result.metric == "mse"


@pytest.mark.slow
def test_two_jobs_give_the_same_runs_as_one_job(small_shop, swept, tmp_path):
    _, serial, _ = swept
    store = RunStore(tmp_path / "runs")
    parallel, calls = run_purchase_sweep(small_shop, store, jobs=2)
    assert [(r.hidden_layers, r.seed, r.metrics) for r in parallel.runs] == [
        (r.hidden_layers, r.seed, r.metrics) for r in serial.runs
    ]
    assert [done for done, _, _ in calls] == [1, 2, 3, 4]
    assert len(store.runs()) == 4
    best = [r.run_id for r in serial.runs].index(serial.best_run_id)
    assert parallel.best_run_id == parallel.runs[best].run_id


@pytest.mark.slow
def test_a_recommend_sweep_run_equals_a_single_evaluation_and_the_best_has_the_highest_ndcg(
    small_shop, recommend_swept
):
    store, result = recommend_swept
    assert len(store.runs()) == 2
    config = recommend.RecommenderConfig(
        network=dataclasses.replace(CONFIG, hidden_layers=(4,), random_state=1)
    )
    _, evaluation = recommend.evaluate_recommender(
        small_shop.events.frame,
        small_shop.products.frame,
        cutoff=CUTOFF,
        horizon_days=HORIZON,
        k=5,
        config=config,
    )
    assert result.runs[1].metrics == scores_to_metrics(evaluation.scores)["mlp"]
    highest = max(result.runs, key=lambda run: run.metrics["ndcg"])
    assert result.best_run_id == highest.run_id
    assert store.load(result.runs[1].run_id).manifest.config.k == 5


def test_a_recommender_sweep_accepts_recommend_now_settings_as_it_always_evaluates(
    small_shop, tmp_path
):
    # Stopped before its first training: only the checks before training run.
    base = services.RecommendSettings(evaluate=False, horizon_days=HORIZON, k=5)
    result = sweep(
        small_shop,
        RunStore(tmp_path / "runs"),
        hidden=[(4,)],
        seeds=[0],
        base=base,
        jobs=1,
        should_stop=lambda: True,
    )
    assert result.stopped and result.runs == ()


def run_stopped_sweep(shop, store, *, jobs, stop_after):
    """A purchase sweep whose Stop is pressed once ``stop_after`` runs are done, and those runs."""
    result, calls = run_purchase_sweep(shop, store, jobs=jobs, stop_after=stop_after)
    return result, [run for _, _, run in calls]


def assert_runs_can_be_loaded(store, result):
    listed = {info.run_id: info for info in store.runs()}
    assert set(listed) == {run.run_id for run in result.runs}
    for run in result.runs:
        assert listed[run.run_id].ok and listed[run.run_id].manifest.status != "stopped"
        models = purchase_models_from_run(store.load(run.run_id))
        assert (models.config.hidden_layers, models.config.random_state) == (
            run.hidden_layers,
            run.seed,
        )


@pytest.mark.slow
def test_a_stopped_sweep_starts_no_more_trainings_and_returns_the_finished_runs(
    small_shop, tmp_path
):
    store = RunStore(tmp_path / "runs")
    result, done = run_stopped_sweep(small_shop, store, jobs=1, stop_after=1)
    assert result.stopped and result.points == 4
    assert result.runs == tuple(done) and len(result.runs) == 1
    assert (result.runs[0].hidden_layers, result.runs[0].seed) == ((4,), 0)
    assert result.best_run_id == result.runs[0].run_id == result.best.run_id
    assert_runs_can_be_loaded(store, result)


@pytest.mark.slow
def test_stop_in_a_parallel_sweep_lets_the_trainings_under_way_finish_and_starts_none(
    small_shop, tmp_path
):
    store = RunStore(tmp_path / "runs")
    result, done = run_stopped_sweep(small_shop, store, jobs=2, stop_after=1)
    # Two trainings were under way when the first ended; the other two never started.
    assert result.stopped and len(result.runs) == len(done) == 2
    assert {run.run_id for run in result.runs} == {run.run_id for run in done}
    assert [(run.hidden_layers, run.seed) for run in result.runs] == [((4,), 0), ((4,), 1)]
    assert_runs_can_be_loaded(store, result)


def test_a_sweep_stopped_before_any_training_saves_nothing(small_shop, tmp_path):
    store = RunStore(tmp_path / "runs")
    result, done = run_stopped_sweep(small_shop, store, jobs=2, stop_after=0)
    assert result.stopped and result.runs == () and done == []
    assert result.best_run_id is None and result.best is None
    assert store.runs() == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"hidden": []}, "no hidden-layer configurations"),
        ({"seeds": []}, "no seeds"),
        ({"hidden": [(n,) for n in range(1, 6)], "seeds": range(5)}, "25 trainings"),
        ({"jobs": 0}, "at least 1 \\(got 0\\)"),
        ({"seeds": [-1]}, "The random seed must be a whole number from 0 to 4,294,967,295"),
        ({"hidden": [(0,)]}, "out of range"),
        ({"name_prefix": "x" * 50}, "keep it to 60"),
    ],
)
def test_an_unusable_sweep_raises_a_one_line_error_before_training(
    small_shop, tmp_path, changes, message
):
    store = RunStore(tmp_path / "runs")
    arguments = {
        "hidden": HIDDEN,
        "seeds": SEEDS,
        "base": services.PurchaseSettings(CONFIG, HORIZON, CUTOFF),
        "jobs": 1,
        **changes,
    }
    with pytest.raises(ShopLensError, match=message) as caught:
        sweep(small_shop, store, **arguments)
    assert "\n" not in str(caught.value)
    assert store.runs() == []


def test_seeds_are_read_in_order_and_a_repeat_counts_once():
    # A repeated seed would add no training, so a sweep's count of trainings never counts it.
    assert parse_seeds(" 1, 0;1 0 2") == [1, 0, 2]


def test_sweep_errors_are_sweep_errors(small_shop, tmp_path):
    with pytest.raises(SweepError):
        sweep(
            small_shop,
            RunStore(tmp_path),
            hidden=HIDDEN,
            seeds=[],
            base=services.PurchaseSettings(CONFIG, HORIZON),
            jobs=1,
        )


# --- the command line ---------------------------------------------------------------------

# A sweep on the command line: its options, then what its JSON and its saved runs must show.
CLI_SWEEPS = {
    "purchase": (
        "--hidden 4 --hidden 8x4 --seeds 0,1 --jobs 2",
        {
            "points": [("4", 0), ("4", 1), ("8,4", 0), ("8,4", 1)],
            "names": ["sweep 4 seed 0", "sweep 4 seed 1", "sweep 8,4 seed 0", "sweep 8,4 seed 1"],
            "tags": ("sweep",),
            "metrics": {"mse", "mae", "r2", "roc_auc"},
            "best": ("mse", min),
        },
    ),
    "recommend": (
        "--k 5 --hidden 4 --seeds 2 --jobs 1 --tag trial --name small",
        {
            "points": [("4", 2)],
            "names": ["small sweep 4 seed 2"],
            "tags": ("sweep", "trial"),
            "metrics": {"precision", "recall", "ndcg", "hit_rate"},
            "best": ("ndcg", max),
        },
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("task", CLI_SWEEPS)
def test_sweep_json_has_exactly_the_documented_shape_and_its_runs_exist(
    small_shop_files, runs_dir, capsys, task
):
    events, products = small_shop_files
    options, expected = CLI_SWEEPS[task]
    options = f"{options} --cutoff 2026-09-15 --horizon-days 21 --epochs 3 --json".split()
    result = run_json(capsys, "sweep", task, events, "--products", products, *options)
    assert set(result) == {"runs", "best"}
    assert [(run["hidden"], run["seed"]) for run in result["runs"]] == expected["points"]
    for run in result["runs"]:
        assert set(run) == RUN_KEYS
        assert expected["metrics"] <= set(run["metrics"])
    metric, best_of = expected["best"]
    best = best_of(result["runs"], key=lambda run: run["metrics"][metric])
    assert result["best"] == best["run_id"]
    listed = {info.run_id: info for info in RunStore(runs_dir).runs()}
    assert {run["run_id"] for run in result["runs"]} == set(listed)
    assert [listed[run["run_id"]].name for run in result["runs"]] == expected["names"]
    assert all(info.tags == expected["tags"] for info in listed.values())


@pytest.mark.slow
def test_sweep_without_json_prints_progress_a_table_and_the_best_run(small_shop_files, capsys):
    events, products = small_shop_files
    options = "--hidden 4 --epochs 2 --jobs 1".split()
    code, out, err = run_cli(capsys, "sweep", "purchase", events, "--products", products, *options)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].startswith("[1/1] 4 seed 0: mse ")
    assert "mse" in lines[1] and "seconds" in lines[1]
    assert lines[-1].startswith("Best (lowest mse): run ")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--seeds", "0,x", "Seeds '0,x' are not whole numbers"),
        ("--seeds", "-1", "Seeds '-1' are not whole numbers"),
        ("--seeds", "", "no seeds"),
        ("--hidden", "64,abc", "'abc' is not a whole number"),
        ("--jobs", "0", "parallel jobs must be a whole number from 1 to 64 (got 0)"),
    ],
)
def test_bad_sweep_input_exits_2_with_one_line(
    small_shop_files, runs_dir, capsys, option, value, message
):
    events, _ = small_shop_files
    code, out, err = run_cli(capsys, "sweep", "purchase", events, f"{option}={value}")
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: ") and message in err
    assert RunStore(runs_dir).runs() == []


@pytest.mark.slow
def test_a_sweep_into_a_runs_folder_that_cannot_be_written_exits_2_with_one_line(
    small_shop_files, tmp_path, capsys
):
    events, products = small_shop_files
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    unwritable = blocker / "runs"
    options = [*"--hidden 4 --seeds 0 --epochs 2 --jobs 1 --json".split(), "--runs-dir", unwritable]
    code, out, err = run_cli(capsys, "sweep", "purchase", events, "--products", products, *options)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "cannot be written" in err


def test_a_sweep_keeps_users_to_train_on_for_every_run(small_shop_files, runs_dir, capsys):
    """Every run of a sweep is trained and scored on the same users, drawn with the first seed."""
    events, _ = small_shop_files
    options = "--hidden 4 --seeds 2,1 --epochs 1 --jobs 1 --max-users 100 --json".split()
    result = run_json(capsys, "sweep", "purchase", events, *options)
    store = RunStore(runs_dir)
    manifests = [store.info(run["run_id"]).manifest for run in result["runs"]]
    assert [m.config.network.random_state for m in manifests] == [2, 1]
    assert {(m.config.max_users, m.config.sample_seed) for m in manifests} == {(100, 2)}
    assert len({m.details.users for m in manifests}) == 1
    assert all(
        any("random 100 of the 300 users" in w for w in m.details.warnings) for m in manifests
    )
