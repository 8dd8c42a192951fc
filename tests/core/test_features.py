"""Tests for per-user features, orders and labels: hand-computed values on tiny event tables,
and the leakage rule (nothing at or after ``at`` changes the features at ``at``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import schema
from core.purchase import features as feat
from core.schema import CART, FAV, PURCHASE, RETURN, VIEW
from tests.frames import SHORT, make_events

COLUMNS = (*SHORT, schema.QUANTITY, schema.PRICE, schema.ORDER_ID, schema.CATEGORY)


def features_at(
    events: pd.DataFrame, at: str | pd.Timestamp, products: pd.DataFrame | None = None
) -> pd.DataFrame:
    prepared = feat.prepare_events(events, products)
    return feat.user_features(prepared, feat.extract_orders(prepared), pd.Timestamp(at))


AT = pd.Timestamp("2024-04-10")  # day 100 after 2024-01-01; ages below are days before AT

# fmt: off
SHOP = [
    # user a: four orders (o1 has two lines), views, carts and a fav.
    ("a", "p1", VIEW,     "2024-01-01 00:00", 1, 10.0, None, "X"),  # 100
    ("a", "p1", CART,     "2024-01-01 12:00", 1, 10.0, None, "X"),  # 99.5
    ("a", "p1", PURCHASE, "2024-01-02 00:00", 2, 10.0, "o1", "X"),  # 99, line value 20
    ("a", "p2", PURCHASE, "2024-01-02 00:00", 1,  5.0, "o1", "Y"),  # 99, line value 5
    ("a", "p2", PURCHASE, "2024-02-10 00:00", 3,  5.0, "o4", "Y"),  # 60, value 15
    ("a", "p3", VIEW,     "2024-02-20 00:00", 1, 20.0, None, "Y"),  # 50
    ("a", "p3", CART,     "2024-02-20 12:00", 1, 20.0, None, "Y"),  # 49.5
    ("a", "p3", PURCHASE, "2024-03-21 00:00", 1, 20.0, "o2", "Y"),  # 20, value 20
    ("a", "p1", PURCHASE, "2024-04-05 00:00", 1, 10.0, "o3", "X"),  # 5, value 10
    ("a", "p2", VIEW,     "2024-04-08 00:00", 1,  5.0, None, "Y"),  # 2
    ("a", "p2", FAV,      "2024-04-09 00:00", 1,  5.0, None, "Y"),  # 1
    # user b: one order without an order id, and a return (not an order) exactly 7 days back.
    ("b", "p1", VIEW,     "2024-03-31 00:00", 1, 10.0, None, "X"),  # 10
    ("b", "p2", VIEW,     "2024-03-31 06:00", 1,  5.0, None, "Y"),  # 9.75
    ("b", "p1", CART,     "2024-04-01 00:00", 1, 10.0, None, "X"),  # 9
    ("b", "p2", CART,     "2024-04-01 06:00", 1,  5.0, None, "Y"),  # 8.75
    ("b", "p1", PURCHASE, "2024-04-02 00:00", 1, 10.0, None, "X"),  # 8
    ("b", "p1", RETURN,   "2024-04-03 00:00", 1, 10.0, "r1", "X"),  # 7
    # user d: a single view half a day back.
    ("d", "p3", VIEW,     "2024-04-09 12:00", 1, 20.0, None, "Y"),  # 0.5
    # user c: only after AT, so absent from the features at AT.
    ("c", "p1", VIEW,     "2024-04-12 00:00", 1, 10.0, None, "X"),
    ("c", "p1", PURCHASE, "2024-04-13 00:00", 1, 10.0, "o9", "X"),
]
# fmt: on

EXPECTED = {
    "a": {
        feat.TENURE: 100.0,
        feat.SINCE_EVENT: 1.0,
        feat.ORDERS: 4.0,
        feat.SINCE_ORDER: 5.0,
        feat.SPEND: 70.0,  # 20 + 5 + 15 + 20 + 10
        feat.AVG_ORDER_VALUE: 17.5,
        feat.MEAN_GAP: (99 - 5) / 3,
        feat.LAST_GAP: 15.0,  # 20 - 5
        feat.ORDERS_30: 2.0,
        feat.ORDERS_90: 3.0,
        feat.EVENTS_7: 3.0,
        feat.EVENTS_30: 4.0,
        feat.EVENTS_90: 7.0,
        "n_view": 3.0,
        "n_cart": 2.0,
        "n_fav": 1.0,
        "n_purchase": 5.0,
        "n_return": 0.0,
        feat.VIEW_TO_CART: 2 / 3,
        feat.CART_TO_PURCHASE: 1.0,  # 5 purchase lines / 2 carts, capped at 1
        feat.DISTINCT_ITEMS: 3.0,
        feat.DISTINCT_CATEGORIES: 2.0,
        feat.TOP_CATEGORY_SHARE: 40 / 70,  # Y: 5 + 15 + 20 of 70 spent
        feat.AVG_PRICE_PAID: 10.0,  # unit prices of the purchase lines: (10+5+5+20+10) / 5
        feat.SINCE_VIEW: 2.0,
        feat.SINCE_CART: 49.5,
    },
    "b": {
        feat.TENURE: 10.0,
        feat.SINCE_EVENT: 7.0,
        feat.ORDERS: 1.0,
        feat.SINCE_ORDER: 8.0,
        feat.SPEND: 10.0,
        feat.AVG_ORDER_VALUE: 10.0,
        feat.MEAN_GAP: 10.0,  # fewer than two orders: the tenure
        feat.LAST_GAP: 10.0,
        feat.ORDERS_30: 1.0,
        feat.ORDERS_90: 1.0,
        feat.EVENTS_7: 1.0,  # the return exactly 7 days back counts
        feat.EVENTS_30: 6.0,
        feat.EVENTS_90: 6.0,
        "n_view": 2.0,
        "n_cart": 2.0,
        "n_fav": 0.0,
        "n_purchase": 1.0,
        "n_return": 1.0,
        feat.VIEW_TO_CART: 1.0,
        feat.CART_TO_PURCHASE: 0.5,
        feat.DISTINCT_ITEMS: 2.0,
        feat.DISTINCT_CATEGORIES: 2.0,
        feat.TOP_CATEGORY_SHARE: 1.0,
        feat.AVG_PRICE_PAID: 10.0,
        feat.SINCE_VIEW: 9.75,
        feat.SINCE_CART: 8.75,
    },
    "d": {
        feat.TENURE: 0.5,
        feat.SINCE_EVENT: 0.5,
        feat.ORDERS: 0.0,
        feat.SINCE_ORDER: 0.5,  # never ordered: the tenure
        feat.SPEND: 0.0,
        feat.AVG_ORDER_VALUE: 0.0,
        feat.MEAN_GAP: 0.5,
        feat.LAST_GAP: 0.5,
        feat.ORDERS_30: 0.0,
        feat.ORDERS_90: 0.0,
        feat.EVENTS_7: 1.0,
        feat.EVENTS_30: 1.0,
        feat.EVENTS_90: 1.0,
        "n_view": 1.0,
        "n_cart": 0.0,
        "n_fav": 0.0,
        "n_purchase": 0.0,
        "n_return": 0.0,
        feat.VIEW_TO_CART: 0.0,
        feat.CART_TO_PURCHASE: 0.0,
        feat.DISTINCT_ITEMS: 1.0,
        feat.DISTINCT_CATEGORIES: 1.0,
        feat.TOP_CATEGORY_SHARE: 0.0,
        feat.AVG_PRICE_PAID: 0.0,
        feat.SINCE_VIEW: 0.5,
        feat.SINCE_CART: 0.5,  # never carted: the tenure
    },
}


@pytest.fixture(scope="module")
def shop() -> pd.DataFrame:
    return make_events(SHOP, COLUMNS)


@pytest.fixture(scope="module")
def features(shop: pd.DataFrame) -> pd.DataFrame:
    return features_at(shop, AT)


# --- hand-computed features ---------------------------------------------------------------


@pytest.mark.parametrize("user", sorted(EXPECTED))
def test_every_feature_has_its_hand_computed_value(features, user):
    assert features.loc[user].to_dict() == pytest.approx(EXPECTED[user])


def test_features_have_exactly_the_expected_columns(features):
    assert set(features.columns) == set(EXPECTED["a"])
    assert features.index.name == schema.USER_ID


def test_users_without_an_event_before_at_are_absent(features):
    assert sorted(features.index) == ["a", "b", "d"]


def test_features_before_the_first_event_are_an_empty_table(shop):
    empty = features_at(shop, "2023-12-31")
    assert empty.empty
    assert set(empty.columns) >= {feat.TENURE, feat.ORDERS, feat.EVENTS_7}


def test_at_exactly_an_event_time_excludes_that_event(shop):
    """At a's last order (2024-04-05), that order and its day are not yet counted."""
    row = features_at(shop, "2024-04-05").loc["a"]
    assert row[feat.ORDERS] == 3
    assert row[feat.SINCE_ORDER] == pytest.approx(15.0)  # o2 on 2024-03-21
    assert row[feat.SPEND] == pytest.approx(60.0)
    assert row[feat.SINCE_EVENT] == pytest.approx(15.0)


