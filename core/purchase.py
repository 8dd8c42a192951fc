"""Purchase prediction: how many orders will each customer place in the next H days, and who
will buy at all — MLPs beside honest baselines, evaluated on a time split.

Protocol: the model is scored on features at the cutoff t against the real window [t, t + H).
Training examples are stacked from earlier windows: features at d and the orders in
[d, d + h) with h = min(H, t - d), so every label window ends on or before t. The window
length h is an input, and so is the BG/NBD expectation for it, fitted on orders before d only.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from core import features as feat
from core import metrics, schema
from core.bgnbd import BGNBD, FREQUENCY, RECENCY, T_COLUMN, rfm_summary
from core.errors import ShopLensError
from core.metrics import classification_scores, regression_scores
from core.network import (
    EpochReport,
    NetworkConfig,
    NetworkTrainer,
    make_preprocessor,
    network_config_dict,
    network_config_from,
)
from core.runs import (
    LoadedRun,
    RunIntegrityError,
    RunRecord,
    columns_to_frame,
    frame_to_columns,
    scores_to_metrics,
)

HORIZON: Final = "horizon_days"
BGNBD_EXPECTED: Final = "bgnbd_expected_orders"
ACTUAL_ORDERS: Final = "actual_orders"
ACTUAL_BUYER: Final = "actual_buyer"
WINDOW_START: Final = "window_start"
PREDICTED: Final = "predicted_orders"
PROBABILITY: Final = "buy_probability"
MODEL: Final = "model"

MLP: Final = "mlp"
BGNBD_NAME: Final = "bgnbd"
PAST_RATE: Final = "past_rate"
LINEAR: Final = "linear"
MEAN: Final = "mean"
ZERO: Final = "zero"
MODEL_NAMES: Final = (MLP, BGNBD_NAME, PAST_RATE, LINEAR, MEAN, ZERO)
MODEL_LABELS: Final = {
    MLP: "MLP (neural network)",
    BGNBD_NAME: "BG/NBD",
    PAST_RATE: "Own past order rate × H",
    LINEAR: "Linear / logistic regression",
    MEAN: "Mean",
    ZERO: "Zero (nobody buys)",
}

# The scores the command line and the benchmark report for every model.
REPORTED_SCORES: Final = (
    metrics.MSE,
    metrics.RMSE,
    metrics.MAE,
    metrics.R2,
    metrics.TOTAL_PREDICTED,
    metrics.TOTAL_ACTUAL,
    metrics.ACCURACY,
    metrics.ROC_AUC,
    metrics.PR_AUC,
)

_BGNBD_UNIT_DAYS: Final = 7.0
_BGNBD_MAX_CUSTOMERS: Final = 30_000
_MIN_HISTORY_DAYS: Final = 14


class CutoffError(ShopLensError):
    """A cutoff or horizon that leaves no room for training or evaluation."""


@dataclass(frozen=True)
class PurchaseData:
    """Feature tables for one cutoff and horizon.

    Attributes:
        cutoff: the evaluation date t.
        horizon_days: H, the length of the predicted window.
        feature_names: model inputs, in order.
        train: stacked training windows (features, ``horizon_days``, BG/NBD expectation,
            ``actual_orders``, ``actual_buyer``, ``window_start``).
        evaluation: one row per user with an event before t; same columns.
        deployment: features at the end of the data, for predicting the next H days.
        data_end: the first instant after the last event's day.
        windows: (window start, window length in days) of each training window.
    """

    cutoff: pd.Timestamp
    horizon_days: int
    feature_names: tuple[str, ...]
    train: pd.DataFrame
    evaluation: pd.DataFrame
    deployment: pd.DataFrame
    data_end: pd.Timestamp
    windows: tuple[tuple[pd.Timestamp, int], ...]


def data_end_of(events: pd.DataFrame) -> pd.Timestamp:
    """Midnight after the day of the last event: the exclusive end of the data."""
    return events[schema.TIMESTAMP].max().normalize() + pd.Timedelta(days=1)


def default_cutoff(events: pd.DataFrame, horizon_days: int) -> pd.Timestamp:
    """The last date that leaves a full horizon after it: end of data - H days."""
    return data_end_of(events) - pd.Timedelta(days=horizon_days)


def build_purchase_data(
    events: pd.DataFrame,
    products: pd.DataFrame | None = None,
    *,
    cutoff: pd.Timestamp | None = None,
    horizon_days: int = 30,
    max_windows: int = 16,
    max_train_rows: int = 300_000,
    random_state: int = 0,
) -> PurchaseData:
    """Build training windows, the evaluation table at the cutoff and the deployment table.

    Raises:
        CutoffError: when the cutoff leaves no full horizon after it or no history before it.
    """
    if horizon_days < 1:
        raise CutoffError(f"The horizon must be at least 1 day (got {horizon_days}).")
    prepared = feat.prepare_events(events, products)
    orders = feat.extract_orders(prepared)
    if orders.empty:
        raise CutoffError(
            "The data has no purchases, so there is nothing to predict; load "
            "events that include purchases or orders."
        )
    start = prepared[schema.TIMESTAMP].min().normalize()
    end = data_end_of(prepared)
    horizon = pd.Timedelta(days=horizon_days)
    t = pd.Timestamp(cutoff).normalize() if cutoff is not None else end - horizon
    latest = end - horizon
    if t > latest:
        raise CutoffError(
            f"Cutoff {t:%Y-%m-%d} leaves less than {horizon_days} days of data after it (the "
            f"data ends {end - pd.Timedelta(days=1):%Y-%m-%d}); pick a cutoff on or before "
            f"{latest:%Y-%m-%d} or a shorter horizon."
        )
    earliest = start + pd.Timedelta(days=_MIN_HISTORY_DAYS)
    if t < earliest:
        raise CutoffError(
            f"Cutoff {t:%Y-%m-%d} leaves less than {_MIN_HISTORY_DAYS} days of history before "
            f"it (the data starts {start:%Y-%m-%d}); pick a cutoff on or after "
            f"{earliest:%Y-%m-%d}."
        )
    stride = pd.Timedelta(days=max(1, math.ceil(horizon_days / 8)))
    windows: list[tuple[pd.Timestamp, int]] = []
    d = t - stride
    while d >= earliest and len(windows) < max_windows:
        windows.append((d, min(horizon_days, int((t - d) / pd.Timedelta(days=1)))))
        d -= stride
    if not windows:
        raise CutoffError(
            f"Cutoff {t:%Y-%m-%d} leaves no room for a training window after "
            f"{_MIN_HISTORY_DAYS} days of history; pick a later cutoff."
        )
    parts = [_window_table(prepared, orders, at, days) for at, days in windows]
    train = pd.concat(parts, ignore_index=False)
    if len(train) > max_train_rows:
        train = train.sample(max_train_rows, random_state=random_state)
    evaluation = _window_table(prepared, orders, t, horizon_days)
    deployment = _window_table(prepared, orders, end, horizon_days, labels=False)
    names = tuple(
        c for c in evaluation.columns if c not in (ACTUAL_ORDERS, ACTUAL_BUYER, WINDOW_START)
    )
    train = train.reindex(
        columns=[*names, ACTUAL_ORDERS, ACTUAL_BUYER, WINDOW_START], fill_value=0.0
    )
    return PurchaseData(t, horizon_days, names, train, evaluation, deployment, end, tuple(windows))


def _window_table(
    events: pd.DataFrame,
    orders: pd.DataFrame,
    at: pd.Timestamp,
    days: int,
    *,
    labels: bool = True,
) -> pd.DataFrame:
    table = feat.user_features(events, orders, at)
    table[HORIZON] = float(days)
    table[BGNBD_EXPECTED] = _bgnbd_expected(orders, at, days).reindex(table.index).fillna(0.0)
    if labels:
        counts = feat.count_orders(orders, at, at + pd.Timedelta(days=days))
        table[ACTUAL_ORDERS] = counts.reindex(table.index).fillna(0).astype(float)
        table[ACTUAL_BUYER] = (table[ACTUAL_ORDERS] > 0).astype(int)
        table[WINDOW_START] = at
    return table


def fit_bgnbd(orders: pd.DataFrame, at: pd.Timestamp) -> tuple[BGNBD | None, pd.DataFrame]:
    """BG/NBD fitted on the orders before ``at`` (time in weeks) and each customer's summary.

    Returns ``(None, summary)`` when the orders hold no repeat purchase to fit on.
    """
    summary = rfm_summary(orders, at=at, unit_days=_BGNBD_UNIT_DAYS)
    if summary.empty or not (summary[FREQUENCY] > 0).any():
        return None, summary
    sample = summary
    if len(summary) > _BGNBD_MAX_CUSTOMERS:  # population parameters: a sample suffices
        sample = summary.sample(_BGNBD_MAX_CUSTOMERS, random_state=0)
    try:
        model = BGNBD(penalizer=1e-6).fit(sample[FREQUENCY], sample[RECENCY], sample[T_COLUMN])
    except (ValueError, RuntimeError):
        return None, summary
    return model, summary


def _bgnbd_expected(orders: pd.DataFrame, at: pd.Timestamp, days: int) -> pd.Series:
    model, summary = fit_bgnbd(orders, at)
    if model is None:
        return pd.Series(0.0, index=summary.index.astype("str"))
    expected = model.expected_purchases(
        days / _BGNBD_UNIT_DAYS, summary[FREQUENCY], summary[RECENCY], summary[T_COLUMN]
    )
    return pd.Series(expected, index=summary.index.astype("str"))


# --- training ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseProgress:
    """Both networks' state after a joint epoch (passed to the progress callback)."""

    epoch: int
    epochs: int
    regressor: EpochReport | None
    classifier: EpochReport | None
    seconds: float

    @property
    def seconds_left(self) -> float:
        """Linear estimate of the time to the last epoch (early stopping may end sooner)."""
        return self.seconds / self.epoch * (self.epochs - self.epoch)


