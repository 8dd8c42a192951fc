"""Events, orders, revenue and users per day, week or month, and the weekday x hour heatmap."""

from __future__ import annotations

from typing import Unpack

import numpy as np
import pandas as pd

from core.data.orders import DAY_NS
from core.overview.arrays import (
    _Arrays,
    _between,
    _bounds,
    _bucket_range,
    _bucket_starts,
    _buckets,
    _distinct_pairs,
    _extract_orders,
    _index_events,
    _sums,
)
from core.overview.columns import (
    _K_OTHER,
    _K_PURCHASE,
    _KIND_INDEX,
    ACTIVE_USERS,
    BUYERS,
    HOUR_NS,
    ORDERS,
    REVENUE,
    WEEKDAYS,
    Freq,
    Period,
)

# --- trends --------------------------------------------------------------------------------


def _event_trends(a: _Arrays, freq: Freq, start: int, end: int) -> pd.DataFrame:
    p = a.take(_between(a.times, start, end))
    buckets, first, count = _bucket_range(p, freq, start, end)
    index = _bucket_starts(np.arange(first, first + count, dtype=np.int64), freq)
    frame = pd.DataFrame(index=index)
    n_types = len(a.labels.types)
    typed = p.types >= 0
    counts = np.bincount(
        buckets[typed] * n_types + p.types[typed], minlength=count * n_types
    ).reshape(count, n_types)
    present = counts.sum(axis=0) > 0
    names = [str(x) for x in a.labels.types]
    order = sorted(
        np.flatnonzero(present),
        key=lambda code: (_KIND_INDEX.get(names[code], _K_OTHER), names[code]),
    )
    for code in order:
        frame[names[code]] = counts[:, code]
    bought = np.flatnonzero(p.kinds == _K_PURCHASE)
    orders = _extract_orders(p)
    order_buckets = _buckets(orders.times, freq) - first
    frame[ORDERS] = np.bincount(order_buckets, minlength=count)[:count]
    values = p.line_values(bought)
    priced = np.isfinite(values)
    frame[REVENUE] = (
        _sums(buckets[bought][priced], values[priced], count) if a.has_prices else np.nan
    )
    pairs = _distinct_pairs(buckets, p.users, a.n_users)
    frame[ACTIVE_USERS] = np.bincount(pairs // max(a.n_users, 1), minlength=count)[:count]
    pairs = _distinct_pairs(buckets[bought], p.users[bought], a.n_users)
    frame[BUYERS] = np.bincount(pairs // max(a.n_users, 1), minlength=count)[:count]
    return frame.reset_index()


def event_trends(
    events: pd.DataFrame,
    *,
    freq: Freq = "D",
    **period: Unpack[Period],
) -> pd.DataFrame:
    """Activity per day, Monday-based week or calendar month.

    Returns:
        one row per period from ``start`` to ``end`` (empty periods included): ``period``
        (start), one column of event counts per event type (named by the type: ``view``,
        ``cart``, ..., then other types), ``orders`` (by their first line), ``revenue`` (NaN
        without prices), ``active_users`` and ``buyers`` (distinct users in the period).
    """
    a = _index_events(events, None)
    s, e = _bounds(a, period)
    return _event_trends(a, freq, s, e)


def _heatmap(a: _Arrays) -> pd.DataFrame:
    hours = (a.times // HOUR_NS) % 24
    weekdays = (a.times // DAY_NS + 3) % 7  # Monday = 0
    return _heatmap_frame(np.bincount(weekdays * 24 + hours, minlength=7 * 24))


def _heatmap_frame(counts: np.ndarray) -> pd.DataFrame:
    """The heatmap from the events of each (weekday, hour), at ``weekday * 24 + hour``."""
    return pd.DataFrame(
        counts.reshape(7, 24),
        index=pd.Index(WEEKDAYS, name="weekday"),
        columns=pd.RangeIndex(24, name="hour"),
    )


def hour_weekday_heatmap(events: pd.DataFrame) -> pd.DataFrame:
    """Event counts by weekday (rows Monday..Sunday) and hour of day (columns 0..23), in the
    time zone of the data (UTC for loaded exports)."""
    return _heatmap(_index_events(events, None))
