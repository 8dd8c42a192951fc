"""Turn an uploaded or local file into a raw table of its own columns.

Handles compression and containers (gzip, zip, Parquet, xlsx), text encodings (UTF-8 with or
without BOM, UTF-16, GB18030, cp1252/latin-1), delimiters, header detection, and rows with the
wrong number of fields. Nothing here knows about events or products; see ``core.loading``.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from charset_normalizer import from_bytes

from core import schema
from core.data.blobs import (
    CHUNK,
    Blob,
    Spool,
    first_undecodable,
    is_blank,
    map_descriptor,
    open_blob,
    transcode,
)
from core.data.limits import Budget, check_members, inflate_gzip, read_member
from core.errors import (
    ArchiveContentsError,
    BinaryFileError,
    CorruptFileError,
    EmptyFileError,
    NoDataRowsError,
    NotAFileError,
    SourceNotFoundError,
    TooFewColumnsError,
    UnreadableFileError,
)

Source = str | Path | bytes | BinaryIO

DELIMITERS = (",", ";", "\t", "|")
ROW = "row"
REASON = "reason"
MALFORMED_ROW = "malformed row (wrong number of fields)"
MAX_FIELD = 131_072  # characters: the longest field a row may hold (the csv module's limit)
FIELD_TOO_LONG = f"field too long (over {MAX_FIELD:,} characters)"
_SNIFF_BYTES = 256 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = b"PAR1"
PIECE_BYTES = 64 * 1024 * 1024  # text read at once by read_pieces
_LINE_END = re.compile(rb"[\r\n]")
_GIVE_A_FILE = "give the path of a CSV, Parquet or Excel file"
_TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".parquet", ".xlsx")
_BINARY_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"%PDF": "a PDF document",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or Office file",
    b"SQLite format 3": "an SQLite database",
    b"\x7fELF": "a program",
}
_ID_HEADERS = frozenset(
    name
    for field in (
        schema.USER_ID,
        schema.ITEM_ID,
        schema.ORDER_ID,
        schema.SESSION_ID,
        schema.CATEGORY,
    )
    for name in schema.COLUMN_SYNONYMS[field]
) | {"productid", "categoryid", "customeruniqueid"}


@dataclass(frozen=True)
class RawTable:
    """A file's table before any mapping.

    Attributes:
        frame: the file's columns under their own (deduplicated) header names, or
            ``column_1``, ``column_2``, ... when the file has no header.
        row_numbers: for each frame row, its 1-based data row number in the file.
        malformed: rows dropped while parsing, with ``row``, ``reason`` and their raw text.
        source_name: the file name as the user knows it.
        file_kind: ``csv``, ``parquet`` or ``xlsx``, with ``+gzip`` / ``+zip`` when unpacked.
        encoding: the text encoding used (``None`` for Parquet and xlsx).
        delimiter: the field separator used (``None`` for Parquet and xlsx).
        has_header: whether the first row was read as column names.
    """

    frame: pd.DataFrame
    row_numbers: np.ndarray
    malformed: pd.DataFrame
    source_name: str
    file_kind: str
    encoding: str | None = None
    delimiter: str | None = None
    has_header: bool = True

    @property
    def rows_read(self) -> int:
        """Data rows in the file, malformed ones included."""
        return len(self.frame) + len(self.malformed)

    def describe(self) -> str:
        """One line on how the file was read, e.g. ``CSV, UTF-8, ';'-separated, with header``."""
        kind, *containers = self.file_kind.split("+")
        parts = [kind.upper() + "".join(f" in {c}" for c in containers)]
        if self.encoding:
            parts.append(self.encoding.upper())
        if self.delimiter:
            parts.append(
                "tab-separated" if self.delimiter == "\t" else f"'{self.delimiter}'-separated"
            )
        parts.append("with header" if self.has_header else "no header row")
        return ", ".join(parts)


def read_table(source: Source, *, name: str | None = None) -> RawTable:
    """Read ``source`` (a path, bytes or a binary file object) into a ``RawTable``.

    Raises:
        ShopLensError: a subclass naming the problem when the file cannot be read as a table.
    """
    data, source_name = _read_source(source, name)
    return _read_bytes(data, source_name, kind_prefix="")


def read_pieces(path: str | Path, *, piece_bytes: int = PIECE_BYTES) -> Iterator[RawTable]:
    """The table at ``path`` a piece at a time, so that a file of any size is read with bounded
    memory. Each piece is read by the same rules as ``read_table``; row numbers count from the
    top of the file. A file up to ``piece_bytes`` (unpacked) is one piece, read exactly as
    ``read_table`` reads it.

    Compressed files are unpacked to a temporary file first (refused past the expansion ratio
    only: the size cap guards memory, and this goes to disk); CSV text that is not UTF-8 is
    re-encoded there as a whole, so every piece reads the same way.

    Raises:
        ShopLensError: a subclass naming the problem, as ``read_table`` does.
    """
    data, name = read_path(path), Path(path).name
    yield from _pieces(data, name, piece_bytes, kind_prefix="")


def _pieces(data: Blob, name: str, piece_bytes: int, kind_prefix: str) -> Iterator[RawTable]:
    data, name, kind_prefix = _unwrapped(data, name, kind_prefix, Budget.for_disk())
    head = data[:16]
    if head[:4] == _PARQUET_MAGIC and len(data) > piece_bytes:
        yield from _parquet_pieces(data, name, piece_bytes, kind_prefix)
    elif len(data) <= piece_bytes or _binary_kind(head) or head[:4] == _ZIP_MAGIC:
        yield _read_bytes(
            data, name, kind_prefix=kind_prefix
        )  # one piece, or one line saying why not
    else:
        yield from _csv_pieces(data, name, piece_bytes, kind_prefix)


def _parquet_pieces(
    data: Blob, name: str, piece_bytes: int, kind_prefix: str
) -> Iterator[RawTable]:
    try:
        parquet = _checked_parquet(data, name, Budget.for_disk())
        metadata = parquet.metadata
        unpacked = sum(
            metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups)
        )
        rows_per_piece = max(1, piece_bytes * max(metadata.num_rows, 1) // max(unpacked, 1))
        rows_read = 0
        for batch in parquet.iter_batches(batch_size=rows_per_piece):
            piece = _framed(batch.to_pandas(), name, "parquet" + kind_prefix)
            yield _shifted(piece, rows_read)
            rows_read += piece.rows_read
    except (OSError, ValueError, pa.ArrowException) as err:
        raise _damaged_parquet(name, err) from None


def _csv_pieces(data: Blob, name: str, piece_bytes: int, kind_prefix: str) -> Iterator[RawTable]:
    encoding = _detect_encoding(data, trust_sample=False)
    if encoding != "utf-8":
        data = transcode(data, encoding)
    view = memoryview(data)
    bounds = _piece_bounds(data, piece_bytes)
    start, end = next(bounds)
    first = _read_bytes(bytes(view[start:end]), name, kind_prefix=kind_prefix)
    shown = encoding.replace("-sig", " with BOM")
    yield dataclasses.replace(first, encoding=shown)
    if first.has_header:
        header = bytes(view[: data.find(b"\n") + 1])
    else:
        header = (first.delimiter or ",").join(first.frame.columns).encode() + b"\n"
    rows_read = first.rows_read
    for start, end in bounds:
        piece = _read_bytes(header + bytes(view[start:end]), name, kind_prefix=kind_prefix)
        piece = dataclasses.replace(piece, encoding=shown, has_header=first.has_header)
        yield _shifted(piece, rows_read)
        rows_read += piece.rows_read


def first_piece_end(data: Blob, piece_bytes: int) -> int:
    """Where the first piece of CSV text ``data`` ends, as ``read_pieces`` cuts it."""
    return next(_piece_bounds(data, piece_bytes), (0, 0))[1]


def _piece_bounds(data: Blob, piece_bytes: int) -> Iterator[tuple[int, int]]:
    """Where each piece of CSV text starts and ends: at a line break past ``piece_bytes``
    that is outside quotes (an even number of quote marks since the piece's start)."""
    quoted = b'"' in data
    view = memoryview(data)
    start = 0
    while start < len(data):
        end = min(start + piece_bytes, len(data))
        quotes = bytes(view[start:end]).count(b'"') if quoted else 0
        while end < len(data):
            line_end = data.find(b"\n", end)
            line_end = len(data) if line_end < 0 else line_end + 1
            if quoted:
                quotes += bytes(view[end:line_end]).count(b'"')
            end = line_end
            if quotes % 2 == 0:
                break
        yield start, end
        start = end


def _shifted(piece: RawTable, rows_before: int) -> RawTable:
    """``piece`` with its row numbers counted from the top of the whole file."""
    if not rows_before:
        return piece
    malformed = piece.malformed.copy()
    rows = malformed[ROW]
    malformed[ROW] = rows.where(rows < 0, rows + rows_before)
    return dataclasses.replace(
        piece, row_numbers=piece.row_numbers + rows_before, malformed=malformed
    )


def _read_source(source: Source, name: str | None) -> tuple[Blob, str]:
    if isinstance(source, (str, Path)):
        return read_path(source), name or Path(source).name
    if isinstance(source, bytes):
        return source, name or "uploaded file"
    getvalue = getattr(source, "getvalue", None)
    data = getvalue() if callable(getvalue) else source.read()
    return data, name or str(getattr(source, "name", "uploaded file"))


def read_path(path: str | Path) -> Blob:
    """The content of the regular file at ``path``, mapped rather than read into memory.

    Raises:
        SourceNotFoundError: nothing is at ``path``.
        NotAFileError: ``path`` is a folder, a named pipe, a device or a socket (never opened
            in a way that waits, so a pipe with no writer cannot hang the reader).
        UnreadableFileError: the file cannot be read (no permission, input/output error).
    """
    shown = str(path)
    try:
        _check_regular(os.stat(path).st_mode, shown)
        # Non-blocking, and checked again once open, in case the path changed in between.
        handle = os.open(
            path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        )
    except (FileNotFoundError, NotADirectoryError, ValueError):  # ValueError: a NUL in the path
        raise SourceNotFoundError(
            f"File '{shown}' does not exist; check the path and try again."
        ) from None
    except OSError as err:
        raise _unreadable(shown, err) from None
    try:
        _check_regular(os.fstat(handle).st_mode, shown)
        if hasattr(os, "set_blocking"):
            os.set_blocking(handle, True)
        return map_descriptor(handle)
    except OSError as err:
        raise _unreadable(shown, err) from None
    finally:
        os.close(handle)


def _check_regular(mode: int, shown: str) -> None:
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a disk device"),
        (stat.S_ISSOCK, "a socket"),
    )
    for test, kind in kinds:
        if test(mode):
            raise NotAFileError(f"'{shown}' is {kind}, not a file; {_GIVE_A_FILE}.")
    if not stat.S_ISREG(mode):
        raise NotAFileError(f"'{shown}' is not a regular file; {_GIVE_A_FILE}.")


