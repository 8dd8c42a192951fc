"""Sweeps: one training per (hidden layers, seed) combination, run in parallel, each kept as a run.

Every point of a sweep is the ordinary training service with the point's hidden layers and
seed, so its run holds exactly what a single training with those settings would give. The
trainings run in worker processes, each saving its own run (saves are atomic and run ids
unique, so workers never collide); the calling process reports each as it finishes. A sweep can
be stopped: no training starts after that, and those under way finish and are saved.

Where the trainings run is the backend: ``loky`` (the default) runs them in local worker
processes, one pool per sweep; ``dask`` sends them to the workers of a Dask cluster through its
scheduler's address (``distributed``, an optional extra: ``requirements-cluster.txt``), whose
workers must see the runs folder at the same path (a shared file system).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import socket
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from typing import Any, Final, Literal

import pandas as pd
from joblib import cpu_count
from joblib.externals.loky import ProcessPoolExecutor

from core import services
from core.data.loading import ShopData
from core.errors import RunWriteError, ShopLensError
from core.ml import metrics as m
from core.ml.layers import format_hidden_layers, parse_hidden_layers
from core.ml.network import NetworkConfig
from core.ml.timesplit import check_cutoff
from core.params import shown
from core.purchase import PurchaseData
from core.runs.names import clean_name, clean_tags
from core.runs.serial import scores_to_metrics
from core.runs.store import RunStore

SEED = NetworkConfig.CONSTRAINTS["random_state"]
MAX_POINTS: Final = 24
SWEEP_TAG: Final = "sweep"
Backend = Literal["loky", "dask"]
BACKENDS: Final[tuple[Backend, ...]] = ("loky", "dask")
_SCHEDULER: Final = re.compile(r"(tcp|tls)://[^\s/]+:\d{1,5}")
_CONNECT_SECONDS: Final = 10


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
        return training_label(self.hidden_layers, self.seed)


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

    @property
    def label(self) -> str:
        """``64,32 seed 1``."""
        return training_label(self.hidden_layers, self.seed)


@dataclass(frozen=True)
class SweepResult:
    """The outcome of a sweep.

    Attributes:
        runs: one per finished point, in configuration order and, within one configuration,
            seed order.
        best_run_id: the run with the best MLP score (see ``metric``); on a tie, the first.
            None when no point finished.
        metric: the score that picked the best run (``mse``: lowest, ``ndcg``: highest).
        stopped: the sweep was stopped: some points never started (``runs`` holds those that
            finished).
        points: how many points the sweep was asked for.
    """

    runs: tuple[SweepRun, ...]
    best_run_id: str | None
    metric: str
    stopped: bool = False
    points: int = 0

    @property
    def best(self) -> SweepRun | None:
        """The best run's entry (None when no point finished)."""
        return next((run for run in self.runs if run.run_id == self.best_run_id), None)


OnDone = Callable[[int, int, SweepRun], None]
ShouldStop = Callable[[], bool]
Settings = services.PurchaseSettings | services.RecommendSettings


def training_label(hidden_layers: tuple[int, ...], seed: int) -> str:
    """A training in a few words: its hidden layers and seed, ``64,32 seed 1``."""
    return f"{format_hidden_layers(hidden_layers)} seed {seed}"


def parse_seeds(text: str) -> list[int]:
    """Seeds such as ``"0,1,2"`` (also separated by spaces or ``;``); repeats are dropped.

    Raises:
        SweepError: with a one-line message for anything but whole numbers.
    """
    parts = [p for p in re.split(r"[\s,;]+", str(text).strip()) if p]
    if not all(p.isascii() and p.isdigit() for p in parts):
        raise SweepError(f"Seeds '{shown(text)}' are not whole numbers; write e.g. 0,1,2.")
    return list(dict.fromkeys(SEED.parse(p) for p in parts))


