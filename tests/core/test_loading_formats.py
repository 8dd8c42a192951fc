"""Every shop export ShopLens recognises, each on a few rows shaped like the real export."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from core.data.loading import LoadResult, read_events
from core.errors import MissingColumnsError
from core.schema import (
    CART,
    CATEGORY,
    EVENT_TYPE,
    FAV,
    ITEM_ID,
    ORDER_ID,
    PRICE,
    PURCHASE,
    QUANTITY,
    RETURN,
    SESSION_ID,
    TIMESTAMP,
    USER_ID,
    VIEW,
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def column(result: LoadResult, name: str) -> list[object]:
    """A frame column as plain values, missing values as None."""
    return [None if pd.isna(v) else v for v in result.frame[name].astype("object")]


def times(*texts: str) -> list[pd.Timestamp]:
    return [pd.Timestamp(t) for t in texts]


def assert_nothing_rejected(result: LoadResult, rows: int) -> None:
    assert result.rows_read == rows
    assert result.rows_kept == rows
    assert result.rejected.empty


def test_taobao_user_behavior_without_header_is_recognised_from_value_shapes(tmp_path):
    path = write(
        tmp_path,
        "UserBehavior.csv",
        "1,2268318,2520377,pv,1511544070\n"
        "1,2333346,2520771,cart,1511561733\n"
        "2,2576651,149192,fav,1511572885\n"
        "3,3830808,4181361,buy,1511593493\n",
    )

    result = read_events(path)

    assert result.export_format.key == "taobao"
    assert result.mapping == {
        USER_ID: "column_1",
        ITEM_ID: "column_2",
        CATEGORY: "column_3",
        EVENT_TYPE: "column_4",
        TIMESTAMP: "column_5",
    }
    assert "no header row" in result.read_as
    assert_nothing_rejected(result, 4)
    assert column(result, USER_ID) == ["1", "1", "2", "3"]
    assert column(result, ITEM_ID) == ["2268318", "2333346", "2576651", "3830808"]
    assert column(result, CATEGORY) == ["2520377", "2520771", "149192", "4181361"]
    assert column(result, EVENT_TYPE) == [VIEW, CART, FAV, PURCHASE]
    # 1511544070 s = 17494 days + 62470 s after 1970-01-01 = 2017-11-24 17:21:10 UTC.
    assert column(result, TIMESTAMP) == times(
        "2017-11-24 17:21:10", "2017-11-24 22:15:33", "2017-11-25 01:21:25", "2017-11-25 07:04:53"
    )
    assert "Times read as unix seconds (UTC)." in result.notes


def test_retailrocket_export_is_recognised_and_mapped(tmp_path):
    path = write(
        tmp_path,
        "events.csv",
        "timestamp,visitorid,event,itemid,transactionid\n"
        "1433221332117,257597,view,355908,\n"
        "1433224214164,992329,addtocart,248676,\n"
        "1433221999827,111016,transaction,459835,4000\n",
    )

    result = read_events(path)

    assert result.export_format.key == "retailrocket"
    assert result.mapping == {
        TIMESTAMP: "timestamp",
        USER_ID: "visitorid",
        EVENT_TYPE: "event",
        ITEM_ID: "itemid",
        ORDER_ID: "transactionid",
    }
    assert_nothing_rejected(result, 3)
    # Rows come back in time order: the transaction (05:13) sits between the two others.
    assert column(result, USER_ID) == ["257597", "111016", "992329"]
    assert column(result, ITEM_ID) == ["355908", "459835", "248676"]
    assert column(result, EVENT_TYPE) == [VIEW, PURCHASE, CART]
    assert column(result, ORDER_ID) == [None, "4000", None]
    # Milliseconds are kept exactly (1433221332117 ms = 2015-06-02 05:02:12.117 UTC).
    assert column(result, TIMESTAMP) == times(
        "2015-06-02 05:02:12.117", "2015-06-02 05:13:19.827", "2015-06-02 05:50:14.164"
    )
    assert "Times read as unix milliseconds (UTC)." in result.notes


REES46 = (
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,"
    "user_session\n"
    "2019-10-01 00:00:00 UTC,view,44600062,2103807459595387724,,shiseido,35.79,541312140,"
    "72d76fde-8bb3-4e00-8c23-a032dfed738c\n"
    "2019-10-01 00:00:01 UTC,remove_from_cart,3900821,2053013552326770905,"
    "appliances.environment.water_heater,aqua,33.20,554748717,"
    "9333dfbd-b87a-4708-9857-6336556b0fcc\n"
    "2019-10-01 00:00:04 UTC,cart,17200506,2053013559792632471,furniture.living_room.sofa,,"
    "543.10,519107250,566511c2-e2e3-422b-b695-cf8e6e792ca8\n"
    "2019-10-01 00:00:05 UTC,purchase,1307067,2053013558920217191,computers.notebook,lenovo,"
    "251.74,550050854,7c90fc70-0e80-4590-96f3-13c02c18c713\n"
)


def test_rees46_export_is_recognised_and_keeps_remove_from_cart_as_it_is(tmp_path):
    result = read_events(write(tmp_path, "2019-Oct.csv", REES46))

    assert result.export_format.key == "rees46"
    assert result.mapping == {
        TIMESTAMP: "event_time",
        EVENT_TYPE: "event_type",
        ITEM_ID: "product_id",
        CATEGORY: "category_code",
        PRICE: "price",
        USER_ID: "user_id",
        SESSION_ID: "user_session",
    }
    assert_nothing_rejected(result, 4)
    assert column(result, EVENT_TYPE) == [VIEW, "remove_from_cart", CART, PURCHASE]
    assert column(result, TIMESTAMP) == times(
        "2019-10-01 00:00:00", "2019-10-01 00:00:01", "2019-10-01 00:00:04", "2019-10-01 00:00:05"
    )
    assert column(result, USER_ID) == ["541312140", "554748717", "519107250", "550050854"]
    assert column(result, ITEM_ID) == ["44600062", "3900821", "17200506", "1307067"]
    assert column(result, PRICE) == [35.79, 33.20, 543.10, 251.74]
    assert column(result, CATEGORY) == [
        None,
        "appliances.environment.water_heater",
        "furniture.living_room.sofa",
        "computers.notebook",
    ]
    assert column(result, SESSION_ID)[0] == "72d76fde-8bb3-4e00-8c23-a032dfed738c"
    assert any("'remove_from_cart' (1 rows)" in note for note in result.notes)


def test_uci_online_retail_is_recognised_and_a_cancelled_invoice_is_a_return(tmp_path):
    path = write(
        tmp_path,
        "Online Retail.csv",
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,"
        "Country\n"
        "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,"
        "United Kingdom\n"
        "536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850,United Kingdom\n"
        "C536379,D,Discount,-1,12/1/2010 9:41,27.5,14527,United Kingdom\n"
        "536370,22728,ALARM CLOCK BAKELIKE PINK,24,12/13/2010 8:45,3.75,12583,France\n",
    )

    result = read_events(path)

    assert result.export_format.key == "online_retail"
    assert result.mapping == {
        ORDER_ID: "InvoiceNo",
        ITEM_ID: "StockCode",
        QUANTITY: "Quantity",
        TIMESTAMP: "InvoiceDate",
        PRICE: "UnitPrice",
        USER_ID: "CustomerID",
    }
    assert_nothing_rejected(result, 4)
    assert column(result, EVENT_TYPE) == [PURCHASE, PURCHASE, RETURN, PURCHASE]
    assert column(result, QUANTITY) == [6.0, 6.0, 1.0, 24.0]
    assert column(result, PRICE) == [2.55, 3.39, 27.5, 3.75]
    assert column(result, ORDER_ID) == ["536365", "536365", "C536379", "536370"]
    assert column(result, ITEM_ID) == ["85123A", "71053", "D", "22728"]
    assert column(result, USER_ID) == ["17850", "17850", "14527", "12583"]
    # 12/13/2010 can only be month/day/year, so 12/1/2010 is the first of December.
    assert column(result, TIMESTAMP) == times(
        "2010-12-01 08:26", "2010-12-01 08:26", "2010-12-01 09:41", "2010-12-13 08:45"
    )
    assert any("month/day/year" in note for note in result.notes)
    assert any(
        "1 rows with a negative quantity or a cancelled invoice" in note for note in result.notes
    )


def test_uci_online_retail_ii_is_recognised_with_its_own_column_names(tmp_path):
    path = write(
        tmp_path,
        "online_retail_II.csv",
        "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
        "489434,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,2009-12-01 07:45:00,6.95,"
        "13085.0,United Kingdom\n"
        "489434,79323P,PINK CHERRY LIGHTS,12,2009-12-01 07:45:00,6.75,13085.0,"
        "United Kingdom\n"
        "C489449,22087,PAPER BUNTING WHITE LACE,-12,2009-12-01 10:33:00,2.95,16321.0,"
        "Australia\n",
    )

    result = read_events(path)

    assert result.export_format.key == "online_retail_ii"
    assert result.mapping == {
        ORDER_ID: "Invoice",
        ITEM_ID: "StockCode",
        QUANTITY: "Quantity",
        TIMESTAMP: "InvoiceDate",
        PRICE: "Price",
        USER_ID: "Customer ID",
    }
    assert_nothing_rejected(result, 3)
    # Spreadsheet-style "13085.0" customer ids read as "13085".
    assert column(result, USER_ID) == ["13085", "13085", "16321"]
    assert column(result, ITEM_ID) == ["85048", "79323P", "22087"]
    assert column(result, EVENT_TYPE) == [PURCHASE, PURCHASE, RETURN]
    assert column(result, QUANTITY) == [12.0, 12.0, 12.0]
    assert column(result, PRICE) == [6.95, 6.75, 2.95]
    assert column(result, TIMESTAMP) == times(
        "2009-12-01 07:45", "2009-12-01 07:45", "2009-12-01 10:33"
    )


def test_olist_order_items_joined_to_orders_are_purchases_by_the_unique_customer(tmp_path):
    header = (
        "order_id,order_item_id,product_id,seller_id,shipping_limit_date,price,"
        "freight_value,customer_id,customer_unique_id,order_status,"
        "order_purchase_timestamp\n"
    )
    rows = (
        "00010242fe8c5a6d1ba2dd792cb16214,1,4244733e06e7ecb4970a6e2683c13e61,"
        "48436dade18ac8b2bce089ec2a041202,2017-09-19 09:45:35,58.90,13.29,"
        "3ce436f183e68e07877b285a838db11a,871766c5855e863f6eccc05f988b23cb,delivered,"
        "2017-09-13 08:59:02\n"
        "00018f77f2f0320c557190d7a144bdd3,1,e5f2d52b802189ee658865ca93d83a8f,"
        "dd7ddc04e1b6c2c614352b383efe2d36,2017-05-03 11:05:13,239.90,19.93,"
        "f6dd3ec061db4e3987629fe6b26e5cce,eb28e67c4c0b83846050ddfb8a35d051,delivered,"
        "2017-04-26 10:53:06\n"
        "00018f77f2f0320c557190d7a144bdd3,2,e5f2d52b802189ee658865ca93d83a8f,"
        "dd7ddc04e1b6c2c614352b383efe2d36,2017-05-03 11:05:13,239.90,19.93,"
        "f6dd3ec061db4e3987629fe6b26e5cce,eb28e67c4c0b83846050ddfb8a35d051,shipped,"
        "2017-04-26 10:53:06\n"
    )

    result = read_events(write(tmp_path, "olist_items_orders.csv", header + rows))

    assert result.export_format.key == "olist"
    assert result.mapping == {
        ORDER_ID: "order_id",
        ITEM_ID: "product_id",
        PRICE: "price",
        TIMESTAMP: "order_purchase_timestamp",
        USER_ID: "customer_unique_id",
    }
    assert_nothing_rejected(result, 3)
    assert column(result, EVENT_TYPE) == [PURCHASE, PURCHASE, PURCHASE]
    assert column(result, USER_ID) == ["eb28e67c4c0b83846050ddfb8a35d051"] * 2 + [
        "871766c5855e863f6eccc05f988b23cb"
    ]
    assert column(result, ITEM_ID) == ["e5f2d52b802189ee658865ca93d83a8f"] * 2 + [
        "4244733e06e7ecb4970a6e2683c13e61"
    ]
    assert column(result, TIMESTAMP) == times(
        "2017-04-26 10:53:06", "2017-04-26 10:53:06", "2017-09-13 08:59:02"
    )
    assert column(result, PRICE) == [239.90, 239.90, 58.90]


def test_canonical_column_names_map_to_themselves(tmp_path):
    path = write(
        tmp_path,
        "shoplens.csv",
        "user_id,item_id,event_type,timestamp,quantity,price,order_id,session_id,"
        "category\n"
        "u1,i1,view,2024-03-01 10:00:00,,,,s1,shoes\n"
        "u1,i1,purchase,2024-03-01 10:05:00,2,19.99,o1,s1,shoes\n",
    )

    result = read_events(path)

    assert result.export_format.key == "canonical"
    fields = [
        USER_ID,
        ITEM_ID,
        EVENT_TYPE,
        TIMESTAMP,
        QUANTITY,
        PRICE,
        ORDER_ID,
        SESSION_ID,
        CATEGORY,
    ]
    assert result.mapping == {f: f for f in fields}
    assert list(result.frame.columns) == fields
    assert_nothing_rejected(result, 2)
    assert column(result, EVENT_TYPE) == [VIEW, PURCHASE]
    assert column(result, TIMESTAMP) == times("2024-03-01 10:00", "2024-03-01 10:05")
    assert column(result, QUANTITY) == [None, 2.0]
    assert column(result, PRICE) == [None, 19.99]
    assert column(result, ORDER_ID) == [None, "o1"]
    assert result.notes == ()


def test_unknown_export_is_mapped_from_value_shapes(tmp_path):
    path = write(
        tmp_path,
        "export.csv",
        "Kunde;Artikel;Aktion;Zeitpunkt\n"
        "K-1001;A-17;view;03.01.2024 10:00\n"
        "K-1002;B-22;purchase;15.01.2024 11:30\n"
        "K-1001;B-22;cart;16.01.2024 09:15\n",
    )

    result = read_events(path)

    assert result.export_format.key == "generic"
    assert result.mapping == {
        TIMESTAMP: "Zeitpunkt",
        EVENT_TYPE: "Aktion",
        USER_ID: "Kunde",
        ITEM_ID: "Artikel",
    }
    assert_nothing_rejected(result, 3)
    assert column(result, USER_ID) == ["K-1001", "K-1002", "K-1001"]
    assert column(result, ITEM_ID) == ["A-17", "B-22", "B-22"]
    assert column(result, EVENT_TYPE) == [VIEW, PURCHASE, CART]
    # 15.01.2024 only fits day.month.year.
    assert column(result, TIMESTAMP) == times(
        "2024-01-03 10:00", "2024-01-15 11:30", "2024-01-16 09:15"
    )


def test_unknown_export_loads_once_its_columns_are_mapped_by_hand(tmp_path):
    path = write(
        tmp_path,
        "export.csv",
        "Kunde;Artikel;Aktion;Zeitpunkt\n"
        "anna@example.de;A-17;Ansicht;03.01.2024 10:00\n"
        "bernd@example.de;B-22;Kauf;15.01.2024 11:30\n"
        "anna@example.de;B-22;Warenkorb;16.01.2024 09:15\n",
    )

    result = read_events(path, mapping={USER_ID: "Kunde", ITEM_ID: "Artikel", EVENT_TYPE: "Aktion"})

    assert result.export_format.key == "generic"
    assert result.mapping == {
        TIMESTAMP: "Zeitpunkt",
        USER_ID: "Kunde",
        ITEM_ID: "Artikel",
        EVENT_TYPE: "Aktion",
    }
    assert_nothing_rejected(result, 3)
    assert column(result, USER_ID) == ["anna@example.de", "bernd@example.de", "anna@example.de"]
    assert column(result, ITEM_ID) == ["A-17", "B-22", "B-22"]
    # Common German, French and Spanish labels are event-type synonyms.
    assert column(result, EVENT_TYPE) == [VIEW, PURCHASE, CART]
    assert not any("kept as they are" in note for note in result.notes)


def test_unknown_export_without_a_user_column_asks_for_a_mapping(tmp_path):
    path = write(
        tmp_path, "export.csv", "Zeitpunkt;Betrag\n03.01.2024 10:00;1,50\n15.01.2024 11:30;2,50\n"
    )

    with pytest.raises(MissingColumnsError, match=r"'export\.csv' can be the user id"):
        read_events(path)


def test_transactions_without_item_ids_load_without_an_item_column(tmp_path):
    path = write(
        tmp_path,
        "transactions.csv",
        "customer,date,amount\nc1,2024-01-05,10.50\nc2,2024-01-06,20\nc1,2024-02-01,5.25\n",
    )

    result = read_events(path)

    assert result.mapping == {USER_ID: "customer", TIMESTAMP: "date", "amount": "amount"}
    assert ITEM_ID not in result.frame.columns
    assert_nothing_rejected(result, 3)
    assert column(result, USER_ID) == ["c1", "c2", "c1"]
    assert column(result, EVENT_TYPE) == [PURCHASE, PURCHASE, PURCHASE]
    assert column(result, TIMESTAMP) == times("2024-01-05", "2024-01-06", "2024-02-01")
    assert column(result, PRICE) == [10.50, 20.0, 5.25]
    assert any(note.startswith("No item id column") for note in result.notes)


def test_transactions_with_quantity_and_amount_get_a_unit_price(tmp_path):
    path = write(
        tmp_path,
        "transactions.csv",
        "customer,date,quantity,amount\n"
        "c1,2024-01-05,2,10.50\n"
        "c2,2024-01-06,4,20\n"
        "c1,2024-02-01,1,5.25\n",
    )

    result = read_events(path)

    assert ITEM_ID not in result.frame.columns
    assert "amount" not in result.frame.columns
    assert column(result, QUANTITY) == [2.0, 4.0, 1.0]
    # 10.50 / 2, 20 / 4, 5.25 / 1
    assert column(result, PRICE) == [5.25, 5.0, 5.25]
    assert any("'amount' / quantity" in note for note in result.notes)


def test_an_item_column_that_is_empty_everywhere_counts_as_no_item_ids(tmp_path):
    path = write(
        tmp_path,
        "events.csv",
        "user_id,item_id,event_type,timestamp\nu1,,view,2024-03-01\nu2,,purchase,2024-03-02\n",
    )

    result = read_events(path)

    assert ITEM_ID not in result.frame.columns
    assert ITEM_ID not in result.mapping
    assert_nothing_rejected(result, 2)
    assert any("'item_id' is empty in every row" in note for note in result.notes)


def test_a_zero_quantity_keeps_the_line_total_as_the_price(tmp_path):
    path = write(
        tmp_path,
        "transactions.csv",
        "customer,date,quantity,amount\nc1,2024-01-05,0,10.50\nc2,2024-01-06,2,3\n",
    )

    result = read_events(path)

    assert column(result, PRICE) == [10.50, 1.5]
    assert all(math.isfinite(p) for p in column(result, PRICE))
