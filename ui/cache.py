"""Cached wrappers around core loading, so reruns do not read a file twice."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pandas as pd
import streamlit as st

from core import batch, purchase, recommend, schema, services
from core import overview as an
from core.commands.users import UserIds
from core.config import load_settings
from core.data import loading, profile
from core.data.parsing import DateOrder
from core.data.reading import RawTable, read_table
from core.datasets.overview import dataset_filter_options, dataset_trends, dataset_users_in
from core.datasets.overview import dataset_overview as compute_dataset_overview
from core.datasets.store import open_dataset
from core.images.reading import Photo, PhotoSet
from core.images.sample import read_sample_photos
from core.images.thumbnails import thumbnail_url
from core.ml.network import NetworkConfig


@dataclass(frozen=True)
class SourceFile:
    """A file to load, with its content hash: the cache key, computed once per rerun instead
    of Streamlit hashing the whole file in every cached call."""

    name: str
    digest: str
    data: bytes = field(repr=False)


def source_file(name: str, data: bytes) -> SourceFile:
    """Wrap a file's bytes with a short SHA-256 of its content."""
    return SourceFile(name, hashlib.sha256(data).hexdigest()[:12], data)


BIG_LOAD_BYTES: Final = 32 * 1024 * 1024
# Big files are read and mapped a few at a time across the server (as many as trainings run at
# once), so that sessions loading big files together do not each take a load's memory at once;
# ingests (known to be big) wait in this line too.
BIG_LOADS = threading.BoundedSemaphore(load_settings().training_slots)


@contextmanager
def load_line(*files: SourceFile | None) -> Iterator[None]:
    """Wait for a free place in the server's line of big loads when ``files`` are big."""
    if sum(len(file.data) for file in files if file is not None) < BIG_LOAD_BYTES:
        yield
        return
    with BIG_LOADS:
        yield


@st.cache_data(show_spinner="Reading the file…", max_entries=4)
def _raw_table(digest: str, name: str, _file: SourceFile) -> RawTable:
    with load_line(_file):
        return read_table(_file.data, name=name)


def raw_table(file: SourceFile) -> RawTable:
    """The file's own table."""
    return _raw_table(file.digest, file.name, file)


@st.cache_data(show_spinner=False, max_entries=8)
def _detected_events_mapping(
    digest: str, name: str, _file: SourceFile
) -> tuple[str, dict[str, str]]:
    export, mapping = loading.detect_format(raw_table(_file))
    return export.label, mapping


def detected_events_mapping(file: SourceFile) -> tuple[str, dict[str, str]]:
    """The recognised export's label and proposed mapping for an events file."""
    return _detected_events_mapping(file.digest, file.name, file)


@st.cache_data(show_spinner="Mapping and validating…", max_entries=4)
def _load_shop(
    events_key: tuple[str, str],
    products_key: tuple[str, str] | None,
    events_mapping: dict[str, str | None],
    products_mapping: dict[str, str | None],
    date_order: DateOrder,
    drop_duplicates: bool,
    _events: SourceFile,
    _products: SourceFile | None,
) -> loading.ShopData:
    products_raw = raw_table(_products) if _products is not None else None
    events_raw = raw_table(_events)  # each read waits in the line on its own, before mapping
    with load_line(_events, _products):
        product_result = None
        if products_raw is not None:
            product_result = loading.map_products(products_raw, mapping=products_mapping)
        event_result = loading.map_events(
            events_raw,
            mapping=events_mapping,
            date_order=date_order,
            drop_duplicates=drop_duplicates,
            products=product_result.frame if product_result is not None else None,
        )
        return loading.make_shop(event_result, product_result)


def load_shop(
    events: SourceFile,
    products: SourceFile | None,
    *,
    events_mapping: dict[str, str | None],
    products_mapping: dict[str, str | None],
    date_order: DateOrder,
    drop_duplicates: bool,
) -> loading.ShopData:
    """Map and validate both files of a shop."""
    return _load_shop(
        (events.digest, events.name),
        (products.digest, products.name) if products is not None else None,
        events_mapping,
        products_mapping,
        date_order,
        drop_duplicates,
        events,
        products,
    )


@st.cache_data(show_spinner="Opening the dataset…", max_entries=2)
def dataset_shop(name: str, stamp: float) -> loading.ShopData:
    """The server's dataset ``name`` in memory; ``stamp`` (its report's modification time)
    keys the cache, so a dataset ingested again under the same name is read again."""
    return open_dataset(load_settings().data_dir, name)


@st.cache_data(show_spinner=False)
def sample_files() -> tuple[SourceFile, SourceFile]:
    """The bundled sample shop's events and products files."""
    settings = load_settings()
    return (
        source_file(settings.sample_events.name, settings.sample_events.read_bytes()),
        source_file(settings.sample_products.name, settings.sample_products.read_bytes()),
    )


