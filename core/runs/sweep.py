"""Sweeps: one training per (hidden layers, seed) combination, run in parallel, each kept as a run.

Every point of a sweep is the ordinary training with the point's hidden layers and seed, so its
run holds exactly what a single training with those settings would give. The trainings run in
worker processes (joblib); the runs are saved by the calling process, one at a time as the
trainings finish, so the registry has a single writer.
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import pandas as pd
from joblib import Parallel, delayed

from core import purchase, recommend
from core.errors import ShopLensError
from core.data.loading import ShopData
from core.ml.network import NetworkConfig, format_hidden_layers, parse_hidden_layers
from core.runs import HEADLINE, LOWER_IS_BETTER, RunRecord, RunStore, clean_name, clean_tags

MAX_POINTS: Final = 24
MAX_SEED: Final = 2**32 - 1
SWEEP_TAG: Final = "sweep"


class SweepError(ShopLensError):
    """A sweep that cannot be run as asked."""


@dataclass(frozen=True)
class SweepPoint:
    """One training of a sweep.

    Attributes:
        hidden_layers: widths of the network's hidden layers.
        seed: the training's ``random_state``.
    """

    hidden_layers: tuple[int, ...]
    seed: int

    @property
    def label(self) -> str:
        """``64,32 seed 1``."""
        return f"{format_hidden_layers(self.hidden_layers)} seed {self.seed}"


@dataclass(frozen=True)
class SweepRun:
    """A finished point, saved as a run.

    Attributes:
        run_id: the saved run.
        hidden_layers: widths of the network's hidden layers.
        seed: the training's ``random_state``.
        metrics: the MLP's scores on the evaluation window (as saved in the run; NaN is None).
        train_seconds: wall time of the point's training and evaluation, in seconds.
    """

    run_id: str
    hidden_layers: tuple[int, ...]
    seed: int
    metrics: dict[str, float | None]
    train_seconds: float


@dataclass(frozen=True)
class SweepResult:
    """The outcome of a sweep.

    Attributes:
        runs: one per point, in configuration order and, within one configuration, seed order.
        best_run_id: the run with the best MLP score (see ``metric``); on a tie, the first.
        metric: the score that picked the best run (``mse``: lowest, ``ndcg``: highest).
    """

    runs: tuple[SweepRun, ...]
    best_run_id: str
    metric: str

    @property
    def best(self) -> SweepRun:
        """The best run's entry."""
        return next(run for run in self.runs if run.run_id == self.best_run_id)


OnDone = Callable[[int, int, SweepRun], None]


def parse_seeds(text: str) -> list[int]:
    """Seeds such as ``"0,1,2"`` (also separated by spaces or ``;``).

    Raises:
        SweepError: with a one-line message for anything but whole numbers.
    """
    parts = [p for p in re.split(r"[\s,;]+", str(text).strip()) if p]
    if not all(p.isascii() and p.isdigit() for p in parts):
        shown = " ".join(str(text).split())
        raise SweepError(f"Seeds '{shown}' are not whole numbers; write e.g. 0,1,2.")
    return [int(p) for p in parts]


def sweep_points(
    hidden: Sequence[tuple[int, ...]], seeds: Sequence[int], *, jobs: int
) -> tuple[SweepPoint, ...]:
    """Every (hidden layers, seed) combination, configuration-major; repeats are dropped.

    Raises:
        SweepError: with a one-line message when there are no configurations or no seeds,
            more than 24 combinations, a seed outside 0 to 4294967295, or ``jobs`` below 1.
        HiddenLayersError: when a configuration is not 1 to 6 layers of 1 to 1024 units.
    """
    configurations = list(
        dict.fromkeys(parse_hidden_layers(format_hidden_layers(tuple(h))) for h in hidden)
    )
    unique_seeds = list(dict.fromkeys(seeds))
    if not configurations:
        raise SweepError("The sweep has no hidden-layer configurations; give at least one.")
    if not unique_seeds:
        raise SweepError("The sweep has no seeds; give at least one, e.g. 0,1,2.")
    for seed in unique_seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise SweepError(
                f"Seed {seed!r} cannot be used; seeds are whole numbers from 0 to {MAX_SEED}."
            )
    total = len(configurations) * len(unique_seeds)
    if total > MAX_POINTS:
        raise SweepError(
            f"The sweep has {total} trainings ({len(configurations)} configurations × "
            f"{len(unique_seeds)} seeds); keep it to {MAX_POINTS}."
        )
    if jobs < 1:
        raise SweepError(f"The number of parallel jobs must be at least 1 (got {jobs}).")
    return tuple(SweepPoint(h, s) for h in configurations for s in unique_seeds)


