"""Loading speed and memory: read + map + validate 1M and 5M generated events.

Each measurement runs in a fresh process so that peak RSS is that of one load alone. The
reference is a bare ``pyarrow.csv.read_csv`` of the same file, timed in the same run.
Targets (2-core machine): 1M events in <= 3 s, <= 600 MB peak RSS, <= 3x the bare read.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from benchmarks.fresh_process import peak_rss_mb, run_measurement
from benchmarks.targets import check

SIZES = (1_000_000, 5_000_000)
TARGET_SECONDS, TARGET_RSS_MB, TARGET_RATIO = 3.0, 600.0, 3.0


def _measure_in_child(mode: str, path: str) -> None:
    """In a fresh process: read ``path`` with bare pyarrow or as ShopLens loads it."""
    import json
    import time

    from core.data.loading import read_events

    start = time.perf_counter()
    rows = pacsv.read_csv(path).num_rows if mode == "pyarrow" else read_events(path).rows_kept
    seconds = time.perf_counter() - start
    rss_mb = peak_rss_mb()
    print(json.dumps({"seconds": seconds, "rss_mb": rss_mb, "rows": rows}))


def write_events(path: Path, rows: int, *, seed: int = 0) -> None:
    """A canonical events CSV: 100k users per 1M events, 20k items, six months of times."""
    rng = np.random.default_rng(seed)
    users = max(rows // 10, 1)
    start = np.datetime64("2026-03-01T00:00:00", "s")
    seconds = np.sort(rng.integers(0, 183 * 86400, rows))
    kinds = np.array(["view", "cart", "purchase"])[rng.choice(3, rows, p=[0.85, 0.1, 0.05])]
    table = pa.table(
        {
            "user_id": rng.zipf(1.3, rows) % users,
            "item_id": rng.zipf(1.2, rows) % 20_000,
            "event_type": kinds,
            "timestamp": pa.array((start + seconds).astype("datetime64[s]").astype(str)),
            "price": np.round(rng.lognormal(3, 1, rows), 2),
            "session_id": rng.integers(0, rows // 4, rows),
        }
    )
    pacsv.write_csv(table, path)


def measure(mode: str, path: Path) -> dict[str, float]:
    return run_measurement(_measure_in_child, mode, str(path))


def main() -> int:
    missed = []
    with tempfile.TemporaryDirectory() as folder:
        for rows in SIZES:
            path = Path(folder) / f"events_{rows}.csv"
            write_events(path, rows)
            size_mb = path.stat().st_size / 1e6
            bare = min((measure("pyarrow", path) for _ in range(3)), key=lambda m: m["seconds"])
            ours = min((measure("shoplens", path) for _ in range(3)), key=lambda m: m["seconds"])
            ratio = ours["seconds"] / bare["seconds"]
            print(
                f"{rows:>9,} events ({size_mb:.0f} MB): read+map+validate {ours['seconds']:.2f} s, "
                f"peak RSS {ours['rss_mb']:.0f} MB; bare pyarrow read {bare['seconds']:.2f} s "
                f"(peak {bare['rss_mb']:.0f} MB); ratio {ratio:.1f}x; kept {ours['rows']:,}"
            )
            if rows == 1_000_000:
                checks = {
                    f"time {ours['seconds']:.2f} s <= {TARGET_SECONDS} s": ours["seconds"]
                    <= TARGET_SECONDS,
                    f"peak RSS {ours['rss_mb']:.0f} MB <= {TARGET_RSS_MB:.0f} MB": ours["rss_mb"]
                    <= TARGET_RSS_MB,
                    f"ratio {ratio:.1f}x <= {TARGET_RATIO}x": ratio <= TARGET_RATIO,
                }
                missed += check(checks)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
