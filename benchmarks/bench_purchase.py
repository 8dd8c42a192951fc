"""Purchase prediction quality and speed.

Quality: the protocol on the real CDNOW data (../shared/data/cdnow, skipped when absent) with
t = 1997-10-01 and H = 273 days (the BG/NBD paper's 39-week calibration / 39-week holdout), and
on the sample shop. Targets on CDNOW: the MLP's holdout MSE below BG/NBD's, and its predicted
total orders within 5% of the actual total.
Speed: 100,000 users x 1,000,000 events: features + training a (64, 32) regressor to early stop
in <= 60 s; the time of one epoch is printed too.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from benchmarks.targets import check  # noqa: E402
from core import purchase, schema, services  # noqa: E402
from core.config import load_settings  # noqa: E402
from core.data.loading import ShopData, load_shop  # noqa: E402
from core.ml import metrics as m  # noqa: E402
from core.ml.network import NetworkConfig, NetworkTrainer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CDNOW = ROOT.parent / "shared" / "data" / "cdnow" / "events.csv"
COLUMNS = list(purchase.REPORTED_SCORES)


def run_protocol(
    label: str, shop: ShopData, *, cutoff: pd.Timestamp | None, horizon_days: int
) -> pd.DataFrame:
    started = time.perf_counter()
    settings = services.PurchaseSettings(NetworkConfig(), horizon_days, cutoff)
    result = services.train_purchase(shop, settings, None)  # the app's training, not saved
    data, scores = result.data, result.evaluation.scores
    print(
        f"\n{label}: cutoff {data.cutoff:%Y-%m-%d}, H = {horizon_days} days, "
        f"{len(data.evaluation):,} users, {len(data.train):,} training rows from "
        f"{len(data.windows)} windows, {time.perf_counter() - started:.1f} s"
    )
    print(scores[COLUMNS].to_string(float_format=lambda v: f"{v:,.4f}"))
    return scores


def synthetic_events(users: int, events: int, seed: int = 0) -> pd.DataFrame:
    """Every user active, a heavy-tailed few very active; six months, 5% purchases."""
    rng = np.random.default_rng(seed)
    user = np.where(
        rng.random(events) < 0.6,
        rng.integers(0, users, events),
        (rng.zipf(1.5, events) - 1) % users,
    )
    start = np.datetime64("2026-03-01T00:00:00", "ns")
    stamps = start + np.sort(rng.integers(0, 183 * 86400, events)).astype("timedelta64[s]")
    kind = rng.choice(
        np.array([schema.VIEW, schema.CART, schema.PURCHASE]), events, p=[0.85, 0.10, 0.05]
    )
    order = np.where(kind == schema.PURCHASE, np.arange(events), -1)
    return pd.DataFrame(
        {
            schema.USER_ID: pd.Categorical(user.astype(str)),
            schema.ITEM_ID: pd.Categorical((rng.zipf(1.3, events) % 20_000).astype(str)),
            schema.EVENT_TYPE: pd.Categorical(kind),
            schema.TIMESTAMP: stamps,
            schema.PRICE: np.round(rng.lognormal(3, 1, events), 2),
            schema.ORDER_ID: pd.Categorical(np.where(order >= 0, order.astype(str), None)),
        }
    )


def main() -> int:
    missed = []
    if CDNOW.is_file():
        cdnow = load_shop(CDNOW)
        scores = run_protocol("CDNOW", cdnow, cutoff=pd.Timestamp("1997-10-01"), horizon_days=273)
        mlp, bgnbd = scores.loc[m.MLP], scores.loc[purchase.BGNBD_NAME]
        gap = mlp["total_predicted"] / mlp["total_actual"] - 1
        checks = {
            f"MLP MSE {mlp['mse']:.4f} < BG/NBD MSE {bgnbd['mse']:.4f}": mlp["mse"] < bgnbd["mse"],
            f"MLP total orders {gap:+.1%} of actual (within 5%)": abs(gap) <= 0.05,
        }
        missed += check(checks)
    else:
        print(f"CDNOW skipped: {CDNOW} not found")
    settings = load_settings()
    sample = load_shop(settings.sample_events, settings.sample_products)
    run_protocol("Sample shop", sample, cutoff=None, horizon_days=30)

    events = synthetic_events(100_000, 1_000_000)
    started = time.perf_counter()
    data = purchase.build_purchase_data(events, horizon_days=30)
    features_seconds = time.perf_counter() - started
    trainer = NetworkTrainer("regression", NetworkConfig(hidden_layers=(64, 32)))
    x = data.train[list(data.feature_names)]
    trainer.fit(x, data.train[purchase.ACTUAL_ORDERS].to_numpy(), groups=data.train.index)
    total = time.perf_counter() - started
    per_epoch = trainer.seconds_ / trainer.epochs_run_
    print(
        f"\nSpeed, {events[schema.USER_ID].nunique():,} users x {len(events):,} events: "
        f"features {features_seconds:.1f} s ({len(data.train):,} training rows), (64, 32) "
        f"regressor {trainer.seconds_:.1f} s for {trainer.epochs_run_} epochs "
        f"({per_epoch:.2f} s per epoch, best {trainer.best_epoch_}); total {total:.1f} s"
    )
    missed += check({f"features + training {total:.1f} s <= 60 s": total <= 60})
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
