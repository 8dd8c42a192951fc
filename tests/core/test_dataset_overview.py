"""The Overview of a dataset computed by DuckDB over its files equals the in-memory Overview of
the same dataset opened in memory: every KPI, funnel, trend, table and note, on the sample shop
and on small hostile datasets (no prices, no item ids, no categories, one day, orders with and
without ids, returns, events exactly at the period's bounds)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from core import overview as an
from core.datasets.coded import CODED
from core.datasets.ingest import ingest
from core.datasets.overview import (
    dataset_filter_options,
    dataset_overview,
    dataset_trends,
    dataset_users_in,
)
from core.datasets.store import open_dataset
from core.errors import MissingColumnsError

ROOT = Path(__file__).resolve().parents[2]


def assert_same(expected: Any, got: Any, where: str = "overview") -> None:
    """Equal frames (floats to 1e-9 relative), arrays, dataclasses, mappings and values."""
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(got, expected, rtol=1e-9, atol=1e-12, obj=where)
    elif isinstance(expected, pd.Series):
        pd.testing.assert_series_equal(got, expected, rtol=1e-9, atol=1e-12, obj=where)
    elif isinstance(expected, np.ndarray):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, err_msg=where)
    elif dataclasses.is_dataclass(expected):
        assert type(got) is type(expected), where
        for field in dataclasses.fields(expected):
            name = field.name
            assert_same(getattr(expected, name), getattr(got, name), f"{where}.{name}")
    elif isinstance(expected, dict):
        assert list(got) == list(expected), where
        for key, value in expected.items():
            assert_same(value, got[key], f"{where}[{key}]")
    elif isinstance(expected, float) and np.isnan(expected):
        assert isinstance(got, float) and np.isnan(got), where
    else:
        assert got == expected, where


def _same_as_in_memory(data_dir: Path, name: str, **options: Any) -> an.Overview:
    shop = open_dataset(data_dir, name)
    expected = an.compute_overview(shop.events.frame, shop.product_frame, **options)
    got = dataset_overview(data_dir / name, **options)
    assert_same(expected, got)
    return got


@pytest.fixture(scope="module")
def sample_dataset(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("datasets")
    ingest(
        [ROOT / "data" / "sample_events.csv.gz"],
        name="sample",
        data_dir=data_dir,
        products=ROOT / "data" / "sample_products.csv",
    )
    return data_dir


SAMPLE_SELECTIONS = {
    "whole span": {},
    "last 30 days, weekly": {"start": "2026-10-02", "end": "2026-11-01", "trend_freq": "W"},
    "two categories": {"categories": ["Outdoor", "Garden"], "top_n": 5},
    "a brand, monthly": {"brands": ["Kestrel"], "trend_freq": "M", "window_hours": 24.0},
    "event types in a summer period": {
        "event_types": ["view", "purchase"],
        "start": "2026-06-10",
        "end": "2026-08-01",
    },
}


@pytest.mark.parametrize("selection", SAMPLE_SELECTIONS.values(), ids=SAMPLE_SELECTIONS.keys())
def test_the_sample_shops_dataset_overview_equals_the_in_memory_one(sample_dataset, selection):
    overview = _same_as_in_memory(sample_dataset, "sample", **selection)
    freq = selection.get("trend_freq", "D")
    filters = {
        k: v for k, v in selection.items() if k not in ("trend_freq", "top_n", "window_hours")
    }
    assert_same(overview.trends, dataset_trends(sample_dataset / "sample", freq, **filters))
    assert overview.kpis.value(an.ORDERS)  # figures there are, not only empty frames
    assert overview.funnel_splits.keys() == {"new_vs_returning", "category", "brand"}


def test_the_sample_shops_filter_options_and_users_equal_the_in_memory_ones(sample_dataset):
    shop = open_dataset(sample_dataset, "sample")
    events, products = shop.events.frame, shop.product_frame
    assert dataset_filter_options(sample_dataset / "sample") == an.list_filter_options(
        events, products
    )
    selection = {"start": "2026-10-01", "end": "2026-10-15", "categories": ["Garden"]}
    expected = an.users_in(events, products, **selection)
    assert len(expected) > 10
    assert_same(expected, dataset_users_in(sample_dataset / "sample", **selection))


# --- hostile datasets --------------------------------------------------------------------


def _hostile_events() -> pd.DataFrame:
    """Three days of a small shop with every kind of trouble the Overview meets."""
    rows = [
        # user, item, type, time, price, quantity, order id
        ("u1", "i1", "view", "2024-03-01 00:00:00", 10.0, None, None),  # at a period start
        ("u1", "i1", "cart", "2024-03-01 00:00:00", 10.0, None, None),  # same time
        ("u1", "i1", "purchase", "2024-03-01 00:10:00", None, 2.0, "o1"),  # list price
        ("u1", "i2", "purchase", "2024-03-01 00:10:00", 5.0, None, "o1"),
        ("u1", "POST", "purchase", "2024-03-01 00:10:00", 3.0, 1.0, "o1"),  # postage
        ("u2", "i2", "view", "2024-03-01 23:59:59", 5.0, None, None),
        ("u2", "i2", "purchase", "2024-03-02 00:00:00", 5.0, 1.0, None),  # no order id
        ("u2", "i3", "purchase", "2024-03-02 08:00:00", 7.5, 1.0, None),  # same day: one order
        ("u2", "i3", "return", "2024-03-02 09:00:00", 7.5, -1.0, None),
        ("u3", "i3", "view", "2024-03-02 00:00:00", 7.5, None, None),  # one event only
        ("u4", "i1", "fav", "2024-03-02 12:00:00", 10.0, None, None),
        ("u4", "i1", "view", "2024-03-02 12:31:00", 10.0, None, None),  # a new session
        ("u4", "i1", "purchase", "2024-03-03 00:00:00", 10.0, 1.0, "o2"),  # at the last day
        ("u5", "i4", "view", "2024-03-03 10:00:00", None, None, None),  # no price known
        ("u5", "i4", "purchase", "2024-03-03 10:05:00", None, 1.0, None),
        ("u1", "i2", "view", "2024-03-03 23:00:00", 5.0, None, None),
    ]
    frame = pd.DataFrame(
        rows,
        columns=["user_id", "item_id", "event_type", "timestamp", "price", "quantity", "order_id"],
    )
    return frame


PRODUCTS = pd.DataFrame(
    {
        "item_id": ["i3", "i1", "i2", "i4", "POST", "i9"],
        "category": ["Toys", "Garden", "Garden", None, "Postage", "Books"],
        "brand": ["Acme", None, "Zeta", "Acme", None, "Zeta"],
        "price": [7.5, 10.0, 5.0, None, 3.0, 1.0],
    }
)

HOSTILE = {
    "everything": ({}, True),
    "no prices": ({"drop": ["price"]}, False),
    "no item ids": ({"drop": ["item_id"]}, False),
    "no categories": ({}, False),
    "no order ids": ({"drop": ["order_id"]}, True),
    "one day": ({"day": "2024-03-02"}, True),
    "sold lines only": ({"drop": ["event_type"], "only": "purchase"}, False),
    "some session ids": ({"session_ids": True}, True),
}

# Session ids of some events (rows of ``_hostile_events``): one across a day's bound and hours
# apart, one across a gap that would split it; the other events are split by time.
SESSION_IDS = {5: "s1", 6: "s1", 7: "s1", 8: "s1", 10: "s2", 11: "s2"}

HOSTILE_SELECTIONS = (
    {},
    {"start": "2024-03-02", "end": "2024-03-03"},  # events exactly at both bounds
    {"start": "2024-03-02 12:00", "end": "2024-03-05", "trend_freq": "W", "window_hours": 1.0},
    {"event_types": ["purchase", "return"], "trend_freq": "M"},
    # whole days under a type filter: the pre-aggregates' type masks, sessions across midnight
    {"start": "2024-03-02", "end": "2024-03-04", "event_types": ["view", "cart", "purchase"]},
    # and without purchases: the user-days' purchases and revenue are not selected
    {"start": "2024-03-01", "end": "2024-03-05", "event_types": ["view", "cart"]},
    # and without views: no first views per category are selected
    {"start": "2024-03-01", "end": "2024-03-04", "event_types": ["cart", "purchase"]},
)


@pytest.fixture(scope="module")
def hostile_datasets(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    data_dir = folder / "datasets"
    PRODUCTS.to_csv(folder / "products.csv", index=False)
    for name, (change, with_products) in HOSTILE.items():
        events = _hostile_events()
        if "only" in change:
            events = events[events["event_type"] == change["only"]]
        if "session_ids" in change:
            events["session_id"] = [SESSION_IDS.get(row) for row in range(len(events))]
        if "day" in change:
            events = events[events["timestamp"].str.startswith(change["day"])]
        events = events.drop(columns=change.get("drop", []))
        source = folder / f"{name.replace(' ', '_')}.csv"
        events.to_csv(source, index=False)
        ingest(
            [source],
            name=name.replace(" ", "_"),
            data_dir=data_dir,
            products=folder / "products.csv" if with_products else None,
        )
    return data_dir


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_datasets_overview_equals_the_in_memory_one(hostile_datasets, name):
    for selection in HOSTILE_SELECTIONS:
        _same_as_in_memory(hostile_datasets, name.replace(" ", "_"), **selection)


def test_a_hostile_datasets_filters_equal_the_in_memory_ones(hostile_datasets):
    shop = open_dataset(hostile_datasets, "everything")
    events, products = shop.events.frame, shop.product_frame
    assert dataset_filter_options(hostile_datasets / "everything") == an.list_filter_options(
        events, products
    )
    for selection in (
        {"categories": ["Garden"], "brands": ["Zeta", "none such"]},
        {"categories": "Toys", "start": "2024-03-02", "end": "2024-03-03"},
        {"categories": ["none such"]},
    ):
        overview = _same_as_in_memory(hostile_datasets, "everything", **selection)
        assert_same(overview.trends, dataset_trends(hostile_datasets / "everything", **selection))
        expected = an.users_in(events, products, **selection)
        assert_same(expected, dataset_users_in(hostile_datasets / "everything", **selection))


def test_another_session_gap_splits_sessions_anew(hostile_datasets):
    hour = _same_as_in_memory(hostile_datasets, "everything", gap_minutes=60.0)
    days = {"start": "2024-03-02", "end": "2024-03-04", "gap_minutes": 60.0}
    _same_as_in_memory(hostile_datasets, "everything", **days)
    _same_as_in_memory(hostile_datasets, "everything", **days, event_types=["view", "purchase"])
    default = dataset_overview(hostile_datasets / "everything")
    assert hour.kpis.value(an.SESSIONS) < default.kpis.value(an.SESSIONS)


def test_filtering_a_dataset_by_brands_it_lacks_says_so(hostile_datasets):
    with pytest.raises(MissingColumnsError, match="no brands"):
        dataset_overview(hostile_datasets / "no_categories", brands=["Acme"])


def test_the_coded_events_are_built_once_and_again_when_the_events_change(sample_dataset):
    folder = sample_dataset / "sample"
    dataset_overview(folder, start="2026-10-30")
    stamp = (folder / CODED / "events.parquet").stat().st_mtime_ns
    dataset_overview(folder, start="2026-10-29")
    assert (folder / CODED / "events.parquet").stat().st_mtime_ns == stamp
    events = folder / "events.parquet"
    events.write_bytes(events.read_bytes())  # the same events, written anew
    dataset_overview(folder, start="2026-10-30")
    assert (folder / CODED / "events.parquet").stat().st_mtime_ns != stamp


def test_session_ids_keep_their_events_in_one_session(hostile_datasets):
    with_ids = dataset_overview(hostile_datasets / "some_session_ids")
    by_time = dataset_overview(hostile_datasets / "everything")
    assert with_ids.kpis.value(an.SESSIONS) == by_time.kpis.value(an.SESSIONS) - 3
