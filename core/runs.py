"""The run registry: every trained model is kept as a run that survives restarts.

A run is a folder ``<runs dir>/<run id>/`` holding ``model.joblib`` (the fitted scikit-learn
estimators) and ``manifest.json`` (task, configuration, data fingerprint, metrics, curves,
library versions and the model file's SHA-256). It is written in a hidden staging folder and
renamed into place in one step, so a save that is killed half-way never looks like a run.

Only files this registry wrote are unpickled, and only after their SHA-256 matches the
manifest. Runs move between machines as an export bundle: a zip of the manifest and the
estimators in skops format, which is loaded without unpickling and only with an allow-list of
types, so a bundle from anywhere cannot run code.

The data a run was trained on is kept once per fingerprint under ``_datasets/`` (Parquet and
JSON, never pickles), so a run can be reopened after a restart without uploading again.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import math
import os
import platform
import re
import secrets
import shutil
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import joblib
import numpy as np
import pandas as pd
import sklearn

from core import schema
from core.errors import ShopLensError
from core.exports import atomic_write_bytes
from core.loading import LoadResult, ShopData, fingerprint_frames

Task = Literal["purchase", "recommend"]
TASKS: Final[tuple[Task, ...]] = ("purchase", "recommend")
TASK_LABELS: Final = {"purchase": "Purchase prediction", "recommend": "Recommendations"}

MANIFEST: Final = "manifest.json"
MODEL: Final = "model.joblib"
BUNDLE_MODEL: Final = "model.skops"
DATASETS: Final = "_datasets"
MANIFEST_VERSION: Final = 1
MAX_NAME: Final = 60
MAX_TAGS: Final = 10
MAX_BUNDLE_BYTES: Final = 200_000_000

_RUN_ID = re.compile(r"[0-9]{8}-[0-9]{6}-(purchase|recommend)-[0-9a-f]{8}")
_TAG = re.compile(r"[a-z0-9][a-z0-9_\-]{0,29}")
_FINGERPRINT = re.compile(r"[0-9a-f]{16}")
_STAGING = ".staging-"
# Types a bundle's estimators may contain besides scikit-learn's and numpy's own.
_BUNDLE_TYPES: Final = frozenset(
    {
        "core.network._signed_log1p",
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
        "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    }
)


class RunError(ShopLensError):
    """A run that cannot be saved, found or loaded."""


class RunNotFoundError(RunError):
    """No run with that id."""


class RunIntegrityError(RunError):
    """A run or bundle whose files do not match their manifest, or that is not ours."""


class RunWriteError(RunError):
    """The runs folder cannot be written."""


class RunDataError(RunError):
    """Data that cannot be kept as Parquet beside the runs."""


class RunNameError(RunError):
    """A run name or tag that cannot be used."""


# --- names, tags and ids ------------------------------------------------------------------


def clean_name(text: str) -> str:
    """A run name as typed, trimmed; letters, digits, spaces and ``- _ . , ( ) + #`` only.

    Raises:
        RunNameError: with a one-line message for anything else (slashes, dots at the start,
            control characters, more than 60 characters).
    """
    name = " ".join(unicodedata.normalize("NFC", str(text)).split())
    if not name:
        raise RunNameError("The run name is empty; type a short name such as 'wide net'.")
    if len(name) > MAX_NAME:
        raise RunNameError(f"The run name has {len(name)} characters; keep it to {MAX_NAME}.")
    odd = sorted({c for c in name if not (c.isalnum() or c in " -_.,()+#")})
    if odd or name.startswith("."):
        shown = " ".join(odd) or "a leading dot"
        raise RunNameError(
            f"The run name '{name}' contains {shown}; "
            "use letters, digits, spaces and - _ . , ( ) + #."
        )
    return name


def clean_tags(text: str | list[str]) -> tuple[str, ...]:
    """Tags from ``"baseline, wide-net"`` (or a list): lower case, ``a-z 0-9 _ -``, unique.

    Raises:
        RunNameError: for a tag with other characters, longer than 30, or more than 10 tags.
    """
    parts = text if isinstance(text, list) else re.split(r"[,;\s]+", str(text))
    tags: list[str] = []
    for part in parts:
        tag = str(part).strip().lower()
        if not tag:
            continue
        if not _TAG.fullmatch(tag):
            raise RunNameError(
                f"The tag '{tag}' is not usable; tags are up to 30 letters a-z, digits, _ or -."
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise RunNameError(f"{len(tags)} tags given; keep it to {MAX_TAGS}.")
    return tuple(tags)


def check_run_id(run_id: str) -> str:
    """``run_id`` if it has the shape of a run id (so it is safe in a path), else an error."""
    text = str(run_id).strip()
    if not _RUN_ID.fullmatch(text):
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise RunNotFoundError(
            f"'{shown}' is not a run id (they look like 20261128-101500-purchase-1a2b3c4d); "
            "pick a run from the list."
        )
    return text


def new_run_id(task: Task, now: dt.datetime | None = None) -> str:
    """A unique id: creation time, task and 32 random bits."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%d-%H%M%S}-{task}-{secrets.token_hex(4)}"


