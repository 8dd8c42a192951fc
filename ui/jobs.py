"""Work on worker threads of the server, as the pages see it: trainings, sweeps and ingests.

A job runs on a worker thread, not on the page's script: switching pages, rerunning or
refreshing the browser does not touch it. Every job of the server is in one table and named in
the URL of the page that started it (each kind of job by its own query parameter, e.g.
``?training=<id>``), so that page re-attaches to it after a refresh and shows its progress again.
Stop asks the work to end at its next progress report.

Each kind of job waits in its own line of the server (the trainings' slots, the big loads): a job
waits for a place, later ones wait behind it, and a wide job then also takes the places free at
that moment. A finished job is kept until its page collects it, or for an hour. When the server
shuts down, every job is asked to stop and given a minute to end. Only core code runs on the
worker threads.
"""

from __future__ import annotations

import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Generic, Self, TypeVar

import streamlit as st

from core.errors import ShopLensError
from ui import untrusted

P = TypeVar("P")  # the progress a kind of work reports
R = TypeVar("R")  # what it gives once it has ended
J = TypeVar("J", bound="Job[Any, Any]")

POLL_SECONDS: Final = 0.25
KEEP_FINISHED_SECONDS: Final = 3600.0  # a finished job waits this long to be collected
SHUTDOWN_WAIT_SECONDS: Final = 60.0
_LOCK = threading.Lock()
_JOBS: dict[str, Job[Any, Any]] = {}


@dataclass(eq=False)
class Job(ABC, Generic[P, R]):
    """One piece of work on a worker thread. A kind of work is a subclass: it names its URL
    query parameter, the line it waits in and what a Stop while it waits means.

    Attributes:
        job_id: unguessable id, named in the URL of the page that started it.
        page: the page it belongs to; a session follows at most one job per page.
        label: what it works on, in a few words.
        settings: what it was asked for (shown again on re-attaching).
        width: the most places of its line it may hold at once (at least 1).
        progress: the latest progress the work reported (None before the first report).
        slots: the places it holds while it runs (0 while it waits and after it ends).
        waiting: it waits for a place in its line.
        result: what the work gave, once it has ended without an error.
        error: why it ended without a result (a Stop while it waited included).
    """

    QUERY: ClassVar[str]  # the URL's query parameter naming a page's job of this kind

    job_id: str
    page: str
    label: str
    settings: Any = None
    width: int = 1
    progress: P | None = None
    slots: int = 0
    waiting: bool = True
    result: R | None = None
    error: ShopLensError | None = None
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _done: threading.Event = field(default_factory=threading.Event)

    @property
    @abstractmethod
    def line(self) -> threading.BoundedSemaphore:
        """The server's line this kind of job waits in: a place each."""

    @abstractmethod
    def left_line_error(self) -> ShopLensError:
        """The error of a job stopped while it waited in line, before any work."""

    def finish(self) -> None:
        """Called on the worker thread as the job ends, however it ended, before anyone
        waiting for it is woken (to remove what the work was given, say)."""

    @property
    def running(self) -> bool:
        """The job has not ended yet (it may still wait in line)."""
        return not self._done.is_set()

    @property
    def stopping(self) -> bool:
        """Stop (or Cancel) was pressed."""
        return self._stop.is_set()

    @property
    def seconds(self) -> float:
        """Seconds from the start to the end of the work (or to now while it runs)."""
        return (self.ended or time.monotonic()) - self.started

    def request_stop(self) -> None:
        """Ask the work to end at its next progress report (the Stop button's callback)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has ended; False when ``timeout`` passed first."""
        return self._done.wait(timeout)

    def report(self, progress: P) -> bool | None:
        """The work's progress callback: keeps ``progress`` for the page and answers False
        once Stop was pressed."""
        self.progress = progress
        return False if self._stop.is_set() else None

    def _run(self, work: Callable[[Self], R]) -> None:
        line = self.line
        try:
            held = self._take_places(line)
            try:
                self.slots, self.waiting = held, False
                self.result = work(self)
            finally:
                self.slots = 0
                for _ in range(held):
                    line.release()
        except ShopLensError as err:  # a user's error; anything else is a bug and is raised
            self.error = err
        finally:
            self.finish()
            self.ended = time.monotonic()
            self._done.set()

    def _take_places(self, line: threading.BoundedSemaphore) -> int:
        while not line.acquire(timeout=POLL_SECONDS):
            if self.stopping:
                raise self.left_line_error()
        held = 1
        # Only the places free right now: a wide job never waits for more.
        while held < self.width and line.acquire(blocking=False):
            held += 1
        return held


