"""'MLP beats baselines': the MLP against the best baseline on every headline score of its task,
each in its own direction, ties counted as no win; in the runs table, for old manifests too."""

from __future__ import annotations

import json
import math

import pytest

from core.ml import metrics as m
from core.ml.metrics import MLP, Verdict, compare_with_baselines
from core.runs import MANIFEST, RunStore, runs_table, versus_baselines
from core.runs.compare import beats_baselines
from tests.records import stub_record

# An Online Retail-like purchase run: the MLP has the lowest MSE and the best PR-AUC, but
# logistic regression ranks buyers better by ROC-AUC.
MIXED = {
    MLP: {m.MSE: 0.80, m.ROC_AUC: 0.770, m.PR_AUC: 0.610, m.ACCURACY: 0.70},
    "bgnbd": {m.MSE: 0.90, m.ROC_AUC: 0.760, m.PR_AUC: 0.600, m.ACCURACY: 0.80},
    "linear": {m.MSE: 0.95, m.ROC_AUC: 0.780, m.PR_AUC: 0.590, m.ACCURACY: 0.60},
    "zero": {m.MSE: 1.50, m.ROC_AUC: 0.500, m.PR_AUC: 0.300, m.ACCURACY: 0.70},
}
# Wins everything (accuracy, not a headline score, is lost to BG/NBD and does not matter).
BETTER = {**MIXED, MLP: {m.MSE: 0.80, m.ROC_AUC: 0.790, m.PR_AUC: 0.610, m.ACCURACY: 0.70}}


def test_the_headline_scores_of_each_task_and_the_single_headline_among_them():
    assert m.HEADLINES == {
        "purchase": (m.MSE, m.ROC_AUC, m.PR_AUC),
        "recommend": (m.NDCG, m.RECALL, m.HIT_RATE),
        "images": (m.ACCURACY, m.MACRO_F1),
    }
    assert m.HEADLINE == {"purchase": m.MSE, "recommend": m.NDCG, "images": m.ACCURACY}


def test_a_run_that_loses_one_headline_score_does_not_beat_the_baselines():
    verdict = compare_with_baselines(MIXED, "purchase")
    assert verdict == Verdict(wins=(m.MSE, m.PR_AUC), losses=((m.ROC_AUC, "linear"),))
    assert not verdict.beats_baselines
    labels = {"linear": "Linear / logistic regression"}
    assert (
        verdict.describe(labels)
        == "wins MSE, PR-AUC; loses ROC-AUC to Linear / logistic regression"
    )


def test_a_run_that_wins_every_headline_score_beats_the_baselines():
    verdict = compare_with_baselines(BETTER, "purchase")
    assert verdict == Verdict(wins=(m.MSE, m.ROC_AUC, m.PR_AUC))
    assert verdict.beats_baselines
    assert verdict.describe() == "beats every baseline on MSE, ROC-AUC, PR-AUC"


def test_lower_is_better_for_the_error_and_higher_for_the_rankings():
    # The same numbers with the MLP's MSE the highest: it now loses the MSE to BG/NBD.
    worse = {**BETTER, MLP: {**BETTER[MLP], m.MSE: 1.00}}
    verdict = compare_with_baselines(worse, "purchase")
    assert verdict == Verdict(wins=(m.ROC_AUC, m.PR_AUC), losses=((m.MSE, "bgnbd"),))


def test_a_tie_is_not_a_win():
    tied = {
        MLP: {m.NDCG: 0.30, m.RECALL: 0.20, m.HIT_RATE: 0.50},
        "item_knn": {m.NDCG: 0.25, m.RECALL: 0.20, m.HIT_RATE: 0.40},
        "popularity": {m.NDCG: 0.10, m.RECALL: 0.25, m.HIT_RATE: 0.30},
    }
    verdict = compare_with_baselines(tied, "recommend")
    # Recall: popularity's 0.25 is the best baseline and beats the MLP's 0.20.
    assert verdict == Verdict(wins=(m.NDCG, m.HIT_RATE), losses=((m.RECALL, "popularity"),))
    tied["popularity"][m.RECALL] = 0.20
    verdict = compare_with_baselines(tied, "recommend")
    assert verdict == Verdict(wins=(m.NDCG, m.HIT_RATE), ties=((m.RECALL, "item_knn"),))
    assert not verdict.beats_baselines
    assert verdict.describe({"item_knn": "Item-kNN"}, k=10) == (
        "wins NDCG@10, Hit rate@10; ties Recall@10 with Item-kNN"
    )


