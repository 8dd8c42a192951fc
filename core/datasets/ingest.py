"""Ingestion: a recognised export, however big, converted once into a canonical dataset.

The source (files, a glob or a folder of CSV, ``.csv.gz``, zip or Parquet files) is read a piece
at a time (``read_pieces``), and every piece is mapped and validated by the loader's own rules,
with the mapping and date order found in the first piece, so memory stays bounded whatever the
size. Kept rows go to Parquet part files; DuckDB then sorts them by time into one events table,
spilling to disk when they do not fit in memory, and counts users, items and duplicates over the
whole. A big plain CSV that SQL can read exactly as the loader does is mapped, validated, sorted
and counted inside DuckDB instead, which is faster (``core.datasets.sql_read`` says when).
A dataset is a folder ``<data dir>/<name>/``:

- ``events.parquet``: canonical events, sorted by time, in row groups for pruning;
- ``products.parquet``: the product table, when one was given;
- ``rejected/``: every rejected row with its row number, file and reason;
- ``dataset.json``: the load report.

It is written in a hidden staging folder and renamed into place: an interrupted ingest leaves no
dataset behind.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core import schema
from core.data.loading import (
    ROW,
    LoadResult,
    map_event_rows,
    other_event_types_note,
    read_products,
    returns_note,
)
from core.data.parsing import DateOrder, is_date_order_note
from core.data.reading import PIECE_BYTES, read_pieces
from core.datasets.sql_read import stage_in_sql, write_staged
from core.errors import AllRowsRejectedError, DatasetError
from core.runs.datasets import writer_is_gone, writer_prefix

EVENTS: Final = "events.parquet"
PRODUCTS: Final = "products.parquet"
REJECTED: Final = "rejected"
REPORT: Final = "dataset.json"
STAGING: Final = ".staging-"
FILE: Final = "file"
# Row groups of a million rows made DuckDB write the events file about twice as slowly (it
# holds each group's rows in their order until the group is full); this size is as fast as
# DuckDB's own and still lets a period's reads skip most of a long log.
ROW_GROUP_ROWS: Final = 262_144
# A small dictionary limit: DuckDB's default had it build a dictionary of each row group's user
# and item ids before giving it up for plain values, which made writing a 10M-event log about
# a quarter slower for the same file (labels and categories still get their dictionaries).
# zstd's fastest level: writing a 10M-event log took 0.5 s (12%) less than at its default
# level 3, for a file 2% larger (94 MB instead of 92 MB) that reads as fast.
EVENTS_PARQUET: Final = (
    f"FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP_ROWS}, COMPRESSION zstd, COMPRESSION_LEVEL 1, "
    "DICTIONARY_SIZE_LIMIT 10000"
)
DUCKDB_MEMORY: Final = "2GB"  # DuckDB spills to the staging folder past this
_TABLE_SUFFIXES: Final = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".zip", ".parquet")
_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_DATES: Final = "\0dates"
_RETURNS: Final = "\0returns"  # where the notes that count rows go
_OTHER_TYPES: Final = "\0other event types"
_ORDER: Final = "_order"  # each kept row's place in the source, to keep equal times in order

_PLAIN_SUFFIXES: Final = (".csv", ".tsv", ".txt")


@dataclass(frozen=True)
class IngestProgress:
    """How far an ingest has gone.

    Attributes:
        rows_read: data rows read so far, over every file.
        file: the file being read (its name).
        files_done: files read whole.
        files: files to read.
        share: an estimate of the share of the reading done, from 0 to 1 (by the pieces read of
            plain text files' sizes; by whole files for compressed and Parquet ones).
        sorting: the reading is over and the rows are being sorted and counted.
    """

    rows_read: int
    file: str
    files_done: int
    files: int
    share: float
    sorting: bool = False


# Called after each piece and before sorting; returning False stops the ingest (nothing kept).
OnProgress = Callable[[IngestProgress], bool | None]


class IngestCancelledError(DatasetError):
    """The ingest was stopped before it ended; no dataset was kept."""


@dataclass(frozen=True)
class IngestReport:
    """What an ingest read and kept.

    Attributes:
        dataset: the dataset's name.
        sources: the files read, in order.
        rows_read: data rows in the files.
        rows_kept: rows in the dataset.
        rejected: rejected rows per reason, most frequent first.
        duplicates: kept rows equal to an earlier row in every column.
        users: distinct users kept.
        items: distinct items kept (0 without item ids).
        start: the first event's time (ISO 8601, UTC).
        end: the last event's time.
        export_format: the recognised export, as the user sees it.
        format_key: its short identifier.
        mapping: canonical field -> source column used.
        read_as: how the first file was read.
        notes: assumptions made while reading, in words for the user.
        seconds: wall time of the ingest.
    """

    dataset: str
    sources: tuple[str, ...]
    rows_read: int
    rows_kept: int
    rejected: dict[str, int]
    duplicates: int
    users: int
    items: int
    start: str
    end: str
    export_format: str
    format_key: str
    mapping: dict[str, str]
    read_as: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-ready values."""
        return dataclasses.asdict(self)


def check_name(name: str) -> str:
    """``name`` when it can name a dataset folder.

    Raises:
        DatasetError: one line, for anything but 1-64 letters, digits, ``.``, ``_`` and ``-``
            starting with a letter or digit.
    """
    if not _NAME.fullmatch(name):
        raise DatasetError(
            f"'{name[:80]}' cannot name a dataset; use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return name


def source_files(sources: Sequence[str | Path]) -> list[Path]:
    """The files ``sources`` name: files as given, folders' table files and glob matches, each
    sorted by name.

    Raises:
        DatasetError: one line, when a source matches nothing.
    """
    files: list[Path] = []
    for source in sources:
        text = str(source)
        if glob.has_magic(text):
            found = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
        elif Path(text).is_dir():
            found = sorted(
                p for p in Path(text).iterdir() if p.is_file() and _is_table(p) and not _hidden(p)
            )
        else:
            found = [Path(text)]  # read_pieces says why when it is not a readable file
        if not found:
            raise DatasetError(
                f"'{text}' names no CSV, .csv.gz, zip or Parquet file; give files, a folder of "
                "them or a pattern such as 'logs/*.csv.gz'."
            )
        files += found
    return list(dict.fromkeys(files))


def remove_abandoned(data_dir: Path) -> None:
    """Remove the hidden working folders of ingests whose process was killed."""
    for folder in Path(data_dir).glob(".*"):
        if folder.is_dir() and writer_is_gone(folder.name):
            shutil.rmtree(folder, ignore_errors=True)


def files_within(folder: Path, source: str) -> list[Path]:
    """The files ``source`` (a file, folder or pattern, relative to ``folder`` unless absolute)
    names, when every one of them lies inside ``folder`` (links followed).

    Raises:
        DatasetError: one line, when the source matches nothing or reaches outside ``folder``.
    """
    root = folder.resolve()
    text = source.strip()
    if not text:
        raise DatasetError("Give the path of a file, a folder or a pattern to ingest.")
    path = Path(text) if Path(text).is_absolute() else root / text
    files = source_files([path])
    if not all(file.resolve().is_relative_to(root) for file in files):
        raise DatasetError(
            f"'{text[:120]}' is outside the folder the app may read from; put the files under "
            "it (setting SHOPLENS_IMPORT_DIR) and give their path from there."
        )
    return files


def ingest(
    sources: Sequence[str | Path],
    *,
    name: str,
    data_dir: Path,
    products: str | Path | None = None,
    mapping: dict[str, str | None] | None = None,
    date_order: DateOrder = "auto",
    piece_bytes: int = PIECE_BYTES,
    on_progress: OnProgress | None = None,
) -> IngestReport:
    """Convert ``sources`` into the dataset ``name`` under ``data_dir``; see the module.

    Args:
        sources: files, folders or glob patterns of one export's files.
        name: the dataset's name (its folder).
        data_dir: where datasets are kept.
        products: a product table; events whose item is not in it are rejected.
        mapping: canonical field -> source column, overriding the detected mapping.
        date_order: how to read dates like 03/04/2024 when the data cannot tell.
        piece_bytes: text read at once.
        on_progress: told how far the ingest has gone after each piece and once the sorting
            starts; returning False stops the ingest.

    Raises:
        DatasetError: a bad name, a name in use, or sources that match nothing.
        IngestCancelledError: ``on_progress`` asked to stop.
        AllRowsRejectedError: validation kept no row.
        ShopLensError: a file cannot be read, or its columns cannot be mapped (one line).
    """
    started = time.perf_counter()
    check_name(name)
    target = Path(data_dir) / name
    if target.exists():
        raise DatasetError(
            f"A dataset named '{name}' exists already; choose another --name or delete it first."
        )
    files = source_files(sources)
    product_result = read_products(products) if products is not None else None
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned(target.parent)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=writer_prefix(STAGING)))
    try:
        in_sql = (
            _read_in_sql(files, staging, mapping or {}, date_order, piece_bytes, on_progress)
            if product_result is None
            else None
        )
        if in_sql is not None:
            pieces, summary = in_sql
        else:
            pieces, summary = _read_in_pieces(
                files, staging, product_result, mapping or {}, date_order, piece_bytes, on_progress
            )
        report = _report(name, files, pieces, summary, time.perf_counter() - started)
        (staging / REPORT).write_text(json.dumps(report.as_json(), indent=1), encoding="utf-8")
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report


