"""Tests for the epoch-by-epoch MLP trainer: hidden-layer parsing, equality with sklearn's own
``fit``, the validation curves, early stopping, interruption and the group-aware split."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline

from core.errors import ShopLensError
from core.ml.layers import HiddenLayersError, format_hidden_layers, parse_hidden_layers
from core.ml.network import (
    EPOCH,
    TRAIN_ACCURACY,
    TRAIN_MSE,
    TRAINING_LOSS,
    VALIDATION_ACCURACY,
    VALIDATION_LOG_LOSS,
    VALIDATION_MSE,
    EpochReport,
    NetworkConfig,
    NetworkTrainer,
    TrainingProgress,
    _validation_mask,
    make_preprocessor,
)
from core.params import SettingError

# --- parse_hidden_layers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "widths"),
    [
        ("64,32", (64, 32)),
        ("64", (64,)),
        (" 64 , 32 ", (64, 32)),
        ("64 32", (64, 32)),
        ("64-32", (64, 32)),
        ("64;32", (64, 32)),
        ("64x32", (64, 32)),
        ("128, 64, 32", (128, 64, 32)),
        ("1,1024", (1, 1024)),
        ("8,8,8,8,8,8", (8,) * 6),
    ],
)
def test_hidden_layers_are_read_with_any_separator(text, widths):
    assert parse_hidden_layers(text) == widths


def test_format_hidden_layers_reverses_parsing():
    assert format_hidden_layers((64, 32)) == "64,32"
    assert parse_hidden_layers(format_hidden_layers((128, 64, 32))) == (128, 64, 32)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "'abc' is not a whole number"),
        ("0", "0 units is out of range"),
        ("2000", "2000 units is out of range"),
        ("64,,x", "'x' is not a whole number"),
        ("8,8,8,8,8,8,8", "has 7 layers"),
        ("-5", "negative"),
        ("64,-32", "negative"),
        ("1.5", "'1.5' is not a whole number"),
        ("64,²", "'²' is not a whole number"),
        ("64\nabc", "'abc' is not a whole number"),
    ],
)
def test_invalid_hidden_layers_raise_a_one_line_error_naming_the_problem(text, problem):
    with pytest.raises(HiddenLayersError, match=problem) as raised:
        parse_hidden_layers(text)
    message = str(raised.value)
    assert "\n" not in message
    assert "e.g. 64,32" in message


# --- data ---------------------------------------------------------------------------------


def make_data(rows: int = 60, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Three non-negative features, a noisy linear target and a 0/1 label."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(
        {
            "orders": rng.poisson(2.0, rows).astype(float),
            "days": rng.uniform(0, 60, rows),
            "spend": rng.exponential(50.0, rows),
        }
    )
    y = 0.5 * x["orders"] - 0.02 * x["days"] + rng.normal(0, 0.3, rows)
    return x, y.to_numpy(), (y > y.median()).to_numpy().astype(int)


def config(**changes: object) -> NetworkConfig:
    settings = {
        "hidden_layers": (8,),
        "learning_rate": 0.01,
        "batch_size": 16,
        "epochs": 6,
        "early_stopping": False,
        "validation_fraction": 0.0,
        "shuffle": False,
        "random_state": 3,
    }
    return NetworkConfig(**{**settings, **changes})


def sklearn_fit(task: str, settings: NetworkConfig, x: pd.DataFrame, y: np.ndarray) -> Pipeline:
    """The same network trained by sklearn's own ``fit`` for ``settings.epochs`` epochs."""
    cls = MLPRegressor if task == "regression" else MLPClassifier
    network = cls(
        hidden_layer_sizes=settings.hidden_layers,
        activation=settings.activation,
        solver=settings.solver,
        alpha=settings.alpha,
        learning_rate_init=settings.learning_rate,
        batch_size=settings.batch_size,
        max_iter=settings.epochs,
        shuffle=settings.shuffle,
        n_iter_no_change=settings.epochs + 1,
        random_state=settings.random_state,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return Pipeline([("prepare", make_preprocessor()), ("network", network)]).fit(x, y)


# --- equality with sklearn ----------------------------------------------------------------


@pytest.mark.parametrize("task", ["regression", "classification"])
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"solver": "sgd", "activation": "tanh"},
        {"hidden_layers": (8, 4), "batch_size": 7},
        {"shuffle": True, "epochs": 1},
    ],
    ids=["adam", "sgd-tanh", "two-layers", "shuffled-one-epoch"],
)
def test_epoch_by_epoch_training_equals_sklearn_fit(task, changes):
    x, y, label = make_data()
    target = y if task == "regression" else label
    settings = config(**changes)
    trainer = NetworkTrainer(task, settings).fit(x, target)
    reference = sklearn_fit(task, settings, x, target)["network"]
    assert trainer.epochs_run_ == settings.epochs
    assert reference.n_iter_ == settings.epochs
    for ours, theirs in zip(
        weights(trainer), reference.coefs_ + reference.intercepts_, strict=True
    ):
        assert np.allclose(ours, theirs)
    assert trainer.curves_[TRAINING_LOSS].tolist() == pytest.approx(reference.loss_curve_)
    assert trainer.curves_[EPOCH].tolist() == [float(e) for e in range(1, settings.epochs + 1)]


