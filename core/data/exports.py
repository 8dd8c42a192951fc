"""CSV exports that are safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import pandas as pd

# What a spreadsheet may run as a formula when a cell starts with it; the fullwidth forms and the
# minus sign because some locales (and IMEs) turn them into the ASCII ones.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20", "\u2212")
# Where a spreadsheet that guesses the separator, or ignores quotes, may start a new cell.
_CELL_BREAK = re.compile(r"([\r\n;,\t])")
# The process's file-creation mask, read once at import (reading it means setting it).
_UMASK = os.umask(0o022)
os.umask(_UMASK)
# A number, with a point or (as in much of Europe) a comma before its decimals.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+[.,]?\d*|[.,]\d+)([eE][+-]?\d+)?", re.ASCII)
# File-name endings of the tables ShopLens reads, and of their compressed forms.
_TABLE_SUFFIX = re.compile(
    r"\.(csv|tsv|txt|gz|gzip|zip|bz2|xz|parquet|pq|xlsx|xls)$", re.IGNORECASE
)


def sanitise_cell(value: object) -> object:
    """Text a spreadsheet could run as a formula, made inert with a ``'``; anything else as it is.

    A ``'`` goes before the text and before every part of it that follows a line break, ``;``,
    ``,`` or tab and starts like a formula (``= + - @``, tab, carriage return, their fullwidth
    forms), because a spreadsheet that splits the cell there would otherwise start a new cell
    with it: ``"x;=3+3"`` gives ``"x;'=3+3"``. Plain numbers (``"-3.5"``) and plain text
    (``"a, b"``) are left alone, and so is every value that is not text.
    """
    if not isinstance(value, str):
        return value
    pieces = _CELL_BREAK.split(value)  # text, break, text, break, ..., text
    for index in range(2, len(pieces), 2):
        if _starts_formula(pieces[index]):
            pieces[index] = "'" + pieces[index]
    safe = "".join(pieces)
    return "'" + safe if _starts_formula(value) else safe


def _starts_formula(text: str) -> bool:
    return text.lstrip('"').startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text)


def file_stem(name: str) -> str:
    """A file's name without its folders and table endings: ``"exports/Online Retail.csv.gz"``
    gives ``"Online Retail"`` (every trailing ``.csv``, ``.gz``, ``.zip``, ``.xlsx``,
    ``.parquet``... is removed; other dots stay)."""
    stem = re.split(r"[/\\]", str(name))[-1].strip()
    while True:
        shorter = _TABLE_SUFFIX.sub("", stem).rstrip()
        if shorter == stem:
            return stem
        stem = shorter


def to_safe_csv(frame: pd.DataFrame) -> bytes:
    """``frame`` as UTF-8 CSV bytes that are safe to open in a spreadsheet.

    Every text cell (and column name) goes through ``sanitise_cell`` and is written between
    double quotes, so a line break, a bare carriage return or a separator inside it never
    splits the row for a reader that honours quotes; numbers, booleans and times are written
    as they are.
    """
    safe = frame.copy()
    for column in safe.columns:
        dtype = safe[column].dtype
        if not (
            pd.api.types.is_numeric_dtype(dtype)  # booleans included
            or pd.api.types.is_datetime64_any_dtype(dtype)
            or pd.api.types.is_timedelta64_dtype(dtype)
        ):
            safe[column] = safe[column].astype(object).map(sanitise_cell)
    safe.columns = [sanitise_cell(column) for column in safe.columns]
    # Quoting decided by type, not by looking for special characters: Python's csv writer
    # leaves a lone carriage return unquoted when the line ending is "\n".
    return safe.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC).encode("utf-8")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename, so a
    crash never leaves a half-written file behind."""
    with atomic_writer(path) as file:
        file.write(data)


@contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """A binary file to write ``path`` through: a temporary file in the same folder, renamed
    onto ``path`` when the block ends without an error and removed when it fails, so a crash
    never leaves a half-written file behind."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_UMASK)  # as an ordinary new file, not private to us
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
