"""Shop overview speed and memory: every figure of the page on 1M and 5M generated events.

The events are canonical frames built directly (categorical ids, nanosecond times), with
categories and brands only in the product table and no session or order ids, so the 30-minute
session split and the (user, day) order rule both run. Each case runs in a fresh process, so
that peak RSS is that of one case alone.

Targets (2-core machine): the whole page (``compute_overview`` over the full range) cold in
<= 2 s at 1M and <= 10 s at 5M events; any filter change (a category, a brand, a date range)
<= 1 s at 1M; peak RSS <= 1.5 GB at 1M.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.fresh_process import peak_rss_mb, run_measurement  # noqa: E402
from benchmarks.targets import check  # noqa: E402

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

SIZES = (1_000_000, 5_000_000)
TARGET_COLD = {1_000_000: 2.0, 5_000_000: 10.0}
TARGET_FILTER_SECONDS, TARGET_RSS_MB = 1.0, 1500.0
N_ITEMS, N_CATEGORIES, N_BRANDS = 20_000, 200, 500


def _measure_in_child(mode: str, folder: str) -> None:
    """In a fresh process: the whole page cold, then (mode ``filters``) each filter change and
    each single function, printed as one JSON object."""
    import json
    import time

    from core import overview as an

    events = pd.read_parquet(f"{folder}/events.parquet")
    products = pd.read_parquet(f"{folder}/products.parquet")
    out: dict[str, object] = {"loaded_mb": peak_rss_mb()}

    def timed(fn, *args, **kwargs) -> float:
        start = time.perf_counter()
        fn(*args, **kwargs)
        return time.perf_counter() - start

    out["cold"] = timed(an.compute_overview, events, products)
    if mode == "filters":
        last = events["timestamp"].iloc[-1].normalize() + pd.Timedelta(days=1)
        top = an.top_segments(events, products, by="views", n=3)["category"].tolist()
        brands = an.top_segments(events, products, segment="brand", by="views", n=1)
        brand = brands["brand"].tolist()
        cases = {
            "warm, full range": {},
            "category filter (1 category)": {"categories": top[:1]},
            "category filter (3 categories)": {"categories": top},
            "brand filter": {"brands": brand},
            "event types (view, purchase)": {"event_types": ["view", "purchase"]},
            "last 30 days": {"start": last - pd.Timedelta(days=30), "end": last},
            "last 7 days": {"start": last - pd.Timedelta(days=7), "end": last},
            "last 90 days + category": {
                "start": last - pd.Timedelta(days=90),
                "end": last,
                "categories": top[:1],
            },
        }
        out["filters"] = {
            name: timed(an.compute_overview, events, products, **kwargs)
            for name, kwargs in cases.items()
        }
        parts = {
            "filter_events (category)": lambda: an.filter_events(
                events, products, categories=top[:1]
            ),
            "compute_kpis": lambda: an.compute_kpis(
                events, start=events["timestamp"].iloc[0], end=last
            ),
            "split_sessions": lambda: an.split_sessions(events),
            "compute_funnel": lambda: an.compute_funnel(events),
            "compute_funnel by category": lambda: an.compute_funnel(
                events, products, by="category"
            ),
            "funnel_trend": lambda: an.funnel_trend(events),
            "event_trends (D)": lambda: an.event_trends(events, freq="D"),
            "hour_weekday_heatmap": lambda: an.hour_weekday_heatmap(events),
            "top_items": lambda: an.top_items(events, products, by="revenue"),
            "category_conversion": lambda: an.category_conversion(events, products),
            "price_distribution": lambda: an.price_distribution(events, products),
            "long_tail": lambda: an.long_tail(events),
            "rfm_segments": lambda: an.rfm_segments(events),
            "new_vs_returning": lambda: an.new_vs_returning(events),
            "cohort_retention": lambda: an.cohort_retention(events, metric="buying"),
            "users_in (category)": lambda: an.users_in(events, products, categories=top[:1]),
        }
        out["parts"] = {name: timed(fn) for name, fn in parts.items()}
    out["rss_mb"] = peak_rss_mb()
    print(json.dumps(out))


def make_shop(rows: int, *, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Canonical events and products: 100k users per 1M events in sessions of a few minutes
    over six months, Zipf-popular items, no session or order ids."""
    rng = np.random.default_rng(seed)
    users = max(rows // 10, 1)
    per_session = 1 + rng.geometric(0.22, size=rows // 4)  # about 5.5 events a session
    per_session = per_session[np.cumsum(per_session) <= rows]
    extra = rows - int(per_session.sum())
    if extra:
        per_session = np.append(per_session, extra)
    n_sessions = len(per_session)
    # Every user has a session; the rest go to users in proportion to a heavy-tailed activity.
    activity = rng.pareto(1.2, users) + 0.05
    session_user = np.concatenate(
        [
            rng.permutation(users)[: min(users, n_sessions)],
            rng.choice(users, max(n_sessions - users, 0), p=activity / activity.sum()),
        ]
    )
    days = 183
    hour_weight = np.interp(np.arange(24), [0, 4, 8, 12, 20, 23], [1.0, 0.3, 2.0, 3.0, 5.0, 2.0])
    day_start = rng.integers(0, days, n_sessions) * 86_400
    hour = rng.choice(24, n_sessions, p=hour_weight / hour_weight.sum())
    session_start = day_start + hour * 3_600 + rng.integers(0, 3_600, n_sessions)
    session = np.repeat(np.arange(n_sessions), per_session)
    first_row = np.repeat(np.cumsum(per_session) - per_session, per_session)
    gaps = rng.exponential(70.0, rows).astype(np.int64)
    gaps[np.arange(rows) == first_row] = 0
    offset = np.cumsum(gaps)
    offset -= np.repeat(offset[np.cumsum(per_session) - per_session], per_session)
    seconds = session_start[session] + offset
    kind = rng.choice(5, rows, p=[0.84, 0.09, 0.03, 0.035, 0.005])  # view cart fav purchase return
    item = (rng.zipf(1.3, rows) - 1) % N_ITEMS
    order = np.argsort(seconds, kind="stable")
    start = np.datetime64("2026-03-01T00:00:00", "ns")
    item_price = np.round(np.exp(rng.normal(3.2, 0.8, N_ITEMS)), 2)
    item_labels = pd.Index([f"p{i:05d}" for i in range(N_ITEMS)], dtype="str")
    events = pd.DataFrame(
        {
            "user_id": pd.Categorical.from_codes(
                session_user[session][order],
                categories=pd.Index([f"u{i:07d}" for i in range(users)], dtype="str"),
            ),
            "item_id": pd.Categorical.from_codes(item[order], categories=item_labels),
            "event_type": pd.Categorical.from_codes(
                kind[order],
                categories=pd.Index(["view", "cart", "fav", "purchase", "return"], dtype="str"),
            ),
            "timestamp": start + (seconds[order] * 10**9).astype("timedelta64[ns]"),
            "quantity": np.where(kind[order] == 3, rng.integers(1, 4, rows), 1).astype(float),
            "price": item_price[item[order]],
        }
    )
    products = pd.DataFrame(
        {
            "item_id": item_labels,
            "category": [f"category {i % N_CATEGORIES:03d}" for i in range(N_ITEMS)],
            "brand": [f"brand {(i * 7) % N_BRANDS:03d}" for i in range(N_ITEMS)],
            "price": item_price,
            "name": [f"product {i}" for i in range(N_ITEMS)],
        }
    )
    return events, products


def measure(mode: str, folder: Path) -> dict:
    return run_measurement(_measure_in_child, mode, str(folder))


def main() -> int:
    missed = []
    with tempfile.TemporaryDirectory() as tmp:
        for rows in SIZES:
            folder = Path(tmp) / str(rows)
            folder.mkdir()
            events, products = make_shop(rows)
            events.to_parquet(folder / "events.parquet")
            products.to_parquet(folder / "products.parquet")
            del events, products
            cold = min((measure("cold", folder) for _ in range(3)), key=lambda m: m["cold"])
            print(
                f"{rows:>9,} events: whole page cold {cold['cold']:.2f} s; peak RSS "
                f"{cold['rss_mb']:.0f} MB ({cold['loaded_mb']:.0f} MB after loading the frames)"
            )
            checks = {
                f"cold {cold['cold']:.2f} s <= {TARGET_COLD[rows]:.0f} s": cold["cold"]
                <= TARGET_COLD[rows]
            }
            if rows == 1_000_000:
                checks[f"peak RSS {cold['rss_mb']:.0f} MB <= {TARGET_RSS_MB:.0f} MB"] = (
                    cold["rss_mb"] <= TARGET_RSS_MB
                )
                detail = measure("filters", folder)
                for name, seconds in detail["filters"].items():
                    print(f"    filter change: {name:<32} {seconds:.2f} s")
                worst = max(detail["filters"].values())
                checks[f"slowest filter change {worst:.2f} s <= {TARGET_FILTER_SECONDS:.0f} s"] = (
                    worst <= TARGET_FILTER_SECONDS
                )
                print("    single functions over all events:")
                for name, seconds in detail["parts"].items():
                    print(f"      {name:<30} {seconds:.3f} s")
            missed += check(checks)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