def weights(trainer: NetworkTrainer) -> list[np.ndarray]:
    return trainer.network_.coefs_ + trainer.network_.intercepts_


def test_shuffled_training_is_reproducible_with_the_same_seed():
    """With shuffling, epochs after the first differ from sklearn's ``fit`` (which reshuffles
    its previous order, where ``partial_fit`` shuffles 0..n afresh), but a seed fixes them."""
    x, y, _ = make_data()
    first = NetworkTrainer("regression", config(shuffle=True)).fit(x, y)
    again = NetworkTrainer("regression", config(shuffle=True)).fit(x, y)
    other = NetworkTrainer("regression", config(shuffle=True, random_state=4)).fit(x, y)
    assert all(np.array_equal(a, b) for a, b in zip(weights(first), weights(again), strict=True))
    assert not np.allclose(weights(first)[0], weights(other)[0])


# --- curves -------------------------------------------------------------------------------


def test_validation_mse_at_the_best_epoch_is_that_of_the_best_pipeline():
    x, y, _ = make_data(rows=80)
    settings = config(validation_fraction=0.25, epochs=8)
    trainer = NetworkTrainer("regression", settings).fit(x, y)
    held = _validation_mask(len(y), 0.25, settings.random_state)
    assert held.sum() == 20
    best = trainer.curves_.iloc[trainer.best_epoch_ - 1]
    pipeline = trainer.best_pipeline()
    assert best[VALIDATION_MSE] == pytest.approx(
        mean_squared_error(y[held], pipeline.predict(x[held]))
    )
    assert best[TRAIN_MSE] == pytest.approx(
        mean_squared_error(y[~held], pipeline.predict(x[~held]))
    )
    # The best epoch has the lowest validation MSE.
    assert best[VALIDATION_MSE] == trainer.curves_[VALIDATION_MSE].min()


def test_validation_accuracy_and_log_loss_at_the_best_epoch_are_those_of_the_best_pipeline():
    x, _, label = make_data(rows=80)
    settings = config(validation_fraction=0.25, epochs=8)
    trainer = NetworkTrainer("classification", settings).fit(x, label)
    held = _validation_mask(len(label), 0.25, settings.random_state)
    best = trainer.curves_.iloc[trainer.best_epoch_ - 1]
    probability = trainer.best_pipeline().predict_proba(x[held])[:, 1]
    assert best[VALIDATION_ACCURACY] == pytest.approx(
        accuracy_score(label[held], probability >= 0.5)
    )
    assert best[VALIDATION_LOG_LOSS] == pytest.approx(log_loss(label[held], probability))
    assert best[TRAIN_ACCURACY] == pytest.approx(
        accuracy_score(label[~held], trainer.best_pipeline().predict(x[~held]))
    )


