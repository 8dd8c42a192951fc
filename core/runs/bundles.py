"""Runs moved between machines as bundles: a zip of the manifest and the estimators in skops
format, which load without unpickling and only with an allow-list of types, so a bundle from
anywhere cannot run code.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile
import zlib
from typing import Any, Final

from core.data.limits import Budget, check_members
from core.data.loading import ShopData
from core.errors import ExpansionLimitError, RunIntegrityError
from core.runs.manifest import (
    BUNDLE_MODEL,
    MANIFEST,
    ManifestError,
    RunManifest,
    parse_manifest,
)
from core.runs.serial import first_line
from core.runs.store import RunStore, alias_legacy_modules

MAX_BUNDLE_BYTES: Final = 200_000_000
BUNDLE_ADVICE: Final = "it was not imported; export the run again on the machine it came from"
# Types a bundle's estimators may contain besides scikit-learn's and numpy's own.
BUNDLE_TYPES: Final = frozenset(
    {
        "core.ml.network._signed_log1p",
        "core.network._signed_log1p",
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
        "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    }
)
_ZIP_ERRORS: Final = (
    zipfile.BadZipFile,
    zlib.error,
    RuntimeError,
    NotImplementedError,
    EOFError,
    OSError,
    ValueError,
)


def export_bundle(store: RunStore, run_id: str) -> bytes:
    """A zip of the run's manifest and its estimators in skops format (no pickles)."""
    import skops.io as sio

    loaded = store.load(run_id)
    model = sio.dumps(loaded.estimators)
    manifest = dataclasses.replace(
        loaded.manifest, bundle_model_sha256=hashlib.sha256(model).hexdigest()
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest.to_json(), indent=1, allow_nan=False))
        archive.writestr(BUNDLE_MODEL, model)
    return buffer.getvalue()


def import_bundle(store: RunStore, data: bytes, shop: ShopData | None = None) -> str:
    """Save a bundle made by :func:`export_bundle` as a new run; returns its id.

    The manifest is checked as a run's is; the estimators are read with skops and only types
    on an allow-list (scikit-learn's own and this app's) are accepted.

    Raises:
        RunIntegrityError: with a one-line reason for anything that is not such a bundle.
    """
    import skops.io as sio

    manifest, model = _read_bundle(data)
    try:
        found = sio.get_untrusted_types(data=model)
    except Exception as err:  # noqa: BLE001 - any failure means "not a bundle of ours"
        raise RunIntegrityError(
            f"The bundle's model cannot be read ({first_line(err)}); export it again."
        ) from None
    foreign = [t for t in found if t not in BUNDLE_TYPES]
    if foreign:
        raise RunIntegrityError(
            "The bundle's model contains types this app does not load "
            f"({', '.join(foreign[:3])}); only bundles exported from ShopLens can be imported."
        )
    try:
        alias_legacy_modules()
        estimators = sio.loads(model, trusted=list(found))
    except Exception as err:  # noqa: BLE001
        raise RunIntegrityError(
            f"The bundle's model cannot be read ({first_line(err)}); export it again."
        ) from None
    if not isinstance(estimators, dict):
        raise RunIntegrityError("The bundle's model is not a set of estimators; export again.")
    fingerprint = manifest.dataset.fingerprint
    if shop is None or shop.fingerprint != fingerprint:
        if not store.has_dataset(fingerprint):
            raise RunIntegrityError(
                "The bundle was trained on other data than the data loaded now (fingerprint "
                f"{fingerprint}); load the same files on the Data page first."
            )
        shop = store.load_dataset(fingerprint)
    return store.save(
        manifest.record(estimators),
        shop,
        name=manifest.name,
        tags=manifest.tags,
        imported_from=manifest.run_id or None,
    )


def _check_unpacked(archive: zipfile.ZipFile, what: str) -> None:
    """Refuse an archive whose members would expand past the limits (a zip bomb)."""
    limits = Budget.from_settings()
    budget = Budget(limits.ratio, min(limits.max_bytes, MAX_BUNDLE_BYTES))
    try:
        check_members(archive, what, budget, BUNDLE_ADVICE)
    except ExpansionLimitError as err:
        raise RunIntegrityError(str(err)) from None


def _read_bundle(data: bytes) -> tuple[RunManifest, bytes]:
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
        _check_unpacked(archive, "The bundle")
        manifest_bytes, model = archive.read(MANIFEST), archive.read(BUNDLE_MODEL)
    except _ZIP_ERRORS as err:  # damaged, encrypted or compressed in a way zipfile cannot read
        raise RunIntegrityError(
            f"The bundle cannot be unpacked ({first_line(err)}); export it again."
        ) from None
    try:
        data_json: Any = json.loads(manifest_bytes.decode("utf-8"))
    except (ValueError, RecursionError):
        raise RunIntegrityError(
            "The bundle's manifest.json is not valid JSON; export the bundle again."
        ) from None
    try:
        manifest = parse_manifest(data_json, run_id=None)
    except ManifestError as err:
        raise RunIntegrityError(f"The bundle is not usable: {err}.") from None
    if hashlib.sha256(model).hexdigest() != manifest.bundle_model_sha256:
        raise RunIntegrityError(
            "The bundle's model does not match its manifest (SHA-256 differs): the file was "
            "changed or damaged; export it again."
        )
    try:  # the model is itself a zip (skops), which skops unpacks whole: bounded the same way
        with zipfile.ZipFile(io.BytesIO(model)) as payload:
            _check_unpacked(payload, "The bundle's model")
    except _ZIP_ERRORS as err:
        raise RunIntegrityError(
            f"The bundle's model cannot be unpacked ({first_line(err)}); export it again."
        ) from None
    return manifest, model
