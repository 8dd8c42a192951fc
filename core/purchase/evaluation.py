"""Every purchase model's predictions and scores on the evaluation window, and deployment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline

from core.ml import metrics
from core.ml.metrics import classification_scores, regression_scores
from core.purchase import features as feat
from core.purchase.models import (
    BGNBD_NAME,
    LINEAR,
    MEAN,
    MLP,
    MODEL_NAMES,
    PAST_RATE,
    ZERO,
    PurchaseModels,
)
from core.purchase.windows import (
    ACTUAL_BUYER,
    ACTUAL_ORDERS,
    BGNBD_EXPECTED,
    BGNBD_SCALE,
    MODEL,
    PREDICTED,
    PROBABILITY,
    PurchaseData,
    bgnbd_orders,
)

# BG/NBD's expected orders (purchase days scaled), as in every model's ``<model>_orders``.
BGNBD_ORDERS: Final = f"{BGNBD_NAME}_orders"

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


# --- predictions and evaluation -----------------------------------------------------------


def predict_all(models: PurchaseModels, table: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """Every model's predicted orders and buy probability for the users of ``table``.

    BG/NBD's orders are its expected purchase days scaled by each user's orders per purchase
    day (``OrderScale``), so every model is scored in orders.

    Returns:
        one row per user; columns ``<model>_orders`` and ``<model>_probability``.
    """
    x = table[list(models.regressor.feature_names_in_)]
    tenure = table[feat.TENURE].clip(lower=1.0)
    past_rate = table[feat.ORDERS] / tenure * horizon_days
    scores = {
        MLP: (_mlp_orders(models.regressor, table), models.classifier.predict_proba(x)[:, 1]),
        # Orders are purchase days times orders per purchase day; buying at all is buying on
        # at least one day, so the probability stays with the purchase days.
        BGNBD_NAME: (bgnbd_orders(table), _poisson_any(table[BGNBD_EXPECTED])),
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
        users: per user: actual orders, actual buyer, each model's predictions, the inputs
            (BG/NBD's expected purchase days among them) and BG/NBD's orders per purchase day.
        importance: permutation importance of the MLP regressor's inputs (increase in MSE).
        left_out: inputs the data cannot have, so none of the models uses them (e.g. days
            since the last view on orders-only data).
    """

    scores: pd.DataFrame
    users: pd.DataFrame
    importance: pd.DataFrame
    left_out: tuple[str, ...] = ()


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
        [
            table[[ACTUAL_ORDERS, ACTUAL_BUYER]],
            predictions,
            table[[*data.feature_names, BGNBD_SCALE]],
        ],
        axis=1,
    )
    return PurchaseEvaluation(
        scores,
        users,
        _importance(models, table, data, importance_rows, random_state),
        tuple(name for name in data.left_out if name not in data.feature_names),
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
    data ends, from features at the end of the data, beside BG/NBD's expectation in purchase
    days, the orders per purchase day and its expectation in orders."""
    table = data.deployment
    x = table[list(data.feature_names)]
    return pd.DataFrame(
        {
            PREDICTED: _mlp_orders(models.regressor, table),
            PROBABILITY: models.classifier.predict_proba(x)[:, 1],
            BGNBD_EXPECTED: table[BGNBD_EXPECTED],
            BGNBD_SCALE: table[BGNBD_SCALE],
            BGNBD_ORDERS: bgnbd_orders(table),
            feat.ORDERS: table[feat.ORDERS],
            feat.SINCE_ORDER: table[feat.SINCE_ORDER],
        },
        index=table.index,
    ).sort_values(PREDICTED, ascending=False)
