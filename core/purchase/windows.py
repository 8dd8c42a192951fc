"""The time split of purchase prediction: per-user feature tables for training windows, the
evaluation window and deployment.

Protocol: the model is scored on features at the cutoff t against the real window [t, t + H).
Training examples are stacked from earlier windows: features at d and the orders in
[d, d + h) with h = min(H, t - d), so every label window ends on or before t. The window
length h is an input, and so is the BG/NBD expectation for it, fitted on orders before d only.

BG/NBD counts purchase days (several orders on one day are one transaction), while orders are
what is predicted and scored; as a baseline its expectation is scaled to orders by the
customer's orders per purchase day before d (see ``OrderScale``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Final

import numpy as np
import pandas as pd

from core import schema
from core.errors import CutoffError
from core.ml.bgnbd import BGNBD, FREQUENCY, RECENCY, T_COLUMN, rfm_summary
from core.ml.timesplit import data_end_of
from core.params import MAX_USERS
from core.purchase import features as feat

HORIZON: Final = "horizon_days"
# BG/NBD's expectation in its own unit, purchase days: the MLP's input and the base it corrects
# (the column keeps the name the networks of saved runs were trained on).
BGNBD_EXPECTED: Final = "bgnbd_expected_orders"
# The inputs the window tables add to the user features, labelled like them.
INPUT_LABELS: Final[Mapping[str, tuple[str, str]]] = {
    **feat.FEATURE_LABELS,
    HORIZON: (
        "Days predicted",
        "Length of the window the prediction is for (H, shorter for late training windows).",
    ),
    BGNBD_EXPECTED: (
        "BG/NBD expected purchase days",
        "Purchase days the BG/NBD model expects from the user in the window; the network "
        "learns what to add to it.",
    ),
}
# Orders per purchase day that turn it into expected orders (not an input of the networks).
BGNBD_SCALE: Final = "bgnbd_orders_per_day"
ACTUAL_ORDERS: Final = "actual_orders"
ACTUAL_BUYER: Final = "actual_buyer"
WINDOW_START: Final = "window_start"
PREDICTED: Final = "predicted_orders"
PROBABILITY: Final = "buy_probability"
MODEL: Final = "model"


# Training windows at most, each one H/8 days before the next.
MAX_WINDOWS: Final = 16
# The per-user features at a date (index ``user_id`` as text), as ``features.user_features``.
FeaturesAt = Callable[[pd.Timestamp], pd.DataFrame]

_BGNBD_UNIT_DAYS: Final = 7.0
_BGNBD_MAX_CUSTOMERS: Final = 30_000
_MIN_HISTORY_DAYS: Final = 14
# Purchase days a customer needs before their own orders per purchase day scales BG/NBD: with
# three (two repeat days) a habit of several orders a day shows; one or two busy days do not.
_OWN_SCALE_MIN_DAYS: Final = 3
# Columns of the window tables that are not model inputs.
_NOT_INPUTS: Final = (ACTUAL_ORDERS, ACTUAL_BUYER, WINDOW_START, BGNBD_SCALE)


@dataclass(frozen=True)
class OrderScale:
    """How BG/NBD's expected purchase days became expected orders at one date.

    A customer who bought on at least ``min_days`` days before the date is scaled by their
    own orders per purchase day; everyone else by the ratio pooled over every customer (all
    orders / all purchase days), one or two days being too little history for a ratio.

    Attributes:
        pooled: orders per purchase day over every customer before the date (1 or more).
        own_customers: customers scaled by their own ratio.
        pooled_customers: customers with orders but fewer purchase days, scaled by ``pooled``.
        min_days: the purchase days a customer needs for their own ratio.
    """

    pooled: float = 1.0
    own_customers: int = 0
    pooled_customers: int = 0
    min_days: int = _OWN_SCALE_MIN_DAYS

    def describe(self) -> str:
        """The scale in one sentence."""
        return (
            f"the own orders per purchase day of the {self.own_customers:,} customers who "
            f"bought on at least {self.min_days} days, and {self.pooled:.3f} orders per "
            f"purchase day (pooled over all customers) for the other {self.pooled_customers:,}"
        )


@dataclass(frozen=True)
class UserSample:
    """Which users the tables hold: every user, or a random sample of them.

    Attributes:
        max_users: the most users asked for (``None``: every user).
        drawn: users the tables were built on (all of them when no sample was drawn).
        total: users in the data.
        random_state: the seed that drew them (and the training rows above the row limit).
    """

    max_users: int | None = None
    drawn: int = 0
    total: int = 0
    random_state: int = 0

    @property
    def sampled(self) -> bool:
        """Only part of the users were drawn."""
        return self.drawn < self.total

    @property
    def limit(self) -> int | None:
        """The users drawn when only part of them were, else ``None`` (every user)."""
        return self.drawn if self.sampled else None

    def matches(self, max_users: int | None, random_state: int) -> bool:
        """Tables of the same data asked for ``max_users`` users drawn with ``random_state``
        would hold these users."""
        if max_users is None or max_users >= self.total:
            return not self.sampled
        return self.drawn == max_users and self.random_state == random_state

    def describe(self) -> str:
        """What the sample means for the results, in plain words (empty without a sample)."""
        if not self.sampled:
            return ""
        return (
            f"Trained and scored on a random {self.drawn:,} of the {self.total:,} users, as "
            f"{MAX_USERS.label} asks; predictions are for them only. To use every user, set "
            f"{MAX_USERS.label} to {self.total:,} or more (on the command line, leave out "
            "--max-users)."
        )


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
        order_scale: how BG/NBD's purchase days were scaled to orders at the cutoff (each
            table's ``bgnbd_orders_per_day`` holds the factor used for each user).
        left_out: inputs the data cannot have, left out of every table (e.g. days since the
            last view on orders-only data).
        user_sample: the users the tables hold (a random sample above ``max_users``).
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
    order_scale: OrderScale = field(default_factory=OrderScale)
    left_out: tuple[str, ...] = ()
    user_sample: UserSample = field(default_factory=UserSample)


def build_purchase_data(
    events: pd.DataFrame,
    products: pd.DataFrame | None = None,
    *,
    cutoff: pd.Timestamp | None = None,
    horizon_days: int = 30,
    max_windows: int = MAX_WINDOWS,
    max_train_rows: int = 300_000,
    random_state: int = 0,
    inputs: tuple[str, ...] | None = None,
    max_users: int | None = None,
    features_at: FeaturesAt | None = None,
) -> PurchaseData:
    """Build training windows, the evaluation table at the cutoff and the deployment table.

    The inputs are decided once, from the event types of the whole data: those it cannot have
    (``features.unusable_features``) are left out of every table. ``inputs`` asks for a given
    list instead (a saved run's own), computed whatever the event types.

    With more users than ``max_users``, every table is built on that many users drawn at
    random with ``random_state`` (the dates still come from the whole data), so every model
    is trained and scored on the same users; ``user_sample`` says how many of how many, and
    a warning says it to the user.

    ``features_at`` gives the per-user features at a date when they were computed elsewhere
    (the feature job's tables of the same data); otherwise they are computed here. Either
    way each table holds the users of the events, in the same order.

    Raises:
        CutoffError: when the cutoff leaves no full horizon after it or no history before it.
    """
    if horizon_days < 1:
        raise CutoffError(f"The horizon must be at least 1 day (got {horizon_days}).")
    prepared = feat.prepare_events(events, products)
    if not (prepared[schema.EVENT_TYPE] == schema.PURCHASE).any():
        raise CutoffError(
            "The data has no purchases, so there is nothing to predict; load "
            "events that include purchases or orders."
        )
    start = prepared[schema.TIMESTAMP].min().normalize()
    end = data_end_of(prepared)
    types = feat.event_types_of(prepared) if inputs is None else schema.EVENT_TYPES
    prepared, drawn, total = feat.draw_users(prepared, max_users, random_state=random_state)
    sample = UserSample(max_users, drawn, total, random_state)
    orders = feat.extract_orders(prepared)
    if orders.empty:
        raise CutoffError(
            f"None of the {drawn:,} users drawn at random of {total:,} has a purchase; raise "
            f"{MAX_USERS.label}."
        )
    t, windows = purchase_dates(start, end, cutoff, horizon_days, max_windows)
    failed: dict[pd.Timestamp, str] = {}
    scales: dict[pd.Timestamp, OrderScale] = {}
    users_at: FeaturesAt = (
        partial(feat.user_features, prepared, orders, event_types=types)
        if features_at is None
        else partial(_of_users, features_at, prepared[schema.USER_ID].cat.categories)
    )
    table = partial(_window_table, users_at, orders, failed=failed, scales=scales)
    parts = [table(at, days) for at, days in windows]
    train = pd.concat(parts, ignore_index=False)
    # A window before the first priced purchase has no spend columns: nothing was spent yet.
    lacking = [c for c in train.columns if any(c not in part.columns for part in parts)]
    train[lacking] = train[lacking].fillna(0.0)
    if len(train) > max_train_rows:
        train = train.sample(max_train_rows, random_state=random_state)
    evaluation = table(t, horizon_days)
    deployment = table(end, horizon_days, labels=False)
    names = tuple(c for c in evaluation.columns if c not in _NOT_INPUTS)
    if inputs is not None and set(inputs) <= set(names):
        names = tuple(inputs)  # otherwise the run's check names what this version cannot build
    keep = [*names, *(c for c in evaluation.columns if c in _NOT_INPUTS)]
    evaluation = evaluation[keep]
    deployment = deployment[[c for c in keep if c in deployment.columns]]
    train = train.reindex(columns=[*names, *_NOT_INPUTS], fill_value=0.0)
    return PurchaseData(
        t,
        horizon_days,
        names,
        train,
        evaluation,
        deployment,
        end,
        windows,
        tuple(filter(None, (sample.describe(), *_bgnbd_warnings(failed, t, len(windows) + 2)))),
        scales[t],
        feat.unusable_features(types),
        sample,
    )


def input_label(name: str) -> str:
    """The plain label of a model input (a readable form of the name for one this version
    does not know, e.g. from an older run)."""
    known = INPUT_LABELS.get(name)
    return known[0] if known else name.replace("_", " ").strip().capitalize()


def input_help(name: str) -> str:
    """One sentence on what a model input is (empty for one this version does not know)."""
    known = INPUT_LABELS.get(name)
    return known[1] if known else ""


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


def purchase_dates(
    start: pd.Timestamp,
    end: pd.Timestamp,
    cutoff: pd.Timestamp | None,
    horizon_days: int,
    max_windows: int = MAX_WINDOWS,
) -> tuple[pd.Timestamp, tuple[tuple[pd.Timestamp, int], ...]]:
    """The evaluation date and the training windows (start, length in days) of data from
    the midnight ``start`` to the exclusive midnight ``end``: windows start every H/8 days
    (at least 1) before the cutoff, newest first, after at least 14 days of history.

    Raises:
        CutoffError: when the cutoff leaves no full horizon after it, no history before it or
            no room for a training window.
    """
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
    return t, tuple(windows)


def _of_users(features_at: FeaturesAt, users: pd.Index, at: pd.Timestamp) -> pd.DataFrame:
    """The rows of ``users`` (in their order) in the features at ``at`` computed elsewhere."""
    table = features_at(at)
    return table.loc[users[users.isin(table.index)]]


def _window_table(
    features_at: FeaturesAt,
    orders: pd.DataFrame,
    at: pd.Timestamp,
    days: int,
    *,
    failed: dict[pd.Timestamp, str],
    scales: dict[pd.Timestamp, OrderScale],
    labels: bool = True,
) -> pd.DataFrame:
    table = features_at(at)
    table[HORIZON] = float(days)
    expected, problem = _bgnbd_expected(orders, at, days)
    if problem is not None:
        failed[at] = problem
    table[BGNBD_EXPECTED] = expected.reindex(table.index).fillna(0.0)
    per_day, scales[at] = orders_per_purchase_day(orders, at)
    table[BGNBD_SCALE] = per_day.reindex(table.index).fillna(scales[at].pooled)
    if labels:
        counts = feat.count_orders(orders, at, at + pd.Timedelta(days=days))
        table[ACTUAL_ORDERS] = counts.reindex(table.index).fillna(0).astype(float)
        table[ACTUAL_BUYER] = (table[ACTUAL_ORDERS] > 0).astype(int)
        table[WINDOW_START] = at
    return table


def bgnbd_orders(table: pd.DataFrame) -> np.ndarray:
    """BG/NBD's expected orders per user of a window table: its expected purchase days times
    the user's orders per purchase day."""
    return table[BGNBD_EXPECTED].to_numpy() * table[BGNBD_SCALE].to_numpy()


def describe_bgnbd(data: PurchaseData) -> str:
    """BG/NBD's expectation for the evaluation window in its own unit (purchase days) and in
    the orders it is scored on, with the scale used, in one sentence (empty when BG/NBD
    expects nothing, e.g. when it could not be fitted)."""
    table = data.evaluation
    days = float(table[BGNBD_EXPECTED].sum())
    if days <= 0:
        return ""
    orders = float(bgnbd_orders(table).sum())
    return (
        f"BG/NBD counts purchase days, so several orders on one day count once: it expects "
        f"{days:,.1f} purchase days from these users in the {data.horizon_days} days after "
        f"the cutoff, which is {orders:,.1f} orders once scaled by "
        f"{data.order_scale.describe()}, counted before the cutoff. Its orders are what is "
        "scored."
    )


def orders_per_purchase_day(orders: pd.DataFrame, at: pd.Timestamp) -> tuple[pd.Series, OrderScale]:
    """The factor from purchase days to orders for each customer with an order before ``at``
    (see ``OrderScale``), indexed by user id as text, and the scale in summary.

    Purchase days are calendar days, as BG/NBD counts them (``rfm_summary``).
    """
    past = orders[(orders[schema.TIMESTAMP] < at).to_numpy()]
    users = past[schema.USER_ID].astype("str").to_numpy()
    days = past[schema.TIMESTAMP].dt.floor("D").to_numpy()
    per_user = pd.DataFrame({"user": users, "day": days})
    order_count = per_user.groupby("user").size()
    day_count = per_user.drop_duplicates().groupby("user").size().reindex(order_count.index)
    if order_count.empty:
        return pd.Series(dtype="float64"), OrderScale()
    pooled = float(order_count.sum() / day_count.sum())
    own = day_count >= _OWN_SCALE_MIN_DAYS
    factor = (order_count / day_count).where(own, pooled).astype("float64")
    return factor, OrderScale(pooled, int(own.sum()), int((~own).sum()))


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
