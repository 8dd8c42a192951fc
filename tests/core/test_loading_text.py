"""How files are read: encodings, separators, numbers, containers, times, event labels and ids."""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from core.data.loading import LoadResult, read_events
from core.data.reading import read_table
from core.schema import (
    CART,
    CATEGORY,
    EVENT_CODE_NOTE,
    EVENT_TYPE,
    FAV,
    ITEM_ID,
    NAME,
    PRICE,
    PURCHASE,
    RETURN,
    TIMESTAMP,
    USER_ID,
    VIEW,
)
from tests.reading import column, times, write

HEADER = ["user_id", "item_id", "event_type", "timestamp", "price"]
ROWS = [
    ["u1", "0042", "view", "2024-03-01 10:00:00", "1.5"],
    ["u2", "0043", "buy", "2024-03-02 11:00:00", "2.25"],
]


def csv_text(rows: list[list[str]], sep: str = ",", header: list[str] = HEADER) -> str:
    return "\n".join(sep.join(row) for row in [header, *rows]) + "\n"


def load_times(tmp_path: Path, values: list[str], **options: object) -> LoadResult:
    rows = [[f"u{i}", f"i{i}", "view", value] for i, value in enumerate(values, start=1)]
    header = ["user_id", "item_id", "event_type", "timestamp"]
    return read_events(write(tmp_path, "times.csv", csv_text(rows, header=header)), **options)


def assert_standard_rows(result: LoadResult) -> None:
    assert result.rows_read == 2
    assert result.rows_kept == 2
    assert column(result, USER_ID) == ["u1", "u2"]
    assert column(result, ITEM_ID) == ["0042", "0043"]
    assert column(result, EVENT_TYPE) == [VIEW, PURCHASE]
    assert column(result, TIMESTAMP) == times("2024-03-01 10:00", "2024-03-02 11:00")
    assert column(result, PRICE) == [1.5, 2.25]


# --- encodings ---------------------------------------------------------------------------


def test_utf8_without_bom_keeps_accented_names(tmp_path):
    rows = [["Zoë", "Crème", "view", "2024-03-01 10:00:00", "1.5"]]
    result = read_events(write(tmp_path, "e.csv", csv_text(rows)))

    assert result.read_as.startswith("CSV, UTF-8,")
    assert column(result, USER_ID) == ["Zoë"]
    assert column(result, ITEM_ID) == ["Crème"]


def test_utf8_with_bom_does_not_leak_the_bom_into_the_first_column_name(tmp_path):
    data = b"\xef\xbb\xbf" + csv_text(ROWS).encode("utf-8")
    result = read_events(write(tmp_path, "e.csv", data))

    assert "UTF-8 WITH BOM" in result.read_as
    assert result.source_columns[0] == "user_id"
    assert result.mapping[USER_ID] == "user_id"
    assert_standard_rows(result)


CHINESE = (
    "用户id,商品id,行为类型,时间,类目,商品名称\n"
    "张三,1001,浏览,2024-03-01 10:00:00,女装,连衣裙\n"
    "李四,1002,购买,2024-03-02 11:00:00,男鞋,运动鞋\n"
    "王五,1001,加购,2024-03-03 12:00:00,女装,连衣裙\n"
)


@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_chinese_headers_and_values_in_gb18030_or_gbk_are_decoded(tmp_path, encoding):
    result = read_events(write(tmp_path, "淘宝.csv", CHINESE.encode(encoding)))

    assert "GB18030" in result.read_as
    assert result.mapping == {
        USER_ID: "用户id",
        ITEM_ID: "商品id",
        EVENT_TYPE: "行为类型",
        TIMESTAMP: "时间",
        CATEGORY: "类目",
        NAME: "商品名称",
    }
    assert column(result, NAME) == ["连衣裙", "运动鞋", "连衣裙"]
    assert column(result, USER_ID) == ["张三", "李四", "王五"]
    assert column(result, ITEM_ID) == ["1001", "1002", "1001"]
    assert column(result, EVENT_TYPE) == [VIEW, PURCHASE, CART]
    assert column(result, CATEGORY) == ["女装", "男鞋", "女装"]
    assert column(result, TIMESTAMP) == times(
        "2024-03-01 10:00", "2024-03-02 11:00", "2024-03-03 12:00"
    )