def test_spend_columns_are_absent_without_prices(shop):
    without = features_at(shop.drop(columns=[schema.PRICE]), AT)
    assert feat.SPEND not in without.columns
    assert feat.AVG_ORDER_VALUE not in without.columns
    assert feat.AVG_PRICE_PAID not in without.columns
    # Without prices the top category is taken by purchase lines: a bought Y on 3 of 5 lines.
    assert without.loc["a", feat.TOP_CATEGORY_SHARE] == pytest.approx(3 / 5)
    assert without.loc["a", feat.ORDERS] == 4


def test_spend_uses_one_unit_per_line_without_a_quantity(shop):
    row = features_at(shop.drop(columns=[schema.QUANTITY]), AT).loc["a"]
    assert row[feat.SPEND] == pytest.approx(10 + 5 + 5 + 20 + 10)
    assert row[feat.AVG_ORDER_VALUE] == pytest.approx(50 / 4)


def test_item_and_category_features_are_absent_without_those_columns(shop):
    without = features_at(shop.drop(columns=[schema.ITEM_ID, schema.CATEGORY]), AT)
    for name in (feat.DISTINCT_ITEMS, feat.DISTINCT_CATEGORIES, feat.TOP_CATEGORY_SHARE):
        assert name not in without.columns


# --- the product table --------------------------------------------------------------------

