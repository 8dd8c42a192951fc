"""The time split of purchase prediction: per-user feature tables for training windows, the
evaluation window and deployment.

Protocol: the model is scored on features at the cutoff t against the real window [t, t + H).
Training examples are stacked from earlier windows: features at d and the orders in
[d, d + h) with h = min(H, t - d), so every label window ends on or before t. The window
length h is an input, and so is the BG/NBD expectation for it, fitted on orders before d only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import pandas as pd

from core import schema
from core.errors import CutoffError
from core.ml.bgnbd import BGNBD, FREQUENCY, RECENCY, T_COLUMN, rfm_summary
from core.ml.timesplit import data_end_of
from core.purchase import features as feat

HORIZON: Final = "horizon_days"
BGNBD_EXPECTED: Final = "bgnbd_expected_orders"
ACTUAL_ORDERS: Final = "actual_orders"
ACTUAL_BUYER: Final = "actual_buyer"
WINDOW_START: Final = "window_start"
PREDICTED: Final = "predicted_orders"
PROBABILITY: Final = "buy_probability"
MODEL: Final = "model"


_BGNBD_UNIT_DAYS: Final = 7.0
_BGNBD_MAX_CUSTOMERS: Final = 30_000
_MIN_HISTORY_DAYS: Final = 14


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
        warnings: what the user should know about these tables, e.g. where BG/NBD could not
            be fitted (its expectation, an input and a baseline, is then 0 there).
    """

    cutoff: pd.Timestamp
    horizon_days: int
    feature_names: tuple[str, ...]
    train: pd.DataFrame
    evaluation: pd.DataFrame
    deployment: pd.DataFrame
    data_end: pd.Timestamp
    windows: tuple[tuple[pd.Timestamp, int], ...]
    warnings: tuple[str, ...] = ()


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
    failed: dict[pd.Timestamp, str] = {}
    parts = [_window_table(prepared, orders, at, days, failed) for at, days in windows]
    train = pd.concat(parts, ignore_index=False)
    if len(train) > max_train_rows:
        train = train.sample(max_train_rows, random_state=random_state)
    evaluation = _window_table(prepared, orders, t, horizon_days, failed)
    deployment = _window_table(prepared, orders, end, horizon_days, failed, labels=False)
    names = tuple(
        c for c in evaluation.columns if c not in (ACTUAL_ORDERS, ACTUAL_BUYER, WINDOW_START)
    )
    train = train.reindex(
        columns=[*names, ACTUAL_ORDERS, ACTUAL_BUYER, WINDOW_START], fill_value=0.0
    )
    return PurchaseData(
        t,
        horizon_days,
        names,
        train,
        evaluation,
        deployment,
        end,
        tuple(windows),
        _bgnbd_warnings(failed, t, len(windows) + 2),
    )


def _bgnbd_warnings(
    failed: dict[pd.Timestamp, str], cutoff: pd.Timestamp, tables: int
) -> tuple[str, ...]:
    """One sentence on where BG/NBD could not be fitted, or none."""
    if not failed:
        return ()
    where = (
        f"at the cutoff {cutoff:%Y-%m-%d}"
        if cutoff in failed
        else f"for {len(failed)} of {tables} dates"
    )
    reasons = "; ".join(sorted(set(failed.values())))
    return (
        f"BG/NBD could not be fitted {where} ({reasons}); its expected orders are 0 there, "
        "both as the MLP's input and as a baseline.",
    )


def _window_table(
    events: pd.DataFrame,
    orders: pd.DataFrame,
    at: pd.Timestamp,
    days: int,
    failed: dict[pd.Timestamp, str],
    *,
    labels: bool = True,
) -> pd.DataFrame:
    table = feat.user_features(events, orders, at)
    table[HORIZON] = float(days)
    expected, problem = _bgnbd_expected(orders, at, days)
    if problem is not None:
        failed[at] = problem
    table[BGNBD_EXPECTED] = expected.reindex(table.index).fillna(0.0)
    if labels:
        counts = feat.count_orders(orders, at, at + pd.Timedelta(days=days))
        table[ACTUAL_ORDERS] = counts.reindex(table.index).fillna(0).astype(float)
        table[ACTUAL_BUYER] = (table[ACTUAL_ORDERS] > 0).astype(int)
        table[WINDOW_START] = at
    return table


def fit_bgnbd(
    orders: pd.DataFrame, at: pd.Timestamp
) -> tuple[BGNBD | None, pd.DataFrame, str | None]:
    """BG/NBD fitted on the orders before ``at`` (time in weeks) and each customer's summary.

    Returns:
        the model (``None`` when it could not be fitted), the summary, and why it could not
        be fitted (no repeat purchase to learn from, or the fit failed), in a few words.
    """
    summary = rfm_summary(orders, at=at, unit_days=_BGNBD_UNIT_DAYS)
    if summary.empty or not (summary[FREQUENCY] > 0).any():
        return None, summary, f"no customer bought twice before {at:%Y-%m-%d}"
    sample = summary
    if len(summary) > _BGNBD_MAX_CUSTOMERS:  # population parameters: a sample suffices
        sample = summary.sample(_BGNBD_MAX_CUSTOMERS, random_state=0)
    try:
        model = BGNBD(penalizer=1e-6).fit(sample[FREQUENCY], sample[RECENCY], sample[T_COLUMN])
    except (ValueError, RuntimeError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:80]
        return None, summary, f"the fit failed: {first}"
    return model, summary, None


def _bgnbd_expected(
    orders: pd.DataFrame, at: pd.Timestamp, days: int
) -> tuple[pd.Series, str | None]:
    model, summary, problem = fit_bgnbd(orders, at)
    if model is None:
        return pd.Series(0.0, index=summary.index.astype("str")), problem
    expected = model.expected_purchases(
        days / _BGNBD_UNIT_DAYS, summary[FREQUENCY], summary[RECENCY], summary[T_COLUMN]
    )
    return pd.Series(expected, index=summary.index.astype("str")), None
