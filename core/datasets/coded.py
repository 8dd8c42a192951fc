"""A dataset's events as integer codes, built once with DuckDB next to its events.

Every Overview figure over a dataset is a DuckDB query. Strings are slow to group and sort, and
sessions need each user's events in order (a window over every event), so both are paid once:
``coded/`` holds the events as codes, in the order of ``events.parquet``, with each event's
session, order and non-product flag, plus the label tables. Codes follow the label order the
in-memory path uses (sorted ids; categories and brands of a product table in its order), so ties
break the same way in both.

- ``events.parquet``: ``t`` (ns), ``d`` (its day since 1970), ``h`` (its hour of the day),
  ``u`` (user), ``ty`` (event type), ``k`` (kind: index in
  ``schema.EVENT_TYPES``, 5 other, -1 missing), ``i`` (item), ``c`` (category), ``b`` (brand),
  ``p`` (unit price: the event's, else the product table's), ``q`` (quantity, 1 where missing),
  ``ok`` (order of a purchase line, as ``core.data.orders`` defines orders), ``s`` (session, for
  the default inactivity gap), ``dt`` (time since the session's previous event, NULL for its
  first) and ``np`` (a non-product line);
- ``users``, ``types``, ``items``, ``categories``, ``brands`` ``.parquet``: the labels by code
  (users with their first event; items with name, category, brand, list price, non-product);
- ``buys.parquet``: the purchase lines of ``events.parquet`` (its columns but the sessions'), read
  by every Overview for orders, buyers and customers over all times;

Overviews of whole days without a category or brand filter read pre-aggregates instead of the
events wherever a figure allows it (an event-type filter keeps or drops whole rows of them, by
their type ``ty`` or the bit ``1 << ty`` of their type mask ``m`` when the data has at most
``MASK_TYPES`` types). Those per day are written in day order, so a period reads only its row
groups:

- ``user_days.parquet``: per user ``u`` and day ``d``, whether they bought, their revenue,
  their types ``m`` and their first view's time ``v0``;
- ``user_weeks.parquet``: the user-days per user ``u`` and week ``w``: whether they bought,
  their types ``m`` and their first view's time ``v0``; a period reads the weeks wholly in it
  there and the user-days of its other days;
- the views per day ``d``, category ``c``, user ``u`` and type ``ty``, with the first one's
  time ``v0`` and the day before with such views ``pd`` (NULL for none): a user's first view
  of a category in a period of whole days is ``v0`` of the one row there whose ``pd`` is
  before the period, so no grouping per user and category. Those rows are kept as
  ``category_view_days.parquet``, counted per ``d``, ``c``, ``ty`` and ``pd`` (``n``: a
  category's viewers in a period are a sum), and ``category_shopper_views.parquet``, the rows
  of the users who put in the cart or bought in that category at some time, the only ones a
  funnel step or a purchase there can follow;
- ``segment_days.parquet``: per day ``d``, category ``c``, brand ``b`` and type ``ty`` (kind
  ``k``): events ``n`` (units and revenue come from the purchase lines);
- ``item_days.parquet``: per day ``d``, item ``i`` and type ``ty`` (kind ``k``): events
  ``n``; ``item_viewers.parquet``: per item ``i``, day ``d`` and type ``ty``, the users ``u``
  with such a view, in item order in small row groups, so the viewers of the few items an
  Overview shows are read from their row groups alone;
- ``user_months.parquet``: per user ``u``, month ``mo`` (since 1970) and type ``ty`` (kind
  ``k``), the first day ``fd`` with such an event, for cohorts;
- ``hours.parquet``: per day ``d``, hour ``h`` and type ``ty`` (kind ``k``): events ``n``, the
  last one's time, whether any is a non-product line, and the purchases' revenue, the returns'
  value and the non-product revenue;
- ``sessions.parquet``: sessions (for the default gap) per first day ``fd``, last day ``ld`` and
  types ``m``; ``crossing.parquet``: the events (``s``, ``t``, ``ty``, ``fd``, ``ld``) of the
  sessions that span more than one day, the only ones a period of whole days can cut;
- ``coded.json``: what the data has, its time span and its filter options.

The folder is written under a hidden name and renamed into place; it is rebuilt when
``events.parquet`` changes.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import duckdb
import numpy as np
import pandas as pd

from core import schema
from core.data.nonproduct import non_product_items
from core.data.orders import DAY_NS
from core.datasets.ingest import DUCKDB_MEMORY, EVENTS, PRODUCTS
from core.errors import DatasetError
from core.overview.columns import (
    _K_CART,
    _K_OTHER,
    _K_PURCHASE,
    _K_RETURN,
    _K_VIEW,
    _KIND_INDEX,
    DEFAULT_GAP_MINUTES,
    HOUR_NS,
    MINUTE_NS,
    Freq,
)

CODED: Final = "coded"
META: Final = "coded.json"
SPILL: Final = ".spill"
DUCKDB_THREADS: Final = 2
ROW_GROUP_ROWS: Final = 262_144  # small enough for periods to skip most of a long log
ITEM_ROW_GROUP_ROWS: Final = 65_536  # small enough for a few items to skip most of the rest
FORMAT_VERSION: Final = 13
PERFECT_HASH_BITS: Final = 22
MASK_TYPES: Final = 62  # event types a BIGINT mask holds
_BUILDING = threading.Lock()


@dataclass(frozen=True)
class Coded:
    """A dataset's coded events: where they are and what the data has.

    Attributes:
        folder: the ``coded`` folder.
        rows: events.
        start: first event time (ns); ``end``: last event time (ns).
        has_types, has_items, has_categories, has_brands, has_item_category, has_prices,
        has_quantity, has_orders, has_sessions: what the events (and product table) have.
        type_masks: whether the pre-aggregates' type masks ``m`` are set.
        gap_ns: the session gap ``s`` was split with.
        categories, brands, event_types: the filter options.
    """

    folder: Path
    rows: int
    start: int | None
    end: int | None
    has_types: bool
    has_items: bool
    has_categories: bool
    has_brands: bool
    has_item_category: bool
    has_prices: bool
    has_names: bool
    has_orders: bool
    has_sessions: bool
    type_masks: bool
    gap_ns: int
    categories: tuple[str, ...]
    brands: tuple[str, ...]
    event_types: tuple[str, ...]

    def path(self, table: str) -> str:
        """The file of ``table`` (``events``, ``users``...), quoted for SQL."""
        return "'" + str(self.folder / f"{table}.parquet").replace("'", "''") + "'"


@contextmanager
def connect(dataset: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection of its own (one per call, so threads never share one): 2 threads,
    a memory limit, spilling into the dataset's folder."""
    con = duckdb.connect()
    try:
        con.execute(f"SET threads = {DUCKDB_THREADS}")
        con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
        con.execute("SET temp_directory = ?", [str(Path(dataset) / SPILL)])
        con.execute("SET enable_progress_bar = false")
        # Groups by codes of up to 4M values (items, users) take an array indexed by the code
        # instead of a hash table: DuckDB sees the codes' range in the files' statistics.
        con.execute(f"SET perfect_ht_threshold = {PERFECT_HASH_BITS}")
        # Every query that needs an order says so (rows carry their file row).
        con.execute("SET preserve_insertion_order = false")
        # Floor division and remainders of negative times, as numpy's // and %.
        con.execute("CREATE MACRO pmod(a, b) AS ((a % b) + b) % b")
        con.execute("CREATE MACRO fdiv(a, b) AS (a - pmod(a, b)) // b")
        yield con
    finally:
        con.close()