def test_without_enough_rows_nothing_is_held_out_and_validation_is_missing():
    x, y, _ = make_data(rows=12)
    trainer = NetworkTrainer(
        "regression", config(validation_fraction=0.5, epochs=3, batch_size=4)
    ).fit(x, y)
    assert trainer.curves_[VALIDATION_MSE].isna().all()
    assert trainer.curves_[TRAIN_MSE].notna().all()
    assert trainer.best_pipeline().predict(x).shape == (12,)


# --- early stopping and interruption ------------------------------------------------------


def predictions_per_epoch(trainer: NetworkTrainer, x: pd.DataFrame) -> list[np.ndarray]:
    """Train ``trainer`` on noise and record its predictions on ``x`` after every epoch."""
    seen = []

    def record(_report: object) -> None:
        seen.append(trainer.network_.predict(trainer.preprocessor_.transform(x)))

    rng = np.random.default_rng(1)
    trainer.fit(x, rng.normal(0, 1, len(x)), on_epoch=record)
    return seen


def test_early_stopping_stops_after_patience_epochs_and_keeps_the_best_weights():
    x, _, _ = make_data(rows=60)
    settings = config(
        hidden_layers=(32,),
        learning_rate=0.05,
        epochs=200,
        early_stopping=True,
        patience=3,
        validation_fraction=0.3,
    )
    trainer = NetworkTrainer("regression", settings)
    seen = predictions_per_epoch(trainer, x)
    assert trainer.stopped_early_
    assert trainer.best_epoch_ < trainer.epochs_run_ < settings.epochs
    assert trainer.epochs_run_ == trainer.best_epoch_ + settings.patience
    curve = trainer.curves_[VALIDATION_MSE].to_numpy()
    assert len(curve) == len(seen) == trainer.epochs_run_
    assert curve[trainer.best_epoch_ - 1] == curve.min()
    assert (curve[trainer.best_epoch_ :] >= curve[trainer.best_epoch_ - 1]).all()
    restored = trainer.best_pipeline().predict(x)
    assert np.allclose(restored, seen[trainer.best_epoch_ - 1])
    assert not np.allclose(restored, seen[-1])


def test_on_epoch_returning_false_stops_after_that_epoch():
    x, y, _ = make_data()
    reports = []

    def two_epochs(report: object) -> bool:
        reports.append(report)
        return report.epoch < 2

    trainer = NetworkTrainer("regression", config(epochs=10)).fit(x, y, on_epoch=two_epochs)
    assert [r.epoch for r in reports] == [1, 2]
    assert trainer.epochs_run_ == 2
    assert trainer.done_
    assert trainer.stopped_early_
    assert len(trainer.curves_) == 2
    predicted = trainer.best_pipeline().predict(x)
    assert predicted.shape == (len(x),)
    assert np.isfinite(predicted).all()


def test_a_stopped_classifier_still_gives_probabilities():
    x, _, label = make_data()
    trainer = NetworkTrainer("classification", config(epochs=10))
    trainer.begin(x, label)
    trainer.run_epoch()
    trainer.stop()
    assert trainer.done_ and trainer.stopped_early_
    probability = trainer.best_pipeline().predict_proba(x)[:, 1]
    assert ((probability >= 0) & (probability <= 1)).all()


def test_epoch_reports_count_epochs_and_time():
    x, y, _ = make_data()
    reports = []
    NetworkTrainer("regression", config(epochs=3)).fit(x, y, on_epoch=reports.append)
    assert [(r.epoch, r.epochs, r.task) for r in reports] == [
        (1, 3, "regression"),
        (2, 3, "regression"),
        (3, 3, "regression"),
    ]
    assert reports[-1].seconds_left == 0
    assert len(reports[-1].curves) == 3


