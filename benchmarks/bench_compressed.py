"""Compressed exports cost what the plain CSV costs: the same 5M events read as .csv, .csv.gz
and .zip, each in a fresh process.

An unpacked file is written to an unnamed temporary file a chunk at a time and read through a
memory map, so the expanded text is never held twice in the server's memory. Target: the
compressed files' peak RSS within 10% of the plain CSV's, and their time within 1.5x.
"""

from __future__ import annotations

import gzip
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from benchmarks.bench_load import measure, write_events
from benchmarks.targets import check

ROWS = 5_000_000
RSS_SLACK, TIME_SLACK = 1.10, 1.5


def _compressed(path: Path) -> dict[str, Path]:
    gz = path.with_name(path.name + ".gz")
    with path.open("rb") as source, gzip.open(gz, "wb", compresslevel=6) as target:
        shutil.copyfileobj(source, target, 1024 * 1024)
    packed = path.with_suffix(".zip")
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(path, path.name)
    return {".csv.gz": gz, ".zip": packed}


def main() -> int:
    missed = []
    with tempfile.TemporaryDirectory() as folder:
        plain = Path(folder) / "events.csv"
        write_events(plain, ROWS)
        files = {".csv": plain, **_compressed(plain)}
        results = {kind: measure("shoplens", path) for kind, path in files.items()}
        base = results[".csv"]
        for kind, result in results.items():
            size_mb = files[kind].stat().st_size / 1e6
            print(
                f"{ROWS:,} events as {kind:<7} ({size_mb:>4.0f} MB): {result['seconds']:.1f} s, "
                f"peak RSS {result['rss_mb']:,.0f} MB ({result['rss_mb'] / base['rss_mb']:.2f}x "
                f"the plain CSV's); kept {result['rows']:,}"
            )
        for kind in (".csv.gz", ".zip"):
            result = results[kind]
            missed += check(
                {
                    f"{kind} peak RSS within {RSS_SLACK:.2f}x the CSV's": result["rss_mb"]
                    <= RSS_SLACK * base["rss_mb"],
                    f"{kind} time within {TIME_SLACK}x the CSV's": result["seconds"]
                    <= TIME_SLACK * base["seconds"],
                }
            )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
