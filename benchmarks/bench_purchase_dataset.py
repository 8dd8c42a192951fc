"""Purchase prediction on a dataset on disk, on every user: a Taobao-shaped log ingested as a
dataset, trained as the command line trains it (every user, the default networks and windows),
once computing its own per-user features and once reading them from the feature job's tables
(``features --horizon-days``); each in a fresh process, with its peak RSS.

Sizes: 10M events (``SHOPLENS_BENCH_EVENTS`` to change, e.g. 30000000); an existing dataset
folder can be given instead with ``SHOPLENS_BENCH_DATASET``.
Target (2-core machine, at 30M events, about 300,000 users): purchase training on every user
<= 3 min (its tables and both networks, after the dataset is open). The feature job's time is
reported: on a cluster it runs there.

Measured at 30M events (300,000 users, 6 dates for H = 30 over 60 days; load about 3, beside
other work): opened in 23.9 s; computing its features, tables 70.3 s and with training 104.8 s
(39 epochs), peak 6.4 GB; reading the job's tables, tables 22.6 s and with training 60.0 s,
the same MLP MSE (0.9792), peak 3.5 GB; the feature job itself 144.1 s (129 CPU-s), 4.4 GB.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from benchmarks.fresh_process import peak_rss_mb, run_measurement
from benchmarks.taobao import taobao_dataset
from benchmarks.targets import check

EVENTS = int(os.environ.get("SHOPLENS_BENCH_EVENTS", "10000000"))
DATASET = os.environ.get("SHOPLENS_BENCH_DATASET")
TARGET_TRAINING = 180.0


def _train_in_child(folder: str, tables: str) -> None:
    """In a fresh process: open the dataset, build the tables (from ``tables`` when given),
    train both networks and every baseline."""
    import json
    import time

    from core import batch, services
    from core.datasets.store import open_dataset

    path = Path(folder)
    result: dict[str, object] = {}
    start = time.perf_counter()
    shop = open_dataset(path.parent, path.name)
    result["open"] = time.perf_counter() - start
    result["events"] = len(shop.events.frame)
    settings = services.PurchaseSettings()
    start = time.perf_counter()
    features_at = None
    if tables:
        found = batch.FeatureTables.open(Path(tables))
        found.check_source(shop.events.frame)
        features_at = found.users_at
    data = services.prepare_purchase(shop, settings, features_at=features_at)
    result["tables"] = time.perf_counter() - start
    trained = services.train_purchase(shop, settings, None, data=data)
    result["training"] = time.perf_counter() - start
    result["users"] = len(data.evaluation)
    result["train_rows"] = len(data.train)
    result["epochs"] = trained.epochs
    result["mlp_mse"] = float(trained.evaluation.scores.loc["mlp", "mse"])
    result["rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def measure_feature_job(folder: str, out: str) -> None:
    """In a fresh process: the feature job on DuckDB with the dates of H = 30."""
    import json
    import resource
    import time

    from core.batch import run_feature_job

    start = time.perf_counter()
    result = run_feature_job(Path(folder), Path(out), horizon_days=30)
    print(
        json.dumps(
            {
                "seconds": time.perf_counter() - start,
                "cpu_s": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
                "dates": len(result.dates),
                "interaction_dates": len(result.interaction_dates),
                "rss_mb": peak_rss_mb(),
            }
        )
    )


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = taobao_dataset(DATASET, Path(tmp), EVENTS)
        own = run_measurement(_train_in_child, str(folder), "")
        tables = Path(tmp) / "features"
        job = run_measurement(measure_feature_job, str(folder), str(tables))
        read = run_measurement(_train_in_child, str(folder), str(tables))
    print(
        f"{folder.name}: {own['events']:,} events, {own['users']:,} users at the cutoff, "
        f"{own['train_rows']:,} training rows; opened in {own['open']:.1f} s"
    )
    for label, found in (("computing its features", own), ("reading the job's tables", read)):
        print(
            f"  {label}: tables {found['tables']:6.1f} s, with training {found['training']:6.1f} s"
            f" ({found['epochs']} epochs, MLP MSE {found['mlp_mse']:.4f}), "
            f"peak RSS {found['rss_mb']:,.0f} MB"
        )
    print(
        f"  feature job (DuckDB, {job['dates']} dates): {job['seconds']:.1f} s "
        f"({job['cpu_s']:.0f} CPU-s), peak RSS {job['rss_mb']:,.0f} MB"
    )
    at = f"at {own['events'] / 1e6:.0f}M events, {own['users']:,} users"
    missed = check(
        {
            f"purchase training {own['training']:.0f} s <= {TARGET_TRAINING:.0f} s ({at})": (
                own["training"] <= TARGET_TRAINING
            ),
        }
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
