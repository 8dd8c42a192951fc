"""The Shop overview page with Streamlit's AppTest: KPIs match the analytics core, filters and
selections narrow the page, and purchase-only data says what it cannot show."""

import datetime as dt
import math

import pandas as pd
from streamlit.testing.v1 import AppTest

from core import overview as an
from core import schema
from core.data.loading import ShopData, load_shop
from core.overview import charts as oc
from tests.pages.apptest import OVERVIEW, run_page
from tests.reading import write
from ui import state

# A CDNOW-like orders export: customer, date, quantity, line amount; no items, no event types.
# One line per customer.
ORDERS_CSV = (
    "customer_id,date,quantity,amount\n"
    "1,1997-01-01,1,11.77\n"
    "2,1997-01-12,1,12.00\n2,1997-01-12,5,77.00\n"
    "3,1997-01-02,2,20.76\n3,1997-03-30,2,20.76\n3,1997-04-02,2,19.54\n"
    "4,1997-01-01,2,29.33\n4,1997-01-18,2,29.73\n4,1997-02-20,1,14.96\n"
    "5,1997-02-01,3,40.00\n"
    "6,1997-02-05,1,9.99\n6,1997-02-25,2,19.98\n"
)


def _page(shop: ShopData | None = None) -> AppTest:
    return run_page(OVERVIEW, session={state.SHOP: shop} if shop is not None else None)


def _core(shop: ShopData, first_day: dt.date, last_day: dt.date, **filters) -> an.Overview:
    products = shop.products.frame if shop.products else None
    return an.compute_overview(
        shop.events.frame,
        products,
        start=pd.Timestamp(first_day),
        end=pd.Timestamp(last_day) + pd.Timedelta(days=1),
        **filters,
    )


def _expected_text(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "n/a"
    return {an.SHARE: f"{value:.1%}", an.MONEY: f"{value:,.2f}"}.get(unit, f"{value:,.0f}")


KPI_LABELS = {label for _, label, _ in an.KPIS}


def _tiles(at: AppTest) -> dict[str, str]:
    """The KPI tiles (other metrics, such as the funnel's conversion, are left out)."""
    return {m.label: m.value for m in at.metric if m.label in KPI_LABELS}


def _assert_tiles_match(at: AppTest, expected: an.Overview) -> None:
    tiles = _tiles(at)
    table = expected.kpis.table
    assert tiles, "no KPI tiles shown"
    for label, shown in tiles.items():
        row = table[table[an.LABEL] == label].iloc[0]
        assert shown == _expected_text(float(row[an.VALUE]), row[an.UNIT]), label


def _user_tables(at: AppTest) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe if schema.USER_ID in d.value.columns]


def _key(shop: ShopData, name: str) -> str:
    return state.overview_key(shop.fingerprint, name)


def test_the_page_renders_on_the_sample_shop_with_the_core_kpis_of_the_last_30_days(sample_shop):
    at = _page()
    assert not at.exception
    assert not at.error
    dates = at.date_input(key=_key(sample_shop, state.OVERVIEW_DATES)).value
    assert dates == (dt.date(2026, 10, 2), dt.date(2026, 10, 31))
    expected = _core(sample_shop, *dates)
    tiles = _tiles(at)
    # Every KPI in order, but postage and fees: the sample shop sells products only.
    shown = expected.kpis.table.drop(index=an.NON_PRODUCT_REVENUE)
    assert list(tiles) == list(shown[an.LABEL])
    _assert_tiles_match(at, expected)
    assert tiles["Active users"] == f"{expected.kpis.value(an.ACTIVE_USERS):,.0f}"
    change = expected.kpis.change(an.ORDERS)
    orders = next(m for m in at.metric if m.label == "Orders")
    assert orders.delta == f"{change:+.1%}"
    assert any(
        "compared with the 30 days before: 2026-09-02 to 2026-10-01" in c.value for c in at.caption
    )
    assert not at.info  # the sample shop can show everything


def test_the_funnel_names_its_conversion_apart_from_buyers_per_active_user(sample_shop):
    at = _page()
    dates = at.date_input(key=_key(sample_shop, state.OVERVIEW_DATES)).value
    funnel = _core(sample_shop, *dates).funnel
    expected = funnel.steps[an.CONVERSION_FROM_FIRST].iloc[-1]

    conversion = next(m for m in at.metric if m.label.startswith("View → purchase within"))
    assert conversion.label == f"View → purchase within {oc.format_hours(funnel.window_hours)}"
    assert conversion.value == f"{expected:.1%}"
    assert "Buyers ÷ active users" in conversion.help


