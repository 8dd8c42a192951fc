"""Model scores; thin wrappers over ``sklearn.metrics`` with the units stated.

Names follow sklearn: ``*_score`` is higher-is-better, ``*_error`` / ``*_loss`` lower-is-better.
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm


def regression_scores(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """MSE, RMSE, MAE (in orders), R² and the predicted and actual totals (orders)."""
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    mse = float(skm.mean_squared_error(actual, predicted))
    return {
        "mse": mse,
        "rmse": float(np.sqrt(mse)),
        "mae": float(skm.mean_absolute_error(actual, predicted)),
        "r2": float(skm.r2_score(actual, predicted)) if len(actual) > 1 else float("nan"),
        "total_predicted": float(predicted.sum()),
        "total_actual": float(actual.sum()),
    }


def classification_scores(actual: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    """Accuracy, precision, recall, F1 (at probability 0.5), ROC-AUC, PR-AUC and log-loss.

    ROC-AUC and PR-AUC are NaN when the actual labels hold a single class.
    """
    actual = np.asarray(actual, dtype=int)
    probability = np.clip(np.asarray(probability, dtype=float), 0.0, 1.0)
    predicted = (probability >= 0.5).astype(int)
    both = len(np.unique(actual)) == 2
    return {
        "accuracy": float(skm.accuracy_score(actual, predicted)),
        "precision": float(skm.precision_score(actual, predicted, zero_division=0)),
        "recall": float(skm.recall_score(actual, predicted, zero_division=0)),
        "f1": float(skm.f1_score(actual, predicted, zero_division=0)),
        "roc_auc": float(skm.roc_auc_score(actual, probability)) if both else float("nan"),
        "pr_auc": float(skm.average_precision_score(actual, probability)) if both else float("nan"),
        "log_loss": float(skm.log_loss(actual, probability, labels=[0, 1])),
    }


def cumulative_gain(
    actual: np.ndarray, score: np.ndarray, points: int = 101
) -> tuple[np.ndarray, np.ndarray]:
    """Share of all positives found in the top x share of users ranked by ``score``.

    Returns:
        (share of users 0..1, share of positives 0..1), ``points`` long each.
    """
    actual = np.asarray(actual, dtype=float)
    order = np.argsort(-np.asarray(score, dtype=float), kind="stable")
    found = np.concatenate([[0.0], np.cumsum(actual[order])])
    total = found[-1] if found[-1] > 0 else 1.0
    share_users = np.linspace(0, 1, points)
    positions = np.round(share_users * len(actual)).astype(int)
    return share_users, found[positions] / total