def _unreadable(shown: str, err: OSError) -> UnreadableFileError:
    if isinstance(err, PermissionError):
        return UnreadableFileError(
            f"'{shown}' cannot be read: permission denied; give a file you may read, or ask "
            "its owner to share it."
        )
    reason = err.strerror or type(err).__name__
    return UnreadableFileError(
        f"'{shown}' cannot be read ({reason}); copy it to a local folder and try again."
    )


def _read_bytes(data: Blob, source_name: str, *, kind_prefix: str) -> RawTable:
    data, source_name, kind_prefix = _unwrapped(
        data, source_name, kind_prefix, Budget.from_settings()
    )
    if not data[:65536].strip() and is_blank(data):
        raise EmptyFileError(
            f"'{source_name}' is empty; export the data again and upload a file with rows."
        )
    head = data[:16]
    if head[:4] == _ZIP_MAGIC:  # a zip that is a workbook
        return _read_xlsx(data, source_name, kind_prefix)
    if head[:4] == _PARQUET_MAGIC:
        return _read_parquet(data, source_name, kind_prefix)
    if what := _binary_kind(head):
        raise BinaryFileError(
            f"'{source_name}' is {what}, not a table; upload a CSV, Excel (.xlsx), "
            "Parquet, .csv.gz or .zip file."
        )
    return _read_csv(data, source_name, kind_prefix)