def file_slug(text: str) -> str:
    """``text`` as a safe ASCII file-name part (for download names)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower()
    return slug[:40] or "run"


# --- what a run holds ---------------------------------------------------------------------


@dataclass(frozen=True)
class RunRecord:
    """What a training hands to the registry.

    Attributes:
        task: ``purchase`` or ``recommend``.
        estimators: the fitted scikit-learn estimators by role (e.g. ``regressor``).
        config: the full configuration as JSON-ready values.
        metrics: per model (the MLP and every baseline), its scores.
        curves: per network, its per-epoch curves (column -> values).
        details: anything else the task needs to rebuild its result (JSON-ready).
        train_seconds: wall time of the training.
    """

    task: Task
    estimators: dict[str, Any]
    config: dict[str, Any]
    metrics: dict[str, dict[str, float]]
    curves: dict[str, dict[str, list[float]]]
    details: dict[str, Any] = field(default_factory=dict)
    train_seconds: float = 0.0


@dataclass(frozen=True)
class RunInfo:
    """One entry of the registry: a complete run, or a broken one with the reason."""

    run_id: str
    path: Path
    manifest: dict[str, Any] | None
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
        """The user-given name (or the hidden layers when none was given)."""
        return str((self.manifest or {}).get("name", ""))

    @property
    def tags(self) -> tuple[str, ...]:
        """The user-given tags."""
        return tuple((self.manifest or {}).get("tags", ()))

    @property
    def created(self) -> pd.Timestamp:
        """When the run was saved (UTC), from its id when the manifest cannot be read (NaT
        when neither holds a date)."""
        text = (self.manifest or {}).get("created")
        if text:
            return pd.Timestamp(text)
        try:
            return pd.Timestamp(dt.datetime.strptime(self.run_id[:15], "%Y%m%d-%H%M%S"), tz="UTC")
        except ValueError:
            return pd.NaT


@dataclass(frozen=True)
class LoadedRun:
    """A run read back: its manifest, its estimators and any version warnings."""

    run_id: str
    manifest: dict[str, Any]
    estimators: dict[str, Any]
    warnings: tuple[str, ...] = ()

    @property
    def task(self) -> str:
        """``purchase`` or ``recommend``."""
        return str(self.manifest["task"])


# --- JSON helpers -------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """Plain JSON values: numpy numbers become Python numbers, NaN and infinity ``None``,
    timestamps ISO text, tuples lists."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray | pd.Index):
        return [jsonable(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    if value is None or isinstance(value, str | int):
        return value
    if pd.isna(value):
        return None
    return str(value)


def frame_to_columns(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """A small frame as ``{column: values}`` for a manifest."""
    return {str(c): jsonable(frame[c].to_numpy()) for c in frame.columns}


def columns_to_frame(columns: Mapping[str, list[Any]]) -> pd.DataFrame:
    """The inverse of :func:`frame_to_columns` (``None`` comes back as NaN in numbers)."""
    frame = pd.DataFrame({k: list(v) for k, v in columns.items()})
    for column in frame.columns:
        if frame[column].dtype == object:
            converted = pd.to_numeric(frame[column], errors="coerce")
            if converted.notna().sum() == frame[column].notna().sum():
                frame[column] = converted.astype(float)
    return frame


def scores_to_metrics(scores: pd.DataFrame) -> dict[str, dict[str, float]]:
    """A scores table (one row per model) as ``{model: {metric: value}}``."""
    return {str(model): jsonable(row.to_dict()) for model, row in scores.iterrows()}


def metrics_to_scores(metrics: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """The inverse of :func:`scores_to_metrics` (index: model)."""
    frame = pd.DataFrame.from_dict(
        {m: {k: np.nan if v is None else v for k, v in row.items()} for m, row in metrics.items()},
        orient="index",
    )
    return frame.astype(float).rename_axis("model")


def versions() -> dict[str, str]:
    """Versions of the libraries a model file depends on."""
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "joblib": joblib.__version__,
    }


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


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    text = json.dumps(jsonable(data), indent=1, ensure_ascii=False, allow_nan=False)
    atomic_write_bytes(path, text.encode("utf-8"))


def _write_error(root: Path, err: OSError) -> RunWriteError:
    return RunWriteError(
        f"The runs folder {root} cannot be written ({err.strerror or err}); check that it is "
        "a writable folder (SHOPLENS_RUNS_DIR)."
    )


# --- the store ----------------------------------------------------------------------------


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
        shop: ShopData,
        *,
        name: str = "",
        tags: tuple[str, ...] = (),
        now: dt.datetime | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """Save ``record`` as a new run trained on ``shop``; returns the run id.

        The model and then the manifest are written into a hidden staging folder, which is
        renamed into place last: a run is listed only once both files are complete.
        """
        root = Path(self.root)
        try:
            return self._save(record, shop, name=name, tags=tags, now=now, extra=extra)
        except OSError as err:
            raise _write_error(root, err) from None

    def _save(
        self,
        record: RunRecord,
        shop: ShopData,
        *,
        name: str,
        tags: tuple[str, ...],
        now: dt.datetime | None,
        extra: Mapping[str, Any] | None,
    ) -> str:
        root = Path(self.root)
        root.mkdir(parents=True, exist_ok=True)
        try:
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
        staging = Path(tempfile.mkdtemp(dir=root, prefix=f"{_STAGING}{run_id}-"))
        try:
            model_path = staging / MODEL
            with open(model_path, "wb") as file:
                joblib.dump(record.estimators, file)
                file.flush()
                os.fsync(file.fileno())
            manifest = {
                "manifest_version": MANIFEST_VERSION,
                "run_id": run_id,
                "task": record.task,
                "name": clean_name(name) if name else default_name(record),
                "tags": list(clean_tags(list(tags))),
                "created": created.isoformat(timespec="seconds"),
                "config": record.config,
                "dataset": dataset_summary(shop),
                "metrics": record.metrics,
                "curves": record.curves,
                "details": record.details,
                "train_seconds": record.train_seconds,
                "versions": versions(),
                "model_file": MODEL,
                "model_sha256": _sha256(model_path),
                **(extra or {}),
            }
            _write_json(staging / MANIFEST, manifest)
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
        manifest = dict(info.manifest)
        if name is not None:
            manifest["name"] = clean_name(name)
        if tags is not None:
            manifest["tags"] = list(clean_tags(tags))
        try:
            _write_json(info.path / MANIFEST, manifest)
        except OSError as err:
            raise _write_error(Path(self.root), err) from None

    def delete(self, run_id: str) -> None:
        """Remove a run (its folder is first renamed away, so it disappears at once)."""
        path = self.path_of(run_id)
        if not path.is_dir():
            raise RunNotFoundError(f"There is no run {run_id}; it may have been deleted already.")
        trash: Path | None = None
        try:
            trash = Path(tempfile.mkdtemp(dir=self.root, prefix=".deleted-"))
            os.rename(path, trash / run_id)
        except FileNotFoundError:  # deleted meanwhile by another session
            raise RunNotFoundError(
                f"There is no run {run_id}; it may have been deleted already."
            ) from None
        except OSError as err:
            raise _write_error(Path(self.root), err) from None
        finally:
            if trash is not None:
                shutil.rmtree(trash, ignore_errors=True)

    # --- reading ---

    def runs(self) -> list[RunInfo]:
        """Every run, newest first; broken ones included with the reason.

        Raises:
            RunError: one line, when the runs folder cannot be read.
        """
        root = Path(self.root)
        try:
            if not root.is_dir():
                return []
            _remove_leftovers(root)
            folders = [p for p in root.iterdir() if p.is_dir() and _RUN_ID.fullmatch(p.name)]
        except OSError as err:
            raise RunError(
                f"The runs folder {root} cannot be read ({err.strerror or err}); check its "
                "permissions or pick another folder (SHOPLENS_RUNS_DIR)."
            ) from None
        found = [self._read(p) for p in folders]
        return sorted(found, key=lambda info: info.run_id[:15], reverse=True)

    def info(self, run_id: str) -> RunInfo:
        """One run's entry.

        Raises:
            RunNotFoundError: when there is no such run.
        """
        path = self.path_of(run_id)
        if not path.is_dir():
            raise RunNotFoundError(
                f"There is no run {run_id} in {self.root}; it may have been deleted, or the runs "
                "folder is another one (SHOPLENS_RUNS_DIR)."
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
        if hashlib.sha256(model).hexdigest() != info.manifest.get("model_sha256"):
            raise RunIntegrityError(
                f"Run {run_id}: the model file does not match its manifest (SHA-256 differs), "
                "so it was changed after saving and will not be opened; delete the run."
            )
        estimators = joblib.load(io.BytesIO(model))
        return LoadedRun(run_id, info.manifest, estimators, version_warnings(info.manifest))

    def _read(self, path: Path) -> RunInfo:
        run_id = path.name
        manifest_path = path / MANIFEST
        if not manifest_path.is_file():
            return RunInfo(run_id, path, None, "manifest.json is missing")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as err:
            return RunInfo(run_id, path, None, f"manifest.json cannot be read ({_first_line(err)})")
        problem = _manifest_problem(manifest, run_id)
        if problem is None and not (path / MODEL).is_file():
            problem = "the model file is missing"
        elif problem is None:
            try:
                if _sha256(path / MODEL) != manifest["model_sha256"]:
                    problem = "the model file was changed after saving (its SHA-256 differs)"
            except OSError as err:
                problem = f"the model file cannot be read ({_first_line(err)})"
        return RunInfo(run_id, path, manifest if problem is None else None, problem)

    # --- datasets ---

    def save_dataset(self, shop: ShopData) -> Path:
        """Keep ``shop`` under its fingerprint (once), as Parquet tables and a JSON summary."""
        folder = Path(self.root) / DATASETS / shop.fingerprint
        if (folder / "dataset.json").is_file():
            return folder
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=_STAGING))
        try:
            tables = {"events": shop.events, "products": shop.products}
            meta: dict[str, Any] = {"fingerprint": shop.fingerprint, "tables": {}}
            for key, result in tables.items():
                if result is None:
                    continue
                try:
                    result.frame.to_parquet(staging / f"{key}.parquet", index=False)
                    rejected = result.rejected.copy()
                    rejected.columns = [str(c) for c in rejected.columns]
                    rejected.astype({c: "str" for c in rejected.columns if c != "row"}).to_parquet(
                        staging / f"{key}_rejected.parquet", index=False
                    )
                except (TypeError, ValueError) as err:  # e.g. numbers and text in one column
                    raise RunDataError(
                        f"The {key} table cannot be kept as Parquet ({_first_line(err)}); runs "
                        "on it reopen only while the same files are loaded on the Data page."
                    ) from None
                meta["tables"][key] = _load_result_meta(result)
            _write_json(staging / "dataset.json", meta)
            try:
                os.rename(staging, folder)
            except OSError:  # saved meanwhile by another session: theirs is the same data
                shutil.rmtree(staging, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return folder

    def has_dataset(self, fingerprint: str) -> bool:
        """Whether the data with this fingerprint is kept here."""
        if not _FINGERPRINT.fullmatch(str(fingerprint)):
            return False
        return (Path(self.root) / DATASETS / fingerprint / "dataset.json").is_file()

    def load_dataset(self, fingerprint: str) -> ShopData:
        """The data a run was trained on, as it was loaded then.

        Raises:
            RunError: when it is not kept here or does not match its fingerprint.
        """
        if not self.has_dataset(fingerprint):
            raise RunError(
                f"The data of this run (fingerprint {str(fingerprint)[:16]}) is not kept in "
                f"{self.root}; load the same files on the Data page to open it."
            )
        folder = Path(self.root) / DATASETS / fingerprint
        results: dict[str, LoadResult | None] = {"events": None, "products": None}
        try:
            meta = json.loads((folder / "dataset.json").read_text(encoding="utf-8"))
            for key, table in meta["tables"].items():
                frame = pd.read_parquet(folder / f"{key}.parquet")
                rejected = pd.read_parquet(folder / f"{key}_rejected.parquet")
                results[key] = _load_result_from(frame, rejected, table)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as err:
            raise RunIntegrityError(
                f"The kept data {fingerprint} is damaged ({_first_line(err)}); load the same "
                "files on the Data page to open its runs."
            ) from None
        events, products = results["events"], results["products"]
        if events is None:
            raise RunIntegrityError(
                f"The kept data {fingerprint} has no events table; load the same files on the "
                "Data page to open its runs."
            )
        actual = fingerprint_frames(events.frame, products.frame if products else None)
        if actual != fingerprint:
            raise RunIntegrityError(
                f"The kept data {fingerprint} was changed on disk (its fingerprint is now "
                f"{actual}); load the original files on the Data page."
            )
        return ShopData(events, products, fingerprint)

    # --- bundles ---

    def export_bundle(self, run_id: str) -> bytes:
        """A zip of the run's manifest and its estimators in skops format (no pickles)."""
        import skops.io as sio

        loaded = self.load(run_id)
        model = sio.dumps(loaded.estimators)
        manifest = {**loaded.manifest, "bundle_model_sha256": hashlib.sha256(model).hexdigest()}
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, json.dumps(jsonable(manifest), indent=1, allow_nan=False))
            archive.writestr(BUNDLE_MODEL, model)
        return buffer.getvalue()

    def import_bundle(self, data: bytes, shop: ShopData | None = None) -> str:
        """Save a bundle made by :meth:`export_bundle` as a new run; returns its id.

        The estimators are read with skops and only types on an allow-list (scikit-learn's
        own and this app's) are accepted, so a file from anywhere never runs code.

        Raises:
            RunIntegrityError: with a one-line reason for anything that is not such a bundle.
        """
        import skops.io as sio

        manifest, model = _read_bundle(data)
        try:
            found = sio.get_untrusted_types(data=model)
        except Exception as err:  # noqa: BLE001 - any failure means "not a bundle of ours"
            raise RunIntegrityError(
                f"The bundle's model cannot be read ({_first_line(err)}); export it again."
            ) from None
        foreign = [t for t in found if t not in _BUNDLE_TYPES]
        if foreign:
            raise RunIntegrityError(
                "The bundle's model contains types this app does not load "
                f"({', '.join(foreign[:3])}); only bundles exported from ShopLens can be imported."
            )
        try:
            estimators = sio.loads(model, trusted=list(found))
        except Exception as err:  # noqa: BLE001
            raise RunIntegrityError(
                f"The bundle's model cannot be read ({_first_line(err)}); export it again."
            ) from None
        if not isinstance(estimators, dict):
            raise RunIntegrityError("The bundle's model is not a set of estimators; export again.")
        fingerprint = manifest["dataset"].get("fingerprint", "")
        if shop is None or shop.fingerprint != fingerprint:
            if not self.has_dataset(fingerprint):
                raise RunIntegrityError(
                    "The bundle was trained on other data than the data loaded now (fingerprint "
                    f"{str(fingerprint)[:16]}); load the same files on the Data page first."
                )
            shop = self.load_dataset(fingerprint)
        record = RunRecord(
            task=manifest["task"],
            estimators=estimators,
            config=manifest["config"],
            metrics=manifest["metrics"],
            curves=manifest.get("curves") or {},
            details=manifest.get("details") or {},
            train_seconds=float(manifest.get("train_seconds") or 0.0),
        )
        return self.save(
            record,
            shop,
            name=_usable_name(manifest.get("name", "")),
            tags=_usable_tags(manifest.get("tags", [])),
            extra={"imported_from": str(manifest.get("run_id", ""))[:60]},
        )


def _remove_leftovers(root: Path, *, older_than_hours: float = 24.0) -> None:
    """Remove staging folders of saves that were killed (and half-deleted runs) once they are
    old enough that no save can still be writing them."""
    limit = dt.datetime.now().timestamp() - older_than_hours * 3600
    leftovers = (f"{_STAGING}*", ".deleted-*", f"{DATASETS}/{_STAGING}*")
    for folder in (path for pattern in leftovers for path in root.glob(pattern)):
        try:
            if folder.is_dir() and folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def default_name(record: RunRecord) -> str:
    """``64,32 seed 0`` from the configuration."""
    network = record.config.get("network", {})
    layers = ",".join(str(w) for w in network.get("hidden_layers", []))
    return f"{layers or 'run'} seed {network.get('random_state', 0)}"


def dataset_summary(shop: ShopData) -> dict[str, Any]:
    """Fingerprint, size, time span and file names of the data a run learned from."""
    frame = shop.events.frame
    items = frame[schema.ITEM_ID].nunique() if schema.ITEM_ID in frame.columns else None
    return {
        "fingerprint": shop.fingerprint,
        "events": len(frame),
        "users": int(frame[schema.USER_ID].nunique()),
        "items": None if items is None else int(items),
        "start": frame[schema.TIMESTAMP].min().isoformat() if len(frame) else None,
        "end": frame[schema.TIMESTAMP].max().isoformat() if len(frame) else None,
        "events_file": shop.events.source_name,
        "products_file": shop.products.source_name if shop.products is not None else None,
    }


def version_warnings(manifest: Mapping[str, Any]) -> tuple[str, ...]:
    """A warning when the run was saved with another scikit-learn version than this one."""
    saved = (manifest.get("versions") or {}).get("scikit-learn")
    if saved and saved != sklearn.__version__:
        return (
            f"This run was trained with scikit-learn {saved} and is opened with "
            f"{sklearn.__version__}; its predictions may differ slightly. Retrain to be sure.",
        )
    return ()


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:120]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or check(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_config(config: Any) -> bool:
    if not isinstance(config, dict):
        return False
    network = config.get("network", {})
    return (
        isinstance(network, dict)
        and isinstance(network.get("hidden_layers", []), list)
        and all(_is_int(w) for w in network.get("hidden_layers", []))
        and _is_optional(_is_int)(network.get("random_state"))
        and _is_optional(_is_int)(config.get("k"))
    )


def _is_dataset(dataset: Any) -> bool:
    if not isinstance(dataset, dict):
        return False
    fingerprint = dataset.get("fingerprint")
    return (
        isinstance(fingerprint, str)
        and bool(_FINGERPRINT.fullmatch(fingerprint))
        and all(
            _is_optional(_is_text)(dataset.get(k))
            for k in ("events_file", "products_file", "start", "end")
        )
        and all(_is_optional(_is_int)(dataset.get(k)) for k in ("events", "users", "items"))
    )


def _is_metrics(metrics: Any) -> bool:
    return isinstance(metrics, dict) and all(
        isinstance(row, dict) and all(_is_optional(_is_number)(v) for v in row.values())
        for row in metrics.values()
    )


def _is_curves(curves: Any) -> bool:
    """Per network, columns of equal length (numbers or None), with ``epoch`` among them."""
    if not isinstance(curves, dict):
        return False
    for columns in curves.values():
        if not isinstance(columns, dict):
            return False
        if not columns:
            continue
        values = list(columns.values())
        if "epoch" not in columns or not all(isinstance(v, list) for v in values):
            return False
        if len({len(v) for v in values}) > 1:
            return False
        if not all(_is_optional(_is_number)(x) for v in values for x in v):
            return False
    return True


def _is_created(text: Any) -> bool:
    if not isinstance(text, str):
        return False
    try:
        return pd.Timestamp(text).tzinfo is not None
    except (ValueError, TypeError, OverflowError):
        return False


def _is_name(name: Any) -> bool:
    try:
        return isinstance(name, str) and clean_name(name) == name
    except RunNameError:
        return False


def _are_tags(tags: Any) -> bool:
    return (
        isinstance(tags, list)
        and len(tags) <= MAX_TAGS
        and all(isinstance(t, str) and _TAG.fullmatch(t) for t in tags)
    )


# What every manifest holds, each with the check of its value.
_PARTS: Final[dict[str, Callable[[Any], bool]]] = {
    "task": _is_text,
    "config": _is_config,
    "metrics": _is_metrics,
    "curves": _is_optional(_is_curves),
    "details": _is_optional(lambda value: isinstance(value, dict)),
    "dataset": _is_dataset,
    "train_seconds": _is_optional(_is_number),
    "model_sha256": _is_text,
    "name": _is_text,
    "tags": lambda value: isinstance(value, list),
}
# What a manifest of a run in a store holds besides (a bundle's are replaced on import).
_RUN_PARTS: Final[dict[str, Callable[[Any], bool]]] = {
    "curves": _is_curves,
    "details": lambda value: isinstance(value, dict),
    "name": _is_name,
    "tags": _are_tags,
    "created": _is_created,
}


def _manifest_problem(manifest: Any, run_id: str | None) -> str | None:
    """What is wrong with a manifest's shape or values, or None. ``run_id`` is the folder's
    run id (None for a bundle's manifest, whose name, tags and time are not kept as they are)."""
    if not isinstance(manifest, dict):
        return "manifest.json is not an object"
    parts = {**_PARTS, **(_RUN_PARTS if run_id is not None else {})}
    for key, check in parts.items():
        if not check(manifest.get(key)):
            return f"manifest.json has no valid '{key}'"
    if manifest["task"] not in TASKS:
        return "manifest.json names an unknown task"
    if run_id is not None and manifest.get("run_id") != run_id:
        return "manifest.json belongs to another run"
    return None


_ZIP_ERRORS: Final = (
    zipfile.BadZipFile,
    zlib.error,
    RuntimeError,
    NotImplementedError,
    EOFError,
    OSError,
    ValueError,
)


def _read_bundle(data: bytes) -> tuple[dict[str, Any], bytes]:
    if len(data) > MAX_BUNDLE_BYTES:
        raise RunIntegrityError("The file is larger than any ShopLens run bundle; pick the zip.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = {i.filename: i for i in archive.infolist()}
    except (zipfile.BadZipFile, ValueError, NotImplementedError, OSError, EOFError):
        raise RunIntegrityError(
            "The file is not a run bundle (not a zip); export one on the Runs page and upload it."
        ) from None
    if set(members) != {MANIFEST, BUNDLE_MODEL}:
        raise RunIntegrityError(
            f"The zip is not a run bundle (it should hold only {MANIFEST} and {BUNDLE_MODEL}); "
            "export one on the Runs page and upload it."
        )
    if sum(i.file_size for i in members.values()) > MAX_BUNDLE_BYTES:
        raise RunIntegrityError("The bundle unpacks to more than any run; it was not imported.")
    try:
        manifest_bytes, model = archive.read(MANIFEST), archive.read(BUNDLE_MODEL)
    except _ZIP_ERRORS as err:  # damaged, encrypted or compressed in a way zipfile cannot read
        raise RunIntegrityError(
            f"The bundle cannot be unpacked ({_first_line(err)}); export it again."
        ) from None
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8"))
    except (ValueError, RecursionError):
        raise RunIntegrityError(
            "The bundle's manifest.json is not valid JSON; export the bundle again."
        ) from None
    problem = _manifest_problem(manifest, None)
    if problem is not None:
        raise RunIntegrityError(f"The bundle is not usable: {problem}.")
    if hashlib.sha256(model).hexdigest() != manifest.get("bundle_model_sha256"):
        raise RunIntegrityError(
            "The bundle's model does not match its manifest (SHA-256 differs): the file was "
            "changed or damaged; export it again."
        )
    return manifest, model


def _usable_name(text: str) -> str:
    try:
        return clean_name(text)
    except RunNameError:
        return ""


def _usable_tags(tags: Any) -> tuple[str, ...]:
    try:
        return clean_tags([str(t) for t in tags]) if isinstance(tags, list) else ()
    except RunNameError:
        return ()


def _load_result_meta(result: LoadResult) -> dict[str, Any]:
    return {
        "duplicates": result.duplicates,
        "duplicates_dropped": result.duplicates_dropped,
        "export_format": result.export_format.key,
        "mapping": result.mapping,
        "notes": list(result.notes),
        "rows_read": result.rows_read,
        "source_name": result.source_name,
        "read_as": result.read_as,
        "source_columns": list(result.source_columns),
    }


def _load_result_from(frame: pd.DataFrame, rejected: pd.DataFrame, meta: dict) -> LoadResult:
    known = (*schema.EXPORT_FORMATS, schema.TAOBAO, schema.GENERIC, schema.PRODUCTS_TABLE)
    formats = {f.key: f for f in known}
    return LoadResult(
        frame=frame,
        rejected=rejected,
        duplicates=int(meta["duplicates"]),
        duplicates_dropped=bool(meta["duplicates_dropped"]),
        export_format=formats.get(meta["export_format"], schema.GENERIC),
        mapping=dict(meta["mapping"]),
        notes=tuple(meta["notes"]),
        rows_read=int(meta["rows_read"]),
        source_name=str(meta["source_name"]),
        read_as=str(meta["read_as"]),
        source_columns=tuple(meta["source_columns"]),
    )


# --- comparing runs -----------------------------------------------------------------------

RUN_ID: Final = "run_id"
# The score each task is judged by; the errors are better lower, every other score higher.
HEADLINE: Final = {"purchase": "mse", "recommend": "ndcg"}
LOWER_IS_BETTER: Final = frozenset({"mse", "rmse", "mae"})
MLP_MODEL: Final = "mlp"


def best_baseline(manifest: Mapping[str, Any], metric: str) -> float | None:
    """The best value of ``metric`` among the run's baselines (every model but the MLP)."""
    values = [
        row.get(metric)
        for model, row in manifest.get("metrics", {}).items()
        if model != MLP_MODEL and row.get(metric) is not None
    ]
    if not values:
        return None
    return min(values) if metric in LOWER_IS_BETTER else max(values)


def beats_baselines(manifest: Mapping[str, Any]) -> bool | None:
    """Whether the MLP beats every baseline on the task's main score (None without scores)."""
    metric = HEADLINE[manifest["task"]]
    mlp = manifest.get("metrics", {}).get(MLP_MODEL, {}).get(metric)
    best = best_baseline(manifest, metric)
    if mlp is None or best is None:
        return None
    return bool(mlp < best if metric in LOWER_IS_BETTER else mlp > best)


def hidden_text(manifest: Mapping[str, Any]) -> str:
    """The hidden layers as ``64,32``."""
    layers = manifest.get("config", {}).get("network", {}).get("hidden_layers", [])
    return ",".join(str(w) for w in layers)


def runs_table(infos: list[RunInfo]) -> pd.DataFrame:
    """One row per run for the registry table (broken runs with their reason as status)."""
    rows = []
    for info in infos:
        manifest = info.manifest or {}
        network = manifest.get("config", {}).get("network", {})
        dataset = manifest.get("dataset", {})
        metrics = manifest.get("metrics", {}).get(MLP_MODEL, {})
        rows.append(
            {
                RUN_ID: info.run_id,
                "name": info.name or info.run_id,
                "task": TASK_LABELS.get(info.task, info.task),
                "created": info.created.tz_convert(None),
                "hidden_layers": hidden_text(manifest),
                "seed": network.get("random_state"),
                "data": dataset.get("events_file"),
                "fingerprint": dataset.get("fingerprint"),
                "mse": metrics.get("mse"),
                "accuracy": metrics.get("accuracy"),
                "ndcg": metrics.get("ndcg"),
                "k": manifest.get("config", {}).get("k"),
                "baseline_mse": best_baseline(manifest, "mse"),
                "baseline_accuracy": best_baseline(manifest, "accuracy"),
                "baseline_ndcg": best_baseline(manifest, "ndcg"),
                "beats_baselines": beats_baselines(manifest) if info.ok else None,
                "train_seconds": manifest.get("train_seconds"),
                "tags": ", ".join(info.tags),
                "status": "ok" if info.ok else f"broken: {info.problem}",
            }
        )
    columns = [
        RUN_ID, "name", "task", "created", "hidden_layers", "seed", "data", "fingerprint", "mse",
        "accuracy", "ndcg", "k", "baseline_mse", "baseline_accuracy", "baseline_ndcg",
        "beats_baselines", "train_seconds", "tags", "status",
    ]  # fmt: skip
    numbers = ["mse", "accuracy", "ndcg", "baseline_mse", "baseline_accuracy", "baseline_ndcg"]
    # Numbers even when no run has a score (runs trained without a test window).
    return pd.DataFrame(rows, columns=columns).astype({c: float for c in numbers})


def flat_config(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration as ``{"network.hidden_layers": "64,32", ...}`` (nested keys dotted)."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list):
            flat[prefix] = ",".join(str(v) for v in value)
        else:
            flat[prefix] = value

    config = dict(manifest.get("config", {}))
    if isinstance(config.get("recommender"), Mapping):  # its network is the same as config's
        config["recommender"] = {k: v for k, v in config["recommender"].items() if k != "network"}
    walk("", config)
    return flat


def config_diff(manifests: list[Mapping[str, Any]], *, only_different: bool = True) -> pd.DataFrame:
    """Settings side by side: one row per setting, one column per run (by name)."""
    columns = {}
    for manifest in manifests:
        label = f"{manifest.get('name', '')} ({str(manifest.get('run_id', ''))[-8:]})"
        columns[label] = pd.Series(flat_config(manifest), dtype=object)
    table = pd.DataFrame(columns).rename_axis("setting")
    if only_different and len(manifests) > 1:
        as_text = table.astype(str)
        table = table[as_text.nunique(axis=1, dropna=False) > 1]
    return table


def metrics_side_by_side(manifests: list[Mapping[str, Any]]) -> pd.DataFrame:
    """The MLP's scores of each run, one column per run (by name)."""
    columns = {}
    for manifest in manifests:
        label = f"{manifest.get('name', '')} ({str(manifest.get('run_id', ''))[-8:]})"
        columns[label] = pd.Series(manifest.get("metrics", {}).get(MLP_MODEL, {}), dtype=float)
    return pd.DataFrame(columns).rename_axis("metric")