PRODUCTS = pd.DataFrame(
    {
        schema.ITEM_ID: pd.Categorical(["p1", "p2", "p3"]),
        schema.CATEGORY: pd.Categorical(["X", "Y", "Y"]),
        schema.PRICE: [10.0, 30.0, 50.0],
    }
)
# fmt: off
BARE = [  # no price, quantity or category on the events
    ("u", "p1", VIEW,     "2024-01-01"),
    ("u", "p2", VIEW,     "2024-01-02"),
    ("u", "p9", VIEW,     "2024-01-03"),  # not in the product table: no price, no category
    ("v", "p1", PURCHASE, "2024-01-01"),
    ("v", "p2", PURCHASE, "2024-01-02"),
    ("v", "p3", PURCHASE, "2024-01-03"),
]
# fmt: on


def test_prepare_events_takes_category_and_price_from_the_product_table():
    prepared = feat.prepare_events(make_events(BARE), PRODUCTS)
    assert isinstance(prepared[schema.CATEGORY].dtype, pd.CategoricalDtype)
    items = prepared[schema.ITEM_ID].astype("str")
    category = (
        prepared[schema.CATEGORY].astype("object").where(prepared[schema.CATEGORY].notna(), None)
    )
    price = (
        prepared[feat.VIEWED_PRICE]
        .astype("object")
        .where(prepared[feat.VIEWED_PRICE].notna(), None)
    )
    assert dict(zip(items, category, strict=True)) == {"p1": "X", "p2": "Y", "p3": "Y", "p9": None}
    assert dict(zip(items, price, strict=True)) == {"p1": 10.0, "p2": 30.0, "p3": 50.0, "p9": None}


