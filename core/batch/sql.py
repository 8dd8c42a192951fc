"""The batch features, defined once as SQL text that DuckDB and Spark SQL both run.

The per-user table holds exactly the purchase model's features at a cutoff (the columns
``core.purchase.features.user_features`` makes, in its order, with its leakage rule: only events
strictly before the cutoff) and orders as ``core.data.orders`` defines them; the user x item
table counts each event type and keeps the last time per (user, item) before the cutoff.

The text uses only what both dialects share: ``CASE``, ``COALESCE``, ``LEAST``, ``isnan``,
``FLOOR``, ``COUNT(DISTINCT)``, ``ROW_NUMBER() OVER``, and double arithmetic written with
``CAST(... AS DOUBLE)`` (a literal such as ``1.0`` is a decimal in Spark). Times are whole
microseconds since the epoch (naive UTC) in a column ``ts_us`` that each engine adds when it
reads the events (``source_events``; the product table is ``source_products``), so no time
zone or timestamp type enters the definition; ``timestamp_micros`` turns the last time back into
a timestamp (Spark has it; DuckDB gets it as a macro).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from core import schema
from core.purchase import features as feat
from core.recommend import interactions as inter

SOURCE_EVENTS: Final = "source_events"
SOURCE_PRODUCTS: Final = "source_products"
TIME_US: Final = "ts_us"
LAST_TIMESTAMP: Final = "last_timestamp"
DAY_US: Final = 86_400 * 10**6
_DOUBLE_ONE: Final = "CAST(1 AS DOUBLE)"


@dataclass(frozen=True)
class DataShape:
    """The columns the data has, which decide how the events are read.

    Attributes:
        event_columns: the columns of the events table.
        product_columns: the columns of the product table (empty without one).
    """

    event_columns: frozenset[str]
    product_columns: frozenset[str] = frozenset()

    @property
    def has_items(self) -> bool:
        """Events carry item ids (the user x item table needs them)."""
        return schema.ITEM_ID in self.event_columns

    @property
    def category_source(self) -> str | None:
        """Where the category comes from: the events' own, else the product table's."""
        if schema.CATEGORY in self.event_columns:
            return f"e.{schema.CATEGORY}"
        if self.has_items and schema.CATEGORY in self.product_columns:
            return f"p.{schema.CATEGORY}"
        return None

    @property
    def has_list_price(self) -> bool:
        """The product table gives each event's list price (``mean_viewed_price``)."""
        return self.has_items and schema.PRICE in self.product_columns


@dataclass(frozen=True)
class FeaturePlan:
    """What the data has and the cutoff, which decide the text of the queries.

    Attributes:
        shape: the columns of the events and product tables.
        cutoff_us: the cutoff in microseconds since the epoch (naive UTC); only events strictly
            before it are used.
        event_types: the event types the whole data has (inputs that need another are left
            out, as ``features.unusable_features`` says).
        priced_purchases: whether a purchase line before the cutoff has a value (a price, and
            a quantity where the data has quantities): spend and average order value exist
            only then, as in ``user_features``.
    """

    shape: DataShape
    cutoff_us: int
    event_types: tuple[str, ...] = schema.EVENT_TYPES
    priced_purchases: bool = False

    @property
    def left_out(self) -> tuple[str, ...]:
        """Features the data's event types cannot have."""
        return feat.unusable_features(self.event_types)


@dataclass(frozen=True)
class FeatureQueries:
    """The SQL text of each table (``user_items`` is None without item ids)."""

    users: str
    user_items: str | None