def test_cp1252_accents_and_euro_signs_are_decoded(tmp_path):
    text = (
        "customer;product;event;time;price\n"
        "René;Crème brûlée;view;2024-03-01 10:00;€2,55\n"
        "Jürgen;Müsli Spéciale;buy;2024-03-02 11:00;€3,10\n"
        "Zoë;Café;click;2024-03-03 12:00;€10,00\n"
    )
    result = read_events(write(tmp_path, "export.csv", text.encode("cp1252")))

    assert "CP1252" in result.read_as
    assert column(result, USER_ID) == ["René", "Jürgen", "Zoë"]
    assert column(result, ITEM_ID) == ["Crème brûlée", "Müsli Spéciale", "Café"]
    assert column(result, EVENT_TYPE) == [VIEW, PURCHASE, VIEW]
    assert column(result, PRICE) == [2.55, 3.10, 10.0]


def test_utf16_with_bom_is_decoded(tmp_path):
    result = read_events(write(tmp_path, "e.csv", csv_text(ROWS).encode("utf-16")))

    assert "UTF-16" in result.read_as
    assert_standard_rows(result)


# --- separators, numbers and quoting -----------------------------------------------------


@pytest.mark.parametrize(
    ("sep", "described"),
    [
        (",", "','-separated"),
        (";", "';'-separated"),
        ("\t", "tab-separated"),
        ("|", "'|'-separated"),
    ],
)
def test_each_common_separator_is_detected(tmp_path, sep, described):
    result = read_events(write(tmp_path, "e.csv", csv_text(ROWS, sep=sep)))

    assert described in result.read_as
    assert result.export_format.key == "canonical"
    assert_standard_rows(result)


def test_decimal_commas_in_a_semicolon_file_are_read_as_decimal_points(tmp_path):
    rows = [
        ["u1", "i1", "buy", "2024-03-01 10:00:00", "2,55"],
        ["u2", "i2", "buy", "2024-03-02 10:00:00", "1.234,50"],
        ["u3", "i3", "buy", "2024-03-03 10:00:00", "3"],
    ]
    result = read_events(write(tmp_path, "e.csv", csv_text(rows, sep=";")))

    assert column(result, PRICE) == [2.55, 1234.5, 3.0]
    assert "price: Decimal commas read as decimal points (e.g. '2,55' = 2.55)." in result.notes


def test_thousands_separators_in_a_comma_file_are_not_decimal_commas(tmp_path):
    rows = [
        ["u1", "i1", "buy", "2024-03-01 10:00:00", '"1,234.50"'],
        ["u2", "i2", "buy", "2024-03-02 10:00:00", '"2,000"'],
    ]
    result = read_events(write(tmp_path, "e.csv", csv_text(rows)))

    assert column(result, PRICE) == [1234.5, 2000.0]
    assert not any("Decimal commas" in note for note in result.notes)


def test_quoted_fields_with_embedded_newlines_stay_one_row(tmp_path):
    text = (
        "user_id,item_id,event_type,timestamp,name\n"
        'u1,i1,view,2024-03-01 10:00:00,"two\nlines"\n'
        'u2,i2,cart,2024-03-02 11:00:00,"say ""hi"", ok"\n'
        ",i3,buy,2024-03-03 12:00:00,plain\n"
    )
    path = write(tmp_path, "e.csv", text)

    raw = read_table(path)
    assert raw.frame["name"].tolist() == ["two\nlines", 'say "hi", ok', "plain"]

    result = read_events(path)
    assert result.rows_read == 3
    assert column(result, USER_ID) == ["u1", "u2"]
    # The third record starts on the fifth line but is data row 3.
    assert result.rejected["row"].tolist() == [3]


# --- containers --------------------------------------------------------------------------


def test_gzip_compressed_csv_is_unpacked(tmp_path):
    result = read_events(write(tmp_path, "e.csv.gz", gzip.compress(csv_text(ROWS).encode())))

    assert result.read_as.startswith("CSV in gzip")
    assert_standard_rows(result)


def test_zip_holding_one_csv_is_unpacked_ignoring_mac_metadata(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export/", "")
        archive.writestr("export/events.csv", csv_text(ROWS))
        archive.writestr("__MACOSX/export/._events.csv", b"\x00\x05\x16\x07")
    result = read_events(write(tmp_path, "shop.zip", buffer.getvalue()))

    assert result.read_as.startswith("CSV in zip")
    assert result.source_name == "shop.zip/export/events.csv"
    assert_standard_rows(result)


def standard_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": ["u1", "u2"],
            "item_id": ["0042", "0043"],
            "event_type": ["view", "buy"],
            "timestamp": pd.to_datetime(["2024-03-01 10:00", "2024-03-02 11:00"]),
            "price": [1.5, 2.25],
        }
    )


def test_parquet_written_by_pandas_is_read(tmp_path):
    path = tmp_path / "e.parquet"
    standard_frame().to_parquet(path)
    result = read_events(path)

    assert result.read_as.startswith("PARQUET")
    assert_standard_rows(result)