def sweep_purchase(
    shop: ShopData,
    store: RunStore,
    *,
    hidden: Sequence[tuple[int, ...]],
    seeds: Sequence[int],
    base: NetworkConfig,
    cutoff: pd.Timestamp | None,
    horizon_days: int,
    jobs: int,
    on_done: OnDone | None = None,
    name_prefix: str = "",
    tags: tuple[str, ...] = (SWEEP_TAG,),
) -> SweepResult:
    """Train purchase prediction for every (hidden layers, seed) and save each as a run.

    The feature tables are built once, for all points: where the stacked training windows
    exceed ``build_purchase_data``'s row limit, the sample of rows kept is drawn with
    ``base.random_state``, so every point learns from the same rows. Each point trains with
    ``base`` where only ``hidden_layers`` and ``random_state`` (the seed) are replaced.

    Args:
        shop: the loaded data; every run records it.
        store: where the runs are saved.
        hidden: the hidden-layer configurations, e.g. ``[(32,), (64, 32)]``.
        seeds: the seeds, each trained with every configuration.
        base: the other network settings.
        cutoff: the evaluation date (default: end of data - H).
        horizon_days: H, the predicted window in days.
        jobs: trainings run at once (worker processes), at least 1.
        on_done: called after each run is saved with (runs done, total, the run), in the
            order the trainings finish.
        name_prefix: put before each run's name ``sweep 64,32 seed 1``.
        tags: the runs' tags.

    Returns:
        the runs in configuration/seed order and the one with the lowest MLP ``mse``.

    Raises:
        SweepError: for an empty or too large sweep, a bad seed or ``jobs`` below 1.
        CutoffError: when the cutoff leaves no room for training or evaluation.
    """
    points = _check(hidden, seeds, jobs=jobs, name_prefix=name_prefix, tags=tags)
    products = shop.products.frame if shop.products is not None else None
    data = purchase.build_purchase_data(
        shop.events.frame,
        products,
        cutoff=cutoff,
        horizon_days=horizon_days,
        random_state=base.random_state,
    )
    tasks = (
        delayed(_train_purchase_point)(index, data, _network(base, point))
        for index, point in enumerate(points)
    )
    runs = _run_and_save(
        tasks,
        points,
        shop,
        store,
        model=purchase.MLP,
        jobs=jobs,
        on_done=on_done,
        prefix=name_prefix,
        tags=tags,
    )
    return _result(runs, HEADLINE["purchase"])


def sweep_recommend(
    shop: ShopData,
    store: RunStore,
    *,
    hidden: Sequence[tuple[int, ...]],
    seeds: Sequence[int],
    base: recommend.RecommenderConfig,
    cutoff: pd.Timestamp | None,
    horizon_days: int,
    k: int,
    jobs: int,
    on_done: OnDone | None = None,
    name_prefix: str = "",
    tags: tuple[str, ...] = (SWEEP_TAG,),
) -> SweepResult:
    """Fit and evaluate the recommender for every (hidden layers, seed) and save each as a run.

    Each point is :func:`core.recommend.evaluate_recommender` with ``base`` where only the
    ranker's ``hidden_layers`` and ``random_state`` (the seed) are replaced; the seed also
    drives the negative sampling and the random baseline, as in a single training.

    Args:
        shop: the loaded data; every run records it.
        store: where the runs are saved.
        hidden: the ranker's hidden-layer configurations, e.g. ``[(32,), (64, 32)]``.
        seeds: the seeds, each trained with every configuration.
        base: the other recommender settings.
        cutoff: the evaluation date (default: end of data - H).
        horizon_days: H, the test window in days.
        k: the length of the scored lists.
        jobs: trainings run at once (worker processes), at least 1.
        on_done: called after each run is saved with (runs done, total, the run), in the
            order the trainings finish.
        name_prefix: put before each run's name ``sweep 64,32 seed 1``.
        tags: the runs' tags.

    Returns:
        the runs in configuration/seed order and the one with the highest MLP ``ndcg`` at k.

    Raises:
        SweepError: for an empty or too large sweep, a bad seed or ``jobs`` below 1.
    """
    points = _check(hidden, seeds, jobs=jobs, name_prefix=name_prefix, tags=tags)
    events = shop.events.frame
    products = shop.products.frame if shop.products is not None else None
    at = cutoff if cutoff is not None else purchase.default_cutoff(events, horizon_days)
    tasks = (
        delayed(_evaluate_recommend_point)(
            index,
            events,
            products,
            dataclasses.replace(base, network=_network(base.network, point)),
            at,
            horizon_days,
            k,
        )
        for index, point in enumerate(points)
    )
    runs = _run_and_save(
        tasks,
        points,
        shop,
        store,
        model=recommend.MLP_RANKER,
        jobs=jobs,
        on_done=on_done,
        prefix=name_prefix,
        tags=tags,
    )
    return _result(runs, HEADLINE["recommend"])