def test_category_and_viewed_price_features_come_from_the_product_table():
    features = features_at(make_events(BARE), "2024-02-01", PRODUCTS)
    u, v = features.loc["u"], features.loc["v"]
    assert u[feat.VIEWED_PRICE] == pytest.approx((10 + 30) / 2)  # p9 has no price: skipped
    assert u[feat.DISTINCT_CATEGORIES] == 2  # X, Y (p9 has none)
    assert v[feat.DISTINCT_CATEGORIES] == 2
    assert v[feat.TOP_CATEGORY_SHARE] == pytest.approx(2 / 3)  # by lines: no event prices
    assert feat.SPEND not in features.columns  # product prices are not prices paid


def test_categories_on_the_events_are_kept_over_the_product_table(shop):
    products = PRODUCTS.assign(**{schema.CATEGORY: pd.Categorical(["Z", "Z", "Z"])})
    prepared = feat.prepare_events(shop, products)
    assert set(prepared[schema.CATEGORY].astype("str")) == {"X", "Y"}


def test_prepare_events_sorts_by_time_without_changing_its_input(shop):
    shuffled = shop.sample(frac=1.0, random_state=0).reset_index(drop=True)
    before = shuffled.copy()
    prepared = feat.prepare_events(shuffled)
    assert prepared[schema.TIMESTAMP].is_monotonic_increasing
    pd.testing.assert_frame_equal(shuffled, before)
    pd.testing.assert_frame_equal(features_at(shuffled, AT), features_at(shop, AT))


# --- orders -------------------------------------------------------------------------------


def test_extract_orders_gives_one_row_per_order_id_at_its_first_line():
    events = make_events(
        [
            ("u", "p1", VIEW, "2024-01-01 08:00", 1, 2.0, None, "X"),
            ("u", "p1", PURCHASE, "2024-01-01 09:00", 2, 2.0, "o1", "X"),
            ("u", "p2", PURCHASE, "2024-01-01 09:30", 1, 3.0, "o1", "X"),  # later line of o1
            ("u", "p2", PURCHASE, "2024-01-01 10:00", 1, 3.0, "o2", "X"),  # same day, new order
            ("v", "p1", PURCHASE, "2024-01-01 09:15", 1, 4.0, "o3", "X"),
            ("u", "p1", RETURN, "2024-01-02 09:00", 1, 2.0, "o1", "X"),  # a return: no order
        ],
        COLUMNS,
    )
    orders = feat.extract_orders(events)
    assert list(orders.columns) == [schema.USER_ID, schema.TIMESTAMP, feat.ORDER_VALUE]
    assert orders[schema.USER_ID].astype("str").tolist() == ["u", "v", "u"]
    assert orders[schema.TIMESTAMP].tolist() == [
        pd.Timestamp("2024-01-01 09:00"),
        pd.Timestamp("2024-01-01 09:15"),
        pd.Timestamp("2024-01-01 10:00"),
    ]
    assert orders[feat.ORDER_VALUE].tolist() == pytest.approx([2 * 2 + 3, 4.0, 3.0])
    users = orders[schema.USER_ID].cat.categories
    assert list(users) == list(events[schema.USER_ID].cat.categories)


def test_without_order_ids_an_order_is_a_user_day_with_a_purchase():
    events = make_events(
        [
            ("u", "p1", PURCHASE, "2024-01-01 09:00", 1, 2.0, "X"),
            ("v", "p1", PURCHASE, "2024-01-01 10:00", 1, 4.0, "X"),
            ("u", "p2", PURCHASE, "2024-01-01 18:00", 2, 3.0, "X"),  # same user and day
            ("u", "p1", PURCHASE, "2024-01-02 08:00", 1, 2.0, "X"),  # next day: a new order
            ("u", "p1", VIEW, "2024-01-03 08:00", 1, 2.0, "X"),
        ],
        (*SHORT, schema.QUANTITY, schema.PRICE, schema.CATEGORY),
    )
    orders = feat.extract_orders(events)
    assert orders[schema.USER_ID].astype("str").tolist() == ["u", "v", "u"]
    assert orders[schema.TIMESTAMP].tolist() == [
        pd.Timestamp("2024-01-01 09:00"),
        pd.Timestamp("2024-01-01 10:00"),
        pd.Timestamp("2024-01-02 08:00"),
    ]
    assert orders[feat.ORDER_VALUE].tolist() == pytest.approx([2 + 6, 4.0, 2.0])