def test_parquet_times_with_a_zone_are_converted_to_utc(tmp_path):
    frame = standard_frame()
    frame["timestamp"] = frame["timestamp"].dt.tz_localize("Europe/Berlin")
    path = tmp_path / "e.parquet"
    frame.to_parquet(path)

    result = read_events(path)

    # Berlin is UTC+1 in early March.
    assert column(result, TIMESTAMP) == times("2024-03-01 09:00", "2024-03-02 10:00")


def test_xlsx_written_by_pandas_is_read_and_keeps_text_ids(tmp_path):
    path = tmp_path / "e.xlsx"
    standard_frame().to_excel(path, index=False)
    result = read_events(path)

    assert result.read_as.startswith("XLSX")
    # "0042" is a text cell: it must not come back as the number 42.
    assert_standard_rows(result)


def test_xlsx_with_numeric_id_cells_gives_plain_id_strings(tmp_path):
    path = tmp_path / "e.xlsx"
    standard_frame().assign(user_id=[17850, 12583]).to_excel(path, index=False)
    result = read_events(path)

    assert column(result, USER_ID) == ["17850", "12583"]


# --- times -------------------------------------------------------------------------------


def test_unix_seconds_are_read_as_utc(tmp_path):
    result = load_times(tmp_path, ["1709287200", "1709377200"])

    assert column(result, TIMESTAMP) == times("2024-03-01 10:00", "2024-03-02 11:00")
    assert "Times read as unix seconds (UTC)." in result.notes


def test_unix_milliseconds_are_read_exactly(tmp_path):
    result = load_times(tmp_path, ["1709287200123", "1709377200999"])

    assert column(result, TIMESTAMP) == times("2024-03-01 10:00:00.123", "2024-03-02 11:00:00.999")
    assert "Times read as unix milliseconds (UTC)." in result.notes


def test_iso_8601_without_a_zone_is_taken_as_it_is(tmp_path):
    result = load_times(tmp_path, ["2024-03-01T10:00:00", "2024-03-02T11:30:15"])

    assert column(result, TIMESTAMP) == times("2024-03-01 10:00", "2024-03-02 11:30:15")
    assert not any("UTC offset" in note for note in result.notes)


def test_iso_8601_with_an_offset_is_converted_to_utc(tmp_path):
    result = load_times(
        tmp_path, ["2024-03-01T10:00:00+02:00", "2024-03-02T11:30:15Z", "2024-03-02T23:30:15-05:00"]
    )

    assert column(result, TIMESTAMP) == times(
        "2024-03-01 08:00", "2024-03-02 11:30:15", "2024-03-03 04:30:15"
    )
    assert "Times with a UTC offset were converted to UTC." in result.notes


def test_day_month_year_is_decided_by_a_day_above_twelve(tmp_path):
    result = load_times(tmp_path, ["13/03/2024 10:00", "01/04/2024 11:00", "02/05/2024"])

    assert column(result, TIMESTAMP) == times("2024-03-13 10:00", "2024-04-01 11:00", "2024-05-02")
    assert any(note.startswith("Dates read as day/month/year") for note in result.notes)


def test_month_day_year_is_decided_by_a_day_above_twelve(tmp_path):
    result = load_times(tmp_path, ["03/13/2024 10:00", "04/01/2024 11:00", "05/02/2024"])

    assert column(result, TIMESTAMP) == times("2024-03-13 10:00", "2024-04-01 11:00", "2024-05-02")
    assert any(note.startswith("Dates read as month/day/year") for note in result.notes)


def test_ambiguous_dates_are_reported_and_date_order_overrides_the_assumption(tmp_path):
    values = ["03/04/2024", "05/06/2024"]

    assumed = load_times(tmp_path, values)
    chosen = load_times(tmp_path, values, date_order="dmy")

    assert any("fits both day/month and month/day" in note for note in assumed.notes)
    assert column(assumed, TIMESTAMP) == times("2024-03-04", "2024-05-06")
    assert column(chosen, TIMESTAMP) == times("2024-04-03", "2024-06-05")
    assert "Dates read as day/month/year, as chosen." in chosen.notes


def test_placeholder_dates_far_in_the_future_are_rejected_not_fatal(tmp_path):
    result = load_times(tmp_path, ["2024-03-01 10:00:00", "9999-12-31 00:00:00"])

    assert column(result, TIMESTAMP) == times("2024-03-01 10:00")
    assert result.rejected_counts == {"time before 1990 or after 2100": 1}


