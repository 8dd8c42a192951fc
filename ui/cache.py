"""Cached wrappers around core loading, so reruns do not read a file twice."""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import streamlit as st

from core import analytics, loading, profile, purchase
from core.config import load_settings
from core.parsing import DateOrder
from core.reading import RawTable, read_table


def digest(data: bytes) -> str:
    """A short content hash, used in widget keys."""
    return hashlib.sha256(data).hexdigest()[:12]


@st.cache_data(show_spinner="Reading the file…", max_entries=4)
def raw_table(data: bytes, name: str) -> RawTable:
    """The file's own table."""
    return read_table(data, name=name)


@st.cache_data(show_spinner=False, max_entries=8)
def detected_events_mapping(data: bytes, name: str) -> tuple[str, dict[str, str]]:
    """The recognised export's label and proposed mapping for an events file."""
    export, mapping = loading.detect_format(raw_table(data, name))
    return export.label, mapping


@st.cache_data(show_spinner="Mapping and validating…", max_entries=4)
def load_shop(
    events: bytes,
    events_name: str,
    products: bytes | None,
    products_name: str | None,
    events_mapping: dict[str, str | None],
    products_mapping: dict[str, str | None],
    date_order: DateOrder,
    drop_duplicates: bool,
) -> loading.ShopData:
    """Map and validate both files of a shop."""
    product_result = None
    if products is not None and products_name is not None:
        product_result = loading.map_products(
            raw_table(products, products_name), mapping=products_mapping
        )
    event_result = loading.map_events(
        raw_table(events, events_name),
        mapping=events_mapping,
        date_order=date_order,
        drop_duplicates=drop_duplicates,
        products=product_result.frame if product_result is not None else None,
    )
    return loading.make_shop(event_result, product_result)


@st.cache_data(show_spinner=False)
def sample_files() -> tuple[bytes, bytes]:
    """The bundled sample shop's events and products files."""
    settings = load_settings()
    return settings.sample_events.read_bytes(), settings.sample_products.read_bytes()


def sample_shop() -> loading.ShopData:
    """The bundled sample shop as loaded with the detected mapping."""
    events, products = sample_files()
    return load_shop(
        events, "sample_events.csv.gz", products, "sample_products.csv", {}, {}, "auto", False
    )


@st.cache_data(show_spinner=False, max_entries=4)
def shop_profile(fingerprint: str, _shop: loading.ShopData) -> profile.Profile:
    """The profile of a loaded shop, keyed by its fingerprint."""
    products = _shop.products.frame if _shop.products else None
    return profile.profile_events(_shop.events.frame, products)


@st.cache_data(show_spinner="Building features for every user and time window…", max_entries=4)
def purchase_data(
    fingerprint: str, _shop: loading.ShopData, cutoff: dt.date | None, horizon: int
) -> purchase.PurchaseData:
    """Training windows, evaluation and deployment tables for one cutoff and horizon H (days);
    ``cutoff=None`` takes the latest cutoff that leaves H days after it."""
    products = _shop.products.frame if _shop.products else None
    return purchase.build_purchase_data(
        _shop.events.frame,
        products,
        cutoff=pd.Timestamp(cutoff) if cutoff is not None else None,
        horizon_days=horizon,
    )


# --- Shop overview -------------------------------------------------------------------------


def _period(first_day: dt.date, last_day: dt.date) -> tuple[pd.Timestamp, pd.Timestamp]:
    """A picker's days as the core's ``[start, end)``: the end is the day after the last."""
    return pd.Timestamp(first_day), pd.Timestamp(last_day) + pd.Timedelta(days=1)


@st.cache_data(show_spinner=False, max_entries=4)
def overview_options(fingerprint: str, _shop: loading.ShopData) -> analytics.FilterOptions:
    """The date span, categories, brands and event types the shop can be filtered by."""
    products = _shop.products.frame if _shop.products else None
    return analytics.list_filter_options(_shop.events.frame, products)


@st.cache_data(show_spinner="Computing the overview…", max_entries=32)
def overview(
    fingerprint: str,
    _shop: loading.ShopData,
    first_day: dt.date,
    last_day: dt.date,
    categories: tuple[str, ...] | None,
    brands: tuple[str, ...] | None,
    event_types: tuple[str, ...] | None,
    trend_freq: analytics.Freq,
    window_hours: float,
    top_n: int,
) -> analytics.Overview:
    """Everything the Shop overview shows for the days ``first_day..last_day`` (both
    included) under the filters (``None`` keeps all), keyed by the shop's fingerprint."""
    products = _shop.products.frame if _shop.products else None
    start, end = _period(first_day, last_day)
    return analytics.compute_overview(
        _shop.events.frame,
        products,
        start=start,
        end=end,
        categories=categories,
        brands=brands,
        event_types=event_types,
        trend_freq=trend_freq,
        window_hours=window_hours,
        top_n=top_n,
    )


@st.cache_data(show_spinner="Listing the users…", max_entries=8)
def overview_users(
    fingerprint: str,
    _shop: loading.ShopData,
    first_day: dt.date,
    last_day: dt.date,
    categories: tuple[str, ...] | None,
    brands: tuple[str, ...] | None,
    event_types: tuple[str, ...] | None,
) -> pd.DataFrame:
    """The users with an event in the overview's selection, biggest spenders first."""
    products = _shop.products.frame if _shop.products else None
    start, end = _period(first_day, last_day)
    return analytics.users_in(
        _shop.events.frame,
        products,
        start=start,
        end=end,
        categories=categories,
        brands=brands,
        event_types=event_types,
    )
