"""Tests for the Shop overview analytics: hand-computed KPIs, funnels with a conversion window,
sessions at the 30-minute boundary, trends, product tables, RFM, cohorts and the degenerate
cases (empty period, one user, no prices, purchase-only data, no item ids)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import overview as an
from core import schema
from core.errors import MissingColumnsError
from core.overview.customers import _quintile_scores
from core.schema import CART, FAV, PURCHASE, RETURN, VIEW
from tests.frames import SHORT, canonical, make_events, make_products

# --- the KPI shop: previous period 2024-02-23 .. 03-01, period 03-01 .. 03-08 -----------------

KPI_COLUMNS = (*SHORT, schema.QUANTITY, schema.PRICE, schema.ORDER_ID)
# fmt: off
KPI_SHOP = [
    ("a", "p1", VIEW,     "2024-02-20 10:00", 1,      10.0, None),  # before both periods
    ("a", "p1", VIEW,     "2024-02-25 10:00", 1,      10.0, None),  # previous period
    ("a", "p1", PURCHASE, "2024-02-25 10:10", 1,      10.0, "o1"),  # order o1: 10
    ("b", "p2", VIEW,     "2024-02-26 09:00", 1,       5.0, None),  # b is new then
    ("a", "p1", VIEW,     "2024-03-02 10:00", 1,      10.0, None),  # period
    ("a", "p1", CART,     "2024-03-02 10:05", 1,      10.0, None),
    ("a", "p1", PURCHASE, "2024-03-02 10:20", 2,      10.0, "o2"),  # order o2: 2 x 10 ...
    ("a", "p2", PURCHASE, "2024-03-02 10:20", 1,       5.0, "o2"),  # ... + 5
    ("c", "p2", VIEW,     "2024-03-03 12:00", 1,       5.0, None),  # c is new
    ("c", "p2", CART,     "2024-03-03 12:01", 1,       5.0, None),
    ("c", "p2", PURCHASE, "2024-03-04 08:00", 1,       5.0, None),  # order (c, 03-04): 5 ...
    ("c", "p3", PURCHASE, "2024-03-04 20:00", np.nan,  7.0, None),  # ... + 7 (quantity 1)
    ("c", "p2", RETURN,   "2024-03-05 09:00", 1,       5.0, None),  # not subtracted
    ("b", "p3", VIEW,     "2024-03-06 11:00", 1,       7.0, None),  # b returns
]
# fmt: on
START, END = "2024-03-01", "2024-03-08"


@pytest.fixture
def kpi_shop() -> pd.DataFrame:
    return make_events(KPI_SHOP, KPI_COLUMNS)


def test_kpis_of_a_period_are_counted_by_hand(kpi_shop):
    kpis = an.compute_kpis(kpi_shop, start=START, end=END)

    assert kpis.value(an.ACTIVE_USERS) == 3
    assert kpis.value(an.NEW_USERS) == 1  # c
    assert kpis.value(an.SESSIONS) == 6  # a 1; b 1; c: 03-03, 03-04 08:00, 20:00, 03-05
    assert kpis.value(an.VIEWS) == 3
    assert kpis.value(an.CARTS) == 2
    assert kpis.value(an.ORDERS) == 2  # o2 and (c, 2024-03-04)
    assert kpis.value(an.BUYERS) == 2
    assert kpis.value(an.REVENUE) == pytest.approx(37.0)  # 2 x 10 + 5 + 5 + 7
    assert kpis.value(an.AVERAGE_ORDER_VALUE) == pytest.approx(18.5)
    assert kpis.value(an.CONVERSION_RATE) == pytest.approx(2 / 3)
    assert kpis.value(an.REPEAT_BUYER_SHARE) == pytest.approx(0.5)  # a has o1 and o2; c one


def test_kpis_compare_with_the_previous_period_of_equal_length(kpi_shop):
    kpis = an.compute_kpis(kpi_shop, start=START, end=END)

    assert kpis.previous_start == pd.Timestamp("2024-02-23")
    assert kpis.previous_complete
    assert kpis.previous(an.ACTIVE_USERS) == 2
    assert kpis.previous(an.NEW_USERS) == 1  # b; a was first seen on 02-20
    assert kpis.previous(an.REVENUE) == pytest.approx(10.0)
    assert kpis.previous(an.REPEAT_BUYER_SHARE) == 0.0  # a had one order by 03-01
    assert kpis.change(an.ACTIVE_USERS) == pytest.approx(0.5)
    assert kpis.change(an.REVENUE) == pytest.approx(2.7)
    assert kpis.change(an.CARTS) is None  # from 0
    table = kpis.table
    assert table.loc[an.CARTS, an.DIFFERENCE] == 2
    assert table.loc[an.CONVERSION_RATE, an.DIFFERENCE] == pytest.approx(2 / 3 - 1 / 2)
    assert list(table.index) == [key for key, _, _ in an.KPIS]


def test_previous_period_before_the_data_is_unknown_not_zero(kpi_shop):
    kpis = an.compute_kpis(kpi_shop, start="2024-02-20", end="2024-02-27")

    assert kpis.previous(an.ACTIVE_USERS) is None
    assert kpis.change(an.ACTIVE_USERS) is None
    assert not kpis.previous_complete


def test_new_users_are_judged_on_all_events_not_just_the_period(kpi_shop):
    later = an.compute_kpis(kpi_shop, start="2024-03-06", end="2024-03-07")

    assert later.value(an.ACTIVE_USERS) == 1  # b, first seen on 02-26
    assert later.value(an.NEW_USERS) == 0


def test_revenue_multiplies_price_by_quantity_and_ignores_returns():
    events = make_events(
        [
            ("a", "p1", PURCHASE, "2024-01-01 10:00", 3, 2.5),
            ("a", "p1", RETURN, "2024-01-02 10:00", 3, 2.5),
            ("b", "p2", PURCHASE, "2024-01-02 11:00", np.nan, 4.0),
        ],
        (*SHORT, schema.QUANTITY, schema.PRICE),
    )
    kpis = an.compute_kpis(events, start="2024-01-01", end="2024-01-03")

    assert kpis.value(an.REVENUE) == pytest.approx(3 * 2.5 + 4.0)
    assert kpis.value(an.ORDERS) == 2


def test_revenue_falls_back_to_the_product_tables_price():
    events = make_events(
        [
            ("a", "p1", PURCHASE, "2024-01-01 10:00", 2),
            ("a", "p2", PURCHASE, "2024-01-01 11:00", 1),
        ],
        (*SHORT, schema.QUANTITY),
    )
    products = make_products([("p1", 4.0), ("p2", 1.5)], (schema.ITEM_ID, schema.PRICE))

    overview = an.compute_overview(events, products)

    assert overview.kpis.value(an.REVENUE) == pytest.approx(2 * 4.0 + 1.5)
    assert overview.kpis.value(an.ORDERS) == 1  # one user-day


def test_without_prices_revenue_and_order_value_are_none():
    events = make_events([("a", "p1", VIEW, "2024-01-01"), ("a", "p1", PURCHASE, "2024-01-01")])
    kpis = an.compute_kpis(events, start="2024-01-01", end="2024-01-02")

    assert not kpis.has_revenue
    assert kpis.value(an.REVENUE) is None
    assert kpis.value(an.AVERAGE_ORDER_VALUE) is None
    assert kpis.value(an.ORDERS) == 1
    assert kpis.value(an.CONVERSION_RATE) == 1.0


def test_an_empty_period_has_zero_counts_and_undefined_rates(kpi_shop):
    kpis = an.compute_kpis(kpi_shop, start="2024-05-01", end="2024-05-08")

    assert kpis.value(an.ACTIVE_USERS) == 0
    assert kpis.value(an.SESSIONS) == 0
    assert kpis.value(an.REVENUE) == 0.0
    assert kpis.value(an.CONVERSION_RATE) is None
    assert kpis.value(an.AVERAGE_ORDER_VALUE) is None
    assert kpis.value(an.REPEAT_BUYER_SHARE) is None


def test_order_ids_group_lines_and_user_days_stand_in_where_there_is_none(kpi_shop):
    all_time = an.compute_kpis(kpi_shop, start="2024-02-01", end="2024-04-01")

    assert all_time.value(an.ORDERS) == 3  # o1, o2, (c, 2024-03-04)


# --- sessions ------------------------------------------------------------------------------


def test_a_gap_of_exactly_thirty_minutes_continues_the_session():
    events = make_events(
        [("a", "p", VIEW, "2024-01-01 10:00:00"), ("a", "p", VIEW, "2024-01-01 10:30:00")]
    )
    assert an.split_sessions(events).tolist() == [0, 0]


def test_a_gap_just_over_thirty_minutes_starts_a_new_session():
    events = make_events(
        [("a", "p", VIEW, "2024-01-01 10:00:00"), ("a", "p", VIEW, "2024-01-01 10:30:00.001")]
    )
    assert an.split_sessions(events).tolist() == [0, 1]


def test_sessions_are_split_per_user_when_users_interleave():
    events = make_events(
        [
            ("a", "p", VIEW, "2024-01-01 10:00"),
            ("b", "p", VIEW, "2024-01-01 10:10"),
            ("a", "p", VIEW, "2024-01-01 10:25"),  # a: 25 min later, same session
            ("b", "p", VIEW, "2024-01-01 10:50"),  # b: 40 min later, a new one
            ("a", "p", VIEW, "2024-01-01 11:00"),  # a: 35 min later, a new one
        ]
    )
    assert an.split_sessions(events).tolist() == [0, 1, 0, 2, 3]
    assert an.split_sessions(events, gap_minutes=60).tolist() == [0, 1, 0, 1, 0]


def test_session_ids_are_kept_and_only_events_without_one_are_split():
    events = make_events(
        [
            ("a", "p", VIEW, "2024-01-01 10:00", "s1"),
            ("a", "p", VIEW, "2024-01-01 12:00", "s1"),  # two hours apart, same session id
            ("a", "p", VIEW, "2024-01-01 13:00", None),
            ("a", "p", VIEW, "2024-01-01 13:10", None),
        ],
        (*SHORT, schema.SESSION_ID),
    )
    assert an.split_sessions(events).tolist() == [0, 0, 1, 1]
    assert an.split_sessions(events, use_session_id=False).tolist() == [0, 1, 2, 2]


# --- funnels -------------------------------------------------------------------------------

# fmt: off
FUNNEL = [
    ("u1", "p1", VIEW,     "2024-01-01 00:00"),
    ("u1", "p1", CART,     "2024-01-09 00:00"),  # 8 days after the view
    ("u1", "p1", PURCHASE, "2024-01-09 01:00"),
    ("u2", "p1", VIEW,     "2024-01-01 00:00"),
    ("u2", "p1", PURCHASE, "2024-01-02 00:00"),  # before the cart: does not count
    ("u2", "p1", CART,     "2024-01-03 00:00"),
    ("u3", "p1", VIEW,     "2024-01-01 00:00"),
    ("u3", "p1", CART,     "2024-01-01 00:00"),  # at the view's time: in order
    ("u3", "p1", PURCHASE, "2024-01-08 00:00"),  # exactly 7 days after the view: counts
    ("u4", "p1", VIEW,     "2024-01-02 00:00"),
    ("u4", "p1", CART,     "2024-01-03 00:00"),
    ("u4", "p1", PURCHASE, "2024-01-04 00:00"),
    ("u5", "p1", CART,     "2024-01-02 00:00"),  # never viewed: never enters
]
# fmt: on


@pytest.fixture
def funnel_events() -> pd.DataFrame:
    return make_events(FUNNEL)


def steps_of(funnel: an.Funnel) -> dict[str, int]:
    return dict(zip(funnel.steps[an.STEP], funnel.steps[an.USERS], strict=True))


def test_a_cart_eight_days_after_the_view_does_not_count_with_a_seven_day_window(funnel_events):
    week = an.compute_funnel(funnel_events, start="2024-01-01", end="2024-01-08")
    nine_days = an.compute_funnel(
        funnel_events, start="2024-01-01", end="2024-01-08", window_hours=24 * 9
    )

    assert steps_of(week) == {VIEW: 4, CART: 3, PURCHASE: 2}
    assert steps_of(nine_days) == {VIEW: 4, CART: 4, PURCHASE: 3}  # u1 converts too


def test_a_purchase_before_the_cart_does_not_count(funnel_events):
    reached = an.users_in_funnel(funnel_events, step=PURCHASE, start="2024-01-01", end="2024-01-08")
    dropped = an.users_in_funnel(
        funnel_events, step=PURCHASE, dropped=True, start="2024-01-01", end="2024-01-08"
    )

    assert sorted(reached[schema.USER_ID]) == ["u3", "u4"]
    assert dropped[schema.USER_ID].tolist() == ["u2"]
    assert dropped[an.FURTHEST_STEP].tolist() == [CART]


def test_funnel_conversion_drop_off_and_time_between_steps(funnel_events):
    steps = an.compute_funnel(funnel_events, start="2024-01-01", end="2024-01-08").steps

    assert steps[an.CONVERSION_FROM_PREVIOUS].tolist()[1:] == pytest.approx([3 / 4, 2 / 3])
    assert steps[an.CONVERSION_FROM_FIRST].tolist() == pytest.approx([1.0, 3 / 4, 1 / 2])
    assert steps[an.DROP_OFF].tolist()[1:] == [1, 1]
    assert steps[an.DROP_OFF_SHARE].tolist()[1:] == pytest.approx([1 / 4, 1 / 3])
    # carts after 48 h (u2), 0 h (u3) and 24 h (u4); purchases 168 h (u3) and 24 h (u4) later
    assert steps[an.MEDIAN_HOURS].tolist()[1:] == pytest.approx([24.0, 96.0])


def test_users_enter_at_their_first_view_in_the_period_and_may_convert_after_it():
    events = make_events(
        [
            ("u6", "p1", VIEW, "2023-12-20 00:00"),  # before the period: not the entry
            ("u6", "p1", VIEW, "2024-01-05 00:00"),
            ("u6", "p1", CART, "2024-01-06 00:00"),
            ("u7", "p1", VIEW, "2024-01-07 23:00"),
            ("u7", "p1", CART, "2024-01-08 01:00"),  # after the period, within the window
            ("u8", "p1", VIEW, "2024-01-08 00:00"),  # at the end: outside the period
            ("u9", "p1", PURCHASE, "2023-12-01 00:00"),
        ]
    )
    funnel = an.compute_funnel(events, start="2024-01-01", end="2024-01-08")

    assert steps_of(funnel) == {VIEW: 2, CART: 2, PURCHASE: 0}
    assert funnel.message is None


def test_purchase_only_data_gives_a_one_step_funnel_and_says_what_is_missing():
    events = make_events([("a", "p", PURCHASE, "2024-01-01"), ("b", "p", PURCHASE, "2024-01-02")])
    funnel = an.compute_funnel(events)

    assert funnel.step_names == (PURCHASE,)
    assert funnel.missing_steps == (VIEW, CART)
    assert steps_of(funnel) == {PURCHASE: 2}
    assert "No view or cart events" in funnel.message


def test_a_funnel_without_carts_goes_from_view_to_purchase():
    events = make_events(
        [
            ("a", "p", VIEW, "2024-01-01"),
            ("a", "p", PURCHASE, "2024-01-02"),
            ("b", "p", VIEW, "2024-01-01"),
            ("b", "p", FAV, "2024-01-02"),
        ]
    )
    funnel = an.compute_funnel(events)

    assert steps_of(funnel) == {VIEW: 2, PURCHASE: 1}
    assert "cart" in funnel.message


def test_a_funnel_split_by_category_keeps_every_step_in_the_category():
    products = make_products([("p1", "X"), ("p2", "Y")], (schema.ITEM_ID, schema.CATEGORY))
    events = make_events(
        [
            ("u1", "p1", VIEW, "2024-01-01 00:00"),  # views X ...
            ("u1", "p2", CART, "2024-01-01 01:00"),  # ... but carts and buys Y
            ("u1", "p2", PURCHASE, "2024-01-01 02:00"),
            ("u2", "p1", VIEW, "2024-01-01 00:00"),
            ("u2", "p1", CART, "2024-01-01 01:00"),
            ("u2", "p1", PURCHASE, "2024-01-01 02:00"),
            ("u3", "p2", VIEW, "2024-01-01 00:00"),
            ("u3", "p2", CART, "2024-01-01 01:00"),
        ]
    )
    steps = an.compute_funnel(events, products, by="category").steps

    assert steps[an.SEGMENT].tolist() == ["X"] * 3 + ["Y"] * 3  # most entries first
    assert steps[an.USERS].tolist() == [2, 1, 1, 1, 1, 0]


def test_a_funnel_split_by_new_vs_returning_uses_the_first_event_ever():
    events = make_events(
        [
            ("old", "p", FAV, "2023-12-01"),
            ("old", "p", VIEW, "2024-01-02"),
            ("old", "p", CART, "2024-01-02"),
            ("new", "p", VIEW, "2024-01-03"),
        ]
    )
    steps = an.compute_funnel(events, start="2024-01-01", by="new_vs_returning").steps
    users = steps.set_index([an.SEGMENT, an.STEP])[an.USERS]

    assert users[(an.NEW, VIEW)] == 1
    assert users[(an.NEW, CART)] == 0
    assert users[(an.RETURNING, CART)] == 1


def test_a_funnel_split_by_brand_without_brands_raises_missing_columns_error(funnel_events):
    with pytest.raises(MissingColumnsError, match="no brands"):
        an.compute_funnel(funnel_events, by="brand")


def test_funnel_trend_counts_one_entry_per_user_and_week():
    events = make_events(
        [
            ("a", "p", VIEW, "2024-01-01 10:00"),  # Monday, week of 01-01
            ("a", "p", VIEW, "2024-01-02 10:00"),  # same week: not a second entry
            ("a", "p", CART, "2024-01-09 09:00"),  # 7 days 23 h later: only week 2's entry
            ("a", "p", VIEW, "2024-01-09 08:00"),  # week of 01-08
            ("b", "p", VIEW, "2024-01-10 08:00"),
        ]
    )
    trend = an.funnel_trend(events, window_hours=24)

    assert trend[an.PERIOD].tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-08")]
    assert trend[VIEW].tolist() == [1, 2]
    assert trend[CART].tolist() == [0, 1]
    assert trend[f"{VIEW}_to_{CART}"].tolist() == pytest.approx([0.0, 0.5])
    assert trend[an.COMPLETE].tolist() == [True, False]


# --- trends --------------------------------------------------------------------------------


def test_daily_trends_count_types_orders_revenue_and_users_with_empty_days():
    events = make_events(
        [
            ("a", "p", VIEW, "2024-01-01 10:00", 1, 2.0),
            ("a", "p", PURCHASE, "2024-01-01 11:00", 2, 2.0),
            ("b", "p", VIEW, "2024-01-01 12:00", 1, 2.0),
            ("b", "p", VIEW, "2024-01-03 12:00", 1, 2.0),
        ],
        (*SHORT, schema.QUANTITY, schema.PRICE),
    )
    trends = an.event_trends(events, freq="D")

    assert trends[an.PERIOD].dt.day.tolist() == [1, 2, 3]
    assert trends[VIEW].tolist() == [2, 0, 1]
    assert trends[PURCHASE].tolist() == [1, 0, 0]
    assert trends[an.ORDERS].tolist() == [1, 0, 0]
    assert trends[an.REVENUE].tolist() == pytest.approx([4.0, 0.0, 0.0])
    assert trends[an.ACTIVE_USERS].tolist() == [2, 0, 1]
    assert trends[an.BUYERS].tolist() == [1, 0, 0]


def test_weekly_trends_start_on_monday_and_monthly_on_the_first():
    events = make_events(
        [("a", "p", VIEW, "2024-01-07 23:00"), ("a", "p", VIEW, "2024-01-08 01:00")]
    )
    weekly = an.event_trends(events, freq="W")
    monthly = an.event_trends(events, freq="M")

    assert weekly[an.PERIOD].tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-08")]
    assert weekly[VIEW].tolist() == [1, 1]
    assert monthly[an.PERIOD].tolist() == [pd.Timestamp("2024-01-01")]
    assert monthly[an.ACTIVE_USERS].tolist() == [1]


def test_hour_weekday_heatmap_counts_events_by_weekday_and_hour():
    events = make_events(
        [
            ("a", "p", VIEW, "2024-01-01 10:15"),  # Monday
            ("a", "p", VIEW, "2024-01-01 10:45"),
            ("b", "p", VIEW, "2024-01-07 23:59"),  # Sunday
        ]
    )
    heatmap = an.hour_weekday_heatmap(events)

    assert heatmap.shape == (7, 24)
    assert heatmap.loc["Monday", 10] == 2
    assert heatmap.loc["Sunday", 23] == 1
    assert heatmap.to_numpy().sum() == 3


# --- products ------------------------------------------------------------------------------

PRODUCTS = make_products(
    [
        ("p1", "X", "Acme", 10.0, "Kettle"),
        ("p2", "X", "Bolt", 20.0, "Pan"),
        ("p3", "Y", "Acme", 5.0, "Book"),
    ],
    (schema.ITEM_ID, schema.CATEGORY, schema.BRAND, schema.PRICE, schema.NAME),
)
# fmt: off
SALES = [
    ("a", "p1", VIEW,     "2024-01-01 10:00", 1, 10.0),
    ("a", "p1", PURCHASE, "2024-01-01 10:05", 2, 10.0),
    ("a", "p2", PURCHASE, "2024-01-01 10:05", 1, 20.0),
    ("b", "p1", VIEW,     "2024-01-02 10:00", 1, 10.0),
    ("b", "p3", VIEW,     "2024-01-02 10:01", 1,  5.0),
    ("b", "p3", VIEW,     "2024-01-02 10:02", 1,  5.0),
    ("b", "p3", CART,     "2024-01-02 10:03", 1,  5.0),
    ("b", "p1", PURCHASE, "2024-01-03 10:00", 1, 10.0),
    ("c", "p3", PURCHASE, "2024-01-03 11:00", 1,  5.0),  # bought without a view
]
# fmt: on


@pytest.fixture
def sales() -> pd.DataFrame:
    return make_events(SALES, (*SHORT, schema.QUANTITY, schema.PRICE))


def test_top_items_rank_by_the_chosen_measure_with_product_details(sales):
    by_revenue = an.top_items(sales, PRODUCTS, by="revenue")
    by_views = an.top_items(sales, PRODUCTS, by="views", n=1)

    assert by_revenue[schema.ITEM_ID].tolist() == ["p1", "p2", "p3"]
    first = by_revenue.iloc[0]
    assert first[[schema.NAME, schema.CATEGORY, schema.BRAND]].tolist() == ["Kettle", "X", "Acme"]
    assert first[an.REVENUE] == pytest.approx(30.0)
    assert first[an.ORDERS] == 2
    assert first[an.UNITS] == 3
    assert first[an.BUYERS] == 2
    assert by_views[schema.ITEM_ID].tolist() == ["p1"]  # 2 views, ties with p3 broken by order


def test_top_categories_and_brands_come_from_the_product_table(sales):
    categories = an.top_segments(sales, PRODUCTS, by="orders")
    brands = an.top_segments(sales, PRODUCTS, segment="brand", by="revenue")

    assert categories[schema.CATEGORY].tolist() == ["X", "Y"]
    assert categories[an.ORDERS].tolist() == [2, 1]  # a's order has two X lines
    assert categories[an.REVENUE].tolist() == pytest.approx([50.0, 5.0])
    assert brands[schema.BRAND].tolist() == ["Acme", "Bolt"]
    assert brands[an.REVENUE].tolist() == pytest.approx([35.0, 20.0])


def test_ranking_by_revenue_without_prices_raises_missing_columns_error():
    events = make_events([("a", "p1", PURCHASE, "2024-01-01")])
    with pytest.raises(MissingColumnsError, match="no prices"):
        an.top_items(events, by="revenue")


def test_product_figures_without_item_ids_raise_missing_columns_error():
    events = make_events(
        [("a", PURCHASE, "2024-01-01")], (schema.USER_ID, schema.EVENT_TYPE, schema.TIMESTAMP)
    )
    with pytest.raises(MissingColumnsError, match="no item ids"):
        an.top_items(events)
    with pytest.raises(MissingColumnsError, match="no item ids"):
        an.long_tail(events)


def test_category_conversion_counts_viewers_who_bought_after_viewing(sales):
    table = an.category_conversion(sales, PRODUCTS).set_index(schema.CATEGORY)

    assert table.loc["X", an.VIEWERS] == 2
    assert table.loc["X", an.CONVERTED] == 2  # a and b bought X after viewing it
    assert table.loc["X", an.VIEW_TO_PURCHASE] == pytest.approx(1.0)
    assert table.loc["Y", an.VIEWERS] == 1  # b; c bought Y without viewing it
    assert table.loc["Y", an.CONVERTED] == 0
    assert table.loc["Y", an.PURCHASES_PER_VIEW] == pytest.approx(1 / 2)


def test_price_distribution_gives_quantiles_of_item_prices_per_category(sales):
    table = an.price_distribution(sales, PRODUCTS).set_index(schema.CATEGORY)

    assert table.loc["X", an.ITEMS] == 2
    assert table.loc["X", an.MEDIAN] == pytest.approx(15.0)
    assert table.loc["X", an.P25] == pytest.approx(12.5)
    assert (table.loc["Y", an.MIN], table.loc["Y", an.MAX]) == (5.0, 5.0)


def test_long_tail_shares_of_sales_from_the_top_items():
    # units sold: p1 50, p2 30, p3 10, p4 10; p5 only viewed
    rows = [("a", f"p{i}", PURCHASE, "2024-01-01", q) for i, q in ((1, 50), (2, 30), (3, 10))]
    rows += [("b", "p4", PURCHASE, "2024-01-02", 10), ("b", "p5", VIEW, "2024-01-02", 1)]
    events = make_events(rows, (*SHORT, schema.QUANTITY))

    seen = an.long_tail(events, among="seen")
    sold = an.long_tail(events)

    assert (seen.items, seen.items_sold) == (5, 4)
    assert seen.share_of_top(0.2) == pytest.approx(0.5)
    assert seen.share_of_top(0.4) == pytest.approx(0.8)
    assert seen.share_of_top(0.6) == pytest.approx(0.9)
    assert seen.share_of_top(0.8) == pytest.approx(1.0)
    assert sold.share_of_top(0.25) == pytest.approx(0.5)
    assert sold.share_of_top(0.5) == pytest.approx(0.8)
    curve = seen.curve.set_index(an.ITEM_SHARE)[an.SALES_SHARE]
    assert len(curve) == 101
    assert curve.loc[0.5] == pytest.approx(0.85)  # halfway between 2 and 3 items


# --- customers -----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [5, 6, 7, 10, 13, 23])
def test_quintile_scores_match_pandas_qcut_of_first_ranks(n):
    values = np.random.default_rng(n).integers(0, 4, n).astype(float)  # many ties

    expected = pd.qcut(pd.Series(values).rank(method="first"), 5, labels=[1, 2, 3, 4, 5])

    assert _quintile_scores(values).tolist() == expected.astype(int).tolist()


AT = pd.Timestamp("2024-06-01")
# user: (orders, days from the last order to AT, value per order)
RFM_USERS = {"u1": (5, 100, 10.0), "u2": (1, 1, 100.0), "u3": (3, 50, 5.0)}
RFM_USERS |= {"u4": (4, 10, 20.0), "u5": (2, 80, 1.0)}


@pytest.fixture
def rfm_events() -> pd.DataFrame:
    rows = [
        (user, "p", PURCHASE, AT - pd.Timedelta(days=recency + k), 1, value)
        for user, (orders, recency, value) in RFM_USERS.items()
        for k in range(orders)
    ]
    return make_events(rows, (*SHORT, schema.QUANTITY, schema.PRICE))


def test_rfm_scores_and_segments_of_a_hand_made_table(rfm_events):
    rfm = an.rfm_segments(rfm_events, at=AT).set_index(schema.USER_ID)

    assert rfm[an.RECENCY_DAYS].to_dict() == {"u1": 100, "u2": 1, "u3": 50, "u4": 10, "u5": 80}
    assert rfm[an.FREQUENCY].to_dict() == {"u1": 5, "u2": 1, "u3": 3, "u4": 4, "u5": 2}
    assert rfm[an.MONETARY].to_dict() == {"u1": 50, "u2": 100, "u3": 15, "u4": 80, "u5": 2}
    assert rfm[an.R_SCORE].to_dict() == {"u1": 1, "u2": 5, "u3": 3, "u4": 4, "u5": 2}
    assert rfm[an.F_SCORE].to_dict() == {"u1": 5, "u2": 1, "u3": 3, "u4": 4, "u5": 2}
    assert rfm[an.M_SCORE].to_dict() == {"u1": 3, "u2": 5, "u3": 2, "u4": 4, "u5": 1}
    assert rfm[an.SEGMENT].astype(str).to_dict() == {
        "u1": an.CANT_LOSE,
        "u2": an.NEW_CUSTOMERS,
        "u3": an.NEED_ATTENTION,
        "u4": an.LOYAL,
        "u5": an.HIBERNATING,
    }


def test_rfm_ties_are_ranked_first_come_first_served():
    rows = [(f"u{i}", "p", PURCHASE, "2024-01-01", 1, 1.0) for i in range(5)]
    rfm = an.rfm_segments(
        make_events(rows, (*SHORT, schema.QUANTITY, schema.PRICE)), at="2024-01-02"
    )

    assert rfm[an.F_SCORE].tolist() == [1, 2, 3, 4, 5]
    assert rfm[an.R_SCORE].tolist() == [5, 4, 3, 2, 1]


@pytest.mark.parametrize(
    ("r", "f", "segment"),
    [
        (5, 5, an.CHAMPIONS),
        (5, 4, an.CHAMPIONS),
        (4, 5, an.LOYAL),
        (3, 4, an.LOYAL),
        (5, 2, an.POTENTIAL_LOYALISTS),
        (4, 3, an.POTENTIAL_LOYALISTS),
        (5, 1, an.NEW_CUSTOMERS),
        (4, 1, an.PROMISING),
        (3, 3, an.NEED_ATTENTION),
        (3, 2, an.ABOUT_TO_SLEEP),
        (2, 4, an.AT_RISK),
        (1, 3, an.AT_RISK),
        (1, 5, an.CANT_LOSE),
        (2, 2, an.HIBERNATING),
        (2, 1, an.HIBERNATING),
        (1, 2, an.LOST),
        (1, 1, an.LOST),
    ],
)
def test_the_rf_grid_names_each_score_pair(r, f, segment):
    assert an.RF_GRID[r - 1][f - 1] == segment


def test_every_grid_cell_is_one_of_the_eleven_segments():
    cells = {name for row in an.RF_GRID for name in row}
    assert cells == set(an.SEGMENTS)
    assert len(an.SEGMENTS) == 11


def test_segment_summary_lists_every_segment_with_user_and_revenue_shares(rfm_events):
    summary = an.segment_summary(an.rfm_segments(rfm_events, at=AT)).set_index(an.SEGMENT)

    assert list(summary.index) == list(an.SEGMENTS)
    assert summary[an.USERS].sum() == 5
    assert summary.loc[an.CHAMPIONS, an.USERS] == 0
    assert summary.loc[an.NEW_CUSTOMERS, an.USER_SHARE] == pytest.approx(0.2)
    assert summary.loc[an.NEW_CUSTOMERS, an.REVENUE_SHARE] == pytest.approx(100 / 247)
    assert summary[an.REVENUE_SHARE].sum() == pytest.approx(1.0)


def test_users_in_segment_lists_the_users_behind_a_segment(rfm_events):
    rfm = an.rfm_segments(rfm_events, at=AT)

    chosen = an.users_in_segment(rfm, [an.LOYAL, an.NEW_CUSTOMERS])

    assert sorted(chosen[schema.USER_ID]) == ["u2", "u4"]


def test_rfm_without_prices_has_no_monetary_score():
    events = make_events([("a", "p", PURCHASE, "2024-01-01"), ("b", "p", PURCHASE, "2024-01-02")])
    rfm = an.rfm_segments(events)

    assert rfm[an.MONETARY].isna().all()
    assert rfm[an.M_SCORE].isna().all()
    assert an.segment_summary(rfm)[an.REVENUE_SHARE].isna().all()


def test_rfm_of_one_user_scores_them_without_error():
    events = make_events(
        [("a", "p", PURCHASE, "2024-01-01", 1, 5.0)], (*SHORT, schema.QUANTITY, schema.PRICE)
    )
    rfm = an.rfm_segments(events)

    assert rfm[schema.USER_ID].tolist() == ["a"]
    assert rfm[an.RECENCY_DAYS].tolist() == [1.0]  # to midnight after the last event
    assert (rfm[an.R_SCORE].iloc[0], rfm[an.F_SCORE].iloc[0]) == (5, 1)


def test_new_vs_returning_splits_each_weeks_active_users():
    events = make_events(
        [
            ("a", "p", VIEW, "2024-01-01"),
            ("a", "p", VIEW, "2024-01-09"),
            ("b", "p", VIEW, "2024-01-10"),
        ]
    )
    table = an.new_vs_returning(events, freq="W")

    assert table[an.ACTIVE_USERS].tolist() == [1, 2]
    assert table[an.NEW_USERS].tolist() == [1, 1]
    assert table[an.RETURNING_USERS].tolist() == [0, 1]
    assert table[an.NEW_SHARE].tolist() == pytest.approx([1.0, 0.5])


# fmt: off
COHORTS = [
    ("u1", "p", VIEW,     "2024-01-10"),
    ("u2", "p", VIEW,     "2024-01-20"),
    ("u2", "p", PURCHASE, "2024-01-21"),
    ("u3", "p", VIEW,     "2024-02-05"),
    ("u1", "p", VIEW,     "2024-02-10"),
    ("u1", "p", PURCHASE, "2024-03-01"),
    ("u3", "p", VIEW,     "2024-03-15"),
]
# fmt: on


def test_cohort_retention_shares_of_active_users_by_month_since_acquisition():
    table = an.cohort_retention(make_events(COHORTS), metric="active")

    assert list(table.shares.index) == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")]
    assert table.sizes.tolist() == [2, 1]
    np.testing.assert_allclose(table.shares.to_numpy(), [[1.0, 0.5, 0.5], [1.0, 1.0, np.nan]])


def test_cohort_retention_of_buyers_starts_at_their_first_purchase():
    table = an.cohort_retention(make_events(COHORTS), metric="buying")

    # u2 first bought in January, u1 in March (after a January view): one buyer per cohort,
    # and month 0 is every buyer of the cohort.
    assert list(table.shares.index) == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-03-01")]
    assert table.sizes.tolist() == [1, 1]
    np.testing.assert_allclose(table.shares.to_numpy(), [[1.0, 0.0, 0.0], [1.0, np.nan, np.nan]])


def test_users_in_cohort_lists_a_cohort_or_one_of_its_cells():
    events = make_events(COHORTS)

    assert sorted(an.users_in_cohort(events, cohort="2024-01-01")[schema.USER_ID]) == ["u1", "u2"]
    cell = an.users_in_cohort(events, cohort="2024-03", months_since=0, metric="buying")
    assert cell[schema.USER_ID].tolist() == ["u1"]  # u1's first purchase is in March
    assert an.users_in_cohort(events, cohort="2024-01", months_since=2, metric="buying").empty


# --- filters and the users behind a selection ----------------------------------------------


def test_filter_events_keeps_start_and_drops_end(sales):
    kept = an.filter_events(sales, start="2024-01-02 10:00", end="2024-01-03 10:00")

    assert kept[schema.TIMESTAMP].tolist() == [
        pd.Timestamp(t)
        for t in ("2024-01-02 10:00", "2024-01-02 10:01", "2024-01-02 10:02", "2024-01-02 10:03")
    ]


def test_filter_by_category_goes_through_the_product_table(sales):
    kept = an.filter_events(sales, PRODUCTS, categories=["Y"])

    assert kept[schema.ITEM_ID].astype(str).tolist() == ["p3"] * 4
    assert kept[schema.USER_ID].dtype == sales[schema.USER_ID].dtype  # categories kept as they were


def test_filter_by_category_uses_the_events_own_column_first():
    events = make_events(
        [("a", "p1", VIEW, "2024-01-01", "Z"), ("a", "p1", VIEW, "2024-01-02", "X")],
        (*SHORT, schema.CATEGORY),
    )
    kept = an.filter_events(events, PRODUCTS, categories="Z")

    assert kept[schema.TIMESTAMP].tolist() == [pd.Timestamp("2024-01-01")]


def test_filters_by_brand_and_event_type_combine(sales):
    kept = an.filter_events(sales, PRODUCTS, brands=["Acme"], event_types=[PURCHASE])

    assert kept[schema.ITEM_ID].astype(str).tolist() == ["p1", "p1", "p3"]


def test_filtering_by_category_without_categories_raises_missing_columns_error(sales):
    with pytest.raises(MissingColumnsError, match="no categories"):
        an.filter_events(sales, categories=["X"])


def test_filter_options_list_what_the_data_can_be_filtered_by(sales):
    options = an.list_filter_options(sales, PRODUCTS)

    assert options.categories == ("X", "Y")
    assert options.brands == ("Acme", "Bolt")
    assert options.event_types == (VIEW, CART, PURCHASE)
    assert options.start == pd.Timestamp("2024-01-01 10:00")


def test_users_in_lists_the_users_behind_a_category_bar(sales):
    users = an.users_in(sales, PRODUCTS, categories="X")

    assert users[schema.USER_ID].tolist() == ["a", "b"]  # biggest spender first
    assert users[an.REVENUE].tolist() == pytest.approx([40.0, 10.0])
    assert users[an.EVENTS].tolist() == [3, 2]
    assert users[an.ORDERS].tolist() == [1, 1]


# --- the whole page ------------------------------------------------------------------------


def test_overview_judges_new_users_on_all_events_under_a_category_filter():
    products = make_products([("p1", "X"), ("p2", "Y")], (schema.ITEM_ID, schema.CATEGORY))
    events = make_events(
        [("u", "p2", VIEW, "2024-01-01"), ("u", "p1", VIEW, "2024-01-10")]  # new to X only
    )
    overview = an.compute_overview(
        events, products, start="2024-01-08", end="2024-01-15", categories=["X"]
    )
    on_filtered = an.compute_kpis(
        an.filter_events(events, products, categories=["X"]), start="2024-01-08", end="2024-01-15"
    )

    assert overview.kpis.value(an.ACTIVE_USERS) == 1
    assert overview.kpis.value(an.NEW_USERS) == 0
    assert on_filtered.value(an.NEW_USERS) == 1


def test_overview_agrees_with_the_single_functions_on_the_sample_shop():
    from core.data.sample import generate_sample_world

    events, products = generate_sample_world(
        n_users=150, n_items=60, n_categories=6, days=60
    ).frames
    events, _ = canonical(events)  # the products stay as generated
    start, end = "2026-06-01", "2026-06-29"

    overview = an.compute_overview(events, products, start=start, end=end)

    pd.testing.assert_frame_equal(
        overview.kpis.table, an.compute_kpis(events, start=start, end=end).table
    )
    pd.testing.assert_frame_equal(
        overview.funnel.steps, an.compute_funnel(events, start=start, end=end).steps
    )
    pd.testing.assert_frame_equal(overview.rfm, an.rfm_segments(events, at=end))
    period = an.filter_events(events, start=start, end=end)
    pd.testing.assert_frame_equal(
        overview.top_items["orders"], an.top_items(period, products, by="orders")
    )
    assert overview.heatmap.to_numpy().sum() == len(period)
    assert set(overview.funnel_splits) == {"new_vs_returning", "category", "brand"}
    assert overview.notes == ()


def test_overview_of_purchase_only_data_without_item_ids_or_prices():
    events = make_events(
        [
            ("a", PURCHASE, "2024-01-01"),
            ("a", PURCHASE, "2024-02-01"),
            ("b", PURCHASE, "2024-02-02"),
        ],
        (schema.USER_ID, schema.EVENT_TYPE, schema.TIMESTAMP),
    )
    overview = an.compute_overview(events)

    assert overview.top_items is None
    assert overview.long_tail is None
    assert overview.category_conversion is None
    assert overview.funnel.step_names == (PURCHASE,)
    assert overview.kpis.value(an.ORDERS) == 3
    assert overview.kpis.value(an.REPEAT_BUYER_SHARE) == pytest.approx(0.5)
    assert overview.rfm[an.FREQUENCY].tolist() == [2, 1]
    assert any("no prices" in note for note in overview.notes)
    assert any("no item ids" in note for note in overview.notes)


def test_overview_of_an_empty_period_is_all_zeros(sales):
    overview = an.compute_overview(sales, PRODUCTS, start="2025-01-01", end="2025-01-08")

    assert overview.kpis.value(an.ACTIVE_USERS) == 0
    assert overview.funnel.steps[an.USERS].tolist() == [0, 0, 0]
    assert "No user had a view event" in overview.funnel.message
    assert overview.trends[an.ACTIVE_USERS].sum() == 0
    assert overview.top_items["views"].empty
    assert len(overview.rfm) == 3  # buyers before the period end still have scores


def test_overview_of_no_events_at_all_does_not_fail():
    events = make_events([], (*SHORT, schema.PRICE))
    overview = an.compute_overview(events)

    assert overview.kpis.value(an.ACTIVE_USERS) == 0
    assert overview.rfm.empty
    assert overview.retention["active"].shares.empty
    assert overview.funnel.message.startswith("No view, cart or purchase events")


def test_split_sessions_aligns_with_the_rows_of_an_unsorted_frame():
    events = make_events(
        [
            ("a", "p", VIEW, "2024-01-01 10:00"),
            ("a", "p", VIEW, "2024-01-01 10:10"),
            ("a", "p", VIEW, "2024-01-01 12:00"),
        ]
    )
    shuffled = events.iloc[[2, 0, 1]]

    sessions = an.split_sessions(shuffled)

    assert sessions.index.tolist() == [2, 0, 1]
    assert sessions.tolist() == [1, 0, 0]


def test_the_overview_leaves_its_inputs_unchanged(kpi_shop):
    events, products = kpi_shop.copy(), PRODUCTS.copy()

    an.compute_overview(events, products, start=START, end=END, categories=["X"])

    pd.testing.assert_frame_equal(events, kpi_shop)
    pd.testing.assert_frame_equal(products, PRODUCTS)


def test_products_are_ranked_only_by_what_the_data_has():
    orders_only = make_events(
        [
            ("a", "i1", PURCHASE, "2024-01-01", 2.0),
            ("b", "i2", PURCHASE, "2024-01-02", 5.0),
            ("b", "i2", PURCHASE, "2024-01-03", 5.0),
        ],
        (*SHORT, schema.PRICE),
    )
    overview = an.compute_overview(orders_only)
    # No views or carts: orders first (the default), then revenue; never an empty "views".
    assert list(overview.top_items) == [an.ORDERS, an.REVENUE]
    assert overview.top_items[an.ORDERS][schema.ITEM_ID].tolist() == ["i2", "i1"]

    no_prices = orders_only.drop(columns=schema.PRICE)
    assert list(an.compute_overview(no_prices).top_items) == [an.ORDERS]

    browsing = make_events(
        [("a", "i1", VIEW, "2024-01-01"), ("a", "i1", PURCHASE, "2024-01-02")], SHORT
    )
    assert list(an.compute_overview(browsing).top_items) == [an.VIEWS, an.ORDERS]


def test_net_revenue_subtracts_returns_written_with_either_sign():
    columns = (*SHORT, schema.QUANTITY, schema.PRICE)
    for returned in (2.0, -2.0):  # UCI-style exports write returned quantities as negatives
        events = make_events(
            [
                ("a", "i1", PURCHASE, "2024-01-01", 3.0, 10.0),
                ("a", "i1", RETURN, "2024-01-02", returned, 10.0),
            ],
            columns,
        )
        kpis = an.compute_overview(events).kpis
        assert kpis.value(an.REVENUE) == pytest.approx(30.0)
        assert kpis.value(an.NET_REVENUE) == pytest.approx(10.0), returned
