"""A first look at loaded events: size, time span, event mix, gaps, top items and categories."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core import schema
from core.data.nonproduct import list_prices, non_product_lines

EVENTS = "events"
DAY = "day"
MISSING = "missing"
MISSING_SHARE = "missing share"
COLUMN = "column"
PURCHASES = "purchases"


@dataclass(frozen=True)
class Profile:
    """What a loaded events table holds.

    Attributes:
        rows: events kept.
        users: distinct users.
        items: distinct items, or ``None`` when the data has no item ids.
        start: first event time.
        end: last event time.
        event_mix: events per event type, most frequent first.
        daily: events per day and type (columns ``day``, ``event_type``, ``events``).
        missing: missing values per column (``column``, ``missing``, ``missing share`` 0..1).
        top_items: most active products with events and purchases (and name/category if
            known); non-product lines are left out.
        top_categories: most active categories, or ``None`` when there are none.
        non_product: the non-product lines (postage, fees, adjustments) by item: item id, name,
            purchase lines and their revenue (valued as the Overview values it), most lines
            first; empty when there are none.
    """

    rows: int
    users: int
    items: int | None
    start: pd.Timestamp
    end: pd.Timestamp
    event_mix: pd.Series
    daily: pd.DataFrame
    missing: pd.DataFrame
    top_items: pd.DataFrame | None
    top_categories: pd.DataFrame | None
    non_product: pd.DataFrame


def profile_events(
    events: pd.DataFrame, products: pd.DataFrame | None = None, *, top: int = 10
) -> Profile:
    """Summarise canonical events (and the product table, for names and categories)."""
    types = events[schema.EVENT_TYPE].astype("str")
    daily = (
        events.assign(**{DAY: events[schema.TIMESTAMP].dt.floor("D"), schema.EVENT_TYPE: types})
        .groupby([DAY, schema.EVENT_TYPE], observed=True)
        .size()
        .rename(EVENTS)
        .reset_index()
    )
    missing = events.isna().sum().rename(MISSING).rename_axis(COLUMN).reset_index()
    missing[MISSING_SHARE] = missing[MISSING] / max(len(events), 1)
    has_items = schema.ITEM_ID in events.columns
    names = item_names(events, products) if has_items else None
    non_product = non_product_lines(events, names, list_prices=list_prices(products))
    products_only = (
        events[~events[schema.ITEM_ID].astype("str").isin(non_product[schema.ITEM_ID]).to_numpy()]
        if has_items and len(non_product)
        else events
    )
    return Profile(
        rows=len(events),
        users=int(events[schema.USER_ID].nunique()),
        items=int(events[schema.ITEM_ID].nunique()) if has_items else None,
        start=events[schema.TIMESTAMP].min(),
        end=events[schema.TIMESTAMP].max(),
        event_mix=types.value_counts().rename(EVENTS),
        daily=daily,
        missing=missing,
        top_items=_top(products_only, schema.ITEM_ID, products, top) if has_items else None,
        top_categories=_top_categories(events, products, top),
        non_product=non_product,
    )


def _top(events: pd.DataFrame, key: str, products: pd.DataFrame | None, top: int) -> pd.DataFrame:
    is_purchase = events[schema.EVENT_TYPE].astype("str") == schema.PURCHASE
    grouped = (
        events.assign(**{PURCHASES: is_purchase})
        .groupby(key, observed=True)
        .agg(**{EVENTS: (schema.USER_ID, "size"), PURCHASES: (PURCHASES, "sum")})
        .sort_values([EVENTS, PURCHASES], ascending=False)
        .head(top)
        .reset_index()
    )
    grouped[key] = grouped[key].astype("str")
    if key != schema.ITEM_ID:
        return grouped
    names = item_names(events, products)
    if names is not None:
        grouped[schema.NAME] = grouped[key].map(names).to_numpy()
    if products is not None and schema.CATEGORY in products.columns:
        categories = products.drop_duplicates(schema.ITEM_ID).set_index(schema.ITEM_ID)
        grouped[schema.CATEGORY] = grouped[key].map(categories[schema.CATEGORY]).to_numpy()
    return grouped


def item_names(events: pd.DataFrame, products: pd.DataFrame | None) -> pd.Series | None:
    """Each item's name (indexed by item id): the product table's, else the one its events
    give (one per item, as loaded); ``None`` when neither names any item."""
    names = None
    if schema.NAME in events.columns and schema.ITEM_ID in events.columns:
        named = events[[schema.ITEM_ID, schema.NAME]].dropna().drop_duplicates(schema.ITEM_ID)
        names = pd.Series(
            named[schema.NAME].astype("str").to_numpy(),
            index=named[schema.ITEM_ID].astype("str").to_numpy(),
        )
    if products is not None and schema.NAME in products.columns:
        table = products.dropna(subset=[schema.NAME]).drop_duplicates(schema.ITEM_ID)
        listed = pd.Series(
            table[schema.NAME].astype("str").to_numpy(),
            index=table[schema.ITEM_ID].astype("str").to_numpy(),
        )
        names = listed if names is None else listed.combine_first(names)
    return names


def _top_categories(
    events: pd.DataFrame, products: pd.DataFrame | None, top: int
) -> pd.DataFrame | None:
    if schema.CATEGORY in events.columns:
        return _top(events, schema.CATEGORY, None, top)
    if (
        products is not None
        and schema.CATEGORY in products.columns
        and schema.ITEM_ID in events.columns
    ):
        categories = products.set_index(schema.ITEM_ID)[schema.CATEGORY]
        with_category = events.assign(
            **{schema.CATEGORY: events[schema.ITEM_ID].astype("str").map(categories)}
        )
        return _top(with_category, schema.CATEGORY, None, top)
    return None