def test_a_date_range_change_updates_the_kpis_and_they_still_match_the_core(sample_shop):
    at = _page()
    before = _tiles(at)
    august = (dt.date(2026, 8, 1), dt.date(2026, 8, 31))
    at.date_input(key=_key(sample_shop, state.OVERVIEW_DATES)).set_value(august).run()
    assert not at.exception
    assert _tiles(at) != before
    _assert_tiles_match(at, _core(sample_shop, *august))


def test_a_category_filter_updates_the_kpis_and_they_still_match_the_core(sample_shop):
    at = _page()
    before = _tiles(at)
    at.multiselect(key=_key(sample_shop, state.OVERVIEW_CATEGORIES)).set_value(["Books"]).run()
    assert not at.exception
    assert _tiles(at) != before
    dates = at.date_input(key=_key(sample_shop, state.OVERVIEW_DATES)).value
    _assert_tiles_match(at, _core(sample_shop, *dates, categories=["Books"]))
    # The category chart's clear button (shown while a category is picked) undoes it.
    at.button(key="overview.clear_categories").click().run()
    assert at.multiselect(key=_key(sample_shop, state.OVERVIEW_CATEGORIES)).value == []
    assert _tiles(at) == before


def test_an_event_type_filter_narrows_the_kpis_and_the_funnel_says_why(sample_shop):
    at = _page()
    event_types = at.multiselect(key=_key(sample_shop, state.OVERVIEW_EVENT_TYPES))
    event_types.set_value(["view", "cart"]).run()
    assert not at.exception
    dates = at.date_input(key=_key(sample_shop, state.OVERVIEW_DATES)).value
    _assert_tiles_match(at, _core(sample_shop, *dates, event_types=["view", "cart"]))
    assert _tiles(at)["Orders"] == "0"
    assert [i.value for i in at.info] == [
        "The event-type filter leaves out purchase events, so the funnel shows view → cart only."
    ]