def test_lines_without_an_order_id_fall_back_to_user_days():
    events = make_events(
        [
            ("u", "p1", PURCHASE, "2024-01-01 09:00", 1, 1.0, "o1", "X"),
            ("u", "p1", PURCHASE, "2024-01-01 11:00", 1, 2.0, None, "X"),
            ("u", "p1", PURCHASE, "2024-01-01 12:00", 1, 4.0, None, "X"),  # same day: same order
            ("u", "p1", PURCHASE, "2024-01-02 09:00", 1, 8.0, None, "X"),
            ("u", "p1", PURCHASE, "2024-01-02 10:00", 1, 16.0, "o1", "X"),  # o1 again
        ],
        COLUMNS,
    )
    orders = feat.extract_orders(events)
    assert orders[schema.TIMESTAMP].tolist() == [
        pd.Timestamp("2024-01-01 09:00"),
        pd.Timestamp("2024-01-01 11:00"),
        pd.Timestamp("2024-01-02 09:00"),
    ]
    assert orders[feat.ORDER_VALUE].tolist() == pytest.approx([17.0, 6.0, 8.0])


def test_order_values_are_missing_without_prices():
    events = make_events(
        [("u", "p1", PURCHASE, "2024-01-01", "o1")],
        (*SHORT, schema.ORDER_ID),
    )
    orders = feat.extract_orders(events)
    assert len(orders) == 1
    assert orders[feat.ORDER_VALUE].isna().all()


def test_no_purchases_give_no_orders():
    events = make_events([("u", "p1", VIEW, "2024-01-01", 1, 2.0, None, "X")], COLUMNS)
    orders = feat.extract_orders(events)
    assert orders.empty
    assert list(orders.columns) == [schema.USER_ID, schema.TIMESTAMP, feat.ORDER_VALUE]
    features = feat.user_features(events, orders, pd.Timestamp("2024-02-01"))
    assert features.loc["u", feat.ORDERS] == 0
    assert feat.SPEND not in features.columns


def test_count_orders_counts_from_start_inclusive_to_end_exclusive():
    events = make_events(
        [
            ("u", "p1", PURCHASE, "2024-01-09 23:59", 1, 1.0, "o1", "X"),  # before start
            ("u", "p1", PURCHASE, "2024-01-10 00:00", 1, 1.0, "o2", "X"),  # at start: in
            ("u", "p1", PURCHASE, "2024-01-15 00:00", 1, 1.0, "o3", "X"),  # in
            ("v", "p1", PURCHASE, "2024-01-19 23:59", 1, 1.0, "o4", "X"),  # just before end: in
            ("v", "p1", PURCHASE, "2024-01-20 00:00", 1, 1.0, "o5", "X"),  # at end: out
            ("w", "p1", PURCHASE, "2024-01-25 00:00", 1, 1.0, "o6", "X"),  # after
        ],
        COLUMNS,
    )
    counts = feat.count_orders(
        feat.extract_orders(events), pd.Timestamp("2024-01-10"), pd.Timestamp("2024-01-20")
    )
    assert counts.to_dict() == {"u": 2, "v": 1}


def test_count_orders_of_an_empty_window_is_empty(shop):
    orders = feat.extract_orders(feat.prepare_events(shop))
    counts = feat.count_orders(orders, pd.Timestamp("2030-01-01"), pd.Timestamp("2030-02-01"))
    assert counts.empty


# --- the leakage rule ---------------------------------------------------------------------

