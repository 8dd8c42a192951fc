"""Tests for the sample shop generator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import schema
from core.data.sample import generate_sample_world, write_sample_files
from core.schema import CART, FAV, PURCHASE, RETURN, VIEW
from tests.frames import SHORT

SMALL = {"n_users": 300, "n_items": 100}
START = pd.Timestamp("2026-05-01")
DAYS = 184


@pytest.fixture(scope="module")
def shop() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate_sample_world(**SMALL).frames


@pytest.fixture(scope="module")
def events(shop: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    return shop[0]


@pytest.fixture(scope="module")
def products(shop: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    return shop[1]


def test_the_same_seed_gives_identical_frames(shop):
    again = generate_sample_world(**SMALL).frames
    pd.testing.assert_frame_equal(shop[0], again[0])
    pd.testing.assert_frame_equal(shop[1], again[1])


def test_a_different_seed_gives_a_different_shop(events):
    other, _ = generate_sample_world(random_state=8, **SMALL).frames
    assert not events.equals(other)


def test_events_and_products_have_exactly_the_documented_columns(events, products):
    event_columns = [*SHORT, schema.QUANTITY, schema.PRICE, schema.ORDER_ID, schema.SESSION_ID]
    product_columns = [schema.ITEM_ID, schema.CATEGORY, schema.PRICE, schema.BRAND, schema.NAME]
    assert list(events.columns) == event_columns
    assert list(products.columns) == product_columns


def test_ids_are_plain_prefixed_strings(events, products):
    assert products[schema.ITEM_ID].str.fullmatch(r"p\d{4}").all()
    assert products[schema.ITEM_ID].is_unique
    assert events[schema.USER_ID].str.fullmatch(r"u\d{5}").all()
    assert events[schema.SESSION_ID].str.fullmatch(r"s\d{6}").all()
    assert events[schema.ORDER_ID].dropna().str.fullmatch(r"o\d{6}").all()


def test_event_types_are_canonical_and_all_occur(events):
    assert set(events[schema.EVENT_TYPE]) == set(schema.EVENT_TYPES)


def test_every_event_item_is_in_the_catalogue(events, products):
    assert events[schema.ITEM_ID].isin(products[schema.ITEM_ID]).all()


def test_event_prices_are_the_catalogue_prices_in_cents(events, products):
    catalogue = products.set_index(schema.ITEM_ID)[schema.PRICE]
    np.testing.assert_array_equal(
        events[schema.PRICE].to_numpy(), catalogue.loc[events[schema.ITEM_ID]].to_numpy()
    )
    assert (products[schema.PRICE] > 0).all()
    assert np.allclose(products[schema.PRICE] * 100, np.round(products[schema.PRICE] * 100))


def test_quantities_are_positive_integers(events):
    assert pd.api.types.is_integer_dtype(events[schema.QUANTITY])
    assert (events[schema.QUANTITY] >= 1).all()


def test_timestamps_are_whole_seconds_sorted_and_inside_the_period(events):
    assert events[schema.TIMESTAMP].dtype == "datetime64[s]"
    assert events[schema.TIMESTAMP].is_monotonic_increasing
    assert events[schema.TIMESTAMP].min() >= START
    assert events[schema.TIMESTAMP].max() < START + pd.Timedelta(days=DAYS)


def test_order_ids_appear_exactly_on_purchase_and_return_rows(events):
    is_order_line = events[schema.EVENT_TYPE].isin([PURCHASE, RETURN])
    assert (events[schema.ORDER_ID].notna() == is_order_line).all()


def test_each_order_belongs_to_one_user_and_one_session(events):
    purchases = events[events[schema.EVENT_TYPE] == PURCHASE]
    assert (
        purchases.groupby(schema.ORDER_ID)[[schema.USER_ID, schema.SESSION_ID]].nunique() == 1
    ).all(axis=None)


def test_every_return_follows_a_purchase_of_the_same_item_by_the_same_user(events):
    purchases = events[events[schema.EVENT_TYPE] == PURCHASE]
    returns = events[events[schema.EVENT_TYPE] == RETURN]
    assert len(returns) > 0
    pairs = returns.reset_index().merge(
        purchases, on=[schema.USER_ID, schema.ITEM_ID], suffixes=("", "_bought")
    )
    earlier = pairs[
        (pairs[schema.TIMESTAMP + "_bought"] < pairs[schema.TIMESTAMP])
        & (pairs[schema.ORDER_ID + "_bought"] == pairs[schema.ORDER_ID])
    ]
    assert set(earlier["index"]) == set(returns.index)


def test_some_users_buy_repeatedly(events):
    purchases = events[events[schema.EVENT_TYPE] == PURCHASE]
    orders_per_user = purchases.groupby(schema.USER_ID)[schema.ORDER_ID].nunique()
    assert (orders_per_user >= 2).sum() >= 10
    assert (orders_per_user == 1).sum() >= 10


def test_some_users_first_appear_in_the_last_two_months(events):
    first_seen = events.groupby(schema.USER_ID)[schema.TIMESTAMP].min()
    late_share = (first_seen >= START + pd.Timedelta(days=DAYS - 61)).mean()
    assert 0.05 < late_share < 0.35


def test_the_funnel_shares_are_plausible(events):
    share = events[schema.EVENT_TYPE].value_counts(normalize=True)
    assert 0.70 < share[VIEW] < 0.88
    assert 0.06 < share[CART] < 0.15
    assert 0.02 < share[FAV] < 0.07
    assert 0.03 < share[PURCHASE] < 0.08
    assert share[RETURN] < 0.01
    assert share[PURCHASE] < share[CART] < share[VIEW]


def test_heavy_buyers_concentrate_on_a_favourite_category(events, products):
    purchases = events[events[schema.EVENT_TYPE] == PURCHASE].merge(
        products[[schema.ITEM_ID, schema.CATEGORY]]
    )
    counts = purchases.groupby([schema.USER_ID, schema.CATEGORY]).size().unstack(fill_value=0)
    heavy = counts[counts.sum(axis=1) >= 5]
    assert len(heavy) >= 10
    top_share = (heavy.max(axis=1) / heavy.sum(axis=1)).mean()
    assert top_share > 3 / products[schema.CATEGORY].nunique()


def test_fewer_categories_still_give_a_consistent_shop():
    events, products = generate_sample_world(n_users=50, n_items=10, n_categories=3, days=30).frames
    assert products[schema.CATEGORY].nunique() == 3
    assert events[schema.ITEM_ID].isin(products[schema.ITEM_ID]).all()
    assert events[schema.TIMESTAMP].max() < START + pd.Timedelta(days=30)


def test_impossible_sizes_are_rejected():
    with pytest.raises(ValueError):
        generate_sample_world(n_categories=21)
    with pytest.raises(ValueError):
        generate_sample_world(n_items=5, n_categories=10)


def test_the_default_shop_has_the_intended_size():
    events, products = generate_sample_world().frames
    assert events[schema.USER_ID].nunique() == 5000
    assert len(products) == 1000
    assert products[schema.CATEGORY].nunique() == 20
    assert 40 <= products[schema.BRAND].nunique() <= 60
    assert 180_000 <= len(events) <= 230_000
    span = events[schema.TIMESTAMP].max() - events[schema.TIMESTAMP].min()
    assert span > pd.Timedelta(days=170)
    median_price = products.groupby(schema.CATEGORY)[schema.PRICE].median()
    assert median_price["Books"] < median_price["Electronics"]


@pytest.mark.slow
def test_writing_the_sample_twice_gives_byte_identical_files(tmp_path: Path):
    first = write_sample_files(tmp_path / "a")
    second = write_sample_files(tmp_path / "b")
    assert [p.name for p in first] == ["sample_events.csv.gz", "sample_products.csv"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
    again = write_sample_files(tmp_path / "a")
    assert again[0].read_bytes() == second[0].read_bytes()
    events = pd.read_csv(first[0])
    assert list(events.columns)[:4] == list(SHORT)  # user, item, event type, time
    assert events[schema.TIMESTAMP].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()


def test_the_sample_world_holds_the_shop_and_its_hidden_tastes():
    world = generate_sample_world(n_users=200, n_items=50, n_categories=5, random_state=3)
    events, products = world.frames
    assert events is world.events and products is world.products
    assert world.taste.shape == (200, 5) and world.popularity.shape == (5, 50)
    assert len(world.user_ids) == len(world.budget) == len(world.sensitivity) == 200
    assert set(events["user_id"]) <= set(world.user_ids)
    # Each item's popularity sits in its own category's row only.
    assert (world.popularity[world.item_category, range(50)] > 0).all()
    assert (world.popularity > 0).sum() == 50
