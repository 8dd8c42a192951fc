"""KPIs of a period against the previous one, the filter options and sessions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import schema
from core.ml.arrays import distinct
from core.overview.arrays import (
    _Arrays,
    _between,
    _bounds,
    _extract_orders,
    _first_per_key,
    _first_seen,
    _index_events,
    _Orders,
    _present,
    _session_ids,
    _stamp,
    _value_mask,
)
from core.overview.columns import (
    _K_CART,
    _K_PURCHASE,
    _K_RETURN,
    _K_VIEW,
    _NO_TIME,
    ACTIVE_USERS,
    AVERAGE_ORDER_VALUE,
    BUYERS,
    CARTS,
    CHANGE,
    CONVERSION_RATE,
    DEFAULT_GAP_MINUTES,
    DIFFERENCE,
    KPI,
    KPIS,
    LABEL,
    MINUTE_NS,
    MONEY,
    NET_REVENUE,
    NEW_USERS,
    NON_PRODUCT_REVENUE,
    ORDERS,
    PREVIOUS,
    REPEAT_BUYER_SHARE,
    REVENUE,
    SESSIONS,
    SHARE,
    UNIT,
    VALUE,
    VIEWS,
    Selection,
    TimeLike,
)

# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiTable:
    """KPIs of a period next to the previous period of equal length.

    Attributes:
        start: period start (inclusive).
        end: period end (exclusive).
        previous_start: start of the previous period, which ends at ``start``.
        table: one row per KPI in the order of ``KPIS``: ``kpi`` (key), ``label``, ``unit``
            (``count``, ``money`` or ``share``), ``value``, ``previous``, ``change`` (relative,
            ``value / previous - 1``; NaN when the previous value is 0 or unknown) and
            ``difference`` (``value - previous``, e.g. percentage points for shares as
            fractions). Revenue rows are NaN when the data has no prices; previous values are
            NaN when the data starts at or after ``start``.
        previous_complete: whether the data covers the whole previous period.
        has_revenue: whether the data has prices.
        has_non_product: whether the data has non-product lines (postage, fees).
    """

    start: pd.Timestamp
    end: pd.Timestamp
    previous_start: pd.Timestamp
    table: pd.DataFrame
    previous_complete: bool
    has_revenue: bool
    has_non_product: bool = False

    def answerable(self, event_types: Sequence[str]) -> list[str]:
        """The KPIs this data can answer: revenue needs prices, views and carts their events,
        and the conversion rate some activity besides purchases."""
        hidden = set()
        if not self.has_revenue:
            hidden |= {REVENUE, NET_REVENUE, NON_PRODUCT_REVENUE, AVERAGE_ORDER_VALUE}
        if not self.has_non_product:
            hidden.add(NON_PRODUCT_REVENUE)
        if schema.VIEW not in event_types:
            hidden.add(VIEWS)
        if schema.CART not in event_types:
            hidden.add(CARTS)
        if not set(event_types) - {schema.PURCHASE, schema.RETURN}:
            hidden.add(CONVERSION_RATE)
        return [k for k in self.table.index if k not in hidden]

    def value(self, kpi: str) -> float | None:
        """The KPI's value in the period, ``None`` where it is not defined."""
        return _optional(self.table.loc[kpi, VALUE])

    def previous(self, kpi: str) -> float | None:
        """The KPI's value in the previous period, ``None`` where it is not defined."""
        return _optional(self.table.loc[kpi, PREVIOUS])

    def change(self, kpi: str) -> float | None:
        """Relative change against the previous period (0.1 = +10%), ``None`` if undefined."""
        return _optional(self.table.loc[kpi, CHANGE])


# --- sessions and KPIs ---------------------------------------------------------------------


