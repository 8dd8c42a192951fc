"""Everything the Shop overview shows for one period and one set of filters, in one call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Unpack

import numpy as np
import pandas as pd

from core import schema
from core.overview.arrays import _Arrays, _between, _bounds, _stamp
from core.overview.columns import (
    _K_CART,
    _K_PURCHASE,
    _K_VIEW,
    CARTS,
    DEFAULT_GAP_MINUTES,
    DEFAULT_WINDOW_HOURS,
    HOUR_NS,
    ORDERS,
    REVENUE,
    UNITS,
    VIEWS,
    Freq,
    Measure,
    Selection,
)
from core.overview.customers import (
    CohortTable,
    _cohort_retention,
    _new_vs_returning,
    _rfm,
    segment_summary,
)
from core.overview.funnel import Funnel, _funnel, _funnel_rows, _funnel_trend
from core.overview.kpis import KpiTable, _context, _kpis
from core.overview.products import (
    LongTail,
    _category_conversion,
    _item_table,
    _long_tail,
    _price_distribution,
    _ranked,
    _segment_table,
)
from core.overview.trends import _event_trends, _heatmap


@dataclass(frozen=True)
class Overview:
    """Everything the Shop overview page shows, for one period and one set of filters.

    Attributes:
        start: period start (inclusive).
        end: period end (exclusive).
        kpis: KPIs against the previous period.
        funnel: the view -> cart -> purchase funnel of users entering in the period.
        funnel_splits: the same funnel split by ``new_vs_returning``, ``category`` and
            ``brand`` where the data has them.
        funnel_trend: weekly funnel conversion (``funnel_trend``).
        trends: events by type, orders, revenue, active users and buyers per period.
        heatmap: events by weekday (rows) and hour (columns).
        top_items: best items by ``views``, ``carts``, ``orders`` and ``revenue``
            (``None`` without item ids).
        top_categories: the same for categories (``None`` without categories).
        top_brands: the same for brands (``None`` without brands).
        category_conversion: view-to-purchase conversion per category.
        price_distribution: item price quantiles per category.
        long_tail: concentration of units sold on the best sellers.
        rfm: RFM scores and segment of every buyer, at the period end.
        segments: RFM segment sizes and revenue shares.
        new_vs_returning: weekly new and returning active users.
        retention: cohort tables for ``active`` and ``buying``.
        notes: sentences for the user about what could not be computed and why.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    kpis: KpiTable
    funnel: Funnel
    funnel_splits: Mapping[str, Funnel]
    funnel_trend: pd.DataFrame
    trends: pd.DataFrame
    heatmap: pd.DataFrame
    top_items: Mapping[str, pd.DataFrame] | None
    top_categories: Mapping[str, pd.DataFrame] | None
    top_brands: Mapping[str, pd.DataFrame] | None
    category_conversion: pd.DataFrame | None
    price_distribution: pd.DataFrame | None
    long_tail: LongTail | None
    rfm: pd.DataFrame
    segments: pd.DataFrame
    new_vs_returning: pd.DataFrame
    retention: Mapping[str, CohortTable]
    notes: tuple[str, ...]


# --- the whole page ------------------------------------------------------------------------

NO_ITEMS_NOTE = "This data has no item ids, so product figures are not shown."
NO_CATEGORIES_NOTE = "This data has no categories, so category figures are not shown."


def _kpi_notes(kpis: KpiTable) -> list[str]:
    """What the KPIs cannot show, in sentences for the user."""
    notes = []
    if not kpis.has_revenue:
        notes.append("This data has no prices, so revenue and order values are not shown.")
    if not kpis.previous_complete:
        notes.append(
            "The data starts after the previous period begins, so the comparison with it is "
            "partial or missing."
        )
    return notes


def _measures(a: _Arrays) -> tuple[Measure, ...]:
    present = np.bincount(a.kinds[a.kinds >= 0], minlength=_K_PURCHASE + 1)
    return _measures_of(present, has_prices=a.has_prices)


