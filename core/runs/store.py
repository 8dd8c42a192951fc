"""The run registry: every trained model is kept as a run that survives restarts.

A run is a folder ``<runs dir>/<run id>/`` holding ``model.joblib`` (the fitted scikit-learn
estimators) and ``manifest.json`` (task, configuration, data fingerprint, metrics, curves,
library versions and the model file's SHA-256). It is written in a hidden staging folder and
renamed into place in one step, so a save that is killed half-way never looks like a run.

Only files this registry wrote are unpickled, and only after their SHA-256 matches the
manifest; the bytes that were checked are the bytes unpickled. The data a run learned from is
kept beside the runs (``core.runs.datasets``), and runs move between machines as bundles that
load without unpickling (``core.runs.bundles``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import importlib
import io
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import joblib
import pandas as pd

from core.data.loading import ShopData
from core.errors import RunDataError, RunError, RunIntegrityError, RunNotFoundError, RunWriteError
from core.runs import datasets
from core.runs.manifest import (
    DATASETS,
    MANIFEST,
    MODEL,
    DatasetSummary,
    ManifestError,
    RunManifest,
    RunRecord,
    parse_manifest,
)
from core.runs.names import RUN_ID_PATTERN, check_run_id, clean_name, clean_tags, new_run_id
from core.runs.serial import first_line, versions, write_json

# Models saved before the network code moved to ``core.ml`` name its old module; both load.
LEGACY_MODULES: Final = {"core.network": "core.ml.network"}
_DELETED: Final = ".deleted-"


def alias_legacy_modules() -> None:
    """Let models that name a module by its old path load."""
    for old, new in LEGACY_MODULES.items():
        sys.modules.setdefault(old, importlib.import_module(new))


@dataclass(frozen=True)
class RunInfo:
    """One entry of the registry: a complete run, or a broken one with the reason."""

    run_id: str
    path: Path
    manifest: RunManifest | None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """The manifest was read and the model file is there."""
        return self.problem is None

    @property
    def task(self) -> str:
        """The run's task, from its id when the manifest cannot be read."""
        return self.run_id.split("-")[2]

    @property
    def name(self) -> str:
        """The run's name (empty for a broken run)."""
        return self.manifest.name if self.manifest is not None else ""

    @property
    def tags(self) -> tuple[str, ...]:
        """The user-given tags."""
        return self.manifest.tags if self.manifest is not None else ()

    @property
    def created(self) -> pd.Timestamp:
        """When the run was saved (UTC), from its id when the manifest cannot be read (NaT
        when neither holds a date)."""
        if self.manifest is not None:
            return self.manifest.created
        try:
            return pd.Timestamp(dt.datetime.strptime(self.run_id[:15], "%Y%m%d-%H%M%S"), tz="UTC")
        except ValueError:
            return pd.NaT


@dataclass(frozen=True)
class LoadedRun:
    """A run read back: its manifest, its estimators and any version warnings."""

    manifest: RunManifest
    estimators: dict[str, Any]
    warnings: tuple[str, ...] = ()

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self.manifest.run_id

    @property
    def task(self) -> str:
        """``purchase`` or ``recommend``."""
        return self.manifest.task


def _sha256(path: Path) -> str:
    """The file's SHA-256, read again only when the file changed (size, time or inode), so
    listing the runs on every page draw does not re-read every model file."""
    info = os.stat(path)
    return _sha256_of(str(path), info.st_size, info.st_mtime_ns, info.st_ino)


