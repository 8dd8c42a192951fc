"""The Shop overview of a dataset on disk, computed by DuckDB.

``dataset_overview`` returns the very ``Overview`` that ``core.overview.compute_overview`` returns
for the dataset opened in memory, with the same definitions (see ``core.overview.columns``), but
never reads the events into memory: every count, distinct count, minimum and sum over events is a
DuckDB query over the dataset's coded events (``core.datasets.coded``), and only aggregates come
back (per step and segment, per item, category, brand, period, buyer or cohort). Those are made
into the page's frames by the in-memory path's own table builders, so both give equal frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, Unpack

import duckdb
import numpy as np
import pandas as pd

from core import schema
from core.data.orders import DAY_NS
from core.datasets.coded import Coded, coded_events, connect, day_bucket, with_sessions
from core.errors import MissingColumnsError
from core.overview.arrays import FilterOptions, _bucket_span, _ns, _stamp
from core.overview.columns import (
    _K_CART,
    _K_OTHER,
    _K_PURCHASE,
    _K_RETURN,
    _K_VIEW,
    _KIND_INDEX,
    _NO_TIME,
    _STEP_KINDS,
    ACTIVE_USERS,
    AVERAGE_ORDER_VALUE,
    BUYERS,
    CARTS,
    CONVERSION_RATE,
    CONVERTED,
    DEFAULT_GAP_MINUTES,
    DEFAULT_WINDOW_HOURS,
    EVENTS,
    FIRST_EVENT,
    HOUR_NS,
    LAST_EVENT,
    MINUTE_NS,
    NET_REVENUE,
    NEW,
    NEW_USERS,
    NON_PRODUCT_REVENUE,
    ORDERS,
    PURCHASES,
    REPEAT_BUYER_SHARE,
    RETURNING,
    REVENUE,
    SESSIONS,
    UNITS,
    VIEWERS,
    VIEWS,
    Freq,
    FunnelSplit,
    Measure,
    Selection,
)
from core.overview.customers import (
    CohortTable,
    _cohort_frame,
    _empty_cohorts,
    _new_vs_returning_frame,
    _rfm_frame,
    segment_summary,
)
from core.overview.funnel import Funnel, _funnel_message, _steps_frame, _trend_frame
from core.overview.kpis import KpiTable, _kpi_table
from core.overview.products import LongTail, _conversion_frame, _price_frame, _ranked, _tail
from core.overview.summary import (
    NO_CATEGORIES_NOTE,
    NO_ITEMS_NOTE,
    Overview,
    _kpi_notes,
    _measures_of,
)
from core.overview.trends import _heatmap_frame

_STATS: Final = (VIEWS, CARTS, ORDERS, UNITS, REVENUE, BUYERS, VIEWERS)
_DAY: Final = DAY_NS


def dataset_filter_options(dataset: Path) -> FilterOptions:
    """The date span, categories, brands and event types the dataset in the folder ``dataset``
    can be filtered by (as ``list_filter_options`` gives them for it in memory)."""
    coded = coded_events(dataset)
    return FilterOptions(
        start=_stamp(coded.start) if coded.start is not None else None,
        end=_stamp(coded.end) if coded.end is not None else None,
        categories=coded.categories,
        brands=coded.brands,
        event_types=coded.event_types,
    )


def dataset_overview(
    dataset: Path,
    *,
    trend_freq: Freq = "D",
    window_hours: float = DEFAULT_WINDOW_HOURS,
    top_n: int = 10,
    gap_minutes: float = DEFAULT_GAP_MINUTES,
    **selection: Unpack[Selection],
) -> Overview:
    """``compute_overview`` of the dataset in the folder ``dataset`` (its events and product
    table), computed by DuckDB over the files; the same arguments and the same result.

    Raises:
        MissingColumnsError: filtering by categories or brands that the data does not have.
        DatasetError: the dataset is damaged, or its folder cannot hold the coded events.
    """
    coded = coded_events(dataset)
    with connect(dataset) as con:
        return _Query(con, coded, selection, int(gap_minutes * MINUTE_NS)).overview(
            trend_freq, int(window_hours * HOUR_NS), top_n
        )


def dataset_trends(
    dataset: Path, trend_freq: Freq = "D", **selection: Unpack[Selection]
) -> pd.DataFrame:
    """The ``trends`` of ``dataset_overview`` alone, per ``trend_freq``: what changes when only
    the trends' period does.

    Raises:
        MissingColumnsError: filtering by categories or brands that the data does not have.
    """
    coded = coded_events(dataset)
    with connect(dataset) as con:
        query = _Query(con, coded, selection, coded.gap_ns)
        query.select(query.e)
        return query.trends(trend_freq)


def dataset_users_in(dataset: Path, **selection: Unpack[Selection]) -> pd.DataFrame:
    """``users_in`` of the dataset in the folder ``dataset``: the users with an event in the
    selection, biggest spenders first, computed by DuckDB.

    Raises:
        MissingColumnsError: selecting categories or brands that the data does not have.
    """
    coded = coded_events(dataset)
    with connect(dataset) as con:
        return _Query(con, coded, selection, coded.gap_ns).users()


def _bucket(freq: Freq, t: str = "t") -> str:
    """SQL of the period number of the ns time ``t``, as ``core.overview.arrays._buckets``."""
    return day_bucket(freq, f"fdiv({t}, {_DAY})")


class _Query:
    """The queries of one overview: a connection, the coded events and the selection."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, coded: Coded, selection: Selection, gap_ns: int
    ) -> None:
        self.con = con
        self.coded = coded
        con.execute(
            "CREATE VIEW ev AS SELECT *, file_row_number AS r FROM read_parquet("
            f"{coded.path('events')}, file_row_number = true)"
        )
        con.execute(f"CREATE VIEW users AS SELECT * FROM read_parquet({coded.path('users')})")
        if gap_ns != coded.gap_ns:  # sessions split anew for another gap
            con.execute(
                "CREATE TEMP TABLE other_sessions AS SELECT r, s, dt FROM ("
                + with_sessions(
                    "(SELECT r, u, t, CASE WHEN s < 0 THEN -1 - s END AS sid FROM ev)", gap_ns
                )
                + ")"
            )
            con.execute(
                "CREATE OR REPLACE VIEW ev AS SELECT e.* REPLACE (o.s AS s, o.dt AS dt) FROM "
                f"(SELECT *, file_row_number AS r FROM read_parquet({coded.path('events')}, "
                "file_row_number = true)) AS e JOIN other_sessions AS o USING (r)"
            )
        first = coded.start if coded.start is not None else 0
        last = coded.end + 1 if coded.end is not None else 0
        start, end = selection.get("start"), selection.get("end")
        self.s = _ns(start) if start is not None else first
        self.e = max(_ns(end) if end is not None else last, self.s)
        self.type_codes: list[int] | None = None  # the selected event types, if filtered
        self.keeps_purchases = True  # whether purchase lines are selected (set by ``_where``)
        self.sel = self._where(selection)
        # A category or brand keeps a small share of the events: those are read once.
        self.narrow = any(selection.get(name) is not None for name in ("categories", "brands"))
        # Unfiltered, the events of a period hold whole stretches of sessions: each session
        # there starts at its first event in the period (see ``with_sessions``).
        self.whole_sessions = self.sel == "true"
        # Periods of whole days without a category or brand read the pre-aggregates (see
        # ``core.datasets.coded``), by their type masks under an event-type filter.
        self.by_day = (
            self.s % _DAY == 0
            and self.e % _DAY == 0
            and not self.narrow
            and (self.type_codes is None or coded.type_masks)
        )
        self.sessions_by_day = self.by_day and gap_ns == coded.gap_ns
        self.segment_keys: dict[str, np.ndarray] = {}
        self.made: set[str] = set()

    # --- helpers --------------------------------------------------------------------------

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, list(params)).fetchall()

    def frame(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def labels(self, table: str, column: str) -> list[str]:
        found = self.rows(
            f"SELECT {column} FROM read_parquet({self.coded.path(table)}) ORDER BY key"
        )
        return [str(v) for (v,) in found]

    def _where(self, selection: Selection) -> str:
        """SQL of the category, brand and event-type filters (``TRUE`` when unfiltered)."""
        parts = []
        for values, column, table, name, available, what in (
            (
                selection.get("categories"),
                "c",
                "categories",
                schema.CATEGORY,
                self.coded.has_categories,
                "categories",
            ),
            (selection.get("brands"), "b", "brands", schema.BRAND, self.coded.has_brands, "brands"),
            (selection.get("event_types"), "ty", "types", schema.EVENT_TYPE, True, "event types"),
        ):
            if values is None:
                continue
            if not available:
                raise MissingColumnsError(
                    f"This data has no {what} (neither in the events nor in a product table), "
                    f"so it cannot be filtered by {what}; load a product table with a {what} "
                    "column."
                )
            wanted = [values] if isinstance(values, str) else [str(v) for v in values]
            key = "ty" if table == "types" else "key"
            codes = [
                int(code)
                for (code,) in self.rows(
                    f"SELECT {key} FROM read_parquet({self.coded.path(table)}) "
                    f"WHERE {name} IN (SELECT unnest(?::VARCHAR[]))",
                    [wanted],
                )
            ]
            if table == "types":
                self.type_codes = codes
                self.keeps_purchases = schema.PURCHASE in wanted
            parts.append(f"{column} IN ({', '.join(map(str, codes))})" if codes else "false")
        return " AND ".join(parts) or "true"

    def of_types(self) -> str:
        """SQL keeping the pre-aggregates' rows with a selected type in their mask ``m``."""
        if self.type_codes is None:
            return "true"
        return f"(m & {sum(1 << code for code in self.type_codes)}) <> 0"

    def days(self, start: int, end: int) -> str:
        """SQL of the days ``d`` of the period ``[start, end)`` of whole days."""
        return f"d >= {start // _DAY} AND d < {end // _DAY}"

    def period(self) -> str:
        """SQL of the period (over ``sel``, which holds only selected events)."""
        return f"t >= {self.s} AND t < {self.e}"

    def select(self, upto: int) -> None:
        """The view ``sel`` of the selected events up to ``upto`` (ns, inclusive) that every
        figure is counted from (a view, so each query reads only its columns and the row groups
        of its times; a table when a category or brand is selected), their purchase lines
        ``buys`` (read once from the coded purchase lines: orders, buyers and customers need
        them over all times); ``ud`` holds them per user, day and period (0 the period, 1 the
        one before, 2 earlier) up to the period's end. Periods of whole days (``by_day``) take
        ``ud`` from the coded events' days (a view of the two periods only, read where used:
        cohorts read the coded months), and ``sel`` needs no events before the previous period
        but purchases."""
        s, e = self.s, self.e
        ps = s - (e - s)
        columns = "t, d, h, u, ty, k, i, c, b, q, ok, np, " + ("dt" if self.whole_sessions else "s")
        price = "p" if self.coded.has_prices else "NULL::DOUBLE AS p"
        columns += f", {price}, r" if self.coded.has_prices else f", {price}"
        since = f" AND (t >= {ps} OR k = {_K_PURCHASE})" if self.by_day else ""
        self.con.execute(
            f"CREATE TEMP {'TABLE' if self.narrow else 'VIEW'} sel AS SELECT {columns} FROM ev "
            f"WHERE ({self.sel}) AND t <= {upto}{since}"
        )
        self.con.execute(
            f"CREATE TEMP TABLE buys AS SELECT t, d, u, ty, k, i, c, b, q, ok, np, {price} "
            f"FROM read_parquet({self.coded.path('buys')}) WHERE ({self.sel}) AND t <= {upto}"
        )
        if self.by_day:
            self.con.execute(
                f"CREATE TEMP VIEW ud AS SELECT u, d, CASE WHEN d >= {s // _DAY} THEN 0 "
                f"WHEN d >= {ps // _DAY} THEN 1 ELSE 2 END AS per, "
                f"{'bought' if self.keeps_purchases else 'false AS bought'}, "
                f"{'revenue' if self.keeps_purchases else '0.0 AS revenue'} "
                f"FROM read_parquet({self.coded.path('user_days')}) WHERE {self.days(ps, e)} "
                f"AND {self.of_types()}"
            )
            return
        self.con.execute(
            f"CREATE TEMP TABLE ud AS SELECT u, d, CASE WHEN t >= {s} THEN 0 "
            f"WHEN t >= {ps} THEN 1 ELSE 2 END AS per, bool_or(k = {_K_PURCHASE}) AS bought, "
            f"coalesce(sum(p * q) FILTER (WHERE k = {_K_PURCHASE}), 0) AS revenue, "
            f"max(t) AS last FROM sel WHERE t < {e} GROUP BY ALL"
        )

    def in_period(self) -> str:
        """SQL keeping the rows of ``ud`` in the period (its days said too, so a view of the
        coded user-days reads only their row groups)."""
        return f"per = 0 AND d >= {self.s // _DAY}"

    def user_spans(self, start: int, end: int) -> tuple[str, list[str]]:
        """For periods of whole days: SQL of the coded user-weeks of the weeks wholly in
        ``[start, end)`` and of the coded user-days of its other days (at most two stretches,
        each read apart so it reads only its row groups), each with ``u``, week ``w``,
        ``bought``, types ``m`` and first view's time ``v0``."""
        first, after = start // _DAY, end // _DAY
        # Week w holds the days [7w - 3, 7w + 4) (``day_bucket``).
        weeks_from = -(-(first + 3) // 7)
        weeks_to = max((after + 3) // 7, weeks_from)
        whole_from, whole_to = 7 * weeks_from - 3, 7 * weeks_to - 3
        stretches = (
            [(first, whole_from), (whole_to, after)] if weeks_to > weeks_from else [(first, after)]
        )
        weeks = (
            f"SELECT u, w, bought, m, v0 FROM read_parquet({self.coded.path('user_weeks')}) "
            f"WHERE w >= {weeks_from} AND w < {weeks_to}"
        )
        days = [
            f"SELECT u, {day_bucket('W', 'd')} AS w, bought, m, v0 FROM read_parquet("
            f"{self.coded.path('user_days')}) WHERE d >= {low} AND d < {high}"
            for low, high in stretches
            if low < high
        ]
        return weeks, days

    def user_weeks(self) -> str:
        """For periods of whole days: the table of each user's weeks ``w`` of the period from
        the coded user-weeks and user-days, with the first view's time ``t0`` there (over every
        type: NULL without a view) and whether a selected event is there (``active``); made
        once."""
        if "user_weeks" not in self.made:
            self.made.add("user_weeks")
            weeks, days = self.user_spans(self.s, self.e)
            edges = "".join(
                f" UNION ALL SELECT u, w, min(v0), bool_or({self.of_types()}) FROM ({part}) "
                "GROUP BY ALL"
                for part in days
            )
            self.con.execute(
                f"CREATE TEMP TABLE user_weeks AS SELECT u, w, v0 AS t0, {self.of_types()} "
                f"AS active FROM ({weeks}){edges}"
            )
        return "user_weeks"

    def last_before_end(self) -> int | None:
        """The last selected event's time before the period's end (None without one)."""
        if self.by_day:
            (last,), *_ = self.rows(
                f"SELECT max(last) FROM read_parquet({self.coded.path('hours')}) "
                f"WHERE d < {self.e // _DAY} AND {self.sel}"
            )
        else:
            (last,), *_ = self.rows("SELECT max(last) FROM ud")
        return None if last is None else int(last)

    # --- the page -------------------------------------------------------------------------

    def overview(self, freq: Freq, window_ns: int, top_n: int) -> Overview:
        coded, s, e = self.coded, self.s, self.e
        kinds, self.last, self.has_non_product = self.all_times()
        self.select(e + window_ns)
        notes: list[str] = []
        kpis = self.kpis()
        notes += _kpi_notes(kpis)
        funnel, splits, trend = self.funnels(kinds, window_ns)
        measures = _measures_of(kinds, has_prices=coded.has_prices)
        items = categories_top = brands_top = conversion = prices = tail = None
        if coded.has_items:
            items, tail = self.items(measures, top_n)
        else:
            notes.append(NO_ITEMS_NOTE)
        if coded.has_categories:
            table = self.segment_table("c", "categories", schema.CATEGORY)
            categories_top = _top(table, measures, top_n)
            conversion = self.category_conversion(table)
            if coded.has_items and coded.has_item_category:
                prices = self.price_distribution()
        else:
            notes.append(NO_CATEGORIES_NOTE)
        if coded.has_brands:
            brands_top = _top(self.segment_table("b", "brands", schema.BRAND), measures, top_n)
        rfm = self.rfm()
        return Overview(
            start=_stamp(s),
            end=_stamp(e),
            kpis=kpis,
            funnel=funnel,
            funnel_splits=splits,
            funnel_trend=trend,
            trends=self.trends(freq),
            heatmap=self.heatmap(),
            top_items=items,
            top_categories=categories_top,
            top_brands=brands_top,
            category_conversion=conversion,
            price_distribution=prices,
            long_tail=tail,
            rfm=rfm,
            segments=segment_summary(rfm),
            new_vs_returning=self.new_vs_returning(),
            retention={metric: self.cohorts(metric) for metric in ("active", "buying")},
            notes=tuple(notes),
        )

    def all_times(self) -> tuple[np.ndarray, int, bool]:
        """Over the selected events of all times: the events per kind (``view`` to ``other``),
        the last event's time (0 without events) and whether any is a non-product line."""
        present = np.zeros(_K_OTHER + 1, dtype=np.int64)
        last, non_product = 0, False
        source = (
            "SELECT k, count(*), max(t), bool_or(np) FROM ev"
            if self.narrow
            else f"SELECT k, sum(n), max(last), bool_or(np) FROM read_parquet("
            f"{self.coded.path('hours')})"
        )
        for kind, count, latest, any_non_product in self.rows(
            f"{source} WHERE {self.sel} GROUP BY k"
        ):
            if kind is not None and int(kind) >= 0:
                present[int(kind)] = int(count)
            last = max(last, int(latest))
            non_product = non_product or bool(any_non_product)
        return present, last, non_product

    # --- KPIs -----------------------------------------------------------------------------

    def kpis(self) -> KpiTable:
        s, e = self.s, self.e
        length = e - s
        ps = s - length
        period = f"CASE WHEN t >= {s} AND t < {e} THEN 0 WHEN t >= {ps} AND t < {s} THEN 1 END"
        self.con.execute(
            "CREATE TEMP TABLE orders_all AS SELECT ok, min(u) AS u, min(t) AS t FROM buys "
            "GROUP BY ok"
        )
        if self.by_day:  # from the coded user-weeks and the days around them
            bought = "bought" if self.keeps_purchases else "false"
            users = " UNION ALL ".join(
                f"SELECT {per} AS per, u, {bought} AS bought FROM ({part}) WHERE {self.of_types()}"
                for per, (start, end) in enumerate(((s, e), (ps, s)))
                for weeks, days in [self.user_spans(start, end)]
                for part in [weeks, *days]
            )
        else:
            users = "SELECT per, u, bought FROM ud WHERE per < 2"
        self.con.execute(
            "CREATE TEMP TABLE period_users AS SELECT per, u, bool_or(bought) AS bought FROM "
            f"({users}) GROUP BY ALL"
        )
        if self.by_day:
            query = (
                f"SELECT CASE WHEN d >= {s // _DAY} THEN 0 ELSE 1 END AS per, "
                f"coalesce(sum(n) FILTER (WHERE k = {_K_VIEW}), 0), "
                f"coalesce(sum(n) FILTER (WHERE k = {_K_CART}), 0), sum(revenue), "
                f"sum(returned), sum(non_product) FROM read_parquet({self.coded.path('hours')}) "
                f"WHERE {self.sel} AND {self.days(ps, e)} GROUP BY 1"
            )
        else:
            query = (
                f"SELECT {period} AS per, count(*) FILTER (WHERE k = {_K_VIEW}), "
                f"count(*) FILTER (WHERE k = {_K_CART}), "
                f"coalesce(sum(p * q) FILTER (WHERE k = {_K_PURCHASE}), 0), "
                f"coalesce(sum(abs(p * q)) FILTER (WHERE k = {_K_RETURN}), 0), "
                f"coalesce(sum(p * q) FILTER (WHERE k = {_K_PURCHASE} AND np), 0) "
                f"FROM sel WHERE t >= {ps} AND t < {e} GROUP BY 1"
            )
        sums: dict[int, list[Any]] = {int(per): [*row, 0] for per, *row in self.rows(query)}
        for per, n_sessions in self.sessions(period).items():
            sums.setdefault(per, [0, 0, 0.0, 0.0, 0.0, 0])[-1] = n_sessions
        values = []
        for per, (start, end) in enumerate(((s, e), (ps, s))):
            cut = end
            (active, new, buyers, repeat), *_ = self.rows(
                "SELECT count(*), count(*) FILTER (WHERE f.first_t >= ? AND f.first_t < ?), "
                "count(*) FILTER (WHERE bought), count(*) FILTER (WHERE bought AND coalesce("
                "o.n, 0) >= 2) FROM period_users AS pu JOIN users AS f USING (u) LEFT JOIN "
                "(SELECT u, count(*) AS n FROM orders_all WHERE t < ? GROUP BY u) AS o "
                "USING (u) WHERE per = ?",
                [start, end, cut, per],
            )
            (n_orders,), *_ = self.rows(
                "SELECT count(*) FROM orders_all WHERE t >= ? AND t < ?", [start, end]
            )
            views, carts, revenue, returned, non_product, sessions = sums.get(
                per, (0, 0, 0.0, 0.0, 0.0, 0)
            )
            n_active, n_buyers = int(active), int(buyers)
            n_orders = int(n_orders)
            gross = float(revenue) if self.coded.has_prices else float("nan")
            net = gross - float(returned) if self.coded.has_prices else float("nan")
            values.append(
                {
                    ACTIVE_USERS: n_active,
                    NEW_USERS: int(new),
                    SESSIONS: int(sessions),
                    VIEWS: int(views),
                    CARTS: int(carts),
                    ORDERS: n_orders,
                    BUYERS: n_buyers,
                    REVENUE: gross,
                    NET_REVENUE: net,
                    NON_PRODUCT_REVENUE: float(non_product)
                    if self.coded.has_prices
                    else float("nan"),
                    AVERAGE_ORDER_VALUE: gross / n_orders if n_orders else float("nan"),
                    CONVERSION_RATE: n_buyers / n_active if n_active else float("nan"),
                    REPEAT_BUYER_SHARE: int(repeat) / n_buyers if n_buyers else float("nan"),
                }
            )
        return _kpi_table(
            values[0],
            values[1],
            s,
            e,
            self.coded.start if self.coded.start is not None else _NO_TIME,
            has_revenue=self.coded.has_prices,
            has_non_product=self.has_non_product,
        )

    def sessions(self, period: str) -> dict[int, int]:
        """The sessions with a selected event in the period (0) and the one before (1);
        ``period`` is the SQL of that number for an event."""
        s, e = self.s, self.e
        ps = s - (e - s)
        if self.sessions_by_day:
            found = {}
            for per, (start, end) in enumerate(((s, e), (ps, s))):
                first, after = start // _DAY, end // _DAY
                (n,), *_ = self.rows(
                    "SELECT (SELECT coalesce(sum(n), 0) FROM read_parquet("
                    f"{self.coded.path('sessions')}) WHERE fd >= {first} AND ld < {after} "
                    f"AND {self.of_types()}) + (SELECT count(DISTINCT s) FROM read_parquet("
                    f"{self.coded.path('crossing')}) WHERE t >= {start} AND t < {end} AND "
                    f"{self.sel} AND (fd < {first} OR ld >= {after}))"
                )
                found[per] = int(n)
            return found
        if self.whole_sessions:  # each session's first event in a period
            query = (
                f"SELECT {period} AS per, count(*) FILTER (WHERE dt IS NULL OR t - dt < CASE "
                f"WHEN t >= {s} THEN {s} ELSE {ps} END) FROM sel WHERE t >= {ps} AND t < {e} "
                "GROUP BY 1"
            )
        else:
            query = (
                f"SELECT per, count(*) FROM (SELECT DISTINCT {period} AS per, s FROM sel "
                f"WHERE t >= {ps} AND t < {e}) GROUP BY 1"
            )
        return {int(per): int(n) for per, n in self.rows(query)}

    # --- funnels --------------------------------------------------------------------------

    def funnels(
        self, kinds: np.ndarray, window_ns: int
    ) -> tuple[Funnel, dict[str, Funnel], pd.DataFrame]:
        steps = tuple(kind for kind in _STEP_KINDS if kinds[_KIND_INDEX[kind]] > 0)
        missing = tuple(kind for kind in _STEP_KINDS if kind not in steps)
        hours = window_ns / HOUR_NS
        s, e = self.s, self.e

        def funnel(
            users: np.ndarray,
            medians: np.ndarray,
            labels: list[str] | None,
            by: FunnelSplit | None,
            entered: int,
        ) -> Funnel:
            return Funnel(
                steps=_steps_frame(steps, users, medians, labels),
                step_names=steps,
                missing_steps=missing,
                message=_funnel_message(steps, missing, entered),
                window_hours=hours,
                by=by,
            )

        if not steps:
            empty = np.zeros((0, 1), dtype=np.int64)
            none = np.zeros((0, 1))
            unsplit = funnel(empty, none, None, None, 0)
            splits = {
                "new_vs_returning": funnel(
                    np.zeros((0, 2), np.int64),
                    np.zeros((0, 2)),
                    [NEW, RETURNING],
                    "new_vs_returning",
                    0,
                )
            }
            if self.coded.has_categories:
                labels = self.labels("categories", schema.CATEGORY)
                splits["category"] = funnel(
                    np.zeros((0, len(labels)), np.int64),
                    np.zeros((0, len(labels))),
                    labels,
                    "category",
                    0,
                )
            if self.coded.has_brands:
                labels = self.labels("brands", schema.BRAND)
                splits["brand"] = funnel(
                    np.zeros((0, len(labels)), np.int64),
                    np.zeros((0, len(labels))),
                    labels,
                    "brand",
                    0,
                )
            trend = _trend_frame(
                steps,
                np.zeros((0, _bucket_span("W", s, e)[1]), np.int64),
                "W",
                s,
                e,
                window_ns,
                self.last,
            )
            return unsplit, splits, trend

        codes = [_KIND_INDEX[step] for step in steps]
        # The later steps' events (the first step's, views mostly, are only ever grouped):
        # purchases alone are the purchase lines, already read.
        later = "buys" if codes[1:] == [_K_PURCHASE] else "sel"
        self.con.execute(
            f"CREATE TEMP TABLE funnel_rows AS SELECT u, t, k, c, b FROM {later} WHERE t >= {s} "
            f"AND k IN ({', '.join(map(str, codes[1:] or [-2]))})"
        )

        def reach(table: str, segment: str | None, by_week: bool) -> None:
            """Per step ``k``, the table ``{table}_{k}`` of the entries (``u``, ``g`` segment,
            ``w`` week) that reached it, with the time each step up to it was reached."""
            g = segment if segment is not None else "0"
            keep = f" AND {segment} IS NOT NULL" if segment is not None else ""
            w = day_bucket("W", "d") if by_week else "0"
            if segment is not None and codes[0] == _K_VIEW:  # each user's first view there
                self.segment_users(segment)
                self.con.execute(
                    f"CREATE TEMP VIEW {table}_0 AS SELECT u, key AS g, 0 AS w, fv AS t0 "
                    f"FROM {segment}_views"
                )
            elif segment is None and not by_week:  # each user's first week's first entry
                self.con.execute(
                    f"CREATE TEMP TABLE {table}_0 AS SELECT u, 0 AS g, 0 AS w, min(t0) AS t0 "
                    "FROM reach_weeks_0 GROUP BY u"
                )
            elif segment is None and codes[0] == _K_VIEW and self.by_day:  # weeks' first views
                self.con.execute(
                    f"CREATE TEMP VIEW {table}_0 AS SELECT u, 0 AS g, w, t0 FROM "
                    f"{self.user_weeks()} WHERE t0 IS NOT NULL"
                )
            else:
                self.con.execute(
                    f"CREATE TEMP TABLE {table}_0 AS SELECT u, {g} AS g, {w} AS w, min(t) AS t0 "
                    f"FROM sel WHERE k = {codes[0]} AND t >= {s} AND t < {e}{keep} GROUP BY ALL"
                )
            for step in range(1, len(codes)):
                same = f" AND r.{segment} = x.g" if segment is not None else ""
                self.con.execute(
                    f"CREATE TEMP TABLE {table}_{step} AS SELECT x.*, min(r.t) AS t{step} "
                    f"FROM {table}_{step - 1} AS x JOIN funnel_rows AS r ON r.u = x.u{same} "
                    f"AND r.k = {codes[step]} AND r.t >= x.t{step - 1} "
                    f"AND r.t <= x.t0 + {window_ns} GROUP BY ALL"
                )

        def counts(
            source: str, segment: str, size: int, entered: str | None = None
        ) -> tuple[np.ndarray, np.ndarray]:
            """Entries reaching each step and the median hours from the step before, per
            ``segment`` of the step tables (``source`` with ``{k}`` for the step); those of the
            first step from ``entered`` (``key``, ``n``) when given."""
            users = np.zeros((len(codes), size), dtype=np.int64)
            medians = np.full((len(codes), size), np.nan)
            for k in range(len(codes)):
                median = f"median((t{k} - t{k - 1})::DOUBLE / {HOUR_NS})" if k else "NULL"
                query = (
                    f"SELECT key, n, NULL FROM {entered}"
                    if k == 0 and entered is not None
                    else f"SELECT {segment}, count(*), {median} FROM {source.format(k=k)} "
                    "GROUP BY 1"
                )
                for key, n, value in self.rows(query):
                    users[k, int(key)] = int(n)
                    medians[k, int(key)] = np.nan if value is None else float(value)
            return users, medians

        reach("reach_weeks", None, by_week=True)
        reach("reach_users", None, by_week=False)
        users, medians = counts("reach_users_{k}", "g", 1)
        unsplit = funnel(users, medians, None, None, int(users[0].sum()))
        users, medians = counts(
            f"(SELECT x.* REPLACE ((f.first_t < {s})::INT AS g) FROM reach_users_{{k}} AS x "
            "JOIN users AS f USING (u))",
            "g",
            2,
        )
        splits = {
            "new_vs_returning": funnel(
                users, medians, [NEW, RETURNING], "new_vs_returning", int(users[0].sum())
            )
        }
        by_segment: tuple[tuple[FunnelSplit, str, str, str], ...] = (
            ("category", "c", "categories", schema.CATEGORY),
            ("brand", "b", "brands", schema.BRAND),
        )
        for by, column, table, name in by_segment:
            available = self.coded.has_categories if by == "category" else self.coded.has_brands
            if not available:
                continue
            labels = self.labels(table, name)
            reach(f"reach_{column}", column, by_week=False)
            # Entered at a first view: every viewer there, whom the step tables may not hold.
            entered = self.segment_users(column) if codes[0] == _K_VIEW else None
            users, medians = counts(f"reach_{column}_{{k}}", "g", max(len(labels), 1), entered)
            splits[by] = funnel(
                users[:, : len(labels)], medians[:, : len(labels)], labels, by, int(users[0].sum())
            )
        first, count = _bucket_span("W", s, e)
        users, _ = counts(
            f"(SELECT * REPLACE (w - {first} AS w) FROM reach_weeks_{{k}})", "w", max(count, 1)
        )
        trend = _trend_frame(steps, users[:, :count], "W", s, e, window_ns, self.last)
        return unsplit, splits, trend

    # --- trends ---------------------------------------------------------------------------

    def trends(self, freq: Freq) -> pd.DataFrame:
        s, e = self.s, self.e
        first, count = _bucket_span(freq, s, e)
        from core.overview.arrays import _bucket_starts

        index = _bucket_starts(np.arange(first, first + count, dtype=np.int64), freq)
        frame = pd.DataFrame(index=index)
        bucket = f"{day_bucket(freq, 'd')} - {first}"
        types = self.rows(
            f"SELECT ty, {schema.EVENT_TYPE} FROM read_parquet({self.coded.path('types')})"
        )
        names = {int(code): str(name) for code, name in types}
        by_type: dict[int, np.ndarray] = {}
        counted = (
            f"SELECT {bucket}, ty, sum(n) FROM read_parquet({self.coded.path('hours')}) WHERE "
            f"{self.sel} AND {self.days(s, e)}"
            if self.by_day
            else f"SELECT {bucket}, ty, count(*) FROM sel WHERE {self.period()}"
        )
        for b, ty, n in self.rows(f"{counted} AND ty IS NOT NULL GROUP BY ALL"):
            by_type.setdefault(int(ty), np.zeros(count, dtype=np.int64))[int(b)] = int(n)
        for code in sorted(by_type, key=lambda c: (_KIND_INDEX.get(names[c], _K_OTHER), names[c])):
            frame[names[code]] = by_type[code]
        orders = np.zeros(count, dtype=np.int64)
        for b, n in self.rows(
            f"SELECT {_bucket(freq, 'ot')} - {first}, count(*) FROM (SELECT min(t) AS ot FROM buys "
            f"WHERE {self.period()} GROUP BY ok) GROUP BY 1"
        ):
            orders[int(b)] = int(n)
        frame[ORDERS] = orders
        revenue = np.zeros(count)
        active = np.zeros(count, dtype=np.int64)
        buyers = np.zeros(count, dtype=np.int64)
        # A user's days of the period: one row each (of ``ud``), so per day no distinct count.
        per_user = (
            f"(SELECT d - {first} AS b, revenue, bought FROM ud WHERE {self.in_period()})"
            if freq == "D"
            else f"(SELECT {day_bucket(freq, 'd')} - {first} AS b, u, sum(revenue) AS revenue, "
            f"bool_or(bought) AS bought FROM ud WHERE {self.in_period()} GROUP BY ALL)"
        )
        for b, value, n_active, n_buyers in self.rows(
            f"SELECT b, sum(revenue), count(*), count(*) FILTER (WHERE bought) FROM {per_user} "
            "GROUP BY 1"
        ):
            revenue[int(b)] = float(value)
            active[int(b)] = int(n_active)
            buyers[int(b)] = int(n_buyers)
        frame[REVENUE] = revenue if self.coded.has_prices else np.nan
        frame[ACTIVE_USERS] = active
        frame[BUYERS] = buyers
        return frame.reset_index()

    def heatmap(self) -> pd.DataFrame:
        counts = np.zeros(7 * 24, dtype=np.int64)
        counted = (
            f"sum(n) FROM read_parquet({self.coded.path('hours')}) WHERE {self.sel} AND "
            f"{self.days(self.s, self.e)}"
            if self.by_day
            else f"count(*) FROM sel WHERE {self.period()}"
        )
        for cell, n in self.rows(f"SELECT pmod(d + 3, 7) * 24 + h, {counted} GROUP BY 1"):
            counts[int(cell)] = int(n)
        return _heatmap_frame(counts)

    # --- products -------------------------------------------------------------------------

    def _stats(self, key: str, viewers: str | None) -> str:
        """SQL of the stats per ``key`` (``i``, ``c`` or ``b``) over the period, with viewers
        from the relation ``viewers`` (``key``, ``n``, as ``segment_users`` makes it) or left
        at 0. Orders, buyers, units and revenue are counted over purchase lines only, so no
        distinct count or sum runs over every event."""
        seen = (
            f"(SELECT key, n AS {VIEWERS} FROM {viewers})"
            if viewers is not None
            else f"(SELECT NULL AS key, 0 AS {VIEWERS})"
        )
        if self.by_day:  # summed from the coded days of items, categories and brands
            days = "item_days" if key == "i" else "segment_days"
            # Summed as doubles, which DuckDB adds faster than integers; exact, as every sum
            # is a whole number far below 2**53.
            events = (
                f"coalesce(sum(n::DOUBLE) FILTER (WHERE k = {_K_VIEW}), 0)::BIGINT AS {VIEWS}, "
                f"coalesce(sum(n::DOUBLE) FILTER (WHERE k = {_K_CART}), 0)::BIGINT AS {CARTS} "
                f"FROM read_parquet({self.coded.path(days)}) WHERE "
                f"{self.days(self.s, self.e)} AND {self.sel}"
            )
        else:
            events = (
                f"count(*) FILTER (WHERE k = {_K_VIEW}) AS {VIEWS}, "
                f"count(*) FILTER (WHERE k = {_K_CART}) AS {CARTS} FROM sel WHERE {self.period()}"
            )
        revenue = "sum(p * q)" if self.coded.has_prices else "NULL::DOUBLE"
        return (
            f"SELECT key, {VIEWS}, {CARTS}, coalesce({ORDERS}, 0) AS {ORDERS}, "
            f"coalesce({UNITS}, 0) AS {UNITS}, "
            + (f"coalesce({REVENUE}, 0)" if self.coded.has_prices else "NULL::DOUBLE")
            + f" AS {REVENUE}, coalesce({BUYERS}, 0) AS {BUYERS}, "
            f"coalesce({VIEWERS}, 0) AS {VIEWERS} "
            f"FROM (SELECT {key} AS key, {events} AND {key} IS NOT NULL GROUP BY 1) "
            f"LEFT JOIN (SELECT {key} AS key, count(DISTINCT ok) AS {ORDERS}, "
            f"count(DISTINCT u) AS {BUYERS}, sum(q) AS {UNITS}, {revenue} AS {REVENUE} "
            f"FROM buys WHERE {self.period()} AND {key} IS NOT NULL GROUP BY 1) USING (key) "
            f"LEFT JOIN {seen} USING (key)"
        )

    def segment_users(self, key: str) -> str:
        """The users per ``key`` (``c`` or ``b``) in the period, made once: the relation of
        the users with a view there per key (``key``, ``n``), which it returns; the table
        ``{key}_views`` of each user's first view ``fv`` there; and ``{key}_buys`` of their
        last purchase ``lp`` and purchase lines ``n`` there (apart: the purchase lines are
        few). Only rows that a cart or a purchase there may join (the funnel's later steps,
        the conversion) need be in ``{key}_views``.

        On whole days both come from the coded first views per day: the viewers summed from
        their counts, and ``{key}_views`` held only for the users who ever put in the cart or
        bought in that category (at 30M events, 0.3M of a month's 11.6M)."""
        viewers = f"{key}_viewers"
        if viewers in self.made:
            return viewers
        self.made.add(viewers)
        views = f"{key}_views"
        if key == "c" and self.by_day:  # each pair's first day there, no grouping
            where = (
                f"WHERE {self.days(self.s, self.e)} AND (pd IS NULL OR pd < {self.s // _DAY}) "
                f"AND {self.sel}"
            )
            self.con.execute(
                f"CREATE TEMP TABLE {viewers} AS SELECT c AS key, sum(n)::BIGINT AS n FROM "
                f"read_parquet({self.coded.path('category_view_days')}) {where} GROUP BY 1"
            )
            self.con.execute(
                f"CREATE TEMP TABLE {views} AS SELECT c AS key, u, v0 AS fv FROM read_parquet("
                f"{self.coded.path('category_shopper_views')}) {where}"
            )
        else:
            self.con.execute(
                f"CREATE TEMP TABLE {views} AS SELECT {key} AS key, u, min(t) AS fv FROM sel "
                f"WHERE {self.period()} AND k = {_K_VIEW} AND {key} IS NOT NULL GROUP BY ALL"
            )
            self.con.execute(
                f"CREATE TEMP VIEW {viewers} AS SELECT key, count(*) AS n FROM {views} GROUP BY 1"
            )
        self.con.execute(
            f"CREATE TEMP TABLE {key}_buys AS SELECT {key} AS key, u, max(t) AS lp, count(*) "
            f"AS n FROM buys WHERE {self.period()} AND {key} IS NOT NULL GROUP BY ALL"
        )
        return viewers

    def items(
        self, measures: tuple[Measure, ...], top_n: int
    ) -> tuple[dict[str, pd.DataFrame], LongTail]:
        items = self.coded.path("items")
        # Every item code has a row in ``items``; the non-product ones are few.
        self.con.execute(
            f"CREATE TEMP TABLE item_stats AS SELECT s.*, s.key IN (SELECT i FROM read_parquet("
            f"{items}) WHERE np) AS np FROM ({self._stats('i', None)}) AS s"
        )
        order = {
            measure: f"ORDER BY s.{measure} DESC, s.{VIEWS} DESC, s.key LIMIT {int(top_n)}"
            for measure in measures
        }
        ranked = {
            measure: self.rows(
                "SELECT s.key FROM item_stats AS s WHERE NOT s.np AND "
                # viewers > 0 needs views > 0
                f"({' OR '.join(f's.{c} > 0' for c in (VIEWS, CARTS, ORDERS, UNITS))}) "
                f"{order[measure]}"
            )
            for measure in measures
        }
        # Only the items shown are labelled, and viewers (shown, never ranked by) counted.
        shown = sorted({int(key) for keys in ranked.values() for (key,) in keys})
        self.con.execute(
            f"CREATE TEMP TABLE item_info AS SELECT * FROM read_parquet({items}) "
            "WHERE i IN (SELECT unnest(?::INTEGER[]))",
            [shown],
        )
        has_names = self.coded.has_names
        frames = {
            measure: self.frame(
                f"SELECT s.key, i.{schema.ITEM_ID}, i.{schema.NAME}, i.item_c, i.item_b, "
                f"{', '.join('s.' + c for c in _STATS)} FROM item_stats AS s JOIN item_info AS i "
                f"ON i.i = s.key {order[measure]}"
            )
            for measure in measures
        }
        # The items as a list of literals, which the scan filters by: on whole days, of the
        # coded viewers in item order, whose other items' row groups it skips.
        views = (
            f"read_parquet({self.coded.path('item_viewers')}) WHERE ({self.sel}) AND "
            f"{self.days(self.s, self.e)}"
            if self.by_day
            else f"sel WHERE {self.period()} AND k = {_K_VIEW}"
        )
        viewers = dict(
            self.rows(
                f"SELECT i, count(DISTINCT u) FROM {views} "
                f"AND i IN ({', '.join(map(str, shown)) or 'NULL'}) GROUP BY i"
            )
        )
        (named, with_category, with_brand), *_ = self.rows(
            f"SELECT count({schema.NAME}), count(item_c), count(item_b) FROM read_parquet({items})"
        )
        labelled = (named > 0, with_category > 0, with_brand > 0)
        tops: dict[str, pd.DataFrame] = {}
        for measure, frame in frames.items():
            frame[VIEWERS] = [int(viewers.get(int(key), 0)) for key in frame["key"]]
            tops[measure] = self._item_frame(frame, has_names, labelled)
        sold = self.rows(f"SELECT {UNITS}, np FROM item_stats WHERE {UNITS} > 0")
        sales = np.array([float(u) for u, np_ in sold if not np_], dtype="float64")
        tail = _tail(np.sort(sales)[::-1], len(sold), UNITS)
        return tops, tail

    def _item_frame(
        self, frame: pd.DataFrame, has_names: bool, labelled: tuple[bool, bool, bool]
    ) -> pd.DataFrame:
        """A top table as ``_item_table`` and ``_ranked`` give it; ``labelled`` says whether
        any item has a name, a category and a brand."""
        stats = _stats_frame(frame)
        named, with_category, with_brand = labelled
        position = 0
        stats.insert(position, schema.ITEM_ID, _text(frame[schema.ITEM_ID], True))
        position += 1
        if has_names:
            stats.insert(position, schema.NAME, _text(frame[schema.NAME], named))
            position += 1
        for column, codes, table in (
            (schema.CATEGORY, "item_c", "categories"),
            (schema.BRAND, "item_b", "brands"),
        ):
            present = (
                self.coded.has_item_category if column == schema.CATEGORY else self.coded.has_brands
            )
            if present:
                labels = np.array(self.labels(table, column), dtype=object)
                values = frame[codes].to_numpy(dtype=object)
                known = pd.notna(values)
                out = np.full(len(values), None, dtype=object)
                out[known] = labels[values[known].astype(np.int64)]
                any_text = with_category if column == schema.CATEGORY else with_brand
                stats.insert(position, column, _text(pd.Series(out, dtype=object), any_text))
                position += 1
        return stats

    def segment_table(self, key: str, table: str, column: str) -> pd.DataFrame:
        """``_segment_table``: the stats of every category (or brand) with an event."""
        labels = self.labels(table, column)
        found = self.frame(f"{self._stats(key, self.segment_users(key))} ORDER BY key")
        self.segment_keys[key] = found["key"].to_numpy(dtype=np.int64)
        stats = _stats_frame(found)
        stats.insert(
            0,
            column,
            _text(
                pd.Series(np.array(labels, dtype=object)[found["key"].to_numpy(dtype=np.int64)]),
                bool(labels),
            ),
        )
        return stats

    def category_conversion(self, table: pd.DataFrame) -> pd.DataFrame:
        """The conversion of the categories of ``table`` (``segment_table`` of ``c``)."""
        found = self.rows(
            "SELECT key, count(*) FILTER (WHERE b.lp >= v.fv), sum(b.n) FROM c_buys AS b "
            "LEFT JOIN c_views AS v USING (key, u) GROUP BY 1"
        )
        position = {int(k): n for n, k in enumerate(self.segment_keys["c"])}
        converted = np.zeros(len(table), dtype=np.int64)
        purchases = np.zeros(len(table), dtype=np.int64)
        for key, n_converted, n_purchases in found:
            row = position[int(key)]
            converted[row] = int(n_converted)
            purchases[row] = int(n_purchases)
        table = table.copy()
        table[CONVERTED] = converted
        table[PURCHASES] = purchases
        return _conversion_frame(table)

    def price_distribution(self) -> pd.DataFrame:
        categories = pd.Index(self.labels("categories", schema.CATEGORY), dtype="str")
        if not self.coded.has_prices:  # no finite price anywhere: no item has one
            return _price_frame(np.zeros(0, np.int64), categories, np.zeros(0))
        found = self.frame(
            "SELECT i.item_c, coalesce(i.list_price, e.last_price) AS price FROM "
            f"(SELECT i, arg_max(p, r) FILTER (WHERE p IS NOT NULL AND isfinite(p)) AS last_price "
            f"FROM sel WHERE {self.period()} AND i IS NOT NULL GROUP BY i) AS e "
            "JOIN read_parquet(" + self.coded.path("items") + ") AS i USING (i) "
            "WHERE NOT i.np AND i.item_c IS NOT NULL AND isfinite(coalesce(i.list_price, "
            "e.last_price)) ORDER BY i"
        )
        return _price_frame(
            found["item_c"].to_numpy(dtype=np.int64),
            categories,
            found["price"].to_numpy(dtype="float64"),
        )

    # --- customers ------------------------------------------------------------------------

    def rfm(self) -> pd.DataFrame:
        found = self.frame(
            f"SELECT o.u, f.{schema.USER_ID}, count(*) AS n, max(o.ot) AS last, "
            "sum(coalesce(o.value, 0)) AS spend FROM (SELECT ok, min(u) AS u, min(t) AS ot, "
            f"sum(p * q) AS value FROM buys WHERE t < {self.e} "
            "GROUP BY ok) AS o JOIN users AS f USING (u) GROUP BY ALL ORDER BY o.u"
        )
        return _rfm_frame(
            found[schema.USER_ID].to_numpy(dtype=object),
            found["n"].to_numpy(dtype=np.int64),
            found["last"].to_numpy(dtype=np.int64),
            found["spend"].to_numpy(dtype="float64"),
            self.e,
            has_prices=self.coded.has_prices,
        )

    def new_vs_returning(self) -> pd.DataFrame:
        s, e = self.s, self.e
        first, count = _bucket_span("W", s, e)
        active = np.zeros(count, dtype=np.int64)
        fresh = np.zeros(count, dtype=np.int64)
        weeks = (
            f"(SELECT u, w FROM {self.user_weeks()} WHERE active)"
            if self.by_day
            else f"(SELECT DISTINCT u, {day_bucket('W', 'd')} AS w FROM ud WHERE per = 0)"
        )
        for w, n, n_new in self.rows(
            f"SELECT x.w - {first}, count(*), count(*) FILTER (WHERE {_bucket('W', 'f.first_t')} "
            "= x.w) "
            f"FROM {weeks} AS x JOIN users AS f USING (u) GROUP BY 1"
        ):
            active[int(w)] = int(n)
            fresh[int(w)] = int(n_new)
        return _new_vs_returning_frame(active, fresh, "W", s, e)

    def cohorts(self, metric: str) -> CohortTable:
        e = self.e
        if metric == "buying":
            first = "(SELECT u, min(t) AS first_t FROM orders_all GROUP BY u)"
        else:
            first = "users"
        month = _bucket("M", "first_t")
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE cohort AS SELECT u, {month} AS m FROM {first} WHERE "
            f"first_t < {e}"
        )
        (n_seen, low, high), *_ = self.rows("SELECT count(*), min(m), max(m) FROM cohort")
        last = self.last_before_end()
        if not n_seen or last is None:
            return _empty_cohorts("buying" if metric == "buying" else "active")
        first_month = int(low)
        (last_month,), *_ = self.rows(f"SELECT {_bucket('M', str(last))}")
        last_month = int(last_month)
        n_cohorts = max(last_month, int(high)) - first_month + 1
        if self.by_day:  # each user's months with a selected event (a purchase) before the end
            months = (
                f"SELECT DISTINCT u, mo AS m FROM read_parquet({self.coded.path('user_months')}) "
                f"WHERE fd < {e // _DAY} AND {self.sel}"
                + (f" AND k = {_K_PURCHASE}" if metric == "buying" else "")
            )
        else:
            months = f"SELECT DISTINCT u, {day_bucket('M', 'd')} AS m FROM ud" + (
                " WHERE bought" if metric == "buying" else ""
            )
        counts = np.zeros((n_cohorts, n_cohorts), dtype=np.int64)
        for m, since, n in self.rows(
            f"SELECT c.m - {first_month}, x.m - c.m, count(*) FROM ({months}) AS x "
            "JOIN cohort AS c USING (u) GROUP BY ALL"
        ):
            counts[int(m), int(since)] = int(n)
        sizes = np.zeros(n_cohorts, dtype=np.int64)
        for m, n in self.rows(f"SELECT m - {first_month}, count(*) FROM cohort GROUP BY 1"):
            sizes[int(m)] = int(n)
        return _cohort_frame(
            counts, sizes, first_month, last_month, "buying" if metric == "buying" else "active"
        )

    # --- users behind a selection -----------------------------------------------------------

    def users(self) -> pd.DataFrame:
        revenue = (
            f"coalesce(sum(p * q) FILTER (WHERE k = {_K_PURCHASE}), 0)"
            if self.coded.has_prices
            else "NULL::DOUBLE"
        )
        found = self.frame(
            f"SELECT f.{schema.USER_ID}, x.* FROM (SELECT u, count(*) AS {EVENTS}, "
            f"count(*) FILTER (WHERE k = {_K_VIEW}) AS {VIEWS}, count(*) FILTER (WHERE k = "
            f"{_K_CART}) AS {CARTS}, "
            f"count(DISTINCT ok) FILTER (WHERE k = {_K_PURCHASE}) AS {ORDERS}, {revenue} AS "
            f"{REVENUE}, "
            f"min(t) AS first_t, max(t) AS last_t FROM ev WHERE ({self.sel}) AND {self.period()} "
            "GROUP BY u) AS x "
            "JOIN users AS f USING (u) ORDER BY u"
        )
        frame = pd.DataFrame(
            {
                schema.USER_ID: found[schema.USER_ID].to_numpy(dtype=object),
                EVENTS: found[EVENTS].to_numpy(dtype=np.int64),
                VIEWS: found[VIEWS].to_numpy(dtype=np.int64),
                CARTS: found[CARTS].to_numpy(dtype=np.int64),
                ORDERS: found[ORDERS].to_numpy(dtype=np.int64),
                REVENUE: found[REVENUE].to_numpy(dtype="float64")
                if self.coded.has_prices
                else np.nan,
                FIRST_EVENT: found["first_t"].to_numpy(dtype=np.int64).view("datetime64[ns]"),
                LAST_EVENT: found["last_t"].to_numpy(dtype=np.int64).view("datetime64[ns]"),
            }
        )
        sort = [REVENUE, ORDERS, EVENTS] if self.coded.has_prices else [ORDERS, EVENTS]
        return frame.sort_values(sort, ascending=False, kind="stable").reset_index(drop=True)


def _text(column: pd.Series, any_text: bool) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """A text column as the in-memory path infers it over every label: ``str`` when any label
    is text, else objects (missing values as None)."""
    values = column.to_numpy(dtype=object)
    values = np.asarray(np.where(pd.isna(values), None, values), dtype=object)
    return pd.array(values, dtype="str") if any_text else values


def _stats_frame(found: pd.DataFrame) -> pd.DataFrame:
    """The stats columns with the dtypes ``_key_stats`` gives them."""
    return pd.DataFrame(
        {
            VIEWS: found[VIEWS].to_numpy(dtype=np.int64),
            CARTS: found[CARTS].to_numpy(dtype=np.int64),
            ORDERS: found[ORDERS].to_numpy(dtype=np.int64),
            UNITS: found[UNITS].to_numpy(dtype="float64"),
            REVENUE: found[REVENUE].to_numpy(dtype="float64"),
            BUYERS: found[BUYERS].to_numpy(dtype=np.int64),
            VIEWERS: found[VIEWERS].to_numpy(dtype=np.int64),
        }
    )


def _top(table: pd.DataFrame, measures: tuple[Measure, ...], n: int) -> dict[str, pd.DataFrame]:
    return {m: _ranked(table, m, n).reset_index(drop=True) for m in measures}