def _unwrapped(
    data: Blob, source_name: str, kind_prefix: str, budget: Budget
) -> tuple[Blob, str, str]:
    """``data`` with its gzip and zip layers taken off within ``budget``, the name of the
    table inside and the layers in ``kind_prefix`` (``+gzip+zip``: gzip inside a zip); a
    workbook, itself a zip, stays whole."""
    while True:
        head = data[:4]
        if head[:2] == _GZIP_MAGIC:
            data = inflate_gzip(data, f"'{source_name}'", budget)
            kind_prefix = "+gzip" + kind_prefix
        elif head == _ZIP_MAGIC and (member := _unzip(data, source_name, budget)) is not None:
            data, inner = member
            source_name = f"{source_name}/{inner}"
            kind_prefix = "+zip" + kind_prefix
        else:
            return data, source_name, kind_prefix


def _binary_kind(head: bytes) -> str | None:
    """What a file starting with ``head`` is, when it is a known kind of file that is no table."""
    return next((what for magic, what in _BINARY_MAGIC.items() if head.startswith(magic)), None)


def _detail(err: BaseException) -> str:
    """A library's error text on one line (pyarrow's may end in or contain newlines)."""
    return " ".join(str(err).split())


def _unzip(data: Blob, source_name: str, budget: Budget) -> tuple[Blob, str] | None:
    """The one table in the zip ``data`` and its name, or None when the zip is a workbook."""
    try:
        archive = zipfile.ZipFile(open_blob(data))
        names = [n for n in archive.namelist() if not n.endswith("/")]
        if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
            return None
        tables = [
            n
            for n in names
            if n.lower().endswith(_TABLE_SUFFIXES)
            and not n.startswith("__MACOSX/")
            and not Path(n).name.startswith(".")
        ]
        if len(tables) != 1:
            found = ", ".join(tables[:5]) if tables else "no CSV, Parquet or xlsx file"
            raise ArchiveContentsError(
                f"'{source_name}' holds {len(tables)} tables ({found}); "
                "upload a zip with exactly one table, or the table itself."
            )
        return read_member(archive, tables[0], f"'{source_name}/{tables[0]}'", budget), tables[0]
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as err:
        # ValueError: offsets in a damaged directory ("negative seek value").
        raise CorruptFileError(
            f"'{source_name}' is a damaged zip file ({_detail(err)}); "
            "zip the table again and retry."
        ) from None
    except NotImplementedError:
        raise CorruptFileError(
            f"'{source_name}' uses a zip compression method that cannot be unpacked here; "
            "zip the table again with standard (deflate) compression."
        ) from None


