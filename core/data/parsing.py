"""Column parsers: times, numbers, ids and event labels as they appear in real exports.

Each parser is vectorised, never raises on a bad value, and tells which present values failed,
so that validation can count them under a reason instead of losing them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.types import is_datetime64_any_dtype, is_numeric_dtype

from core import schema

DateOrder = Literal["auto", "dmy", "mdy"]
TIME_MIN: Final = pd.Timestamp("1990-01-01")
TIME_MAX: Final = pd.Timestamp("2100-01-01")
_NS_MIN: Final = pd.Timestamp("1678-01-01")
_NS_MAX: Final = pd.Timestamp("2262-01-01")
_SAMPLE = 5000
_OFFSET_NOTE: Final = "Times with a UTC offset were converted to UTC."

_YEAR_FIRST = (
    "ISO8601",
    "%Y-%m-%d %H:%M:%S %Z",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d",
    "%Y%m%d",
    "%d %b %Y %H:%M",
    "%d %b %Y",
    "%b %d, %Y",
    "%d-%b-%Y",
)
_TIME_PARTS = (" %H:%M:%S", " %H:%M", "")


def _ordered_formats(first: str, second: str) -> tuple[str, ...]:
    return tuple(
        f"%{first}{sep}%{second}{sep}%{year}{time}"
        for sep in ("/", ".", "-")
        for year in ("Y", "y")
        for time in _TIME_PARTS
    )


_DMY = _ordered_formats("d", "m")
_MDY = _ordered_formats("m", "d")


@dataclass(frozen=True)
class Parsed:
    """A parsed column.

    Attributes:
        values: the parsed values (missing where the input was missing or failed).
        failed: True where a value was present but could not be parsed.
        notes: assumptions the parser made, in words for the user.
        date_order: the order day and month were read in (``auto`` when dates did not need
            one), to read more of the same data the same way.
        date_order_assumed: every date fitted both orders, so ``date_order`` was assumed.
    """

    values: pd.Series
    failed: np.ndarray
    notes: tuple[str, ...] = field(default_factory=tuple)
    date_order: DateOrder = "auto"
    date_order_assumed: bool = False


def parse_timestamps(raw: pd.Series, *, date_order: DateOrder = "auto") -> Parsed:
    """Parse unix seconds or milliseconds, Excel serial days, ISO 8601 or dated text as UTC times.

    Returns:
        naive ``datetime64[ns]`` values in UTC.
    """
    present = raw.notna().to_numpy()
    notes: list[str] = []
    order: DateOrder = "auto"
    assumed = False
    if is_datetime64_any_dtype(raw):
        # pyarrow already reads ISO 8601 text with offsets as UTC times: say so as for text.
        if getattr(raw.dt, "tz", None) is not None:
            notes.append(_OFFSET_NOTE)
        values = _naive_utc(raw)
    elif is_numeric_dtype(raw):
        values = _from_numbers(raw.astype("float64"), notes)
    else:
        text = raw.astype("str").str.strip()
        numeric = pd.to_numeric(text.head(_SAMPLE), errors="coerce")
        if numeric.notna().sum() >= 0.9 * text.head(_SAMPLE).notna().sum() > 0:
            values = _from_numbers(pd.to_numeric(text, errors="coerce"), notes)
        else:
            values, order, assumed = _from_text(text, date_order, notes)
    # Placeholders such as 9999-12-31 or 0001-01-01 do not fit in nanoseconds: clip them to
    # its range so that validation rejects them as out of range instead of the cast failing.
    values = values.clip(_NS_MIN, _NS_MAX).astype("datetime64[ns]")
    return Parsed(values, present & values.isna().to_numpy(), tuple(notes), order, assumed)


def _naive_utc(values: pd.Series) -> pd.Series:
    if getattr(values.dt, "tz", None) is not None:
        return values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values


def _from_numbers(numbers: pd.Series, notes: list[str]) -> pd.Series:
    magnitude = float(numbers.abs().median()) if numbers.notna().any() else 0.0
    if magnitude > 1e17:
        unit, what = "ns", "unix nanoseconds"
    elif magnitude > 1e14:
        unit, what = "us", "unix microseconds"
    elif magnitude > 1e11:
        unit, what = "ms", "unix milliseconds"
    elif magnitude > 1e8:
        unit, what = "s", "unix seconds"
    elif 20_000 <= magnitude <= 80_000:
        notes.append("Times read as Excel serial day numbers (days since 1899-12-30).")
        return pd.to_datetime(numbers, unit="D", origin="1899-12-30", errors="coerce")
    else:
        return pd.Series(pd.NaT, index=numbers.index, dtype="datetime64[ns]")
    notes.append(f"Times read as {what} (UTC).")
    # Values far outside the plausible range would overflow; let validation reject them.
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[unit]
    # Convert in the file's own unit: scaling to nanoseconds first rounds in float64
    # (1433221332117 ms would become ...12.116999936).
    in_range = numbers.where((numbers * scale).abs() < 4e18)
    return pd.to_datetime(in_range, unit=unit, errors="coerce")


def _score(sample: pd.Series, fmt: str) -> int:
    return int(pd.to_datetime(sample, format=fmt, errors="coerce", utc=True).notna().sum())


def _from_text(
    text: pd.Series, date_order: DateOrder, notes: list[str]
) -> tuple[pd.Series, DateOrder, bool]:
    """The times in ``text``, the day/month order used, and whether it was assumed."""
    sample = text.dropna().drop_duplicates().head(_SAMPLE)
    if sample.empty:
        return pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]"), "auto", False
    ordered = {"auto": _DMY + _MDY, "dmy": _DMY, "mdy": _MDY}[date_order]
    scores = {fmt: _score(sample, fmt) for fmt in _YEAR_FIRST + ordered}
    scores = {fmt: n for fmt, n in scores.items() if n}
    if not scores:
        return pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]"), "auto", False
    best = max(scores, key=lambda f: scores[f])
    assumed = False
    if date_order == "auto" and best in _DMY + _MDY:
        best, assumed = _choose_date_order(text, best, scores, notes)
    elif best in _DMY + _MDY:
        notes.append(f"Dates read as {_order_words(best)}, as chosen.")
    values = pd.to_datetime(text, format=best, errors="coerce", utc=True)
    order: DateOrder = "dmy" if best in _DMY else "mdy" if best in _MDY else "auto"
    for fmt in sorted(scores, key=lambda f: -scores[f]):
        if fmt == best or (order == "dmy" and fmt in _MDY) or (order == "mdy" and fmt in _DMY):
            continue
        missing = values.isna() & text.notna()
        if not missing.any():
            break
        values = values.fillna(pd.to_datetime(text[missing], format=fmt, errors="coerce", utc=True))
    if (
        any("%z" in f or f == "ISO8601" for f in scores)
        and text.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True).head(_SAMPLE).any()
    ):
        notes.append(_OFFSET_NOTE)
    return _naive_utc(values), order, assumed


def _order_words(fmt: str) -> str:
    return "day/month/year" if fmt in _DMY else "month/day/year"


def _choose_date_order(
    text: pd.Series, best: str, scores: dict[str, int], notes: list[str]
) -> tuple[str, bool]:
    """The day/month format the dates fit, and whether it was only assumed (every date fits
    both orders)."""
    twin = (_MDY + _DMY)[(_DMY + _MDY).index(best)]
    if scores.get(twin, 0) != scores[best]:
        winner = best if scores[best] > scores.get(twin, 0) else twin
        notes.append(
            f"Dates read as {_order_words(winner)}: some values only fit that order "
            "(a number above 12 where the month would be)."
        )
        return winner, False
    # The sample fits both orders: look at every distinct value before assuming.
    parts = text.drop_duplicates().str.extract(r"^\s*(\d{1,2})\D(\d{1,2})\D")
    first, second = (pd.to_numeric(parts[i], errors="coerce") for i in (0, 1))
    dmy, mdy = (best, twin) if best in _DMY else (twin, best)
    if (first > 12).any() and not (second > 12).any():
        notes.append("Dates read as day/month/year: some first numbers are above 12.")
        return dmy, False
    if (second > 12).any() and not (first > 12).any():
        notes.append("Dates read as month/day/year: some second numbers are above 12.")
        return mdy, False
    chosen = mdy if "/" in best else dmy
    notes.append(
        f"Every date fits both day/month and month/day, so {_order_words(chosen)} was "
        "assumed; change the date order on the Data page if that is wrong."
    )
    return chosen, True


def parse_numbers(raw: pd.Series) -> Parsed:
    """Parse numbers, including decimal commas ('2,55'), thousands separators and currency signs."""
    present = raw.notna().to_numpy()
    if is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = raw.astype("float64")
        return Parsed(values, present & values.isna().to_numpy())
    text = raw.astype("str").str.strip()
    values = pd.to_numeric(text, errors="coerce").astype("float64")
    notes: list[str] = []
    failed = present & values.isna().to_numpy()
    if failed.any():
        cleaned = text.str.replace(r"[^\d,.\-]", "", regex=True)
        bad = cleaned[failed]
        decimal_comma = bad.str.fullmatch(r"-?\d+(?:\.\d{3})*,\d+").sum()
        if decimal_comma > bad.str.fullmatch(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?").sum():
            cleaned = cleaned.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
            notes.append("Decimal commas read as decimal points (e.g. '2,55' = 2.55).")
        else:
            cleaned = cleaned.str.replace(",", "", regex=False)
        reparsed = pd.to_numeric(cleaned.where(cleaned != ""), errors="coerce")
        values = values.fillna(reparsed) if not notes else reparsed.astype("float64")
        failed = present & values.isna().to_numpy()
    return Parsed(values, failed, tuple(notes))


def parse_ids(raw: pd.Series) -> pd.Series:
    """Turn an id column into a categorical of strings; empty strings become missing.

    Integer-valued floats ('17850.0', as written by spreadsheets) become '17850'.
    """
    if isinstance(raw.dtype, pd.CategoricalDtype):
        codes, index = raw.cat.codes.to_numpy(), pd.Index(raw.cat.categories)
    else:
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
        index = pd.Index(uniques)
    if pd.api.types.is_float_dtype(index) and (index == np.floor(index)).all():
        index = index.astype("int64")
    if pd.api.types.is_integer_dtype(index):
        # Distinct integers give distinct, clean labels: nothing to strip or merge.
        categories = pd.Index(pa.array(index.to_numpy()).cast(pa.string()).to_pandas())
        return pd.Series(
            pd.Categorical.from_codes(codes, categories=categories, validate=False), index=raw.index
        )
    original = pd.Index(index.astype("str"), dtype="str")
    labels = original.str.strip()
    if len(labels) and labels[0].endswith(".0") and labels.str.fullmatch(r"-?\d+\.0").all():
        labels = labels.str.slice(stop=-2)
    if labels.equals(original) and not (labels == "").any():
        categories = labels  # distinct and clean already
        return pd.Series(
            pd.Categorical.from_codes(codes, categories=categories, validate=False), index=raw.index
        )
    # Stripping can merge labels (' a' and 'a') or empty them: factorise once more.
    merged_codes, merged = pd.factorize(labels.where(labels != ""), use_na_sentinel=True)
    lookup = np.append(merged_codes, -1)  # code -1 (missing) stays missing
    final = lookup[codes]
    categories = pd.Index(merged, dtype="str")
    return pd.Series(
        pd.Categorical.from_codes(final, categories=categories, validate=False), index=raw.index
    )


def parse_event_types(raw: pd.Series) -> Parsed:
    """Map event labels to canonical types; unknown labels are kept as they are (the loader
    counts and reports them)."""
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    labels = [_label(value) for value in uniques]
    notes: list[str] = []
    if labels and set(labels) <= set(schema.EVENT_CODES):
        mapped = [schema.EVENT_CODES[label] for label in labels]
        notes.append(schema.EVENT_CODE_NOTE)
    else:
        mapped = [schema.EVENT_SYNONYMS.get(schema.normalise_label(lab), lab) for lab in labels]
    merged_codes, categories = pd.factorize(pd.Index(mapped, dtype="str"))
    final = np.append(merged_codes, -1)[codes]
    values = pd.Series(
        pd.Categorical.from_codes(
            final, categories=pd.Index(categories, dtype="str"), validate=False
        ),
        index=raw.index,
    )
    return Parsed(values, np.zeros(len(raw), dtype=bool), tuple(notes))


def _label(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return re.sub(r"\s+", " ", str(value)).strip()


def is_date_order_note(note: str) -> bool:
    """Whether ``note`` says which day/month order dates were read in."""
    return note.startswith(("Dates read as", "Every date fits both day/month and month/day"))
