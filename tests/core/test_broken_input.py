"""Broken input fails with the right ShopLensError and a one-line message naming the file."""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from core.data.loading import read_events, read_products
from core.errors import (
    AllRowsRejectedError,
    ArchiveContentsError,
    BinaryFileError,
    CorruptFileError,
    EmptyFileError,
    MappingError,
    MissingColumnsError,
    NoDataRowsError,
    ShopLensError,
    SourceNotFoundError,
    TooFewColumnsError,
)

GOOD_CSV = (
    "user_id,item_id,event_type,timestamp,price,note\n"
    "u1,i1,view,2024-03-01 10:00:00,1.50,hello\n"
    "u2,i2,buy,2024-03-02 11:00:00,2.50,world\n"
)


def zipped(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


def xlsx(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    return buffer.getvalue()


def xlsx_with_broken_sheet() -> bytes:
    good = zipfile.ZipFile(io.BytesIO(xlsx(pd.DataFrame({"user_id": ["u1"], "t": [1]}))))
    return zipped(
        {
            name: b"<worksheet><sheetData><row" if name.endswith("sheet1.xml") else good.read(name)
            for name in good.namelist()
        }
    )


def zip_with_unsupported_compression() -> bytes:
    data = bytearray(zipped({"events.csv": GOOD_CSV}))
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    data[local + 8 : local + 10] = (9).to_bytes(2, "little")  # 9 = Deflate64
    data[central + 10 : central + 12] = (9).to_bytes(2, "little")
    return bytes(data)


@dataclass(frozen=True)
class Case:
    file: str
    data: bytes | Callable[[], bytes] | None  # None: the file is not written
    error: type[ShopLensError]
    match: str
    mapping: dict[str, str] = field(default_factory=dict)
    products: bool = False

    def load(self, tmp_path: Path) -> None:
        path = tmp_path / self.file
        if self.data is not None:
            path.write_bytes(self.data() if callable(self.data) else self.data)
        if self.products:
            read_products(path, mapping=self.mapping or None)
        else:
            read_events(path, mapping=self.mapping or None)


CASES = {
    "empty file": Case("events.csv", b"", EmptyFileError, r"is empty"),
    "whitespace only": Case("events.csv", b"  \r\n\n\t \n", EmptyFileError, r"is empty"),
    "header but no rows": Case(
        "events.csv",
        b"user_id,item_id,event_type,timestamp\n",
        NoDataRowsError,
        r"has column names but no data rows",
    ),
    "header without a line break and no rows": Case(
        "events.csv",
        b"user_id,item_id,event_type,timestamp",
        NoDataRowsError,
        r"has column names but no data rows",
    ),
    "xlsx with a header only": Case(
        "events.xlsx",
        lambda: xlsx(pd.DataFrame(columns=["user_id", "timestamp"])),
        NoDataRowsError,
        r"no data rows",
    ),
    "binary garbage with NUL bytes": Case(
        "events.csv",
        b"\x01\x02garbage\x00\x00\x07" * 40,
        BinaryFileError,
        r"is a binary file, not text",
    ),
    "PNG image": Case(
        "events.csv",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40,
        BinaryFileError,
        r"is a PNG image, not a table",
    ),
    "PDF document": Case(
        "export.pdf",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< >>\nendobj\n",
        BinaryFileError,
        r"is a PDF document, not a table",
    ),
    "corrupt gzip": Case(
        "events.csv.gz",
        b"\x1f\x8b\x08\x00" + b"not deflate data" * 4,
        CorruptFileError,
        r"looks gzip-compressed but cannot be unpacked",
    ),
    "truncated gzip": Case(
        "events.csv.gz",
        gzip.compress(GOOD_CSV.encode() * 50)[:40],
        CorruptFileError,
        r"looks gzip-compressed but cannot be unpacked",
    ),
    "corrupt parquet": Case(
        "events.parquet",
        b"PAR1" + b"\x15\x04garbage" * 20 + b"PAR1",
        CorruptFileError,
        r"is a damaged Parquet file",
    ),
    "truncated parquet": Case(
        "events.parquet",
        lambda: parquet(pd.DataFrame({"user_id": ["u1"] * 20, "price": [1.5] * 20}))[:200],
        CorruptFileError,
        r"is a damaged Parquet file",
    ),
    "zip with no table": Case(
        "export.zip",
        zipped({"README.txt.md": "hello", "logo.png": b"\x89PNG"}),
        ArchiveContentsError,
        r"holds 0 tables \(no CSV, Parquet or xlsx file\)",
    ),
    "zip with two CSVs": Case(
        "export.zip",
        zipped({"a.csv": GOOD_CSV, "b.csv": GOOD_CSV}),
        ArchiveContentsError,
        r"holds 2 tables \(a\.csv, b\.csv\)",
    ),
    "damaged zip": Case(
        "export.zip",
        zipped({"events.csv": GOOD_CSV})[:60],
        CorruptFileError,
        r"is a damaged zip file",
    ),
    "zip with an unsupported compression method": Case(
        "export.zip",
        zip_with_unsupported_compression,
        CorruptFileError,
        r"uses a zip compression method that cannot be unpacked",
    ),
    "xlsx with a broken sheet": Case(
        "events.xlsx",
        xlsx_with_broken_sheet,
        CorruptFileError,
        r"is an Excel file that cannot be opened",
    ),
    "single-column csv": Case(
        "events.csv", b"user_id\nu1\nu2\n", TooFewColumnsError, r"has a single column"
    ),
    "single-column xlsx": Case(
        "events.xlsx",
        lambda: xlsx(pd.DataFrame({"user_id": ["u1", "u2"]})),
        TooFewColumnsError,
        r"has a single column",
    ),
    "no user id column": Case(
        "events.csv",
        b"event_type,timestamp\nview,2024-03-01\nbuy,2024-03-02\n",
        MissingColumnsError,
        r"No column of 'events\.csv' can be the user id",
    ),
    "no time column": Case(
        "events.csv",
        b"user_id,item_id,event_type\nu1,i1,view\nu2,i2,buy\n",
        MissingColumnsError,
        r"No column of 'events\.csv' can be the event time",
    ),
    "time column without a single time": Case(
        "events.csv",
        b"user_id,date\nu1,soon\nu2,later\n",
        MissingColumnsError,
        r"Column 'date' of 'events\.csv' has no values that read as dates or times",
    ),
    "mapping to a column that does not exist": Case(
        "events.csv",
        GOOD_CSV.encode(),
        MappingError,
        r"Column 'Kundennummer' chosen for user_id is not in 'events\.csv'",
        mapping={"user_id": "Kundennummer"},
    ),
    "mapping the time to a text column": Case(
        "events.csv",
        GOOD_CSV.encode(),
        MappingError,
        r"Column 'note' of 'events\.csv' has no values that read as dates or times "
        r"\(e\.g\. 'hello'\)",
        mapping={"timestamp": "note"},
    ),
    "mapping the time to a text column holding line breaks": Case(
        "events.csv",
        b'user_id,timestamp,note\nu1,2024-03-01,"two\nlines"\nu2,2024-03-02,plain\n',
        MappingError,
        r"Column 'note' of 'events\.csv' has no values .* \(e\.g\. 'two lines'\)",
        mapping={"timestamp": "note"},
    ),
    "mapping the price to a text column": Case(
        "events.csv",
        GOOD_CSV.encode(),
        MappingError,
        r"Column 'note' of 'events\.csv' chosen for price has no numbers",
        mapping={"price": "note"},
    ),
    "one column mapped to user id and item id": Case(
        "events.csv",
        GOOD_CSV.encode(),
        MappingError,
        r"Column 'user_id' of 'events\.csv' is mapped to both user_id and item_id",
        mapping={"user_id": "user_id", "item_id": "user_id"},
    ),
    "unknown field name in the mapping": Case(
        "events.csv",
        GOOD_CSV.encode(),
        MappingError,
        r"'colour' \(mapped for 'events\.csv'\) is not a field ShopLens knows",
        mapping={"colour": "note"},
    ),
    "every row rejected": Case(
        "events.csv",
        b"user_id,item_id,event_type,timestamp\n,i1,view,2024-03-01\n,i2,buy,2024-03-02\n",
        AllRowsRejectedError,
        r"All 2 rows of 'events\.csv' were rejected, most for 'missing user id' \(2\)",
    ),
    "every time out of range": Case(
        "events.csv",
        b"user_id,timestamp\nu1,1850-01-01\nu2,2150-01-01\n",
        AllRowsRejectedError,
        r"All 2 rows of 'events\.csv' were rejected, most for 'time "
        r"before 1990 or after 2100' \(2\)",
    ),
    "products file with no item id": Case(
        "products.csv",
        b"colour name,price\ndark red,1.5\nlight blue,2.5\n",
        MissingColumnsError,
        r"No column of the product table 'products\.csv' can be the item id",
        products=True,
    ),
    "missing file": Case(
        "no_such_export.csv", None, SourceNotFoundError, r"no_such_export\.csv' does not exist"
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_broken_input_fails_with_a_one_line_message_naming_file_and_problem(tmp_path, case):
    with pytest.raises(case.error, match=case.match) as caught:
        case.load(tmp_path)

    message = str(caught.value)
    assert type(caught.value) is case.error
    assert case.file in message
    assert "\n" not in message and "\r" not in message
    assert message == message.strip()


def test_broken_file_uploaded_as_bytes_is_named_by_its_upload_name():
    with pytest.raises(BinaryFileError, match=r"^'Umsatz März\.csv' is a PNG image"):
        read_events(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, name="Umsatz März.csv")


def test_errors_inside_a_zip_name_the_archive_and_the_member():
    data = zipped({"export/events.csv": b""})

    with pytest.raises(EmptyFileError, match=r"'shop\.zip/export/events\.csv' is empty"):
        read_events(data, name="shop.zip")
