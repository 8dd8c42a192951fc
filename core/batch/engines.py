"""The two engines that run the feature SQL: DuckDB on this machine, Apache Spark on a cluster.

Each engine does only what differs between them: reading the Parquet tables as the views
``source_events`` (with the time as whole microseconds, ``ts_us``) and ``source_products``,
running a query and writing its result as a folder of Parquet files. The queries themselves are
the same text on both (``core.batch.sql``).

pyspark is imported only when a Spark engine starts, so the app and every other command never
load it (it is an optional extra: ``requirements-cluster.txt``).
"""

from __future__ import annotations

import re
import shutil
import socket
import warnings
from pathlib import Path
from typing import Any, Final, Protocol

import duckdb

from core.batch.sql import SOURCE_EVENTS, SOURCE_PRODUCTS, TIME_US
from core.errors import ShopLensError

DEFAULT_SPARK_MASTER: Final = "local[*]"
DUCKDB_MEMORY: Final = "4GB"  # DuckDB spills to the job's staging folder past this
PART: Final = "part-0.parquet"
_LOCAL_MASTER: Final = re.compile(r"local(\[(\*|[1-9]\d*)(,\s*[1-9]\d*)?\])?")
_SPARK_MASTER: Final = re.compile(r"spark://[^\s/:,]+:\d{1,5}(,[^\s/:,]+:\d{1,5})*")
_OTHER_MASTER: Final = re.compile(r"yarn|k8s://\S+")
_CONNECT_SECONDS: Final = 5.0
_TIMESTAMP: Final = "timestamp"


class EngineError(ShopLensError):
    """An engine that cannot start: a missing package or Java, or an unreachable master."""


class SqlEngine(Protocol):
    """What the feature job needs from an engine."""

    name: str

    def read(self, events: Path, products: Path | None) -> None:
        """Register ``source_events`` (with ``ts_us``) and ``source_products``."""

    def fetch_one(self, query: str) -> dict[str, Any]:
        """The single row of ``query`` by column name."""

    def write(self, query: str, folder: Path) -> None:
        """Write the result of ``query`` as Parquet files in ``folder`` (not there yet)."""

    def close(self) -> None:
        """Free what the engine holds (a session started elsewhere is left running)."""


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


class DuckDBEngine:
    """DuckDB in this process, on every core, spilling to ``spill_dir`` past its memory."""

    name = "duckdb"

    def __init__(self, spill_dir: Path) -> None:
        self._con = duckdb.connect()
        self._con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
        self._con.execute("SET temp_directory = ?", [str(spill_dir)])
        self._con.execute("SET preserve_insertion_order = false")
        self._con.execute("SET enable_progress_bar = false")
        # Spark's name for a timestamp from microseconds, so the queries read the same.
        self._con.execute("CREATE MACRO timestamp_micros(us) AS make_timestamp(us)")

    def read(self, events: Path, products: Path | None) -> None:
        self._con.execute(
            f'CREATE VIEW {SOURCE_EVENTS} AS SELECT *, epoch_us("{_TIMESTAMP}") AS {TIME_US} '
            f"FROM read_parquet({_quoted(events)})"
        )
        if products is not None:
            self._con.execute(
                f"CREATE VIEW {SOURCE_PRODUCTS} AS SELECT * FROM read_parquet({_quoted(products)})"
            )

    def fetch_one(self, query: str) -> dict[str, Any]:
        cursor = self._con.execute(query)
        names = [column[0] for column in cursor.description or ()]
        row = cursor.fetchone()
        assert row is not None  # an aggregate without GROUP BY has one row
        return dict(zip(names, row, strict=True))

    def write(self, query: str, folder: Path) -> None:
        folder.mkdir(parents=True)
        self._con.execute(f"COPY ({query}) TO {_quoted(folder / PART)} (FORMAT parquet)")

    def close(self) -> None:
        self._con.close()


