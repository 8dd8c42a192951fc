"""Purchase prediction: how many orders will each customer place in the next H days, and who
will buy at all; MLPs beside honest baselines, evaluated on a time split."""

from __future__ import annotations

from core.purchase.evaluation import (
    BGNBD_ORDERS,
    REPORTED_SCORES,
    PurchaseEvaluation,
    evaluate_purchase_models,
    predict_all,
    predict_next_orders,
)
from core.purchase.models import (
    BGNBD_NAME,
    LINEAR,
    MEAN,
    MODEL_LABELS,
    MODEL_NAMES,
    PAST_RATE,
    ZERO,
    PurchaseModels,
    PurchaseTraining,
    train_purchase_models,
)
from core.purchase.windows import (
    ACTUAL_BUYER,
    ACTUAL_ORDERS,
    BGNBD_EXPECTED,
    BGNBD_SCALE,
    HORIZON,
    INPUT_LABELS,
    PREDICTED,
    PROBABILITY,
    WINDOW_START,
    PurchaseData,
    build_purchase_data,
    describe_bgnbd,
    input_help,
    input_label,
)

__all__ = [
    "HORIZON",
    "BGNBD_EXPECTED",
    "BGNBD_SCALE",
    "BGNBD_ORDERS",
    "ACTUAL_ORDERS",
    "ACTUAL_BUYER",
    "WINDOW_START",
    "PREDICTED",
    "PROBABILITY",
    "PurchaseData",
    "build_purchase_data",
    "describe_bgnbd",
    "INPUT_LABELS",
    "input_label",
    "input_help",
    "BGNBD_NAME",
    "PAST_RATE",
    "LINEAR",
    "MEAN",
    "ZERO",
    "MODEL_NAMES",
    "MODEL_LABELS",
    "PurchaseModels",
    "PurchaseTraining",
    "train_purchase_models",
    "REPORTED_SCORES",
    "predict_all",
    "PurchaseEvaluation",
    "evaluate_purchase_models",
    "predict_next_orders",
]