def sample_shop() -> loading.ShopData:
    """The bundled sample shop as loaded with the detected mapping, with its photos."""
    events, products = sample_files()
    shop = load_shop(
        events,
        products,
        events_mapping={},
        products_mapping={},
        date_order="auto",
        drop_duplicates=False,
    )
    return with_sample_photos(shop.fingerprint, shop)


@st.cache_data(show_spinner=False)
def sample_photos() -> PhotoSet | None:
    """The bundled sample shop's product photos (``None`` when its folder has none)."""
    return read_sample_photos(load_settings().sample_photos)


@st.cache_data(show_spinner=False, max_entries=4)
def with_sample_photos(fingerprint: str, _shop: loading.ShopData) -> loading.ShopData:
    """The sample shop's tables (as mapped, keyed by their ``fingerprint``) with its photos."""
    return loading.with_photos(_shop, sample_photos())


@st.cache_data(show_spinner=False)
def sample_fingerprint() -> str:
    """The sample shop's fingerprint, kept on its own: the loaded sample may leave the cache."""
    return sample_shop().fingerprint


@st.cache_resource(show_spinner=False, max_entries=4)
def _photos_by_item(fingerprint: str, _shop: loading.ShopData) -> dict[str, Photo]:
    photos = _shop.photos.photos if _shop.photos is not None else ()
    return {photo.item_id: photo for photo in photos}


@st.cache_data(show_spinner=False, max_entries=20_000)
def _thumbnail(digest: str, _data: bytes) -> str | None:
    return thumbnail_url(_data)


def thumbnails(shop: loading.ShopData, item_ids: Iterable[str]) -> list[str | None] | None:
    """Each item's photo as a small ``data:`` URL (``None`` for an item without a photo), or
    ``None`` when the shop has no photos at all."""
    if shop.photos is None:
        return None
    photos = _photos_by_item(shop.fingerprint, shop)
    found = (photos.get(str(item)) for item in item_ids)
    return [None if p is None else _thumbnail(p.digest, p.data) for p in found]


@st.cache_data(show_spinner=False, max_entries=4)
def shop_profile(fingerprint: str, _shop: loading.ShopData) -> profile.Profile:
    """The profile of a loaded shop, keyed by its fingerprint."""
    return profile.profile_events(_shop.events.frame, _shop.product_frame)


@st.cache_data(show_spinner="Building features for every user and time window…", max_entries=4)
def _purchase_data(
    fingerprint: str,
    _shop: loading.ShopData,
    settings: services.PurchaseSettings,
    tables: str | None,
    _features: services.DatasetFeatures,
) -> purchase.PurchaseData:
    found = _features.tables
    return services.prepare_purchase(
        _shop, settings, features_at=None if found is None else found.users_at
    )


@st.cache_data(show_spinner=False, max_entries=8)
def _dataset_features(
    fingerprint: str,
    _shop: loading.ShopData,
    dataset: str,
    cutoff: pd.Timestamp | None,
    horizon_days: int,
    written: float,
) -> services.DatasetFeatures:
    settings = services.PurchaseSettings(horizon_days=horizon_days, cutoff=cutoff)
    return services.dataset_features(Path(dataset), _shop, settings)


def dataset_features(
    shop: loading.ShopData, settings: services.PurchaseSettings, dataset: Path | None
) -> services.DatasetFeatures:
    """The feature tables a server dataset keeps for these settings (none for other data);
    looked up once per split and per time the tables were written."""
    if dataset is None:
        return services.DatasetFeatures()
    return _dataset_features(
        shop.fingerprint,
        shop,
        str(dataset),
        settings.cutoff,
        settings.horizon_days,
        _tables_written(dataset),
    )


@st.cache_data(show_spinner=False, max_entries=8)
def _dataset_interactions(
    fingerprint: str,
    _shop: loading.ShopData,
    dataset: str,
    evaluate: bool,
    cutoff: pd.Timestamp | None,
    horizon_days: int,
    train_windows: int,
    written: float,
) -> services.DatasetFeatures:
    settings = services.RecommendSettings(
        recommend.RecommenderConfig(train_windows=train_windows), evaluate, cutoff, horizon_days
    )
    return services.dataset_interactions(Path(dataset), _shop, settings)


def dataset_interactions(
    shop: loading.ShopData, settings: services.RecommendSettings, dataset: Path | None
) -> services.DatasetFeatures:
    """The feature tables a server dataset keeps for the recommender with these settings (none
    for other data); looked up once per split and per time the tables were written."""
    if dataset is None:
        return services.DatasetFeatures()
    return _dataset_interactions(
        shop.fingerprint,
        shop,
        str(dataset),
        settings.evaluate,
        settings.cutoff,
        settings.horizon_days,
        settings.config.train_windows,
        _tables_written(dataset),
    )


def _tables_written(dataset: Path) -> float:
    """When the dataset's feature tables were last written (0: it has none)."""
    try:
        return (dataset / batch.IN_DATASET).stat().st_mtime
    except OSError:
        return 0.0


