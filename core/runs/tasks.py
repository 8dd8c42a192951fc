"""What each task keeps in a run, and how a saved run becomes its model again."""

from __future__ import annotations

import pandas as pd

from core.errors import RunIntegrityError
from core.images.models import MODEL_NAMES as IMAGE_MODELS
from core.images.models import ImageModels, ModelScores
from core.ml import metrics as m
from core.purchase.evaluation import PurchaseEvaluation
from core.purchase.models import PurchaseModels
from core.purchase.windows import PurchaseData
from core.recommend.candidates import ranker_inputs
from core.recommend.evaluation import RecommendationEvaluation
from core.recommend.interactions import build_interactions
from core.recommend.model import Recommender
from core.recommend.photos import PhotoVectors, fit_item_photos
from core.runs.manifest import (
    ImageDetails,
    PurchaseDetails,
    RecommendDetails,
    RunConfig,
    RunRecord,
    plain_text,
)
from core.runs.serial import scores_to_metrics
from core.runs.store import LoadedRun

# --- purchase prediction ------------------------------------------------------------------


def purchase_run_record(
    models: PurchaseModels, evaluation: PurchaseEvaluation, data: PurchaseData
) -> RunRecord:
    """One training as a run: both networks, the fitted baselines and every score; a training
    cut short by Stop is kept with the epoch it reached."""
    return RunRecord(
        task="purchase",
        estimators={
            "regressor": models.regressor,
            "classifier": models.classifier,
            "linear_regressor": models.linear_regressor,
            "logistic": models.logistic,
        },
        config=RunConfig(
            network=models.config,
            cutoff=data.cutoff,
            horizon_days=data.horizon_days,
            max_users=data.user_sample.limit,
            sample_seed=data.user_sample.random_state,
        ),
        metrics=scores_to_metrics(evaluation.scores),
        curves={"regressor": models.regressor_curves, "classifier": models.classifier_curves},
        details=PurchaseDetails(
            users=len(data.evaluation),
            mean_rate_per_day=models.mean_rate_per_day,
            base_buy_rate=models.base_buy_rate,
            best_epochs=models.best_epochs,
            epochs_run=models.epochs_run,
            warnings=tuple(plain_text(w) for w in (*data.warnings, *models.warnings)),
            importance=evaluation.importance,
        ),
        train_seconds=models.train_seconds,
        stopped_at_epoch=max(models.epochs_run) if models.stopped else None,
    )


def purchase_models_from_run(loaded: LoadedRun) -> PurchaseModels:
    """The models of a saved purchase run, as training returned them.

    Raises:
        RunIntegrityError: when the run is not a purchase run or lacks an estimator.
    """
    manifest, estimators = loaded.manifest, loaded.estimators
    details = manifest.details
    if loaded.task != "purchase" or not isinstance(details, PurchaseDetails):
        raise RunIntegrityError(f"Run {loaded.run_id} is not a purchase-prediction run.")
    missing = {"regressor", "classifier", "linear_regressor", "logistic"} - set(estimators)
    if missing:
        raise RunIntegrityError(
            f"Run {loaded.run_id} lacks part of a purchase model ({sorted(missing)[0]}); "
            "retrain it."
        )
    return PurchaseModels(
        config=manifest.config.network,
        regressor=estimators["regressor"],
        classifier=estimators["classifier"],
        linear_regressor=estimators["linear_regressor"],
        logistic=estimators["logistic"],
        mean_rate_per_day=details.mean_rate_per_day,
        base_buy_rate=details.base_buy_rate,
        regressor_curves=manifest.curves["regressor"],
        classifier_curves=manifest.curves["classifier"],
        best_epochs=details.best_epochs,
        epochs_run=details.epochs_run,
        stopped=manifest.stopped_at_epoch is not None,
        train_seconds=manifest.train_seconds,
        warnings=details.warnings,
    )


def check_run_inputs(run_id: str, models: PurchaseModels, data: PurchaseData) -> None:
    """Refuse a saved run whose networks expect other inputs than this version builds.

    Raises:
        RunIntegrityError: one line, naming the run.
    """
    expected = list(getattr(models.regressor, "feature_names_in_", []))
    if expected != list(data.feature_names):
        raise RunIntegrityError(
            f"Run {run_id} was trained on other inputs ({len(expected)} features, this version "
            f"builds {len(data.feature_names)}); train it again."
        )


