"""Helpers of the loading tests: write a file, then read the loaded columns back as plain values."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.data.loading import LoadResult


def write(folder: Path, name: str, data: str | bytes) -> Path:
    """Write ``data`` (text is encoded as UTF-8, byte for byte) to ``folder/name``."""
    path = folder / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def column(result: LoadResult, name: str) -> list[object]:
    """A frame column as plain values, missing values as None."""
    return [None if pd.isna(v) else v for v in result.frame[name].astype("object")]


def times(*texts: str) -> list[pd.Timestamp]:
    return [pd.Timestamp(t) for t in texts]
