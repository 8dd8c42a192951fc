"""The data a run learned from, kept once per fingerprint beside the runs.

Each dataset is a folder ``<runs dir>/_datasets/<fingerprint>/`` of Parquet tables (events,
products and their rejected rows, and the product photos' bytes when the shop has photos) and
``dataset.json`` (how they were loaded): never pickles.
It is written in a hidden staging folder and renamed into place, so a run can be reopened after
a restart without uploading the files again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any, Final

import pandas as pd

from core import schema
from core.data.loading import LoadResult, ShopData, fingerprint_shop
from core.data.photos import Photo, PhotoSet
from core.errors import RunDataError, RunError, RunIntegrityError
from core.runs.manifest import DATASETS, FINGERPRINT_PATTERN
from core.runs.serial import first_line, write_json

STAGING: Final = ".staging-"
_SUMMARY: Final = "dataset.json"
_PHOTOS: Final = "photos.parquet"
# This machine in a folder name: letters, digits and dots only, so the name parses back.
_HOST: Final = re.sub(r"[^A-Za-z0-9.]", "", socket.gethostname())[:40]
_WRITER = re.compile(r"pid([0-9]{1,10})@([A-Za-z0-9.]{0,40})-")


def writer_prefix(prefix: str) -> str:
    """``prefix`` followed by this process's id and host, for the name of a folder it writes
    and then renames or removes, so a later save can tell when its writer was killed."""
    return f"{prefix}pid{os.getpid()}@{_HOST}-"


def writer_is_gone(name: str) -> bool:
    """Whether the folder ``name`` (made with ``writer_prefix``) was written by a process of
    this machine that no longer runs. ``False`` when unsure: no id in the name, another host,
    a process owned by someone else, or a system without POSIX signals."""
    found = _WRITER.search(name)
    if found is None or found[2] != _HOST or os.name != "posix":
        return False
    pid = int(found[1])
    if pid == os.getpid() or pid <= 1:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # e.g. PermissionError: it runs, as another user
        return False
    return False


def keep_dataset(root: Path, shop: ShopData) -> Path:
    """Keep ``shop`` under its fingerprint (once), as Parquet tables and a JSON summary.

    Raises:
        RunDataError: one line, when a table cannot be written as Parquet.
    """
    folder = Path(root) / DATASETS / shop.fingerprint
    if (folder / _SUMMARY).is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=writer_prefix(STAGING)))
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
                    f"The {key} table cannot be kept as Parquet ({first_line(err)}); runs "
                    "on it reopen only while the same files are loaded on the Data page."
                ) from None
            meta["tables"][key] = _load_result_meta(result)
        if shop.photos is not None:
            _photo_table(shop.photos).to_parquet(staging / _PHOTOS, index=False)
            meta["photos"] = len(shop.photos.photos)
        write_json(staging / _SUMMARY, meta)
        try:
            os.rename(staging, folder)
        except OSError:  # saved meanwhile by another session: theirs is the same data
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def has_dataset(root: Path, fingerprint: str) -> bool:
    """Whether the data with this fingerprint is kept under ``root``."""
    if not FINGERPRINT_PATTERN.fullmatch(str(fingerprint)):
        return False
    return (Path(root) / DATASETS / fingerprint / _SUMMARY).is_file()


def read_dataset(root: Path, fingerprint: str) -> ShopData:
    """The data a run was trained on, as it was loaded then.

    Raises:
        RunError: when it is not kept here or does not match its fingerprint.
    """
    if not has_dataset(root, fingerprint):
        raise RunError(
            f"The data of this run (fingerprint {str(fingerprint)[:16]}) is not kept in the runs "
            "folder; load the same files on the Data page to open it."
        )
    folder = Path(root) / DATASETS / fingerprint
    results: dict[str, LoadResult | None] = {"events": None, "products": None}
    try:
        meta = json.loads((folder / _SUMMARY).read_text(encoding="utf-8"))
        for key, table in meta["tables"].items():
            frame = pd.read_parquet(folder / f"{key}.parquet")
            rejected = pd.read_parquet(folder / f"{key}_rejected.parquet")
            results[key] = _load_result_from(frame, rejected, table)
        photos = _photos_from(pd.read_parquet(folder / _PHOTOS)) if "photos" in meta else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as err:
        raise RunIntegrityError(
            f"The kept data {fingerprint} is damaged ({first_line(err)}); load the same "
            "files on the Data page to open its runs."
        ) from None
    events, products = results["events"], results["products"]
    if events is None:
        raise RunIntegrityError(
            f"The kept data {fingerprint} has no events table; load the same files on the "
            "Data page to open its runs."
        )
    actual = fingerprint_shop(events.frame, products.frame if products else None, photos)
    if actual != fingerprint:
        raise RunIntegrityError(
            f"The kept data {fingerprint} was changed on disk (its fingerprint is now "
            f"{actual}); load the original files on the Data page."
        )
    return ShopData(events, products, fingerprint, photos)


def _photo_table(photos: PhotoSet) -> pd.DataFrame:
    """The photos as a table: item id, label, file name and the file's bytes."""
    return pd.DataFrame(
        {
            "item_id": [p.item_id for p in photos.photos],
            "label": [p.label for p in photos.photos],
            "name": [p.name for p in photos.photos],
            "data": [p.data for p in photos.photos],
        }
    )


def _photos_from(table: pd.DataFrame) -> PhotoSet:
    """The photos of a kept table; each digest is computed again from the bytes, so a changed
    photo changes the fingerprint."""
    photos = []
    for item_id, label, name, data in table[["item_id", "label", "name", "data"]].itertuples(
        index=False
    ):
        content = bytes(data)
        label = None if label is None or pd.isna(label) else str(label)
        digest = hashlib.sha256(content).hexdigest()
        photos.append(Photo(str(item_id), content, digest, label, str(name)))
    return PhotoSet(tuple(photos))


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