def _read_parquet(data: Blob, source_name: str, kind_prefix: str) -> RawTable:
    try:
        frame = _checked_parquet(data, source_name, Budget.from_settings()).read().to_pandas()
    except (OSError, ValueError, pa.ArrowException) as err:
        raise _damaged_parquet(source_name, err) from None
    return _framed(frame.reset_index(drop=True), source_name, "parquet" + kind_prefix)


def _checked_parquet(data: Blob, source_name: str, budget: Budget) -> pq.ParquetFile:
    """The Parquet file ``data``, once its metadata shows it unpacks within ``budget``: as a
    whole, and each column of each row group against its own packed size."""
    parquet = pq.ParquetFile(pa.BufferReader(data))
    metadata = parquet.metadata
    groups = [metadata.row_group(i) for i in range(metadata.num_row_groups)]
    if sum(group.total_byte_size for group in groups) > budget.allowed(len(data)):
        raise budget.refusal(f"'{source_name}'", len(data))
    for group in groups:
        for index in range(group.num_columns):
            column = group.column(index)
            if column.total_uncompressed_size > budget.allowed(column.total_compressed_size):
                raise budget.refusal(
                    f"'{source_name}' (column '{column.path_in_schema}')",
                    column.total_compressed_size,
                )
    return parquet


def _damaged_parquet(source_name: str, err: BaseException) -> CorruptFileError:
    return CorruptFileError(
        f"'{source_name}' is a damaged Parquet file ({_detail(err)}); export it again."
    )


