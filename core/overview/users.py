"""The users behind a selection: a period and filters, a segment, a cohort or a funnel step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Unpack

import numpy as np
import pandas as pd

from core import schema
from core.overview.arrays import (
    _Arrays,
    _bounds,
    _buckets,
    _extract_orders,
    _first_per_key,
    _first_purchase,
    _first_seen,
    _index_events,
    _last_per_key,
    _ns,
    _selected_rows,
    _sums,
)
from core.overview.columns import (
    _K_CART,
    _K_PURCHASE,
    _K_VIEW,
    _NO_TIME,
    CARTS,
    DEFAULT_WINDOW_HOURS,
    ENTERED_AT,
    EVENTS,
    FIRST_EVENT,
    FURTHEST_STEP,
    HOUR_NS,
    LAST_EVENT,
    ORDERS,
    REVENUE,
    SEGMENT,
    VIEWS,
    Period,
    RetentionMetric,
    Selection,
    TimeLike,
)
from core.overview.funnel import _funnel_rows, _reach_funnel

# --- users behind a selection ----------------------------------------------------------------


def _user_table(a: _Arrays, rows: np.ndarray | None = None) -> pd.DataFrame:
    p = a if rows is None else a.take(rows)
    size = a.n_users
    counts = np.bincount(p.users, minlength=size)
    chosen = np.flatnonzero(counts > 0)
    first = np.full(size, 0, dtype=np.int64)
    last = np.full(size, 0, dtype=np.int64)
    keys, first_rows = _first_per_key(p.users)
    first[keys] = p.times[first_rows]
    keys, last_rows = _last_per_key(p.users)
    last[keys] = p.times[last_rows]
    bought = np.flatnonzero(p.kinds == _K_PURCHASE)
    values = p.line_values(bought)
    priced = np.isfinite(values)
    orders = _extract_orders(p)
    frame = pd.DataFrame(
        {
            schema.USER_ID: a.labels.users.to_numpy()[chosen],
            EVENTS: counts[chosen],
            VIEWS: np.bincount(p.users[p.kinds == _K_VIEW], minlength=size)[chosen],
            CARTS: np.bincount(p.users[p.kinds == _K_CART], minlength=size)[chosen],
            ORDERS: np.bincount(orders.users, minlength=size)[chosen],
            REVENUE: (
                _sums(p.users[bought][priced], values[priced], size)[chosen]
                if a.has_prices
                else np.nan
            ),
            FIRST_EVENT: first[chosen].view("datetime64[ns]"),
            LAST_EVENT: last[chosen].view("datetime64[ns]"),
        }
    )
    sort = [REVENUE, ORDERS, EVENTS] if a.has_prices else [ORDERS, EVENTS]
    return frame.sort_values(sort, ascending=False, kind="stable").reset_index(drop=True)


def users_in(
    events: pd.DataFrame, products: pd.DataFrame | None = None, **selection: Unpack[Selection]
) -> pd.DataFrame:
    """The users behind a selection (a category bar, a period, an event type), for a list or
    a CSV download.

    Returns:
        one row per user with a selected event: ``user_id``, ``events``, ``views``, ``carts``,
        ``orders``, ``revenue`` (NaN without prices), ``first_event`` and ``last_event`` (within
        the selection); biggest spenders first.

    Raises:
        MissingColumnsError: selecting categories or brands that the data does not have.
    """
    a = _index_events(events, products)
    return _user_table(a, _selected_rows(a, selection))


def users_in_segment(rfm: pd.DataFrame, segments: Sequence[str] | str) -> pd.DataFrame:
    """The rows of ``rfm_segments`` whose segment is among ``segments``."""
    wanted = [segments] if isinstance(segments, str) else list(segments)
    return rfm[rfm[SEGMENT].isin(wanted).to_numpy()].reset_index(drop=True)


def users_in_cohort(
    events: pd.DataFrame,
    *,
    cohort: TimeLike,
    months_since: int | None = None,
    metric: RetentionMetric = "active",
) -> pd.DataFrame:
    """The users of a cohort (the month of ``cohort``), or of one cell of ``cohort_retention``
    (those active, or buying, ``months_since`` months later); columns as ``users_in``. As in
    ``cohort_retention``, ``buying`` cohorts are of buyers by their first purchase."""
    a = _index_events(events, None)
    first_seen = _first_purchase(a) if metric == "buying" else _first_seen(a)
    month = int(_buckets(np.array([_ns(cohort)], dtype=np.int64), "M")[0])
    seen = first_seen != _NO_TIME
    members = np.zeros(a.n_users, dtype=bool)
    members[seen] = _buckets(first_seen[seen], "M") == month
    rows = members[a.users]
    if months_since is not None:
        rows &= _buckets(a.times, "M") == month + months_since
        if metric == "buying":
            rows &= a.kinds == _K_PURCHASE
    return _user_table(a, np.flatnonzero(rows))


def users_in_funnel(
    events: pd.DataFrame,
    *,
    step: str,
    dropped: bool = False,
    window_hours: float = DEFAULT_WINDOW_HOURS,
    **period: Unpack[Period],
) -> pd.DataFrame:
    """The users who reached ``step`` of ``compute_funnel`` (or, with ``dropped``, who reached
    the step before it but not it).

    Returns:
        ``user_id``, ``entered_at`` (their entry event) and ``furthest_step``, earliest entry
        first.

    Raises:
        ValueError: ``step`` is not a step of this data's funnel.
    """
    a = _index_events(events, None)
    s, e = _bounds(a, period)
    reach = _reach_funnel(_funnel_rows(a, s, e, int(window_hours * HOUR_NS)))
    if step not in reach.steps:
        raise ValueError(f"step must be one of {reach.steps}, got {step!r}")
    k = reach.steps.index(step)
    chosen = (reach.level == k) if dropped else (reach.level > k)
    if dropped and k == 0:
        chosen[:] = False
    rows = np.flatnonzero(chosen)
    frame = pd.DataFrame(
        {
            schema.USER_ID: a.labels.users.to_numpy()[reach.users[rows]],
            ENTERED_AT: reach.times[0][rows].view("datetime64[ns]"),
            FURTHEST_STEP: np.array(reach.steps, dtype=object)[reach.level[rows] - 1],
        }
    )
    return frame.sort_values(ENTERED_AT, kind="stable").reset_index(drop=True)
