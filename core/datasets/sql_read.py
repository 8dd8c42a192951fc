"""Reading a big plain CSV export into a dataset inside DuckDB, with the loader's own results.

The loader (``core.data.loading``) recognises the export and guesses the mapping on a sample
from the top of the file; DuckDB then reads every row as text, maps and validates it in SQL
(the loader's rejection reasons, in its order), and writes the kept rows sorted by time, the
rejected ones with their row number, reason and values, and the counts. This is faster than
mapping the file through pandas a piece at a time, and gives what the whole-file loader gives.

The rule for when it is used: the file is one uncompressed UTF-8 CSV larger than a piece,
whose sample holds the rows the loader guesses the format from; its events have an event
column, a time column of integer unix seconds or milliseconds, and no numbers, names or
product table; and every value is in a form the SQL reads exactly as the loader does (ids that
are integers written plainly in an integer column, or text that no reader takes for a number,
without surrounding spaces; times that are integers of the sample's unit). Any file or value
outside it (a malformed row, a byte that is not UTF-8, an id such as '007' or '5.0', a time
that is not an integer) makes ``stage_in_sql`` return None, and the file is read the pandas
way: a file is never read by other rules than the loader's.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import duckdb
import numpy as np
import pandas as pd

from core import schema
from core.data.loading import (
    IMPLAUSIBLE_TIME,
    MISSING_EVENT,
    MISSING_ITEM,
    MISSING_TIME,
    MISSING_USER,
    SHAPE_SAMPLE,
    UNPARSEABLE_TIME,
    LoadResult,
    map_event_rows,
    other_event_types_note,
)
from core.data.parsing import TIME_MAX, TIME_MIN, DateOrder, parse_event_types
from core.data.reading import MAX_FIELD, ROW, first_piece_end, read_path, read_table
from core.errors import ShopLensError

SAMPLE_BYTES: Final = 4 * 1024 * 1024  # the top of the file the loader recognises
POLL_SECONDS: Final = 0.5  # how often a reading is watched
MAX_LABELS: Final = 200  # distinct event labels mapped in SQL; more are read the pandas way
_PLAIN_SUFFIXES: Final = (".csv", ".tsv", ".txt")
# The values pyarrow's CSV reader (the loader's) reads as missing, so DuckDB reads them alike.
_NULLS: Final = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "n/a",
    "nan",
    "null",
)
# Python's str.strip removes these (ASCII and Unicode white space) where SQL's trim does not.
_SPACE: Final = (
    r"[\s\x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}"
    r"\x{205f}\x{3000}]"
)
# Each unit's note word, name, the magnitudes the loader reads in it (low, high], and the
# magnitude from which it cannot read a time (over 4e18 nanoseconds).
_UNITS: Final = {
    "seconds": ("s", 1e8, 1e11, 4_000_000_000),
    "milliseconds": ("ms", 1e11, 1e14, 4_000_000_000_000),
}
_ID_FIELDS: Final = (
    schema.USER_ID,
    schema.ITEM_ID,
    schema.ORDER_ID,
    schema.SESSION_ID,
    schema.CATEGORY,
)
_HANDLED: Final = frozenset((*_ID_FIELDS, schema.TIMESTAMP, schema.EVENT_TYPE))
_REASONS: Final = (
    MISSING_USER,
    MISSING_TIME,
    UNPARSEABLE_TIME,
    IMPLAUSIBLE_TIME,
    MISSING_ITEM,
    MISSING_EVENT,
)
_EVENT: Final = "event_label"  # the staged raw event label
_TIME: Final = "time_number"  # the staged raw time as an integer
_REASON: Final = "reason_code"
_UNSURE: Final = "unsure"


@dataclass(frozen=True)
class SqlRead:
    """What reading a file in DuckDB found; the events and rejected rows are written.

    Attributes:
        first: the loader's result on the sample (export, mapping, how the file was read).
        rows_read: data rows in the file.
        rows_kept: rows written to the events file.
        rejected: rejected rows per reason.
        notes: the whole file's notes, as the loader words them.
        users: distinct users kept.
        items: distinct items kept (0 without item ids).
        start: the first event's time (ISO 8601).
        end: the last event's time.
        duplicates: kept rows equal to an earlier kept row in every column.
        in_time_order: whether the kept rows came in time order (then they were not sorted).
    """

    first: LoadResult
    rows_read: int
    rows_kept: int
    rejected: Counter[str]
    notes: tuple[str, ...]
    users: int
    items: int
    start: str
    end: str
    duplicates: int
    in_time_order: bool


@dataclass(frozen=True)
class _Plan:
    """How DuckDB reads the file: the sample's layout, and each field's source position."""

    first: LoadResult
    width: int
    delimiter: str
    has_header: bool
    positions: dict[str, int]  # canonical field -> column position in the file
    integer_fields: frozenset[str]  # id fields whose sample column is integers
    unit: str  # 's' or 'ms'
    band: tuple[float, float]  # every time's magnitude is in (low, high]
    unreadable: int  # times of this magnitude or more are unparseable
    estimated_rows: int  # the file's rows, judged by the sample's


@dataclass(frozen=True)
class Staged:
    """A file read into DuckDB's table ``staged``, every value as the loader reads it."""

    plan: _Plan
    path: Path
    labels: dict[str, tuple[str, int]]  # raw event label -> canonical type, rows
    label_notes: tuple[str, ...]
    rows_read: int


