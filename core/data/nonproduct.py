"""Lines that sell no product: postage, carriage, fees, bank charges, manual adjustments and
discounts. Exports book them as items; they are counted apart, never ranked or recommended as
products, and their revenue is shown as its own line."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

import numpy as np
import pandas as pd

from core import schema

# Item codes that UCI Online Retail (and shops exporting the same way) use for such lines.
NON_PRODUCT_CODES: Final = frozenset(
    {"POST", "DOT", "M", "D", "S", "C2", "CRUK", "PADS", "B", "BANK CHARGES", "AMAZONFEE"}
)
# Whole names that say the same whatever the code ("POSTAGE", "DOTCOM POSTAGE", "Bank Charges",
# "Adjust bad debt", "CRUK Commission"); a product merely mentioning one of the words is kept.
NON_PRODUCT_NAME: Final = re.compile(
    r"\s*(?:dotcom\s+)?(?:postage|carriage|shipping(?:\s+charges?)?|delivery(?:\s+charges?)?|"
    r"bank\s+charges?|amazon\s+fees?|manual|discount|adjust\b.*|.*\bcommission)\s*",
    re.IGNORECASE,
)
LINES: Final = "lines"
REVENUE: Final = "revenue"


def non_product_items(item_ids: Iterable[object], names: Iterable[object] | None) -> np.ndarray:
    """For each item, whether it is a non-product line: its code is one of
    ``NON_PRODUCT_CODES`` or its name matches ``NON_PRODUCT_NAME`` (``names`` in the same order
    as ``item_ids``, missing where unknown)."""
    codes = pd.Index([str(i).strip() for i in item_ids], dtype="str")
    flagged = codes.isin(NON_PRODUCT_CODES)
    if names is not None:
        text = pd.Series(list(names), dtype="object")
        text = text.astype("str").where(text.notna(), "")
        flagged |= text.str.fullmatch(NON_PRODUCT_NAME).to_numpy(dtype=bool)
    return np.asarray(flagged, dtype=bool)


def non_product_lines(
    events: pd.DataFrame, names: pd.Series | None, *, list_prices: pd.Series | None = None
) -> pd.DataFrame:
    """The non-product items of ``events`` (``names``: item id -> name, if known), most lines
    first: item id, name, purchase lines and their revenue.

    A line's revenue is valued as the Overview values revenue: price x quantity, quantity 1
    where missing, the line's price else the item's ``list_prices`` entry (item id -> the
    product table's price); NaN for an item none of whose lines has a price.
    """
    columns = [schema.ITEM_ID, schema.NAME, LINES, REVENUE]
    if schema.ITEM_ID not in events.columns:
        return pd.DataFrame({column: [] for column in columns})
    items = events[schema.ITEM_ID].astype("str")
    ids = pd.Index(items.dropna().unique())
    item_names = names.reindex(ids) if names is not None else pd.Series(None, index=ids)
    flagged = ids[non_product_items(ids, item_names.to_numpy())]
    rows = (
        items.isin(flagged).to_numpy()
        & (events[schema.EVENT_TYPE].astype("str") == schema.PURCHASE).to_numpy()
    )
    chosen = events[rows]
    price = (
        chosen[schema.PRICE].astype("float64")
        if schema.PRICE in chosen
        else pd.Series(np.nan, index=chosen.index)
    )
    if list_prices is not None:
        listed = pd.to_numeric(items[rows].map(list_prices), errors="coerce")
        price = price.fillna(listed)
    quantity = chosen[schema.QUANTITY].fillna(1.0) if schema.QUANTITY in chosen else 1.0
    value = price * quantity
    table = (
        pd.DataFrame({schema.ITEM_ID: items[rows].to_numpy(), REVENUE: value.to_numpy()})
        .groupby(schema.ITEM_ID, sort=False)
        .agg(**{LINES: (REVENUE, "size"), REVENUE: (REVENUE, lambda v: v.sum(min_count=1))})
        .reset_index()
    )
    table.insert(1, schema.NAME, table[schema.ITEM_ID].map(item_names).to_numpy())
    return table.sort_values(LINES, ascending=False, kind="stable").reset_index(drop=True)[columns]


def list_prices(products: pd.DataFrame | None) -> pd.Series | None:
    """Each item's price in the product table (indexed by item id, first row per item), or
    ``None`` when there is no table or it has no prices."""
    if products is None or schema.PRICE not in products.columns:
        return None
    table = products.drop_duplicates(schema.ITEM_ID)
    return pd.Series(
        pd.to_numeric(table[schema.PRICE], errors="coerce").to_numpy(dtype="float64"),
        index=table[schema.ITEM_ID].astype("str").to_numpy(),
    )
