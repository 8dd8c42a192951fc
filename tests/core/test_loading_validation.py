"""Row validation: every row not kept is listed with its row number and a named reason."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.data.loading import (
    DUPLICATE_EVENT,
    DUPLICATE_ITEM,
    IMPLAUSIBLE_TIME,
    MISSING_EVENT,
    MISSING_ITEM,
    MISSING_TIME,
    MISSING_USER,
    NEGATIVE_PRICE,
    UNKNOWN_ITEM,
    UNPARSEABLE_PRICE,
    UNPARSEABLE_QUANTITY,
    UNPARSEABLE_TIME,
    LoadResult,
    load_shop,
    read_events,
    read_products,
)
from core.data.reading import MALFORMED_ROW
from core.schema import BRAND, CATEGORY, ITEM_ID, NAME, PRICE, USER_ID
from tests.reading import write

HEADER = "user_id,item_id,event_type,timestamp,quantity,price\n"
# Data row numbers are in the comments; rows 1, 12 and 13 are valid (13 repeats row 1).
EVENTS = HEADER + (
    "u1,i1,view,2024-03-01 10:00:00,1,2.50\n"  # 1 kept
    ",i1,view,2024-03-01 10:00:00,1,2.50\n"  # 2 missing user id
    "u2,i2,view,,1,2.50\n"  # 3 missing time
    "u3,i3,view,not a date,1,2.50\n"  # 4 unparseable time
    "u4,i4,view,1850-01-01 00:00:00,1,2.50\n"  # 5 before 1990
    "u5,,view,2024-03-01 10:00:00,1,2.50\n"  # 6 missing item id
    "u6,i6,,2024-03-01 10:00:00,1,2.50\n"  # 7 missing event type
    "u7,i7,buy,2024-03-01 10:00:00,many,2.50\n"  # 8 unparseable quantity
    "u8,i8,buy,2024-03-01 10:00:00,1,cheap\n"  # 9 unparseable price
    "u9,i9,buy,2024-03-01 10:00:00,1,-3.00\n"  # 10 negative price
    "u10,i10,buy,2024-03-01 10:00:00,1\n"  # 11 malformed: 5 fields
    "u11,i11,buy,2024-03-02 10:00:00,2,4.00\n"  # 12 kept
    "u1,i1,view,2024-03-01 10:00:00,1,2.50\n"  # 13 kept, duplicate of 1
    ",,,not a date,x,-1\n"  # 14 missing user id (first reason)
    "u12,i12,view,2150-06-01 00:00:00,1,1.00\n"  # 15 after 2100
    "u13,i13,view,2024-03-01 10:00:00,1,2.50,extra\n"  # 16 malformed: 7 fields
)
EXPECTED_ROWS = {
    MISSING_USER: [2, 14],
    MISSING_TIME: [3],
    UNPARSEABLE_TIME: [4],
    IMPLAUSIBLE_TIME: [5, 15],
    MISSING_ITEM: [6],
    MISSING_EVENT: [7],
    UNPARSEABLE_QUANTITY: [8],
    UNPARSEABLE_PRICE: [9],
    NEGATIVE_PRICE: [10],
    MALFORMED_ROW: [11, 16],
}


def rows_for(result: LoadResult, reason: str) -> list[int]:
    rejected = result.rejected
    return [int(r) for r in rejected.loc[rejected["reason"] == reason, "row"]]


def assert_nothing_lost(result: LoadResult) -> None:
    rows = [int(r) for r in result.rejected["row"]]
    assert result.rows_read == result.rows_kept + len(result.rejected)
    assert len(set(rows)) == len(rows)
    assert all(1 <= r <= result.rows_read for r in rows)


@pytest.fixture
def events_path(tmp_path: Path) -> Path:
    return write(tmp_path, "events.csv", EVENTS)


@pytest.mark.parametrize("reason", list(EXPECTED_ROWS))
def test_each_reject_reason_lists_the_right_rows(events_path, reason):
    result = read_events(events_path)

    assert rows_for(result, reason) == EXPECTED_ROWS[reason]


def test_reject_reasons_are_counted(events_path):
    result = read_events(events_path)

    assert result.rejected_counts == {reason: len(rows) for reason, rows in EXPECTED_ROWS.items()}
    assert result.rows_read == 16
    assert result.rows_kept == 3
    assert_nothing_lost(result)


def test_rejected_rows_keep_their_original_values(events_path):
    result = read_events(events_path)
    rejected = result.rejected.set_index("row")

    assert list(result.rejected.columns[:2]) == ["row", "reason"]
    assert {"user_id", "item_id", "event_type", "timestamp", "quantity", "price"} <= set(
        result.rejected.columns
    )
    assert rejected.loc[4, "timestamp"] == "not a date"
    assert rejected.loc[8, "quantity"] == "many"
    assert rejected.loc[9, "price"] == "cheap"
    assert rejected.loc[10, "price"] == "-3.00"
    assert rejected.loc[15, "user_id"] == "u12"
    assert rejected.loc[11, "raw text"] == "u10,i10,buy,2024-03-01 10:00:00,1"
    assert rejected.loc[16, "raw text"] == "u13,i13,view,2024-03-01 10:00:00,1,2.50,extra"


def test_a_single_row_with_an_extra_field_does_not_spoil_the_other_rows(tmp_path):
    path = write(
        tmp_path,
        "events.csv",
        "user_id,item_id,event_type,timestamp\n"
        "u1,i1,view,2024-03-01\n"
        "u2,i2,view,2024-03-02,extra\n"
        "u3,i3,view,2024-03-03\n",
    )

    result = read_events(path)

    assert result.rows_kept == 2
    assert result.rejected_counts == {MALFORMED_ROW: 1}
    assert rows_for(result, MALFORMED_ROW) == [2]


def test_malformed_rows_of_a_file_without_header_are_numbered_from_the_first_line(tmp_path):
    path = write(
        tmp_path,
        "UserBehavior.csv",
        "1,2268318,2520377,pv,1511544070\n"
        "1,2333346,2520771,cart\n"
        "2,2576651,149192,fav,1511572885\n"
        "3,3830808,4181361,buy,1511593493\n",
    )

    result = read_events(path)

    assert result.export_format.key == "taobao"
    assert rows_for(result, MALFORMED_ROW) == [2]
    assert result.rows_read == 4
    assert result.rows_kept == 3


def test_blank_lines_are_not_counted_as_rows(tmp_path):
    path = write(
        tmp_path,
        "events.csv",
        "user_id,item_id,event_type,timestamp\nu1,i1,view,2024-03-01\n\n,i2,view,2024-03-02\n",
    )

    result = read_events(path)

    assert result.rows_read == 2
    assert rows_for(result, MISSING_USER) == [2]


def test_duplicates_are_counted_and_kept_by_default(events_path):
    result = read_events(events_path)

    assert result.duplicates == 1
    assert result.duplicates_dropped is False
    assert result.rows_kept == 3
    assert DUPLICATE_EVENT not in result.rejected_counts
    assert result.frame[USER_ID].astype("str").tolist().count("u1") == 2


def test_duplicates_are_dropped_and_listed_when_asked(events_path):
    result = read_events(events_path, drop_duplicates=True)

    assert result.duplicates == 1
    assert result.duplicates_dropped is True
    assert result.rows_kept == 2
    assert rows_for(result, DUPLICATE_EVENT) == [13]
    assert result.rejected.set_index("row").loc[13, "user_id"] == "u1"
    assert result.rejected["row"].is_monotonic_increasing
    assert_nothing_lost(result)


def test_events_of_items_missing_from_the_product_table_are_rejected(tmp_path):
    events = write(
        tmp_path,
        "events.csv",
        "user_id,item_id,event_type,timestamp\n"
        "u1,007,view,2024-03-01\n"
        "u2,999,view,2024-03-02\n"
        "u3,008,purchase,2024-03-03\n"
        "u4,7,view,2024-03-04\n",
    )
    products = write(tmp_path, "products.csv", "item_id,category\n007,shoes\n008,shirts\n")

    shop = load_shop(events, products)

    assert shop.events.rejected_counts == {UNKNOWN_ITEM: 2}
    # '7' is not '007': leading zeros matter on both sides.
    assert rows_for(shop.events, UNKNOWN_ITEM) == [2, 4]
    assert shop.events.frame[ITEM_ID].astype("str").tolist() == ["007", "008"]
    assert_nothing_lost(shop.events)


def test_read_events_checks_items_against_a_product_frame(tmp_path):
    events = write(
        tmp_path,
        "events.csv",
        "user_id,item_id,event_type,timestamp\nu1,a,view,2024-03-01\nu2,b,view,2024-03-02\n",
    )

    result = read_events(events, products=pd.DataFrame({ITEM_ID: ["a"]}))

    assert rows_for(result, UNKNOWN_ITEM) == [2]


PRODUCTS = (
    "item_id,category,price,brand,name,colour,weight_g\n"
    "007,shoes,19.99,Acme,Runner,red,300\n"  # 1
    "008,shirts,9.50,Beta,Tee,blue,150\n"  # 2
    "007,shoes,21.00,Acme,Runner v2,black,310\n"  # 3 listed twice
    ",misc,1.00,X,Nothing,grey,5\n"  # 4 missing item id
    ",misc,2.00,Y,Nothing else,grey,6\n"  # 5 missing item id
    "009,bags,-4,Z,Tote,green,200\n"  # 6 negative price
)


def test_products_listed_twice_keep_the_first_and_reject_the_rest(tmp_path):
    result = read_products(write(tmp_path, "products.csv", PRODUCTS))

    assert result.frame[ITEM_ID].tolist() == ["007", "008"]
    assert result.frame[PRICE].tolist() == [19.99, 9.50]
    assert rows_for(result, DUPLICATE_ITEM) == [3]
    assert rows_for(result, MISSING_ITEM) == [4, 5]
    assert rows_for(result, NEGATIVE_PRICE) == [6]
    # Two rows without an item id are not a duplicated item.
    assert result.duplicates == 1
    assert_nothing_lost(result)


def test_product_columns_are_mapped_and_extra_columns_are_kept(tmp_path):
    result = read_products(write(tmp_path, "products.csv", PRODUCTS))

    assert result.export_format.key == "products"
    assert result.mapping == {
        ITEM_ID: "item_id",
        CATEGORY: "category",
        PRICE: "price",
        BRAND: "brand",
        NAME: "name",
    }
    assert list(result.frame.columns) == [
        ITEM_ID,
        PRICE,
        CATEGORY,
        BRAND,
        NAME,
        "colour",
        "weight_g",
    ]
    assert result.frame["colour"].tolist() == ["red", "blue"]
    assert result.frame["weight_g"].tolist() == [300, 150]
    assert result.frame[NAME].tolist() == ["Runner", "Tee"]


def test_product_item_ids_are_guessed_from_value_shapes(tmp_path):
    result = read_products(
        write(tmp_path, "catalogue.csv", "Artikelnummer;Preis\nA-17;2,50\nB-22;3,00\n")
    )

    assert result.mapping == {ITEM_ID: "Artikelnummer"}
    assert result.frame[ITEM_ID].tolist() == ["A-17", "B-22"]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"drop_duplicates": True},
        {"products": pd.DataFrame({ITEM_ID: ["i1", "i11"]})},
        {"date_order": "dmy"},
    ],
)
def test_every_row_read_is_either_kept_or_rejected(events_path, options):
    result = read_events(events_path, **options)

    assert_nothing_lost(result)


def test_an_orders_export_says_how_many_returns_it_read_and_how_many_it_kept(tmp_path):
    text = (
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,UK\n"
        "C536366,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-1,12/1/2010 9:00,2.55,17850,UK\n"
        "C536367,71053,WHITE METAL LANTERN,-2,12/2/2010 9:00,3.39,,UK\n"
    )
    result = read_events(write(tmp_path, "Online Retail.csv", text))

    assert result.rows_kept == 2  # the second return has no customer id
    assert any(
        "2 rows with a negative quantity or a cancelled invoice read as returns, of which 1 "
        "are kept" in note
        for note in result.notes
    ), result.notes
    complete = read_events(write(tmp_path, "complete.csv", text.rsplit("\n", 2)[0] + "\n"))
    assert any(
        "1 rows with a negative quantity or a cancelled invoice read as returns, all kept." in note
        for note in complete.notes
    ), complete.notes
