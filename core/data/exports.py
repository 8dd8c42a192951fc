"""CSV exports that are safe to open in a spreadsheet."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# The process's file-creation mask, read once at import (reading it means setting it).
_UMASK = os.umask(0o022)
os.umask(_UMASK)
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# File-name endings of the tables ShopLens reads, and of their compressed forms.
_TABLE_SUFFIX = re.compile(
    r"\.(csv|tsv|txt|gz|gzip|zip|bz2|xz|parquet|pq|xlsx|xls)$", re.IGNORECASE
)


def sanitise_cell(value: object) -> object:
    """Prefix text a spreadsheet would run as a formula with a quote; numbers stay as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        if not _PLAIN_NUMBER.fullmatch(value):
            return "'" + value
    return value


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
    """``frame`` as UTF-8 CSV bytes, with formula-like text cells neutralised."""
    safe = frame.copy()
    for column in safe.columns:
        if pd.api.types.is_object_dtype(safe[column]) or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(sanitise_cell, na_action="ignore")
    return safe.to_csv(index=False).encode("utf-8")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename, so a
    crash never leaves a half-written file behind."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_UMASK)  # as an ordinary new file, not private to us
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
