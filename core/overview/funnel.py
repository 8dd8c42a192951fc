"""View -> cart -> purchase funnels, split by segment and over time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Unpack

import numpy as np
import pandas as pd

from core.errors import MissingColumnsError
from core.ml.arrays import distinct
from core.overview.arrays import (
    _Arrays,
    _between,
    _bounds,
    _bucket_span,
    _bucket_starts,
    _buckets,
    _first_per_key,
    _index_events,
    _run_starts,
)
from core.overview.columns import (
    _INT64_SAFE,
    _K_OTHER,
    _KIND_INDEX,
    _STEP_KINDS,
    COMPLETE,
    CONVERSION_FROM_FIRST,
    CONVERSION_FROM_PREVIOUS,
    DEFAULT_WINDOW_HOURS,
    DROP_OFF,
    DROP_OFF_SHARE,
    HOUR_NS,
    MEDIAN_HOURS,
    NEW,
    RETURNING,
    SEGMENT,
    STEP,
    USERS,
    Freq,
    FunnelSplit,
    Period,
)
from core.overview.kpis import _Context, _context


@dataclass(frozen=True)
class Funnel:
    """A view -> cart -> purchase funnel.

    Attributes:
        steps: one row per step (and segment): ``segment`` (only when split), ``step``,
            ``users`` reaching it, ``conversion_from_previous`` and ``conversion_from_first``
            (0..1), ``drop_off`` (users lost since the previous step), ``drop_off_share`` (0..1)
            and ``median_hours_from_previous``. Segments are ordered by entering users.
        step_names: the steps, in order (those present in the data).
        missing_steps: canonical steps absent from the data.
        message: a sentence for the user when steps are missing or nothing entered.
        window_hours: the conversion window.
        by: the split, or ``None``.
    """

    steps: pd.DataFrame
    step_names: tuple[str, ...]
    missing_steps: tuple[str, ...]
    message: str | None
    window_hours: float
    by: FunnelSplit | None = None


# --- funnels -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reach:
    """Funnel entries: who entered, their segment, and how far they got."""

    users: np.ndarray
    segments: np.ndarray
    level: np.ndarray  # steps reached, 1..len(steps)
    times: list[np.ndarray]  # per step, time reached (ns); -1 where not reached
    steps: tuple[str, ...]
    missing: tuple[str, ...]


def _steps_present(a: _Arrays) -> tuple[tuple[str, ...], tuple[str, ...]]:
    present = np.bincount(a.kinds[a.kinds >= 0], minlength=_K_OTHER + 1)
    steps = tuple(kind for kind in _STEP_KINDS if present[_KIND_INDEX[kind]] > 0)
    return steps, tuple(kind for kind in _STEP_KINDS if kind not in steps)


@dataclass(frozen=True)
class _FunnelRows:
    """What every funnel of one period shares: the events from the period start to the close
    of the last window, their time ranks, the rows of each step and, for funnels per user,
    the sorted (user, rank) keys of the later steps."""

    steps: tuple[str, ...]
    missing: tuple[str, ...]
    start: int
    end: int
    window_ns: int
    rows: slice  # of the events the funnel was built from
    users: np.ndarray
    times: np.ndarray
    ranks: np.ndarray
    rank_times: np.ndarray
    span: int
    step_rows: tuple[np.ndarray, ...]
    user_keys: tuple[np.ndarray, ...]


def _funnel_rows(a: _Arrays, start: int, end: int, window_ns: int) -> _FunnelRows:
    steps, missing = _steps_present(a)
    rows = _between(a.times, start, end + window_ns + 1)
    times, users, kinds = a.times[rows], a.users[rows], a.kinds[rows]
    ranks = np.zeros(len(times), dtype=np.int64)
    ranks[1:] = np.cumsum(times[1:] != times[:-1])
    span = int(ranks[-1]) + 2 if len(times) else 1
    step_rows = [np.flatnonzero(kinds == _KIND_INDEX[kind]) for kind in steps]
    if step_rows:  # entries only in the period
        step_rows[0] = step_rows[0][: int(np.searchsorted(times[step_rows[0]], end))]
    return _FunnelRows(
        steps=steps,
        missing=missing,
        start=start,
        end=end,
        window_ns=window_ns,
        rows=rows,
        users=users,
        times=times,
        ranks=ranks,
        rank_times=times[_run_starts(times)],
        span=span,
        step_rows=tuple(step_rows),
        user_keys=tuple(np.sort(users[r] * span + ranks[r]) for r in step_rows[1:]),
    )


def _reach_funnel(
    fr: _FunnelRows,
    *,
    row_segments: np.ndarray | None = None,
    n_row_segments: int = 1,
    freq: Freq | None = None,
) -> _Reach:
    """Each entry's progress through the funnel.

    An entry is a user's first event of the first step in the period: one per user, or per
    (user, segment of the row) with ``row_segments`` (category or brand codes of the events
    the rows came from: every step within the segment), or per (user, period) with ``freq``.
    Each later step is the first event of that type (in the segment) at or after the previous
    step and at most the window after the entry; the earliest keeps every later option open.
    """
    empty = np.zeros(0, np.int64)
    if not fr.steps:
        return _Reach(empty, empty, empty, [], fr.steps, fr.missing)
    span, ranks = fr.span, fr.ranks
    match = fr.users
    step_rows = fr.step_rows
    segment = None
    if row_segments is not None:
        segment = row_segments[fr.rows]
        step_rows = tuple(rows[segment[rows] >= 0] for rows in step_rows)
        match = fr.users * n_row_segments + np.maximum(segment, 0)
        if (int(match.max(initial=0)) + 1) * span >= _INT64_SAFE:
            match = np.searchsorted(distinct(match), match)  # dense, for exotic sizes only
    entry = step_rows[0]
    entry_key = match[entry]
    if freq is not None:
        buckets = _buckets(fr.times[entry], freq) - _bucket_span(freq, fr.start, fr.end)[0]
        entry_key = entry_key * (int(buckets.max(initial=0)) + 1) + buckets
    _, first = _first_per_key(entry_key)
    entry = entry[first]
    entry_match, current = match[entry], ranks[entry]
    deadline = fr.times[entry] + fr.window_ns
    level = np.ones(len(entry), dtype=np.int64)
    alive = np.ones(len(entry), dtype=bool)
    reached = [fr.times[entry]]
    last_rank = max(len(fr.rank_times) - 1, 0)
    for k in range(1, len(fr.steps)):
        if segment is None:
            packed = fr.user_keys[k - 1]
        else:
            rows = step_rows[k]
            packed = np.sort(match[rows] * span + ranks[rows])
        ok = alive.copy()
        hit_rank = current
        if len(packed):
            position = np.searchsorted(packed, entry_match * span + current, side="left")
            hit = packed[np.minimum(position, len(packed) - 1)]
            hit_match = hit // span
            hit_rank = hit - hit_match * span
            ok &= (position < len(packed)) & (hit_match == entry_match)
            ok &= fr.rank_times[np.minimum(hit_rank, last_rank)] <= deadline
        else:
            ok[:] = False
        level += ok
        alive = ok
        current = np.where(ok, hit_rank, current)
        reached.append(np.where(ok, fr.rank_times[np.minimum(current, last_rank)], -1))

    if segment is not None:
        segments = segment[entry]
    elif freq is not None:
        segments = _buckets(fr.times[entry], freq) - _bucket_span(freq, fr.start, fr.end)[0]
    else:
        segments = np.zeros(len(entry), dtype=np.int64)
    return _Reach(fr.users[entry], segments, level, reached, fr.steps, fr.missing)


def _funnel_message(steps: tuple[str, ...], missing: tuple[str, ...], entered: int) -> str | None:
    if not steps:
        return "No view, cart or purchase events in this selection, so there is no funnel."
    parts = []
    if missing:
        parts.append(
            f"No {' or '.join(missing)} events in this data, so the funnel shows "
            f"{' → '.join(steps)} only."
        )
    if entered == 0:
        parts.append(f"No user had a {steps[0]} event in this period.")
    return " ".join(parts) or None


def _funnel_table(reach: _Reach, labels: Sequence[str] | None) -> pd.DataFrame:
    """One row per (segment and) step, segments ordered by entering users."""
    n_segments = len(labels) if labels is not None else 1
    n_steps = len(reach.steps)
    users = np.array(
        [
            np.bincount(reach.segments[reach.level > k], minlength=n_segments)[:n_segments]
            for k in range(n_steps)
        ],
        dtype=np.int64,
    ).reshape(n_steps, n_segments)
    medians = np.full((n_steps, n_segments), np.nan)
    for k in range(1, n_steps):
        done = reach.level > k
        hours = (reach.times[k][done] - reach.times[k - 1][done]) / HOUR_NS
        if len(hours):
            grouped = pd.Series(hours).groupby(reach.segments[done]).median()
            medians[k, grouped.index.to_numpy()] = grouped.to_numpy()
    return _steps_frame(reach.steps, users, medians, labels)


def _steps_frame(
    steps: tuple[str, ...],
    users: np.ndarray,
    medians: np.ndarray,
    labels: Sequence[str] | None,
) -> pd.DataFrame:
    """The funnel table from the users reaching each step per segment and the median hours
    from the step before (both steps x segments; one segment when ``labels`` is None)."""
    n_steps = len(steps)
    if n_steps == 0:
        columns = [STEP, USERS, CONVERSION_FROM_PREVIOUS, CONVERSION_FROM_FIRST, DROP_OFF]
        columns += [DROP_OFF_SHARE, MEDIAN_HOURS]
        return pd.DataFrame({c: [] for c in ([SEGMENT] if labels is not None else []) + columns})
    keep = np.argsort(-users[0], kind="stable")
    if labels is not None:
        keep = keep[users[0, keep] > 0]
    counts = users[:, keep].T.astype("float64")  # segments x steps
    previous = np.column_stack([np.full(len(keep), np.nan), counts[:, :-1]])
    first = counts[:, :1]
    with np.errstate(divide="ignore", invalid="ignore"):
        from_previous = np.where(previous > 0, counts / previous, np.nan)
        from_first = np.where(first > 0, counts / first, np.nan)
    frame = pd.DataFrame(
        {
            STEP: np.tile(np.array(steps, dtype=object), len(keep)),
            USERS: counts.ravel().astype(np.int64),
            CONVERSION_FROM_PREVIOUS: from_previous.ravel(),
            CONVERSION_FROM_FIRST: from_first.ravel(),
            DROP_OFF: (previous - counts).ravel(),
            DROP_OFF_SHARE: 1.0 - from_previous.ravel(),
            MEDIAN_HOURS: medians[:, keep].T.ravel(),
        }
    )
    if labels is not None:
        frame.insert(0, SEGMENT, np.repeat(np.asarray(labels, dtype=object)[keep], n_steps))
    return frame


def _funnel(
    ctx: _Context,
    fr: _FunnelRows,
    by: FunnelSplit | None,
    unsplit: _Reach | None = None,
) -> tuple[Funnel, _Reach]:
    """The funnel (split ``by``) and its entries; ``unsplit`` reuses the entries of the
    unsplit funnel for the new-vs-returning split, which has the same entries."""
    a = ctx.selection
    labels: list[str] | None = None
    if by in ("category", "brand"):
        codes = a.categories if by == "category" else a.brands
        names = a.labels.categories if by == "category" else a.labels.brands
        if codes is None or names is None:
            what = "categories" if by == "category" else "brands"
            raise MissingColumnsError(
                f"This data has no {what}, so the funnel cannot be split by {by}; load a "
                f"product table with a {by} column."
            )
        labels = [str(x) for x in names]
        reach = _reach_funnel(fr, row_segments=codes, n_row_segments=max(len(labels), 1))
    elif by == "new_vs_returning":
        labels = [NEW, RETURNING]
        reach = unsplit if unsplit is not None else _reach_funnel(fr)
        returning = (ctx.first_seen < fr.start).astype(np.int64)
        reach = replace(reach, segments=returning[reach.users])
    elif by is None:
        reach = _reach_funnel(fr)
    else:
        raise ValueError(f"by must be None, 'category', 'brand' or 'new_vs_returning', got {by!r}")
    funnel = Funnel(
        steps=_funnel_table(reach, labels),
        step_names=reach.steps,
        missing_steps=reach.missing,
        message=_funnel_message(reach.steps, reach.missing, len(reach.users)),
        window_hours=fr.window_ns / HOUR_NS,
        by=by,
    )
    return funnel, reach


def compute_funnel(
    events: pd.DataFrame,
    products: pd.DataFrame | None = None,
    *,
    window_hours: float = DEFAULT_WINDOW_HOURS,
    by: FunnelSplit | None = None,
    **period: Unpack[Period],
) -> Funnel:
    """The view -> cart -> purchase funnel of users whose first view falls in ``[start, end)``.

    Each user enters at their first view of the period. They reach "cart" with a cart at or
    after that view and at most ``window_hours`` after it, and "purchase" with a purchase at or
    after that cart, again at most ``window_hours`` after the view. Later steps may fall after
    ``end`` (within the window), so the last days of the data undercount conversion.

    Steps follow the data: without views the funnel starts at cart, a purchase-only export
    gives a one-step funnel, and ``Funnel.message`` says which steps are missing.

    Args:
        events: canonical events.
        products: the product table, for categories and brands.
        window_hours: the conversion window from the entry, in hours.
        by: split by the ``category`` or ``brand`` of the steps' items (every step within the
            segment, a user counting once per segment), or by ``new_vs_returning`` users (new:
            first event ever at or after ``start``).
        period: when users enter: ``start`` (default: the first event) to ``end``,
            exclusive (default: after the last event).

    Raises:
        MissingColumnsError: a split by categories or brands the data does not have.
    """
    ctx = _context(events, products)
    s, e = _bounds(ctx.base, period)
    return _funnel(ctx, _funnel_rows(ctx.selection, s, e, int(window_hours * HOUR_NS)), by)[0]


def _funnel_trend(a: _Arrays, fr: _FunnelRows, freq: Freq) -> pd.DataFrame:
    reach = _reach_funnel(fr, freq=freq)
    _, count = _bucket_span(freq, fr.start, fr.end)
    users = np.array(
        [
            np.bincount(reach.segments[reach.level > k], minlength=count)[:count]
            for k in range(len(reach.steps))
        ],
        dtype=np.int64,
    ).reshape(len(reach.steps), count)
    last_event = int(a.times[-1]) if len(a) else 0
    return _trend_frame(reach.steps, users, freq, fr.start, fr.end, fr.window_ns, last_event)


def _trend_frame(
    steps: tuple[str, ...],
    users: np.ndarray,
    freq: Freq,
    start: int,
    end: int,
    window_ns: int,
    last_event: int,
) -> pd.DataFrame:
    """The funnel trend from the users reaching each step per period of entry (steps x
    periods of ``[start, end)``)."""
    first, count = _bucket_span(freq, start, end)
    index = _bucket_starts(np.arange(first, first + count, dtype=np.int64), freq)
    frame = pd.DataFrame(index=index)
    for k, step in enumerate(steps):
        frame[step] = users[k]
    for before, after in zip(steps, steps[1:], strict=False):
        frame[f"{before}_to_{after}"] = frame[after] / frame[before].where(frame[before] > 0)
    if len(steps) > 1:
        first_step, last_step = steps[0], steps[-1]
        frame[CONVERSION_FROM_FIRST] = frame[last_step] / frame[first_step].where(
            frame[first_step] > 0
        )
    period_ends = np.append(index.asi8[1:], end) if count else np.zeros(0, np.int64)
    frame[COMPLETE] = np.minimum(period_ends, end) + window_ns <= last_event
    return frame.reset_index()


def funnel_trend(
    events: pd.DataFrame,
    *,
    freq: Freq = "W",
    window_hours: float = DEFAULT_WINDOW_HOURS,
    **period: Unpack[Period],
) -> pd.DataFrame:
    """Funnel conversion per period of entry.

    A user enters once per period, at their first view in it; steps are counted as in
    ``compute_funnel`` (at or after the previous step, within ``window_hours`` of the entry).

    Returns:
        one row per period: ``period`` (start), users per step (columns named by the steps,
        e.g. ``view``, ``cart``, ``purchase``), step conversions (``view_to_cart``,
        ``cart_to_purchase``, 0..1), ``conversion_from_first`` and ``complete`` (False when the
        data ends before every entry's window closes, so conversion is still too low).
    """
    a = _index_events(events, None)
    s, e = _bounds(a, period)
    return _funnel_trend(a, _funnel_rows(a, s, e, int(window_hours * HOUR_NS)), freq)
