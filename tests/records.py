"""Small valid run records for tests of the run registry, the Runs page and the report."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.linear_model import Ridge

from core.ml.network import NetworkConfig
from core.recommend import PAIR_FEATURES, RecommenderConfig
from core.runs import RunRecord
from core.runs.manifest import PurchaseDetails, RecommendDetails, RunConfig

CUTOFF = pd.Timestamp("2026-10-02")


def stub_record(
    task: str = "purchase",
    *,
    estimators: dict[str, Any] | None = None,
    metrics: dict[str, dict[str, float | None]] | None = None,
    curves: dict[str, pd.DataFrame] | None = None,
    hidden: tuple[int, ...] = (8,),
    seed: int = 0,
    evaluate: bool = True,
    k: int = 10,
    stopped_at_epoch: int | None = None,
    max_users: int | None = None,
) -> RunRecord:
    """A record with an untrained estimator and empty curves: cheap, and valid to save."""
    network = NetworkConfig(hidden_layers=hidden, random_state=seed)
    if task == "purchase":
        config = RunConfig(
            network=network, cutoff=CUTOFF, horizon_days=30, max_users=max_users, sample_seed=seed
        )
        details: PurchaseDetails | RecommendDetails = PurchaseDetails(
            users=0, mean_rate_per_day=0.0, base_buy_rate=0.0, best_epochs=(0, 0),
            epochs_run=(0, 0),
        )  # fmt: skip
        empty = {"regressor": pd.DataFrame(), "classifier": pd.DataFrame()}
    else:
        recommender = RecommenderConfig(network=network)
        config = RunConfig(network, CUTOFF, 30, evaluate=evaluate, k=k, recommender=recommender)
        details = RecommendDetails(
            pair_features=PAIR_FEATURES, train_pairs=0, fit_seconds=0.0, epochs=0, best_epoch=0
        )
        empty = {}
    return RunRecord(
        task=task,  # type: ignore[arg-type]
        estimators=estimators if estimators is not None else {"model": Ridge()},
        config=config,
        metrics=metrics if metrics is not None else {},
        curves=curves if curves is not None else empty,
        details=details,
        stopped_at_epoch=stopped_at_epoch,
    )