@functools.lru_cache(maxsize=4096)
def _sha256_of(path: str, size: int, mtime_ns: int, inode: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=4096)
def _parsed(path: str, run_id: str, size: int, mtime_ns: int) -> RunManifest:
    """A manifest file read and checked, again only when it changed (the Runs page lists the
    runs on every draw). Raises ManifestError, or OSError and ValueError when unreadable."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return parse_manifest(data, run_id=run_id)


def _write_error(err: OSError) -> RunWriteError:
    return RunWriteError(
        f"The runs folder cannot be written ({err.strerror or type(err).__name__}); check that "
        "it is a writable folder (SHOPLENS_RUNS_DIR)."
    )


@dataclass(frozen=True)
class RunStore:
    """The runs kept under one folder."""

    root: Path

    def path_of(self, run_id: str) -> Path:
        """Folder of a run (the id is checked, so nothing outside the store is reachable)."""
        return Path(self.root) / check_run_id(run_id)

    # --- writing ---

    def save(
        self,
        record: RunRecord,
        shop: ShopData | DatasetSummary,
        *,
        name: str = "",
        tags: tuple[str, ...] = (),
        now: dt.datetime | None = None,
        imported_from: str | None = None,
    ) -> str:
        """Save ``record`` as a new run trained on ``shop``, kept beside the runs, or on data
        only summarised (a photo run trained on photos alone); returns the run id.

        The model and then the manifest are written into a hidden staging folder, which is
        renamed into place last: a run is listed only once both files are complete.

        Raises:
            RunWriteError: one line, when the runs folder cannot be written.
            RunNameError: for a name or tag that cannot be used.
        """
        try:
            return self._save(
                record, shop, name=name, tags=tags, now=now, imported_from=imported_from
            )
        except OSError as err:
            raise _write_error(err) from None

    def _save(
        self,
        record: RunRecord,
        shop: ShopData | DatasetSummary,
        *,
        name: str,
        tags: tuple[str, ...],
        now: dt.datetime | None,
        imported_from: str | None,
    ) -> str:
        root = Path(self.root)
        root.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(root)
        try:
            if isinstance(shop, ShopData):
                self.save_dataset(shop)
        except RunDataError:
            pass  # the run is kept all the same; it reopens while the same files are loaded
        created = now or dt.datetime.now(dt.UTC)
        if created.tzinfo is None:  # a manifest's time always names its zone
            created = created.replace(tzinfo=dt.UTC)
        while True:
            run_id = new_run_id(record.task, created)
            if not (root / run_id).exists():
                break
        staging = Path(
            tempfile.mkdtemp(
                dir=root, prefix=datasets.writer_prefix(f"{datasets.STAGING}{run_id}-")
            )
        )
        try:
            model_path = staging / MODEL
            with open(model_path, "wb") as file:
                joblib.dump(record.estimators, file)
                file.flush()
                os.fsync(file.fileno())
            dataset = DatasetSummary.of(shop) if isinstance(shop, ShopData) else shop
            data = dataset.events_file
            manifest = RunManifest(
                run_id=run_id,
                task=record.task,
                name=clean_name(name) if name else record.default_name(data, created),
                tags=clean_tags(list(tags)),
                created=pd.Timestamp(created).floor("s"),
                config=record.config,
                dataset=dataset,
                metrics=record.metrics,
                curves=record.curves,
                details=record.details,
                train_seconds=record.train_seconds,
                model_sha256=_sha256(model_path),
                versions=versions(),
                stopped_at_epoch=record.stopped_at_epoch,
                imported_from=imported_from,
            )
            write_json(staging / MANIFEST, manifest.to_json())
            os.rename(staging, root / run_id)  # fails rather than merge into an existing run
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return run_id

    def update(self, run_id: str, *, name: str | None = None, tags: str | None = None) -> None:
        """Rename or retag a run (the manifest is rewritten atomically)."""
        info = self.info(run_id)
        if info.manifest is None:
            raise RunIntegrityError(f"Run {run_id} is broken ({info.problem}); delete it instead.")
        manifest = info.manifest
        if name is not None:
            manifest = dataclasses.replace(manifest, name=clean_name(name))
        if tags is not None:
            manifest = dataclasses.replace(manifest, tags=clean_tags(tags))
        try:
            write_json(info.path / MANIFEST, manifest.to_json())
        except OSError as err:
            raise _write_error(err) from None

    def delete(self, run_id: str) -> None:
        """Remove a run (its folder is first renamed away, so it disappears at once)."""
        path = self.path_of(run_id)
        if not path.is_dir():
            raise RunNotFoundError(f"There is no run {run_id}; it may have been deleted already.")
        trash: Path | None = None
        try:
            trash = Path(tempfile.mkdtemp(dir=self.root, prefix=datasets.writer_prefix(_DELETED)))
            os.rename(path, trash / run_id)
        except FileNotFoundError:  # deleted meanwhile by another session
            raise RunNotFoundError(
                f"There is no run {run_id}; it may have been deleted already."
            ) from None
        except OSError as err:
            raise _write_error(err) from None
        finally:
            if trash is not None:
                shutil.rmtree(trash, ignore_errors=True)

    # --- reading ---

    def runs(self) -> list[RunInfo]:
        """Every run, newest first; broken ones included with the reason.

        Raises:
            RunError: one line, when the runs folder cannot be read.
        """
        found = [self._read(p) for p in self._run_folders(tidy=True)]
        return sorted(found, key=lambda info: info.run_id[:15], reverse=True)

    def count(self) -> int:
        """How many runs the folder holds (broken ones included), without reading any.

        Raises:
            RunError: one line, when the runs folder cannot be read.
        """
        return len(self._run_folders())

    def _run_folders(self, *, tidy: bool = False) -> list[Path]:
        """The runs' folders; ``tidy`` first removes what interrupted saves left behind."""
        root = Path(self.root)
        try:
            if not root.is_dir():
                return []
            if tidy:
                _remove_leftovers(root)
            return [p for p in root.iterdir() if p.is_dir() and RUN_ID_PATTERN.fullmatch(p.name)]
        except OSError as err:
            raise RunError(
                f"The runs folder cannot be read ({err.strerror or type(err).__name__}); check "
                "its permissions or pick another folder (SHOPLENS_RUNS_DIR)."
            ) from None

    def info(self, run_id: str) -> RunInfo:
        """One run's entry.

        Raises:
            RunNotFoundError: when there is no such run.
        """
        path = self.path_of(run_id)
        if not path.is_dir():
            raise RunNotFoundError(
                f"There is no run {run_id}; it may have been deleted, or the runs folder is "
                "another one (SHOPLENS_RUNS_DIR)."
            )
        return self._read(path)

    def load(self, run_id: str) -> LoadedRun:
        """A run's manifest and estimators, after checking the model file's SHA-256.

        Raises:
            RunIntegrityError: when the run is broken or the model file was changed.
        """
        info = self.info(run_id)
        if info.manifest is None:
            raise RunIntegrityError(f"Run {run_id} cannot be opened: {info.problem}.")
        try:
            model = (info.path / MODEL).read_bytes()
        except OSError as err:
            raise RunIntegrityError(
                f"Run {run_id}: the model file cannot be read ({err.strerror or err}); "
                "delete the run."
            ) from None
        # The bytes that were checked are the bytes unpickled: a file swapped after the check
        # is never read.
        if hashlib.sha256(model).hexdigest() != info.manifest.model_sha256:
            raise RunIntegrityError(
                f"Run {run_id}: the model file does not match its manifest (SHA-256 differs), "
                "so it was changed after saving and will not be opened; delete the run."
            )
        alias_legacy_modules()
        estimators = joblib.load(io.BytesIO(model))
        return LoadedRun(info.manifest, estimators, info.manifest.version_warnings())

    def _read(self, path: Path) -> RunInfo:
        run_id = path.name
        manifest_path = path / MANIFEST
        if not manifest_path.is_file():
            return RunInfo(run_id, path, None, "manifest.json is missing")
        try:
            stat = os.stat(manifest_path)
            manifest = _parsed(str(manifest_path), run_id, stat.st_size, stat.st_mtime_ns)
        except ManifestError as err:  # before ValueError, which it is
            return RunInfo(run_id, path, None, str(err))
        except (OSError, ValueError, RecursionError) as err:
            return RunInfo(run_id, path, None, f"manifest.json cannot be read ({first_line(err)})")
        problem = None
        if not (path / MODEL).is_file():
            problem = "the model file is missing"
        else:
            try:
                if _sha256(path / MODEL) != manifest.model_sha256:
                    problem = "the model file was changed after saving (its SHA-256 differs)"
            except OSError as err:
                problem = f"the model file cannot be read ({first_line(err)})"
        return RunInfo(run_id, path, manifest if problem is None else None, problem)

    # --- the data runs learned from ---

    def save_dataset(self, shop: ShopData) -> Path:
        """Keep ``shop`` beside the runs, once per fingerprint."""
        return datasets.keep_dataset(Path(self.root), shop)

    def has_dataset(self, fingerprint: str) -> bool:
        """Whether the data with this fingerprint is kept here."""
        return datasets.has_dataset(Path(self.root), fingerprint)

    def load_dataset(self, fingerprint: str) -> ShopData:
        """The data a run was trained on, as it was loaded then."""
        return datasets.read_dataset(Path(self.root), fingerprint)


def _remove_leftovers(root: Path, *, older_than_hours: float = 24.0) -> None:
    """Remove staging folders of saves that were killed (and half-deleted runs): at once when
    the folder names its writer's process and that process is gone, else once they are old
    enough that no save can still be writing them."""
    limit = dt.datetime.now().timestamp() - older_than_hours * 3600
    staging = datasets.STAGING
    leftovers = (f"{staging}*", f"{_DELETED}*", f"{DATASETS}/{staging}*")
    for folder in (path for pattern in leftovers for path in root.glob(pattern)):
        try:
            if folder.is_dir() and (
                datasets.writer_is_gone(folder.name) or folder.stat().st_mtime < limit
            ):
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue
