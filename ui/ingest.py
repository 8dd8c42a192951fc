"""Ingesting on the Data page: files on the server, or a large upload, become a dataset.

An ingest is a job of the server (``ui.jobs``), like a training: it runs on a worker thread,
goes on when the page is left or refreshed, and is named in the page's URL (``?ingest=<id>``),
so the Data page finds it again after a refresh and shows its progress. Cancel stops it after
the current piece and keeps nothing. Ingests wait in the server's line of big loads, so sessions
ingesting at once do not each take a load's memory at once.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Final

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
from ui import cache, jobs, state, untrusted

PAGE: Final = "data"
UPLOADS: Final = ".upload-"  # staging folders of uploads being ingested, in the data folder


@dataclass(eq=False)
class IngestJob(jobs.Job[IngestProgress, IngestReport]):
    """One ingest on a worker thread, as the Data page sees it: its label is the dataset it
    makes, and it waits in the server's line of big loads.

    Attributes:
        staging: the folder of an upload's files, removed once the ingest has ended.
    """

    QUERY: ClassVar[str] = "ingest"
    staging: Path | None = None

    @property
    def line(self) -> threading.BoundedSemaphore:
        """The server's line of big loads."""
        return cache.BIG_LOADS

    def left_line_error(self) -> ShopLensError:
        """Cancel was pressed while the ingest waited in line."""
        return ShopLensError("The ingest was cancelled while it waited; nothing was read.")

    def finish(self) -> None:
        """Removes the upload's staging folder."""
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)


def _start(name: str, sources: list[Path], products: Path | None, staging: Path | None) -> None:
    data_dir = load_settings().data_dir
    jobs.start(
        IngestJob(jobs.new_id(), PAGE, name, staging=staging),
        lambda job: ingest(
            sources, name=name, data_dir=data_dir, products=products, on_progress=job.report
        ),
    )


def current() -> IngestJob | None:
    """The ingest this session follows: the one it started, or the one named in the URL."""
    return jobs.current(IngestJob, PAGE)


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
        jobs.show_progress(
            job, status=progress_text, stop_label="Cancel", stop_key="data.ingest.cancel"
        )
        st.rerun()
    report = jobs.collect(job)
    if report is None:
        return None
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