def interactions_query(plan: FeaturePlan) -> str:
    """The recommender's per-(user, item) table of the events before the cutoff
    (``interactions.PAIRS``): what ``build_interactions`` otherwise adds up from the events."""
    age = f"CAST({plan.cutoff_us} - {TIME_US} AS DOUBLE) / {DAY_US}"
    weight = (
        "CASE event_type "
        + " ".join(
            f"WHEN '{kind}' THEN CAST({value:g} AS DOUBLE)"
            for kind, value in inter.EVENT_WEIGHTS.items()
        )
        + " ELSE CAST(0 AS DOUBLE) END"
    )
    half_life = f"CAST({inter.HALF_LIFE_DAYS:g} AS DOUBLE)"

    def count(kind: str) -> str:
        return f"COUNT(CASE WHEN event_type = '{kind}' THEN 1 END)"

    def last(kind: str) -> str:
        return f"MAX(CASE WHEN event_type = '{kind}' THEN {TIME_US} END)"

    return (
        f"SELECT {schema.USER_ID}, {schema.ITEM_ID}, COUNT(*) AS {inter.PAIR_EVENTS}, "
        f"{count(schema.VIEW)} AS {inter.PAIR_VIEWS}, {count(schema.CART)} AS {inter.PAIR_CARTS}, "
        f"{count(schema.PURCHASE)} AS {inter.PAIR_PURCHASES}, "
        f"SUM({weight} * POWER(CAST(0.5 AS DOUBLE), {age} / {half_life})) AS {inter.PAIR_WEIGHT}, "
        f"SUM(CASE WHEN {age} <= {inter.RECENT_DAYS} THEN {weight} ELSE CAST(0 AS DOUBLE) END) "
        f"AS {inter.PAIR_RECENT}, MIN({TIME_US}) AS {inter.FIRST_US}, "
        f"MAX({TIME_US}) AS {inter.LAST_US}, {last(schema.VIEW)} AS {inter.LAST_VIEW_US}, "
        f"{last(schema.CART)} AS {inter.LAST_CART_US}, "
        f"{last(schema.PURCHASE)} AS {inter.LAST_PURCHASE_US} FROM {SOURCE_EVENTS} "
        f"WHERE {TIME_US} < {plan.cutoff_us} AND {schema.ITEM_ID} IS NOT NULL "
        f"GROUP BY {schema.USER_ID}, {schema.ITEM_ID}"
    )


def profile_query(shape: DataShape) -> str:
    """One row: the events (``n_events``), the first and last event time (``first_us``,
    ``last_us``), the time of each priced purchase line's first (``priced_us``, NULL without
    one) and one count per canonical event type (``n_view``, ...)."""
    value = _line_value(shape.event_columns)
    priced = (
        f"MIN(CASE WHEN event_type = '{schema.PURCHASE}' AND {value} IS NOT NULL "
        f"THEN {TIME_US} END)"
        if value != "NULL"
        else "CAST(NULL AS BIGINT)"
    )
    counts = ", ".join(
        f"COUNT(CASE WHEN event_type = '{kind}' THEN 1 END) AS n_{kind}"
        for kind in schema.EVENT_TYPES
    )
    return (
        f"WITH {_events_cte(shape)} SELECT COUNT(*) AS n_events, MIN({TIME_US}) AS first_us, "
        f"MAX({TIME_US}) AS last_us, {priced} AS priced_us, {counts} FROM ev"
    )


def feature_queries(plan: FeaturePlan) -> FeatureQueries:
    """The SQL text of the per-user and user x item tables for ``plan``."""
    return FeatureQueries(
        _users_query(plan), _user_items_query(plan) if plan.shape.has_items else None
    )


def _clean(column: str) -> str:
    """A number column with NaN read as missing, as pandas treats it."""
    return f"CASE WHEN isnan({column}) THEN NULL ELSE {column} END"


def _line_value(event_columns: Collection[str]) -> str:
    """A purchase line's value (price x quantity), as an expression over the events."""
    if schema.PRICE not in event_columns:
        return "NULL"
    if schema.QUANTITY in event_columns:
        return f"{schema.PRICE} * {schema.QUANTITY}"
    return schema.PRICE


def _days_before(plan: FeaturePlan, column: str) -> str:
    return f"CAST({plan.cutoff_us} - {column} AS DOUBLE) / {DAY_US}"