# fmt: off
FUTURE = [
    ("a", "p1", VIEW,     "2024-04-10 00:00", 1, 99.0, None,  "X"),  # exactly at AT
    ("a", "p9", PURCHASE, "2024-04-10 00:00", 5, 99.0, "o7",  "Z"),  # exactly at AT, new order
    ("a", "p1", CART,     "2024-04-11 00:00", 1, 10.0, None,  "X"),
    ("b", "p2", PURCHASE, "2024-04-10 00:00", 1, 50.0, None,  "Y"),  # at AT, no order id
    ("b", "p2", RETURN,   "2024-05-01 00:00", 1, 50.0, "r2",  "Y"),
    ("d", "p3", PURCHASE, "2024-06-01 00:00", 4, 20.0, "o8",  "Y"),
    ("e", "p1", VIEW,     "2024-04-10 00:00", 1, 10.0, None,  "X"),  # a new user at AT
    ("e", "p1", PURCHASE, "2024-04-20 00:00", 1, 10.0, "o10", "X"),
]
# fmt: on


def test_future_events_never_change_the_features(features):
    pd.testing.assert_frame_equal(features_at(make_events(SHOP + FUTURE, COLUMNS), AT), features)


def test_changing_events_at_or_after_at_never_changes_the_features(features):
    changed = [
        (row[0], "p2", PURCHASE, row[3], 7, 70.0, "o1", "Y") if pd.Timestamp(row[3]) >= AT else row
        for row in SHOP + FUTURE
    ]
    pd.testing.assert_frame_equal(features_at(make_events(changed, COLUMNS), AT), features)


def test_a_later_line_of_an_earlier_order_does_not_change_the_features(features):
    """o3 was placed before AT; a line of it at or after AT must not add to the spend."""
    later_lines = [
        ("a", "p3", PURCHASE, "2024-04-10 00:00", 2, 20.0, "o3", "Y"),
        ("a", "p3", PURCHASE, "2024-04-15 00:00", 1, 20.0, "o1", "Y"),
    ]
    pd.testing.assert_frame_equal(
        features_at(make_events(SHOP + later_lines, COLUMNS), AT), features
    )


def test_a_later_purchase_on_the_same_day_does_not_change_the_features(shop):
    """Without order ids, b's purchases of one day make one order; at midday, the afternoon's
    purchase is in the future and must not add to the spend."""
    at = pd.Timestamp("2024-04-02 12:00")
    afternoon = [
        ("b", "p2", PURCHASE, "2024-04-02 12:00", 1, 5.0, None, "Y"),
        ("b", "p2", PURCHASE, "2024-04-02 18:00", 3, 5.0, None, "Y"),
    ]
    before = features_at(shop, at)
    assert before.loc["b", feat.SPEND] == pytest.approx(10.0)
    pd.testing.assert_frame_equal(features_at(make_events(SHOP + afternoon, COLUMNS), at), before)


def random_events(rng: np.random.Generator, n: int, start: str, days: float) -> list[tuple]:
    """Random events of users u0..u3: every type, order ids reused across lines, or none."""
    kinds = [VIEW, CART, FAV, PURCHASE, RETURN]
    stamps = pd.Timestamp(start) + pd.to_timedelta(rng.uniform(0, days, n), unit="D")
    rows = []
    for stamp in stamps:
        order = rng.choice(["o1", "o2", "o3", "o4", "o5", None])
        rows.append(
            (
                f"u{rng.integers(4)}",
                f"p{rng.integers(5)}",
                kinds[rng.integers(5)],
                stamp.round("h"),
                float(rng.integers(1, 4)),
                float(rng.choice([1.0, 2.5, 10.0, np.nan])),
                order,
                rng.choice(["X", "Y", "Z", None]),
            )
        )
    return rows


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_future_events_never_change_the_features(seed):
    rng = np.random.default_rng(seed)
    past = random_events(rng, 40, "2024-01-01", 30)
    for at in (pd.Timestamp("2024-01-20"), pd.Timestamp("2024-01-25 13:00")):
        future = random_events(rng, 20, str(at), 10)
        future += [(row[0], "p1", PURCHASE, at, 1.0, 3.0, row[6], "X") for row in past[:5]]
        expected = features_at(make_events(past, COLUMNS), at)
        assert len(expected)
        pd.testing.assert_frame_equal(
            features_at(make_events(past + future, COLUMNS), at), expected
        )