def run_name(point: SweepPoint, prefix: str = "") -> str:
    """``<prefix> sweep 64,32 seed 1``."""
    return " ".join(part for part in (prefix.strip(), "sweep", point.label) if part)


# --- internals ----------------------------------------------------------------------------


def _check(
    hidden: Sequence[tuple[int, ...]],
    seeds: Sequence[int],
    *,
    jobs: int,
    name_prefix: str,
    tags: tuple[str, ...],
) -> tuple[SweepPoint, ...]:
    """The points, after every check that can fail before anything is trained."""
    points = sweep_points(hidden, seeds, jobs=jobs)
    longest = max(points, key=lambda p: len(run_name(p, name_prefix)))
    clean_name(run_name(longest, name_prefix))
    clean_tags(list(tags))
    return points


def _network(base: NetworkConfig, point: SweepPoint) -> NetworkConfig:
    return dataclasses.replace(base, hidden_layers=point.hidden_layers, random_state=point.seed)


def _train_purchase_point(
    index: int, data: purchase.PurchaseData, config: NetworkConfig
) -> tuple[int, RunRecord, float]:
    """One point in a worker: the same calls as a single purchase training."""
    started = time.perf_counter()
    models = purchase.train_purchase_models(data, config)
    evaluation = purchase.evaluate_purchase_models(models, data, random_state=config.random_state)
    record = purchase.purchase_run_record(models, evaluation, data)
    return index, record, time.perf_counter() - started


def _evaluate_recommend_point(
    index: int,
    events: pd.DataFrame,
    products: pd.DataFrame | None,
    config: recommend.RecommenderConfig,
    cutoff: pd.Timestamp,
    horizon_days: int,
    k: int,
) -> tuple[int, RunRecord, float]:
    """One point in a worker: the same calls as a single recommender evaluation."""
    started = time.perf_counter()
    fitted, evaluation = recommend.evaluate_recommender(
        events, products, cutoff=cutoff, horizon_days=horizon_days, k=k, config=config
    )
    record = recommend.recommender_run_record(
        fitted, evaluation, cutoff=cutoff, horizon_days=horizon_days, k=k, stopped=False
    )
    return index, record, time.perf_counter() - started


def _run_and_save(
    tasks: Iterable[object],
    points: tuple[SweepPoint, ...],
    shop: ShopData,
    store: RunStore,
    *,
    model: str,
    jobs: int,
    on_done: OnDone | None,
    prefix: str,
    tags: tuple[str, ...],
) -> tuple[SweepRun, ...]:
    total = len(points)
    done: dict[int, SweepRun] = {}
    # Unordered, so each run is saved (and reported) as soon as its training ends.
    parallel = Parallel(n_jobs=min(jobs, total), return_as="generator_unordered")
    for index, record, seconds in parallel(tasks):
        point = points[index]
        run_id = store.save(record, shop, name=run_name(point, prefix), tags=tags)
        run = SweepRun(
            run_id=run_id,
            hidden_layers=point.hidden_layers,
            seed=point.seed,
            metrics=dict(record.metrics.get(model, {})),
            train_seconds=seconds,
        )
        done[index] = run
        if on_done is not None:
            on_done(len(done), total, run)
    return tuple(done[index] for index in range(total))


def _result(runs: tuple[SweepRun, ...], metric: str) -> SweepResult:
    """The best run by ``metric``; runs without a finite score are never preferred."""
    direction = 1.0 if metric in LOWER_IS_BETTER else -1.0

    def key(run: SweepRun) -> float:
        value = run.metrics.get(metric)
        if value is None or not math.isfinite(value):
            return math.inf
        return direction * value

    return SweepResult(runs=runs, best_run_id=min(runs, key=key).run_id, metric=metric)
