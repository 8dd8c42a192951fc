"""The datasets kept on the server: listing them and opening one as a shop.

A dataset is opened in memory as the loader would have loaded it (text columns categorical,
times as UTC, the load report as written by the ingest), so every page and command works on it
unchanged. That suits datasets that fit in memory; larger ones are read where they lie.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd

from core import schema
from core.data.loading import REASON, LoadResult, ShopData, make_shop
from core.datasets.ingest import EVENTS, PRODUCTS, REJECTED, REPORT, IngestReport, check_name
from core.errors import DatasetError


@dataclass(frozen=True)
class Listed:
    """A dataset folder as listed: its report, or why it cannot be opened.

    Attributes:
        name: the folder's name.
        report: the load report (None when it is missing or damaged).
        problem: why it cannot be opened, in one line ('' when it can).
    """

    name: str
    report: IngestReport | None
    problem: str = ""


def list_datasets(data_dir: Path) -> list[Listed]:
    """Every dataset under ``data_dir``, by name (hidden and staging folders left out)."""
    folder = Path(data_dir)
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            found.append(Listed(path.name, read_report(path)))
        except DatasetError as err:
            found.append(Listed(path.name, None, str(err)))
    return found


def read_report(folder: Path) -> IngestReport:
    """The load report of the dataset in ``folder``.

    Raises:
        DatasetError: one line, when it is missing or damaged.
    """
    try:
        raw: Any = json.loads((folder / REPORT).read_text(encoding="utf-8"))
        known = {f.name for f in fields(IngestReport)}
        values = {k: v for k, v in raw.items() if k in known}
        for key in ("sources", "notes"):
            values[key] = tuple(values.get(key, ()))
        report = IngestReport(**values)
        if not (folder / EVENTS).is_file():
            raise FileNotFoundError(EVENTS)
    except (OSError, ValueError, TypeError, AttributeError) as err:
        raise DatasetError(
            f"Dataset '{folder.name}' is incomplete or damaged ({type(err).__name__}); "
            "ingest its files again."
        ) from None
    return report


def find_dataset(data_dir: Path, name: str) -> Path:
    """The folder of the dataset ``name``, checked to be whole; its tables are not read.

    Raises:
        DatasetError: one line, when there is no such dataset or it is damaged.
    """
    folder = Path(data_dir) / check_name(name)
    if not folder.is_dir():
        known = ", ".join(d.name for d in list_datasets(data_dir)[:8]) or "none yet"
        raise DatasetError(
            f"There is no dataset '{name}' (datasets: {known}); ingest it first with "
            "python -m core ingest."
        )
    read_report(folder)
    return folder


def open_dataset(data_dir: Path, name: str) -> ShopData:
    """The dataset ``name`` as a shop in memory.

    Raises:
        DatasetError: one line, when there is no such dataset or it is damaged.
    """
    folder = find_dataset(data_dir, name)
    report = read_report(folder)
    events = LoadResult(
        frame=_as_loaded(pd.read_parquet(folder / EVENTS)),
        rejected=_rejected(folder),
        duplicates=report.duplicates,
        duplicates_dropped=False,
        export_format=_export_format(report.format_key),
        mapping=dict(report.mapping),
        notes=report.notes,
        rows_read=report.rows_read,
        source_name=name,
        read_as=report.read_as,
        source_columns=tuple(report.mapping.values()),
    )
    products = None
    if (folder / PRODUCTS).is_file():
        frame = pd.read_parquet(folder / PRODUCTS)
        products = LoadResult(
            frame=frame,
            rejected=pd.DataFrame({REASON: pd.Series(dtype="str")}),
            duplicates=0,
            duplicates_dropped=True,
            export_format=schema.PRODUCTS_TABLE,
            mapping={c: c for c in frame.columns if c in schema.PRODUCT_FIELDS},
            notes=(),
            rows_read=len(frame),
            source_name=f"{name} products",
            read_as="Parquet",
            source_columns=tuple(frame.columns),
        )
    return make_shop(events, products)


def _as_loaded(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as categoricals, as the loader gives them."""
    for column in frame.columns:
        if pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].astype("category")
    return frame


def _rejected(folder: Path) -> pd.DataFrame:
    parts = sorted((folder / REJECTED).glob("*.parquet"))
    if not parts:
        return pd.DataFrame({REASON: pd.Series(dtype="str")})
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def _export_format(key: str) -> schema.ExportFormat:
    known = (*schema.EXPORT_FORMATS, schema.TAOBAO, schema.GENERIC)
    return next((f for f in known if f.key == key), schema.GENERIC)
