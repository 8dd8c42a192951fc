"""Purchase models kept as runs, and read back."""

from __future__ import annotations

from core.errors import RunIntegrityError
from core.purchase.evaluation import PurchaseEvaluation
from core.purchase.models import PurchaseModels
from core.purchase.windows import PurchaseData
from core.runs.manifest import PurchaseDetails, RunConfig, RunRecord, plain_text
from core.runs.serial import scores_to_metrics
from core.runs.store import LoadedRun


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
        config=RunConfig(network=models.config, cutoff=data.cutoff, horizon_days=data.horizon_days),
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
