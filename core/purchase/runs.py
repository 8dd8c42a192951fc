"""Purchase models kept as runs, and read back."""

from __future__ import annotations

import pandas as pd

from core.ml.network import network_config_dict, network_config_from
from core.purchase.evaluation import PurchaseEvaluation
from core.purchase.models import PurchaseModels
from core.purchase.windows import PurchaseData
from core.runs import (
    LoadedRun,
    RunIntegrityError,
    RunRecord,
    columns_to_frame,
    frame_to_columns,
    scores_to_metrics,
)

# --- runs -----------------------------------------------------------------------------------


def purchase_run_record(
    models: PurchaseModels, evaluation: PurchaseEvaluation, data: PurchaseData
) -> RunRecord:
    """One training as a run: both networks, the fitted baselines and every score."""
    return RunRecord(
        task="purchase",
        estimators={
            "regressor": models.regressor,
            "classifier": models.classifier,
            "linear_regressor": models.linear_regressor,
            "logistic": models.logistic,
        },
        config={
            "network": network_config_dict(models.config),
            "cutoff": f"{data.cutoff:%Y-%m-%d}",
            "horizon_days": data.horizon_days,
        },
        metrics=scores_to_metrics(evaluation.scores),
        curves={
            "regressor": frame_to_columns(models.regressor_curves),
            "classifier": frame_to_columns(models.classifier_curves),
        },
        details={
            "users": len(data.evaluation),
            "mean_rate_per_day": models.mean_rate_per_day,
            "base_buy_rate": models.base_buy_rate,
            "best_epochs": list(models.best_epochs),
            "epochs_run": list(models.epochs_run),
            "stopped": models.stopped,
            "warnings": list(models.warnings),
            "importance": frame_to_columns(evaluation.importance),
        },
        train_seconds=models.train_seconds,
    )


def purchase_models_from_run(loaded: LoadedRun) -> PurchaseModels:
    """The models of a saved purchase run, as :func:`train_purchase_models` returned them.

    Raises:
        RunIntegrityError: when the run is not a purchase run or lacks a part.
    """
    manifest, estimators = loaded.manifest, loaded.estimators
    if loaded.task != "purchase":
        raise RunIntegrityError(f"Run {loaded.run_id} is not a purchase-prediction run.")
    try:
        details, curves = manifest["details"], manifest["curves"]
        return PurchaseModels(
            config=network_config_from(manifest["config"]["network"]),
            regressor=estimators["regressor"],
            classifier=estimators["classifier"],
            linear_regressor=estimators["linear_regressor"],
            logistic=estimators["logistic"],
            mean_rate_per_day=float(details["mean_rate_per_day"]),
            base_buy_rate=float(details["base_buy_rate"]),
            regressor_curves=columns_to_frame(curves["regressor"]),
            classifier_curves=columns_to_frame(curves["classifier"]),
            best_epochs=tuple(int(e) for e in details["best_epochs"]),  # type: ignore[arg-type]
            epochs_run=tuple(int(e) for e in details["epochs_run"]),  # type: ignore[arg-type]
            stopped=bool(details["stopped"]),
            train_seconds=float(manifest.get("train_seconds") or 0.0),
            warnings=tuple(str(w) for w in details.get("warnings", ())),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise RunIntegrityError(
            f"Run {loaded.run_id} lacks part of a purchase model ({err}); retrain it."
        ) from None


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


def run_cutoff(manifest: dict) -> tuple[pd.Timestamp, int]:
    """The cutoff and horizon (days) a run was trained for."""
    config = manifest["config"]
    return pd.Timestamp(config["cutoff"]), int(config["horizon_days"])