def test_best_pipeline_before_any_epoch_raises():
    x, y, _ = make_data()
    trainer = NetworkTrainer("regression", config())
    with pytest.raises(ShopLensError, match="not finished an epoch"):
        trainer.best_pipeline()
    trainer.begin(x, y)
    with pytest.raises(ShopLensError, match="not finished an epoch"):
        trainer.best_pipeline()


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("epochs", 0, "Epochs must be a whole number from 1 to 2,000 \\(got 0\\)"),
        ("random_state", -1, "The random seed must be a whole number from 0 to 4,294,967,295"),
        ("random_state", 2**40, "\\(got 1099511627776\\)"),
        ("learning_rate", 0.0, "The learning rate must be a number above 0"),
        ("activation", "softmax", "Activation must be one of relu, tanh, logistic, identity"),
        ("hidden_layers", (0,), "0 units is out of range"),
        ("epochs", True, "Epochs must be a whole number"),
    ],
)
def test_settings_outside_their_limits_are_refused_with_one_line(setting, value, message):
    with pytest.raises(SettingError, match=message) as err:
        config(**{setting: value})
    assert "\n" not in str(err.value)


# --- the group-aware validation split ----------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_the_group_split_never_puts_one_group_on_both_sides(seed):
    groups = np.repeat([f"u{i}" for i in range(30)], 4)
    np.random.default_rng(seed).shuffle(groups)
    held = _validation_mask(len(groups), 0.3, seed, groups)
    per_group = pd.Series(held).groupby(groups).agg(["min", "max"])
    assert (per_group["min"] == per_group["max"]).all()
    assert 0 < held.sum() < len(groups)


def test_the_trainer_validates_on_whole_groups():
    x, y, _ = make_data(rows=80)
    groups = np.arange(80) // 4
    settings = config(validation_fraction=0.3, epochs=3)
    trainer = NetworkTrainer("regression", settings).fit(x, y, groups=groups)
    held = _validation_mask(80, 0.3, settings.random_state, groups)
    best = trainer.curves_.iloc[trainer.best_epoch_ - 1]
    assert best[VALIDATION_MSE] == pytest.approx(
        mean_squared_error(y[held], trainer.best_pipeline().predict(x[held]))
    )


@pytest.mark.parametrize("seed", range(8))
def test_a_single_group_is_never_held_out_entirely(seed):
    """With one group (one user's windows), holding it out would leave nothing to train on."""
    x, y, _ = make_data(rows=40)
    settings = config(validation_fraction=0.5, epochs=2, random_state=seed)
    trainer = NetworkTrainer("regression", settings).fit(x, y, groups=np.zeros(40))
    assert trainer.best_pipeline().predict(x).shape == (40,)


def _report(epoch: int, best: int, patience: int | None, epochs: int = 100) -> EpochReport:
    return EpochReport("regression", epoch, epochs, best, 2.0 * epoch, pd.DataFrame(), patience)


def test_with_early_stopping_the_soonest_end_is_the_best_epoch_plus_the_patience():
    assert _report(12, best=10, patience=10).soonest_last_epoch == 20
    assert _report(12, best=95, patience=10).soonest_last_epoch == 100  # the limit comes first
    assert _report(12, best=10, patience=None).soonest_last_epoch == 100
    # 2 s per epoch: at most 88 epochs left (176 s), at least 8 (16 s).
    progress = TrainingProgress("training", 12, 100, 24.0, (_report(12, 10, 10),))
    assert progress.seconds_left == pytest.approx(176.0)
    assert progress.seconds_left_soonest == pytest.approx(16.0)
    # Two networks in step: the later of their soonest ends counts.
    both = (_report(12, 10, 10), _report(12, 11, 10))
    assert TrainingProgress("training", 12, 100, 24.0, both).seconds_left_soonest == 18.0
    without = TrainingProgress("training", 12, 100, 24.0, (_report(12, 10, None),))
    assert without.seconds_left_soonest is None