def split_sessions(
    events: pd.DataFrame,
    *,
    gap_minutes: float = DEFAULT_GAP_MINUTES,
    use_session_id: bool = True,
) -> pd.Series:
    """Number every event's session.

    A user's session ends after more than ``gap_minutes`` of inactivity: a gap of exactly
    ``gap_minutes`` continues the session, one nanosecond more starts a new one.

    Args:
        events: canonical events.
        gap_minutes: the inactivity gap, in minutes.
        use_session_id: keep the ``session_id`` of events that have one and split only the
            others; ``False`` splits every event by the gap rule.

    Returns:
        session numbers ``0..S-1`` (int64) aligned with ``events``' index, numbered in order of
        the sessions' first events.
    """
    a = _index_events(events, None)
    ids = _session_ids(a, int(gap_minutes * MINUTE_NS), use_session_id=use_session_id)
    first_keys, first_rows = _first_per_key(ids)
    rank = np.empty(len(first_keys), dtype=np.int64)
    rank[np.argsort(first_rows, kind="stable")] = np.arange(len(first_keys))
    dense = rank[np.searchsorted(first_keys, ids)]
    if not events[schema.TIMESTAMP].is_monotonic_increasing:
        order = np.argsort(
            np.asarray(events[schema.TIMESTAMP].to_numpy(), dtype="datetime64[ns]"), kind="stable"
        )
        aligned = np.empty(len(dense), dtype=np.int64)
        aligned[order] = dense
        dense = aligned
    return pd.Series(dense, index=events.index, name=schema.SESSION_ID)


@dataclass(frozen=True)
class _Context:
    """A selection of events and what is judged on all events (first events, sessions)."""

    base: _Arrays
    selection: _Arrays
    mask: np.ndarray | None
    first_seen: np.ndarray
    gap_ns: int

    def count_sessions(self, start: int, end: int) -> int:
        """Sessions (split on all events) with a selected event in ``[start, end)``."""
        rows = _between(self.base.times, start, end)
        ids = _session_ids(self.base.take(rows), self.gap_ns)
        if self.mask is not None:
            ids = ids[self.mask[rows]]
        return len(distinct(ids))


def _context(
    events: pd.DataFrame,
    products: pd.DataFrame | None = None,
    selection: Selection | None = None,
    *,
    gap_minutes: float = DEFAULT_GAP_MINUTES,
) -> _Context:
    """The events indexed, and those of the selection's filters (its period is not applied)."""
    base = _index_events(events, products)
    mask = _value_mask(base, selection or {})
    return _Context(
        base=base,
        selection=base if mask is None else base.take(mask),
        mask=mask,
        first_seen=_first_seen(base),
        gap_ns=int(gap_minutes * MINUTE_NS),
    )


def _period_kpis(
    ctx: _Context, orders: _Orders, start: int, end: int, ever: np.ndarray
) -> dict[str, float]:
    a = ctx.selection
    p = a.take(_between(a.times, start, end))
    n_users = a.n_users
    active = _present(p.users, n_users)
    n_active = int(active.sum())
    new = int((active & (ctx.first_seen >= start) & (ctx.first_seen < end)).sum())
    bought = np.flatnonzero(p.kinds == _K_PURCHASE)
    buyers = _present(p.users[bought], n_users)
    n_buyers = int(buyers.sum())
    n_orders = int(((orders.times >= start) & (orders.times < end)).sum())
    revenue = net = non_product = float("nan")
    if a.has_prices:
        revenue = float(np.nansum(p.line_values(bought)))
        returned = np.flatnonzero(p.kinds == _K_RETURN)
        # A return's value whatever its sign: exports write returned quantities either way.
        net = revenue - float(np.nansum(np.abs(p.line_values(returned))))
        non_product = float(np.nansum(p.line_values(bought[p.non_product_rows()[bought]])))
    return {
        ACTIVE_USERS: n_active,
        NEW_USERS: new,
        SESSIONS: ctx.count_sessions(start, end),
        VIEWS: int((p.kinds == _K_VIEW).sum()),
        CARTS: int((p.kinds == _K_CART).sum()),
        ORDERS: n_orders,
        BUYERS: n_buyers,
        REVENUE: revenue,
        NET_REVENUE: net,
        NON_PRODUCT_REVENUE: non_product,
        AVERAGE_ORDER_VALUE: revenue / n_orders if n_orders else float("nan"),
        CONVERSION_RATE: n_buyers / n_active if n_active else float("nan"),
        REPEAT_BUYER_SHARE: (
            float((buyers & (ever >= 2)).sum()) / n_buyers if n_buyers else float("nan")
        ),
    }


