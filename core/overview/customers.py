"""Customers: RFM segments, new vs returning users and monthly cohort retention."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Unpack

import numpy as np
import pandas as pd

from core import schema
from core.data.orders import DAY_NS
from core.overview.arrays import (
    _Arrays,
    _between,
    _bounds,
    _bucket_range,
    _bucket_span,
    _bucket_starts,
    _buckets,
    _distinct_pairs,
    _extract_orders,
    _first_purchase,
    _first_seen,
    _index_events,
    _ns,
    _sums,
)
from core.overview.columns import (
    _K_PURCHASE,
    _NO_TIME,
    _QUINTILE_EDGES,
    ACTIVE_USERS,
    F_SCORE,
    FREQUENCY,
    M_SCORE,
    MONETARY,
    NEW_SHARE,
    NEW_USERS,
    R_SCORE,
    RECENCY_DAYS,
    RETURNING_USERS,
    REVENUE,
    REVENUE_SHARE,
    RF_GRID,
    SEGMENT,
    SEGMENTS,
    USER_SHARE,
    USERS,
    Freq,
    Period,
    RetentionMetric,
    TimeLike,
)


@dataclass(frozen=True)
class CohortTable:
    """Monthly acquisition cohorts.

    Attributes:
        shares: index ``cohort`` (month of the users' first event), columns ``0..K`` (months
            since acquisition); the share (0..1) of the cohort active (or buying) in that month.
            NaN for months after the data ends.
        sizes: users per cohort.
        metric: ``active`` (any event) or ``buying`` (a purchase).
    """

    shares: pd.DataFrame
    sizes: pd.Series
    metric: RetentionMetric


# --- customers -----------------------------------------------------------------------------


def _quintile_scores(values: np.ndarray) -> np.ndarray:
    """Scores 1..5 by quintile of rank, ties ranked first come first served.

    Matches ``pd.qcut(values.rank(method="first"), 5, labels=[1, 2, 3, 4, 5])``: with ranks
    ``1..n``, the quintile edges are ``1 + q (n - 1)``, bins closed on the right.
    """
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(values, kind="stable")] = np.arange(1, n + 1)
    edges = 1.0 + _QUINTILE_EDGES * (n - 1)
    return (np.searchsorted(edges, rank, side="left") + 1).astype(np.int8)


def _rfm(a: _Arrays, at: int) -> pd.DataFrame:
    orders = _extract_orders(a.take(slice(0, int(np.searchsorted(a.times, at, side="left")))))
    size = a.n_users
    counts = np.bincount(orders.users, minlength=size)
    last = np.full(size, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, orders.users, orders.times)
    buyers = np.flatnonzero(counts > 0)
    spend = _sums(orders.users, np.nan_to_num(orders.values), size)
    return _rfm_frame(
        a.labels.users.to_numpy()[buyers],
        counts[buyers],
        last[buyers],
        spend[buyers],
        at,
        has_prices=a.has_prices,
    )


def _rfm_frame(
    user_ids: np.ndarray,
    frequency: np.ndarray,
    last: np.ndarray,
    spend: np.ndarray,
    at: int,
    *,
    has_prices: bool,
) -> pd.DataFrame:
    """RFM scores from each buyer's orders, last order time (ns) and spend, buyers in user
    order."""
    recency = (at - last) / DAY_NS
    monetary = spend if has_prices else np.full(len(user_ids), np.nan)
    r_score = (6 - _quintile_scores(recency)).astype(np.int8)
    f_score = _quintile_scores(frequency)
    m_score = pd.array(
        _quintile_scores(monetary) if has_prices else np.full(len(user_ids), None), dtype="Int8"
    )
    grid = np.array(RF_GRID, dtype=object)
    segment = grid[r_score - 1, f_score - 1] if len(user_ids) else np.zeros(0, dtype=object)
    return pd.DataFrame(
        {
            schema.USER_ID: user_ids,
            RECENCY_DAYS: recency,
            FREQUENCY: frequency,
            MONETARY: monetary,
            R_SCORE: r_score,
            F_SCORE: f_score,
            M_SCORE: m_score,
            SEGMENT: pd.Categorical(segment, categories=list(SEGMENTS)),
        }
    )


def _default_at(a: _Arrays) -> int:
    """Midnight after the last event."""
    if not len(a):
        return 0
    return (int(a.times[-1]) // DAY_NS + 1) * DAY_NS


def rfm_segments(events: pd.DataFrame, *, at: TimeLike | None = None) -> pd.DataFrame:
    """Recency, frequency and monetary scores and named segments of every buyer.

    Orders before ``at`` count. Recency is the days from the last order to ``at``; frequency
    the number of orders; monetary the revenue of those orders. Each is scored 1..5 by
    quintile of its rank, ties ranked in user order ("rank first", as in the usual
    ``pd.qcut(x.rank(method="first"), 5)``): 5 is the most recent, most frequent, highest
    spending fifth. With fewer than five buyers the scores still follow the rank grid.

    The segment comes from the R and F scores through ``RF_GRID``, the widely used R/F map
    (Champions R5 F4-5; Loyal R3-4 F4-5; Potential loyalists R4-5 F2-3; New R5 F1; Promising
    R4 F1; Need attention R3 F3; About to sleep R3 F1-2; At risk R1-2 F3-4; Can't lose them
    R1-2 F5), whose Hibernating block (R1-2 F1-2) is split into Hibernating (R2) and Lost (R1).

    Args:
        events: canonical events.
        at: the reference time (default: midnight after the last event).

    Returns:
        one row per buyer: ``user_id``, ``recency_days``, ``frequency``, ``monetary`` (NaN
        without prices), ``r_score``, ``f_score``, ``m_score`` (missing without prices) and
        ``segment`` (categorical in the order of ``SEGMENTS``).
    """
    a = _index_events(events, None)
    return _rfm(a, _ns(at) if at is not None else _default_at(a))


def segment_summary(rfm: pd.DataFrame) -> pd.DataFrame:
    """Size and value of each RFM segment (every segment listed, best first).

    Returns:
        ``segment``, ``users``, ``user_share`` (0..1), ``revenue``, ``revenue_share`` (0..1,
        NaN without prices) and the segment's mean ``recency_days``, ``frequency`` and
        ``monetary``.
    """
    segments = pd.Categorical(rfm[SEGMENT], categories=list(SEGMENTS))
    grouped = rfm.assign(**{SEGMENT: segments}).groupby(SEGMENT, observed=False)
    users = grouped.size().to_numpy()
    revenue = grouped[MONETARY].sum(min_count=1).to_numpy()
    total_revenue = np.nansum(revenue)
    has_revenue = bool(rfm[MONETARY].notna().any())
    return pd.DataFrame(
        {
            SEGMENT: list(SEGMENTS),
            USERS: users,
            USER_SHARE: users / len(rfm) if len(rfm) else np.full(len(users), np.nan),
            REVENUE: np.where(users > 0, np.nan_to_num(revenue), 0.0) if has_revenue else np.nan,
            REVENUE_SHARE: (
                np.nan_to_num(revenue) / total_revenue
                if has_revenue and total_revenue > 0
                else np.nan
            ),
            RECENCY_DAYS: grouped[RECENCY_DAYS].mean().to_numpy(),
            FREQUENCY: grouped[FREQUENCY].mean().to_numpy(),
            MONETARY: grouped[MONETARY].mean().to_numpy(),
        }
    )


def _new_vs_returning(
    a: _Arrays, first_seen: np.ndarray, freq: Freq, start: int, end: int
) -> pd.DataFrame:
    p = a.take(_between(a.times, start, end))
    buckets, first, count = _bucket_range(p, freq, start, end)
    pairs = _distinct_pairs(buckets, p.users, a.n_users)
    size = max(a.n_users, 1)
    bucket, user = pairs // size, pairs % size
    seen = first_seen[user]
    first_bucket = _buckets(np.where(seen == _NO_TIME, 0, seen), freq) - first
    new = (seen != _NO_TIME) & (first_bucket == bucket)
    active = np.bincount(bucket, minlength=count)[:count]
    fresh = np.bincount(bucket[new], minlength=count)[:count]
    return _new_vs_returning_frame(active, fresh, freq, start, end)


def _new_vs_returning_frame(
    active: np.ndarray, fresh: np.ndarray, freq: Freq, start: int, end: int
) -> pd.DataFrame:
    """New vs returning users from the active and new users of each period of
    ``[start, end)``."""
    first, count = _bucket_span(freq, start, end)
    index = _bucket_starts(np.arange(first, first + count, dtype=np.int64), freq)
    frame = pd.DataFrame(
        {
            ACTIVE_USERS: active,
            NEW_USERS: fresh,
            RETURNING_USERS: active - fresh,
            NEW_SHARE: fresh / np.where(active > 0, active, np.nan),
        },
        index=index,
    )
    return frame.reset_index()


def new_vs_returning(
    events: pd.DataFrame,
    *,
    freq: Freq = "W",
    **period: Unpack[Period],
) -> pd.DataFrame:
    """Active users per period split into new (first event ever in that period) and returning.

    Returns:
        ``period``, ``active_users``, ``new_users``, ``returning_users`` and ``new_share``
        (0..1).
    """
    a = _index_events(events, None)
    s, e = _bounds(a, period)
    return _new_vs_returning(a, _first_seen(a), freq, s, e)


def _cohort_retention(
    a: _Arrays, first_seen: np.ndarray, metric: RetentionMetric, end: int
) -> CohortTable:
    if metric not in ("active", "buying"):
        raise ValueError(f"metric must be 'active' or 'buying', got {metric!r}")
    if metric == "buying":  # a buyer's cohort is the month of their first purchase
        first_seen = _first_purchase(a)
    p = a.take(slice(0, int(np.searchsorted(a.times, end, side="left"))))
    seen = first_seen < end
    if not seen.any() or not len(p):
        return _empty_cohorts(metric)
    month_of = np.full(len(first_seen), -1, dtype=np.int64)
    month_of[seen] = _buckets(first_seen[seen], "M")
    first_month = int(month_of[seen].min())
    last_month = int(_buckets(p.times[-1:], "M")[0])
    n_cohorts = max(last_month, int(month_of[seen].max())) - first_month + 1
    cohort = month_of - first_month
    rows = np.flatnonzero(p.kinds == _K_PURCHASE) if metric == "buying" else np.arange(len(p))
    users = p.users[rows]
    ok = month_of[users] >= 0
    users = users[ok]
    since = _buckets(p.times[rows][ok], "M") - month_of[users]
    pairs = _distinct_pairs(since, users, a.n_users)
    size = max(a.n_users, 1)
    since, user = pairs // size, pairs % size
    counts = np.bincount(cohort[user] * n_cohorts + since, minlength=n_cohorts * n_cohorts)
    sizes = np.bincount(cohort[seen], minlength=n_cohorts)
    return _cohort_frame(
        counts.reshape(n_cohorts, n_cohorts), sizes, first_month, last_month, metric
    )


def _empty_cohorts(metric: RetentionMetric) -> CohortTable:
    empty = pd.DataFrame(index=pd.DatetimeIndex([], name="cohort"))
    return CohortTable(empty, pd.Series([], dtype=np.int64, name=USERS), metric)


def _cohort_frame(
    counts: np.ndarray,
    sizes: np.ndarray,
    first_month: int,
    last_month: int,
    metric: RetentionMetric,
) -> CohortTable:
    """The cohort table from the users of each cohort (months since 1970, from
    ``first_month``) active in each month since acquisition, and the cohorts' sizes."""
    n_cohorts = n_months = len(sizes)
    observed = (np.arange(n_cohorts)[:, None] + np.arange(n_months)[None, :]) <= (
        last_month - first_month
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.where(observed, counts / sizes[:, None], np.nan)
    keep = sizes > 0
    index = _bucket_starts(np.arange(first_month, first_month + n_cohorts)[keep], "M")
    index.name = "cohort"
    return CohortTable(
        shares=pd.DataFrame(shares[keep], index=index, columns=pd.RangeIndex(n_months)),
        sizes=pd.Series(sizes[keep], index=index, name=USERS),
        metric=metric,
    )


def cohort_retention(events: pd.DataFrame, *, metric: RetentionMetric = "active") -> CohortTable:
    """Monthly acquisition cohorts by months since acquisition.

    For ``active``, a user's cohort is the calendar month of their first event and cell
    (cohort, k) is the share of the cohort with an event in calendar month cohort + k. For
    ``buying``, the cohorts are of buyers, by the month of their first purchase, and a cell is
    the share with a purchase in month cohort + k. Month 0 is 1 by definition either way;
    months after the data's last month are NaN.
    """
    a = _index_events(events, None)
    end = int(a.times[-1]) + 1 if len(a) else 0
    return _cohort_retention(a, _first_seen(a), metric, end)
