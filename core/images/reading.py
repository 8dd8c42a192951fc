"""Read product photos safely: from a zip read in memory (never extracted), from a CSV list of
paths, or from a folder on the server.

Every photo is named by its item id (``<item_id>.jpg``, ``.png`` or ``.webp``, or a CSV's
``item_id`` column). Only JPEG, PNG and WebP are opened; the pixel count is checked from the
header before any decoding, so a small file that would unpack to gigabytes of pixels is refused
unread. Entries that cannot be used are skipped and counted with their reason, as rejected rows
are for tables.
"""

from __future__ import annotations

import csv
import hashlib
import io
import mmap
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final

from PIL import Image, ImageOps, UnidentifiedImageError

from core.data.limits import Budget
from core.data.photos import Photo, PhotoSet, Skipped
from core.data.reading import read_path
from core.errors import NotAFileError, ShopLensError, SourceNotFoundError, UnreadableFileError

FORMATS: Final = ("JPEG", "PNG", "WEBP")
SUFFIXES: Final = frozenset({".jpg", ".jpeg", ".png", ".webp"})
MAX_PIXELS: Final = 40_000_000  # a 40-megapixel photo decodes to 120 MB of RGB
MAX_PHOTO_BYTES: Final = 30 * 1024 * 1024
MAX_ENTRIES: Final = 50_000
MAX_ZIP_BYTES: Final = 2048 * 1024 * 1024
MAX_LIST_BYTES: Final = 20 * 1024 * 1024
SHRINK_TO: Final = 448  # pixels on the longer side, twice what the network looks at
PATH: Final = "path"
ITEM_ID: Final = "item_id"

Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class ImageInputError(ShopLensError):
    """A zip, list or folder of photos that cannot be read at all."""


class PhotoError(ShopLensError):
    """One photo that cannot be used (the reason is shown beside its name)."""