def test_clear_filters_resets_every_filter_to_the_last_30_days(sample_shop):
    at = _page()
    before = _tiles(at)
    at.date_input(key=_key(sample_shop, state.OVERVIEW_DATES)).set_value(
        (dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    )
    at.multiselect(key=_key(sample_shop, state.OVERVIEW_BRANDS)).set_value(["Kestrel"])
    at.multiselect(key=_key(sample_shop, state.OVERVIEW_EVENT_TYPES)).set_value(["view"]).run()
    assert _tiles(at) != before
    at.button(key=state.OVERVIEW_CLEAR).click().run()
    assert not at.exception
    assert at.multiselect(key=_key(sample_shop, state.OVERVIEW_BRANDS)).value == []
    assert _tiles(at) == before


def test_show_these_users_lists_the_users_of_the_selection(sample_shop):
    at = _page()
    at.multiselect(key=_key(sample_shop, state.OVERVIEW_CATEGORIES)).set_value(["Toys"]).run()
    at.toggle(key=state.OVERVIEW_SHOW_USERS).set_value(True).run()
    assert not at.exception
    dates = at.date_input(key=_key(sample_shop, state.OVERVIEW_DATES)).value
    expected = an.users_in(
        sample_shop.events.frame,
        sample_shop.products.frame,
        start=pd.Timestamp(dates[0]),
        end=pd.Timestamp(dates[1]) + pd.Timedelta(days=1),
        categories=["Toys"],
    )
    (table,) = _user_tables(at)
    assert list(table[schema.USER_ID]) == list(expected[schema.USER_ID].head(1000))
    assert any(f"{len(expected):,} users with an event" in c.value for c in at.caption)
    assert at.get("download_button")  # the CSV download is offered


def test_a_clicked_segment_lists_its_buyers_until_cleared(sample_shop):
    at = run_page(OVERVIEW, session={_key(sample_shop, state.OVERVIEW_SEGMENTS): [an.CHAMPIONS]})
    assert not at.exception
    dates = at.date_input(key=_key(sample_shop, state.OVERVIEW_DATES)).value
    rfm = _core(sample_shop, *dates).rfm
    champions = an.users_in_segment(rfm, an.CHAMPIONS)
    (table,) = _user_tables(at)
    assert sorted(table[schema.USER_ID]) == sorted(champions[schema.USER_ID])
    at.button(key=state.OVERVIEW_CLEAR_SEGMENTS).click().run()
    assert at.session_state[_key(sample_shop, state.OVERVIEW_SEGMENTS)] == []
    assert not _user_tables(at)


def test_a_purchase_only_shop_renders_and_says_what_it_cannot_show(tmp_path):
    shop = load_shop(write(tmp_path, "orders.csv", ORDERS_CSV))
    assert schema.ITEM_ID not in shop.events.frame.columns
    at = _page(shop)
    assert not at.exception
    assert not at.error
    dates = at.date_input(key=_key(shop, state.OVERVIEW_DATES)).value
    assert dates == (dt.date(1997, 3, 4), dt.date(1997, 4, 2))  # the last 30 days of data
    expected = _core(shop, *dates)
    _assert_tiles_match(at, expected)
    tiles = _tiles(at)
    assert "Views" not in tiles and "Buyers ÷ active users" not in tiles  # no views to convert
    assert not at.select_slider  # no conversion window without a funnel
    assert {"Active users", "Orders", "Gross revenue", "Net revenue", "Repeat-buyer share"} <= set(
        tiles
    )
    messages = " ".join(i.value for i in at.info)
    assert "No view or cart events in this data, so the funnel shows purchase only." in messages
    assert "no item ids, so product figures are not shown" in messages
    assert "A funnel needs at least two of the view, cart and purchase steps" in " ".join(
        m.value for m in at.markdown
    )
    assert any(
        "cannot answer them: views, add-to-carts, buyers ÷ active users" in c.value
        for c in at.caption
    )


def test_chart_labels_from_shop_data_are_shown_as_text_not_markup():
    table = pd.DataFrame(
        {
            schema.CATEGORY: ['<a href="https://evil.example">Win</a>', "Books"],
            an.VIEWS: [5, 3],
        }
    )
    fig = oc.top_bar(table, key=schema.CATEGORY, measure=an.VIEWS, title="t")
    labels = list(fig.data[0].y)
    assert labels[0] == '&lt;a href="https://evil.example"&gt;Win&lt;/a&gt;'
    assert list(fig.data[0].customdata) == [table[schema.CATEGORY][0], "Books"]  # raw, for clicks


def test_an_orders_export_ranks_products_by_orders_and_offers_only_what_it_has(tmp_path):
    invoices = (
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "1,A,MUG,1,2011-01-03 10:00,2.5,100,UK\n"
        "2,B,LAMP,1,2011-01-04 10:00,9.0,101,UK\n"
        "3,B,LAMP,2,2011-01-05 10:00,9.0,102,UK\n"
    )
    shop = load_shop(write(tmp_path, "Online Retail.csv", invoices))
    at = _page(shop)
    assert not at.exception and not at.error
    rank_by = at.radio(key=state.OVERVIEW_MEASURE)
    assert rank_by.options == ["orders", "revenue"]
    assert rank_by.value == an.ORDERS
    titles = " ".join(str(c.proto.spec) for c in at.get("plotly_chart"))
    assert "Items by orders" in titles and "Items by views" not in titles


def test_a_datasets_overview_per_week_is_the_daily_one_with_weekly_trends(tmp_path):
    from core.datasets.ingest import ingest
    from core.datasets.overview import dataset_overview
    from tests.core.test_dataset_overview import assert_same
    from ui import cache

    source = tmp_path / "events.csv"
    source.write_text(
        "user_id,item_id,event_type,timestamp,price\n"
        "a,i1,view,2024-03-01 10:00,5\na,i1,purchase,2024-03-01 10:05,5\n"
        "b,i2,view,2024-03-06 09:00,7\nb,i2,cart,2024-03-11 09:10,7\n"
        "a,i2,view,2024-03-12 18:00,7\n",
        encoding="utf-8",
    )
    ingest([source], name="shop", data_dir=tmp_path / "datasets")
    folder = tmp_path / "datasets" / "shop"
    selection = cache.Selection(first_day=dt.date(2024, 3, 1), last_day=dt.date(2024, 3, 12))
    weekly = cache.dataset_overview(str(folder), 0.0, selection, "W", 24.0, 10)
    expected = dataset_overview(
        folder, **selection.as_core(), trend_freq="W", window_hours=24.0, top_n=10
    )
    assert len(expected.trends) == 3  # weeks, not days
    assert_same(expected, weekly)
