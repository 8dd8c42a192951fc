"""The time a training says it has left: the most at the epoch limit and, with early stopping,
how soon it may end."""

import pandas as pd

from core.ml.network import EpochReport, TrainingProgress
from ui.trainer import time_left


def _progress(epoch: int, best: int, patience: int | None) -> TrainingProgress:
    # 3 s per epoch, a limit of 500 epochs.
    report = EpochReport("regression", epoch, 500, best, 3.0 * epoch, pd.DataFrame(), patience)
    return TrainingProgress("training", epoch, 500, 3.0 * epoch, (report,))


def test_with_early_stopping_the_estimate_is_an_upper_bound_with_the_soonest_end():
    # 480 epochs left at most (24 min); 15 if the score stops improving (45 s).
    assert time_left(_progress(20, best=15, patience=20)) == (
        "up to 24 min left, usually less: as little as 45 s if the validation score stops improving"
    )


def test_without_early_stopping_the_estimate_is_the_epoch_limit():
    assert time_left(_progress(20, best=15, patience=None)) == "about 24 min left"