def _events_cte(shape: DataShape) -> str:
    """``ev``: the events with clean numbers, and category and list price from the products."""
    columns = shape.event_columns
    selected = [f"e.{schema.USER_ID}", f"e.{schema.EVENT_TYPE}", f"e.{TIME_US}"]
    for name in (schema.ITEM_ID, schema.ORDER_ID):
        if name in columns:
            selected.append(f"e.{name}")
    for name in (schema.PRICE, schema.QUANTITY):
        if name in columns:
            selected.append(f"{_clean(f'e.{name}')} AS {name}")
    if shape.category_source is not None:
        selected.append(f"{shape.category_source} AS {schema.CATEGORY}")
    if shape.has_list_price:
        selected.append(f"{_clean(f'p.{schema.PRICE}')} AS list_price")
    joined = shape.category_source == f"p.{schema.CATEGORY}" or shape.has_list_price
    source = f"{SOURCE_EVENTS} e" + (
        f" LEFT JOIN {SOURCE_PRODUCTS} p ON e.{schema.ITEM_ID} = p.{schema.ITEM_ID}"
        if joined
        else ""
    )
    return f"ev AS (SELECT {', '.join(selected)} FROM {source})"


def _orders_ctes(plan: FeaturePlan) -> str:
    """``po``: orders (``core.data.orders``: a user's order id, else a user's calendar day with
    a purchase; timed by the first line, over all the data) placed before the cutoff, with
    their days before it; ``order_stats`` and ``last_gap`` per user."""
    by_day = f"CAST(FLOOR({TIME_US} / {DAY_US}) AS BIGINT)"
    if schema.ORDER_ID in plan.shape.event_columns:
        keys = (
            f"{schema.USER_ID}, {schema.ORDER_ID}, "
            f"CASE WHEN {schema.ORDER_ID} IS NULL THEN {by_day} END"
        )
    else:
        keys = f"{schema.USER_ID}, {by_day}"
    return (
        f"orders AS (SELECT {schema.USER_ID}, MIN({TIME_US}) AS {TIME_US} FROM ev "
        f"WHERE event_type = '{schema.PURCHASE}' GROUP BY {keys}), "
        f"po AS (SELECT {schema.USER_ID}, {TIME_US}, {_days_before(plan, TIME_US)} AS ago "
        f"FROM orders WHERE {TIME_US} < {plan.cutoff_us}), "
        f"order_stats AS (SELECT {schema.USER_ID}, COUNT(*) AS n_orders, MIN(ago) AS last_ago, "
        "MAX(ago) AS first_ago, COUNT(CASE WHEN ago <= 30 THEN 1 END) AS orders_30, "
        f"COUNT(CASE WHEN ago <= 90 THEN 1 END) AS orders_90 FROM po GROUP BY {schema.USER_ID}), "
        f"ranked AS (SELECT {schema.USER_ID}, ago, ROW_NUMBER() OVER (PARTITION BY "
        f"{schema.USER_ID} ORDER BY {TIME_US} DESC) AS place FROM po), "
        f"last_gap AS (SELECT {schema.USER_ID}, MAX(CASE WHEN place = 2 THEN ago END) - "
        "MAX(CASE WHEN place = 1 THEN ago END) AS gap FROM ranked WHERE place <= 2 "
        f"GROUP BY {schema.USER_ID})"
    )


def _user_stats_cte(plan: FeaturePlan) -> str:
    """``user_stats``: one row per user with an event before the cutoff."""
    columns = plan.shape.event_columns
    kind = "event_type"
    parts = [
        "MAX(ago) AS tenure",
        "MIN(ago) AS since_event",
        *(f"COUNT(CASE WHEN ago <= {days} THEN 1 END) AS events_{days}" for days in (7, 30, 90)),
        *(
            f"COUNT(CASE WHEN {kind} = '{name}' THEN 1 END) AS n_{name}"
            for name in schema.EVENT_TYPES
        ),
        f"MIN(CASE WHEN {kind} = '{schema.VIEW}' THEN ago END) AS since_view",
        f"MIN(CASE WHEN {kind} = '{schema.CART}' THEN ago END) AS since_cart",
    ]
    if plan.priced_purchases:
        value = _line_value(columns)
        parts.append(f"SUM(CASE WHEN {kind} = '{schema.PURCHASE}' THEN {value} END) AS spend")
    if schema.PRICE in columns:
        parts.append(
            f"SUM(CASE WHEN {kind} = '{schema.PURCHASE}' THEN {schema.PRICE} END) AS paid, "
            f"COUNT(CASE WHEN {kind} = '{schema.PURCHASE}' THEN {schema.PRICE} END) AS paid_lines"
        )
    if plan.shape.has_list_price:
        parts.append("SUM(list_price) AS seen_price, COUNT(list_price) AS seen_lines")
    return (
        f"past AS (SELECT *, {_days_before(plan, TIME_US)} AS ago FROM ev "
        f"WHERE {TIME_US} < {plan.cutoff_us}), "
        f"user_stats AS (SELECT {schema.USER_ID}, {', '.join(parts)} FROM past "
        f"GROUP BY {schema.USER_ID})"
    )