@dataclass
class PurchaseModels:
    """Everything fitted for one cutoff: both networks and every baseline."""

    config: NetworkConfig
    regressor: Pipeline
    classifier: Pipeline
    linear_regressor: Pipeline
    logistic: Pipeline
    mean_rate_per_day: float
    base_buy_rate: float
    regressor_curves: pd.DataFrame
    classifier_curves: pd.DataFrame
    best_epochs: tuple[int, int]
    epochs_run: tuple[int, int]
    stopped: bool
    train_seconds: float
    warnings: tuple[str, ...] = field(default_factory=tuple)


class PurchaseTraining:
    """Trains the regressor and the classifier side by side, one epoch of each at a time.

    The object keeps its state between calls, so a training interrupted after any epoch (the
    Stop button) can still be finished with the best weights so far.
    """

    def __init__(self, data: PurchaseData, config: NetworkConfig) -> None:
        self.data = data
        self.config = config
        self.regressor = NetworkTrainer("regression", config)
        self.classifier = NetworkTrainer("classification", config)
        self.seconds = 0.0
        self.epoch = 0
        self.stopped = False
        self._started = False

    def run(self, on_epoch: Callable[[PurchaseProgress], bool | None] | None = None) -> None:
        """Train until both networks are done, or ``on_epoch`` returns False."""
        started = time.perf_counter()
        x = self.data.train[list(self.data.feature_names)]
        if not self._started:
            users = self.data.train.index.to_numpy()
            # The regressor learns what BG/NBD's expectation misses (orders minus expectation).
            excess = self.data.train[ACTUAL_ORDERS] - self.data.train[BGNBD_EXPECTED]
            self.regressor.begin(x, excess.to_numpy(), groups=users)
            self.classifier.begin(x, self.data.train[ACTUAL_BUYER].to_numpy(), groups=users)
            self._started = True
        while not (self.regressor.done_ and self.classifier.done_):
            reports = [
                t.run_epoch() if not t.done_ else None for t in (self.regressor, self.classifier)
            ]
            self.epoch += 1
            self.seconds = time.perf_counter() - started
            progress = PurchaseProgress(
                self.epoch, self.config.epochs, reports[0], reports[1], self.seconds
            )
            if on_epoch is not None and on_epoch(progress) is False:
                self.stop()

    def stop(self) -> None:
        """End training now, keeping each network's best epoch."""
        self.stopped = True
        self.regressor.stop()
        self.classifier.stop()

    @property
    def can_finish(self) -> bool:
        """Whether both networks have at least one finished epoch."""
        return (
            self.regressor.best_weights_ is not None and self.classifier.best_weights_ is not None
        )

    def finish(self) -> PurchaseModels:
        """Fit the baselines and bundle everything with the networks' best epochs."""
        data, train = self.data, self.data.train
        x = train[list(data.feature_names)]
        caught: list[str] = []
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always", ConvergenceWarning)
            linear = Pipeline([("prepare", make_preprocessor()), ("model", Ridge(alpha=1.0))])
            linear.fit(x, train[ACTUAL_ORDERS])
            logistic = Pipeline(
                [("prepare", make_preprocessor()), ("model", LogisticRegression(max_iter=500))]
            )
            if train[ACTUAL_BUYER].nunique() == 2:
                logistic.fit(x, train[ACTUAL_BUYER])
            caught = sorted({str(w.message).splitlines()[0] for w in seen})
        widest = train[HORIZON] == train[HORIZON].max()
        return PurchaseModels(
            config=self.config,
            regressor=self.regressor.best_pipeline(),
            classifier=self.classifier.best_pipeline(),
            linear_regressor=linear,
            logistic=logistic,
            mean_rate_per_day=float(train[ACTUAL_ORDERS].sum() / train[HORIZON].sum()),
            base_buy_rate=float(train.loc[widest, ACTUAL_BUYER].mean()),
            regressor_curves=self.regressor.curves_,
            classifier_curves=self.classifier.curves_,
            best_epochs=(self.regressor.best_epoch_, self.classifier.best_epoch_),
            epochs_run=(self.regressor.epochs_run_, self.classifier.epochs_run_),
            stopped=self.stopped,
            train_seconds=self.seconds,
            warnings=tuple(caught),
        )


