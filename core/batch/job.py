"""The feature job: the per-user and user x item tables of a dataset at a cutoff, computed by
DuckDB or Spark from the one SQL definition, written atomically as a folder of Parquet tables.

The output folder holds ``users/`` (the purchase model's features, one row per user with an
event before the cutoff), ``user_items/`` (counts per event type and the last time per user and
item before the cutoff; absent without item ids) and ``features.json`` (engine, cutoff, rows,
feature names, checksums, seconds, and the source's size and time span). It is written in a
hidden staging folder beside it and renamed into place, so a failed or interrupted job leaves
the previous tables as they were.

Asked for a horizon, the job also writes ``users_by_date/at=YYYY-MM-DD/``: the per-user table at
every date purchase prediction of that cutoff and horizon reads (each training window's start,
the cutoff and the end of the data), and ``interactions_by_date/at=YYYY-MM-DD/``: the
recommender's per-(user, item) table at every date it reads, evaluated at the cutoff and
recommending at the end of the data. ``purchase --features`` and ``recommend --features`` read
them (``FeatureTables``) instead of computing them.
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
from core.batch.checksums import count_rows, parquet_files, table_checksums
from core.batch.engines import DEFAULT_SPARK_MASTER, DuckDBEngine, SparkEngine, SqlEngine
from core.batch.sql import (
    DAY_US,
    DataShape,
    FeaturePlan,
    feature_names,
    feature_queries,
    interactions_query,
    profile_query,
)
from core.config import HORIZON_DAYS
from core.data.loading import ShopData
from core.datasets.ingest import EVENTS, PRODUCTS
from core.errors import CutoffError, ShopLensError
from core.purchase.windows import purchase_dates
from core.recommend.model import RecommenderConfig, recommend_dates

Engine = Literal["duckdb", "spark"]
ENGINES: Final[tuple[Engine, ...]] = ("duckdb", "spark")
USERS: Final = "users"
USER_ITEMS: Final = "user_items"
USERS_BY_DATE: Final = "users_by_date"
INTERACTIONS_BY_DATE: Final = "interactions_by_date"
MANIFEST: Final = "features.json"
# The folder of a dataset where the app looks for a feature job's tables of that dataset.
IN_DATASET: Final = "features"


class FeatureOutputError(ShopLensError):
    """The output folder cannot take the tables."""


class FeatureTablesError(ShopLensError):
    """A feature job's folder cannot give what is asked of it."""


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
        source: the events read: ``n_events``, ``first_us`` and ``last_us`` (their first and
            last time in microseconds since the epoch, naive UTC).
        horizon_days: the purchase horizon whose dates are in ``users_by_date`` (None: none).
        dates: the dates of ``users_by_date``, oldest first.
        interaction_dates: the dates of ``interactions_by_date``, oldest first.
    """

    engine: str
    cutoff: pd.Timestamp
    users: int
    user_items: int
    feature_names: tuple[str, ...]
    checksums: dict[str, dict[str, str]] = field(default_factory=dict)
    seconds: float = 0.0
    out: Path = Path()
    source: dict[str, int] = field(default_factory=dict)
    horizon_days: int | None = None
    dates: tuple[pd.Timestamp, ...] = ()
    interaction_dates: tuple[pd.Timestamp, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """``{"engine", "users", "user_items", "checksums", "seconds"}``."""
        return {
            "engine": self.engine,
            "users": self.users,
            "user_items": self.user_items,
            "checksums": self.checksums,
            "seconds": round(self.seconds, 3),
        }


def default_features_cutoff(
    last_event: pd.Timestamp, horizon_days: int = HORIZON_DAYS
) -> pd.Timestamp:
    """The cutoff the Purchase page takes by default: the end of the data (midnight after the
    last event's day) less the horizon (30 days unless given)."""
    return last_event.normalize() + pd.Timedelta(days=1 - horizon_days)


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
    horizon_days: int | None = None,
) -> FeatureResult:
    """Compute the per-user and user x item tables of the dataset in ``source`` and write them
    to ``out``.

    Args:
        source: a dataset folder (``events.parquet``, optional ``products.parquet``).
        out: the folder to write; an earlier feature job's folder there is replaced.
        engine: ``duckdb`` (this machine) or ``spark``.
        cutoff: only events strictly before it are used (default: ``default_features_cutoff``
            of the horizon).
        spark_master: where Spark runs: ``local[*]``, ``spark://HOST:PORT``, ``yarn``, ...
            (a Spark session already active in this process is used as it is).
        horizon_days: also write the per-user table at every date purchase prediction with
            this horizon and cutoff reads (``users_by_date``).

    Raises:
        FeatureOutputError: when ``out`` is a file or a folder of something else.
        CutoffError: when no event lies before the cutoff, or the cutoff leaves purchase
            prediction no room (with a horizon).
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
            profile = runner.fetch_one(profile_query(shape))
            plan = _plan(profile, shape, cutoff, horizon_days or HORIZON_DAYS)
            dates = (
                ()
                if horizon_days is None
                else _dates_read(
                    int(profile["first_us"]),
                    int(profile["last_us"]),
                    _as_time(plan.cutoff_us),
                    horizon_days,
                )
            )
            queries = feature_queries(plan)
            runner.write(queries.users, staging / USERS)
            if queries.user_items is not None:
                runner.write(queries.user_items, staging / USER_ITEMS)
            for at in dates:
                folder = staging / USERS_BY_DATE / _at_folder(at)
                if _as_micros(at) == plan.cutoff_us:
                    shutil.copytree(staging / USERS, folder)
                else:
                    runner.write(feature_queries(_plan_at(plan, profile, at)).users, folder)
            interaction_dates = (
                _recommend_dates_read(profile, _as_time(plan.cutoff_us), horizon_days)
                if horizon_days is not None and shape.has_items
                else ()
            )
            for at in interaction_dates:
                runner.write(
                    interactions_query(_plan_at(plan, profile, at)),
                    staging / INTERACTIONS_BY_DATE / _at_folder(at),
                )
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
            source={key: int(profile[key]) for key in ("n_events", "first_us", "last_us")},
            horizon_days=horizon_days,
            dates=dates,
            interaction_dates=interaction_dates,
        )
        result = replace(result, seconds=time.perf_counter() - started)
        (staging / MANIFEST).write_text(json.dumps(_manifest(result), indent=1), "utf-8")
        _replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return result


@dataclass(frozen=True)
class FeatureTables:
    """A feature job's folder, read by purchase prediction and the recommender instead of
    computing what it holds.

    Attributes:
        folder: the job's output folder.
        engine: the engine that computed them.
        cutoff: the job's cutoff.
        horizon_days: the purchase horizon the job wrote dates for (None: none).
        dates: the dates of the per-user tables in ``users_by_date``.
        source: the events the job read (``FeatureResult.source``).
        interaction_dates: the dates of the user x item tables in ``interactions_by_date``.
    """

    folder: Path
    engine: str
    cutoff: pd.Timestamp
    horizon_days: int | None
    dates: frozenset[pd.Timestamp]
    source: dict[str, int]
    interaction_dates: frozenset[pd.Timestamp] = frozenset()

    @classmethod
    def open(cls, folder: Path) -> FeatureTables:
        """The tables of the feature job that wrote ``folder``.

        Raises:
            FeatureTablesError: one line, when it is not a feature job's folder or holds no
                per-user tables by date.
        """
        try:
            raw = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            tables = cls(
                folder,
                str(raw["engine"]),
                pd.Timestamp(raw["cutoff"]),
                raw.get("horizon_days"),
                frozenset(pd.Timestamp(at) for at in raw.get("dates", ())),
                {key: int(value) for key, value in raw.get("source", {}).items()},
                frozenset(pd.Timestamp(at) for at in raw.get("interaction_dates", ())),
            )
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as err:
            raise FeatureTablesError(
                f"'{folder}' is not a feature job's folder ({type(err).__name__} reading "
                f"{MANIFEST}); make one with python -m core features --horizon-days H --out "
                f"{folder}."
            ) from None
        if tables.horizon_days is None or not tables.source:
            raise FeatureTablesError(
                f"The feature tables in '{folder}' hold only the cutoff "
                f"{tables.cutoff:%Y-%m-%d}; run python -m core features again with "
                "--horizon-days H (the model's horizon) to write every date the models read."
            )
        return tables

    def check_source(self, events: pd.DataFrame) -> None:
        """Refuse events other than the ones the job read (their number and time span).

        Raises:
            FeatureTablesError: one line, when they differ.
        """
        times = events[schema.TIMESTAMP]
        now = {
            "n_events": len(events),
            "first_us": pd.Timestamp(times.min()).value // 1000,
            "last_us": pd.Timestamp(times.max()).value // 1000,
        }
        if any(self.source.get(key) != value for key, value in now.items()):
            raise FeatureTablesError(
                f"The feature tables in '{self.folder}' were made from other events "
                f"({self.source.get('n_events', 0):,} events, these have {len(events):,} or "
                "another time span); run python -m core features on this data again."
            )

    def serves(self, events: pd.DataFrame, cutoff: pd.Timestamp | None, horizon_days: int) -> bool:
        """Whether the tables hold every per-user table purchase prediction on ``events`` with
        this cutoff (``None``: the default) and horizon reads."""
        try:
            self.check_source(events)  # the events' time span is then the source's
            wanted = _dates_read(
                self.source["first_us"], self.source["last_us"], cutoff, horizon_days
            )
        except (FeatureTablesError, CutoffError):
            return False
        return set(wanted) <= self.dates

    def serves_recommender(
        self, events: pd.DataFrame, cutoff: pd.Timestamp, horizon_days: int, train_windows: int
    ) -> bool:
        """Whether the tables hold the user x item table at every date the recommender fitted
        on ``events`` at ``cutoff`` with this horizon and training windows reads."""
        try:
            self.check_source(events)  # the events' time span is then the source's
        except FeatureTablesError:
            return False
        first = _as_time(self.source["first_us"])
        wanted = recommend_dates(first, cutoff, horizon_days, train_windows)
        return set(wanted) <= self.interaction_dates

    def users_at(self, at: pd.Timestamp) -> pd.DataFrame:
        """The per-user features at ``at`` (index ``user_id`` as text), as
        ``features.user_features`` gives them.

        Raises:
            FeatureTablesError: one line, when the job wrote no table at that date.
        """
        if at not in self.dates:
            raise FeatureTablesError(
                f"The feature tables in '{self.folder}' have no per-user table at "
                f"{at:%Y-%m-%d}: they were made for cutoff {self.cutoff:%Y-%m-%d} and horizon "
                f"{self.horizon_days} days; run python -m core features with this purchase's "
                "--cutoff and --horizon-days."
            )
        frame = self._read(USERS_BY_DATE, at)
        users = pd.Index(frame.pop(schema.USER_ID).astype("str"), name=schema.USER_ID)
        return frame.set_axis(users).astype("float64")

    def interactions_at(self, at: pd.Timestamp) -> pd.DataFrame:
        """The recommender's per-(user, item) table of the events before ``at``
        (``interactions.PAIRS``), as ``build_interactions`` reads it.

        Raises:
            FeatureTablesError: one line, when the job wrote no such table at that date.
        """
        if not self.interaction_dates:
            raise FeatureTablesError(
                f"The feature tables in '{self.folder}' hold no user x item tables by date; run "
                "python -m core features --horizon-days H (this recommender's horizon) again."
            )
        if at not in self.interaction_dates:
            raise FeatureTablesError(
                f"The feature tables in '{self.folder}' have no user x item table at "
                f"{at:%Y-%m-%d}: they were made for cutoff {self.cutoff:%Y-%m-%d} and horizon "
                f"{self.horizon_days} days; run python -m core features with --horizon-days "
                "this recommender's horizon (its dates are the end of the data, the cutoff and "
                "each training window's start)."
            )
        return self._read(INTERACTIONS_BY_DATE, at)

    def _read(self, table: str, at: pd.Timestamp) -> pd.DataFrame:
        """The table at ``at``.

        Raises:
            FeatureTablesError: one line, when its files cannot be read (e.g. the folder is
                being replaced by a new job).
        """
        folder = self.folder / table / _at_folder(at)
        try:
            parts = [pq.read_table(path).to_pandas() for path in parquet_files(folder)]
            if not parts:
                raise FileNotFoundError(folder)
        except (OSError, ValueError, pa.ArrowException) as err:
            raise FeatureTablesError(
                f"The feature table {table}/{_at_folder(at)} in '{self.folder}' cannot be read "
                f"({type(err).__name__}); run python -m core features again."
            ) from None
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def _at_folder(at: pd.Timestamp) -> str:
    return f"at={at:%Y-%m-%d}"


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise FeatureOutputError(f"--out '{out}' is a file; name a folder for the tables.")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise FeatureOutputError(
            f"--out '{out}' is a folder of other files; name an empty or new folder (a folder "
            "of earlier feature tables is replaced)."
        )


def _plan(
    profile: dict[str, Any], shape: DataShape, cutoff: pd.Timestamp | None, horizon_days: int
) -> FeaturePlan:
    """The queries' plan from the data's profile: the cutoff checked, the event types present
    and whether a priced purchase line lies before the cutoff."""
    first, last = _as_time(int(profile["first_us"])), _as_time(int(profile["last_us"]))
    at = default_features_cutoff(last, horizon_days) if cutoff is None else cutoff.normalize()
    if at <= first.normalize():
        what = "The default cutoff" if cutoff is None else "Cutoff"
        raise CutoffError(
            f"{what} {at:%Y-%m-%d} is not after the data starts ({first:%Y-%m-%d}); pick a "
            f"--cutoff between {first.normalize() + pd.Timedelta(days=1):%Y-%m-%d} and "
            f"{last.normalize() + pd.Timedelta(days=1):%Y-%m-%d}."
        )
    return _plan_at(
        FeaturePlan(shape, 0, tuple(kind for kind in schema.EVENT_TYPES if profile[f"n_{kind}"])),
        profile,
        at,
    )


def _plan_at(plan: FeaturePlan, profile: dict[str, Any], at: pd.Timestamp) -> FeaturePlan:
    """``plan`` at the cutoff ``at``: spend exists when a priced purchase line lies before."""
    cutoff_us = _as_micros(at)
    priced = profile["priced_us"]
    return replace(
        plan, cutoff_us=cutoff_us, priced_purchases=priced is not None and int(priced) < cutoff_us
    )


def _dates_read(
    first_us: int, last_us: int, cutoff: pd.Timestamp | None, horizon_days: int
) -> tuple[pd.Timestamp, ...]:
    """Every date purchase prediction with this cutoff and horizon reads features at, oldest
    first, on events from ``first_us`` to ``last_us``.

    Raises:
        CutoffError: when the cutoff leaves purchase prediction no room.
    """
    start = _as_time(first_us).normalize()
    end = _as_time(last_us).normalize() + pd.Timedelta(days=1)
    at, windows = purchase_dates(start, end, cutoff, horizon_days)
    return tuple(sorted({at, end, *(begin for begin, _ in windows)}))


def _recommend_dates_read(
    profile: dict[str, Any], cutoff: pd.Timestamp, horizon_days: int
) -> tuple[pd.Timestamp, ...]:
    """Every date the recommender with the default training windows and this horizon builds
    interactions at, oldest first: evaluated at ``cutoff``, and recommending at the end."""
    first = _as_time(int(profile["first_us"]))
    end = _as_time(int(profile["last_us"])).normalize() + pd.Timedelta(days=1)
    windows = RecommenderConfig().train_windows
    return tuple(
        sorted(
            {
                *recommend_dates(first, cutoff, horizon_days, windows),
                *recommend_dates(first, end, horizon_days, windows),
            }
        )
    )


def _as_micros(at: pd.Timestamp) -> int:
    return int((at - pd.Timestamp(0)) // pd.Timedelta(microseconds=1))


def _as_time(micros: int) -> pd.Timestamp:
    days, rest = divmod(micros, DAY_US)
    return pd.Timestamp(0) + pd.Timedelta(days=days) + pd.Timedelta(microseconds=rest)


def _manifest(result: FeatureResult) -> dict[str, Any]:
    return {
        **result.as_json(),
        "cutoff": result.cutoff.isoformat(),
        "feature_names": list(result.feature_names),
        "source": result.source,
        "horizon_days": result.horizon_days,
        "dates": [at.isoformat() for at in result.dates],
        "interaction_dates": [at.isoformat() for at in result.interaction_dates],
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