def _distinct_count_cte(name: str, column: str) -> str:
    """``name``: per user with a value of ``column`` before the cutoff, how many distinct
    values it has (``n``). Pairs first, then a count: DuckDB counts distinct values inside a
    grouped aggregate several times slower."""
    return (
        f"{name} AS (SELECT {schema.USER_ID}, COUNT(*) AS n FROM (SELECT DISTINCT "
        f"{schema.USER_ID}, {column} FROM past WHERE {column} IS NOT NULL) pairs "
        f"GROUP BY {schema.USER_ID})"
    )


def _category_share_cte(plan: FeaturePlan) -> str:
    """``category_share``: the share of a user's purchases (by spend where prices exist) in
    their most-bought category."""
    columns = plan.shape.event_columns
    if schema.PRICE in columns:
        weight = f"COALESCE({schema.PRICE}, 0)"
        if schema.QUANTITY in columns:
            weight += f" * COALESCE({schema.QUANTITY}, 0)"
    else:
        weight = _DOUBLE_ONE
    return (
        f"per_category AS (SELECT {schema.USER_ID}, {schema.CATEGORY}, SUM({weight}) AS w "
        f"FROM past WHERE event_type = '{schema.PURCHASE}' AND {schema.CATEGORY} IS NOT NULL "
        f"GROUP BY {schema.USER_ID}, {schema.CATEGORY}), "
        f"category_share AS (SELECT {schema.USER_ID}, CASE WHEN SUM(w) > 0 THEN MAX(w) / SUM(w) "
        f"ELSE 0 END AS share FROM per_category GROUP BY {schema.USER_ID})"
    )


def _ratio(numerator: str, denominator: str) -> str:
    """``numerator / denominator`` as a double, 0 where the denominator is 0."""
    return (
        f"CASE WHEN {denominator} > 0 THEN CAST({numerator} AS DOUBLE) / {denominator} ELSE 0 END"
    )


