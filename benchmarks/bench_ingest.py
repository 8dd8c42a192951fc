"""Ingesting a Taobao-shaped log into a dataset, against DuckDB's own bare CSV-to-Parquet copy
of the same file, each in a fresh process.

Sizes: 10M events (``SHOPLENS_BENCH_EVENTS`` to change, e.g. 30000000 or 100000000).
Targets (2-core machine): ingest <= 2x the bare copy (the faster of a copy before and one after
the ingest), peak RSS <= 4 GB.

Measured on the 2-core machine shared with other work (load 1.8-4): 10M events, ingest 12.4 s
against the bare copy's 2.9 s, 4.2x (3.9-4.2x over four runs), peak RSS 1.4 GB; 30M events, ingest
20.7 s against 5.0 s, 4.1x, peak RSS 2.5 GB. With the faster of two bare copies as the reference:
10M events, ingest 7.4 s against 1.7 s, 4.3x (load 2.7 falling to 1.3); 30M events, ingest 30.5 s
against 8.6 s, 3.5x, peak RSS 2.4 GB (load 1.1 rising to 2.5). The ratio target is missed, and
storing ids as integers would not meet it: where a 30M-event ingest's time goes (wall seconds, quiet
machine): reading every value as text and checking it reads as the loader reads it 7.7, writing
events.parquet 5.9, counting duplicates exactly 4.4, distinct users and items 0.9, event labels 0.3,
the time-order check 0.1, against 5.2 for the bare copy. In CPU seconds at 10M events the bare copy
takes 3.1 and the ingest 12.8; writing the ids as integers instead of text measured 9.5 (3.1x), and
the loader's checks (1.2), its exact duplicate count (2.0) and distinct counts (0.5) alone cost more
than the 2x allows beyond the copy itself. Again on a quiet machine (load 0.7 before, 1.3 after):
30M events, ingest 23.5 s against 6.2 s, 3.8x, peak RSS 2.5 GB; 10M events, 7.0 s (13.4 s of CPU
time) against 1.7 s (3.3 s). The floor at 10M, each part alone in DuckDB: reading every value as
text and casting the integers 1.36 s, writing integer ids 1.03 s, the exact duplicate count
1.18 s, distinct users and items 0.32 s: 3.9 s, 2.3x the copy with none of the loader's checks.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from benchmarks.fresh_process import peak_rss_mb, run_measurement
from benchmarks.taobao import write_taobao
from benchmarks.targets import check

EVENTS = int(os.environ.get("SHOPLENS_BENCH_EVENTS", "10000000"))
TARGET_RATIO, TARGET_RSS_MB = 2.0, 4096.0


def _measure_in_child(mode: str, source: str, folder: str) -> None:
    """In a fresh process: the bare DuckDB copy, or ShopLens's ingest."""
    import json
    import time

    start = time.perf_counter()
    if mode == "duckdb":
        import duckdb

        with duckdb.connect() as con:
            con.execute(
                f"COPY (SELECT * FROM read_csv('{source}')) TO '{folder}/bare.parquet' "
                "(FORMAT parquet)"
            )
        rows = 0
    else:
        from core.datasets.ingest import ingest

        rows = ingest([source], name="taobao", data_dir=Path(folder)).rows_kept
    print(
        json.dumps({"seconds": time.perf_counter() - start, "rss_mb": peak_rss_mb(), "rows": rows})
    )


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "UserBehavior.csv"
        write_taobao(source, EVENTS)
        size_mb = source.stat().st_size / 1e6
        # The reference is the faster of two bare copies, one before and one after the ingest:
        # the first may still share the disk with the freshly written file's write-back.
        bare = run_measurement(_measure_in_child, "duckdb", str(source), folder)
        ours = run_measurement(_measure_in_child, "shoplens", str(source), folder)
        again = run_measurement(_measure_in_child, "duckdb", str(source), folder)
        bare = min(bare, again, key=lambda run: float(run["seconds"]))
        ratio = ours["seconds"] / bare["seconds"]
        print(
            f"{EVENTS:,} Taobao-shaped events ({size_mb:,.0f} MB CSV): ingest "
            f"{ours['seconds']:.1f} s, peak RSS {ours['rss_mb']:,.0f} MB, kept {ours['rows']:,}; "
            f"DuckDB's bare copy {bare['seconds']:.1f} s (peak {bare['rss_mb']:,.0f} MB); "
            f"ratio {ratio:.1f}x"
        )
        missed = check(
            {
                f"ingest {ratio:.1f}x the bare copy <= {TARGET_RATIO}x": ratio <= TARGET_RATIO,
                f"peak RSS {ours['rss_mb']:,.0f} MB <= {TARGET_RSS_MB:,.0f} MB": ours["rss_mb"]
                <= TARGET_RSS_MB,
            }
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
