"""Ingesting on the Data page: files on the server, or a large upload, become a dataset.

An ingest runs on a worker thread of the server, like a training: switching pages or
refreshing the browser does not touch it. Its job is server-wide and named in the page's URL
(``?ingest=<id>``), so the Data page finds it again after a refresh and shows its progress;
Cancel stops it after the current piece and keeps nothing. Ingests wait in the server's line of
big loads, so sessions ingesting at once do not each take a load's memory at once.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from core.config import load_settings
from core.datasets.ingest import (
    IngestProgress,
    IngestReport,
    check_name,
    files_within,
    ingest,
)
from core.errors import ShopLensError
from core.runs.datasets import writer_prefix
from ui import cache, state, untrusted

INGEST_QUERY: Final = "ingest"
POLL_SECONDS: Final = 0.25
KEEP_FINISHED_SECONDS: Final = 3600.0
UPLOADS: Final = ".upload-"  # staging folders of uploads being ingested, in the data folder
_LOCK = threading.Lock()
_JOBS: dict[str, IngestJob] = {}


@dataclass(eq=False)
class IngestJob:
    """One ingest on a worker thread, as the Data page sees it.

    Attributes:
        job_id: unguessable id, named in the URL of the page that started it.
        name: the dataset it makes.
        progress: how far it has gone (None before the reading starts).
        report: the dataset's report once it is done.
        error: why it ended without a dataset (a Cancel included).
        waiting: it waits for a place in the server's line of big loads.
    """

    job_id: str
    name: str
    progress: IngestProgress | None = None
    report: IngestReport | None = None
    error: ShopLensError | None = None
    waiting: bool = True
    ended: float | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _done: threading.Event = field(default_factory=threading.Event)

    @property
    def running(self) -> bool:
        """The ingest has not ended yet (it may still wait in line)."""
        return not self._done.is_set()

    @property
    def stopping(self) -> bool:
        """Cancel was pressed."""
        return self._stop.is_set()

    def request_stop(self) -> None:
        """Stop after the current piece, keeping nothing (the Cancel button's callback)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the ingest has ended; False when ``timeout`` passed first."""
        return self._done.wait(timeout)

    def _told(self, progress: IngestProgress) -> bool | None:
        self.progress = progress
        return False if self._stop.is_set() else None

    def _run(self, sources: list[Path], products: Path | None, remove: Path | None) -> None:
        try:
            with cache.big_load_place(lambda: self._stop.is_set()) as placed:
                self.waiting = False
                if not placed:
                    raise ShopLensError(
                        "The ingest was cancelled while it waited; nothing was read."
                    )
                self.report = ingest(
                    sources,
                    name=self.name,
                    data_dir=load_settings().data_dir,
                    products=products,
                    on_progress=self._told,
                )
        except ShopLensError as err:  # a user's error; anything else is a bug and is raised
            self.error = err
        finally:
            if remove is not None:
                shutil.rmtree(remove, ignore_errors=True)
            self.ended = time.monotonic()
            self._done.set()


def _start(name: str, sources: list[Path], products: Path | None, remove: Path | None) -> None:
    with _LOCK:
        for job_id, old in list(_JOBS.items()):
            if old.ended is not None and time.monotonic() - old.ended > KEEP_FINISHED_SECONDS:
                del _JOBS[job_id]
        job = IngestJob(secrets.token_urlsafe(12), name)
        _JOBS[job.job_id] = job
    threading.Thread(
        target=job._run, args=(sources, products, remove), name="shoplens-ingest", daemon=True
    ).start()
    st.session_state[_SESSION] = job.job_id
    st.query_params[INGEST_QUERY] = job.job_id


_SESSION: Final = "data.ingest.job"


def current() -> IngestJob | None:
    """The ingest this session follows: the one it started, or the one named in the URL."""
    job_id = st.session_state.get(_SESSION) or st.query_params.get(INGEST_QUERY)
    with _LOCK:
        job = _JOBS.get(str(job_id)) if job_id else None
    if job is None:
        st.session_state.pop(_SESSION, None)
        return None
    st.session_state[_SESSION] = job.job_id
    return job


def _forget(job: IngestJob) -> None:
    st.session_state.pop(_SESSION, None)
    if st.query_params.get(INGEST_QUERY) == job.job_id:
        del st.query_params[INGEST_QUERY]
    with _LOCK:
        _JOBS.pop(job.job_id, None)


def progress_text(job: IngestJob) -> tuple[float, str]:
    """The progress bar's share and text for ``job``."""
    progress = job.progress
    if job.stopping:
        return (progress.share if progress else 0.0), "Cancelling: nothing will be kept…"
    if job.waiting:
        return 0.0, "Waiting for a place in the server's line of big loads…"
    if progress is None:
        return 0.0, "Starting to read…"
    if progress.sorting:
        return 1.0, (
            f"{progress.rows_read:,} rows read; sorting them by time and counting users and items…"
        )
    where = f" (file {progress.files_done + 1} of {progress.files})" if progress.files > 1 else ""
    name = untrusted.plain_md(progress.file)
    return progress.share, f"Reading {name}{where}: {progress.rows_read:,} rows so far"


def follow(job: IngestJob) -> str | None:
    """While ``job`` runs: a progress bar and Cancel, then the page is drawn again. Once it
    has ended: its outcome, and the name of the dataset it made (None when it made none)."""
    if job.running:
        cancel = st.empty()
        cancel.button("Cancel", key="data.ingest.cancel", icon="⏹️", on_click=job.request_stop)
        bar = st.progress(0.0, text="Starting…")
        while not job.wait(POLL_SECONDS):
            bar.progress(*progress_text(job))
        cancel.empty()
        bar.empty()
        st.rerun()
    _forget(job)
    if job.error is not None or job.report is None:
        st.error(untrusted.error_text(job.error or "The ingest ended without a dataset."))
        return None
    report = job.report
    rejected = sum(report.rejected.values())
    st.success(
        f"Dataset **{untrusted.plain_md(report.dataset)}** is ready: {report.rows_read:,} rows "
        f"read, {report.rows_kept:,} kept, {rejected:,} rejected; {report.users:,} users and "
        f"{report.items:,} products, in {report.seconds:.0f} s. It is open below."
    )
    return report.dataset


def server_form(data_dir: Path, *, expanded: bool) -> None:
    """The form that ingests files on the server (a file, a folder or a pattern under the
    import folder) into a new dataset."""
    import_dir = load_settings().import_dir
    with st.expander("Ingest files on the server", expanded=expanded), st.form("data.ingest.form"):
        st.caption(
            "For logs too big to upload: give their path in the server's import folder "
            "(setting SHOPLENS_IMPORT_DIR). A folder takes every CSV, .csv.gz, zip and "
            "Parquet file in it; a pattern such as `2024/*.csv.gz` takes the files it matches."
        )
        source = st.text_input("Events: a file, a folder or a pattern", key="data.ingest.source")
        products = st.text_input("Product table (optional)", key="data.ingest.products")
        name = st.text_input(
            "Dataset name", key="data.ingest.name", help="Letters, digits, '.', '_' or '-'."
        )
        if not st.form_submit_button("Ingest", type="primary"):
            return
    try:
        files = files_within(import_dir, source)
        product_file = files_within(import_dir, products)[0] if products.strip() else None
        chosen = check_name(name.strip() or free_name(data_dir, _stem(source)))
    except ShopLensError as err:
        st.error(untrusted.error_text(err))
        return
    _start(chosen, files, product_file, None)
    st.rerun()


def ingest_upload(events: UploadedFile, products: UploadedFile | None) -> None:
    """Make a dataset of an upload too large to load into memory: the files are written to a
    staging folder of the data folder, ingested, then removed."""
    data_dir = load_settings().data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=data_dir, prefix=writer_prefix(UPLOADS)))
    try:
        saved: list[Path] = []
        for upload in (events, products):
            if upload is None:
                continue
            target = staging / f"{len(saved)}-{_safe_file_name(upload.name)}"
            with target.open("wb") as out:
                upload.seek(0)
                shutil.copyfileobj(upload, out, 16 * 1024 * 1024)
            saved.append(target)
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)
        st.error(untrusted.error_text(f"The upload could not be saved for ingesting: {err}"))
        return
    name = free_name(data_dir, _stem(events.name))
    _start(name, saved[:1], saved[1] if len(saved) > 1 else None, staging)
    state.open_datasets_source()
    st.rerun()


def free_name(data_dir: Path, stem: str) -> str:
    """A dataset name from ``stem`` that no dataset has yet (``stem``, ``stem-2``, …)."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")[:56] or "dataset"
    name, number = base, 1
    while (data_dir / name).exists():
        number += 1
        name = f"{base}-{number}"
    return name


def _stem(source: str) -> str:
    path = Path(source.strip().rstrip("/"))
    parts = [p for p in path.parts if not any(mark in p for mark in "*?[")]
    last = parts[-1] if parts else "dataset"
    return last.split(".")[0]


def _safe_file_name(name: str) -> str:
    """An uploaded file's name, safe as a file name here (its suffixes kept: they tell how to
    read it)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name).lstrip(".")[-120:] or "upload"