def _feature_columns(plan: FeaturePlan) -> list[tuple[str, str]]:
    """(feature name, expression) in ``user_features``'s column order."""
    orders = "COALESCE(o.n_orders, 0)"
    columns: list[tuple[str, str]] = [
        (feat.TENURE, "u.tenure"),
        (feat.SINCE_EVENT, "u.since_event"),
        (feat.ORDERS, orders),
        (feat.SINCE_ORDER, "COALESCE(o.last_ago, u.tenure)"),
        (
            feat.MEAN_GAP,
            f"CASE WHEN {orders} >= 2 THEN (o.first_ago - o.last_ago) / ({orders} - 1) "
            "ELSE u.tenure END",
        ),
        (feat.LAST_GAP, "COALESCE(g.gap, u.tenure)"),
        (feat.ORDERS_30, "COALESCE(o.orders_30, 0)"),
        (feat.ORDERS_90, "COALESCE(o.orders_90, 0)"),
    ]
    if plan.priced_purchases:
        columns += [
            (feat.SPEND, "COALESCE(u.spend, 0)"),
            (feat.AVG_ORDER_VALUE, _ratio("COALESCE(u.spend, 0)", orders)),
        ]
    columns += [(name, f"u.events_{days}") for days, name in _EVENT_WINDOWS]
    for kind, name in zip(schema.EVENT_TYPES, feat.COUNT_FEATURES, strict=True):
        columns.append((name, f"u.n_{kind}"))
        if kind == schema.VIEW:
            columns.append((feat.SINCE_VIEW, "COALESCE(u.since_view, u.tenure)"))
        elif kind == schema.CART:
            columns.append((feat.SINCE_CART, "COALESCE(u.since_cart, u.tenure)"))
    columns += [
        (feat.VIEW_TO_CART, _ratio(f"u.n_{schema.CART}", f"u.n_{schema.VIEW}")),
        (
            feat.CART_TO_PURCHASE,
            f"LEAST({_ratio(f'u.n_{schema.PURCHASE}', f'u.n_{schema.CART}')}, {_DOUBLE_ONE})",
        ),
    ]
    if plan.shape.has_items:
        columns.append((feat.DISTINCT_ITEMS, "COALESCE(di.n, 0)"))
    if plan.shape.category_source is not None:
        columns += [
            (feat.DISTINCT_CATEGORIES, "COALESCE(dc.n, 0)"),
            (feat.TOP_CATEGORY_SHARE, "COALESCE(c.share, 0)"),
        ]
    if schema.PRICE in plan.shape.event_columns:
        columns.append((feat.AVG_PRICE_PAID, _ratio("u.paid", "u.paid_lines")))
    if plan.shape.has_list_price:
        columns.append((feat.VIEWED_PRICE, _ratio("u.seen_price", "u.seen_lines")))
    left_out = set(plan.left_out)
    return [(name, expression) for name, expression in columns if name not in left_out]


_EVENT_WINDOWS: Final = ((7, feat.EVENTS_7), (30, feat.EVENTS_30), (90, feat.EVENTS_90))


def feature_names(plan: FeaturePlan) -> tuple[str, ...]:
    """The per-user table's feature columns (after ``user_id``), in order."""
    return tuple(name for name, _ in _feature_columns(plan))


def _users_query(plan: FeaturePlan) -> str:
    ctes = [_events_cte(plan.shape), _orders_ctes(plan), _user_stats_cte(plan)]
    joins = [
        f"LEFT JOIN order_stats o ON u.{schema.USER_ID} = o.{schema.USER_ID}",
        f"LEFT JOIN last_gap g ON u.{schema.USER_ID} = g.{schema.USER_ID}",
    ]
    if plan.shape.has_items:
        ctes.append(_distinct_count_cte("distinct_items", schema.ITEM_ID))
        joins.append(f"LEFT JOIN distinct_items di ON u.{schema.USER_ID} = di.{schema.USER_ID}")
    if plan.shape.category_source is not None:
        ctes += [
            _category_share_cte(plan),
            _distinct_count_cte("distinct_categories", schema.CATEGORY),
        ]
        joins += [
            f"LEFT JOIN category_share c ON u.{schema.USER_ID} = c.{schema.USER_ID}",
            f"LEFT JOIN distinct_categories dc ON u.{schema.USER_ID} = dc.{schema.USER_ID}",
        ]
    selected = ", ".join(
        f"CAST({expression} AS DOUBLE) AS {name}" for name, expression in _feature_columns(plan)
    )
    return (
        f"WITH {', '.join(ctes)} SELECT u.{schema.USER_ID}, {selected} FROM user_stats u "
        + " ".join(joins)
    )


def _user_items_query(plan: FeaturePlan) -> str:
    counts = ", ".join(
        f"COUNT(CASE WHEN event_type = '{kind}' THEN 1 END) AS {name}"
        for kind, name in zip(schema.EVENT_TYPES, feat.COUNT_FEATURES, strict=True)
    )
    return (
        f"SELECT {schema.USER_ID}, {schema.ITEM_ID}, {counts}, "
        f"timestamp_micros(MAX({TIME_US})) AS {LAST_TIMESTAMP} FROM {SOURCE_EVENTS} "
        f"WHERE {TIME_US} < {plan.cutoff_us} AND {schema.ITEM_ID} IS NOT NULL "
        f"GROUP BY {schema.USER_ID}, {schema.ITEM_ID}"
    )