def _read_xlsx(data: Blob, source_name: str, kind_prefix: str) -> RawTable:
    try:
        with zipfile.ZipFile(open_blob(data)) as workbook:
            check_members(workbook, f"'{source_name}'", Budget.from_settings())
        header = pd.read_excel(open_blob(data), sheet_name=0, engine="openpyxl", nrows=0)
        # Id columns stay text, as in CSV files, so that text cells like '007' keep their zeros.
        id_types = {
            c: "str" for c in header.columns if schema.normalise_label(str(c)) in _ID_HEADERS
        }
        frame = pd.read_excel(open_blob(data), sheet_name=0, engine="openpyxl", dtype=id_types)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, SyntaxError) as err:
        # SyntaxError: damaged XML inside the workbook (xml.etree's ParseError subclasses it).
        raise CorruptFileError(
            f"'{source_name}' is an Excel file that cannot be opened ({_detail(err)}); "
            "save it again as .xlsx or CSV."
        ) from None
    frame = frame.dropna(how="all")
    frame.columns = _unique_names([str(c) for c in frame.columns])
    return _framed(frame.reset_index(drop=True), source_name, "xlsx" + kind_prefix)


def _framed(frame: pd.DataFrame, source_name: str, kind: str) -> RawTable:
    if frame.empty:
        raise NoDataRowsError(
            f"'{source_name}' has column names but no data rows; export it again with its rows."
        )
    if frame.shape[1] < 2:
        raise TooFewColumnsError(
            f"'{source_name}' has a single column; a table needs at least a user column and "
            "a time column."
        )
    frame.columns = _unique_names([str(c) for c in frame.columns])
    return RawTable(
        frame=frame,
        row_numbers=np.arange(1, len(frame) + 1),
        malformed=_malformed_frame([], [], []),
        source_name=source_name,
        file_kind=kind,
    )