def _read_in_sql(
    files: list[Path],
    staging: Path,
    mapping: dict[str, str | None],
    date_order: DateOrder,
    piece_bytes: int,
    on_progress: OnProgress | None,
) -> tuple[_Pieces, dict[str, Any]] | None:
    """The files read, mapped, validated, sorted and counted in DuckDB (``core.datasets.
    sql_read``), or None when they must be read a piece at a time (nothing left behind)."""
    begun = IngestProgress(0, files[0].name, 0, len(files), 0.0)
    if on_progress is not None and on_progress(begun) is False:
        raise _cancelled(0)

    def watch(share: float, rows: int) -> None:
        reading = IngestProgress(rows, files[0].name, 0, len(files), share)
        if on_progress is not None and on_progress(reading) is False:
            raise _cancelled(rows)

    with _connect(staging) as con:
        staged = stage_in_sql(
            files,
            con=con,
            mapping=mapping,
            date_order=date_order,
            piece_bytes=piece_bytes,
            watch=watch if on_progress is not None else None,
        )
        if staged is None:
            return None
        done = IngestProgress(staged.rows_read, files[-1].name, len(files), len(files), 1.0, True)
        if on_progress is not None and on_progress(done) is False:
            raise _cancelled(staged.rows_read)
        read = write_staged(
            con,
            staged,
            events=staging / EVENTS,
            rejected=staging / REJECTED,
            parquet_options=EVENTS_PARQUET,
        )
    shutil.rmtree(staging / "spill", ignore_errors=True)
    if not read.rows_kept:
        raise _all_rejected(read.rows_read, read.rejected)
    pieces = _Pieces(
        first=read.first,
        rows_read=read.rows_read,
        rows_kept=read.rows_kept,
        rejected=read.rejected,
        notes=list(read.notes),
        in_time_order=read.in_time_order,
    )
    summary = {
        "users": read.users,
        "items": read.items,
        "start": read.start,
        "end": read.end,
        "duplicates": read.duplicates,
    }
    return pieces, summary