def _measures_of(present: np.ndarray, *, has_prices: bool) -> tuple[Measure, ...]:
    """What products can be ranked by in this data (``present``: events per kind): views and
    carts only when it has them, revenue only with prices; orders-only data ranks by orders
    first."""
    by_kind: tuple[tuple[Measure, int], ...] = (
        (VIEWS, _K_VIEW),
        (CARTS, _K_CART),
        (ORDERS, _K_PURCHASE),
    )
    measures = [measure for measure, kind in by_kind if present[kind]]
    if has_prices and present[_K_PURCHASE]:
        measures.append(REVENUE)
    return tuple(measures) or (ORDERS,)


def compute_overview(
    events: pd.DataFrame,
    products: pd.DataFrame | None = None,
    *,
    trend_freq: Freq = "D",
    window_hours: float = DEFAULT_WINDOW_HOURS,
    top_n: int = 10,
    gap_minutes: float = DEFAULT_GAP_MINUTES,
    **selection: Unpack[Selection],
) -> Overview:
    """Everything the Shop overview shows for ``[start, end)`` under the given filters.

    The filters (categories, brands, event types) narrow every figure, except whether a user
    is new: that is judged on their first event among all events, and sessions are split on
    all events too. Period figures (KPIs, funnel, trends, heatmap, products, new vs returning)
    use the period; RFM scores and cohorts use everything before ``end``.

    Args:
        events: canonical events.
        products: the product table (categories, brands, names, list prices), if any.
        trend_freq: period of ``trends`` (``D``, ``W`` or ``M``).
        window_hours: funnel conversion window.
        top_n: rows of the top tables.
        gap_minutes: session inactivity gap.
        selection: the period (default: from the first event to just after the last) and
            the categories, brands and event types kept.

    Raises:
        MissingColumnsError: filtering by categories or brands that the data does not have.
    """
    ctx = _context(events, products, selection, gap_minutes=gap_minutes)
    a = ctx.selection
    s, e = _bounds(ctx.base, selection)
    period = a.take(_between(a.times, s, e))
    notes: list[str] = []

    kpis = _kpis(ctx, s, e)
    notes += _kpi_notes(kpis)
    rows = _funnel_rows(a, s, e, int(window_hours * HOUR_NS))
    funnel, reach = _funnel(ctx, rows, None)
    splits = {"new_vs_returning": _funnel(ctx, rows, "new_vs_returning", reach)[0]}
    if a.categories is not None:
        splits["category"] = _funnel(ctx, rows, "category")[0]
    if a.brands is not None:
        splits["brand"] = _funnel(ctx, rows, "brand")[0]

    measures = _measures(a)

    def ranked(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
        return {m: _ranked(table, m, top_n).reset_index(drop=True) for m in measures}

    items = categories_top = brands_top = conversion = prices = tail = None
    if a.items is not None:
        item_table = _item_table(period)
        items = ranked(item_table[period.product_items()])
        tail = _long_tail(period, UNITS, "sold", item_table)
    else:
        notes.append(NO_ITEMS_NOTE)
    if a.categories is not None:
        category_table = _segment_table(period, schema.CATEGORY)
        categories_top = ranked(category_table)
        conversion = _category_conversion(period, category_table)
        if a.items is not None and a.labels.item_category is not None:
            prices = _price_distribution(period)
    else:
        notes.append(NO_CATEGORIES_NOTE)
    if a.brands is not None:
        brands_top = ranked(_segment_table(period, schema.BRAND))

    rfm = _rfm(a, e)
    return Overview(
        start=_stamp(s),
        end=_stamp(e),
        kpis=kpis,
        funnel=funnel,
        funnel_splits=splits,
        funnel_trend=_funnel_trend(a, rows, "W"),
        trends=_event_trends(a, trend_freq, s, e),
        heatmap=_heatmap(period),
        top_items=items,
        top_categories=categories_top,
        top_brands=brands_top,
        category_conversion=conversion,
        price_distribution=prices,
        long_tail=tail,
        rfm=rfm,
        segments=segment_summary(rfm),
        new_vs_returning=_new_vs_returning(a, ctx.first_seen, "W", s, e),
        retention={
            metric: _cohort_retention(a, ctx.first_seen, metric, e)
            for metric in ("active", "buying")
        },
        notes=tuple(notes),
    )