def new_id() -> str:
    """An unguessable job id."""
    return secrets.token_urlsafe(12)


def session_key(page: str) -> str:
    """The session-state key naming the job this session follows on ``page``."""
    return f"{page}.job"


def start(job: J, work: Callable[[J], Any]) -> J:
    """Run ``work`` for ``job`` on a worker thread; this session's page and URL follow it."""
    with _LOCK:
        _forget_old_jobs()
        _JOBS[job.job_id] = job
    threading.Thread(
        target=job._run, args=(work,), name=f"shoplens-{job.page}", daemon=True
    ).start()
    _attach(job)
    return job


def _forget_old_jobs() -> None:
    now = time.monotonic()
    for job_id, job in list(_JOBS.items()):
        if job.ended is not None and now - job.ended > KEEP_FINISHED_SECONDS:
            del _JOBS[job_id]


def _attach(job: Job[Any, Any]) -> None:
    st.session_state[session_key(job.page)] = job.job_id
    st.query_params[job.QUERY] = job.job_id


def find(kind: type[J], job_id: str | None) -> J | None:
    """The job of the server of ``kind`` with this id (None once it was collected)."""
    with _LOCK:
        job = _JOBS.get(job_id) if job_id else None
    return job if isinstance(job, kind) else None


def followed(kind: type[J], page: str) -> J | None:
    """The job of ``kind`` this session follows on ``page``, if any (ended or not)."""
    return find(kind, st.session_state.get(session_key(page)))


def current(
    kind: type[J], page: str, *, on_reattach: Callable[[Any], None] | None = None
) -> J | None:
    """The job of ``kind`` this session follows on ``page``: the one it started, or the one
    named in the URL after a refresh, which this session then follows (``on_reattach`` is
    then given its settings, to show them in the page's form)."""
    following = st.session_state.get(session_key(page))
    job = find(kind, following or st.query_params.get(kind.QUERY))
    if job is None or job.page != page:
        st.session_state.pop(session_key(page), None)
        return None
    if not following and on_reattach is not None and job.settings is not None:
        on_reattach(job.settings)
    _attach(job)
    return job


def collect(job: Job[Any, R]) -> R | None:
    """The result of a finished job, once: the page stops following it and the server forgets
    it. Its error is shown as one line and ``None`` returned."""
    st.session_state.pop(session_key(job.page), None)
    if st.query_params.get(job.QUERY) == job.job_id:
        del st.query_params[job.QUERY]
    with _LOCK:
        _JOBS.pop(job.job_id, None)
    if job.error is not None:
        st.error(untrusted.error_text(job.error))
        return None
    return job.result


def place_in_line(job: Job[Any, Any]) -> tuple[int, int]:
    """Where a waiting job stands in its line: the jobs ahead of it still waiting, and the
    places of the line held by running jobs."""
    with _LOCK:
        line = [j for j in _JOBS.values() if j.line is job.line and j.running]
    ahead = sum(j.waiting for j in line if j.started < job.started)
    return ahead, sum(j.slots for j in line)


def show_progress(
    job: J,
    *,
    status: Callable[[J], tuple[float, str]],
    stop_label: str,
    stop_key: str,
    stop_help: str | None = None,
    on_poll: Callable[[J], None] | None = None,
) -> None:
    """While ``job`` runs, the page's script waits here with a Stop button and a progress bar
    (its share and text from ``status``), redrawn with ``on_poll`` at every poll; the button
    and the bar are removed once it has ended."""
    stop = st.empty()
    stop.button(stop_label, key=stop_key, icon="⏹️", on_click=job.request_stop, help=stop_help)
    bar = st.progress(0.0, text="Starting…")
    while not job.wait(POLL_SECONDS):
        bar.progress(*status(job))
        if on_poll is not None:
            on_poll(job)
    stop.empty()
    bar.empty()


def _stop_all_on_exit() -> None:
    """When the server shuts down, jobs are asked to stop (a training cut short is saved as
    stopped, an ingest keeps nothing) and given a minute to end.

    It runs among the threading module's exit calls, before the standard library's thread
    pools refuse new work (a plain ``atexit`` call would run after them, and saving a run's
    data, which uses such a pool, would fail)."""
    with _LOCK:
        running = [job for job in _JOBS.values() if job.running]
    for job in running:
        job.request_stop()
    deadline = time.monotonic() + SHUTDOWN_WAIT_SECONDS
    for job in running:
        job.wait(max(0.0, deadline - time.monotonic()))


threading._register_atexit(_stop_all_on_exit)  # type: ignore[attr-defined]
