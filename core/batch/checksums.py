"""Checksums of a written feature table that equal tables share whichever engine wrote them.

Each is computed from the Parquet files, whatever their number and row order:

- keys and other text: ``distinct=N;hash=H``, the count of distinct values and the sum, modulo
  2**64, of the lower 64 bits of each value's MD5 (order-free; NULL counts as no value);
- whole numbers: ``sum=S;nulls=N``, the exact sum;
- decimals: ``sum=S;nulls=N``, the exactly rounded sum (``math.fsum``) to 10 significant
  digits, so the last-bit differences of sums taken in another order vanish; NaN counts as null;
- times: ``sum_us=S;nulls=N``, the exact sum of microseconds since the epoch (naive UTC).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Final

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DIGITS: Final = 10
_HASH_MODULUS: Final = 2**64


def parquet_files(folder: Path) -> list[Path]:
    """The table's Parquet files (engines add marker and checksum files beside them)."""
    return sorted(Path(folder).glob("*.parquet"))


def read_schema(folder: Path) -> pa.Schema:
    """The schema of a table written as a folder of Parquet files."""
    return pq.read_schema(parquet_files(folder)[0])


def count_rows(folder: Path) -> int:
    """Rows of a table written as a folder of Parquet files."""
    return sum(pq.ParquetFile(path).metadata.num_rows for path in parquet_files(folder))


def table_checksums(folder: Path) -> dict[str, str]:
    """One checksum per column of the table in ``folder`` (see the module's docstring)."""
    schema = read_schema(folder)
    files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in parquet_files(folder))
    source = f"read_parquet([{files}])"
    sums: dict[str, str] = {}
    with duckdb.connect() as con:
        for field in schema:
            column = '"' + field.name.replace('"', '""') + '"'
            kind = field.type
            if pa.types.is_dictionary(kind):
                kind = kind.value_type
            if pa.types.is_floating(kind):
                sums[field.name] = _decimal_checksum(parquet_files(folder), field.name)
            elif pa.types.is_integer(kind) or pa.types.is_boolean(kind):
                total, nulls = con.execute(
                    f"SELECT COALESCE(SUM(CAST({column} AS HUGEINT)), 0), COUNT(*) - "
                    f"COUNT({column}) FROM {source}"
                ).fetchone() or (0, 0)
                sums[field.name] = f"sum={int(total)};nulls={int(nulls)}"
            elif pa.types.is_timestamp(kind):
                total, nulls = con.execute(
                    f"SELECT COALESCE(SUM(CAST(epoch_us(CAST({column} AS TIMESTAMP)) AS "
                    f"HUGEINT)), 0), COUNT(*) - COUNT({column}) FROM {source}"
                ).fetchone() or (0, 0)
                sums[field.name] = f"sum_us={int(total)};nulls={int(nulls)}"
            else:
                # each distinct value hashed once, times its count: a key repeats in many rows
                distinct, total = con.execute(
                    f"SELECT COUNT(*), COALESCE(SUM(CAST(md5_number_lower(CAST(value AS "
                    f"VARCHAR)) AS HUGEINT) * rows), 0) FROM (SELECT {column} AS value, "
                    f"COUNT(*) AS rows FROM {source} WHERE {column} IS NOT NULL GROUP BY 1)"
                ).fetchone() or (0, 0)
                sums[field.name] = (
                    f"distinct={int(distinct)};hash={int(total) % _HASH_MODULUS:016x}"
                )
    return sums


def _decimal_checksum(files: list[Path], name: str) -> str:
    parts = [pq.read_table(path, columns=[name]).column(0).to_numpy() for path in files]
    values = np.concatenate(parts).astype("float64")  # nulls read as NaN
    finite = values[~np.isnan(values)]
    total = math.fsum(finite.tolist()) + 0.0  # + 0.0: -0.0 reads as 0
    return f"sum={total:.{DIGITS}g};nulls={len(values) - len(finite)}"
