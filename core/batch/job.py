"""The feature job: the per-user and user x item tables of a dataset at a cutoff, computed by
DuckDB or Spark from the one SQL definition, written atomically as a folder of Parquet tables.

The output folder holds ``users/`` (the purchase model's features, one row per user with an
event before the cutoff), ``user_items/`` (counts per event type and the last time per user and
item before the cutoff; absent without item ids) and ``features.json`` (engine, cutoff, rows,
feature names, checksums, seconds). It is written in a hidden staging folder beside it and
renamed into place, so a failed or interrupted job leaves the previous tables as they were.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core import schema
from core.batch.checksums import count_rows, table_checksums
from core.batch.engines import DEFAULT_SPARK_MASTER, DuckDBEngine, SparkEngine, SqlEngine
from core.batch.sql import (
    DAY_US,
    DataShape,
    FeaturePlan,
    feature_names,
    feature_queries,
    profile_query,
)
from core.config import HORIZON_DAYS
from core.data.loading import ShopData
from core.datasets.ingest import EVENTS, PRODUCTS
from core.errors import CutoffError, ShopLensError

Engine = Literal["duckdb", "spark"]
ENGINES: Final[tuple[Engine, ...]] = ("duckdb", "spark")
USERS: Final = "users"
USER_ITEMS: Final = "user_items"
MANIFEST: Final = "features.json"


class FeatureOutputError(ShopLensError):
    """The output folder cannot take the tables."""


@dataclass(frozen=True)
class FeatureResult:
    """What a feature job wrote.

    Attributes:
        engine: the engine that computed the tables.
        cutoff: only events strictly before it were used (midnight, naive UTC).
        users: rows of the per-user table.
        user_items: rows of the user x item table (0 without item ids).
        feature_names: the per-user table's feature columns, in the purchase model's order.
        checksums: per table, per column (``core.batch.checksums``).
        seconds: wall time of the job, engine start included.
        out: the folder written.
    """

    engine: str
    cutoff: pd.Timestamp
    users: int
    user_items: int
    feature_names: tuple[str, ...]
    checksums: dict[str, dict[str, str]] = field(default_factory=dict)
    seconds: float = 0.0
    out: Path = Path()

    def as_json(self) -> dict[str, Any]:
        """``{"engine", "users", "user_items", "checksums", "seconds"}``."""
        return {
            "engine": self.engine,
            "users": self.users,
            "user_items": self.user_items,
            "checksums": self.checksums,
            "seconds": round(self.seconds, 3),
        }


def default_features_cutoff(last_event: pd.Timestamp) -> pd.Timestamp:
    """The cutoff the Purchase page takes by default: the end of the data (midnight after the
    last event's day) less the default horizon (30 days)."""
    return last_event.normalize() + pd.Timedelta(days=1 - HORIZON_DAYS)


def write_source(shop: ShopData, folder: Path) -> Path:
    """A loaded shop written as a dataset's tables (events and products Parquet) in
    ``folder``, for an engine to read; returns ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = [(shop.events.frame, EVENTS), (shop.product_frame, PRODUCTS)]
    for frame, name in tables:
        if frame is not None:
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), folder / name)
    return folder


def run_feature_job(
    source: Path,
    out: Path,
    *,
    engine: Engine = "duckdb",
    cutoff: pd.Timestamp | None = None,
    spark_master: str = DEFAULT_SPARK_MASTER,
) -> FeatureResult:
    """Compute the per-user and user x item tables of the dataset in ``source`` and write them
    to ``out``.

    Args:
        source: a dataset folder (``events.parquet``, optional ``products.parquet``).
        out: the folder to write; an earlier feature job's folder there is replaced.
        engine: ``duckdb`` (this machine) or ``spark``.
        cutoff: only events strictly before it are used (default: ``default_features_cutoff``).
        spark_master: where Spark runs: ``local[*]``, ``spark://HOST:PORT``, ``yarn``, ...
            (a Spark session already active in this process is used as it is).

    Raises:
        FeatureOutputError: when ``out`` is a file or a folder of something else.
        CutoffError: when no event lies before the cutoff.
        EngineError: when the engine cannot start.
    """
    started = time.perf_counter()
    _check_out(out)
    shape = DataShape(
        frozenset(pq.read_schema(source / EVENTS).names),
        frozenset(pq.read_schema(source / PRODUCTS).names)
        if (source / PRODUCTS).is_file()
        else frozenset(),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        runner: SqlEngine = (
            SparkEngine(spark_master, staging / "spill")
            if engine == "spark"
            else DuckDBEngine(staging / "spill")
        )
        try:
            runner.read(source / EVENTS, source / PRODUCTS if shape.product_columns else None)
            plan = _plan(runner.fetch_one(profile_query(shape)), shape, cutoff)
            queries = feature_queries(plan)
            runner.write(queries.users, staging / USERS)
            if queries.user_items is not None:
                runner.write(queries.user_items, staging / USER_ITEMS)
        finally:
            runner.close()
        shutil.rmtree(staging / "spill", ignore_errors=True)
        tables = [name for name in (USERS, USER_ITEMS) if (staging / name).is_dir()]
        result = FeatureResult(
            engine=engine,
            cutoff=_as_time(plan.cutoff_us),
            users=count_rows(staging / USERS),
            user_items=count_rows(staging / USER_ITEMS) if USER_ITEMS in tables else 0,
            feature_names=feature_names(plan),
            checksums={name: table_checksums(staging / name) for name in tables},
            out=out,
        )
        result = replace(result, seconds=time.perf_counter() - started)
        (staging / MANIFEST).write_text(json.dumps(_manifest(result), indent=1), "utf-8")
        _replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return result


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise FeatureOutputError(f"--out '{out}' is a file; name a folder for the tables.")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise FeatureOutputError(
            f"--out '{out}' is a folder of other files; name an empty or new folder (a folder "
            "of earlier feature tables is replaced)."
        )


def _plan(profile: dict[str, Any], shape: DataShape, cutoff: pd.Timestamp | None) -> FeaturePlan:
    """The queries' plan from the data's profile: the cutoff checked, the event types present
    and whether a priced purchase line lies before the cutoff."""
    first, last = _as_time(int(profile["first_us"])), _as_time(int(profile["last_us"]))
    at = default_features_cutoff(last) if cutoff is None else cutoff.normalize()
    if at <= first.normalize():
        what = "The default cutoff" if cutoff is None else "Cutoff"
        raise CutoffError(
            f"{what} {at:%Y-%m-%d} is not after the data starts ({first:%Y-%m-%d}); pick a "
            f"--cutoff between {first.normalize() + pd.Timedelta(days=1):%Y-%m-%d} and "
            f"{last.normalize() + pd.Timedelta(days=1):%Y-%m-%d}."
        )
    cutoff_us = (at - pd.Timestamp(0)) // pd.Timedelta(microseconds=1)
    priced = profile["priced_us"]
    return FeaturePlan(
        shape,
        int(cutoff_us),
        tuple(kind for kind in schema.EVENT_TYPES if profile[f"n_{kind}"]),
        priced is not None and int(priced) < cutoff_us,
    )


def _as_time(micros: int) -> pd.Timestamp:
    days, rest = divmod(micros, DAY_US)
    return pd.Timestamp(0) + pd.Timedelta(days=days) + pd.Timedelta(microseconds=rest)


def _manifest(result: FeatureResult) -> dict[str, Any]:
    return {
        **result.as_json(),
        "cutoff": result.cutoff.isoformat(),
        "feature_names": list(result.feature_names),
    }


def _replace(staging: Path, out: Path) -> None:
    """Rename ``staging`` to ``out``, an earlier ``out`` removed only once the new one is in."""
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
        out.rename(old)
    staging.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
