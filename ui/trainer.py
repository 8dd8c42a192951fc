"""The one background trainer every model page and the Runs page's sweeps use.

A training is a job of the server (``ui.jobs``): it runs on a worker thread, goes on when the
page is left or refreshed, and is named in the page's URL (``?training=<id>``), so the page it
was started from re-attaches to it after a refresh and shows its progress again. Stop asks it to
end after the current epoch, keeping the best epoch. The training service saves the run itself,
so a training whose session is gone is still kept, and one cut short (by Stop, or by the server
shutting down) is saved as stopped.

The server has a line of training slots (``SHOPLENS_TRAINING_SLOTS``): a job waits in line for
one, later ones wait behind it. A sweep waits like a training, then also takes the slots free at
that moment (up to its width) and trains that many runs at once; Stop ends it after the
trainings under way.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Final

import plotly.graph_objects as go
import streamlit as st

from core import plotting, sweep
from core.config import load_settings
from core.errors import ShopLensError
from core.ml import charts as ml_charts
from core.ml.network import EpochReport, NetworkConfig, TrainingProgress
from core.services import TrainingCancelledError
from ui import jobs

LIVE_CHART_SECONDS: Final = 0.5  # redraw live curves at most twice a second
# The server-wide line of trainings: as many run at once as there are slots (a setting).
SLOT_COUNT: Final = load_settings().training_slots
_SLOTS = threading.BoundedSemaphore(SLOT_COUNT)
SWEEP_PAGE: Final = "sweep"  # the Runs page's sweeps: their jobs report trainings done


@dataclass(eq=False)
class TrainingJob(jobs.Job[TrainingProgress, Any]):
    """One training (or sweep of trainings) on a worker thread, as the pages see it: it waits
    for the server's training slots and reports epochs (a sweep: the trainings done). Its page
    is ``purchase``, ``recs``, ``images`` or ``sweep``."""

    QUERY: ClassVar[str] = "training"

    @property
    def line(self) -> threading.BoundedSemaphore:
        """The server's training slots."""
        return _SLOTS

    @property
    def noun(self) -> str:
        """``training`` or ``sweep``, for the texts that speak of it: a training reports
        epochs, a sweep the trainings it has done."""
        return "sweep" if self.page == SWEEP_PAGE else "training"

    def left_line_error(self) -> ShopLensError:
        """Stop was pressed while the job waited for a slot."""
        return TrainingCancelledError(
            f"{self.noun.capitalize()} was cancelled while it waited for a free slot; nothing "
            "was trained."
        )


# What a job runs on its worker thread, given its job: ``job.report`` is the progress callback,
# ``job.slots`` the slots it holds and ``job.stopping`` whether Stop was pressed.
Work = Callable[[TrainingJob], Any]


def current(page: str, *, on_reattach: Callable[[Any], None] | None = None) -> TrainingJob | None:
    """The training this session follows on ``page``, re-attached from the URL after a refresh
    (``on_reattach`` is then given its settings, to show them in the page's form)."""
    return jobs.current(TrainingJob, page, on_reattach=on_reattach)


def start(
    page: str,
    label: str,
    settings: Any,
    work: Work,
    *,
    width: int = 1,
) -> TrainingJob:
    """Start ``work`` on a worker thread for this session's ``page`` and draw the page again,
    unless a training of this session is still running there (then that one is returned: one
    training per page).

    Args:
        page: the page the training belongs to.
        label: what is trained, in a few words (e.g. ``64,32 seed 0``).
        settings: what the training was asked for.
        work: the training service call, given its job (progress callback, slots, Stop).
        width: the most slots it may use at once; it waits for one and takes those free then.
    """
    under_way = running(page)
    if under_way is not None:
        return under_way
    jobs.start(TrainingJob(jobs.new_id(), page, label, settings, width=max(1, width)), work)
    st.rerun()  # drawn again, the page's form shows Train disabled while this one runs


def train_on_page(
    page: str,
    *,
    train: tuple[NetworkConfig, Any, Work] | None,
    job: TrainingJob | None,
    drawn_running: bool,
    stop_key: str,
    epoch_text: Callable[[TrainingProgress], str],
    stop_help: str,
    curves: Callable[[EpochReport], go.Figure] | None = None,
) -> Any:
    """A model page's training: start one when Train was pressed (``train``: the network, the
    settings and the service call) unless one is running, follow the one under way (progress,
    live curves, Stop) and return its result once it has ended (else ``None``)."""
    if train is not None and (job is None or not job.running):
        network, settings, work = train
        job = start(page, network_label(network), settings, work)
    if job is None:
        return None
    follow(
        job,
        drawn_running=drawn_running,
        stop_key=stop_key,
        epoch_text=epoch_text,
        curves=curves,
        stop_help=stop_help,
    )
    return jobs.collect(job)


def network_label(network: NetworkConfig) -> str:
    """A training's label: ``64,32 seed 0``."""
    return sweep.training_label(network.hidden_layers, network.random_state)


# --- following a training on its page --------------------------------------------------------


def waiting_text(job: TrainingJob) -> str:
    """Where a waiting training stands in the server's line, and how to leave it."""
    ahead, busy = jobs.place_in_line(job)
    return (
        f"Waiting in line: place {ahead + 1} ({ahead} training{'s' * (ahead != 1)} ahead, "
        f"{busy} of {SLOT_COUNT} slot{'s' * (SLOT_COUNT != 1)} in use); it starts by "
        "itself, or press Stop to leave the line."
    )


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "a moment"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


STOPPING_TEXT: Final = "Stopping after this epoch, then scoring every model with the best epochs…"


