"""The one background trainer every model page and the Runs page's sweeps use.

A training runs on a worker thread of the server, not on the page's script: switching pages,
rerunning or refreshing the browser does not touch it. Its job is server-wide and named in the
page's URL (``?training=<id>``), so the page it was started from re-attaches to it after a
refresh and shows its progress again; Stop asks it to end after the current epoch, keeping the
best epoch. The training service saves the run itself, so a training whose session is gone is
still kept, and one cut short (by Stop, or by the server shutting down) is saved as stopped.

The server has a line of training slots (``SHOPLENS_TRAINING_SLOTS``): a job waits in line for
one, later ones wait behind it. A sweep waits like a training, then also takes the slots free at
that moment (up to its width) and trains that many runs at once; Stop ends it after the
trainings under way. Only core code runs on the worker threads.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import plotly.graph_objects as go
import streamlit as st

from core import plotting, sweep
from core.config import load_settings
from core.errors import ShopLensError
from core.ml import charts as ml_charts
from core.ml.network import EpochReport, NetworkConfig, TrainingProgress
from core.services import TrainingCancelledError
from ui import untrusted

TRAINING_QUERY: Final = "training"  # the URL's query parameter naming a page's training
POLL_SECONDS: Final = 0.25
LIVE_CHART_SECONDS: Final = 0.5  # redraw live curves at most twice a second
KEEP_FINISHED_SECONDS: Final = 3600.0  # a finished job waits this long to be collected
SHUTDOWN_WAIT_SECONDS: Final = 60.0
# The server-wide line of trainings: as many run at once as there are slots (a setting).
SLOT_COUNT: Final = load_settings().training_slots
_SLOTS = threading.BoundedSemaphore(SLOT_COUNT)
_LOCK = threading.Lock()
_JOBS: dict[str, TrainingJob] = {}
SWEEP_PAGE: Final = "sweep"  # the Runs page's sweeps: their jobs report trainings done


@dataclass(eq=False)
class TrainingJob:
    """One training (or sweep of trainings) on a worker thread, as the pages see it.

    Attributes:
        job_id: unguessable id, named in the URL of the page that started it.
        page: the page it belongs to (``purchase``, ``recs`` or ``sweep``).
        label: what is trained, in a few words.
        settings: what the training was asked for (shown again on re-attaching).
        width: the most slots of the line it may use at once (at least 1).
        progress: the latest progress the training reported (None before it starts).
        slots: the slots it holds while it runs (0 while it waits and after it ends).
    """

    job_id: str
    page: str
    label: str
    settings: Any = None
    width: int = 1
    progress: TrainingProgress | None = None
    slots: int = 0
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    result: Any = None
    error: ShopLensError | None = None
    waiting: bool = True
    _stop: threading.Event = field(default_factory=threading.Event)
    _done: threading.Event = field(default_factory=threading.Event)

    @property
    def running(self) -> bool:
        """The training has not ended yet (it may still wait for a free slot)."""
        return not self._done.is_set()

    @property
    def stopping(self) -> bool:
        """Stop was pressed."""
        return self._stop.is_set()

    @property
    def seconds(self) -> float:
        """Seconds from Train to the end of the work (or to now while it runs)."""
        return (self.ended or time.monotonic()) - self.started

    @property
    def noun(self) -> str:
        """``training`` or ``sweep``, for the texts that speak of it: a training reports
        epochs, a sweep the trainings it has done."""
        return "sweep" if self.page == SWEEP_PAGE else "training"

    def request_stop(self) -> None:
        """Ask the training to stop after its current epoch, or a sweep after its trainings
        under way (the Stop button's callback)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the training has ended; False when ``timeout`` passed first."""
        return self._done.wait(timeout)

    def report(self, progress: TrainingProgress) -> bool | None:
        """The progress callback of the work (an ``OnProgress``): keeps ``progress`` for the
        page and answers False once Stop was pressed."""
        self.progress = progress
        return False if self._stop.is_set() else None

    def _run(self, work: Work) -> None:
        try:
            while not _SLOTS.acquire(timeout=POLL_SECONDS):
                if self._stop.is_set():  # cancelled while waiting in line
                    raise TrainingCancelledError(
                        f"{self.noun.capitalize()} was cancelled while it waited for a free "
                        "slot; nothing was trained."
                    )
            held = 1
            # Only the slots free right now: a wide job never waits for more.
            while held < self.width and _SLOTS.acquire(blocking=False):
                held += 1
            try:
                self.slots, self.waiting = held, False
                self.result = work(self)
            finally:
                self.slots = 0
                for _ in range(held):
                    _SLOTS.release()
        except ShopLensError as err:  # a user's error; anything else is a bug and is raised
            self.error = err
        finally:
            self.ended = time.monotonic()
            self._done.set()


# What a job runs on its worker thread, given its job: ``job.report`` is the progress callback,
# ``job.slots`` the slots it holds and ``job.stopping`` whether Stop was pressed.
Work = Callable[[TrainingJob], Any]


def _forget_old_jobs() -> None:
    now = time.monotonic()
    for job_id, job in list(_JOBS.items()):
        if job.ended is not None and now - job.ended > KEEP_FINISHED_SECONDS:
            del _JOBS[job_id]


def session_key(page: str) -> str:
    """The session-state key naming the training this session follows on ``page``."""
    return f"{page}.training"


def current(page: str, *, on_reattach: Callable[[Any], None] | None = None) -> TrainingJob | None:
    """The training this session follows on ``page``: the one it started, or the one named in
    the URL after a refresh, which this session then follows (``on_reattach`` is then given
    its settings, to show them in the page's form)."""
    followed = st.session_state.get(session_key(page))
    job_id = followed or st.query_params.get(TRAINING_QUERY)
    with _LOCK:
        job = _JOBS.get(str(job_id)) if job_id else None
    if job is None or job.page != page:
        st.session_state.pop(session_key(page), None)
        return None
    if not followed and on_reattach is not None and job.settings is not None:
        on_reattach(job.settings)
    _attach(job)
    return job


def _attach(job: TrainingJob) -> None:
    st.session_state[session_key(job.page)] = job.job_id
    st.query_params[TRAINING_QUERY] = job.job_id


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
    with _LOCK:
        running = _JOBS.get(str(st.session_state.get(session_key(page))))
        if running is not None and running.running:
            return running
        _forget_old_jobs()
        job = TrainingJob(secrets.token_urlsafe(12), page, label, settings, width=max(1, width))
        _JOBS[job.job_id] = job
    threading.Thread(
        target=job._run, args=(work,), name=f"shoplens-{page}-{job.noun}", daemon=True
    ).start()
    _attach(job)
    st.rerun()  # drawn again, the page's form shows Train disabled while this one runs


def collect(job: TrainingJob) -> Any:
    """The result of a finished training, once: the page stops following it. Its error (or
    a Stop before it started) is shown as one line and ``None`` returned."""
    st.session_state.pop(session_key(job.page), None)
    if st.query_params.get(TRAINING_QUERY) == job.job_id:
        del st.query_params[TRAINING_QUERY]
    with _LOCK:
        _JOBS.pop(job.job_id, None)
    if job.error is not None:
        st.error(untrusted.error_text(job.error))
        return None
    return job.result


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
    return collect(job)


def network_label(network: NetworkConfig) -> str:
    """A training's label: ``64,32 seed 0``."""
    return sweep.training_label(network.hidden_layers, network.random_state)


# --- following a training on its page --------------------------------------------------------


def waiting_text(job: TrainingJob) -> str:
    """Where a waiting training stands in the server's line, and how to leave it."""
    jobs = list(_JOBS.values())
    ahead = sum(j.waiting for j in jobs if j.started < job.started)
    busy = sum(j.slots for j in jobs if j.running)
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
    stop = st.empty()
    stop.button("Stop", key=stop_key, icon="⏹️", on_click=job.request_stop, help=stop_help)
    bar = st.progress(0.0, text="Starting…")
    columns = st.columns(2)
    slots: dict[str, Any] = {}
    drawn_epoch, drawn_at = 0, -math.inf
    while not job.wait(POLL_SECONDS):
        fraction, text = _status(job, epoch_text, stopping_text)
        bar.progress(fraction, text=text)
        progress = job.progress
        if (
            progress is not None
            and progress.epoch != drawn_epoch
            and progress.networks
            and time.monotonic() - drawn_at >= LIVE_CHART_SECONDS
        ):
            drawn_epoch, drawn_at = progress.epoch, time.monotonic()
            for report in progress.networks:
                if report.task not in slots:
                    slots[report.task] = columns[len(slots) % 2].empty()
                figure = curves(report) if curves is not None else _curves(report)
                slots[report.task].plotly_chart(
                    figure, key=f"{stop_key}.live.{report.task}.{report.epoch}"
                )
    for element in (stop, bar, *slots.values()):
        element.empty()
    st.rerun()


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
    job = _JOBS.get(str(st.session_state.get(session_key(page))))
    return job if job is not None and job.running else None


def running_jobs() -> dict[str, TrainingJob]:
    """This session's trainings and sweeps still running, by page."""
    return {page: job for page in PAGE_TITLES if (job := running(page)) is not None}


def job_by_id(job_id: str) -> TrainingJob | None:
    """A training of the server by its id (None once it was collected)."""
    with _LOCK:
        return _JOBS.get(job_id)


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


def _stop_all_on_exit() -> None:
    """When the server shuts down, trainings are cut short and saved as stopped.

    It runs among the threading module's exit calls, before the standard library's thread
    pools refuse new work (a plain ``atexit`` call would run after them, and saving the run's
    data, which uses such a pool, would fail)."""
    jobs = [job for job in list(_JOBS.values()) if job.running]
    for job in jobs:
        job.request_stop()
    deadline = time.monotonic() + SHUTDOWN_WAIT_SECONDS
    for job in jobs:
        job.wait(max(0.0, deadline - time.monotonic()))


threading._register_atexit(_stop_all_on_exit)  # type: ignore[attr-defined]
