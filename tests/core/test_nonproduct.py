"""Postage, fees and other lines that sell no product are recognised, counted on the Data page,
never ranked as products, and their revenue is its own line beside gross and net revenue."""

from __future__ import annotations

import pandas as pd
import pytest

from core import overview as an
from core import schema
from core.data.loading import read_events
from core.data.nonproduct import non_product_items, non_product_lines
from core.data.profile import item_names, profile_events
from core.schema import PURCHASE, RETURN
from tests.frames import make_events
from tests.reading import write

COLUMNS = (
    schema.USER_ID, schema.ITEM_ID, schema.EVENT_TYPE, schema.TIMESTAMP, schema.QUANTITY,
    schema.PRICE, schema.ORDER_ID, schema.NAME,
)  # fmt: skip


def test_codes_and_whole_names_mark_non_product_lines_and_products_that_mention_them_stay():
    items = ["POST", "DOT", "M", "BANK CHARGES", "AMAZONFEE", "x1", "x2", "x3", "x4", "85123A"]
    names = [
        "POSTAGE", "DOTCOM POSTAGE", "Manual", "Bank Charges", "AMAZON FEE", "CARRIAGE",
        "Adjust bad debt", "CRUK Commission", "DISCOUNT TIN BOX", "WHITE HANGING HEART",
    ]  # fmt: skip
    flagged = non_product_items(items, names)
    assert flagged.tolist() == [True] * 8 + [False, False]
    assert non_product_items(["post", "p1"], None).tolist() == [False, False]  # codes: exact


def shop() -> pd.DataFrame:
    """Two orders on 2 Jan: o1 (a kettle 2 × 10.00, postage 5.00) and o2 (a mug 3.00);
    on 3 Jan o1's kettle line is cancelled (2 × 10.00)."""
    rows = [
        ("u1", "k1", PURCHASE, "2024-01-02 10:00", 2, 10.0, "o1", "KETTLE"),
        ("u1", "POST", PURCHASE, "2024-01-02 10:00", 1, 5.0, "o1", "POSTAGE"),
        ("u2", "m1", PURCHASE, "2024-01-02 11:00", 1, 3.0, "o2", "MUG"),
        ("u1", "k1", RETURN, "2024-01-03 09:00", 2, 10.0, "Co1", "KETTLE"),
    ]
    return make_events(rows, COLUMNS)


def test_gross_net_and_postage_revenue_are_three_kpis():
    kpis = an.compute_kpis(shop(), start="2024-01-02", end="2024-01-04")

    assert kpis.value(an.REVENUE) == pytest.approx(28.0)  # 20 + 5 + 3
    assert kpis.value(an.NET_REVENUE) == pytest.approx(8.0)  # 28 - the cancelled 20
    assert kpis.value(an.NON_PRODUCT_REVENUE) == pytest.approx(5.0)
    assert kpis.table.loc[an.REVENUE, an.LABEL] == "Gross revenue"
    assert {an.REVENUE, an.NET_REVENUE, an.NON_PRODUCT_REVENUE} <= set(
        kpis.answerable([PURCHASE, RETURN])
    )


def test_postage_and_fees_are_not_offered_when_the_data_has_none():
    products_only = shop()
    products_only = products_only[products_only[schema.ITEM_ID] != "POST"]
    kpis = an.compute_kpis(products_only, start="2024-01-02", end="2024-01-04")

    assert kpis.value(an.NON_PRODUCT_REVENUE) == 0.0
    assert an.NON_PRODUCT_REVENUE not in kpis.answerable([PURCHASE, RETURN])
    assert an.NET_REVENUE in kpis.answerable([PURCHASE, RETURN])


def test_non_product_lines_are_never_ranked_as_products():
    events = shop()
    for by in ("orders", "revenue"):
        assert "POST" not in an.top_items(events, by=by)[schema.ITEM_ID].tolist()
    overview = an.compute_overview(events)
    for table in overview.top_items.values():
        assert "POST" not in table[schema.ITEM_ID].tolist()
    assert an.long_tail(events).items == 2  # the kettle and the mug
    top = profile_events(events).top_items
    assert "POST" not in top[schema.ITEM_ID].tolist()


def test_the_data_page_counts_non_product_lines_with_their_revenue():
    events = shop()
    lines = profile_events(events).non_product

    assert lines.to_dict("records") == [
        {schema.ITEM_ID: "POST", schema.NAME: "POSTAGE", "lines": 1, "revenue": 5.0}
    ]
    assert non_product_lines(events, item_names(events, None)).equals(lines)


def test_an_untouched_uci_export_marks_its_postage_and_keeps_its_products(tmp_path):
    text = (
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,UK\n"
        "536365,POST,POSTAGE,1,12/1/2010 8:26,18.00,17850,UK\n"
        "536366,DOT,DOTCOM POSTAGE,1,12/1/2010 9:26,1.5,17851,UK\n"
        "C536379,D,Discount,-1,12/1/2010 9:41,27.5,14527,UK\n"
        "536370,22728,ALARM CLOCK BAKELIKE PINK,24,12/13/2010 8:45,3.75,12583,France\n"
    )
    events = read_events(write(tmp_path, "Online Retail.csv", text)).frame

    lines = profile_events(events).non_product
    assert lines[schema.ITEM_ID].tolist() == ["POST", "DOT"]  # the discount is a cancellation
    ranked = an.top_items(events, by="revenue")[schema.ITEM_ID].tolist()
    assert ranked == ["22728", "85123A"]
    kpis = an.compute_kpis(events, start="2010-12-01", end="2010-12-14")
    assert kpis.value(an.NON_PRODUCT_REVENUE) == pytest.approx(19.5)
    assert kpis.value(an.NET_REVENUE) == pytest.approx(6 * 2.55 + 19.5 + 24 * 3.75 - 27.5)


def test_the_data_page_values_postage_lines_as_the_overview_values_revenue():
    # POST has no quantity (1 is assumed); DOT has no price of its own (the product table's 3.00).
    rows = [
        ("u1", "POST", PURCHASE, "2024-01-02 10:00", None, 5.0, "o1", "POSTAGE"),
        ("u1", "k1", PURCHASE, "2024-01-02 10:00", 2, 10.0, "o1", "KETTLE"),
        ("u2", "DOT", PURCHASE, "2024-01-02 11:00", 1, None, "o2", "DOTCOM POSTAGE"),
    ]
    events = make_events(rows, COLUMNS)
    products = pd.DataFrame({schema.ITEM_ID: ["POST", "k1", "DOT"], schema.PRICE: [5.0, 10.0, 3.0]})

    lines = profile_events(events, products).non_product

    assert lines[["item_id", "revenue"]].to_dict("records") == [
        {"item_id": "POST", "revenue": 5.0},
        {"item_id": "DOT", "revenue": 3.0},
    ]
    overview = an.compute_overview(events, products)
    assert overview.kpis.value(an.NON_PRODUCT_REVENUE) == pytest.approx(lines["revenue"].sum())
