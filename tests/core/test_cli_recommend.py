"""The command line: `python -m core recommend EVENTS [...] --json [--out recs.csv]`."""

from __future__ import annotations

import pandas as pd
import pytest

from core.runs import RunStore
from tests.cli import run_cli, run_json

METRICS = {"precision", "recall", "f1", "map", "ndcg", "hit_rate", "coverage", "novelty"}


@pytest.mark.slow
def test_recommend_json_scores_every_model_saves_a_run_and_writes_top_k(
    small_shop_files, tmp_path, runs_dir, capsys
):
    events, products = small_shop_files
    out_csv = tmp_path / "recs.csv"
    options = "--cutoff 2026-09-20 --horizon-days 20 --k 5 --hidden 8 --epochs 3 --json"
    result = run_json(
        capsys, "recommend", events, "--products", products, *options.split(), "--out", out_csv
    )
    assert (result["cutoff"], result["horizon_days"], result["k"]) == ("2026-09-20", 20, 5)
    assert {"mlp", "popularity", "item_knn", "random"} <= set(result["models"])
    for scores in result["models"].values():
        assert METRICS <= set(scores)
        assert 0 <= scores["precision"] <= 1 and 0 <= scores["hit_rate"] <= 1
    assert result["users_evaluated"] > 0
    assert result["fit_seconds"] > 0 and result["score_seconds"] >= 0
    info = RunStore(runs_dir).info(result["run_id"])
    assert info.ok and info.task == "recommend"
    assert info.manifest.metrics["mlp"]["ndcg"] == pytest.approx(result["models"]["mlp"]["ndcg"])
    recs = pd.read_csv(out_csv)
    assert list(recs.columns) == ["user_id", "rank", "item_id", "name", "score", "reason"]
    names = pd.read_csv(products).set_index("item_id")["name"]
    assert (recs["name"] == recs["item_id"].map(names)).all()
    assert recs.groupby("user_id")["rank"].max().max() == 5
    assert recs["reason"].notna().all()


def test_recommend_with_a_cutoff_too_late_exits_2_with_one_line(small_shop_files, capsys):
    events, _ = small_shop_files
    code, _, err = run_cli(capsys, "recommend", events, "--cutoff", "2026-10-30", "--epochs", "1")
    assert code == 2 and err.count("\n") == 1 and "cutoff" in err.lower()


def test_recommend_with_an_item_vocabulary_of_zero_exits_2_with_one_line(small_shop_files, capsys):
    events, _ = small_shop_files
    code, _, err = run_cli(capsys, "recommend", events, "--max-items", "0")
    assert code == 2 and err.count("\n") == 1 and "Item vocabulary" in err