def _read_in_pieces(
    files: list[Path],
    staging: Path,
    products: LoadResult | None,
    mapping: dict[str, str | None],
    date_order: DateOrder,
    piece_bytes: int,
    on_progress: OnProgress | None,
) -> tuple[_Pieces, dict[str, Any]]:
    """The files read a piece at a time through the loader, then sorted and counted."""

    def write(order: DateOrder) -> _Pieces:
        return _write_pieces(files, staging, products, mapping, order, piece_bytes, on_progress)

    try:
        pieces = write(date_order)
    except _AssumedDateOrderError as shown:  # earlier pieces assumed the other order: again
        pieces = write(shown.order)
        pieces.date_note = shown.note
    if products is not None:
        products.frame.to_parquet(staging / PRODUCTS, index=False)
    done = IngestProgress(pieces.rows_read, files[-1].name, len(files), len(files), 1.0, True)
    if on_progress is not None and on_progress(done) is False:
        raise _cancelled(pieces.rows_read)
    return pieces, _sort_and_count(staging, in_time_order=pieces.in_time_order)


@contextmanager
def _connect(staging: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection that spills to the staging folder past ``DUCKDB_MEMORY``."""
    with duckdb.connect() as con:
        con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
        con.execute("SET temp_directory = ?", [str(staging / "spill")])
        con.execute("SET preserve_insertion_order = true")
        con.execute("SET enable_progress_bar = false")
        yield con


def _all_rejected(rows_read: int, rejected: Counter[str]) -> AllRowsRejectedError:
    reason, count = rejected.most_common(1)[0]
    return AllRowsRejectedError(
        f"All {rows_read:,} rows were rejected, most for '{reason}' ({count:,}); "
        "check the column mapping (--map)."
    )


@dataclass
class _Pieces:
    """What the pieces of an ingest found, added up."""

    first: LoadResult | None = None
    rows_read: int = 0
    rows_kept: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    returns: tuple[int, int] | None = None
    other_event_types: Counter[str] = field(default_factory=Counter)
    date_note: str = ""
    in_time_order: bool = True  # every piece starts at or after the end of the one before
    last_time: pd.Timestamp | None = None

    def add_times(self, times: pd.Series) -> None:
        """Follow whether the pieces come in time order (each piece is sorted by time)."""
        if not len(times):
            return
        if self.last_time is not None and times.iloc[0] < self.last_time:
            self.in_time_order = False
        self.last_time = times.iloc[-1]

    def add_notes(self, result: LoadResult, *, first: bool, shows_date_order: bool) -> None:
        """The notes of one piece. Notes that count rows are said once, over every piece, and
        the day/month order is said by the first piece or the one that showed it (a placeholder
        keeps each one's place)."""
        counted = {}
        if result.returns is not None:
            counted[_RETURNS] = returns_note(*result.returns)
            read, kept = self.returns or (0, 0)
            self.returns = read + result.returns[0], kept + result.returns[1]
        if result.other_event_types:
            counted[_OTHER_TYPES] = other_event_types_note(result.other_event_types)
        self.other_event_types.update(result.other_event_types)
        for note in result.notes:
            if is_date_order_note(note):
                if first or shows_date_order:
                    self.date_note = note
                note = _DATES
            note = next((key for key, text in counted.items() if note == text), note)
            if note not in self.notes:
                self.notes.append(note)

    def said(self) -> tuple[str, ...]:
        """The notes, with the counted ones over every piece."""
        whole = {
            _RETURNS: returns_note(*self.returns) if self.returns else "",
            _OTHER_TYPES: other_event_types_note(self.other_event_types),
            _DATES: self.date_note,
        }
        return tuple(whole.get(note, note) for note in self.notes)


def _write_pieces(
    files: list[Path],
    staging: Path,
    products: LoadResult | None,
    mapping: dict[str, str | None],
    date_order: DateOrder,
    piece_bytes: int,
    on_progress: OnProgress | None,
) -> _Pieces:
    parts, rejected = staging / "parts", staging / REJECTED
    for folder in (parts, rejected):
        shutil.rmtree(folder, ignore_errors=True)  # what an earlier reading left
        folder.mkdir()
    found = _Pieces()
    sizes = [path.stat().st_size if path.is_file() else 0 for path in files]
    for number, (result, shows_date_order, place) in enumerate(
        _mapped_pieces(files, products, mapping, date_order, piece_bytes)
    ):
        if number == 0:
            found.first = result
        frame = result.frame.assign(
            **{_ORDER: range(found.rows_kept, found.rows_kept + len(result.frame))}
        )
        pq.write_table(
            pa.Table.from_pandas(frame, preserve_index=False), parts / f"{number:06}.parquet"
        )
        if len(result.rejected):
            rows = result.rejected.astype("str").assign(**{FILE: result.source_name})
            rows[ROW] = result.rejected[ROW]
            rows.to_parquet(rejected / f"{number:06}.parquet", index=False)
        found.add_times(result.frame[schema.TIMESTAMP])
        found.rows_read += result.rows_read
        found.rows_kept += len(result.frame)
        found.rejected.update(result.rejected_counts)
        found.add_notes(result, first=number == 0, shows_date_order=shows_date_order)
        if on_progress is not None:
            file_number, piece = place
            path = files[file_number]
            within = (
                min((piece + 1) * piece_bytes / max(sizes[file_number], 1), 0.99)
                if path.name.lower().endswith(_PLAIN_SUFFIXES)
                else 0.0
            )
            share = (file_number + within) / len(files)
            progress = IngestProgress(found.rows_read, path.name, file_number, len(files), share)
            if on_progress(progress) is False:
                raise _cancelled(found.rows_read)
    if not found.rows_kept:
        raise _all_rejected(found.rows_read, found.rejected)
    return found


def _cancelled(rows_read: int) -> IngestCancelledError:
    return IngestCancelledError(
        f"The ingest was stopped after {rows_read:,} rows; no dataset was kept."
    )


class _AssumedDateOrderError(Exception):
    """A piece showed the dates' day/month order after earlier pieces had assumed the other."""

    def __init__(self, order: DateOrder, note: str) -> None:
        super().__init__(order)
        self.order, self.note = order, note


def _mapped_pieces(
    files: list[Path],
    products: LoadResult | None,
    mapping: dict[str, str | None],
    date_order: DateOrder,
    piece_bytes: int,
) -> Iterator[tuple[LoadResult, bool, tuple[int, int]]]:
    """Each piece of every file, mapped and validated, whether it is the one that showed
    the day/month order, and where it is (the file's number and the piece's in that file).
    After the first piece, the mapping is the one it settled on; the date order, once a piece
    shows it (until then each piece judges its own dates, as the whole file would be judged).

    Raises:
        _AssumedDateOrderError: a piece showed an order other than one an earlier piece assumed.
    """
    product_frame = products.frame if products is not None else None
    decided = date_order != "auto"
    assumed: set[DateOrder] = set()
    first = True
    for file_number, path in enumerate(files):
        for piece, raw in enumerate(read_pieces(path, piece_bytes=piece_bytes)):
            result = map_event_rows(
                raw,
                mapping=mapping,
                date_order=date_order,
                products=product_frame,
                name_each_item=False,  # named once over the whole table, in _sort_and_count
                count_duplicates=False,  # counted over the whole table there too
            )
            if first:
                mapping = {f: result.mapping.get(f) for f in schema.EVENT_MAPPING_FIELDS}
                first = False
            shows = not decided and result.date_order != "auto" and not result.date_order_assumed
            if shows:
                if assumed - {result.date_order}:
                    note = next(n for n in result.notes if is_date_order_note(n))
                    raise _AssumedDateOrderError(result.date_order, note)
                date_order, decided = result.date_order, True
            elif not decided and result.date_order_assumed:
                assumed.add(result.date_order)
            yield result, shows, (file_number, piece)


def _sort_and_count(staging: Path, *, in_time_order: bool) -> dict[str, Any]:
    """Sort the part files by time into ``events.parquet`` and count over the whole table.

    Parts that came in time order are copied in their order, unsorted (most exports are
    written in time order, and sorting is most of the work). Duplicates are counted exactly
    in two steps: rows whose hash of every column repeats, then those rows grouped by every
    column, so only a few rows are compared whole.
    """
    parts = sorted((staging / "parts").glob("*.parquet"))
    listed = ", ".join(f"'{part}'" for part in parts)
    with _connect(staging) as con:
        con.execute(f"SET preserve_insertion_order = {str(in_time_order).lower()}")
        con.execute(
            f"CREATE VIEW pieces AS SELECT * FROM read_parquet([{listed}], union_by_name = true)"
        )
        columns = [row[0] for row in con.execute("DESCRIBE SELECT * FROM pieces").fetchall()]
        con.execute(
            f"COPY ({_sorted_and_named(columns, in_time_order=in_time_order)}) TO "
            f"'{staging / EVENTS}' "
            f"({EVENTS_PARQUET})"
        )
        con.execute("SET preserve_insertion_order = false")
        # As the loader counts them: rows equal in every column as read, before naming.
        every = ", ".join(f'"{c}"' for c in columns if c != _ORDER)
        items = f'count(DISTINCT "{schema.ITEM_ID}")' if schema.ITEM_ID in columns else "0"
        users, item_count, start, end = con.execute(
            f'SELECT count(DISTINCT "{schema.USER_ID}"), {items}, '
            f'min("{schema.TIMESTAMP}"), max("{schema.TIMESTAMP}") FROM pieces'
        ).fetchone() or (0, 0, None, None)
        (duplicates,) = con.execute(
            f"WITH repeated AS (SELECT hash({every}) AS h FROM pieces GROUP BY h "
            "HAVING count(*) > 1) "
            f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM pieces "
            f"WHERE hash({every}) IN (SELECT h FROM repeated) GROUP BY {every}) WHERE n > 1"
        ).fetchone() or (0,)
    shutil.rmtree(staging / "parts")
    shutil.rmtree(staging / "spill", ignore_errors=True)
    return {
        "users": int(users),
        "items": int(item_count),
        "start": pd.Timestamp(start).isoformat(),
        "end": pd.Timestamp(end).isoformat(),
        "duplicates": int(duplicates),
    }


def _sorted_and_named(columns: list[str], *, in_time_order: bool) -> str:
    """The query of the events in time order (ties in source order), each item named by the
    name its rows give most often (ties: the name seen first), as ``most_frequent_names``
    names them in the loader. Pieces in time order are read in order, not sorted."""
    order = f'"{schema.TIMESTAMP}", {_ORDER}'
    if schema.NAME not in columns or schema.ITEM_ID not in columns:
        if in_time_order:
            return f"SELECT * EXCLUDE ({_ORDER}) FROM pieces"
        return f"SELECT * EXCLUDE ({_ORDER}) FROM pieces ORDER BY {order}"
    item, name = f'"{schema.ITEM_ID}"', f'"{schema.NAME}"'
    seen = f"{{'time': \"{schema.TIMESTAMP}\", 'order': {_ORDER}}}"
    return (
        f"WITH counts AS (SELECT {item} AS item, {name} AS name, count(*) AS n, "
        f"min({seen}) AS first FROM pieces WHERE {item} IS NOT NULL AND {name} IS NOT NULL "
        "GROUP BY ALL), "
        "best AS (SELECT item, name FROM (SELECT *, row_number() OVER (PARTITION BY item "
        "ORDER BY n DESC, first) AS rank FROM counts) WHERE rank = 1) "
        f"SELECT p.* EXCLUDE ({_ORDER}) REPLACE (best.name AS {name}) "
        f"FROM pieces AS p LEFT JOIN best ON p.{item} = best.item "
        f'ORDER BY p."{schema.TIMESTAMP}", p.{_ORDER}'
    )


def _report(
    name: str, files: list[Path], pieces: _Pieces, summary: dict[str, Any], seconds: float
) -> IngestReport:
    first = pieces.first
    assert first is not None  # a piece was read, or _write_pieces raised
    return IngestReport(
        dataset=name,
        sources=tuple(str(f) for f in files),
        rows_read=pieces.rows_read,
        rows_kept=pieces.rows_kept,
        rejected=dict(pieces.rejected.most_common()),
        export_format=first.export_format.label,
        format_key=first.export_format.key,
        mapping=dict(first.mapping),
        read_as=first.read_as,
        notes=pieces.said(),
        seconds=round(seconds, 3),
        **summary,
    )


def _is_table(path: Path) -> bool:
    return path.name.lower().endswith(_TABLE_SUFFIXES)


def _hidden(path: Path) -> bool:
    return path.name.startswith(".")