def _detect_encoding(data: Blob, *, trust_sample: bool = True) -> str:
    """The file's encoding; with ``trust_sample``, a UTF-8 top of the file is taken as UTF-8
    (the CSV parser checks the rest and the caller retries with the whole file)."""
    head = data[:4]
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if trust_sample:
        try:
            # A multi-byte character may be cut at the end of the sample: ignore that one.
            codecs.getincrementaldecoder("utf-8")().decode(data[:_SNIFF_BYTES], final=False)
            return "utf-8"
        except UnicodeDecodeError:
            pass
    bad = first_undecodable(data, "utf-8")
    if bad is None:
        return "utf-8"
    # Judge the encoding where the non-UTF-8 bytes are, not only at the top of the file.
    around = data[max(0, bad - _SNIFF_BYTES // 2) : bad + _SNIFF_BYTES // 2]
    best = from_bytes(around, cp_isolation=["gb18030", "cp1252"]).best()
    encoding = best.encoding if best is not None else "cp1252"
    if first_undecodable(data, encoding) is not None:
        # cp1252 leaves five bytes undefined; latin-1 decodes every byte.
        return "latin-1"
    return "gb18030" if encoding == "gb18030" else encoding.replace("_", "-")


def _sample_lines(sample: str) -> list[str]:
    """The sample's lines, each cut to the longest field a row may hold, so that guessing the
    layout never trips on one enormous field (the row itself is rejected later)."""
    return [line[:MAX_FIELD] for line in sample.splitlines()]


def _sniff_delimiter(sample: str, source_name: str) -> str:
    lines = [line for line in _sample_lines(sample)[:60] if line.strip()]
    if len(lines) > 2:
        lines = lines[:-1]  # the sample may end mid-line
    best: tuple[float, int, str] | None = None
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if not counts:
            continue
        widest = max(set(counts), key=counts.count)
        if widest < 2:
            continue
        candidate = (counts.count(widest) / len(counts), widest, delimiter)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    if best is None:
        raise TooFewColumnsError(
            f"'{source_name}' has a single column (no ',', ';', tab or '|' separator found); "
            "a table needs at least a user column and a time column."
        )
    return best[2]


def _looks_numeric(value: str) -> bool:
    return bool(re.fullmatch(r"\s*-?[\d.,]+(e[+-]?\d+)?\s*", value, flags=re.IGNORECASE))


def _detect_header(rows: list[list[str]]) -> bool:
    first, body = rows[0], rows[1:]
    known = {n for names in schema.COLUMN_SYNONYMS.values() for n in names}
    if any(schema.normalise_label(cell) in known for cell in first):
        return True
    if not body:
        return True
    for col, cell in enumerate(first):
        values = [row[col] for row in body if col < len(row) and row[col].strip()]
        numeric = sum(_looks_numeric(v) for v in values)
        if values and numeric >= 0.9 * len(values) and not _looks_numeric(cell) and cell.strip():
            return True
    return not any(_looks_numeric(cell) for cell in first) and len(set(first)) == len(first)


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for position, raw in enumerate(names, start=1):
        name = raw.strip() or f"column_{position}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        seen.setdefault(name, 1)
        result.append(name)
    return result


def _read_csv(data: Blob, source_name: str, kind_prefix: str) -> RawTable:
    encoding = _detect_encoding(data)
    if b"\x00" in data[:8192] and encoding != "utf-16":
        raise BinaryFileError(
            f"'{source_name}' is a binary file, not text; upload a CSV, Excel (.xlsx), "
            "Parquet, .csv.gz or .zip file."
        )
    if encoding != "utf-8":
        data = transcode(data, encoding)  # the BOM of UTF-8 with BOM is dropped
    sample = data[:_SNIFF_BYTES].decode("utf-8", errors="ignore")
    delimiter = _sniff_delimiter(sample, source_name)
    sample_rows = list(csv.reader(_sample_lines(sample)[:60], delimiter=delimiter))
    sample_rows = [row for row in sample_rows if any(cell.strip() for cell in row)]
    has_header = _detect_header(sample_rows)
    if len(sample_rows) == 1 and len(data) <= _SNIFF_BYTES:
        # A lone header line without a line break would make pyarrow fail to skip it.
        raise NoDataRowsError(
            f"'{source_name}' has column names but no data rows; export it again with its rows."
        )
    # The usual width of a data row, so that one row with a stray field does not make every
    # other row look malformed; a header never narrows the table.
    header_width = len(sample_rows[0]) if has_header else 0
    widths = [len(row) for row in (sample_rows[1:] if has_header else sample_rows)[:30]]
    width = max(set(widths), key=lambda w: (widths.count(w), w == header_width)) if widths else 0
    width = max(width, header_width)
    if has_header:
        names = _unique_names(sample_rows[0] + [""] * (width - len(sample_rows[0])))
    else:
        names = [f"column_{i}" for i in range(1, width + 1)]
    lines = _sample_lines(sample)[1 if has_header else 0 :]
    if len(data) > _SNIFF_BYTES:
        lines = lines[:-1]  # the sample may end mid-line
    id_types = _text_id_columns(names, list(csv.reader(lines, delimiter=delimiter)))
    numeric_ids = [
        n for n in names if schema.normalise_label(n) in _ID_HEADERS and n not in id_types
    ]
    blanked: dict[int, str] = {}  # line number -> what was there, for lines too long to read
    try:
        try:
            table, bad = _parse_csv(data, delimiter, names, has_header, id_types, use_threads=True)
        except pa.ArrowInvalid as err:
            if "straddl" not in str(err):  # a row longer than a block: blank it and read again
                raise
            data, blanked = _blank_long_lines(data, delimiter)
            table, bad = _parse_csv(data, delimiter, names, has_header, id_types, use_threads=True)
        not_utf8 = encoding == "utf-8" and _has_binary_columns(table)
    except pa.ArrowInvalid as err:
        if encoding != "utf-8" or "utf8" not in str(err).lower():
            raise CorruptFileError(
                f"'{source_name}' cannot be read as a table ({str(err).splitlines()[0]}); "
                "check that it is a CSV export and upload it again."
            ) from None
        not_utf8 = True
    if not_utf8:
        # The top of the file was UTF-8 (or plain ASCII); further down it is not.
        encoding = _detect_encoding(data, trust_sample=False)
        data = transcode(data, encoding)
        table, bad = _parse_csv(data, delimiter, names, has_header, id_types, use_threads=True)
    if bad:
        # Row numbers of bad rows are only reported by a single-threaded read.
        table, bad = _parse_csv(data, delimiter, names, has_header, id_types, use_threads=False)
    if table.num_rows == 0:
        raise NoDataRowsError(
            f"'{source_name}' has column names but no data rows; export it again with its rows."
        )
    offset = 1 if has_header else 0
    bad_rows = [number - offset if number is not None else -1 for number, _ in bad]
    row_numbers = np.arange(1, table.num_rows + len(bad) + 1)
    if bad:
        kept = np.ones(len(row_numbers), dtype=bool)
        known = [r - 1 for r in bad_rows if 0 < r <= len(row_numbers)]
        kept[known] = False
        row_numbers = row_numbers[kept][: table.num_rows]
    texts = [blanked.get(number, text) if number is not None else text for number, text in bad]
    reasons = [FIELD_TOO_LONG if number in blanked else MALFORMED_ROW for number, _ in bad]
    long_rows, previews = _long_values(table)
    if long_rows.any():  # rows that fit in a block but hold a field no row may hold
        bad_rows += row_numbers[long_rows].tolist()
        texts += previews
        reasons += [FIELD_TOO_LONG] * len(previews)
        table = table.filter(pa.array(~long_rows))
        row_numbers = row_numbers[~long_rows]
        if table.num_rows == 0:
            raise NoDataRowsError(
                f"'{source_name}' has no row whose fields all fit in {MAX_FIELD:,} characters; "
                "export it again."
            )
    return RawTable(
        frame=_exact_ids(table, numeric_ids).to_pandas(),
        row_numbers=row_numbers,
        malformed=_malformed_frame(bad_rows, texts, reasons),
        source_name=source_name,
        file_kind="csv" + kind_prefix,
        encoding=encoding.replace("-sig", " with BOM"),
        delimiter=delimiter,
        has_header=has_header,
    )


def _is_natural_number(text: str) -> bool:
    """'0', '7', '-12': an integer without leading zeros that fits in 64 bits."""
    digits = text[1:] if text.startswith("-") else text
    return (
        digits.isascii()
        and digits.isdigit()
        and len(digits) <= 18
        and (digits[0] != "0" or digits == "0")
    )


def _text_id_columns(names: list[str], rows: list[list[str]]) -> dict[str, pa.DataType]:
    """Id columns to read as text, judged on the rows at the top of the file.

    Natural integer ids of varying width ('7', '1042') parse much faster as numbers. Codes with
    letters or leading zeros ('85123A', '007') stay text, and so do fixed-width digit codes
    ('10042', '20317'), which may be zero-padded further down.
    """
    types: dict[str, pa.DataType] = {}
    for position, name in enumerate(names):
        if schema.normalise_label(name) not in _ID_HEADERS:
            continue
        values = [row[position].strip() for row in rows if position < len(row)]
        values = [v for v in values if v]
        natural = all(_is_natural_number(v) for v in values)
        fixed_width = len(values) > 1 and len({len(v) for v in values}) == 1
        if not natural or fixed_width:
            types[name] = pa.string()
    return types


def _exact_ids(table: pa.Table, names: list[str]) -> pa.Table:
    """Integer id columns with gaps as text: pandas would make them floats, which round ids
    above 2**53 so that two ids become one."""
    for name in names:
        position = table.schema.get_field_index(name)
        column = table.column(position)
        if pa.types.is_integer(column.type) and column.null_count:
            table = table.set_column(position, name, column.cast(pa.string()))
    return table


def _parse_csv(
    data: Blob,
    delimiter: str,
    names: list[str],
    has_header: bool,
    id_types: dict[str, pa.DataType],
    *,
    use_threads: bool,
) -> tuple[pa.Table, list[tuple[int | None, str]]]:
    bad: list[tuple[int | None, str]] = []

    def keep_bad_row(row: pacsv.InvalidRow) -> str:
        bad.append((row.number, row.text))
        return "skip"

    read_options = pacsv.ReadOptions(
        column_names=names, skip_rows=1 if has_header else 0, use_threads=use_threads
    )
    parse_options = pacsv.ParseOptions(
        delimiter=delimiter,
        newlines_in_values=b'"' in data,
        invalid_row_handler=keep_bad_row,
    )
    # Low-cardinality text (event labels) arrives as categoricals, which later steps need.
    convert = pacsv.ConvertOptions(
        column_types=id_types, strings_can_be_null=True, auto_dict_encode=True
    )
    try:
        table = pacsv.read_csv(pa.BufferReader(data), read_options, parse_options, convert)
    except pa.ArrowInvalid:
        # A later block disagreed with the types guessed from the first one: read all as text.
        bad.clear()
        convert = pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True
        )
        table = pacsv.read_csv(pa.BufferReader(data), read_options, parse_options, convert)
    return table, bad


def _has_binary_columns(table: pa.Table) -> bool:
    types = [f.type.value_type if pa.types.is_dictionary(f.type) else f.type for f in table.schema]
    return any(pa.types.is_binary(t) or pa.types.is_large_binary(t) for t in types)


def _malformed_frame(rows: list[int], texts: list[str], reasons: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            ROW: pd.array(rows, dtype="Int64"),
            REASON: reasons,
            "raw text": pd.array(texts, dtype="str"),
        }
    )


