"""Recognise a shop export, map its columns to the canonical model and validate every row.

``read_events`` and ``read_products`` are the entry points; ``load_shop`` reads both files of a
shop. Nothing is silently lost: every row that is not kept is in ``LoadResult.rejected`` with a
named reason, and duplicates are counted whether or not they are dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypedDict, Unpack

import numpy as np
import pandas as pd

from core import schema
from core.data.parsing import (
    TIME_MAX,
    TIME_MIN,
    DateOrder,
    parse_event_types,
    parse_ids,
    parse_numbers,
    parse_timestamps,
)
from core.data.photos import PhotoSet
from core.data.reading import REASON, ROW, RawTable, Source, read_table
from core.errors import AllRowsRejectedError, MappingError, MissingColumnsError

MISSING_USER = "missing user id"
MISSING_ITEM = "missing item id"
MISSING_TIME = "missing time"
UNPARSEABLE_TIME = "unparseable time"
IMPLAUSIBLE_TIME = "time before 1990 or after 2100"
MISSING_EVENT = "missing event type"
UNPARSEABLE_QUANTITY = "unparseable quantity"
UNPARSEABLE_PRICE = "unparseable price"
NEGATIVE_PRICE = "negative price"
UNKNOWN_ITEM = "item not in the product table"
DUPLICATE_EVENT = "duplicate event"
DUPLICATE_ITEM = "item listed twice (first kept)"

ColumnMapping = Mapping[str, str | None]
SHAPE_SAMPLE = 2000  # rows at the top of a file that its format and mapping are guessed from


@dataclass(frozen=True)
class LoadResult:
    """A validated table in the canonical model, with everything that was not kept.

    Attributes:
        frame: the kept rows under canonical column names.
        rejected: every row not kept: ``row`` (1-based data row in the file), ``reason``, and
            the row's original values.
        duplicates: rows that repeat an earlier row exactly (in the canonical columns).
        duplicates_dropped: whether those duplicates were removed (then they are in ``rejected``).
        export_format: the export that was recognised.
        mapping: canonical field -> source column actually used.
        notes: assumptions made while reading, in words for the user.
        rows_read: data rows in the file.
        source_name: the file name.
        read_as: how the file was read (container, encoding, separator, header).
        source_columns: the file's own column names.
        date_order: the order day and month of text dates were read in (``auto``: not needed).
        date_order_assumed: every date fitted both orders, so ``date_order`` was assumed.
        returns: in an export without an event column, the rows read as returns and how many
            of them were kept (None with an event column).
        other_event_types: event labels kept as they are (not a known type), with their rows.
    """

    frame: pd.DataFrame
    rejected: pd.DataFrame
    duplicates: int
    duplicates_dropped: bool
    export_format: schema.ExportFormat
    mapping: dict[str, str]
    notes: tuple[str, ...]
    rows_read: int
    source_name: str
    read_as: str
    source_columns: tuple[str, ...]
    date_order: DateOrder = "auto"
    date_order_assumed: bool = False
    returns: tuple[int, int] | None = None
    other_event_types: dict[str, int] = field(default_factory=dict)

    @property
    def rows_kept(self) -> int:
        """Rows in ``frame``."""
        return len(self.frame)

    @property
    def rejected_counts(self) -> dict[str, int]:
        """Rejected rows per reason, most frequent first."""
        counts = self.rejected[REASON].value_counts()
        return {str(reason): int(n) for reason, n in counts.items()}


@dataclass(frozen=True)
class ShopData:
    """A shop's events and, optionally, its products and product photos, as loaded and
    validated. The fingerprint covers all three: other photos are other data.

    Attributes:
        events: the validated events.
        products: the validated product table, or ``None``.
        fingerprint: a short SHA-256 of the tables and the photos' item ids and digests.
        photos: the products' photos (named by item id), or ``None`` when the shop has none.
    """

    events: LoadResult
    products: LoadResult | None = None
    fingerprint: str = field(default="")
    photos: PhotoSet | None = None

    @property
    def product_frame(self) -> pd.DataFrame | None:
        """The product table, or ``None`` when the shop has none."""
        return self.products.frame if self.products is not None else None

    @property
    def has_items(self) -> bool:
        """Whether events carry item ids (needed by recommendations)."""
        return schema.ITEM_ID in self.events.frame.columns


def fingerprint_shop(
    events: pd.DataFrame, products: pd.DataFrame | None, photos: PhotoSet | None
) -> str:
    """The shop's fingerprint: that of its tables, mixed with each photo's item id and
    SHA-256 when it has photos (a shop without photos keeps its tables' fingerprint)."""
    return with_photos_fingerprint(fingerprint_frames(events, products), photos)


def with_photos_fingerprint(tables: str, photos: PhotoSet | None) -> str:
    """The fingerprint of a shop whose tables have the fingerprint ``tables``, with ``photos``."""
    if photos is None:
        return tables
    digest = hashlib.sha256(tables.encode())
    for photo in sorted(photos.photos, key=lambda p: p.item_id):
        digest.update(f"{photo.item_id}\0{photo.digest}\n".encode())
    return digest.hexdigest()[:16]


def fingerprint_frames(*frames: pd.DataFrame | None) -> str:
    """A short SHA-256 of the frames' contents; equal data gives an equal fingerprint."""
    digest = hashlib.sha256()
    for frame in frames:
        if frame is None:
            digest.update(b"none")
            continue
        digest.update(",".join(frame.columns).encode())
        hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        digest.update(hashes.tobytes())
    return digest.hexdigest()[:16]


class EventOptions(TypedDict, total=False):
    """How events are mapped and validated, given as keyword arguments.

    Attributes:
        mapping: canonical field -> source column, overriding the detected mapping; ``None``
            as a value unmaps that field.
        date_order: how to read dates like 03/04/2024 when the data cannot tell (default
            ``auto``).
        drop_duplicates: remove rows that repeat an earlier row exactly (default False).
        name_each_item: give each item the name its rows give most often (default True;
            a dataset read in pieces names its items once, over every piece).
        count_duplicates: count the rows that repeat an earlier row (default True; a
            dataset read in pieces counts them once, over every piece).
        products: a canonical product table; events whose item is not in it are rejected.
    """

    mapping: ColumnMapping | None
    date_order: DateOrder
    drop_duplicates: bool
    name_each_item: bool
    count_duplicates: bool
    products: pd.DataFrame | None


def read_events(
    source: Source, *, name: str | None = None, **options: Unpack[EventOptions]
) -> LoadResult:
    """Read, recognise, map and validate an events export.

    Args:
        source: a path, bytes, or binary file object (such as an upload).
        name: the file name to show (defaults to the path's name).
        options: how the events are mapped and validated (``EventOptions``).

    Raises:
        ShopLensError: a subclass naming the problem when the file cannot give events.
    """
    return map_events(read_table(source, name=name), **options)


def read_products(
    source: Source, *, mapping: ColumnMapping | None = None, name: str | None = None
) -> LoadResult:
    """Read, map and validate a product table (item id; optional category, price, brand, name)."""
    return map_products(read_table(source, name=name), mapping=mapping)


def load_shop(
    events_source: Source,
    products_source: Source | None = None,
    *,
    events_mapping: ColumnMapping | None = None,
    products_mapping: ColumnMapping | None = None,
    date_order: DateOrder = "auto",
    drop_duplicates: bool = False,
) -> ShopData:
    """Read a shop's events and products files into one ``ShopData``."""
    products = (
        read_products(products_source, mapping=products_mapping)
        if products_source is not None
        else None
    )
    events = read_events(
        events_source,
        mapping=events_mapping,
        date_order=date_order,
        drop_duplicates=drop_duplicates,
        products=products.frame if products is not None else None,
    )
    return make_shop(events, products)


def make_shop(
    events: LoadResult, products: LoadResult | None, photos: PhotoSet | None = None
) -> ShopData:
    """Bundle loaded tables (and photos) with their fingerprint."""
    product_frame = products.frame if products else None
    fingerprint = fingerprint_shop(events.frame, product_frame, photos)
    return ShopData(events, products, fingerprint, photos)


def with_photos(shop: ShopData, photos: PhotoSet | None) -> ShopData:
    """``shop`` with ``photos`` as its product photos (``None``: without photos), under the
    fingerprint that goes with them, so everything computed on the shop is computed again."""
    if shop.photos is not None:
        return make_shop(shop.events, shop.products, photos)
    fingerprint = with_photos_fingerprint(shop.fingerprint, photos)  # the tables' one
    return ShopData(shop.events, shop.products, fingerprint, photos)


# --- recognising the export -------------------------------------------------------------


def detect_format(raw: RawTable) -> tuple[schema.ExportFormat, dict[str, str]]:
    """Recognise the export from its header names or value shapes, and propose a mapping."""
    columns = list(raw.frame.columns)
    by_label = _columns_by_label(columns)
    if raw.has_header:
        for export in schema.EXPORT_FORMATS:
            if export.headers <= set(by_label):
                known = {
                    target: by_label[schema.normalise_label(src)]
                    for target, src in export.mapping.items()
                    if schema.normalise_label(src) in by_label
                }
                return export, _guess_mapping(raw.frame, schema.EVENT_MAPPING_FIELDS, known)
    elif _looks_like_taobao(raw.frame):
        return schema.TAOBAO, dict(schema.TAOBAO.mapping)
    return schema.GENERIC, _guess_mapping(raw.frame, schema.EVENT_MAPPING_FIELDS, {})


def _columns_by_label(columns: list[str]) -> dict[str, str]:
    by_label: dict[str, str] = {}
    for column in columns:
        by_label.setdefault(schema.normalise_label(column), column)
    return by_label


def _looks_like_taobao(frame: pd.DataFrame) -> bool:
    if frame.shape[1] != 5:
        return False
    labels = set(frame.iloc[:SHAPE_SAMPLE, 3].dropna().astype("str").str.lower())
    times = pd.to_numeric(frame.iloc[:SHAPE_SAMPLE, 4], errors="coerce")
    return (
        bool(labels)
        and labels <= {"pv", "cart", "fav", "buy"}
        and bool(times.between(1e8, 1e10).mean() > 0.9)
    )


def _guess_mapping(
    frame: pd.DataFrame, fields: tuple[str, ...], known: dict[str, str]
) -> dict[str, str]:
    mapping = dict(known)
    by_label = _columns_by_label(list(frame.columns))
    for target in fields:
        if target in mapping:
            continue
        for synonym in schema.COLUMN_SYNONYMS[target]:
            column = by_label.get(synonym)
            if column is not None and column not in mapping.values():
                mapping[target] = column
                break
    if fields == schema.EVENT_MAPPING_FIELDS:
        _guess_events_from_shapes(frame, mapping)
    elif schema.ITEM_ID not in mapping:
        _guess_ids_from_shapes(frame, mapping, (schema.ITEM_ID,))
    return mapping


def _guess_events_from_shapes(frame: pd.DataFrame, mapping: dict[str, str]) -> None:
    free = [c for c in frame.columns if c not in mapping.values()]
    sample = frame.head(SHAPE_SAMPLE)
    if schema.TIMESTAMP not in mapping:
        for column in free:
            parsed = parse_timestamps(sample[column])
            ok = parsed.values.between(TIME_MIN, TIME_MAX)
            if sample[column].notna().any() and ok.sum() >= 0.8 * sample[column].notna().sum():
                mapping[schema.TIMESTAMP] = column
                free.remove(column)
                break
    if schema.EVENT_TYPE not in mapping:
        for column in free:
            labels = sample[column].dropna().astype("str").unique()
            known = [lab for lab in labels if schema.normalise_label(lab) in schema.EVENT_SYNONYMS]
            if 0 < len(labels) <= 30 and len(known) >= 0.6 * len(labels):
                mapping[schema.EVENT_TYPE] = column
                break
    _guess_ids_from_shapes(frame, mapping, (schema.USER_ID, schema.ITEM_ID))


def _guess_ids_from_shapes(
    frame: pd.DataFrame, mapping: dict[str, str], targets: tuple[str, ...]
) -> None:
    sample = frame.head(SHAPE_SAMPLE)
    for target in targets:
        if target in mapping:
            continue
        for column in frame.columns:
            if column in mapping.values():
                continue
            values = sample[column].dropna()
            integral = (
                pd.api.types.is_integer_dtype(values)
                or (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values))
                and values.astype("str").str.fullmatch(r"[\w\-.@+]{1,80}").mean() > 0.9
            )
            if len(values) and integral and values.nunique() > 1:
                mapping[target] = column
                break