def check_spark_master(master: str) -> str:
    """``master`` when Spark can take it: ``local``, ``local[N]``, ``local[*]``,
    ``spark://HOST:PORT`` (reachable now), ``yarn`` or ``k8s://URL``.

    Raises:
        EngineError: one line, for anything else or a standalone master that does not answer.
    """
    text = master.strip()
    if _LOCAL_MASTER.fullmatch(text) or _OTHER_MASTER.fullmatch(text):
        return text
    if not _SPARK_MASTER.fullmatch(text):
        raise EngineError(
            f"--spark-master '{master[:80]}' is not a Spark master URL; give local[*], "
            "local[N], spark://HOST:PORT, yarn or k8s://URL."
        )
    hosts = text.removeprefix("spark://").split(",")
    for host_port in hosts:
        host, _, port = host_port.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=_CONNECT_SECONDS):
                return text
        except OSError:
            continue
    raise EngineError(
        f"The Spark master {text} does not answer (tried for {_CONNECT_SECONDS:.0f} s); check "
        "the URL and that the master is running, or use --spark-master local[*]."
    )


def _check_java() -> None:
    import os

    home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (home and (Path(home) / "bin" / "java").exists()):
        raise EngineError(
            "Spark needs Java 17 or later, and no 'java' was found; install it (e.g. apt-get "
            "install openjdk-17-jre-headless) or set JAVA_HOME, or use --engine duckdb."
        )


class SparkEngine:
    """Spark SQL through PySpark: the session already active in this process, or one started
    on ``master`` (and stopped by ``close``)."""

    name = "spark"

    def __init__(self, master: str, local_dir: Path) -> None:
        master = check_spark_master(master)
        # pyspark warns that it has not been checked on pandas 3; the job hands it no pandas.
        warnings.filterwarnings(
            "ignore", "PySpark does not yet fully support pandas", category=FutureWarning
        )
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise EngineError(
                "The Spark engine needs pyspark, which is not installed; run pip install -r "
                "requirements-cluster.txt, or use --engine duckdb."
            ) from None
        active = SparkSession.getActiveSession()
        self._owned = active is None
        if active is None:
            _check_java()
            builder = (
                SparkSession.builder.master(master)
                .appName("ShopLens features")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.local.dir", str(local_dir))
            )
            if master.startswith("local"):
                # The driver is the whole cluster here: give it room for the shuffles.
                builder = builder.config("spark.driver.memory", "4g").config(
                    "spark.sql.shuffle.partitions", "16"
                )
            active = builder.getOrCreate()
            active.sparkContext.setLogLevel("ERROR")
        self._spark: Any = active
        conf = self._spark.conf
        conf.set("spark.sql.session.timeZone", "UTC")  # times are naive UTC
        # Nanosecond Parquet times (pandas and DuckDB write them) are read as whole numbers.
        conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
        conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")

    def read(self, events: Path, products: Path | None) -> None:
        from pyspark.sql import functions as sf
        from pyspark.sql.types import LongType

        frame = self._spark.read.parquet(str(events))
        stamp = frame.schema[_TIMESTAMP].dataType
        if isinstance(stamp, LongType):  # nanoseconds: floored to microseconds
            micros = sf.expr(f"({_TIMESTAMP} - pmod({_TIMESTAMP}, 1000)) div 1000")
        else:  # a timestamp without zone: read as UTC (the session's zone)
            micros = sf.unix_micros(sf.col(_TIMESTAMP).cast("timestamp"))
        frame.withColumn(TIME_US, micros).createOrReplaceTempView(SOURCE_EVENTS)
        if products is not None:
            self._spark.read.parquet(str(products)).createOrReplaceTempView(SOURCE_PRODUCTS)

    def fetch_one(self, query: str) -> dict[str, Any]:
        row = self._spark.sql(query).collect()[0]
        return dict(row.asDict())

    def write(self, query: str, folder: Path) -> None:
        from pyspark.sql.types import TimestampType

        frame = self._spark.sql(query)
        for field in frame.schema.fields:
            if isinstance(field.dataType, TimestampType):  # written without a zone, as DuckDB
                frame = frame.withColumn(field.name, frame[field.name].cast("timestamp_ntz"))
        frame.write.parquet(str(folder))

    def close(self) -> None:
        for view in (SOURCE_EVENTS, SOURCE_PRODUCTS):
            self._spark.catalog.dropTempView(view)
        if self._owned:
            self._spark.stop()