def sweep_points(hidden: Sequence[tuple[int, ...]], seeds: Sequence[int]) -> tuple[SweepPoint, ...]:
    """Every (hidden layers, seed) combination, configuration-major; repeats are dropped.

    Raises:
        SweepError: with a one-line message when there are no configurations or no seeds,
            or more than 24 combinations.
        SettingError: for a seed outside 0 to 4,294,967,295.
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
        SEED.check(seed)
    total = len(configurations) * len(unique_seeds)
    if total > MAX_POINTS:
        raise SweepError(
            f"The sweep has {total} trainings ({len(configurations)} configurations × "
            f"{len(unique_seeds)} seeds); keep it to {MAX_POINTS}."
        )
    return tuple(SweepPoint(h, s) for h in configurations for s in unique_seeds)


def sweep(
    shop: ShopData,
    store: RunStore,
    *,
    base: Settings,
    hidden: Sequence[tuple[int, ...]],
    seeds: Sequence[int],
    jobs: int | None = None,
    on_done: OnDone | None = None,
    should_stop: ShouldStop | None = None,
    name_prefix: str = "",
    tags: tuple[str, ...] = (SWEEP_TAG,),
    backend: Backend = "loky",
    scheduler: str | None = None,
) -> SweepResult:
    """Train the task of ``base`` for every (hidden layers, seed) and save each as a run.

    Each point trains with ``base`` where only the network's (for recommendations, the
    ranker's) ``hidden_layers`` and ``random_state`` (the seed) are replaced. Purchase
    prediction builds its feature tables once, for all points: where the stacked training
    windows exceed the row limit, the rows kept are drawn with ``base``'s seed, so every point
    learns from the same rows. A recommender is always evaluated; its seed also drives the
    negative sampling and the random baseline, as in a single training.

    Args:
        shop: the loaded data; every run records it.
        store: where the runs are saved.
        base: the other settings: ``PurchaseSettings`` or ``RecommendSettings``.
        hidden: the hidden-layer configurations, e.g. ``[(32,), (64, 32)]``.
        seeds: the seeds, each trained with every configuration.
        jobs: trainings run at once, at least 1 (default: one per CPU with ``loky``, one per
            worker thread of the cluster with ``dask``); with ``loky``, 1 trains in this
            process.
        on_done: called after each run is saved with (runs done, total, the run), in the
            order the trainings finish.
        should_stop: asked before each training starts; once it answers True no training
            starts any more, those under way finish (each saved as usual) and the result is
            marked stopped.
        name_prefix: put before each run's name ``sweep 64,32 seed 1``.
        tags: the runs' tags.
        backend: ``loky`` (local worker processes) or ``dask`` (the cluster at ``scheduler``).
        scheduler: the Dask scheduler's address, ``tcp://HOST:PORT`` (``dask`` only).

    Returns:
        the finished runs in configuration/seed order and the best by the task's headline
        score (the lowest MLP ``mse`` for purchase prediction, the highest ``ndcg`` at k for
        recommendations).

    Raises:
        SweepError: for an empty or too large sweep, a bad seed, ``jobs`` below 1, or a Dask
            scheduler that is missing, malformed or does not answer.
        CutoffError: when the cutoff leaves no room for training or evaluation.
    """
    points = _check(hidden, seeds, jobs=jobs, name_prefix=name_prefix, tags=tags)
    if backend != "dask" and scheduler is not None:
        raise SweepError("A scheduler address is for the dask backend; add --backend dask.")
    # Connected before the data is prepared: an unreachable scheduler fails at once.
    pool = _DaskPool(check_scheduler(scheduler), jobs) if backend == "dask" else _LokyPool(jobs)
    try:
        data: PurchaseData | None = None
        if isinstance(base, services.PurchaseSettings):
            task = "purchase"
            data = services.prepare_purchase(shop, base)
        else:
            task = "recommend"
            events = shop.events.frame
            base = dataclasses.replace(base, evaluate=True)  # its cutoff is the evaluation's
            check_cutoff(events, base.cutoff_for(events), base.horizon_days)
        tasks = [
            (index, shop, _with_point(base, point), store, run_name(point, name_prefix), tags, data)
            for index, point in enumerate(points)
        ]
        runs, stopped = _run(tasks, points, pool=pool, on_done=on_done, should_stop=should_stop)
    finally:
        pool.release()
    return _result(runs, m.HEADLINE[task], stopped=stopped, points=len(points))


def run_name(point: SweepPoint, prefix: str = "") -> str:
    """``<prefix> sweep 64,32 seed 1``."""
    return " ".join(part for part in (prefix.strip(), "sweep", point.label) if part)


# --- internals ----------------------------------------------------------------------------


def check_scheduler(scheduler: str | None) -> str:
    """A Dask scheduler's address as ``tcp://HOST:PORT`` (or ``tls://``).

    Raises:
        SweepError: one line, when it is missing or malformed.
    """
    if scheduler is None:
        raise SweepError(
            "The dask backend needs the scheduler's address; add --scheduler tcp://HOST:PORT."
        )
    if not _SCHEDULER.fullmatch(scheduler.strip()):
        raise SweepError(
            f"Scheduler '{shown(scheduler)}' is not a Dask scheduler address; write it as "
            "tcp://HOST:PORT."
        )
    return scheduler.strip()


def _check(
    hidden: Sequence[tuple[int, ...]],
    seeds: Sequence[int],
    *,
    jobs: int | None,
    name_prefix: str,
    tags: tuple[str, ...],
) -> tuple[SweepPoint, ...]:
    """The points, after every check that can fail before anything is trained."""
    if jobs is not None and jobs < 1:
        raise SweepError(f"The number of parallel jobs must be at least 1 (got {jobs}).")
    points = sweep_points(hidden, seeds)
    longest = max(points, key=lambda p: len(run_name(p, name_prefix)))
    clean_name(run_name(longest, name_prefix))
    clean_tags(list(tags))
    return points


def _with_point(base: Settings, point: SweepPoint) -> Settings:
    """``base`` with the point's hidden layers and seed."""
    if isinstance(base, services.PurchaseSettings):
        network = base.network
        return dataclasses.replace(base, network=_with_layers(network, point))
    config = dataclasses.replace(base.config, network=_with_layers(base.config.network, point))
    return dataclasses.replace(base, config=config)