# --- event labels and ids ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("pv", VIEW),
        ("click", VIEW),
        ("detail", VIEW),
        ("PageView", VIEW),
        ("addtocart", CART),
        ("add_to_cart", CART),
        ("Add To Cart", CART),
        ("favorite", FAV),
        ("buy", PURCHASE),
        ("order", PURCHASE),
        ("transaction", PURCHASE),
        ("refund", RETURN),
    ],
)
def test_event_type_synonyms_become_canonical_types(tmp_path, label, expected):
    rows = [["u1", "i1", label, "2024-03-01 10:00:00", "1"]]
    result = read_events(write(tmp_path, "e.csv", csv_text(rows)))

    assert column(result, EVENT_TYPE) == [expected]
    assert result.notes == ()


def test_event_codes_one_to_four_are_read_with_the_assumption_shown(tmp_path):
    text = (
        "user_id,item_id,behavior_type,time\n"
        "1,10,1,2014-12-18 10\n"
        "2,11,4,2014-12-18 11\n"
        "3,12,3,2014-12-18 12\n"
        "3,12,2,2014-12-19 12\n"
    )
    result = read_events(write(tmp_path, "tianchi_mobile.csv", text))

    assert result.mapping[EVENT_TYPE] == "behavior_type"
    assert column(result, EVENT_TYPE) == [VIEW, PURCHASE, CART, FAV]
    assert EVENT_CODE_NOTE in result.notes
    assert column(result, TIMESTAMP) == times(
        "2014-12-18 10:00", "2014-12-18 11:00", "2014-12-18 12:00", "2014-12-19 12:00"
    )


def test_unknown_event_labels_are_kept_and_counted_in_a_note(tmp_path):
    rows = [
        ["u1", "i1", "view", "2024-03-01 10:00:00", "1"],
        ["u1", "i1", "remove_from_cart", "2024-03-01 10:01:00", "1"],
        ["u1", "i1", "remove_from_cart", "2024-03-01 10:02:00", "1"],
    ]
    result = read_events(write(tmp_path, "e.csv", csv_text(rows)))

    assert column(result, EVENT_TYPE) == [VIEW, "remove_from_cart", "remove_from_cart"]
    assert result.notes == (
        "Event types kept as they are (not view, cart, fav, purchase or "
        "return): 'remove_from_cart' (2 rows).",
    )


def test_ids_with_leading_zeros_stay_strings(tmp_path):
    rows = [
        ["007", "0042", "view", "2024-03-01 10:00:00", "1"],
        ["7", "42", "view", "2024-03-01 10:01:00", "1"],
        ["0070", "00042", "view", "2024-03-01 10:02:00", "1"],
    ]
    result = read_events(write(tmp_path, "e.csv", csv_text(rows)))

    assert column(result, USER_ID) == ["007", "7", "0070"]
    assert column(result, ITEM_ID) == ["0042", "42", "00042"]
    assert result.frame[USER_ID].nunique() == 3


def test_fixed_width_codes_keep_a_zero_padded_id_far_below_the_first_rows(tmp_path):
    rows = [
        [str(1000 + i), str(20000 + i), "view", "2024-03-01 10:00:00", "1"] for i in range(5000)
    ]
    rows += [
        ["0007", "00042", "view", "2024-03-02 10:00:00", "1"],
        ["7", "42", "view", "2024-03-02 11:00:00", "1"],
    ]
    result = read_events(write(tmp_path, "e.csv", csv_text(rows)))

    assert column(result, USER_ID)[-2:] == ["0007", "7"]
    assert column(result, ITEM_ID)[-2:] == ["00042", "42"]
    assert result.frame[USER_ID].nunique() == 5002


def test_natural_integer_ids_of_varying_width_are_read_as_numbers_and_labelled_as_text(tmp_path):
    rows = [[str(i * 37), str(i), "view", "2024-03-01 10:00:00", "1"] for i in range(1, 400)]
    result = read_events(write(tmp_path, "e.csv", csv_text(rows)))

    assert column(result, USER_ID)[:3] == ["37", "74", "111"]
    assert result.frame[USER_ID].cat.categories.dtype == "str"


def test_long_numeric_ids_in_a_column_with_gaps_stay_exact(tmp_path):
    text = (
        "user_id,item_id,event_type,timestamp,order_id\n"
        "123456789012345671,1,view,2024-03-01 10:00:00,\n"
        "123456789012345672,2,buy,2024-03-01 11:00:00,223456789012345673\n"
        ",3,view,2024-03-01 12:00:00,\n"
    )
    result = read_events(write(tmp_path, "e.csv", text))

    # Above 2**53 a float cannot hold these ids: two users must not become one.
    assert column(result, USER_ID) == ["123456789012345671", "123456789012345672"]
    assert column(result, "order_id") == [None, "223456789012345673"]