# Told the share of the file read so far (0 to 1) and the rows that makes, every
# ``POLL_SECONDS`` while DuckDB reads it; it stops the reading by raising.
Watch = Callable[[float, int], None]


def stage_in_sql(
    files: list[Path],
    *,
    con: duckdb.DuckDBPyConnection,
    mapping: dict[str, str | None],
    date_order: DateOrder,
    piece_bytes: int,
    watch: Watch | None = None,
) -> Staged | None:
    """``files`` read into the table ``staged`` of ``con`` (whose insertion order is kept), or
    None when they are outside the rule in the module's docstring (nothing left behind).

    Raises:
        whatever ``watch`` raises, once DuckDB has stopped reading.
    """
    plan = _plan(files, mapping, date_order, piece_bytes)
    if plan is None:
        return None
    try:
        _execute_watched(
            con, f"CREATE TEMP TABLE staged AS {_staging_query(files[0], plan)}", plan, watch
        )
    except duckdb.Error:  # a malformed row, a byte that is not UTF-8, a line too long...
        return None
    (unsure, rows_read) = con.execute(
        f"SELECT coalesce(bool_or({_UNSURE}), false), count(*) FROM staged"
    ).fetchone() or (True, 0)
    labels = None if unsure else _event_labels(con)
    if labels is None:
        con.execute("DROP TABLE staged")
        return None
    return Staged(plan, files[0], labels[0], labels[1], int(rows_read))