# --- recommendations ----------------------------------------------------------------------


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
    comparison = evaluation.photos if evaluation is not None else None
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
            pair_features=recommender.inputs,
            train_pairs=recommender.train_pairs,
            fit_seconds=recommender.fit_seconds,
            epochs=epochs,
            best_epoch=recommender.best_epoch,
            users_evaluated=evaluation.users if evaluation is not None else None,
            score_seconds=evaluation.score_seconds if evaluation is not None else None,
            by_k=evaluation.by_k if evaluation is not None else None,
            category_accuracy=report.accuracy if report is not None else None,
            category_top3_accuracy=report.top3_accuracy if report is not None else None,
            non_product_items=int(recommender.interactions.non_product.sum()),
            notes=tuple(plain_text(n) for n in recommender.notes),
            photo_features=recommender.photos.kind if recommender.photos is not None else None,
            photo_comparison=comparison.to_frame() if comparison is not None else None,
        ),
        train_seconds=recommender.fit_seconds,
        stopped_at_epoch=epochs if stopped else None,
    )


def recommender_from_run(
    loaded: LoadedRun,
    events: pd.DataFrame,
    products: pd.DataFrame | None,
    *,
    photos: PhotoVectors | None = None,
) -> Recommender:
    """A saved recommender made usable again on the data it was trained on: its networks as
    saved, the interactions rebuilt from the events before its cutoff and, for a ranker with
    photo inputs, the items' photos from ``photos`` (the shop's, embedded again).

    Raises:
        RunIntegrityError: when the run is not a recommender run, was trained on other inputs,
            or learned from photos that ``photos`` does not give in the same features.
    """
    manifest = loaded.manifest
    details, config = manifest.details, manifest.config.recommender
    if loaded.task != "recommend" or not isinstance(details, RecommendDetails) or config is None:
        raise RunIntegrityError(f"Run {loaded.run_id} is not a recommendations run.")
    if details.photo_features is not None and (
        photos is None or photos.kind != details.photo_features
    ):
        raise RunIntegrityError(
            f"Run {loaded.run_id} learned from product photos ({details.photo_features} "
            "features) that the loaded data does not give; load the same data and photos."
        )
    ranker = loaded.estimators.get("ranker")
    interactions = build_interactions(
        events,
        products,
        manifest.config.cutoff,
        catalogue_only=config.catalogue_only,
        max_items=config.max_items,
    )
    item_photos = (
        fit_item_photos(interactions.item_ids, photos, fit_on=interactions.known)
        if details.photo_features is not None and photos is not None
        else None
    )
    expected = ranker_inputs(item_photos)
    inputs = getattr(ranker, "n_features_in_", len(expected))
    if details.pair_features != expected or inputs != len(expected):
        raise RunIntegrityError(
            f"Run {loaded.run_id} was trained on other ranker inputs ({inputs} features, this "
            f"version uses {len(expected)}); train it again."
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
        item_photos,
    )


# --- product photos -------------------------------------------------------------------------


def image_run_record(
    models: ImageModels,
    scores: dict[str, ModelScores],
    *,
    label: str,
    source: str,
    features: str,
    train_photos: int,
    test_photos: int,
    unlabelled_photos: int,
    test_share: float,
    mirrored: bool,
    similar_precision_at_5: float,
) -> RunRecord:
    """One photo category training as a run: the MLP and the baselines, every model's
    scores and the MLP's confusion matrix; a training cut short by Stop is kept with the
    epoch it reached."""
    epochs = len(models.curves)
    return RunRecord(
        task="images",
        estimators={
            name: models.mlp if name == m.MLP else models.baselines[name] for name in IMAGE_MODELS
        },
        config=RunConfig(network=models.config, cutoff=None, horizon_days=None),
        metrics={
            name: {
                m.ACCURACY: score.accuracy,
                m.TOP3_ACCURACY: score.top3_accuracy,
                m.MACRO_F1: score.macro_f1,
            }
            for name, score in scores.items()
        },
        curves={"photo_classifier": models.curves},
        details=ImageDetails(
            label=plain_text(label),
            source=plain_text(source),
            features=features,
            train_photos=train_photos,
            test_photos=test_photos,
            unlabelled_photos=unlabelled_photos,
            test_share=test_share,
            mirrored=mirrored,
            classes=tuple(plain_text(c) for c in models.classes),
            confusion=tuple(tuple(int(n) for n in row) for row in scores[m.MLP].confusion),
            epochs=epochs,
            best_epoch=models.best_epoch,
            similar_precision_at_5=similar_precision_at_5,
            warnings=tuple(plain_text(w) for w in models.warnings),
        ),
        train_seconds=models.train_seconds,
        stopped_at_epoch=epochs if models.stopped else None,
    )