def _status(
    job: TrainingJob,
    epoch_text: Callable[[TrainingProgress], str],
    stopping_text: str = STOPPING_TEXT,
) -> tuple[float, str]:
    progress = job.progress
    if job.waiting:
        if job.stopping:
            return 0.0, f"Cancelling: this {job.noun} leaves the line without training."
        return 0.0, waiting_text(job)
    if job.stopping:
        return 1.0, stopping_text
    if progress is None or progress.stage == "preparing":
        return 0.0, f"Preparing the training data ({job.seconds:.0f} s)…"
    if progress.stage == "embedding":
        done, total = progress.epoch, max(progress.epochs, 1)
        return done / total, f"Reading the photos' features: {done:,} of {total:,} photos…"
    if progress.stage == "scoring":
        return 1.0, "Scoring every model on the evaluation window…"
    if progress.stage == "saving":
        return 1.0, "Saving the run…"
    left = f" · {time_left(progress)}" if progress.epoch else ""  # no estimate before one
    return min(progress.epoch / max(progress.epochs, 1), 1.0), f"{epoch_text(progress)}{left}"


def time_left(progress: TrainingProgress) -> str:
    """The time left at the epoch limit and, with early stopping, how soon it may end."""
    most = progress.seconds_left
    soonest = progress.seconds_left_soonest
    if soonest is None:
        return f"about {_duration(most)} left"
    if soonest >= most:
        return f"about {_duration(most)} left"
    return (
        f"up to {_duration(most)} left, usually less: as little as {_duration(soonest)} if the "
        "validation score stops improving"
    )


def follow(
    job: TrainingJob,
    *,
    drawn_running: bool,
    stop_key: str,
    epoch_text: Callable[[TrainingProgress], str],
    curves: Callable[[EpochReport], go.Figure] | None = None,
    stop_help: str = "End training now and keep the best epoch so far.",
    stopping_text: str = STOPPING_TEXT,
) -> None:
    """While ``job`` runs: a Stop button, a progress bar and each network's live curves, until
    it ends; then the page is drawn again to show the result. Switching pages leaves it running.

    Args:
        job: the training to follow.
        drawn_running: the page's form was drawn while it ran (Train disabled), so the page
            is drawn again once it has ended.
        stop_key: the Stop button's widget key.
        epoch_text: the progress text for an epoch, e.g. ``Epoch 3 of at most 200`` (for a
            sweep: of the trainings done).
        curves: a network's live figure (default: its training curves).
        stop_help: the Stop button's tooltip.
        stopping_text: the progress text once Stop was pressed.
    """
    if not job.running:
        if drawn_running:
            st.rerun()
        return
    live = _LiveCurves(stop_key, curves or _curves)
    jobs.show_progress(
        job,
        status=lambda job: _status(job, epoch_text, stopping_text),
        stop_label="Stop",
        stop_key=stop_key,
        stop_help=stop_help,
        on_poll=live.draw,
    )
    live.clear()
    st.rerun()


class _LiveCurves:
    """Each network's curves while it trains, two side by side under the progress bar,
    redrawn at most every ``LIVE_CHART_SECONDS`` and only after a new epoch."""

    def __init__(self, key: str, curves: Callable[[EpochReport], go.Figure]) -> None:
        self._key, self._curves = key, curves
        self._columns: list[Any] = []  # made at the first drawing, so below the bar
        self._charts: dict[str, Any] = {}
        self._epoch, self._at = 0, -math.inf

    def draw(self, job: TrainingJob) -> None:
        progress = job.progress
        if (
            progress is None
            or progress.epoch == self._epoch
            or not progress.networks
            or time.monotonic() - self._at < LIVE_CHART_SECONDS
        ):
            return
        self._epoch, self._at = progress.epoch, time.monotonic()
        self._columns = self._columns or list(st.columns(2))
        for report in progress.networks:
            if report.task not in self._charts:
                self._charts[report.task] = self._columns[len(self._charts) % 2].empty()
            self._charts[report.task].plotly_chart(
                self._curves(report), key=f"{self._key}.live.{report.task}.{report.epoch}"
            )

    def clear(self) -> None:
        for chart in self._charts.values():
            chart.empty()


def _curves(report: EpochReport) -> go.Figure:
    return plotting.legend_below(
        ml_charts.training_curves_line(
            report.curves, task=report.task, best_epoch=report.best_epoch
        )
    )


PAGE_TITLES: Final = {
    "purchase": "Purchase prediction",
    "recs": "Recommendations",
    "images": "Product photos",
    SWEEP_PAGE: "Runs",
}


def running(page: str) -> TrainingJob | None:
    """The training (or sweep) this session follows on ``page``, while it runs."""
    job = jobs.followed(TrainingJob, page)
    return job if job is not None and job.running else None


def running_jobs() -> dict[str, TrainingJob]:
    """This session's trainings and sweeps still running, by page."""
    return {page: job for page in PAGE_TITLES if (job := running(page)) is not None}


def sidebar_note() -> None:
    """In the sidebar of every page, this session's trainings and sweeps still running, so a
    user who left their page knows they go on (their page shows the progress)."""
    for page, job in running_jobs().items():
        st.sidebar.caption(f"⏳ {PAGE_TITLES[page]}: {note(job)}.")


def note(job: TrainingJob) -> str:
    """Where a running job stands, in a few words: ``training 64,32 seed 0, epoch 3 of at
    most 200``, or for a sweep ``sweep of 6 trainings, 2 done``."""
    progress = job.progress
    training = progress is not None and progress.stage == "training"
    if job.waiting:
        where = "waiting for a slot"
    elif job.noun == "sweep":
        where = f"{progress.epoch} done" if training and progress else "preparing"
    elif training and progress:
        where = f"epoch {progress.epoch} of at most {progress.epochs}"
    else:
        where = "preparing or scoring"
    return f"{job.noun} {job.label}, {where}"
