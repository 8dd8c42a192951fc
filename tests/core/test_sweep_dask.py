"""Sweeps on a Dask cluster: the same runs and scores as on local processes, Stop, and the
command's ``--backend dask --scheduler URL`` with its one-line errors."""

from __future__ import annotations

import pandas as pd
import pytest

from core import services
from core.ml.network import NetworkConfig
from core.runs import RunStore
from core.sweep import SweepError, sweep
from tests.cli import run_cli, run_json
from tests.cluster import require_cluster_package

CONFIG = NetworkConfig(hidden_layers=(64, 32), epochs=3, batch_size=64, random_state=0)
BASE = services.PurchaseSettings(CONFIG, 21, pd.Timestamp("2026-09-15"))
HIDDEN = [(4,), (8,)]


@pytest.fixture(scope="module")
def dask_scheduler():
    """A Dask cluster of two one-thread worker processes on this machine."""
    require_cluster_package("distributed")
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def points(result):
    return [(run.hidden_layers, run.seed, run.metrics) for run in result.runs]


@pytest.mark.slow
def test_a_sweep_on_a_dask_cluster_equals_the_local_one(small_shop, dask_scheduler, tmp_path):
    common = {"base": BASE, "hidden": HIDDEN, "seeds": [0]}
    local = sweep(small_shop, RunStore(tmp_path / "loky"), jobs=2, **common)
    store = RunStore(tmp_path / "dask")
    remote = sweep(small_shop, store, backend="dask", scheduler=dask_scheduler, **common)
    assert points(remote) == points(local)
    assert len(points(remote)) == 2 and remote.best.hidden_layers == local.best.hidden_layers
    assert {info.run_id for info in store.runs()} == {run.run_id for run in remote.runs}


@pytest.mark.slow
def test_stop_ends_a_dask_sweep_after_the_trainings_under_way(small_shop, dask_scheduler, tmp_path):
    done = []
    result = sweep(
        small_shop,
        RunStore(tmp_path / "runs"),
        base=BASE,
        hidden=HIDDEN,
        seeds=[0],
        jobs=1,
        backend="dask",
        scheduler=dask_scheduler,
        on_done=lambda *call: done.append(call),
        should_stop=lambda: len(done) >= 1,
    )
    assert result.stopped and len(result.runs) == 1 and result.points == 2


@pytest.mark.slow
def test_the_sweep_command_runs_on_a_dask_cluster(
    capsys, small_shop_files, dask_scheduler, tmp_path
):
    events, products = small_shop_files
    summary = run_json(
        capsys,
        "sweep", "purchase", events, "--products", products, "--cutoff", "2026-09-15",
        "--horizon-days", "21", "--epochs", "3", "--hidden", "4", "--seeds", "0",
        "--backend", "dask", "--scheduler", dask_scheduler, "--runs-dir", tmp_path, "--json",
    )  # fmt: skip
    assert [run["hidden"] for run in summary["runs"]] == ["4"]
    assert summary["best"] == summary["runs"][0]["run_id"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "dask"], "needs the scheduler's address"),
        (["--backend", "dask", "--scheduler", "127.0.0.1:8786"], "is not a Dask scheduler"),
        (["--scheduler", "tcp://127.0.0.1:8786"], "--scheduler is for --backend dask"),
    ],
)
def test_the_sweep_command_refuses_a_bad_dask_setting_in_one_line(
    args, message, capsys, small_shop_files
):
    events, _ = small_shop_files
    code, out, err = run_cli(capsys, "sweep", "purchase", events, "--hidden", "4", *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_a_dask_scheduler_that_does_not_answer_is_refused_in_one_line(small_shop, tmp_path):
    require_cluster_package("distributed")
    with pytest.raises(SweepError, match=r"^The Dask scheduler tcp://127.0.0.1:9 does not"):
        sweep(
            small_shop,
            RunStore(tmp_path),
            base=BASE,
            hidden=HIDDEN,
            seeds=[0],
            backend="dask",
            scheduler="tcp://127.0.0.1:9",
        )