def _preview(text: str | bytes) -> str:
    """The start of an overlong field or line, and its length."""
    if isinstance(text, bytes):
        text = text[:200].decode("utf-8", errors="replace")
        return f"{text[:80]}… (a line too long to read)"
    return f"{text[:80]}… ({len(text):,} characters)"


def _blank_long_lines(data: Blob, delimiter: str) -> tuple[Blob, dict[int, str]]:
    """``data`` with every line that holds a field over ``MAX_FIELD`` characters replaced by a
    line of one field, which the reader then rejects as malformed, and those lines' numbers
    (1-based, as the reader counts them) with a preview of what they held.

    Memory stays bounded whatever a line's length: the long field is found by a search over
    ``data``, never copied, and the result is written to a spool."""
    long_field = re.compile(rb"[^\r\n%s]{%d,}" % (re.escape(delimiter.encode()), MAX_FIELD + 1))
    blanked: dict[int, str] = {}
    view = memoryview(data)
    last = line = 0
    with Spool() as spool:
        while match := long_field.search(data, last):
            start = max(
                data.rfind(b"\n", last, match.start()), data.rfind(b"\r", last, match.start())
            )
            start = last if start < 0 else start + 1
            end_match = _LINE_END.search(data, match.end())
            end = end_match.start() if end_match else len(data)
            line += _count_newlines(view[last:start])
            spool.write(view[last:start])
            spool.write(b"(field too long)")
            blanked[line + 1] = _preview(bytes(view[start : start + 200]))
            last = end
        spool.write(view[last:])
        return spool.mapped(), blanked


