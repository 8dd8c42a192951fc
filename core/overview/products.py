"""Top items, categories and brands, category conversion, prices and the long tail."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from core import schema
from core.errors import MissingColumnsError
from core.ml.arrays import distinct
from core.overview.arrays import (
    _Arrays,
    _first_per_key,
    _index_events,
    _last_per_key,
    _lookup,
    _order_keys,
    _present,
    _sums,
)
from core.overview.columns import (
    _K_CART,
    _K_PURCHASE,
    _K_VIEW,
    _PRICE_QUANTILES,
    BUYERS,
    CARTS,
    CONVERTED,
    ITEM_SHARE,
    ITEMS,
    MAX,
    MEAN,
    MIN,
    ORDERS,
    PURCHASES,
    PURCHASES_PER_VIEW,
    REVENUE,
    SALES_SHARE,
    UNITS,
    VIEW_TO_PURCHASE,
    VIEWERS,
    VIEWS,
    Measure,
    SalesMeasure,
)


@dataclass(frozen=True)
class LongTail:
    """How concentrated sales are on the best-selling items.

    Attributes:
        curve: ``item_share`` (0..1, best sellers first) against the cumulative
            ``sales_share`` (0..1), at 101 points: light enough to plot.
        items: items counted (see ``long_tail``'s ``among``).
        items_sold: items with at least one sale.
        measure: what "sales" means (``units``, ``orders`` or ``revenue``).
        cumulative: exact cumulative sales share after the top ``k`` items, ``k = 0..items``.
    """

    curve: pd.DataFrame
    items: int
    items_sold: int
    measure: SalesMeasure
    cumulative: np.ndarray = field(repr=False)

    def share_of_top(self, fraction: float) -> float:
        """Share of sales (0..1) from the top ``fraction`` (0..1) of items, interpolating
        linearly between whole items; NaN without sales."""
        if self.items == 0 or self.cumulative[-1] == 0:
            return float("nan")
        return float(np.interp(fraction * self.items, np.arange(self.items + 1), self.cumulative))


# --- products ------------------------------------------------------------------------------


def _key_stats(a: _Arrays, keys: np.ndarray, size: int) -> pd.DataFrame:
    """Views, carts, orders, units, revenue, buyers and viewers per key code (-1 ignored)."""
    known = keys >= 0
    frame = {}
    for name, kind in ((VIEWS, _K_VIEW), (CARTS, _K_CART)):
        rows = known & (a.kinds == kind)
        frame[name] = np.bincount(keys[rows], minlength=size)[:size]
    bought = np.flatnonzero(known & (a.kinds == _K_PURCHASE))
    lines = a.take(np.flatnonzero(a.kinds == _K_PURCHASE))
    line_keys = keys[a.kinds == _K_PURCHASE]
    # Orders per key: distinct (order, key) pairs over the purchase lines.
    orders = _order_of_lines(lines)
    ok = line_keys >= 0
    pairs = distinct(orders[ok] * size + line_keys[ok])
    frame[ORDERS] = np.bincount(pairs % max(size, 1), minlength=size)[:size]
    quantity = a.quantity[bought] if a.quantity is not None else np.ones(len(bought))
    frame[UNITS] = _sums(keys[bought], quantity, size)
    values = a.line_values(bought)
    priced = np.isfinite(values)
    frame[REVENUE] = (
        _sums(keys[bought][priced], values[priced], size) if a.has_prices else np.full(size, np.nan)
    )
    pairs = distinct(a.users[bought] * size + keys[bought])
    frame[BUYERS] = np.bincount(pairs % max(size, 1), minlength=size)[:size]
    viewed = np.flatnonzero(known & (a.kinds == _K_VIEW))
    pairs = distinct(a.users[viewed] * size + keys[viewed])
    frame[VIEWERS] = np.bincount(pairs % max(size, 1), minlength=size)[:size]
    return pd.DataFrame(frame)


def _order_of_lines(lines: _Arrays) -> np.ndarray:
    """The order number of each purchase line (same rule as ``_extract_orders``)."""
    key = _order_keys(lines)
    return np.searchsorted(distinct(key), key)


def _ranked(stats: pd.DataFrame, by: Measure, n: int) -> pd.DataFrame:
    if by not in (VIEWS, CARTS, ORDERS, REVENUE):
        raise ValueError(f"by must be 'views', 'carts', 'orders' or 'revenue', got {by!r}")
    if by == REVENUE and stats[REVENUE].isna().all() and len(stats):
        raise MissingColumnsError(
            "This data has no prices, so it cannot be ranked by revenue; rank by orders instead."
        )
    active = stats[(stats[[VIEWS, CARTS, ORDERS, UNITS, VIEWERS]] > 0).any(axis=1)]
    return active.sort_values([by, VIEWS], ascending=False, kind="stable").head(n)


def _item_codes(a: _Arrays, without: str) -> tuple[np.ndarray, pd.Index]:
    """Each event's item code and the item ids; without them, ``without`` says what cannot
    be shown, in a one-line error that points to the Data page."""
    if a.items is None or a.labels.items is None:
        raise MissingColumnsError(
            f"This data has no item ids, so {without}; map an item column on the Data page."
        )
    return a.items, a.labels.items


def _item_table(a: _Arrays) -> pd.DataFrame:
    labels = a.labels
    items, item_ids = _item_codes(a, "there are no product figures")
    size = len(item_ids)
    stats = _key_stats(a, items, size)
    stats.insert(0, schema.ITEM_ID, item_ids.to_numpy())
    position = 1
    if labels.item_name is not None:
        stats.insert(position, schema.NAME, labels.item_name)
        position += 1
    for column, codes, names in (
        (schema.CATEGORY, labels.item_category, labels.categories),
        (schema.BRAND, labels.item_brand, labels.brands),
    ):
        if codes is not None and names is not None:
            stats.insert(position, column, _lookup(names.to_numpy(dtype=object), codes, None))
            position += 1
    return stats


def _segment_table(a: _Arrays, column: str) -> pd.DataFrame:
    codes = a.categories if column == schema.CATEGORY else a.brands
    names = a.labels.categories if column == schema.CATEGORY else a.labels.brands
    if codes is None or names is None:
        what = "categories" if column == schema.CATEGORY else "brands"
        raise MissingColumnsError(
            f"This data has no {what} (neither in the events nor in a product table); load a "
            f"product table with a {column} column."
        )
    stats = _key_stats(a, codes, len(names))
    stats.insert(0, column, names.to_numpy())
    return stats


def top_items(
    events: pd.DataFrame,
    products: pd.DataFrame | None = None,
    *,
    by: Measure = "views",
    n: int = 10,
) -> pd.DataFrame:
    """The ``n`` best products by ``views``, ``carts``, ``orders`` or ``revenue`` (postage, fees
    and other non-product lines are never ranked).

    Returns:
        ``item_id`` (and ``name``, ``category``, ``brand`` where known), ``views``, ``carts``,
        ``orders`` (distinct orders containing the item), ``units``, ``revenue`` (NaN without
        prices), ``buyers`` and ``viewers``; best first, ties broken by views.

    Raises:
        MissingColumnsError: the data has no item ids, or ``by="revenue"`` without prices.
    """
    a = _index_events(events, products)
    return _ranked(_item_table(a)[a.product_items()], by, n).reset_index(drop=True)


def top_segments(
    events: pd.DataFrame,
    products: pd.DataFrame | None = None,
    *,
    segment: Literal["category", "brand"] = "category",
    by: Measure = "views",
    n: int = 10,
) -> pd.DataFrame:
    """The ``n`` best categories or brands (brands come from the product table); columns as
    ``top_items`` with the segment's column (``category`` or ``brand``) first.

    Raises:
        MissingColumnsError: the data has no such segment, or ``by="revenue"`` without prices.
    """
    table = _segment_table(_index_events(events, products), segment)
    return _ranked(table, by, n).reset_index(drop=True)


def _category_conversion(a: _Arrays, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """``category_conversion``; ``table`` is ``_segment_table(a, CATEGORY)`` if already made."""
    table = (_segment_table(a, schema.CATEGORY) if table is None else table).copy()
    size = len(table)
    codes = a.categories
    assert codes is not None  # checked by _segment_table
    keyed = codes >= 0
    viewed = np.flatnonzero(keyed & (a.kinds == _K_VIEW))
    bought = np.flatnonzero(keyed & (a.kinds == _K_PURCHASE))
    view_keys, first_rows = _first_per_key(a.users[viewed] * size + codes[viewed])
    buy_keys, last_rows = _last_per_key(a.users[bought] * size + codes[bought])
    position = np.searchsorted(buy_keys, view_keys)
    found = position < len(buy_keys)
    position = np.minimum(position, max(len(buy_keys) - 1, 0))
    converted = found.copy()
    if len(buy_keys):
        converted &= buy_keys[position] == view_keys
        converted &= a.times[bought][last_rows][position] >= a.times[viewed][first_rows]
    else:
        converted[:] = False
    table[CONVERTED] = np.bincount(view_keys[converted] % max(size, 1), minlength=size)[:size]
    table[PURCHASES] = np.bincount(codes[bought], minlength=size)[:size]
    return _conversion_frame(table)


def _conversion_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The category conversion table from a category table (as ``_segment_table``) with the
    ``converted`` viewers and the ``purchases`` of each category."""
    viewers = table[VIEWERS].where(table[VIEWERS] > 0)
    table[VIEW_TO_PURCHASE] = table[CONVERTED] / viewers
    table[PURCHASES_PER_VIEW] = table[PURCHASES] / table[VIEWS].where(table[VIEWS] > 0)
    columns = [
        schema.CATEGORY,
        VIEWERS,
        CONVERTED,
        VIEW_TO_PURCHASE,
        VIEWS,
        PURCHASES,
        PURCHASES_PER_VIEW,
        REVENUE,
    ]
    table = table[(table[VIEWS] > 0) | (table[PURCHASES] > 0)][columns]
    return table.sort_values([VIEWERS, PURCHASES], ascending=False, kind="stable").reset_index(
        drop=True
    )


def category_conversion(events: pd.DataFrame, products: pd.DataFrame | None = None) -> pd.DataFrame:
    """View-to-purchase conversion per category.

    Returns:
        one row per category with views or purchases, most viewers first: ``viewers`` (users
        who viewed it), ``converted`` (viewers who bought in it at or after their first view of
        it), ``view_to_purchase`` (converted / viewers, 0..1), ``views``, ``purchases``,
        ``purchases_per_view`` (purchase lines per view) and ``revenue``.

    Raises:
        MissingColumnsError: the data has no categories.
    """
    return _category_conversion(_index_events(events, products))


def _price_distribution(a: _Arrays) -> pd.DataFrame:
    labels = a.labels
    items, item_ids = _item_codes(a, "prices cannot be told apart by item")
    if labels.item_category is None or labels.categories is None:
        raise MissingColumnsError(
            "This data has no categories, so there is no price distribution per category; "
            "load a product table with a category column."
        )
    size = len(item_ids)
    price = labels.item_price.copy() if labels.item_price is not None else np.full(size, np.nan)
    if a.prices is not None:
        priced = np.flatnonzero((items >= 0) & np.isfinite(a.prices))
        keys, rows = _last_per_key(items[priced])
        seen = np.full(size, np.nan)
        seen[keys] = a.prices[priced][rows]
        price = np.where(np.isnan(price), seen, price)
    used = (
        _present(items, size) & np.isfinite(price) & (labels.item_category >= 0) & a.product_items()
    )
    return _price_frame(labels.item_category[used], labels.categories, price[used])


def _price_frame(
    item_categories: np.ndarray, categories: pd.Index, prices: np.ndarray
) -> pd.DataFrame:
    """The price distribution from the category code and price of each item counted."""
    columns = [schema.CATEGORY, ITEMS, MIN, *(name for name, _ in _PRICE_QUANTILES), MAX, MEAN]
    if not len(prices):
        return pd.DataFrame({column: [] for column in columns})
    frame = pd.DataFrame(
        {
            schema.CATEGORY: pd.Categorical.from_codes(
                item_categories, categories=categories, validate=False
            ),
            schema.PRICE: prices,
        }
    )
    grouped = frame.groupby(schema.CATEGORY, observed=True)[schema.PRICE]
    stats = grouped.agg(["size", "min", "max", "mean"])
    quantiles = grouped.quantile([q for _, q in _PRICE_QUANTILES]).unstack()
    result = pd.DataFrame(
        {
            schema.CATEGORY: stats.index.astype("str"),
            ITEMS: stats["size"].to_numpy(),
            MIN: stats["min"].to_numpy(),
            **{name: quantiles[q].to_numpy() for name, q in _PRICE_QUANTILES},
            MAX: stats["max"].to_numpy(),
            MEAN: stats["mean"].to_numpy(),
        }
    )
    return result.sort_values([ITEMS, schema.CATEGORY], ascending=[False, True]).reset_index(
        drop=True
    )


def price_distribution(events: pd.DataFrame, products: pd.DataFrame | None = None) -> pd.DataFrame:
    """Item prices per category, as box-plot quantiles.

    Each item with an event counts once, at the product table's price, else the last price
    seen in its events.

    Returns:
        one row per category, most items first: ``category``, ``items``, ``min``, ``p10``,
        ``p25``, ``median``, ``p75``, ``p90``, ``max`` and ``mean`` (in the data's currency).

    Raises:
        MissingColumnsError: the data has no item ids or no categories.
    """
    return _price_distribution(_index_events(events, products))


def _long_tail(
    a: _Arrays,
    measure: SalesMeasure,
    among: Literal["sold", "seen"],
    stats: pd.DataFrame | None = None,
) -> LongTail:
    """``long_tail``; ``stats`` is ``_item_table(a)`` if already made."""
    items, item_ids = _item_codes(a, "sales cannot be split by item")
    if stats is None:
        stats = _key_stats(a, items, len(item_ids))
    if measure not in (UNITS, ORDERS, REVENUE):
        raise ValueError(f"measure must be 'units', 'orders' or 'revenue', got {measure!r}")
    if measure == REVENUE and not a.has_prices:
        raise MissingColumnsError(
            "This data has no prices, so sales cannot be measured by revenue; use units."
        )
    sales = np.nan_to_num(stats[measure].to_numpy(dtype="float64"))
    seen = _present(items, len(stats))
    counted = (sales > 0 if among == "sold" else seen) & a.product_items()
    return _tail(np.sort(sales[counted])[::-1], int((sales > 0).sum()), measure)


def _tail(ordered: np.ndarray, items_sold: int, measure: SalesMeasure) -> LongTail:
    """The long tail from the sales of the items counted, best first."""
    total = ordered.sum()
    cumulative = np.concatenate([[0.0], np.cumsum(ordered) / total if total > 0 else ordered])
    shares = np.linspace(0.0, 1.0, 101)
    n = len(ordered)
    curve = pd.DataFrame(
        {
            ITEM_SHARE: shares,
            SALES_SHARE: (
                np.interp(shares * n, np.arange(n + 1), cumulative)
                if n and total > 0
                else np.full(len(shares), np.nan)
            ),
        }
    )
    return LongTail(
        curve=curve,
        items=n,
        items_sold=items_sold,
        measure=measure,
        cumulative=cumulative,
    )


def long_tail(
    events: pd.DataFrame,
    *,
    measure: SalesMeasure = "units",
    among: Literal["sold", "seen"] = "sold",
) -> LongTail:
    """How much of the sales the best-selling items make (a Pareto curve); non-product lines
    (postage, fees) are left out.

    Args:
        events: canonical events with item ids.
        measure: ``units`` (quantity sold), ``orders`` (orders containing the item) or
            ``revenue``.
        among: ``sold`` counts the items with a sale; ``seen`` counts every item with an event,
            so items never sold lengthen the tail.

    Returns:
        the curve and ``LongTail.share_of_top(0.2)``-style look-ups.

    Raises:
        MissingColumnsError: no item ids, or ``measure="revenue"`` without prices.
    """
    return _long_tail(_index_events(events, None), measure, among)
