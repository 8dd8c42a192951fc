"""Frames shaped as the loader gives them: hand-written event tables and the small generated shop.

Plain functions, imported by the tests that build their own data; ``tests/conftest.py`` turns the
small shop into fixtures.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core import schema
from core.data.sample import generate_sample_world

ID_COLUMNS = (
    schema.USER_ID,
    schema.ITEM_ID,
    schema.EVENT_TYPE,
    schema.ORDER_ID,
    schema.SESSION_ID,
    schema.CATEGORY,
    schema.NAME,
)
SHORT = (schema.USER_ID, schema.ITEM_ID, schema.EVENT_TYPE, schema.TIMESTAMP)


def make_events(rows: list[tuple], columns: tuple[str, ...] = SHORT) -> pd.DataFrame:
    """Canonical events as the loader gives them: categorical ids with string categories (a
    missing id stays missing), datetime64[ns] times in order, float quantity and price."""
    frame = pd.DataFrame(rows, columns=list(columns))
    for column in frame.columns:
        if column in ID_COLUMNS:
            frame[column] = frame[column].astype("str").where(frame[column].notna())
            frame[column] = frame[column].astype("category")
        elif column == schema.TIMESTAMP:
            frame[column] = pd.to_datetime(frame[column], format="ISO8601")
            frame[column] = frame[column].astype("datetime64[ns]")
        else:
            frame[column] = frame[column].astype("float64")
    return frame.sort_values(schema.TIMESTAMP, kind="stable", ignore_index=True)


def make_products(rows: list[tuple], columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))


def canonical(
    events: pd.DataFrame, products: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Generated frames as the loader gives them: categorical ids, datetime64[ns], float numbers."""
    events = events.sort_values(schema.TIMESTAMP, kind="stable", ignore_index=True)
    for column in (
        schema.USER_ID,
        schema.ITEM_ID,
        schema.EVENT_TYPE,
        schema.ORDER_ID,
        schema.SESSION_ID,
    ):
        events[column] = events[column].astype("str").astype("category")
    events[schema.TIMESTAMP] = events[schema.TIMESTAMP].astype("datetime64[ns]")
    events[schema.QUANTITY] = events[schema.QUANTITY].astype("float64")
    events[schema.PRICE] = events[schema.PRICE].astype("float64")
    if products is not None:
        products = products.copy()
        for column in (schema.ITEM_ID, schema.CATEGORY, schema.BRAND, schema.NAME):
            products[column] = products[column].astype("str").astype("category")
    return events, products


def small_shop_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The small generated shop most model tests train on: 300 users, 60 items, seed 1."""
    return generate_sample_world(n_users=300, n_items=60, random_state=1).frames


def write_shop(
    folder: Path,
    events: pd.DataFrame,
    products: pd.DataFrame,
    *,
    events_file: str = "events.csv",
) -> tuple[Path, Path]:
    """Write a shop as the CSV files a user would load; returns the events and products paths."""
    events_path, products_path = folder / events_file, folder / "products.csv"
    events.to_csv(events_path, index=False)
    products.to_csv(products_path, index=False)
    return events_path, products_path