def _count_newlines(view: memoryview) -> int:
    return sum(bytes(view[i : i + CHUNK]).count(b"\n") for i in range(0, len(view), CHUNK))


def _may_hold_long_text(column: pa.ChunkedArray) -> bool:
    """Whether a column has a text value of over ``MAX_FIELD`` bytes (a quick look at the
    offsets, or at the dictionary of an encoded column, before counting characters)."""
    for chunk in column.chunks:
        values = chunk.dictionary if pa.types.is_dictionary(chunk.type) else chunk
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            return False
        longest = pc.max(pc.binary_length(values)).as_py()
        if longest is not None and longest > MAX_FIELD:
            return True
    return False


def _long_values(table: pa.Table) -> tuple[np.ndarray, list[str]]:
    """Which rows hold a text field over ``MAX_FIELD`` characters, and a preview of each."""
    mask = np.zeros(table.num_rows, dtype=bool)
    longest: dict[int, str] = {}
    for column in table.columns:
        if not _may_hold_long_text(column):
            continue
        values = column
        if pa.types.is_dictionary(values.type):
            values = values.cast(values.type.value_type)
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            continue
        lengths = pc.utf8_length(values)
        too_long = pc.greater(lengths, MAX_FIELD)
        if not pc.any(too_long).as_py():
            continue
        rows = np.flatnonzero(too_long.to_numpy(zero_copy_only=False) == True)  # noqa: E712
        for row in rows:
            longest.setdefault(int(row), _preview(values[int(row)].as_py()))
        mask[rows] = True
    return mask, [longest[int(row)] for row in np.flatnonzero(mask)]
