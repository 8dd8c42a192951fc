"""Runs: how long saving, listing, opening, bundling and reporting take, and what a parallel
sweep gains over training one configuration after another.

The issue sets no speed targets for runs; these figures show where the time goes on the
bundled sample shop (5,000 users), with 100 saved runs in the registry.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from core import services  # noqa: E402
from core.config import load_settings  # noqa: E402
from core.data.loading import load_shop  # noqa: E402
from core.report import build_report  # noqa: E402
from core.runs import RunStore, bundles  # noqa: E402
from core.runs import store as store_module  # noqa: E402
from core.runs.tasks import purchase_models_from_run, purchase_run_record  # noqa: E402
from core.sweep import sweep  # noqa: E402

RUNS = 100
SWEEP = [(16,), (64, 32), (128, 64, 32)]
SEEDS = [0, 1]


def _timed(action):  # noqa: ANN001, ANN202 - a tiny local helper
    started = time.perf_counter()
    value = action()
    return value, time.perf_counter() - started


def main() -> int:
    settings = load_settings()
    shop = load_shop(settings.sample_events, settings.sample_products)
    trained = services.train_purchase(shop, services.PurchaseSettings(), None)
    record = purchase_run_record(trained.models, trained.evaluation, trained.data)
    with tempfile.TemporaryDirectory() as folder:
        store = RunStore(Path(folder) / "runs")
        _, first_save = _timed(lambda: store.save(record, shop))  # also keeps the data once
        started = time.perf_counter()
        for _ in range(RUNS - 1):
            store.save(record, shop)
        per_save = (time.perf_counter() - started) / (RUNS - 1)
        store_module._sha256_of.cache_clear()  # as in a fresh process: every file is read
        store_module._parsed.cache_clear()
        infos, listing = _timed(store.runs)
        _, relisting = _timed(store.runs)  # a page drawn again: unchanged files are not re-read
        run_id = infos[0].run_id
        _, loading = _timed(lambda: purchase_models_from_run(store.load(run_id)))
        _, dataset = _timed(lambda: store.load_dataset(shop.fingerprint))
        bundle, exporting = _timed(lambda: bundles.export_bundle(store, run_id))
        _, importing = _timed(lambda: bundles.import_bundle(store, bundle, shop))
        html, reporting = _timed(lambda: build_report(store, [run_id, infos[1].run_id]))
        model_kb = (store.path_of(run_id) / "model.joblib").stat().st_size / 1024
        print(f"Sample shop, {RUNS} runs of a (64,32) purchase model ({model_kb:.0f} KB each):")
        print(f"  first save (with the data) {first_save:.2f} s, later saves {per_save:.3f} s")
        print(f"  list {len(infos)} runs (hash-checked) {listing:.2f} s, again {relisting:.3f} s")
        print(f"  open one run {loading:.3f} s; reload its data {dataset:.2f} s")
        size = len(bundle) / 1024
        print(f"  export bundle {exporting:.2f} s ({size:.0f} KB), import {importing:.2f} s")
        print(f"  HTML report of 2 runs {reporting:.2f} s ({len(html) / 1e6:.1f} MB)")
        for jobs in (1, 2):
            sweep_store = RunStore(Path(folder) / f"sweep{jobs}")
            result, seconds = _timed(
                lambda jobs=jobs, sweep_store=sweep_store: sweep(
                    shop,
                    sweep_store,
                    base=services.PurchaseSettings(),
                    hidden=SWEEP,
                    seeds=SEEDS,
                    jobs=jobs,
                )
            )
            best = result.best
            assert best is not None  # nothing stops it
            print(
                f"  sweep {len(SWEEP)} configurations x {len(SEEDS)} seeds, jobs={jobs}: "
                f"{seconds:.1f} s (best {best.hidden_layers} seed {best.seed}, "
                f"MSE {best.metrics['mse']:.4f})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
