"""Train scikit-learn MLPs epoch by epoch, with real per-epoch MSE / accuracy curves.

``MLPRegressor.loss_curve_`` is half the squared error plus the L2 penalty, so it is shown as
"training loss"; the MSE, accuracy and log-loss curves here are computed on the training and
validation rows after every epoch. Early stopping keeps the weights of the best epoch.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Literal, get_args

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from core.config import MAX_SEED, SEED
from core.errors import ShopLensError
from core.ml.layers import (
    EPOCHS,
    HiddenLayers,
)
from core.params import (
    Choice,
    Constraint,
    Flag,
    Number,
    SettingError,
    Whole,
    check_settings,
    shown,
)

Task = Literal["regression", "classification"]
Activation = Literal["relu", "tanh", "logistic", "identity"]
Solver = Literal["adam", "sgd"]

PRESETS: Final = ("16", "32", "64,32", "128,64", "128,64,32", "256,128,64,32")

EPOCH: Final = "epoch"
TRAINING_LOSS: Final = "training loss"
TRAIN_MSE: Final = "training MSE"
VALIDATION_MSE: Final = "validation MSE"
TRAIN_ACCURACY: Final = "training accuracy"
VALIDATION_ACCURACY: Final = "validation accuracy"
VALIDATION_LOG_LOSS: Final = "validation log-loss"
_CURVE_ROWS: Final = 20_000


@dataclass(frozen=True)
class NetworkConfig:
    """Everything that defines one network's training.

    Attributes:
        hidden_layers: widths of the hidden layers, 1 to 6 layers of 1 to 1024 units.
        activation: hidden-layer activation.
        solver: ``adam`` or ``sgd`` (both train epoch by epoch).
        alpha: L2 penalty.
        learning_rate: initial learning rate.
        batch_size: rows per mini-batch.
        epochs: the most epochs to train.
        early_stopping: stop when the validation score has not improved for ``patience`` epochs.
        validation_fraction: share of training rows held out for the validation curves.
        patience: epochs without improvement before stopping.
        shuffle: reshuffle the training rows before every epoch.
        random_state: seed for weights, shuffling and the validation split.
    """

    hidden_layers: tuple[int, ...] = (64, 32)
    activation: Activation = "relu"
    solver: Solver = "adam"
    alpha: float = 1e-4
    learning_rate: float = 3e-4
    batch_size: int = 1024
    epochs: int = 200
    early_stopping: bool = True
    validation_fraction: float = 0.3
    patience: int = 10
    shuffle: bool = True
    random_state: int = SEED

    CONSTRAINTS: ClassVar[Mapping[str, Constraint]] = {
        "hidden_layers": HiddenLayers(),
        "activation": Choice("Activation", get_args(Activation)),
        "solver": Choice("The solver", get_args(Solver)),
        "alpha": Number("The L2 penalty α", 0.0, 10.0),
        "learning_rate": Number("The learning rate", 0.0, 1.0, low_included=False),
        "batch_size": Whole("The batch size", 1, 100_000),
        "epochs": EPOCHS,
        "early_stopping": Flag("Early stopping"),
        "validation_fraction": Number("The validation share", 0.0, 0.9),
        "patience": Whole("Patience", 1, 200),
        "shuffle": Flag("Shuffling"),
        "random_state": Whole("The random seed", 0, MAX_SEED),
    }

    def __post_init__(self) -> None:
        check_settings(self, self.CONSTRAINTS)
        object.__setattr__(self, "hidden_layers", tuple(self.hidden_layers))

    def estimator(
        self, task: Task, random_state: np.random.RandomState, *, rows: int | None = None
    ) -> MLPRegressor | MLPClassifier:
        """An unfitted MLP with these settings; ``random_state`` is shared across epochs.

        With ``rows`` given, the batch is no larger than the training rows.
        """
        cls = MLPRegressor if task == "regression" else MLPClassifier
        return cls(
            hidden_layer_sizes=self.hidden_layers,
            activation=self.activation,
            solver=self.solver,
            alpha=self.alpha,
            learning_rate_init=self.learning_rate,
            batch_size=max(1, min(self.batch_size, rows)) if rows else self.batch_size,
            random_state=random_state,
            shuffle=self.shuffle,
        )


def make_preprocessor() -> Pipeline:
    """log1p for the heavy-tailed, non-negative features, then standard scaling."""
    return Pipeline(
        [
            ("log1p", FunctionTransformer(_signed_log1p, feature_names_out="one-to-one")),
            ("scale", StandardScaler()),
        ]
    )


def _signed_log1p(values: np.ndarray) -> np.ndarray:
    return np.sign(values) * np.log1p(np.abs(values))


@dataclass(frozen=True)
class EpochReport:
    """What is known after one epoch; passed to the progress callback."""

    task: Task
    epoch: int
    epochs: int
    best_epoch: int
    seconds: float
    curves: pd.DataFrame
    patience: int | None = None  # epochs without improvement that end it; None: no early stop

    @property
    def seconds_left(self) -> float:
        """A linear estimate of the time to the last epoch (early stopping may end sooner)."""
        return self.seconds / self.epoch * (self.epochs - self.epoch)

    @property
    def soonest_last_epoch(self) -> int:
        """The epoch it ends at if the validation score does not improve again: the best epoch
        plus the patience with early stopping, else the last epoch."""
        if self.patience is None:
            return self.epochs
        return max(self.epoch, min(self.epochs, self.best_epoch + self.patience))


Stage = Literal["preparing", "embedding", "training", "scoring", "saving"]


@dataclass(frozen=True)
class TrainingProgress:
    """How far a training has come, for a progress bar and live curves.

    Attributes:
        stage: ``preparing`` (building what the networks learn from), ``embedding`` (photos
            turned into vectors), ``training`` (epochs), ``scoring`` (every model on the test
            window) or ``saving`` (the run).
        epoch: epochs finished (of the network that has run the most); photos embedded while
            embedding.
        epochs: the most epochs the training may run; the photos to embed while embedding.
        seconds: seconds spent on the epochs so far.
        networks: the latest report of each network still training or just finished.
    """

    stage: Stage
    epoch: int = 0
    epochs: int = 0
    seconds: float = 0.0
    networks: tuple[EpochReport, ...] = ()

    @property
    def seconds_left(self) -> float:
        """A linear estimate of the time to the last epoch: the most it can take."""
        return self.seconds / self.epoch * (self.epochs - self.epoch) if self.epoch else 0.0

    @property
    def seconds_left_soonest(self) -> float | None:
        """A linear estimate of the time left if no network's validation score improves again
        (early stopping then ends each at its best epoch plus the patience); None when no
        network stops early, so only ``seconds_left`` applies."""
        if not self.epoch or not any(r.patience is not None for r in self.networks):
            return None
        last = max(r.soonest_last_epoch for r in self.networks)
        return self.seconds / self.epoch * max(0, last - self.epoch)


# Called with the progress; returning False asks the training to stop (keeping its best epoch).
OnProgress = Callable[[TrainingProgress], bool | None]


class NetworkTrainer:
    """Trains one MLP epoch by epoch with ``partial_fit`` and keeps the best epoch's weights.

    The state survives an interruption: after any finished epoch, ``best_pipeline()`` returns
    the best network so far, so a stopped training still yields a model.
    """

    def __init__(self, task: Task, config: NetworkConfig) -> None:
        self.task = task
        self.config = config
        self.preprocessor_: Pipeline | None = None
        self.network_: MLPRegressor | MLPClassifier | None = None
        self.best_weights_: tuple[list[np.ndarray], list[np.ndarray]] | None = None
        self.best_epoch_ = 0
        self.epochs_run_ = 0
        self.stopped_early_ = False
        self.seconds_ = 0.0
        self.curves_ = pd.DataFrame()
        self.done_ = False

    def fit(
        self,
        features: pd.DataFrame | np.ndarray,
        target: np.ndarray,
        *,
        groups: np.ndarray | None = None,
        on_epoch: Callable[[EpochReport], bool | None] | None = None,
    ) -> NetworkTrainer:
        """Train on ``features``/``target``; ``on_epoch`` may return False to stop early."""
        self.begin(features, target, groups=groups)
        while not self.done_:
            report = self.run_epoch()
            if on_epoch is not None and on_epoch(report) is False:
                self.stop()
        return self

    def begin(
        self,
        features: pd.DataFrame | np.ndarray,
        target: np.ndarray,
        *,
        groups: np.ndarray | None = None,
    ) -> NetworkTrainer:
        """Split off the validation rows, fit the preprocessing and set up the network.

        Rows with the same ``groups`` value (e.g. one user's rows from several time windows)
        land on the same side of the split, so the validation curve is not flattered by
        near-copies of training rows.
        """
        config = self.config
        target = np.asarray(target, dtype=float if self.task == "regression" else int)
        validation = _validation_mask(
            len(target), config.validation_fraction, config.random_state, groups
        )
        x_train, x_val = features[~validation], features[validation]
        self._y_train, self._y_val = target[~validation], target[validation]
        # Two classes at least, so that a yes/no target with only "no" so far still works.
        classes = np.unique(target)
        self._classes = classes if len(classes) >= 2 else np.array([0, 1])
        self.preprocessor_ = make_preprocessor().fit(x_train)
        self._z_train = self.preprocessor_.transform(x_train)
        self._z_val = self.preprocessor_.transform(x_val) if len(x_val) else self._z_train[:0]
        rows = np.random.default_rng(config.random_state).permutation(len(self._z_train))
        self._curve_rows = np.sort(rows[:_CURVE_ROWS])
        # One RandomState for the whole run, as in a single ``fit``: each epoch draws from it.
        self.network_ = config.estimator(
            self.task, np.random.RandomState(config.random_state), rows=len(self._z_train)
        )
        self._rows: list[dict[str, float]] = []
        self._best_score, self._since_best = np.inf, 0
        self.done_ = config.epochs < 1
        return self

    def run_epoch(self) -> EpochReport:
        """One pass over the training rows, then the curves and the early-stopping check."""
        network, config = self.network_, self.config
        assert network is not None, "call begin() first"
        started = time.perf_counter()
        if self.task == "classification":
            network.partial_fit(self._z_train, self._y_train, classes=self._classes)
        else:
            network.partial_fit(self._z_train, self._y_train)
        epoch = self.epochs_run_ + 1
        rows = self._curve_rows
        row = self._scores(
            epoch, (self._z_train[rows], self._y_train[rows]), (self._z_val, self._y_val)
        )
        self._rows.append(row)
        score = row[VALIDATION_MSE] if self.task == "regression" else row[VALIDATION_LOG_LOSS]
        if not np.isfinite(score):  # too few rows to hold any out: judge on training rows
            score = row[TRAIN_MSE] if self.task == "regression" else 1 - row[TRAIN_ACCURACY]
        if self.best_weights_ is None or score < self._best_score - 1e-6 * abs(self._best_score):
            self._best_score, self._since_best, self.best_epoch_ = score, 0, epoch
            self.best_weights_ = (copy.deepcopy(network.coefs_), copy.deepcopy(network.intercepts_))
        else:
            self._since_best += 1
        self.epochs_run_ = epoch
        self.seconds_ += time.perf_counter() - started
        self.curves_ = pd.DataFrame(self._rows)
        if epoch >= config.epochs:
            self.done_ = True
        elif config.early_stopping and self._since_best >= config.patience:
            self.done_ = self.stopped_early_ = True
        return EpochReport(
            self.task,
            epoch,
            config.epochs,
            self.best_epoch_,
            self.seconds_,
            self.curves_,
            config.patience if config.early_stopping else None,
        )

    def stop(self) -> None:
        """End training now; the best epoch so far is kept."""
        self.stopped_early_ = self.epochs_run_ < self.config.epochs
        self.done_ = True

    def _scores(
        self,
        epoch: int,
        train: tuple[np.ndarray, np.ndarray],
        validation: tuple[np.ndarray, np.ndarray],
    ) -> dict[str, float]:
        network = self.network_
        assert network is not None
        row = {EPOCH: float(epoch), TRAINING_LOSS: float(network.loss_curve_[-1])}
        (z_train, y_train), (z_val, y_val) = train, validation
        if self.task == "regression":
            row[TRAIN_MSE] = mean_squared_error(y_train, network.predict(z_train))
            row[VALIDATION_MSE] = (
                mean_squared_error(y_val, network.predict(z_val)) if len(y_val) else np.nan
            )
        else:
            row[TRAIN_ACCURACY] = accuracy_score(y_train, network.predict(z_train))
            if len(y_val):
                probability = network.predict_proba(z_val)
                predicted = network.classes_[probability.argmax(axis=1)]
                row[VALIDATION_ACCURACY] = accuracy_score(y_val, predicted)
                row[VALIDATION_LOG_LOSS] = log_loss(y_val, probability, labels=network.classes_)
            else:
                row[VALIDATION_ACCURACY] = row[VALIDATION_LOG_LOSS] = np.nan
        return row

    def best_pipeline(self) -> Pipeline:
        """The preprocessing and the network with the best epoch's weights (a copy)."""
        if self.network_ is None or self.best_weights_ is None or self.preprocessor_ is None:
            raise ShopLensError("The network has not finished an epoch yet; train it first.")
        network = copy.deepcopy(self.network_)
        network.coefs_ = copy.deepcopy(self.best_weights_[0])
        network.intercepts_ = copy.deepcopy(self.best_weights_[1])
        network.random_state = self.config.random_state
        return Pipeline([("prepare", self.preprocessor_), ("network", network)])


def _validation_mask(
    rows: int, fraction: float, seed: int, groups: np.ndarray | None = None
) -> np.ndarray:
    """Rows held out for validation: a random ``fraction`` of the rows, or of the groups."""
    if rows < 20 or fraction <= 0:
        return np.zeros(rows, dtype=bool)
    rng = np.random.default_rng(seed)
    if groups is None:
        mask = np.zeros(rows, dtype=bool)
        mask[rng.choice(rows, int(round(rows * fraction)), replace=False)] = True
        return mask
    codes, uniques = pd.factorize(np.asarray(groups))
    draws = rng.random(len(uniques))
    held = draws < fraction
    if held.all():  # keep at least one group to train on
        held[np.argmax(draws)] = False
    return held[codes]


def network_config_dict(config: NetworkConfig) -> dict[str, object]:
    """The settings as JSON-ready values (for a run's manifest)."""
    values = dataclasses.asdict(config)
    values["hidden_layers"] = list(config.hidden_layers)
    return values


def network_config_from(values: Mapping[str, Any]) -> NetworkConfig:
    """The inverse of :func:`network_config_dict`, checked.

    Raises:
        SettingError: one line, when the values do not describe a usable network.
    """
    known = {f.name for f in dataclasses.fields(NetworkConfig)}
    try:
        settings = {k: v for k, v in values.items() if k in known}
        settings["hidden_layers"] = tuple(values["hidden_layers"])
        return NetworkConfig(**settings)
    except (KeyError, TypeError) as err:
        raise SettingError(f"The network settings are incomplete ({shown(err)}).") from None
