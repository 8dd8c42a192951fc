"""Recommenders kept as runs, and read back."""

from __future__ import annotations

import pandas as pd

from core.errors import RunIntegrityError
from core.recommend.candidates import PAIR_FEATURES
from core.recommend.evaluation import RecommendationEvaluation
from core.recommend.interactions import build_interactions
from core.recommend.model import Recommender
from core.runs.manifest import RecommendDetails, RunConfig, RunRecord
from core.runs.serial import scores_to_metrics
from core.runs.store import LoadedRun


def recommender_run_record(
    recommender: Recommender,
    evaluation: RecommendationEvaluation | None,
    *,
    cutoff: pd.Timestamp,
    horizon_days: int,
    k: int,
    stopped: bool,
) -> RunRecord:
    """One training as a run: the ranker, the next-category model and every score; a training
    cut short by Stop is kept with the epoch it reached."""
    estimators = {"ranker": recommender.ranker, "category": recommender.category_model}
    report = evaluation.category_report if evaluation is not None else None
    epochs = len(recommender.curves)
    return RunRecord(
        task="recommend",
        estimators={name: model for name, model in estimators.items() if model is not None},
        config=RunConfig(
            network=recommender.config.network,
            cutoff=cutoff,
            horizon_days=horizon_days,
            evaluate=evaluation is not None,
            k=k,
            recommender=recommender.config,
        ),
        metrics=scores_to_metrics(evaluation.scores) if evaluation is not None else {},
        curves={"ranker": recommender.curves},
        details=RecommendDetails(
            pair_features=PAIR_FEATURES,
            train_pairs=recommender.train_pairs,
            fit_seconds=recommender.fit_seconds,
            epochs=epochs,
            best_epoch=recommender.best_epoch,
            users_evaluated=evaluation.users if evaluation is not None else None,
            score_seconds=evaluation.score_seconds if evaluation is not None else None,
            by_k=evaluation.by_k if evaluation is not None else None,
            category_accuracy=report.accuracy if report is not None else None,
            category_top3_accuracy=report.top3_accuracy if report is not None else None,
        ),
        train_seconds=recommender.fit_seconds,
        stopped_at_epoch=epochs if stopped else None,
    )


def recommender_from_run(
    loaded: LoadedRun, events: pd.DataFrame, products: pd.DataFrame | None
) -> Recommender:
    """A saved recommender made usable again on the data it was trained on: its networks as
    saved, the interactions rebuilt from the events before its cutoff.

    Raises:
        RunIntegrityError: when the run is not a recommender run or was trained on other inputs.
    """
    manifest = loaded.manifest
    details, config = manifest.details, manifest.config.recommender
    if loaded.task != "recommend" or not isinstance(details, RecommendDetails) or config is None:
        raise RunIntegrityError(f"Run {loaded.run_id} is not a recommendations run.")
    ranker = loaded.estimators.get("ranker")
    inputs = getattr(ranker, "n_features_in_", len(PAIR_FEATURES))
    if details.pair_features != PAIR_FEATURES or inputs != len(PAIR_FEATURES):
        raise RunIntegrityError(
            f"Run {loaded.run_id} was trained on other ranker inputs ({inputs} features, this "
            f"version uses {len(PAIR_FEATURES)}); train it again."
        )
    interactions = build_interactions(
        events, products, manifest.config.cutoff, catalogue_only=config.catalogue_only
    )
    return Recommender(
        config,
        interactions,
        ranker,
        loaded.estimators.get("category"),
        manifest.curves.get("ranker", pd.DataFrame()),
        manifest.train_seconds,
        details.train_pairs,
        details.best_epoch,
    )
