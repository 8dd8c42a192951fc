"""The command line: `python -m core purchase EVENTS [...] --json [--out DIR]`."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from core.runs import RunStore
from tests.cli import run_cli, run_json

MODELS = {"mlp", "bgnbd", "past_rate", "linear", "mean"}
SCORES = {
    "mse",
    "rmse",
    "mae",
    "r2",
    "total_predicted",
    "total_actual",
    "accuracy",
    "roc_auc",
    "pr_auc",
}


@pytest.mark.slow
def test_purchase_json_reports_every_model_at_the_chosen_cutoff(small_shop_files, tmp_path, capsys):
    events, products = small_shop_files
    out_dir = tmp_path / "out"
    options = "--cutoff 2026-09-15 --horizon-days 21 --hidden 8 --epochs 3 --seed 1 --json"
    result = run_json(
        capsys, "purchase", events, "--products", products, *options.split(), "--out", out_dir
    )
    assert result["cutoff"] == "2026-09-15"
    assert result["horizon_days"] == 21
    assert MODELS <= set(result["models"])
    for scores in result["models"].values():
        assert SCORES <= set(scores)
    frame = pd.read_csv(events, parse_dates=["timestamp"])
    assert result["users"] == frame.loc[frame["timestamp"] < "2026-09-15", "user_id"].nunique()
    # The command line trains on every user unless --max-users says otherwise.
    assert result["users_drawn"] == result["users_in_data"] == frame["user_id"].nunique()
    assert result["models"]["zero"]["total_predicted"] == 0
    bgnbd = result["bgnbd"]
    assert bgnbd["orders"] == pytest.approx(result["models"]["bgnbd"]["total_predicted"])
    assert bgnbd["orders"] >= bgnbd["purchase_days"] > 0
    assert bgnbd["pooled_orders_per_day"] >= 1
    assert bgnbd["own_scale_customers"] + bgnbd["pooled_scale_customers"] > 0
    assert bgnbd["own_scale_min_days"] == 3
    assert result["train_seconds"] > 0
    deployed = pd.read_csv(out_dir / "purchase_predictions.csv")
    assert len(deployed) == frame["user_id"].nunique()
    assert (deployed["predicted_orders"] >= 0).all()
    assert deployed["buy_probability"].between(0, 1).all()
    evaluated = pd.read_csv(out_dir / "purchase_evaluation.csv")
    assert len(evaluated) == result["users"]


def test_purchase_with_invalid_hidden_layers_exits_2_with_one_line(small_shop_files, capsys):
    events, _ = small_shop_files
    code, out, err = run_cli(capsys, "purchase", events, "--hidden", "64,abc")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "'abc' is not a whole number" in err


def test_purchase_with_a_cutoff_after_the_data_exits_2(small_shop_files, capsys):
    events, _ = small_shop_files
    code, _, err = run_cli(capsys, "purchase", events, "--cutoff", "2030-01-01")
    assert code == 2
    assert "Cutoff 2030-01-01" in err and "\n" == err[-1] and err.count("\n") == 1


@pytest.mark.slow
def test_purchase_saves_a_run_that_the_json_names(small_shop_files, runs_dir, capsys):
    events, products = small_shop_files
    args = ["purchase", events, "--products", products, "--hidden", "4", "--epochs", "2"]
    code, out, err = run_cli(capsys, *args, "--name", "cli run", "--tag", "nightly", "--json")
    assert code == 0, err
    run_id = json.loads(out)["run_id"]
    info = RunStore(runs_dir).info(run_id)
    assert info.ok and info.name == "cli run" and info.tags == ("nightly",)
    assert info.manifest.config.network.hidden_layers == (4,)


def test_purchase_with_an_unsafe_run_name_exits_2_with_one_line(small_shop_files, capsys):
    events, _ = small_shop_files
    options = "--epochs 1 --hidden 4 --name ../x".split()
    code, _, err = run_cli(capsys, "purchase", events, *options)
    assert code == 2 and err.count("\n") == 1 and "run name" in err


def test_purchase_with_max_users_trains_on_a_sample_and_says_so(small_shop_files, runs_dir, capsys):
    events, _ = small_shop_files
    options = "--hidden 4 --epochs 2 --seed 5 --max-users 100".split()
    code, out, err = run_cli(capsys, "purchase", events, *options)
    assert code == 0, err
    assert "\nwarning: Trained and scored on a random 100 of the 300 users, " in out
    [info] = RunStore(runs_dir).runs()
    assert (info.manifest.config.max_users, info.manifest.config.sample_seed) == (100, 5)
    assert info.manifest.details.users <= 100