def purchase_data(
    fingerprint: str,
    shop: loading.ShopData,
    settings: services.PurchaseSettings,
    dataset: Path | None = None,
) -> purchase.PurchaseData:
    """Training windows, evaluation and deployment tables for the settings' cutoff and horizon
    (``cutoff=None``: the latest that leaves H days after it), on the settings' users; read from
    the feature tables of the server dataset in ``dataset`` when it keeps some for them."""
    # Only what the tables depend on is the key: the cutoff, H, the users and the sampling seed
    # (a limit of at least the data's users is every user).
    max_users = settings.max_users
    if max_users is not None and max_users >= shop_profile(fingerprint, shop).users:
        max_users = None
    key = services.PurchaseSettings(
        NetworkConfig(random_state=settings.tables_seed),
        settings.horizon_days,
        settings.cutoff,
        max_users,
    )
    features = dataset_features(shop, key, dataset)
    found = None if features.tables is None else str(features.tables.folder)
    return _purchase_data(fingerprint, shop, key, found, features)


# --- Shop overview -------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """What the Shop overview looks at: the days ``first_day..last_day`` (both included) and
    the categories, brands and event types kept (``None`` keeps all)."""

    first_day: dt.date
    last_day: dt.date
    categories: tuple[str, ...] | None = None
    brands: tuple[str, ...] | None = None
    event_types: tuple[str, ...] | None = None

    @property
    def days(self) -> int:
        """Days in the period."""
        return (self.last_day - self.first_day).days + 1

    def as_core(self) -> an.Selection:
        """The core's selection: a period ``[start, end)`` (the end is the day after the last)
        and the filters."""
        return {
            **an.period_of_days(self.first_day, self.last_day),
            "categories": self.categories,
            "brands": self.brands,
            "event_types": self.event_types,
        }


@st.cache_data(show_spinner=False, max_entries=4)
def overview_options(fingerprint: str, _shop: loading.ShopData) -> an.FilterOptions:
    """The date span, categories, brands and event types the shop can be filtered by."""
    return an.list_filter_options(_shop.events.frame, _shop.product_frame)


@st.cache_data(show_spinner="Computing the overview…", max_entries=32)
def overview(
    fingerprint: str,
    _shop: loading.ShopData,
    selection: Selection,
    trend_freq: an.Freq,
    window_hours: float,
    top_n: int,
) -> an.Overview:
    """Everything the Shop overview shows for the selection, keyed by the shop's fingerprint."""
    return an.compute_overview(
        _shop.events.frame,
        _shop.product_frame,
        **selection.as_core(),
        trend_freq=trend_freq,
        window_hours=window_hours,
        top_n=top_n,
    )


@st.cache_data(show_spinner=False, max_entries=4)
def dataset_overview_options(folder: str, stamp: float) -> an.FilterOptions:
    """The filter options of the server's dataset in ``folder``, from its files; ``stamp`` (its
    report's modification time) keys the cache."""
    return dataset_filter_options(Path(folder))


def dataset_overview(
    folder: str,
    stamp: float,
    selection: Selection,
    trend_freq: an.Freq,
    window_hours: float,
    top_n: int,
) -> an.Overview:
    """``overview`` of the server's dataset in ``folder``, computed by DuckDB over its files;
    another period of the trends computes the trends alone."""
    daily = _dataset_overview_daily(folder, stamp, selection, window_hours, top_n)
    if trend_freq == "D":
        return daily
    return dataclasses.replace(daily, trends=_dataset_trends(folder, stamp, selection, trend_freq))


@st.cache_data(show_spinner="Computing the overview over the dataset's files…", max_entries=32)
def _dataset_overview_daily(
    folder: str, stamp: float, selection: Selection, window_hours: float, top_n: int
) -> an.Overview:
    return compute_dataset_overview(
        Path(folder), **selection.as_core(), window_hours=window_hours, top_n=top_n
    )


@st.cache_data(show_spinner="Computing the trends over the dataset's files…", max_entries=32)
def _dataset_trends(
    folder: str, stamp: float, selection: Selection, trend_freq: an.Freq
) -> pd.DataFrame:
    return dataset_trends(Path(folder), trend_freq, **selection.as_core())


@st.cache_data(show_spinner="Listing the users…", max_entries=8)
def dataset_overview_users(folder: str, stamp: float, selection: Selection) -> pd.DataFrame:
    """``overview_users`` of the server's dataset in ``folder``, computed by DuckDB."""
    return dataset_users_in(Path(folder), **selection.as_core())


@st.cache_data(show_spinner="Listing the users…", max_entries=8)
def overview_users(fingerprint: str, _shop: loading.ShopData, selection: Selection) -> pd.DataFrame:
    """The users with an event in the overview's selection, biggest spenders first."""
    return an.users_in(_shop.events.frame, _shop.product_frame, **selection.as_core())


@st.cache_data(show_spinner=False, max_entries=4)
def user_ids(fingerprint: str, _shop: loading.ShopData) -> UserIds:
    """The dataset's user ids, ready to find one a command names."""
    return UserIds.of(_shop.events.frame[schema.USER_ID])