def decode_photo(data: bytes, *, shrink_to: int = SHRINK_TO) -> Image.Image:
    """The photo as an upright RGB image no larger than ``shrink_to`` on its longer side.

    Raises:
        PhotoError: not a JPEG, PNG or WebP; more than 40 million pixels; or damaged.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data), formats=FORMATS)
            width, height = opened.size
            if width * height > MAX_PIXELS:
                raise PhotoError(
                    f"too many pixels: {width}×{height} is over {MAX_PIXELS / 1e6:.0f} million"
                )
            opened.draft("RGB", (shrink_to, shrink_to))
            image = ImageOps.exif_transpose(opened).convert("RGB")
            image.thumbnail((shrink_to, shrink_to))
            return image
    except UnidentifiedImageError:
        raise PhotoError("not an image: only JPEG, PNG and WebP are read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError(f"too many pixels: over {MAX_PIXELS / 1e6:.0f} million") from None
    except (OSError, ValueError, SyntaxError, EOFError) as err:
        raise PhotoError(f"damaged image: {' '.join(str(err).split())[:120]}") from None


def _photo(item_id: str, data: bytes, name: str, label: str | None = None) -> Photo:
    decode_photo(data)  # refuse what cannot be used now, not halfway through a training
    return Photo(item_id, data, hashlib.sha256(data).hexdigest(), label, name)


def _unsafe_name_reason(name: str) -> str | None:
    path = PurePosixPath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "unsafe path: absolute"
    if ".." in path.parts:
        return "unsafe path: contains '..'"
    if any(part.startswith(".") or part == "__MACOSX" for part in path.parts):
        return "hidden file or folder"
    if path.suffix.lower() not in SUFFIXES:
        return "not an image: only .jpg, .png and .webp names are read"
    return None


def _collect(candidates: Iterable[Photo | Skipped]) -> PhotoSet:
    photos: dict[str, Photo] = {}
    skipped: list[Skipped] = []
    for candidate in candidates:
        if isinstance(candidate, Skipped):
            skipped.append(candidate)
        elif candidate.item_id in photos:
            first = photos[candidate.item_id].name
            skipped.append(
                Skipped(candidate.name, f"duplicate item id: '{candidate.item_id}' is also {first}")
            )
        else:
            photos[candidate.item_id] = candidate
    return PhotoSet(tuple(photos.values()), tuple(skipped))


def _refuse_empty(photos: PhotoSet, what: str) -> PhotoSet:
    if not photos.photos:
        reasons = ", ".join(f"{count} {kind}" for kind, count in photos.reasons().items())
        raise ImageInputError(
            f"{what} holds no usable photo ({reasons or 'it is empty'}); "
            "provide JPEG, PNG or WebP photos named <item_id>.jpg."
        )
    return photos


# --- zip ----------------------------------------------------------------------------------


def read_photo_zip(data: bytes, *, what: str = "The zip", budget: Budget | None = None) -> PhotoSet:
    """The photos of a zip read in memory; each named ``<item_id>.jpg|png|webp``, or listed in
    a CSV inside the zip (``path`` relative to the CSV, optional ``item_id``, and any label
    columns, which the result keeps as ``listed``).

    Raises:
        ImageInputError: the zip is too large, has too many entries, is not a zip, or holds no
            usable photo.
    """
    if len(data) > MAX_ZIP_BYTES:
        raise ImageInputError(
            f"{what} is {len(data) / 2**20:,.0f} MB; ShopLens reads at most "
            f"{MAX_ZIP_BYTES / 2**20:,.0f} MB of photos: upload fewer photos."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError):
        raise ImageInputError(
            f"{what} is not a zip file; zip the photos and upload it again."
        ) from None
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        if len(infos) > MAX_ENTRIES:
            raise ImageInputError(
                f"{what} has {len(infos):,} entries; ShopLens reads at most {MAX_ENTRIES:,}: "
                "upload the photos in several zips."
            )
        budget = budget or Budget.from_settings()
        listing = _zip_list(archive, infos)
        if listing is not None:
            infos = [info for info in infos if info.filename != listing.name]
        photos = _collect(_zip_entries(archive, infos, budget, listing))
        if listing is not None:
            photos = PhotoSet(photos.photos, (*listing.skipped, *photos.skipped), listing.labels)
        return _refuse_empty(photos, what)


@dataclass(frozen=True)
class _ZipList:
    """A CSV inside a zip naming its photos: item ids by entry name, label columns."""

    name: str
    ids: Mapping[str, str]
    labels: Mapping[str, Mapping[str, str]]
    skipped: tuple[Skipped, ...] = ()


def _zip_list(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> _ZipList | None:
    """The first CSV of the zip that is not hidden, read as its list of photos (None without
    one; a list that cannot be read is skipped with its reason)."""
    found = next(
        (
            info
            for info in infos
            if info.filename.lower().endswith(".csv")
            and _unsafe_name_reason(info.filename[:-4] + ".png") is None
        ),
        None,
    )
    if found is None:
        return None
    name = found.filename
    try:
        with archive.open(found) as member:
            content = member.read(MAX_LIST_BYTES + 1)
        if len(content) > MAX_LIST_BYTES:
            raise ValueError(f"over {MAX_LIST_BYTES / 2**20:,.0f} MB")
        reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline=""))
        columns = [str(c) for c in reader.fieldnames or []]
        rows = list(reader)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as err:
        return _ZipList(name, {}, {}, (Skipped(name, f"damaged entry: {err}"),))
    except (ValueError, csv.Error) as err:  # UnicodeDecodeError is a ValueError
        reason = f"unreadable list: {' '.join(str(err).split())[:120]}; save it as UTF-8 CSV"
        return _ZipList(name, {}, {}, (Skipped(name, reason),))
    if PATH not in columns:
        reason = f"unreadable list: it has no '{PATH}' column (its columns: {', '.join(columns)})"
        return _ZipList(name, {}, {}, (Skipped(name, reason[:200]),))
    folder = PurePosixPath(name).parent
    ids: dict[str, str] = {}
    labels: dict[str, dict[str, str]] = {
        column: {} for column in columns if column not in (PATH, ITEM_ID)
    }
    for row in rows:
        relative = str(row.get(PATH) or "")
        entry = str(folder / relative) if str(folder) != "." else relative
        photo_id = str(row.get(ITEM_ID) or "") or PurePosixPath(relative).stem
        ids[entry] = photo_id
        for column, values in labels.items():
            value = str(row.get(column) or "").strip()
            if value:
                values.setdefault(photo_id, value)
    return _ZipList(name, ids, labels)


def _zip_entries(
    archive: zipfile.ZipFile,
    infos: list[zipfile.ZipInfo],
    budget: Budget,
    listing: _ZipList | None = None,
) -> Iterator[Photo | Skipped]:
    total = 0
    ids = listing.ids if listing is not None else {}
    for info in infos:
        name = info.filename
        reason = _unsafe_name_reason(name)
        if reason is not None:
            yield Skipped(name, reason)
            continue
        limit = min(MAX_PHOTO_BYTES, budget.allowed(info.compress_size))
        if info.file_size > limit:
            yield Skipped(
                name,
                f"too large: it unpacks to {info.file_size / 2**20:,.1f} MB, "
                f"over {limit / 2**20:,.1f} MB",
            )
            continue
        try:
            with archive.open(info) as member:
                content = member.read(limit + 1)  # the sizes in a zip header can lie
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as err:
            yield Skipped(name, f"damaged entry: {' '.join(str(err).split())[:120]}")
            continue
        if len(content) > limit:
            yield Skipped(name, f"too large: it unpacks to over {limit / 2**20:,.1f} MB")
            continue
        total += len(content)
        if total > budget.max_bytes:
            raise budget.refusal("The zip of photos", sum(i.compress_size for i in infos))
        yield _entry(ids.get(name, PurePosixPath(name).stem), content, name)


def _entry(item_id: str, content: bytes, name: str, label: str | None = None) -> Photo | Skipped:
    try:
        return _photo(item_id, content, name, label)
    except PhotoError as err:
        return Skipped(name, str(err))


# --- CSV list and folder --------------------------------------------------------------------


def _read_file(path: Path, name: str) -> bytes | Skipped:
    try:
        content = read_path(path)  # refuses a named pipe or a device rather than wait on it
    except SourceNotFoundError:
        return Skipped(name, "missing file")
    except NotAFileError:
        return Skipped(name, "not a file: a folder, named pipe, device or socket")
    except UnreadableFileError as err:
        return Skipped(name, f"unreadable file: {err}")
    try:
        if len(content) > MAX_PHOTO_BYTES:
            return Skipped(name, f"too large: over {MAX_PHOTO_BYTES / 2**20:,.0f} MB")
        return bytes(content)
    finally:
        if isinstance(content, mmap.mmap):
            content.close()


def read_photo_list(
    path: Path, *, label: str | None = None, item_id: str | None = None
) -> PhotoSet:
    """The photos named in a CSV with a ``path`` column (relative to the CSV's folder), an
    optional ``item_id`` column (else the file name without extension, or the row number when
    names repeat across folders) and the ``label`` column when given; every other column is
    kept as ``listed`` labels.

    Raises:
        ImageInputError: the CSV is missing, lacks a column, or names no usable photo.
    """
    rows = _csv_rows(path, label)
    folder = path.resolve().parent
    id_column = item_id or (ITEM_ID if rows and ITEM_ID in rows[0] else None)
    stems = [PurePosixPath(row[PATH]).stem for row in rows]
    unique_stems = len(set(stems)) == len(stems)

    def entries() -> Iterator[Photo | Skipped]:
        for number, (row, stem) in enumerate(zip(rows, stems, strict=True), start=2):
            relative = row[PATH] or ""
            name = f"row {number} ({relative})"
            target = (folder / relative).resolve()
            if Path(relative).is_absolute() or not target.is_relative_to(folder):
                yield Skipped(name, "unsafe path: outside the list's folder")
                continue
            if target.suffix.lower() not in SUFFIXES:
                yield Skipped(name, "not an image: only .jpg, .png and .webp names are read")
                continue
            content = _read_file(target, name)
            if isinstance(content, Skipped):
                yield content
                continue
            photo_id = row[id_column] if id_column else (stem if unique_stems else relative)
            yield _entry(photo_id, content, name, row[label] if label else None)

    photos = _refuse_empty(_collect(entries()), f"The list {path.name}")
    return PhotoSet(photos.photos, photos.skipped, _listed_labels(rows, stems, id_column, label))


def _listed_labels(
    rows: list[dict[str, str]], stems: list[str], id_column: str | None, label: str | None
) -> dict[str, dict[str, str]]:
    """The list's other columns (neither the path nor the item id), by item id."""
    columns = [c for c in (rows[0] if rows else {}) if c not in (PATH, id_column, label)]
    columns = ([label] if label else []) + columns
    listed: dict[str, dict[str, str]] = {column: {} for column in columns}
    for row, stem in zip(rows, stems, strict=True):
        photo_id = row[id_column] if id_column else stem
        for column in columns:
            value = str(row.get(column) or "").strip()
            if value:
                listed[column].setdefault(photo_id, value)
    return listed


def _csv_rows(path: Path, label: str | None) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = list(reader.fieldnames or [])
            rows = list(reader)
    except FileNotFoundError:
        raise ImageInputError(f"The list {path} does not exist; check the path.") from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise ImageInputError(
            f"The list {path} cannot be read ({err}); save it as UTF-8 CSV."
        ) from None
    needed = [PATH] + ([label] if label else [])
    missing = [column for column in needed if column not in columns]
    if missing:
        raise ImageInputError(
            f"The list {path.name} has no column '{missing[0]}' (its columns: "
            f"{', '.join(columns) or 'none'}); add it or name another with --label."
        )
    return rows


def read_photo_folder(folder: Path) -> PhotoSet:
    """The photos of a server folder and its subfolders, named ``<item_id>.jpg|png|webp``.

    Raises:
        ImageInputError: the folder does not exist or holds no usable photo.
    """
    if not folder.is_dir():
        raise ImageInputError(f"The folder {folder} does not exist; check the path.")
    root = folder.resolve()

    def entries() -> Iterator[Photo | Skipped]:
        for path in sorted(root.rglob("*")):
            if path.is_dir():
                continue
            name = path.relative_to(root).as_posix()
            reason = _unsafe_name_reason(name)
            if reason is None and not path.resolve().is_relative_to(root):
                reason = "unsafe path: a link outside the folder"
            if reason is not None:
                yield Skipped(name, reason)
                continue
            content = _read_file(path, name)
            yield content if isinstance(content, Skipped) else _entry(path.stem, content, name)

    return _refuse_empty(_collect(entries()), f"The folder {folder.name}")
