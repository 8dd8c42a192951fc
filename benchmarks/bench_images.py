"""Product photos on the Grocery Store data (../shared/data/grocery, skipped when absent):
train on train, score on val, 42 coarse categories.

Targets: MLP accuracy >= 0.80 and at least that of logistic regression and kNN; visually
similar precision@5 >= 0.68; embedding <= 30 ms per photo on one core at 224 px; all photos
embedded in <= 2 minutes cold and <= 5 s from the cache.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.targets import check
from core import images, services
from core.images import models

GROCERY = Path(__file__).resolve().parents[2] / "shared" / "data" / "grocery"
LABEL = "coarse_class_id"


def main() -> int:
    if not (GROCERY / "train.csv").is_file():
        print(f"Product photos skipped: {GROCERY} not found")
        return 0
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    train = images.read_photo_list(GROCERY / "train.csv", label=LABEL)
    test = images.read_photo_list(GROCERY / "val.csv", label=LABEL)
    settings = services.ImageSettings()
    with tempfile.TemporaryDirectory() as cache:
        cold = services.train_images(train.photos, test.photos, settings, cache_dir=Path(cache))
        started = time.perf_counter()
        embedder = images.load_embedder(Path(cache))
        warm = [
            images.embed_photos(s.photos, embedder, cache_dir=Path(cache), mirrored=True)
            for s in (train, test)
        ]
        warm_seconds = time.perf_counter() - started
    photos = cold.train_photos + cold.test_photos
    scores = cold.scores
    print(
        f"Grocery: {cold.train_photos} training photos, {cold.test_photos} test photos, "
        f"{len(cold.models.classes)} categories, features {cold.features}"
    )
    for name in models.MODEL_NAMES:
        score = scores[name]
        print(
            f"  {name:9s} accuracy {score.accuracy:.3f}  top-3 {score.top3_accuracy:.3f}  "
            f"macro-F1 {score.macro_f1:.3f}"
        )
    print(
        f"  visually similar precision@5 {cold.similar_precision_at_5:.3f} "
        "(cosine in the MLP's last hidden layer)"
    )
    print(
        f"  embedding: {cold.embed_seconds_per_photo * 1000:.1f} ms per photo view; "
        f"{photos} photos and their mirror images in {cold.embed_seconds:.1f} s cold, "
        f"{warm_seconds:.1f} s from the cache ({sum(w.computed for w in warm)} recomputed); "
        f"training {cold.models.train_seconds:.1f} s (best epoch {cold.models.best_epoch})"
    )
    mlp = scores[models.MLP].accuracy
    missed = check(
        {
            "MLP accuracy >= 0.80": mlp >= 0.80,
            "MLP accuracy >= logistic regression and kNN": mlp
            >= max(scores[models.LOGISTIC].accuracy, scores[models.KNN].accuracy),
            "precision@5 >= 0.68": cold.similar_precision_at_5 >= 0.68,
            "embedding <= 30 ms per photo": cold.embed_seconds_per_photo <= 0.030,
            "all photos embedded cold in <= 120 s": cold.embed_seconds <= 120,
            "all photos from the cache in <= 5 s": warm_seconds <= 5,
        }
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
