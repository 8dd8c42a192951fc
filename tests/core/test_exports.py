"""Spreadsheet-safe CSV exports."""

import io
import os
import stat

import pandas as pd

from core.data.exports import atomic_write_bytes, file_stem, sanitise_cell, to_safe_csv


def test_formula_like_text_is_prefixed_with_a_quote():
    assert sanitise_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert sanitise_cell("+cmd") == "'+cmd"
    assert sanitise_cell("@SUM(A1)") == "'@SUM(A1)"
    assert sanitise_cell("-2+3") == "'-2+3"


def test_numbers_and_plain_text_are_left_alone():
    assert sanitise_cell("-5") == "-5"
    assert sanitise_cell("+1.5e3") == "+1.5e3"
    assert sanitise_cell("garden hose") == "garden hose"
    assert sanitise_cell(-5) == -5


def test_safe_csv_keeps_every_row_and_neutralises_cells():
    frame = pd.DataFrame({"name": ["=1+1", "tent", None], "price": [1.0, -2.0, 3.0]})
    back = pd.read_csv(io.BytesIO(to_safe_csv(frame)))
    assert back["name"].tolist()[:2] == ["'=1+1", "tent"]
    assert back["price"].tolist() == [1.0, -2.0, 3.0]
    assert len(back) == 3


def test_an_atomic_write_gives_an_ordinary_file_mode(tmp_path):
    mask = os.umask(0o022)
    os.umask(mask)
    target = tmp_path / "report.html"
    atomic_write_bytes(target, b"<html></html>")
    assert target.read_bytes() == b"<html></html>"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask


# A file name -> its stem.
STEMS = {
    "Online Retail.csv": "Online Retail",
    "Online Retail.csv.csv": "Online Retail",
    "orders.CSV.GZ": "orders",
    "export.csv.zip": "export",
    "shop.xlsx": "shop",
    "events.parquet": "events",
    "2024.12 events.tsv": "2024.12 events",
    "C:\\exports\\shop.csv": "shop",
    "../../etc/shop.txt": "shop",
    ".csv": "",
    "no ending": "no ending",
}


def test_file_stem_drops_folders_and_every_table_ending():
    assert {name: file_stem(name) for name in STEMS} == STEMS
