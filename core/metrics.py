"""Model scores; thin wrappers over ``sklearn.metrics`` with the units stated.

Names follow sklearn: ``*_score`` is higher-is-better, ``*_error`` / ``*_loss`` lower-is-better.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from sklearn import metrics as skm

# Keys of the score dictionaries below.
MSE: Final = "mse"
RMSE: Final = "rmse"
MAE: Final = "mae"
R2: Final = "r2"
TOTAL_PREDICTED: Final = "total_predicted"
TOTAL_ACTUAL: Final = "total_actual"
ACCURACY: Final = "accuracy"
PRECISION: Final = "precision"
RECALL: Final = "recall"
F1: Final = "f1"
ROC_AUC: Final = "roc_auc"
PR_AUC: Final = "pr_auc"
LOG_LOSS: Final = "log_loss"


def regression_scores(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """MSE, RMSE, MAE (in orders), R² and the predicted and actual totals (orders)."""
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    mse = float(skm.mean_squared_error(actual, predicted))
    return {
        MSE: mse,
        RMSE: float(np.sqrt(mse)),
        MAE: float(skm.mean_absolute_error(actual, predicted)),
        R2: float(skm.r2_score(actual, predicted)) if len(actual) > 1 else float("nan"),
        TOTAL_PREDICTED: float(predicted.sum()),
        TOTAL_ACTUAL: float(actual.sum()),
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
        ACCURACY: float(skm.accuracy_score(actual, predicted)),
        PRECISION: float(skm.precision_score(actual, predicted, zero_division=0)),
        RECALL: float(skm.recall_score(actual, predicted, zero_division=0)),
        F1: float(skm.f1_score(actual, predicted, zero_division=0)),
        ROC_AUC: float(skm.roc_auc_score(actual, probability)) if both else float("nan"),
        PR_AUC: float(skm.average_precision_score(actual, probability)) if both else float("nan"),
        LOG_LOSS: float(skm.log_loss(actual, probability, labels=[0, 1])),
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