def train_purchase_models(
    data: PurchaseData,
    config: NetworkConfig,
    *,
    on_epoch: Callable[[PurchaseProgress], bool | None] | None = None,
) -> PurchaseModels:
    """Train both networks to the end (or until ``on_epoch`` returns False) and the baselines."""
    training = PurchaseTraining(data, config)
    training.run(on_epoch)
    return training.finish()


# --- predictions and evaluation -----------------------------------------------------------


def predict_all(models: PurchaseModels, table: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """Every model's predicted orders and buy probability for the users of ``table``.

    Returns:
        one row per user; columns ``<model>_orders`` and ``<model>_probability``.
    """
    x = table[list(models.regressor.feature_names_in_)]
    tenure = table[feat.TENURE].clip(lower=1.0)
    past_rate = table[feat.ORDERS] / tenure * horizon_days
    scores = {
        MLP: (_mlp_orders(models.regressor, table), models.classifier.predict_proba(x)[:, 1]),
        BGNBD_NAME: (table[BGNBD_EXPECTED].to_numpy(), _poisson_any(table[BGNBD_EXPECTED])),
        PAST_RATE: (past_rate.to_numpy(), _poisson_any(past_rate)),
        LINEAR: (
            np.clip(models.linear_regressor.predict(x), 0, None),
            _logistic_probability(models, x),
        ),
        MEAN: (
            np.full(len(table), models.mean_rate_per_day * horizon_days),
            np.full(len(table), models.base_buy_rate),
        ),
        ZERO: (np.zeros(len(table)), np.zeros(len(table))),
    }
    columns = {}
    for name, (orders, probability) in scores.items():
        columns[f"{name}_orders"] = np.asarray(orders, dtype=float)
        columns[f"{name}_probability"] = np.asarray(probability, dtype=float)
    return pd.DataFrame(columns, index=table.index)


def _mlp_orders(regressor: Pipeline, table: pd.DataFrame) -> np.ndarray:
    """BG/NBD's expectation plus the regressor's learned correction."""
    x = table[list(regressor.feature_names_in_)]
    return np.clip(table[BGNBD_EXPECTED].to_numpy() + regressor.predict(x), 0, None)


def _poisson_any(expected: pd.Series) -> np.ndarray:
    """P(at least one order) if orders were Poisson with this mean."""
    return 1.0 - np.exp(-np.clip(np.asarray(expected, dtype=float), 0, None))


def _logistic_probability(models: PurchaseModels, x: pd.DataFrame) -> np.ndarray:
    if hasattr(models.logistic, "classes_"):
        return models.logistic.predict_proba(x)[:, 1]
    return np.full(len(x), models.base_buy_rate)


@dataclass(frozen=True)
class PurchaseEvaluation:
    """Scores of every model on the evaluation window [t, t + H).

    Attributes:
        scores: one row per model (index: model name), regression and classification scores.
        users: per user: actual orders, actual buyer, each model's predictions, key features.
        importance: permutation importance of the MLP regressor's inputs (increase in MSE).
    """

    scores: pd.DataFrame
    users: pd.DataFrame
    importance: pd.DataFrame


def evaluate_purchase_models(
    models: PurchaseModels,
    data: PurchaseData,
    *,
    importance_rows: int = 3000,
    random_state: int = 0,
) -> PurchaseEvaluation:
    """Score every model on the evaluation users, and the MLP's permutation importance."""
    table = data.evaluation
    predictions = predict_all(models, table, data.horizon_days)
    actual_orders = table[ACTUAL_ORDERS].to_numpy()
    actual_buyer = table[ACTUAL_BUYER].to_numpy()
    rows = {}
    for name in MODEL_NAMES:
        rows[name] = {
            **regression_scores(actual_orders, predictions[f"{name}_orders"]),
            **classification_scores(actual_buyer, predictions[f"{name}_probability"]),
        }
    scores = pd.DataFrame.from_dict(rows, orient="index").rename_axis(MODEL)
    users = pd.concat(
        [table[[ACTUAL_ORDERS, ACTUAL_BUYER]], predictions, table[list(data.feature_names)]], axis=1
    )
    return PurchaseEvaluation(
        scores, users, _importance(models, table, data, importance_rows, random_state)
    )


def _importance(
    models: PurchaseModels, table: pd.DataFrame, data: PurchaseData, rows: int, seed: int
) -> pd.DataFrame:
    """How much the MLP's order MSE grows when one input is shuffled (BG/NBD's expectation,
    which the prediction builds on, is shuffled as an input and as the base alike)."""
    sample = table.sample(min(rows, len(table)), random_state=seed)
    x = sample[list(data.feature_names)]

    def negative_mse(regressor: Pipeline, inputs: pd.DataFrame, actual: pd.Series) -> float:
        return -float(np.mean((actual.to_numpy() - _mlp_orders(regressor, inputs)) ** 2))

    result = permutation_importance(
        models.regressor,
        x,
        sample[ACTUAL_ORDERS],
        scoring=negative_mse,
        n_repeats=5,
        random_state=seed,
    )
    return pd.DataFrame(
        {
            "feature": list(data.feature_names),
            "mse_increase": result.importances_mean,
            "std": result.importances_std,
        }
    ).sort_values("mse_increase", ascending=False, ignore_index=True)


def predict_next_orders(models: PurchaseModels, data: PurchaseData) -> pd.DataFrame:
    """Deployment: every user's expected orders and buy probability in the H days after the
    data ends, from features at the end of the data."""
    table = data.deployment
    x = table[list(data.feature_names)]
    return pd.DataFrame(
        {
            PREDICTED: _mlp_orders(models.regressor, table),
            PROBABILITY: models.classifier.predict_proba(x)[:, 1],
            BGNBD_EXPECTED: table[BGNBD_EXPECTED],
            feat.ORDERS: table[feat.ORDERS],
            feat.SINCE_ORDER: table[feat.SINCE_ORDER],
        },
        index=table.index,
    ).sort_values(PREDICTED, ascending=False)


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
