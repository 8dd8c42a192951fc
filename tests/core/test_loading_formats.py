"""Every shop export ShopLens recognises, each on a few rows shaped like the real export."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from core import schema
from core.data.loading import LoadResult, read_events
from core.errors import MissingColumnsError
from core.schema import CART, FAV, PURCHASE, RETURN, VIEW
from tests.reading import column, times, write


def assert_nothing_rejected(result: LoadResult, rows: int) -> None:
    assert result.rows_read == rows
    assert result.rows_kept == rows
    assert result.rejected.empty


@dataclass(frozen=True)
class Export:
    """A few rows shaped like a real export, and what reading them must give."""

    file: str
    text: str
    key: str  # the export format it is recognised as
    mapping: dict[str, str]  # canonical field -> the export's column it is read from
    values: dict[str, list[object]]  # canonical field -> the values read, in time order
    notes: tuple[str, ...] = ()  # notes the reader must add, word for word
    mentions: tuple[str, ...] = ()  # text that some note must contain
    by_hand: dict[str, str] | None = field(default=None)  # the user's own mapping


def read_export(folder: Path, export: Export) -> LoadResult:
    return read_events(write(folder, export.file, export.text), mapping=export.by_hand)


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


OLIST = (
    "order_id,order_item_id,product_id,seller_id,shipping_limit_date,price,"
    "freight_value,customer_id,customer_unique_id,order_status,"
    "order_purchase_timestamp\n"
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
OLIST_CUSTOMERS = ["eb28e67c4c0b83846050ddfb8a35d051", "871766c5855e863f6eccc05f988b23cb"]
OLIST_PRODUCTS = ["e5f2d52b802189ee658865ca93d83a8f", "4244733e06e7ecb4970a6e2683c13e61"]

EXPORTS = {
    "taobao_user_behavior_without_header_is_recognised_from_value_shapes": Export(
        file="UserBehavior.csv",
        text=(
            "1,2268318,2520377,pv,1511544070\n"
            "1,2333346,2520771,cart,1511561733\n"
            "2,2576651,149192,fav,1511572885\n"
            "3,3830808,4181361,buy,1511593493\n"
        ),
        key="taobao",
        mapping={
            schema.USER_ID: "column_1",
            schema.ITEM_ID: "column_2",
            schema.CATEGORY: "column_3",
            schema.EVENT_TYPE: "column_4",
            schema.TIMESTAMP: "column_5",
        },
        values={
            schema.USER_ID: ["1", "1", "2", "3"],
            schema.ITEM_ID: ["2268318", "2333346", "2576651", "3830808"],
            schema.CATEGORY: ["2520377", "2520771", "149192", "4181361"],
            schema.EVENT_TYPE: [VIEW, CART, FAV, PURCHASE],
            # 1511544070 s = 17494 days + 62470 s after 1970-01-01 = 2017-11-24 17:21:10 UTC.
            schema.TIMESTAMP: times(
                "2017-11-24 17:21:10",
                "2017-11-24 22:15:33",
                "2017-11-25 01:21:25",
                "2017-11-25 07:04:53",
            ),
        },
        notes=("Times read as unix seconds (UTC).",),
    ),
    "retailrocket_export_is_recognised_and_mapped": Export(
        file="events.csv",
        text=(
            "timestamp,visitorid,event,itemid,transactionid\n"
            "1433221332117,257597,view,355908,\n"
            "1433224214164,992329,addtocart,248676,\n"
            "1433221999827,111016,transaction,459835,4000\n"
        ),
        key="retailrocket",
        mapping={
            schema.TIMESTAMP: "timestamp",
            schema.USER_ID: "visitorid",
            schema.EVENT_TYPE: "event",
            schema.ITEM_ID: "itemid",
            schema.ORDER_ID: "transactionid",
        },
        # Rows come back in time order: the transaction (05:13) sits between the two others.
        values={
            schema.USER_ID: ["257597", "111016", "992329"],
            schema.ITEM_ID: ["355908", "459835", "248676"],
            schema.EVENT_TYPE: [VIEW, PURCHASE, CART],
            schema.ORDER_ID: [None, "4000", None],
            # Milliseconds are kept exactly (1433221332117 ms = 2015-06-02 05:02:12.117 UTC).
            schema.TIMESTAMP: times(
                "2015-06-02 05:02:12.117", "2015-06-02 05:13:19.827", "2015-06-02 05:50:14.164"
            ),
        },
        notes=("Times read as unix milliseconds (UTC).",),
    ),
    "rees46_export_is_recognised_and_keeps_remove_from_cart_as_it_is": Export(
        file="2019-Oct.csv",
        text=REES46,
        key="rees46",
        mapping={
            schema.TIMESTAMP: "event_time",
            schema.EVENT_TYPE: "event_type",
            schema.ITEM_ID: "product_id",
            schema.CATEGORY: "category_code",
            schema.PRICE: "price",
            schema.USER_ID: "user_id",
            schema.SESSION_ID: "user_session",
        },
        values={
            schema.EVENT_TYPE: [VIEW, "remove_from_cart", CART, PURCHASE],
            schema.TIMESTAMP: times(
                "2019-10-01 00:00:00",
                "2019-10-01 00:00:01",
                "2019-10-01 00:00:04",
                "2019-10-01 00:00:05",
            ),
            schema.USER_ID: ["541312140", "554748717", "519107250", "550050854"],
            schema.ITEM_ID: ["44600062", "3900821", "17200506", "1307067"],
            schema.PRICE: [35.79, 33.20, 543.10, 251.74],
            schema.CATEGORY: [
                None,
                "appliances.environment.water_heater",
                "furniture.living_room.sofa",
                "computers.notebook",
            ],
            schema.SESSION_ID: [
                "72d76fde-8bb3-4e00-8c23-a032dfed738c",
                "9333dfbd-b87a-4708-9857-6336556b0fcc",
                "566511c2-e2e3-422b-b695-cf8e6e792ca8",
                "7c90fc70-0e80-4590-96f3-13c02c18c713",
            ],
        },
        mentions=("'remove_from_cart' (1 rows)",),
    ),
    "uci_online_retail_is_recognised_and_a_cancelled_invoice_is_a_return": Export(
        file="Online Retail.csv",
        text=(
            "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,"
            "Country\n"
            "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,"
            "United Kingdom\n"
            "536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850,United Kingdom\n"
            "C536379,D,Discount,-1,12/1/2010 9:41,27.5,14527,United Kingdom\n"
            "536370,22728,ALARM CLOCK BAKELIKE PINK,24,12/13/2010 8:45,3.75,12583,France\n"
        ),
        key="online_retail",
        mapping={
            schema.ORDER_ID: "InvoiceNo",
            schema.ITEM_ID: "StockCode",
            schema.QUANTITY: "Quantity",
            schema.TIMESTAMP: "InvoiceDate",
            schema.PRICE: "UnitPrice",
            schema.USER_ID: "CustomerID",
            schema.NAME: "Description",
        },
        values={
            schema.NAME: [
                "WHITE HANGING HEART T-LIGHT HOLDER",
                "WHITE METAL LANTERN",
                "Discount",
                "ALARM CLOCK BAKELIKE PINK",
            ],  # fmt: skip
            schema.EVENT_TYPE: [PURCHASE, PURCHASE, RETURN, PURCHASE],
            schema.QUANTITY: [6.0, 6.0, 1.0, 24.0],
            schema.PRICE: [2.55, 3.39, 27.5, 3.75],
            schema.ORDER_ID: ["536365", "536365", "C536379", "536370"],
            schema.ITEM_ID: ["85123A", "71053", "D", "22728"],
            schema.USER_ID: ["17850", "17850", "14527", "12583"],
            # 12/13/2010 can only be month/day/year, so 12/1/2010 is the first of December.
            schema.TIMESTAMP: times(
                "2010-12-01 08:26", "2010-12-01 08:26", "2010-12-01 09:41", "2010-12-13 08:45"
            ),
        },
        mentions=("month/day/year", "1 rows with a negative quantity or a cancelled invoice"),
    ),
    "uci_online_retail_ii_is_recognised_with_its_own_column_names": Export(
        file="online_retail_II.csv",
        text=(
            "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
            "489434,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,2009-12-01 07:45:00,6.95,"
            "13085.0,United Kingdom\n"
            "489434,79323P,PINK CHERRY LIGHTS,12,2009-12-01 07:45:00,6.75,13085.0,"
            "United Kingdom\n"
            "C489449,22087,PAPER BUNTING WHITE LACE,-12,2009-12-01 10:33:00,2.95,16321.0,"
            "Australia\n"
        ),
        key="online_retail_ii",
        mapping={
            schema.ORDER_ID: "Invoice",
            schema.ITEM_ID: "StockCode",
            schema.QUANTITY: "Quantity",
            schema.TIMESTAMP: "InvoiceDate",
            schema.PRICE: "Price",
            schema.USER_ID: "Customer ID",
            schema.NAME: "Description",
        },
        values={
            # Spreadsheet-style "13085.0" customer ids read as "13085".
            schema.USER_ID: ["13085", "13085", "16321"],
            schema.ITEM_ID: ["85048", "79323P", "22087"],
            schema.EVENT_TYPE: [PURCHASE, PURCHASE, RETURN],
            schema.QUANTITY: [12.0, 12.0, 12.0],
            schema.PRICE: [6.95, 6.75, 2.95],
            schema.TIMESTAMP: times("2009-12-01 07:45", "2009-12-01 07:45", "2009-12-01 10:33"),
        },
    ),
    "olist_order_items_joined_to_orders_are_purchases_by_the_unique_customer": Export(
        file="olist_items_orders.csv",
        text=OLIST,
        key="olist",
        mapping={
            schema.ORDER_ID: "order_id",
            schema.ITEM_ID: "product_id",
            schema.PRICE: "price",
            schema.TIMESTAMP: "order_purchase_timestamp",
            schema.USER_ID: "customer_unique_id",
        },
        values={
            schema.EVENT_TYPE: [PURCHASE, PURCHASE, PURCHASE],
            schema.USER_ID: [OLIST_CUSTOMERS[0], OLIST_CUSTOMERS[0], OLIST_CUSTOMERS[1]],
            schema.ITEM_ID: [OLIST_PRODUCTS[0], OLIST_PRODUCTS[0], OLIST_PRODUCTS[1]],
            schema.TIMESTAMP: times(
                "2017-04-26 10:53:06", "2017-04-26 10:53:06", "2017-09-13 08:59:02"
            ),
            schema.PRICE: [239.90, 239.90, 58.90],
        },
    ),
    "unknown_export_is_mapped_from_value_shapes": Export(
        file="export.csv",
        text=(
            "Kunde;Artikel;Aktion;Zeitpunkt\n"
            "K-1001;A-17;view;03.01.2024 10:00\n"
            "K-1002;B-22;purchase;15.01.2024 11:30\n"
            "K-1001;B-22;cart;16.01.2024 09:15\n"
        ),
        key="generic",
        mapping={
            schema.TIMESTAMP: "Zeitpunkt",
            schema.EVENT_TYPE: "Aktion",
            schema.USER_ID: "Kunde",
            schema.ITEM_ID: "Artikel",
        },
        values={
            schema.USER_ID: ["K-1001", "K-1002", "K-1001"],
            schema.ITEM_ID: ["A-17", "B-22", "B-22"],
            schema.EVENT_TYPE: [VIEW, PURCHASE, CART],
            # 15.01.2024 only fits day.month.year.
            schema.TIMESTAMP: times("2024-01-03 10:00", "2024-01-15 11:30", "2024-01-16 09:15"),
        },
    ),
    "unknown_export_loads_once_its_columns_are_mapped_by_hand": Export(
        file="export.csv",
        text=(
            "Kunde;Artikel;Aktion;Zeitpunkt\n"
            "anna@example.de;A-17;Ansicht;03.01.2024 10:00\n"
            "bernd@example.de;B-22;Kauf;15.01.2024 11:30\n"
            "anna@example.de;B-22;Warenkorb;16.01.2024 09:15\n"
        ),
        by_hand={schema.USER_ID: "Kunde", schema.ITEM_ID: "Artikel", schema.EVENT_TYPE: "Aktion"},
        key="generic",
        mapping={
            schema.TIMESTAMP: "Zeitpunkt",
            schema.USER_ID: "Kunde",
            schema.ITEM_ID: "Artikel",
            schema.EVENT_TYPE: "Aktion",
        },
        values={
            schema.USER_ID: ["anna@example.de", "bernd@example.de", "anna@example.de"],
            schema.ITEM_ID: ["A-17", "B-22", "B-22"],
            # Common German, French and Spanish labels are event-type synonyms.
            schema.EVENT_TYPE: [VIEW, PURCHASE, CART],
        },
    ),
}


@pytest.mark.parametrize("export", EXPORTS.values(), ids=EXPORTS.keys())
def test_each_export_is_recognised_mapped_and_read_in_full(tmp_path, export):
    result = read_export(tmp_path, export)

    assert result.export_format.key == export.key
    assert result.mapping == export.mapping
    assert_nothing_rejected(result, len(next(iter(export.values.values()))))
    for name, values in export.values.items():
        assert column(result, name) == values, name
    for note in export.notes:
        assert note in result.notes
    for text in export.mentions:
        assert any(text in note for note in result.notes), text


def test_an_export_without_a_header_row_says_so(tmp_path):
    export = EXPORTS["taobao_user_behavior_without_header_is_recognised_from_value_shapes"]

    assert "no header row" in read_export(tmp_path, export).read_as


def test_event_labels_in_other_languages_are_synonyms_not_labels_kept_as_they_are(tmp_path):
    export = EXPORTS["unknown_export_loads_once_its_columns_are_mapped_by_hand"]

    assert not any("kept as they are" in note for note in read_export(tmp_path, export).notes)


def test_canonical_column_names_map_to_themselves(tmp_path):
    header = "user_id,item_id,event_type,timestamp,quantity,price,order_id,session_id,category"
    rows = (
        "u1,i1,view,2024-03-01 10:00:00,,,,s1,shoes\n"
        "u1,i1,purchase,2024-03-01 10:05:00,2,19.99,o1,s1,shoes\n"
    )

    result = read_events(write(tmp_path, "shoplens.csv", f"{header}\n{rows}"))

    assert result.export_format.key == "canonical"
    fields = header.split(",")
    assert result.mapping == {f: f for f in fields}
    assert list(result.frame.columns) == fields
    assert_nothing_rejected(result, 2)
    assert column(result, schema.EVENT_TYPE) == [VIEW, PURCHASE]
    assert column(result, schema.TIMESTAMP) == times("2024-03-01 10:00", "2024-03-01 10:05")
    assert column(result, schema.QUANTITY) == [None, 2.0]
    assert column(result, schema.PRICE) == [None, 19.99]
    assert column(result, schema.ORDER_ID) == [None, "o1"]
    assert result.notes == ()


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

    assert result.mapping == {
        schema.USER_ID: "customer",
        schema.TIMESTAMP: "date",
        "amount": "amount",
    }
    assert schema.ITEM_ID not in result.frame.columns
    assert_nothing_rejected(result, 3)
    assert column(result, schema.USER_ID) == ["c1", "c2", "c1"]
    assert column(result, schema.EVENT_TYPE) == [PURCHASE, PURCHASE, PURCHASE]
    assert column(result, schema.TIMESTAMP) == times("2024-01-05", "2024-01-06", "2024-02-01")
    assert column(result, schema.PRICE) == [10.50, 20.0, 5.25]
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

    assert schema.ITEM_ID not in result.frame.columns
    assert "amount" not in result.frame.columns
    assert column(result, schema.QUANTITY) == [2.0, 4.0, 1.0]
    # 10.50 / 2, 20 / 4, 5.25 / 1
    assert column(result, schema.PRICE) == [5.25, 5.0, 5.25]
    assert any("'amount' / quantity" in note for note in result.notes)


def test_an_item_column_that_is_empty_everywhere_counts_as_no_item_ids(tmp_path):
    path = write(
        tmp_path,
        "events.csv",
        "user_id,item_id,event_type,timestamp\nu1,,view,2024-03-01\nu2,,purchase,2024-03-02\n",
    )

    result = read_events(path)

    assert schema.ITEM_ID not in result.frame.columns
    assert schema.ITEM_ID not in result.mapping
    assert_nothing_rejected(result, 2)
    assert any("'item_id' is empty in every row" in note for note in result.notes)


def test_a_zero_quantity_keeps_the_line_total_as_the_price(tmp_path):
    path = write(
        tmp_path,
        "transactions.csv",
        "customer,date,quantity,amount\nc1,2024-01-05,0,10.50\nc2,2024-01-06,2,3\n",
    )

    result = read_events(path)

    assert column(result, schema.PRICE) == [10.50, 1.5]
    assert all(math.isfinite(p) for p in column(result, schema.PRICE))
