"""Recommenders kept as runs, and read back."""

from __future__ import annotations

from dataclasses import fields

import pandas as pd

from core.ml.network import network_config_dict, network_config_from
from core.recommend.candidates import PAIR_FEATURES
from core.recommend.evaluation import RecommendationEvaluation
from core.recommend.interactions import build_interactions
from core.recommend.model import Recommender, RecommenderConfig
from core.runs import (
    LoadedRun,
    RunIntegrityError,
    RunRecord,
    columns_to_frame,
    frame_to_columns,
    scores_to_metrics,
)

# --- runs -----------------------------------------------------------------------------------


def recommender_config_dict(config: RecommenderConfig) -> dict[str, object]:
    """The recommender's settings as JSON-ready values (for a run's manifest)."""
    values = {f.name: getattr(config, f.name) for f in fields(RecommenderConfig)}
    values["network"] = network_config_dict(config.network)
    return values


def recommender_config_from(values: dict) -> RecommenderConfig:
    """The inverse of :func:`recommender_config_dict`."""
    known = {f.name for f in fields(RecommenderConfig)} - {"network"}
    settings = {k: v for k, v in values.items() if k in known}
    return RecommenderConfig(network=network_config_from(values["network"]), **settings)


def recommender_run_record(
    recommender: Recommender,
    evaluation: RecommendationEvaluation | None,
    *,
    cutoff: pd.Timestamp,
    horizon_days: int,
    k: int,
    stopped: bool,
) -> RunRecord:
    """One training as a run: the ranker, the next-category model and every score."""
    estimators = {"ranker": recommender.ranker, "category": recommender.category_model}
    details: dict[str, object] = {
        "pair_features": list(PAIR_FEATURES),
        "train_pairs": recommender.train_pairs,
        "fit_seconds": recommender.fit_seconds,
        "epochs": len(recommender.curves),
        "best_epoch": recommender.best_epoch,
        "stopped": stopped,
    }
    if evaluation is not None:
        details["users_evaluated"] = evaluation.users
        details["score_seconds"] = evaluation.score_seconds
        details["by_k"] = frame_to_columns(evaluation.by_k)
        report = evaluation.category_report
        if report is not None:
            details["category_accuracy"] = report.accuracy
            details["category_top3_accuracy"] = report.top3_accuracy
    return RunRecord(
        task="recommend",
        estimators={name: model for name, model in estimators.items() if model is not None},
        config={
            "network": network_config_dict(recommender.config.network),
            "recommender": recommender_config_dict(recommender.config),
            "evaluate": evaluation is not None,
            "cutoff": f"{cutoff:%Y-%m-%d}",
            "horizon_days": horizon_days,
            "k": k,
        },
        metrics=scores_to_metrics(evaluation.scores) if evaluation is not None else {},
        curves={"ranker": frame_to_columns(recommender.curves)},
        details=details,
        train_seconds=recommender.fit_seconds,
    )


def recommender_from_run(
    loaded: LoadedRun, events: pd.DataFrame, products: pd.DataFrame | None
) -> Recommender:
    """A saved recommender made usable again on the data it was trained on: its networks as
    saved, the interactions rebuilt from the events before its cutoff.

    Raises:
        RunIntegrityError: when the run is not a recommender run or lacks a part.
    """
    if loaded.task != "recommend":
        raise RunIntegrityError(f"Run {loaded.run_id} is not a recommendations run.")
    manifest = loaded.manifest
    try:
        config = recommender_config_from(manifest["config"]["recommender"])
        cutoff = pd.Timestamp(manifest["config"]["cutoff"])
        details = manifest["details"]
        curves = columns_to_frame(manifest["curves"]["ranker"])
        train_pairs = int(details["train_pairs"])
    except (KeyError, TypeError, ValueError) as err:
        raise RunIntegrityError(
            f"Run {loaded.run_id} lacks part of a recommender ({err}); retrain it."
        ) from None
    ranker = loaded.estimators.get("ranker")
    inputs = getattr(ranker, "n_features_in_", len(PAIR_FEATURES))
    if details.get("pair_features") != list(PAIR_FEATURES) or inputs != len(PAIR_FEATURES):
        raise RunIntegrityError(
            f"Run {loaded.run_id} was trained on other ranker inputs ({inputs} features, this "
            f"version uses {len(PAIR_FEATURES)}); train it again."
        )
    interactions = build_interactions(
        events, products, cutoff, catalogue_only=config.catalogue_only
    )
    return Recommender(
        config,
        interactions,
        ranker,
        loaded.estimators.get("category"),
        curves,
        float(manifest.get("train_seconds") or 0.0),
        train_pairs,
        int(details.get("best_epoch", 0)),
    )