def _execute_watched(
    con: duckdb.DuckDBPyConnection, query: str, plan: _Plan, watch: Watch | None
) -> None:
    """Run ``query`` in a thread of its own while ``watch`` is told how far it has gone; when
    ``watch`` raises, DuckDB is interrupted and the error raised once it has stopped."""
    if watch is None:
        con.execute(query)
        return
    failed: list[BaseException] = []

    def run() -> None:
        try:
            con.execute(query)
        except BaseException as err:  # raised in the caller's thread below
            failed.append(err)

    worker = threading.Thread(target=run, name="ingest-read", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(POLL_SECONDS)
            if worker.is_alive():
                share = min(max(con.query_progress(), 0.0) / 100, 0.99)
                watch(share, round(share * plan.estimated_rows))
    except BaseException:
        con.interrupt()
        worker.join()
        raise
    if failed:
        raise failed[0]


def _plan(
    files: list[Path], mapping: dict[str, str | None], date_order: DateOrder, piece_bytes: int
) -> _Plan | None:
    if len(files) != 1 or not files[0].name.lower().endswith(_PLAIN_SUFFIXES):
        return None
    try:
        data = read_path(files[0])
        if len(data) <= piece_bytes or data[:3] == b"\xef\xbb\xbf":
            return None  # one piece: the loader reads it whole; a BOM: DuckDB keeps it
        sample = bytes(data[: first_piece_end(data, SAMPLE_BYTES)])
        raw = read_table(sample, name=files[0].name)
        first = map_event_rows(
            raw,
            mapping=mapping,
            date_order=date_order,
            name_each_item=False,
            count_duplicates=False,
        )
    except ShopLensError:
        return None  # the pandas way says why in one line
    used = first.mapping
    unit = next(
        (u for word, u in _UNITS.items() if f"Times read as unix {word} (UTC)." in first.notes),
        None,
    )
    columns = list(raw.frame.columns)
    if (
        raw.rows_read < SHAPE_SAMPLE  # the loader guesses from more rows than the sample holds
        or raw.file_kind != "csv"
        or raw.encoding != "utf-8"
        or len(raw.malformed)
        or not set(used) <= _HANDLED
        or schema.EVENT_TYPE not in used
        or unit is None
        or not pd.api.types.is_integer_dtype(raw.frame[used[schema.TIMESTAMP]])
    ):
        return None
    return _Plan(
        first=first,
        width=len(columns),
        delimiter=raw.delimiter or ",",
        has_header=raw.has_header,
        positions={target: columns.index(source) for target, source in used.items()},
        integer_fields=frozenset(
            f for f in _ID_FIELDS if f in used and pd.api.types.is_integer_dtype(raw.frame[used[f]])
        ),
        unit=unit[0],
        band=(unit[1], unit[2]),
        unreadable=unit[3],
        estimated_rows=raw.rows_read * len(data) // max(len(sample), 1),
    )


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _column(position: int) -> str:
    return f"c{position}"


def _staging_query(path: Path, plan: _Plan) -> str:
    """Every row with its fields parsed, its rejection reason's number (0: kept), and whether
    any value is in a form the SQL may not read as the loader does."""
    names = ", ".join(f"{_quoted(_column(i))}: 'VARCHAR'" for i in range(plan.width))
    nulls = ", ".join(_quoted(n) for n in _NULLS)
    source = (
        f"read_csv({_quoted(str(path))}, auto_detect = false, columns = {{{names}}}, "
        f"header = {str(plan.has_header).lower()}, delim = {_quoted(plan.delimiter)}, "
        f"quote = '\"', escape = '\"', nullstr = [{nulls}])"
    )
    time = _column(plan.positions[schema.TIMESTAMP])
    integers = [_column(plan.positions[f]) for f in sorted(plan.integer_fields)] + [time]
    # Each integer is cast once, as n<position>, and compared with its text.
    read = (
        f"SELECT *, {', '.join(f'TRY_CAST({c} AS BIGINT) AS n{c}' for c in integers)} FROM {source}"
    )
    fields, unsure = [], []
    for field in _ID_FIELDS:
        if field not in plan.positions:
            continue
        raw = _column(plan.positions[field])
        if field in plan.integer_fields:
            # Only integers written as Python writes them ('7', not '07', '+7' or '7.0').
            fields.append(f"n{raw} AS {field}")
            unsure.append(
                f"({raw} IS NOT NULL AND coalesce(CAST(n{raw} AS VARCHAR) <> {raw}, true))"
            )
        else:
            fields.append(f"{raw} AS {field}")
            unsure.append(
                f"({raw} IS NOT NULL AND (regexp_matches({raw}, '^{_SPACE}|{_SPACE}$') "
                f"OR length({raw}) > {MAX_FIELD} OR (TRY_CAST({raw} AS DOUBLE) IS NOT NULL "
                f"AND NOT regexp_full_match({raw}, '0|-?[1-9][0-9]{{0,17}}'))))"
            )
    low, high = plan.band
    fields.append(f"n{time} AS {_TIME}")
    unsure.append(
        f"({time} IS NOT NULL AND coalesce(CAST(n{time} AS VARCHAR) <> {time} "
        f"OR NOT abs(n{time}) > {low:.0f} OR abs(n{time}) > {high:.0f}, true))"
    )
    event = _column(plan.positions[schema.EVENT_TYPE])
    fields.append(f"{event} AS {_EVENT}")
    reasons = [
        f"{_column(plan.positions[schema.USER_ID])} IS NULL",
        f"{time} IS NULL",
        f"abs(n{time}) >= {plan.unreadable}",
        f"NOT {_timestamp(f'n{time}', plan.unit)} BETWEEN "
        f"TIMESTAMP '{TIME_MIN}' AND TIMESTAMP '{TIME_MAX}'",
        f"{_column(plan.positions[schema.ITEM_ID])} IS NULL"
        if schema.ITEM_ID in plan.positions
        else "false",
        f"{event} IS NULL",
    ]
    cases = " ".join(f"WHEN {r} THEN {n}" for n, r in enumerate(reasons, start=1))
    fields.append(f"CAST(CASE {cases} ELSE 0 END AS TINYINT) AS {_REASON}")
    fields.append(f"{' OR '.join(unsure)} AS {_UNSURE}")
    # Other columns are kept for the rejected rows only, to show them as the file has them.
    others = [i for i in range(plan.width) if i not in plan.positions.values()]
    fields += [f"{_column(i)} AS {_other(i)}" for i in others]
    query = f"SELECT {', '.join(fields)} FROM ({read})"
    if not others:
        return query
    blanked = ", ".join(
        f"CASE WHEN {_REASON} > 0 THEN {_other(i)} END AS {_other(i)}" for i in others
    )
    return f"SELECT * REPLACE ({blanked}) FROM ({query})"


def _other(position: int) -> str:
    return f"other_{position}"


def _timestamp(number: str, unit: str) -> str:
    return f"epoch_ms({number})" if unit == "ms" else f"make_timestamp({number} * 1000000)"


def _event_labels(
    con: duckdb.DuckDBPyConnection,
) -> tuple[dict[str, tuple[str, int]], tuple[str, ...]] | None:
    """Each raw event label's canonical type and rows, in order of first appearance, and the
    notes on them; None when a label may be read otherwise by the loader (a number such as
    '01' or '1.0', or an overlong label) or there are too many labels to map in SQL."""
    rows = con.execute(
        f"SELECT {_EVENT}, count(*) FROM staged WHERE {_EVENT} IS NOT NULL "
        f"GROUP BY {_EVENT} ORDER BY min(rowid)"
    ).fetchall()
    if len(rows) > MAX_LABELS:
        return None
    labels = [str(label) for label, _ in rows]
    if any(len(label) > MAX_FIELD or _is_odd_number(label) for label in labels):
        return None
    parsed = parse_event_types(pd.Series(labels, dtype="str"))
    mapped = {
        label: (str(value), int(n))
        for label, value, (_, n) in zip(labels, parsed.values, rows, strict=True)
    }
    others: Counter[str] = Counter()
    for value, n in mapped.values():
        if value not in schema.EVENT_TYPES:
            others[value] += n
    notes = parsed.notes + ((other_event_types_note(others),) if others else ())
    return mapped, notes


def write_staged(
    con: duckdb.DuckDBPyConnection,
    staged: Staged,
    *,
    events: Path,
    rejected: Path,
    parquet_options: str,
) -> SqlRead:
    """Write the kept rows of ``staged`` to ``events`` (Parquet, by time; ties in the file's
    order; written with ``parquet_options``) and the rejected ones to the folder ``rejected``,
    and count them."""
    plan, mapped = staged.plan, staged.labels
    time = _timestamp(_TIME, plan.unit)
    counts = dict(
        con.execute(f"SELECT {_REASON}, count(*) FROM staged GROUP BY {_REASON}").fetchall()
    )
    rows_read, rows_kept = sum(counts.values()), counts.get(0, 0)
    has_items = schema.ITEM_ID in plan.positions
    item_count = f"count(DISTINCT {schema.ITEM_ID})" if has_items else "0"
    users, items, start, end = con.execute(
        f"SELECT count(DISTINCT {schema.USER_ID}), {item_count}, min({_TIME}), max({_TIME}) "
        f"FROM staged WHERE {_REASON} = 0"
    ).fetchone() or (0, 0, None, None)
    in_time_order = _in_time_order(con)
    fields = [f for f in schema.EVENT_FIELDS if f in plan.positions]
    event_case = (
        "CASE "
        + " ".join(
            f"WHEN {_EVENT} = {_quoted(k)} THEN {_quoted(v)}" for k, (v, _) in mapped.items()
        )
        + " END"
    )
    canonical = {
        schema.EVENT_TYPE: f"{event_case} AS {schema.EVENT_TYPE}",
        schema.TIMESTAMP: f"CAST({time} AS TIMESTAMP_NS) AS {schema.TIMESTAMP}",
    }
    selected = ", ".join(canonical.get(f, f"CAST({f} AS VARCHAR) AS {f}") for f in fields)
    order = "" if in_time_order else f" ORDER BY {_TIME}, rowid"
    con.execute(
        f"COPY (SELECT {selected} FROM staged WHERE {_REASON} = 0{order}) "
        f"TO {_quoted(str(events))} ({parquet_options})"
    )
    # Rows equal in every canonical field: the staged fields, with the event's type in place
    # of its label when two labels are one type.
    one_label_each = len({v for v, _ in mapped.values()}) == len(mapped)
    compared = {
        schema.EVENT_TYPE: _EVENT if one_label_each else event_case,
        schema.TIMESTAMP: _TIME,
    }
    every = ", ".join(compared.get(f, f) for f in fields)
    (distinct,) = con.execute(
        f"SELECT count(*) FROM (SELECT DISTINCT {every} FROM staged WHERE {_REASON} = 0)"
    ).fetchone() or (0,)
    if rows_read > rows_kept:
        _write_rejected(con, plan, staged.path, rejected)
    con.execute("DROP TABLE staged")
    first = plan.first
    # The sample's notes on event labels are said again over the whole file.
    sample_label_notes = {schema.EVENT_CODE_NOTE, other_event_types_note(first.other_event_types)}
    kept_notes = tuple(n for n in first.notes if n not in sample_label_notes)
    return SqlRead(
        first=first,
        rows_read=int(rows_read),
        rows_kept=int(rows_kept),
        rejected=Counter({_REASONS[code - 1]: int(n) for code, n in counts.items() if code}),
        notes=kept_notes + staged.label_notes,
        users=int(users),
        items=int(items),
        start=_as_time(start, plan.unit),
        end=_as_time(end, plan.unit),
        duplicates=int(rows_kept - distinct),
        in_time_order=in_time_order,
    )


def _as_time(number: int | None, unit: str) -> str:
    return pd.Timestamp(number, unit=unit).isoformat() if number is not None else ""


def _in_time_order(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the kept rows' times never go down, read a batch at a time in the file's order
    (the connection keeps insertion order: an ORDER BY rowid would sort the whole table)."""
    reader = con.execute(f"SELECT {_TIME} FROM staged WHERE {_REASON} = 0").to_arrow_reader(
        1_000_000
    )
    last: int | None = None
    for batch in reader:
        times = batch.column(0).to_numpy()
        if not len(times):
            continue
        if (last is not None and times[0] < last) or bool(np.any(times[1:] < times[:-1])):
            return False
        last = int(times[-1])
    return True


def _is_odd_number(text: str) -> bool:
    """Whether ``text`` reads as a number other than a plain integer ('01', '1.0', '1e3'):
    the loader may read a column of such labels as numbers, and name them otherwise."""
    try:
        float(text)
    except ValueError:
        return False
    return re.fullmatch(r"0|-?[1-9][0-9]*", text) is None


def _write_rejected(
    con: duckdb.DuckDBPyConnection, plan: _Plan, path: Path, rejected: Path
) -> None:
    """The rejected rows, with their row number, reason and values as the file gives them."""
    reasons = " ".join(f"WHEN {n} THEN {_quoted(r)}" for n, r in enumerate(_REASONS, start=1))
    staged_as = {position: field for field, position in plan.positions.items()}
    staged_as = {
        position: {schema.TIMESTAMP: _TIME, schema.EVENT_TYPE: _EVENT}.get(field, field)
        for position, field in staged_as.items()
    }
    shown = ", ".join(
        f"CAST({staged_as.get(position, _other(position))} AS VARCHAR) AS {_quoted_name(name)}"
        for position, name in enumerate(plan.first.source_columns)
    )
    rejected.mkdir(exist_ok=True)
    con.execute(
        f"COPY (SELECT CAST(rowid + 1 AS BIGINT) AS {ROW}, CASE {_REASON} {reasons} END AS reason, "
        f"{shown}, {_quoted(path.name)} AS file FROM staged WHERE {_REASON} > 0 ORDER BY rowid) "
        f"TO {_quoted(str(rejected / '000000.parquet'))} (FORMAT parquet)"
    )


def _quoted_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