def test_losses_to_one_baseline_are_named_together():
    lost = {
        MLP: {m.NDCG: 0.20, m.RECALL: 0.10, m.HIT_RATE: 0.30},
        "item_knn": {m.NDCG: 0.25, m.RECALL: 0.15, m.HIT_RATE: 0.20},
    }
    verdict = compare_with_baselines(lost, "recommend")
    assert verdict.describe({"item_knn": "Item-kNN"}, k=5) == (
        "wins Hit rate@5; loses NDCG@5, Recall@5 to Item-kNN"
    )


def test_a_headline_score_missing_for_every_model_blocks_the_tick():
    # Nobody bought in the window: the AUCs are not defined, so they cannot be won.
    flat = {name: {**row, m.ROC_AUC: math.nan, m.PR_AUC: math.nan} for name, row in MIXED.items()}
    verdict = compare_with_baselines(flat, "purchase")
    assert verdict == Verdict(wins=(m.MSE,), unscored=(m.ROC_AUC, m.PR_AUC))
    assert not verdict.beats_baselines
    assert verdict.describe() == "wins MSE; no ROC-AUC, PR-AUC to compare"
    without_mlp = {name: row for name, row in MIXED.items() if name != MLP}
    assert compare_with_baselines(without_mlp, "purchase") is None
    assert compare_with_baselines({}, "recommend") is None


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "runs")


def test_the_runs_table_ticks_only_runs_that_win_every_headline_score(store, small_shop):
    mixed = store.save(stub_record(metrics=MIXED), small_shop, name="mixed")
    better = store.save(stub_record(metrics=BETTER, hidden=(4,)), small_shop, name="better")
    unscored = store.save(stub_record("recommend", evaluate=False), small_shop, name="now")
    table = runs_table(store.runs()).set_index("run_id")
    assert table.loc[mixed, "beats_baselines"] is False
    assert table.loc[mixed, "versus_baselines"] == (
        "wins MSE, PR-AUC; loses ROC-AUC to Linear / logistic regression"
    )
    assert table.loc[better, "beats_baselines"] is True
    assert table.loc[better, "versus_baselines"] == "beats every baseline on MSE, ROC-AUC, PR-AUC"
    assert table.loc[unscored, "beats_baselines"] is None
    assert table.loc[unscored, "versus_baselines"] == ""
    # The single headline (MSE) alone would have ticked the mixed run.
    assert table.loc[mixed, "mse"] < table.loc[mixed, "baseline_mse"]


def test_a_recommender_run_names_its_scores_at_its_k(store, small_shop):
    scores = {
        MLP: {m.NDCG: 0.14, m.RECALL: 0.10, m.HIT_RATE: 0.52},
        "item_knn": {m.NDCG: 0.11, m.RECALL: 0.11, m.HIT_RATE: 0.43},
        "random": {m.NDCG: 0.01, m.RECALL: 0.01, m.HIT_RATE: 0.03},
    }
    run_id = store.save(stub_record("recommend", metrics=scores, k=10), small_shop)
    manifest = store.info(run_id).manifest
    assert not beats_baselines(manifest)
    assert versus_baselines(manifest) == "wins NDCG@10, Hit rate@10; loses Recall@10 to Item-kNN"


def test_a_manifest_of_the_first_version_gets_a_verdict_too(store, small_shop):
    run_id = store.save(stub_record(metrics=MIXED), small_shop)
    path = store.path_of(run_id) / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for key in ("status", "stopped_at_epoch"):
        del manifest[key]
    manifest["manifest_version"] = 1
    manifest["details"]["stopped"] = False
    path.write_text(json.dumps(manifest), encoding="utf-8")
    [info] = store.runs()
    assert info.ok
    assert beats_baselines(info.manifest) is False
    assert versus_baselines(info.manifest).startswith("wins MSE, PR-AUC; loses ROC-AUC")
