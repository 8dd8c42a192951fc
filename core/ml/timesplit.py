"""The time split every model is judged on: learn from what happened before a cutoff, score on
the H days after it. Dates are whole days in naive UTC, like the loaded events.
"""

from __future__ import annotations

import pandas as pd

from core import schema
from core.errors import CutoffError


def data_end_of(events: pd.DataFrame) -> pd.Timestamp:
    """Midnight after the day of the last event: the exclusive end of the data."""
    return events[schema.TIMESTAMP].max().normalize() + pd.Timedelta(days=1)


def default_cutoff(events: pd.DataFrame, horizon_days: int) -> pd.Timestamp:
    """The last date that leaves a full horizon after it: end of data - H days."""
    return data_end_of(events) - pd.Timedelta(days=horizon_days)


def as_day(cutoff: pd.Timestamp | str) -> pd.Timestamp:
    """A cutoff as a day in naive UTC: a time that names its zone is converted to UTC first.

    Raises:
        CutoffError: one line, when the text is not a date.
    """
    try:
        day = pd.Timestamp(cutoff)
    except (ValueError, TypeError, OverflowError):
        raise CutoffError(f"Cutoff '{cutoff}' is not a date; write it as YYYY-MM-DD.") from None
    if pd.isna(day):
        raise CutoffError(f"Cutoff '{cutoff}' is not a date; write it as YYYY-MM-DD.")
    if day.tzinfo is not None:
        day = day.tz_convert("UTC").tz_localize(None)
    return day.normalize()


def check_cutoff(
    events: pd.DataFrame, cutoff: pd.Timestamp, horizon_days: int, *, evaluate: bool = True
) -> None:
    """Refuse a cutoff with no data before it or, when scoring, without H days after it.

    Raises:
        CutoffError: one line naming the cutoff, the data's span and what to pick instead.
    """
    times = events[schema.TIMESTAMP]
    first, end = times.min().normalize(), data_end_of(events)
    if cutoff <= first:
        raise CutoffError(
            f"Cutoff {cutoff:%Y-%m-%d} is not after the data starts ({first:%Y-%m-%d}); pick a "
            f"cutoff between {first + pd.Timedelta(days=1):%Y-%m-%d} and "
            f"{end - pd.Timedelta(days=horizon_days):%Y-%m-%d}."
        )
    if evaluate and cutoff + pd.Timedelta(days=horizon_days) > end:
        raise CutoffError(
            f"Cutoff {cutoff:%Y-%m-%d} leaves less than {horizon_days} days of data after it; "
            "pick an earlier cutoff or a shorter horizon."
        )