def _with_layers(network: NetworkConfig, point: SweepPoint) -> NetworkConfig:
    return dataclasses.replace(network, hidden_layers=point.hidden_layers, random_state=point.seed)


PointTask = tuple[int, ShopData, Settings, RunStore, str, tuple[str, ...], PurchaseData | None]
PointOutcome = tuple[int, str, dict[str, float | None], float]
# Thread-pool variables of numerical libraries, set in each worker before it imports them.
_THREAD_VARIABLES: Final = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def _point(
    index: int,
    shop: ShopData,
    settings: Settings,
    store: RunStore,
    name: str,
    tags: tuple[str, ...],
    data: PurchaseData | None,
) -> PointOutcome:
    """One point in a worker: the task's training service, saving its own run."""
    started = time.perf_counter()
    result: services.PurchaseResult | services.RecommendResult
    if isinstance(settings, services.PurchaseSettings):
        result = services.train_purchase(shop, settings, store, data=data, name=name, tags=tags)
    else:
        result = services.train_recommender(shop, settings, store, name=name, tags=tags)
    assert result.evaluation is not None
    return index, _saved(result), _mlp_scores(result.evaluation.scores), _since(started)


def _saved(result: services.PurchaseResult | services.RecommendResult) -> str:
    if result.run_id is None:
        raise RunWriteError(result.save_problem or "The run could not be saved.")
    return result.run_id


def _mlp_scores(scores: pd.DataFrame) -> dict[str, float | None]:
    return dict(scores_to_metrics(scores)[m.MLP])


def _since(started: float) -> float:
    return time.perf_counter() - started


class _LokyPool:
    """Local worker processes (joblib's loky), one pool per sweep; with one worker, the
    trainings run in this process, as a single training does."""

    def __init__(self, jobs: int | None) -> None:
        self.jobs = jobs if jobs is not None else cpu_count()
        self._executor: Any = None

    def start(self, total: int) -> int:
        """Start the workers for ``total`` trainings; returns how many run at once (0: none,
        the trainings run in this process)."""
        workers = min(self.jobs, total)
        if workers == 1:
            return 0
        self._executor = ProcessPoolExecutor(max_workers=workers, env=_worker_env(workers))
        return workers

    @property
    def executor(self) -> Executor:
        assert self._executor is not None
        return self._executor

    def abort(self) -> None:
        """Cut the trainings under way short (after a failure or an interrupt)."""
        self._executor.shutdown(wait=True, kill_workers=True)

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    def release(self) -> None:
        """Nothing is held once the pool is closed."""


