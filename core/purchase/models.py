"""The purchase models: two MLPs trained side by side epoch by epoch, and the baselines."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Final

import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from core.ml.metrics import MLP
from core.ml.network import (
    NetworkConfig,
    NetworkTrainer,
    OnProgress,
    TrainingProgress,
    make_preprocessor,
)
from core.purchase.windows import ACTUAL_BUYER, ACTUAL_ORDERS, BGNBD_EXPECTED, HORIZON, PurchaseData

BGNBD_NAME: Final = "bgnbd"
PAST_RATE: Final = "past_rate"
LINEAR: Final = "linear"
MEAN: Final = "mean"
ZERO: Final = "zero"
MODEL_NAMES: Final = (MLP, BGNBD_NAME, PAST_RATE, LINEAR, MEAN, ZERO)
MODEL_LABELS: Final = {
    MLP: "MLP (neural network)",
    BGNBD_NAME: "BG/NBD",
    PAST_RATE: "Own past order rate × H",
    LINEAR: "Linear / logistic regression",
    MEAN: "Mean",
    ZERO: "Zero (nobody buys)",
}

# The scores the command line and the benchmark report for every model.


# --- training ----------------------------------------------------------------------------


@dataclass
class PurchaseModels:
    """Everything fitted for one cutoff: both networks and every baseline."""

    config: NetworkConfig
    regressor: Pipeline
    classifier: Pipeline
    linear_regressor: Pipeline
    logistic: Pipeline
    mean_rate_per_day: float
    base_buy_rate: float
    regressor_curves: pd.DataFrame
    classifier_curves: pd.DataFrame
    best_epochs: tuple[int, int]
    epochs_run: tuple[int, int]
    stopped: bool
    train_seconds: float
    warnings: tuple[str, ...] = field(default_factory=tuple)


class PurchaseTraining:
    """Trains the regressor and the classifier side by side, one epoch of each at a time.

    The object keeps its state between calls, so a training interrupted after any epoch (the
    Stop button) can still be finished with the best weights so far.
    """

    def __init__(self, data: PurchaseData, config: NetworkConfig) -> None:
        self.data = data
        self.config = config
        self.regressor = NetworkTrainer("regression", config)
        self.classifier = NetworkTrainer("classification", config)
        self.seconds = 0.0
        self.epoch = 0
        self.stopped = False
        self._started = False

    def run(self, on_epoch: OnProgress | None = None) -> None:
        """Train until both networks are done, or ``on_epoch`` returns False."""
        started = time.perf_counter()
        x = self.data.train[list(self.data.feature_names)]
        if not self._started:
            users = self.data.train.index.to_numpy()
            # The regressor learns what BG/NBD's expectation misses (orders minus expectation).
            excess = self.data.train[ACTUAL_ORDERS] - self.data.train[BGNBD_EXPECTED]
            self.regressor.begin(x, excess.to_numpy(), groups=users)
            self.classifier.begin(x, self.data.train[ACTUAL_BUYER].to_numpy(), groups=users)
            self._started = True
        while not (self.regressor.done_ and self.classifier.done_):
            reports = [
                t.run_epoch() if not t.done_ else None for t in (self.regressor, self.classifier)
            ]
            self.epoch += 1
            self.seconds = time.perf_counter() - started
            progress = TrainingProgress(
                "training",
                self.epoch,
                self.config.epochs,
                self.seconds,
                tuple(report for report in reports if report is not None),
            )
            if on_epoch is not None and on_epoch(progress) is False:
                self.stop()

    def stop(self) -> None:
        """End training now, keeping each network's best epoch."""
        self.stopped = True
        self.regressor.stop()
        self.classifier.stop()

    @property
    def can_finish(self) -> bool:
        """Whether both networks have at least one finished epoch."""
        return (
            self.regressor.best_weights_ is not None and self.classifier.best_weights_ is not None
        )

    def finish(self) -> PurchaseModels:
        """Fit the baselines and bundle everything with the networks' best epochs."""
        data, train = self.data, self.data.train
        x = train[list(data.feature_names)]
        caught: list[str] = []
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always", ConvergenceWarning)
            linear = Pipeline([("prepare", make_preprocessor()), ("model", Ridge(alpha=1.0))])
            linear.fit(x, train[ACTUAL_ORDERS])
            logistic = Pipeline(
                [("prepare", make_preprocessor()), ("model", LogisticRegression(max_iter=500))]
            )
            if train[ACTUAL_BUYER].nunique() == 2:
                logistic.fit(x, train[ACTUAL_BUYER])
            caught = sorted({str(w.message).splitlines()[0] for w in seen})
        widest = train[HORIZON] == train[HORIZON].max()
        return PurchaseModels(
            config=self.config,
            regressor=self.regressor.best_pipeline(),
            classifier=self.classifier.best_pipeline(),
            linear_regressor=linear,
            logistic=logistic,
            mean_rate_per_day=float(train[ACTUAL_ORDERS].sum() / train[HORIZON].sum()),
            base_buy_rate=float(train.loc[widest, ACTUAL_BUYER].mean()),
            regressor_curves=self.regressor.curves_,
            classifier_curves=self.classifier.curves_,
            best_epochs=(self.regressor.best_epoch_, self.classifier.best_epoch_),
            epochs_run=(self.regressor.epochs_run_, self.classifier.epochs_run_),
            stopped=self.stopped,
            train_seconds=self.seconds,
            warnings=tuple(caught),
        )


def train_purchase_models(
    data: PurchaseData,
    config: NetworkConfig,
    *,
    on_epoch: OnProgress | None = None,
) -> PurchaseModels:
    """Train both networks to the end (or until ``on_epoch`` returns False) and the baselines."""
    training = PurchaseTraining(data, config)
    training.run(on_epoch)
    return training.finish()