def _resolve_mapping(
    raw: RawTable,
    detected: dict[str, str],
    overrides: ColumnMapping | None,
    fields: tuple[str, ...],
) -> tuple[dict[str, str], set[str]]:
    mapping = dict(detected)
    chosen: set[str] = set()
    for target, column in (overrides or {}).items():
        if target not in fields:
            raise MappingError(
                f"'{target}' (mapped for '{raw.source_name}') is not a field ShopLens knows; "
                f"map columns to one of: {', '.join(fields)}."
            )
        if column is None or column == "":
            mapping.pop(target, None)
            continue
        if column not in raw.frame.columns:
            raise MappingError(
                f"Column '{column}' chosen for {target} is not in '{raw.source_name}' "
                f"(its columns: {', '.join(map(str, raw.frame.columns[:12]))}); pick one of them."
            )
        for other, used in list(mapping.items()):
            if used == column and other != target:
                if other in (overrides or {}):
                    raise MappingError(
                        f"Column '{column}' of '{raw.source_name}' is mapped to both {other} "
                        f"and {target}; map each field to its own column on the Data page."
                    )
                mapping.pop(other)
        mapping[target] = column
        chosen.add(target)
    return mapping, chosen


# --- events -------------------------------------------------------------------------------


class _Rejections:
    """Assigns each row at most one reason: the first one that applies."""

    def __init__(self, rows: int) -> None:
        self.codes = np.zeros(rows, dtype=np.int16)
        self.reasons: list[str] = []

    def add(self, mask: np.ndarray | pd.Series, reason: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        self.reasons.append(reason)
        self.codes[(self.codes == 0) & mask] = len(self.reasons)

    @property
    def keep(self) -> np.ndarray:
        return self.codes == 0

    def frame(self, raw: RawTable, extra: pd.DataFrame | None = None) -> pd.DataFrame:
        """The rejected rows with their row number, reason and original values as text."""
        positions = np.flatnonzero(~self.keep)
        labels = np.array([""] + self.reasons, dtype=object)
        rejected = raw.frame.iloc[positions].astype("str").reset_index(drop=True)
        rejected.insert(0, REASON, labels[self.codes[positions]])
        rejected.insert(0, ROW, pd.array(raw.row_numbers[positions], dtype="Int64"))
        parts = [rejected, raw.malformed]
        if extra is not None and len(extra):
            parts.append(extra)
        parts = [p for p in parts if len(p)]
        if not parts:
            return rejected
        return pd.concat(parts, ignore_index=True).sort_values(
            ROW, kind="stable", ignore_index=True
        )


def map_events(raw: RawTable, **options: Unpack[EventOptions]) -> LoadResult:
    """Map a raw table to canonical events and validate it; see ``read_events``.

    Raises:
        AllRowsRejectedError: validation kept no row.
    """
    return require_rows(map_event_rows(raw, **options))


def map_event_rows(raw: RawTable, **options: Unpack[EventOptions]) -> LoadResult:
    """``map_events`` that also returns a table none of whose rows was kept (a piece of a
    bigger file may be all rejected while the file is not)."""
    mapping, products = options.get("mapping"), options.get("products")
    date_order = options.get("date_order", "auto")
    drop_duplicates = options.get("drop_duplicates", False)
    export, detected = detect_format(raw)
    used, chosen = _resolve_mapping(raw, detected, mapping, schema.EVENT_MAPPING_FIELDS)
    for required, what in ((schema.USER_ID, "the user id"), (schema.TIMESTAMP, "the event time")):
        if required not in used:
            raise MissingColumnsError(
                f"No column of '{raw.source_name}' can be {what} (columns: "
                f"{', '.join(map(str, raw.frame.columns[:12]))}); map one to {required} "
                "on the Data page, or pass --map on the command line."
            )
    frame = raw.frame
    notes: list[str] = []
    rejections = _Rejections(len(frame))
    out: dict[str, pd.Series] = {}
    ids = _parse_id_columns(frame, used)

    users = ids[schema.USER_ID]
    rejections.add(users.isna(), MISSING_USER)
    out[schema.USER_ID] = users

    times = parse_timestamps(frame[used[schema.TIMESTAMP]], date_order=date_order)
    if not times.values.notna().any():
        error = MappingError if schema.TIMESTAMP in chosen else MissingColumnsError
        raise error(
            f"Column '{used[schema.TIMESTAMP]}' of '{raw.source_name}' has no values that read "
            f"as dates or times (e.g. {_example(frame[used[schema.TIMESTAMP]])}); map the time "
            "column to a column of dates or unix timestamps on the Data page."
        )
    notes.extend(times.notes)
    rejections.add(frame[used[schema.TIMESTAMP]].isna(), MISSING_TIME)
    rejections.add(times.failed, UNPARSEABLE_TIME)
    rejections.add(
        ~times.values.between(TIME_MIN, TIME_MAX) & times.values.notna(), IMPLAUSIBLE_TIME
    )
    out[schema.TIMESTAMP] = times.values

    if schema.ITEM_ID in used:
        items = ids[schema.ITEM_ID]
        if items.notna().any():
            rejections.add(items.isna(), MISSING_ITEM)
            out[schema.ITEM_ID] = items
        else:
            notes.append(
                f"Column '{used.pop(schema.ITEM_ID)}' is empty in every row, so this data has "
                "no item ids: the overview and purchase prediction work, recommendations do not."
            )
    else:
        notes.append(
            "No item id column: the overview and purchase prediction work, recommendations do not."
        )

    numbers = _map_numbers(frame, used, chosen, raw.source_name, rejections, notes)
    other_types: dict[str, int] = {}
    if schema.EVENT_TYPE in used:
        events = parse_event_types(frame[used[schema.EVENT_TYPE]])
        notes.extend(events.notes)
        counts = events.values.value_counts(sort=False)
        other_types = {
            str(c): int(counts[c])
            for c in events.values.cat.categories
            if c not in schema.EVENT_TYPES
        }
        if other_types:
            notes.append(other_event_types_note(other_types))
        rejections.add(events.values.isna(), MISSING_EVENT)
        out[schema.EVENT_TYPE] = events.values
    else:
        out[schema.EVENT_TYPE] = _purchase_table_types(frame, used, export, numbers)
    out.update(numbers)
    for target in (schema.ORDER_ID, schema.SESSION_ID, schema.CATEGORY):
        if target in used:
            out[target] = ids[target]
    if schema.NAME in used and schema.ITEM_ID in out:
        out[schema.NAME] = ids[schema.NAME]

    if products is not None and schema.ITEM_ID in out:
        known = pd.Index(products[schema.ITEM_ID].astype("str"))
        unknown = out[schema.ITEM_ID].notna() & ~out[schema.ITEM_ID].isin(known)
        rejections.add(unknown, UNKNOWN_ITEM)

    keep = rejections.keep
    returns: tuple[int, int] | None = None
    if schema.EVENT_TYPE not in used:
        is_return = (out[schema.EVENT_TYPE] == schema.RETURN).to_numpy()
        returns = int(is_return.sum()), int((is_return & keep).sum())
        notes.append(returns_note(*returns))
    events_frame = pd.DataFrame(out)[[c for c in schema.EVENT_FIELDS if c in out]]
    events_frame = events_frame[keep].reset_index(drop=True)
    kept_rows = raw.row_numbers[keep]
    duplicated = (
        duplicated_rows(events_frame)
        if drop_duplicates or options.get("count_duplicates", True)
        else np.zeros(len(events_frame), dtype=bool)
    )
    extra = None
    if drop_duplicates and duplicated.any():
        extra = raw.frame.iloc[np.flatnonzero(keep)[duplicated]].astype("str")
        extra = extra.reset_index(drop=True)
        extra.insert(0, REASON, DUPLICATE_EVENT)
        extra.insert(0, ROW, pd.array(kept_rows[duplicated], dtype="Int64"))
        events_frame = events_frame[~duplicated].reset_index(drop=True)
    if not events_frame[schema.TIMESTAMP].is_monotonic_increasing:
        events_frame = events_frame.sort_values(schema.TIMESTAMP, kind="stable", ignore_index=True)
    if schema.NAME in events_frame.columns and options.get("name_each_item", True):
        events_frame[schema.NAME] = most_frequent_names(
            events_frame[schema.ITEM_ID], events_frame[schema.NAME]
        )
    return _result(
        raw,
        frame=events_frame if keep.all() else _drop_unused_categories(events_frame),
        rejected=rejections.frame(raw, extra),
        duplicates=int(duplicated.sum()),
        duplicates_dropped=drop_duplicates,
        export_format=export,
        mapping=used,
        notes=tuple(notes),
        date_order=times.date_order,
        date_order_assumed=times.date_order_assumed,
        returns=returns,
        other_event_types=other_types,
    )


def most_frequent_names(items: pd.Series, names: pd.Series) -> pd.Series:
    """Each row's item named by the name its rows give most often (ties: the name seen first),
    so one item has one name; rows of items without any name stay missing."""
    pairs = pd.DataFrame({"item": items.cat.codes, "name": names.cat.codes})
    pairs = pairs[(pairs["item"] >= 0) & (pairs["name"] >= 0)]
    counts = pairs.groupby(["item", "name"], sort=False).size().reset_index(name="n")
    first = pairs.reset_index().groupby(["item", "name"], sort=False)["index"].min().to_numpy()
    counts = counts.assign(first=first).sort_values(
        ["item", "n", "first"], ascending=[True, False, True]
    )
    best = counts.drop_duplicates("item")
    table = np.full(len(items.cat.categories), -1, dtype=np.int64)
    table[best["item"].to_numpy()] = best["name"].to_numpy()
    codes = items.cat.codes.to_numpy()
    chosen = np.where(codes >= 0, table[np.maximum(codes, 0)], -1)
    named = pd.Categorical.from_codes(chosen, categories=names.cat.categories)
    return pd.Series(named, index=items.index).cat.remove_unused_categories()


def _parse_id_columns(frame: pd.DataFrame, used: dict[str, str]) -> dict[str, pd.Series]:
    """Parse every mapped id column; two threads, as the hashing releases the GIL."""
    targets = [
        t
        for t in (
            schema.USER_ID,
            schema.ITEM_ID,
            schema.ORDER_ID,
            schema.SESSION_ID,
            schema.CATEGORY,
            schema.NAME,
        )
        if t in used
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        parsed = pool.map(parse_ids, [frame[used[t]] for t in targets])
        return dict(zip(targets, parsed, strict=True))


def _map_numbers(
    frame: pd.DataFrame,
    used: dict[str, str],
    chosen: set[str],
    source_name: str,
    rejections: _Rejections,
    notes: list[str],
) -> dict[str, pd.Series]:
    out: dict[str, pd.Series] = {}
    for target, reason in (
        (schema.QUANTITY, UNPARSEABLE_QUANTITY),
        (schema.PRICE, UNPARSEABLE_PRICE),
        (schema.AMOUNT, UNPARSEABLE_PRICE),
    ):
        if target not in used:
            continue
        column = frame[used[target]]
        parsed = parse_numbers(column)
        if column.notna().any() and not parsed.values.notna().any():
            if target in chosen:
                raise MappingError(
                    f"Column '{used[target]}' of '{source_name}' chosen for {target} has no "
                    f"numbers (e.g. {_example(column)}); map {target} to a numeric column."
                )
            notes.append(
                f"Column '{used.pop(target)}' holds no numbers, so it is not used as {target}."
            )
            continue
        notes.extend(f"{target}: {note}" for note in parsed.notes)
        rejections.add(parsed.failed, reason)
        if target in (schema.PRICE, schema.AMOUNT):
            rejections.add(parsed.values < 0, NEGATIVE_PRICE)
        out[target] = parsed.values
    amount = out.pop(schema.AMOUNT, None)
    if amount is not None and schema.PRICE not in out:
        quantity = out.get(schema.QUANTITY)
        per_unit = amount if quantity is None else amount / quantity.abs().where(quantity != 0)
        out[schema.PRICE] = per_unit.fillna(amount)
        source = used[schema.AMOUNT]
        notes.append(
            f"Unit price read as '{source}' / quantity (a line total)."
            if quantity is not None
            else f"Price read from '{source}' (a line total, no quantity)."
        )
    return out


def _purchase_table_types(
    frame: pd.DataFrame,
    used: dict[str, str],
    export: schema.ExportFormat,
    numbers: dict[str, pd.Series],
) -> pd.Series:
    """Every row of an orders export is a purchase, or a return when its quantity is negative
    or its invoice cancelled."""
    is_return = np.zeros(len(frame), dtype=bool)
    if schema.QUANTITY in numbers:
        quantity = numbers[schema.QUANTITY]
        is_return |= (quantity < 0).to_numpy()
        numbers[schema.QUANTITY] = quantity.abs()
    if export.cancel_prefix and schema.ORDER_ID in used:
        orders = frame[used[schema.ORDER_ID]].astype("str")
        is_return |= orders.str.startswith(export.cancel_prefix).fillna(False).to_numpy()
    codes = is_return.astype(np.int8)
    categories = pd.Index([schema.PURCHASE, schema.RETURN], dtype="str")
    return pd.Series(
        pd.Categorical.from_codes(codes, categories=categories, validate=False), index=frame.index
    )


def duplicated_rows(frame: pd.DataFrame) -> np.ndarray:
    """True for each row equal to an earlier row in every column.

    Equal rows share their time, so only rows whose time occurs more than once are compared.
    """
    result = np.zeros(len(frame), dtype=bool)
    if schema.TIMESTAMP not in frame.columns or len(frame) < 2:
        return frame.duplicated(keep="first").to_numpy() if len(frame) else result
    times = frame[schema.TIMESTAMP].to_numpy().view(np.int64)
    order = (
        None
        if frame[schema.TIMESTAMP].is_monotonic_increasing
        else np.argsort(times, kind="stable")
    )
    ordered = times if order is None else times[order]
    repeated = np.zeros(len(frame), dtype=bool)
    same = ordered[1:] == ordered[:-1]
    repeated[1:] |= same
    repeated[:-1] |= same
    candidates = np.flatnonzero(repeated) if order is None else np.sort(order[repeated])
    if len(candidates):
        result[candidates] = frame.iloc[candidates].duplicated(keep="first").to_numpy()
    return result


def _drop_unused_categories(frame: pd.DataFrame) -> pd.DataFrame:
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].cat.remove_unused_categories()
    return frame


def _example(column: pd.Series) -> str:
    values = column.dropna().astype("str").head(1).tolist()
    # Error messages are one line: a quoted value may hold newlines.
    return f"'{' '.join(values[0].split())[:40]}'" if values else "no values at all"


def _result(
    raw: RawTable,
    *,
    frame: pd.DataFrame,
    rejected: pd.DataFrame,
    duplicates: int,
    duplicates_dropped: bool,
    export_format: schema.ExportFormat,
    mapping: dict[str, str],
    notes: tuple[str, ...],
    date_order: DateOrder = "auto",
    date_order_assumed: bool = False,
    returns: tuple[int, int] | None = None,
    other_event_types: dict[str, int] | None = None,
) -> LoadResult:
    """The ``LoadResult`` of ``raw``."""
    return LoadResult(
        frame=frame,
        rejected=rejected,
        duplicates=duplicates,
        duplicates_dropped=duplicates_dropped,
        export_format=export_format,
        mapping=mapping,
        notes=notes,
        rows_read=raw.rows_read,
        source_name=raw.source_name,
        read_as=raw.describe(),
        source_columns=tuple(map(str, raw.frame.columns)),
        date_order=date_order,
        date_order_assumed=date_order_assumed,
        returns=returns,
        other_event_types=other_event_types or {},
    )


def returns_note(read: int, kept: int) -> str:
    """What an export without an event column became: sold lines, and returns."""
    fate = (
        "all kept"
        if kept == read
        else f"of which {kept:,} are kept (the others are rejected for the reasons below)"
    )
    return (
        "No event column: every row is a sold line, read as a purchase; "
        f"{read:,} rows with a negative quantity or a cancelled invoice read as returns, {fate}."
    )


def other_event_types_note(counts: Mapping[str, int]) -> str:
    """Event labels kept as they are, with their rows (the first eight)."""
    listed = ", ".join(f"'{label}' ({n:,} rows)" for label, n in list(counts.items())[:8])
    return f"Event types kept as they are (not view, cart, fav, purchase or return): {listed}."


def require_rows(result: LoadResult) -> LoadResult:
    """``result``, or a one-line error when validation kept none of its rows.

    Raises:
        AllRowsRejectedError: naming the most frequent reason.
    """
    if result.rows_kept:
        return result
    reason, count = next(iter(result.rejected_counts.items()))
    raise AllRowsRejectedError(
        f"All {result.rows_read:,} rows of '{result.source_name}' were rejected, most for "
        f"'{reason}' ({count:,}); check the column mapping on the Data page."
    )


# --- products -----------------------------------------------------------------------------


def detect_products_mapping(raw: RawTable) -> dict[str, str]:
    """Propose a mapping of a product table's columns from their names and value shapes."""
    return _guess_mapping(raw.frame, schema.PRODUCT_FIELDS, {})


def map_products(raw: RawTable, *, mapping: ColumnMapping | None = None) -> LoadResult:
    """Map and validate a product table; unmapped columns are kept as extra features."""
    detected = detect_products_mapping(raw)
    used, chosen = _resolve_mapping(raw, detected, mapping, schema.PRODUCT_FIELDS)
    if schema.ITEM_ID not in used:
        raise MissingColumnsError(
            f"No column of the product table '{raw.source_name}' can be the item id (columns: "
            f"{', '.join(map(str, raw.frame.columns[:12]))}); map one to item_id on the Data page."
        )
    frame = raw.frame
    rejections = _Rejections(len(frame))
    notes: list[str] = []
    out: dict[str, pd.Series] = {}
    items = parse_ids(frame[used[schema.ITEM_ID]])
    rejections.add(items.isna(), MISSING_ITEM)
    out[schema.ITEM_ID] = items
    out.update(_map_numbers(frame, used, chosen, raw.source_name, rejections, notes))
    for target in (schema.CATEGORY, schema.BRAND, schema.NAME):
        if target in used:
            out[target] = frame[used[target]].astype("str").str.strip()
    # Only a valid earlier copy makes a row a repeat, so no item is lost to a rejected copy.
    valid = pd.Series(rejections.keep, index=items.index)
    repeated = items.where(valid).duplicated() & items.notna() & valid
    rejections.add(repeated, DUPLICATE_ITEM)
    products = pd.DataFrame(out)
    for column in frame.columns:
        if column not in used.values():
            products[column if column not in out else f"{column}_extra"] = frame[column]
    products = products[rejections.keep].reset_index(drop=True)
    products[schema.ITEM_ID] = products[schema.ITEM_ID].astype("str")
    return require_rows(
        _result(
            raw,
            frame=products,
            rejected=rejections.frame(raw),
            duplicates=int(repeated.sum()),  # rows without an item id are not repeats
            duplicates_dropped=True,
            export_format=schema.PRODUCTS_TABLE,
            mapping=used,
            notes=tuple(notes),
        )
    )