def _kpis(ctx: _Context, start: int, end: int) -> KpiTable:
    a = ctx.selection
    orders = _extract_orders(a)
    ever = np.bincount(orders.users[orders.times < end], minlength=a.n_users)
    length = end - start
    previous_start = start - length
    current = _period_kpis(ctx, orders, start, end, ever)
    previous = _period_kpis(
        ctx,
        orders,
        previous_start,
        start,
        np.bincount(orders.users[orders.times < start], minlength=a.n_users),
    )
    data_start = int(ctx.base.times[0]) if len(ctx.base) else _NO_TIME
    return _kpi_table(
        current,
        previous,
        start,
        end,
        data_start,
        has_revenue=a.has_prices,
        has_non_product=bool(a.non_product_rows().any()),
    )


def _kpi_table(
    current: dict[str, float],
    previous: dict[str, float],
    start: int,
    end: int,
    data_start: int,
    *,
    has_revenue: bool,
    has_non_product: bool,
) -> KpiTable:
    """The KPI table of the period ``[start, end)`` and the previous one, from their values;
    ``data_start`` is the first event's time (ns)."""
    length = end - start
    previous_start = start - length
    has_previous = data_start < start and length > 0
    keys = [k for k, _, _ in KPIS]
    values = np.array([current[k] for k in keys], dtype="float64")
    before = np.array([previous[k] for k in keys], dtype="float64")
    if not has_previous:
        before[:] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(before != 0, values / before - 1.0, np.nan)
    table = pd.DataFrame(
        {
            LABEL: [label for _, label, _ in KPIS],
            UNIT: [unit for _, _, unit in KPIS],
            VALUE: values,
            PREVIOUS: before,
            CHANGE: change,
            DIFFERENCE: values - before,
        },
        index=pd.Index(keys, name=KPI),
    )
    return KpiTable(
        start=_stamp(start),
        end=_stamp(end),
        previous_start=_stamp(previous_start),
        table=table,
        previous_complete=data_start <= previous_start,
        has_revenue=has_revenue,
        has_non_product=has_non_product,
    )


def compute_kpis(
    events: pd.DataFrame,
    *,
    start: TimeLike,
    end: TimeLike,
    gap_minutes: float = DEFAULT_GAP_MINUTES,
) -> KpiTable:
    """KPIs of ``[start, end)`` and of the previous period of equal length.

    - active users: users with an event in the period.
    - new users: active users whose first event in ``events`` (all of them, not just the
      period's) falls in the period.
    - sessions: sessions with an event in the period (see ``split_sessions``).
    - views, carts: events of those types.
    - orders: orders whose first line falls in the period; buyers: users with a purchase.
    - gross revenue: price x quantity over the period's purchase lines (NaN without prices);
      net revenue: gross revenue minus the value of the period's returned and cancelled lines;
      postage and fees: the part of the gross revenue from non-product lines (postage,
      carriage, fees, manual adjustments; see ``core.data.nonproduct``); average order value:
      gross revenue / orders.
    - conversion rate: buyers / active users (0..1).
    - repeat-buyer share: the share (0..1) of the period's buyers who have at least two orders
      from the start of the data up to the period's end.

    Args:
        events: canonical events (sorted by time, as loaded).
        start: period start, inclusive.
        end: period end, exclusive.
        gap_minutes: session inactivity gap for events without a ``session_id``.
    """
    ctx = _context(events, gap_minutes=gap_minutes)
    s, e = _bounds(ctx.base, {"start": start, "end": end})
    return _kpis(ctx, s, e)


def _optional(value: float) -> float | None:
    number = float(value)
    return None if np.isnan(number) else number


def format_kpi(value: float | None, unit: str) -> str:
    """A KPI as shown on its tile and in the report: counts whole, money with cents, shares in
    percent; ``n/a`` where it is not defined."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if unit == SHARE:
        return f"{value:.1%}"
    if unit == MONEY:
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def format_change(row: pd.Series) -> str | None:
    """A KPI row's change against the previous period: percentage points (``+1.5 pp``) for
    shares, relative change (``+12.0%``) for the rest; ``None`` where it is not defined."""
    if row[UNIT] == SHARE:
        difference = float(row[DIFFERENCE])
        return f"{difference * 100:+.1f} pp" if math.isfinite(difference) else None
    change = float(row[CHANGE])
    return f"{change:+.1%}" if math.isfinite(change) else None
