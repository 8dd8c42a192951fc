"""The batch feature job (per-user features and user x item counts) on Taobao-shaped datasets
of 10M and 30M events: DuckDB at both sizes, Spark ``local[2]`` at 10M, each in a fresh process.

The datasets are made with ``python -m core ingest`` from generated logs (``benchmarks.taobao``);
``SHOPLENS_BENCH_DATASETS`` names a folder where they are kept and reused between runs
(default: a temporary folder). ``SHOPLENS_BENCH_SPARK_EVENTS`` picks Spark's size (10000000 or
30000000; 0 skips Spark).

Wall and CPU time are printed: other work on the machine stretches the first, hardly the second.
Targets (2-core machine): DuckDB at 30M events <= 60 s; Spark gives DuckDB's checksums (its time
is reported, not a target).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.fresh_process import ROOT, peak_rss_mb, run_measurement
from benchmarks.taobao import write_taobao
from benchmarks.targets import check

SIZES = (10_000_000, 30_000_000)
SPARK_EVENTS = int(os.environ.get("SHOPLENS_BENCH_SPARK_EVENTS", "10000000"))
TARGET_SECONDS = 60.0


def _measure_in_child(engine: str, dataset: str, out: str) -> None:
    """In a fresh process: the feature job on one engine (Spark on ``local[2]``)."""
    import json
    import resource
    import time

    from core.batch import run_feature_job

    start = time.perf_counter()
    result = run_feature_job(Path(dataset), Path(out), engine=engine, spark_master="local[2]")  # type: ignore[arg-type]
    print(
        json.dumps(
            {
                "seconds": time.perf_counter() - start,
                "rss_mb": peak_rss_mb(),
                "cpu_s": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
                "users": result.users,
                "user_items": result.user_items,
                "checksums": result.checksums,
            }
        )
    )


def _dataset(folder: Path, events: int) -> Path:
    """The dataset of ``events`` Taobao-shaped events in ``folder``, made once."""
    name = f"taobao-{events // 1_000_000}m"
    if not (folder / name / "dataset.json").is_file():
        log = folder / f"{name}.csv"
        write_taobao(log, events)
        subprocess.run(
            [sys.executable, "-m", "core", "ingest", str(log), "--name", name, "--data-dir",
             str(folder), "--json"],
            cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        log.unlink()
    return folder / name


def main() -> int:
    kept = os.environ.get("SHOPLENS_BENCH_DATASETS")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(kept) if kept else Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        duck: dict[int, dict] = {}
        for events in SIZES:
            dataset = _dataset(folder, events)
            duck[events] = run_measurement(
                _measure_in_child, "duckdb", str(dataset), f"{scratch}/duckdb-{events}"
            )
            print(
                f"DuckDB, {events:,} events: {duck[events]['seconds']:.1f} s "
                f"({duck[events]['cpu_s']:.1f} CPU-s), peak RSS "
                f"{duck[events]['rss_mb']:,.0f} MB; {duck[events]['users']:,} users, "
                f"{duck[events]['user_items']:,} user x item rows"
            )
        targets = {
            f"DuckDB at 30M events {duck[SIZES[1]]['seconds']:.1f} s <= {TARGET_SECONDS:.0f} s": (
                duck[SIZES[1]]["seconds"] <= TARGET_SECONDS
            )
        }
        if SPARK_EVENTS:
            spark = run_measurement(
                _measure_in_child,
                "spark",
                str(_dataset(folder, SPARK_EVENTS)),
                f"{scratch}/spark-{SPARK_EVENTS}",
            )
            print(
                f"Spark local[2], {SPARK_EVENTS:,} events: {spark['seconds']:.1f} s (session "
                f"start included; the JVM's memory is not in the driver's peak RSS "
                f"{spark['rss_mb']:,.0f} MB)"
            )
            same = spark["checksums"] == duck[SPARK_EVENTS]["checksums"]
            targets[f"Spark's checksums equal DuckDB's at {SPARK_EVENTS:,} events"] = same
        missed = check(targets)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
