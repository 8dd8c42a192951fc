"""Exported CSV files stay inert in a spreadsheet, however the spreadsheet splits them."""

import csv
import io
import re

import pandas as pd
import pytest

from core.data.exports import sanitise_cell, to_safe_csv

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+[.,]?\d*|[.,]\d+)([eE][+-]?\d+)?", re.ASCII)

HOSTILE = [
    "=1+1",
    "a\r=1+1",
    "a\n+2",
    "a\r\n-2+3",
    "x;=3+3",
    "x,@SUM(A1)",
    "\t=1",
    "\r=1",
    "-3.5",
    "+1.5e3",
    "−3.5",  # U+2212 MINUS SIGN
    "－3.5",  # fullwidth hyphen-minus
    "＝1+1",  # fullwidth equals
    "＠SUM(A1)",
    '=HYPERLINK("http://x","y")',
    'say "hi"',
    'x,"=1"',
    "a, b",
    "Grüße, 日本語 🎉",
    "",
]
# A spreadsheet's own reading of each cell: unchanged, or made inert with a quote.
EXPECTED = {
    "=1+1": "'=1+1",
    "a\r=1+1": "a\r'=1+1",
    "a\n+2": "a\n+2",  # +2 is a number, not a formula
    "a\r\n-2+3": "a\r\n'-2+3",
    "x;=3+3": "x;'=3+3",
    "x,@SUM(A1)": "x,'@SUM(A1)",
    "\t=1": "'\t'=1",
    "\r=1": "'\r'=1",
    "−3.5": "'−3.5",
    "－3.5": "'－3.5",
    "＝1+1": "'＝1+1",
    "＠SUM(A1)": "'＠SUM(A1)",
    '=HYPERLINK("http://x","y")': '\'=HYPERLINK("http://x","y")',
    'x,"=1"': 'x,\'"=1"',
}


def hostile_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "text": HOSTILE,
            "number": [-3.5] * len(HOSTILE),
            "count": range(len(HOSTILE)),
            "=header": ["-3.5"] * len(HOSTILE),
        }
    )


def is_inert(field: str) -> bool:
    """Not a formula start, or a plain number (with the closing quote a naive split leaves)."""
    number = field.strip().removesuffix('"')
    return not field.startswith(FORMULA_START) or bool(PLAIN_NUMBER.fullmatch(number))


@pytest.mark.parametrize("cell", HOSTILE)
def test_each_hostile_cell_is_neutralised_as_expected(cell):
    assert sanitise_cell(cell) == EXPECTED.get(cell, cell)


def test_plain_numbers_and_text_stay_as_they_are():
    for cell in ("-3.5", "+1.5e3", "-3,5", "a, b", "tent", "a; b"):
        assert sanitise_cell(cell) == cell
    assert sanitise_cell(-3.5) == -3.5


def test_a_bare_carriage_return_never_ends_a_record():
    data = to_safe_csv(pd.DataFrame({"text": ["a\r=1+1", "b"]})).decode("utf-8")
    rows = list(csv.reader(io.StringIO(data, newline="")))
    assert rows == [["text"], ["a\r'=1+1"], ["b"]]


def test_the_csv_module_reads_back_every_row_and_value():
    frame = hostile_frame()
    data = to_safe_csv(frame).decode("utf-8")
    rows = list(csv.reader(io.StringIO(data, newline="")))
    assert rows[0] == ["text", "number", "count", "'=header"]
    assert len(rows) == len(HOSTILE) + 1
    assert [row[0] for row in rows[1:]] == [EXPECTED.get(cell, cell) for cell in HOSTILE]
    assert {row[1] for row in rows[1:]} == {"-3.5"}
    assert [row[2] for row in rows[1:]] == [str(i) for i in range(len(HOSTILE))]
    assert {row[3] for row in rows[1:]} == {"-3.5"}


def test_no_field_starts_a_formula_when_a_reader_ignores_quotes():
    data = to_safe_csv(hostile_frame()).decode("utf-8")
    for line in re.split(r"\r\n|\r|\n", data):
        for field in re.split(r"[;,\t]", line):
            assert is_inert(field), (line, field)


def test_no_field_starts_a_formula_when_a_reader_splits_quoted_cells_on_semicolons():
    # European Excel guesses ';' as the separator: each part of a quoted cell becomes a cell.
    data = to_safe_csv(hostile_frame()).decode("utf-8")
    for row in csv.reader(io.StringIO(data, newline="")):
        for cell in row:
            for part in re.split(r"\r\n|\r|\n|[;,\t]", cell):
                assert is_inert(part), (cell, part)


def test_pandas_reads_back_the_values_with_only_the_quotes_added():
    frame = hostile_frame()
    back = pd.read_csv(io.BytesIO(to_safe_csv(frame)), dtype=str, keep_default_na=False)
    assert list(back.columns) == ["text", "number", "count", "'=header"]
    assert back["text"].tolist() == [EXPECTED.get(cell, cell) for cell in HOSTILE]
    assert back["text"].str.replace("'", "").tolist() == [c.replace("'", "") for c in HOSTILE]
    for cell in back["text"]:
        assert is_inert(cell)


def test_numbers_stay_numbers_in_number_and_text_columns():
    frame = pd.DataFrame({"number": [-3.5, 2.0], "text": ["-3.5", "+2"]})
    back = pd.read_csv(io.BytesIO(to_safe_csv(frame)))
    assert back["number"].tolist() == [-3.5, 2.0]
    assert back["text"].tolist() == [-3.5, 2.0]


def test_missing_values_stay_missing():
    frame = pd.DataFrame({"text": ["=1", None], "number": [1.0, None]})
    back = pd.read_csv(io.BytesIO(to_safe_csv(frame)))
    assert back["text"].tolist()[0] == "'=1"
    assert back.isna().sum().tolist() == [1, 1]


def test_category_and_string_columns_are_neutralised_too():
    frame = pd.DataFrame(
        {
            "category": pd.Categorical(["=1+1", "a"]),
            "string": pd.Series(["x;=3+3", "b"], dtype="string"),
        }
    )
    back = pd.read_csv(io.BytesIO(to_safe_csv(frame)))
    assert back["category"].tolist() == ["'=1+1", "a"]
    assert back["string"].tolist() == ["x;'=3+3", "b"]