def coded_events(dataset: Path) -> Coded:
    """The coded events of the dataset in ``dataset`` (a dataset's folder), built when missing
    or out of date.

    Raises:
        DatasetError: one line, when the dataset has no events or its folder is read-only.
    """
    folder = Path(dataset)
    events = folder / EVENTS
    if not events.is_file():
        raise DatasetError(f"Dataset '{folder.name}' has no events; ingest its files again.")
    stamp = _stamp(folder)
    with _BUILDING:
        meta = _read_meta(folder / CODED)
        if meta is None or meta.get("stamp") != stamp:
            _build(folder, stamp)
            meta = _read_meta(folder / CODED)
    assert meta is not None
    return _as_coded(folder / CODED, meta)


def _stamp(folder: Path) -> list[Any]:
    parts = [folder / EVENTS, folder / PRODUCTS]
    return [
        FORMAT_VERSION,
        *([p.stat().st_size, p.stat().st_mtime_ns] for p in parts if p.exists()),
    ]


def _read_meta(coded: Path) -> dict[str, Any] | None:
    try:
        meta: dict[str, Any] = json.loads((coded / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta


def _as_coded(folder: Path, meta: dict[str, Any]) -> Coded:
    return Coded(
        folder=folder,
        rows=int(meta["rows"]),
        start=meta["start"],
        end=meta["end"],
        has_types=bool(meta["has_types"]),
        has_items=bool(meta["has_items"]),
        has_categories=bool(meta["has_categories"]),
        has_brands=bool(meta["has_brands"]),
        has_item_category=bool(meta["has_item_category"]),
        has_prices=bool(meta["has_prices"]),
        has_names=bool(meta["has_names"]),
        has_orders=bool(meta["has_orders"]),
        has_sessions=bool(meta["has_sessions"]),
        type_masks=bool(meta["type_masks"]),
        gap_ns=int(meta["gap_ns"]),
        categories=tuple(meta["categories"]),
        brands=tuple(meta["brands"]),
        event_types=tuple(meta["event_types"]),
    )


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _build(folder: Path, stamp: list[Any]) -> None:
    """Write ``coded/`` for the dataset in ``folder`` (see the module)."""
    target = folder / CODED
    try:
        staging = Path(tempfile.mkdtemp(dir=folder, prefix=f".{CODED}-"))
    except OSError as err:
        raise DatasetError(
            f"Cannot write the overview's index in dataset '{folder.name}' ({type(err).__name__});"
            " make its folder writable."
        ) from None
    try:
        with connect(folder) as con:
            meta = _write_coded(con, folder, staging)
        meta["stamp"] = stamp
        (staging / META).write_text(json.dumps(meta), encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(folder / SPILL, ignore_errors=True)


def day_bucket(freq: Freq, day: str) -> str:
    """SQL of the period number of the day number ``day`` (days since 1970), as
    ``core.overview.arrays._buckets`` numbers them: days, weeks from Monday, months."""
    if freq == "D":
        return day
    if freq == "W":
        return f"fdiv({day} + 3, 7)"
    date = f"(DATE '1970-01-01' + {day}::INTEGER)"
    return f"((year({date}) - 1970) * 12 + month({date}) - 1)"


def with_sessions(source: str, gap_ns: int) -> str:
    """A query of the rows of ``source`` (a relation with ``r``, ``u``, ``t`` and ``sid``, the
    session id's code or NULL) with each one's session ``s`` and ``dt``, the time since the
    session's previous event (NULL for its first), in one ordered pass. Events with a session id
    keep it; the others are split per user at gaps longer than ``gap_ns``. Sessions with an event
    in ``[start, end)`` are then counted without a distinct count: the events there whose ``dt``
    is NULL or reaches back before ``start``."""
    return f"""
        SELECT * EXCLUDE (part, previous, new),
            CASE WHEN sid IS NOT NULL THEN -1 - sid::BIGINT ELSE u::BIGINT * 4294967296
                + sum(new::BIGINT) OVER (PARTITION BY part ORDER BY t, r
                    ROWS UNBOUNDED PRECEDING) END AS s,
            CASE WHEN sid IS NOT NULL OR NOT new THEN t - previous END AS dt
        FROM (
            SELECT *, coalesce(t - previous > {int(gap_ns)}, true) AS new
            FROM (
                SELECT *, lag(t) OVER (PARTITION BY part ORDER BY t, r) AS previous
                FROM (
                    SELECT *, CASE WHEN sid IS NULL THEN u::BIGINT ELSE -1 - sid::BIGINT END
                        AS part
                    FROM {source}
                )
            )
        )
    """


def _labels(con: duckdb.DuckDBPyConnection, name: str, column: str, source: str) -> None:
    """A table ``name`` of the distinct non-null values of ``column`` in sorted order, with
    their code ``code``."""
    con.execute(
        f"CREATE TEMP TABLE {name} AS SELECT value, (row_number() OVER (ORDER BY value) - 1)::INT"
        f' AS code FROM (SELECT DISTINCT "{column}"::VARCHAR AS value FROM {source}'
        f' WHERE "{column}" IS NOT NULL)'
    )


def _write_aggregates(con: duckdb.DuckDBPyConnection, out: Path, masks: bool) -> None:
    """Write the purchase lines and the pre-aggregates of the coded events (see the module)."""
    con.execute(
        f"CREATE VIEW written AS SELECT * FROM read_parquet({_quote(out / 'events.parquet')})"
    )
    mask = "coalesce(bit_or(1::BIGINT << ty), 0)" if masks else "0::BIGINT"
    con.execute(
        f"COPY (SELECT * EXCLUDE (s, dt) FROM written WHERE k = {_K_PURCHASE}) "
        f"TO {_quote(out / 'buys.parquet')} (FORMAT parquet)"
    )
    by_day = f"(FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP_ROWS})"
    con.execute(
        f"COPY (SELECT u, d, bool_or(k = {_K_PURCHASE}) AS bought, coalesce(sum(p * q) FILTER "
        f"(WHERE k = {_K_PURCHASE}), 0) AS revenue, {mask} AS m, min(t) FILTER (WHERE k = "
        f"{_K_VIEW}) AS v0 "
        "FROM written GROUP BY ALL ORDER BY d) "
        f"TO {_quote(out / 'user_days.parquet')} {by_day}"
    )
    con.execute(
        f"COPY (SELECT u, {day_bucket('W', 'd')} AS w, bool_or(bought) AS bought, bit_or(m) AS m, "
        f"min(v0) AS v0 FROM read_parquet({_quote(out / 'user_days.parquet')}) GROUP BY ALL "
        f"ORDER BY w) TO {_quote(out / 'user_weeks.parquet')} {by_day}"
    )
    con.execute(
        "CREATE TEMP TABLE category_views AS SELECT d, c, u, ty, v0, lag(d) OVER (PARTITION BY "
        f"u, c, ty ORDER BY d) AS pd FROM (SELECT d, c, u, ty, min(t) AS v0 FROM written WHERE "
        f"k = {_K_VIEW} AND c IS NOT NULL GROUP BY ALL)"
    )
    con.execute(
        "COPY (SELECT d, c, ty, pd, count(*) AS n FROM category_views GROUP BY ALL ORDER BY d) "
        f"TO {_quote(out / 'category_view_days.parquet')} {by_day}"
    )
    con.execute(
        "COPY (SELECT v.* FROM category_views AS v SEMI JOIN (SELECT DISTINCT c, u FROM written "
        f"WHERE k IN ({_K_CART}, {_K_PURCHASE}) AND c IS NOT NULL) AS p ON p.c = v.c AND "
        f"p.u = v.u ORDER BY d) TO {_quote(out / 'category_shopper_views.parquet')} {by_day}"
    )
    con.execute("DROP TABLE category_views")
    con.execute(
        "COPY (SELECT d, c, b, ty, k, count(*) AS n FROM written "
        "WHERE c IS NOT NULL OR b IS NOT NULL GROUP BY ALL ORDER BY d) "
        f"TO {_quote(out / 'segment_days.parquet')} {by_day}"
    )
    con.execute(
        "COPY (SELECT d, i, ty, k, count(*) AS n FROM written WHERE i IS NOT NULL GROUP BY ALL "
        f"ORDER BY d) TO {_quote(out / 'item_days.parquet')} {by_day}"
    )
    con.execute(
        f"COPY (SELECT DISTINCT i, d, u, ty FROM written WHERE k = {_K_VIEW} AND i IS NOT NULL "
        f"ORDER BY i, d) TO {_quote(out / 'item_viewers.parquet')} "
        f"(FORMAT parquet, ROW_GROUP_SIZE {ITEM_ROW_GROUP_ROWS})"
    )
    con.execute(
        f"COPY (SELECT u, {day_bucket('M', 'd')} AS mo, ty, k, min(d) AS fd FROM written "
        f"GROUP BY ALL) TO {_quote(out / 'user_months.parquet')} (FORMAT parquet)"
    )
    con.execute(
        "COPY (SELECT d, h, ty, k, count(*) AS n, max(t) AS last, bool_or(np) AS np, "
        f"coalesce(sum(p * q) FILTER (WHERE k = {_K_PURCHASE}), 0) AS revenue, "
        f"coalesce(sum(abs(p * q)) FILTER (WHERE k = {_K_RETURN}), 0) AS returned, "
        f"coalesce(sum(p * q) FILTER (WHERE k = {_K_PURCHASE} AND np), 0) AS non_product "
        f"FROM written GROUP BY ALL) TO {_quote(out / 'hours.parquet')} (FORMAT parquet)"
    )
    con.execute(
        f"CREATE TEMP TABLE spans AS SELECT s, min(d) AS fd, max(d) AS ld, {mask} AS m "
        "FROM written GROUP BY s"
    )
    con.execute(
        "COPY (SELECT fd, ld, m, count(*) AS n FROM spans GROUP BY ALL) "
        f"TO {_quote(out / 'sessions.parquet')} (FORMAT parquet)"
    )
    con.execute(
        "COPY (SELECT w.s, w.t, w.ty, x.fd, x.ld FROM written AS w JOIN (SELECT * FROM spans "
        f"WHERE fd < ld) AS x USING (s)) TO {_quote(out / 'crossing.parquet')} (FORMAT parquet)"
    )


def _write_coded(con: duckdb.DuckDBPyConnection, folder: Path, out: Path) -> dict[str, Any]:
    events = _quote(folder / EVENTS)
    con.execute(
        "CREATE VIEW raw AS SELECT *, file_row_number AS r "
        f"FROM read_parquet({events}, file_row_number = true)"
    )
    columns = {row[0] for row in con.execute("DESCRIBE raw").fetchall()}
    has_types = schema.EVENT_TYPE in columns
    has_items = schema.ITEM_ID in columns
    products_file = folder / PRODUCTS
    product_columns: set[str] = set()
    if has_items and products_file.is_file():
        con.execute(
            "CREATE TEMP TABLE products AS SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() "
            f'OVER (PARTITION BY "{schema.ITEM_ID}" ORDER BY file_row_number) AS rn '
            f"FROM read_parquet({_quote(products_file)}, file_row_number = true)) WHERE rn = 1"
        )
        product_columns = {row[0] for row in con.execute("DESCRIBE products").fetchall()}
        if schema.ITEM_ID not in product_columns:
            product_columns = set()

    _labels(con, "user_labels", schema.USER_ID, "raw")
    if has_types:
        _labels(con, "type_labels", schema.EVENT_TYPE, "raw")
    else:  # a bare table of sold lines
        con.execute(
            f"CREATE TEMP TABLE type_labels AS SELECT '{schema.PURCHASE}' AS value, 0 AS code"
        )
    type_names = [
        str(v) for (v,) in con.execute("SELECT value FROM type_labels ORDER BY code").fetchall()
    ]
    kind_case = " ".join(
        f"WHEN {code} THEN {_KIND_INDEX.get(name, _K_OTHER)}"
        for code, name in enumerate(type_names)
    )

    # Items, with what the product table (first row per item) and the events say of them.
    events_category = schema.CATEGORY in columns
    products_category = not events_category and schema.CATEGORY in product_columns
    has_brands = schema.BRAND in product_columns
    if has_items:
        _labels(con, "item_labels", schema.ITEM_ID, "raw")
        for column, name in ((schema.CATEGORY, "category_labels"), (schema.BRAND, "brand_labels")):
            if column == schema.CATEGORY and events_category:
                _labels(con, name, column, "raw")
            elif column in product_columns:
                # The product table's values in its order, as pandas.factorize codes them.
                con.execute(
                    f"CREATE TEMP TABLE {name} AS SELECT value, (row_number() OVER (ORDER BY "
                    f'first) - 1)::INT AS code FROM (SELECT "{column}"::VARCHAR AS value, '
                    f'min(file_row_number) AS first FROM products WHERE "{column}" IS NOT NULL '
                    "GROUP BY 1)"
                )
        listed = product_columns & {schema.PRICE, schema.NAME, schema.CATEGORY, schema.BRAND}
        select = [
            "l.code AS i",
            "l.value AS item_id",
            f'p."{schema.PRICE}"::DOUBLE AS list_price'
            if schema.PRICE in listed
            else "NULL::DOUBLE AS list_price",
            f'p."{schema.NAME}"::VARCHAR AS listed_name'
            if schema.NAME in listed
            else "NULL::VARCHAR AS listed_name",
        ]
        joins = [
            f'LEFT JOIN products AS p ON p."{schema.ITEM_ID}"::VARCHAR = l.value'
            if product_columns
            else ""
        ]
        if products_category:
            select.append("pc.code AS item_c")
            joins.append(
                f'LEFT JOIN category_labels AS pc ON pc.value = p."{schema.CATEGORY}"::VARCHAR'
            )
        elif events_category:
            # The category of the item's last event with one.
            con.execute(
                f'CREATE TEMP TABLE last_category AS SELECT "{schema.ITEM_ID}" AS item, '
                f'arg_max("{schema.CATEGORY}", r) AS value FROM raw WHERE "{schema.ITEM_ID}" '
                f'IS NOT NULL AND "{schema.CATEGORY}" IS NOT NULL GROUP BY 1'
            )
            select.append("ec.code AS item_c")
            joins.append(
                "LEFT JOIN last_category AS lc ON lc.item = l.value "
                "LEFT JOIN category_labels AS ec ON ec.value = lc.value"
            )
        else:
            select.append("NULL::INT AS item_c")
        if has_brands:
            select.append("pb.code AS item_b")
            joins.append(f'LEFT JOIN brand_labels AS pb ON pb.value = p."{schema.BRAND}"::VARCHAR')
        else:
            select.append("NULL::INT AS item_b")
        if schema.NAME in columns:
            con.execute(
                f'CREATE TEMP TABLE last_name AS SELECT "{schema.ITEM_ID}" AS item, '
                f'arg_max("{schema.NAME}", r) AS value FROM raw WHERE "{schema.ITEM_ID}" '
                f'IS NOT NULL AND "{schema.NAME}" IS NOT NULL GROUP BY 1'
            )
            select.append("ln.value AS event_name")
            joins.append("LEFT JOIN last_name AS ln ON ln.item = l.value")
        else:
            select.append("NULL::VARCHAR AS event_name")
        items = con.execute(
            f"SELECT {', '.join(select)} FROM item_labels AS l {' '.join(joins)} ORDER BY l.code"
        ).df()
        listed_names = items["listed_name"].to_numpy(dtype=object)
        event_names = items["event_name"].to_numpy(dtype=object)
        names = np.where(pd.isna(listed_names), event_names, listed_names)
        has_names = schema.NAME in listed or schema.NAME in columns
        item_table = pd.DataFrame(
            {
                "i": items["i"].to_numpy(dtype=np.int32),
                schema.ITEM_ID: items["item_id"].to_numpy(dtype=object),
                schema.NAME: pd.Series(names, dtype=object),
                "item_c": items["item_c"].astype("Int32"),
                "item_b": items["item_b"].astype("Int32"),
                "list_price": items["list_price"].astype("float64"),
                "np": non_product_items(
                    items["item_id"].to_numpy(dtype=object), names if has_names else None
                ),
            }
        )
        con.register("item_frame", item_table)
        con.execute("CREATE TEMP TABLE item_info AS SELECT * FROM item_frame")
        con.unregister("item_frame")
    has_item_category = has_items and (events_category or products_category)
    has_categories = events_category or (has_items and products_category)

    # The events, coded.
    price = (
        f'CASE WHEN isnan("{schema.PRICE}") THEN NULL ELSE "{schema.PRICE}" END'
        if schema.PRICE in columns
        else "NULL::DOUBLE"
    )
    if has_items:
        price = f"coalesce({price}, it.list_price)"
    quantity = (
        f'coalesce(CASE WHEN isnan("{schema.QUANTITY}") THEN NULL '
        f'ELSE "{schema.QUANTITY}" END, 1.0)'
        if schema.QUANTITY in columns
        else "1.0::DOUBLE"
    )
    has_orders = schema.ORDER_ID in columns
    has_sessions = schema.SESSION_ID in columns
    if has_orders:
        _labels(con, "order_labels", schema.ORDER_ID, "raw")
    if has_sessions:
        _labels(con, "session_labels", schema.SESSION_ID, "raw")
    select = [
        "raw.r",
        f'epoch_ns(raw."{schema.TIMESTAMP}") AS t',
        "ul.code AS u",
        "tl.code::SMALLINT AS ty" if has_types else "0::SMALLINT AS ty",
        f"coalesce(CASE tl.code {kind_case} END, -1)::TINYINT AS k"
        if has_types
        else f"CASE 0 {kind_case} END::TINYINT AS k",
        "il.code AS i" if has_items else "NULL::INT AS i",
        ("cl.code AS c" if events_category else "it.item_c AS c")
        if has_categories
        else "NULL::INT AS c",
        "it.item_b AS b" if has_brands else "NULL::INT AS b",
        f"{price} AS p",
        f"{quantity} AS q",
        "ol.code AS o" if has_orders else "NULL::INT AS o",
        "sl.code AS sid" if has_sessions else "NULL::INT AS sid",
        "coalesce(it.np, false) AS np" if has_items else "false AS np",
    ]
    joins = [f'JOIN user_labels AS ul ON ul.value = raw."{schema.USER_ID}"::VARCHAR']
    if has_types:
        joins.append(
            f'LEFT JOIN type_labels AS tl ON tl.value = raw."{schema.EVENT_TYPE}"::VARCHAR'
        )
    if has_items:
        joins.append(f'LEFT JOIN item_labels AS il ON il.value = raw."{schema.ITEM_ID}"::VARCHAR')
        joins.append("LEFT JOIN item_info AS it ON it.i = il.code")
    if events_category:
        joins.append(
            f'LEFT JOIN category_labels AS cl ON cl.value = raw."{schema.CATEGORY}"::VARCHAR'
        )
    if has_orders:
        joins.append(f'LEFT JOIN order_labels AS ol ON ol.value = raw."{schema.ORDER_ID}"::VARCHAR')
    if has_sessions:
        joins.append(
            f'LEFT JOIN session_labels AS sl ON sl.value = raw."{schema.SESSION_ID}"::VARCHAR'
        )
    con.execute(f"CREATE TEMP TABLE coded AS SELECT {', '.join(select)} FROM raw {' '.join(joins)}")

    # Orders: an order id's lines, else a user's purchase lines of one calendar day.
    n_codes = con.execute("SELECT count(*) FROM order_labels").fetchone()[0] if has_orders else 0  # type: ignore[index]
    day = f"fdiv(t, {DAY_NS})"
    days = con.execute(f"SELECT min({day}), max({day}) FROM coded").fetchone()
    first_day, last_day = days or (0, 0)
    span = int(n_codes) + int(last_day or 0) - int(first_day or 0) + 1
    within = f"coalesce(o, {int(n_codes)} + {day} - {int(first_day or 0)})"
    gap_ns = int(DEFAULT_GAP_MINUTES * MINUTE_NS)
    con.execute(
        f"COPY (SELECT t, {day}::INTEGER AS d, ((t - {day} * {DAY_NS}) // {HOUR_NS})::TINYINT "
        "AS h, u, ty, k, i, c, b, p, q, "
        f"CASE WHEN k = {_K_PURCHASE} THEN (u::BIGINT * {span} + {within})::BIGINT END AS ok, "
        f"s::BIGINT AS s, dt::BIGINT AS dt, np FROM ({with_sessions('coded', gap_ns)}) "
        "ORDER BY r) "
        f"TO {_quote(out / 'events.parquet')} (FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP_ROWS}, "
        "COMPRESSION zstd)"
    )
    con.execute(
        f"COPY (SELECT l.code AS u, l.value AS {schema.USER_ID}, f.first_t FROM user_labels AS l "
        "JOIN (SELECT u, min(t) AS first_t FROM coded GROUP BY u) AS f ON f.u = l.code "
        f"ORDER BY l.code) TO {_quote(out / 'users.parquet')} (FORMAT parquet)"
    )
    masks = len(type_names) <= MASK_TYPES
    _write_aggregates(con, out, masks)
    con.execute(
        f"COPY (SELECT code AS ty, value AS {schema.EVENT_TYPE} FROM type_labels ORDER BY code) "
        f"TO {_quote(out / 'types.parquet')} (FORMAT parquet)"
    )
    if has_items:
        con.execute(
            f"COPY (SELECT * FROM item_info ORDER BY i) TO {_quote(out / 'items.parquet')} "
            "(FORMAT parquet)"
        )
    for name, table, column in (
        ("categories", "category_labels", schema.CATEGORY),
        ("brands", "brand_labels", schema.BRAND),
    ):
        exists = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]
        ).fetchone()
        source = (
            f"SELECT code AS key, value AS {column} FROM {table} ORDER BY code"
            if exists and exists[0]
            else f"SELECT NULL::INT AS key, NULL::VARCHAR AS {column} WHERE false"
        )
        con.execute(f"COPY ({source}) TO {_quote(out / f'{name}.parquet')} (FORMAT parquet)")

    rows, start, end, any_price = con.execute(
        "SELECT count(*), min(t), max(t), bool_or(p IS NOT NULL AND isfinite(p)) FROM coded"
    ).fetchone() or (0, None, None, False)
    present = [
        int(v)
        for (v,) in con.execute("SELECT DISTINCT ty FROM coded WHERE ty IS NOT NULL").fetchall()
    ]
    used_types = [type_names[code] for code in present]
    canonical = [t for t in schema.EVENT_TYPES if t in used_types]

    def used(labels: str, column: str) -> list[str]:
        found = con.execute(
            f"SELECT value FROM {labels} WHERE code IN (SELECT DISTINCT {column} FROM coded)"
        ).fetchall()
        return sorted(str(v) for (v,) in found)

    return {
        "rows": int(rows),
        "start": None if start is None else int(start),
        "end": None if end is None else int(end),
        "has_types": has_types,
        "has_items": has_items,
        "has_categories": has_categories,
        "has_brands": has_items and has_brands,
        "has_item_category": has_item_category,
        "has_prices": bool(any_price),
        "has_names": has_items and (schema.NAME in product_columns or schema.NAME in columns),
        "has_orders": has_orders,
        "has_sessions": has_sessions,
        "type_masks": masks,
        "gap_ns": gap_ns,
        "categories": used("category_labels", "c") if has_categories else [],
        "brands": used("brand_labels", "b") if has_items and has_brands else [],
        "event_types": [*canonical, *sorted(set(used_types) - set(canonical))],
    }