class _DaskPool:
    """The workers of a Dask cluster, through the client's ``concurrent.futures`` executor.

    Not joblib's dask backend: like joblib's ``Parallel`` on loky, it takes trainings ahead of
    the free workers (queued on the scheduler, they would start after a Stop). Here a training
    is sent only when a worker thread is free, so Stop works as it does locally.
    """

    def __init__(self, scheduler: str, jobs: int | None) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise SweepError(
                "The dask backend needs distributed, which is not installed; run pip install "
                "-r requirements-cluster.txt."
            ) from None
        host, _, port = scheduler.split("://", 1)[1].rpartition(":")
        try:
            # A plain connection first: a closed port answers at once, where the client
            # would keep retrying until its timeout.
            socket.create_connection((host, int(port)), timeout=_CONNECT_SECONDS).close()
            self._client: Any = Client(scheduler, timeout=_CONNECT_SECONDS)
        except (OSError, TimeoutError):
            raise SweepError(
                f"The Dask scheduler {scheduler} does not answer (tried for "
                f"{_CONNECT_SECONDS} s); check the address and that the scheduler is running."
            ) from None
        self.jobs = jobs
        self._executor: Any = None

    def start(self, total: int) -> int:
        threads = sum(self._client.nthreads().values())
        if threads < 1:
            raise SweepError(
                "The Dask cluster has no workers; start some (dask worker SCHEDULER) and "
                "sweep again."
            )
        self._executor = self._client.get_executor(pure=False)
        return min(threads if self.jobs is None else self.jobs, threads, total)

    @property
    def executor(self) -> Executor:
        return self._executor

    def abort(self) -> None:
        self._executor.shutdown(wait=False)  # cancels what has not finished

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    def release(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        self._client.close()


def _run(
    tasks: Sequence[PointTask],
    points: tuple[SweepPoint, ...],
    *,
    pool: _LokyPool | _DaskPool,
    on_done: OnDone | None,
    should_stop: ShouldStop | None,
) -> tuple[tuple[SweepRun, ...], bool]:
    """The finished runs in point order, and whether the sweep was stopped before every point
    started.

    A training starts only while ``should_stop`` answers False, so Stop ends the sweep after
    the trainings under way. joblib's ``Parallel`` cannot do this: it takes tasks from the
    input ahead of the free workers (so more trainings start after a Stop), and leaving its
    generator early kills the workers of the process-wide executor, trainings of other sweeps
    included. So each sweep has its own pool and starts a training only when a worker is free.
    """
    total = len(tasks)
    done: dict[int, SweepRun] = {}

    def finished(outcome: PointOutcome) -> None:
        index, run_id, scores, seconds = outcome
        point = points[index]
        run = SweepRun(
            run_id=run_id,
            hidden_layers=point.hidden_layers,
            seed=point.seed,
            metrics=scores,
            train_seconds=seconds,
        )
        done[index] = run
        if on_done is not None:
            on_done(len(done), total, run)

    def stopping() -> bool:
        return should_stop is not None and should_stop()

    started = 0
    workers = pool.start(total)
    if workers == 0:  # in this process, as a single training runs
        while started < total and not stopping():
            finished(_point(*tasks[started]))
            started += 1
    else:
        try:
            running: set[Future[PointOutcome]] = set()
            while True:
                while started < total and len(running) < workers and not stopping():
                    running.add(pool.executor.submit(_point, *tasks[started]))
                    started += 1
                if not running:
                    break
                ended, running = wait(running, return_when=FIRST_COMPLETED)
                for future in ended:
                    finished(future.result())
        except BaseException:
            # A failed training (or an interrupt) ends the sweep: the others are cut short,
            # unsaved (a save is renamed into place last, so none is left half-written).
            pool.abort()
            raise
        pool.close()
    runs = tuple(done[index] for index in sorted(done))
    return runs, started < total


def _worker_env(workers: int) -> dict[str, str]:
    """Each worker's share of the cores for its numerical libraries, unless already set."""
    threads = str(max(1, cpu_count() // workers))
    return {name: os.environ.get(name, threads) for name in _THREAD_VARIABLES}


def _result(runs: tuple[SweepRun, ...], metric: str, *, stopped: bool, points: int) -> SweepResult:
    """The best run by ``metric``; runs without a finite score are never preferred."""
    direction = 1.0 if m.lower_is_better(metric) else -1.0

    def key(run: SweepRun) -> float:
        value = run.metrics.get(metric)
        if value is None or not math.isfinite(value):
            return math.inf
        return direction * value

    best = min(runs, key=key).run_id if runs else None
    return SweepResult(runs, best, metric, stopped=stopped, points=points)
