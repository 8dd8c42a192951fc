"""Per-user features at a date and purchase labels after it.

The leakage rule: features of a user at date ``at`` use only events strictly before ``at``;
labels count orders in ``[at, at + horizon)``, orders as ``core.data.orders`` defines them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Final

import numpy as np
import pandas as pd

from core import schema
from core.data.orders import DAY_NS, order_keys
from core.ml.arrays import distinct

ORDER_VALUE: Final = "order_value"

# Feature names (columns of ``user_features``), in a fixed order.
TENURE: Final = "tenure_days"
SINCE_EVENT: Final = "days_since_last_event"
ORDERS: Final = "orders"
SINCE_ORDER: Final = "days_since_last_order"
SPEND: Final = "spend"
AVG_ORDER_VALUE: Final = "avg_order_value"
MEAN_GAP: Final = "mean_order_gap_days"
LAST_GAP: Final = "last_order_gap_days"
ORDERS_30: Final = "orders_30d"
ORDERS_90: Final = "orders_90d"
EVENTS_7: Final = "events_7d"
EVENTS_30: Final = "events_30d"
EVENTS_90: Final = "events_90d"
VIEW_TO_CART: Final = "view_to_cart"
CART_TO_PURCHASE: Final = "cart_to_purchase"
DISTINCT_ITEMS: Final = "distinct_items"
DISTINCT_CATEGORIES: Final = "distinct_categories"
TOP_CATEGORY_SHARE: Final = "top_category_share"
AVG_PRICE_PAID: Final = "avg_price_paid"
SINCE_VIEW: Final = "days_since_last_view"
SINCE_CART: Final = "days_since_last_cart"
VIEWED_PRICE: Final = "mean_viewed_price"
COUNT_PREFIX: Final = "n_"

COUNT_FEATURES: Final = tuple(f"{COUNT_PREFIX}{kind}" for kind in schema.EVENT_TYPES)

# What each event type counts, for the labels of the count features: (label, what is counted).
_COUNTED: Final = {
    schema.VIEW: ("Views", "product views"),
    schema.CART: ("Carts", "products added to the cart"),
    schema.FAV: ("Favourites", "products saved as favourites"),
    schema.PURCHASE: ("Purchases", "purchase lines (one per product in an order)"),
    schema.RETURN: ("Returns", "returned purchase lines"),
}

# Every user feature: a plain label and one sentence, for charts, tables and the report.
FEATURE_LABELS: Final[Mapping[str, tuple[str, str]]] = {
    TENURE: ("Days as a customer", "Days from the user's first event to the date."),
    SINCE_EVENT: ("Days since last visit", "Days since the user's latest event of any kind."),
    ORDERS: ("Orders", "Orders the user placed before the date."),
    SINCE_ORDER: (
        "Days since last order",
        "Days since the user's latest order (their days as a customer if they never ordered).",
    ),
    SPEND: ("Total spend", "Money spent on every purchase line before the date."),
    AVG_ORDER_VALUE: ("Average order value", "Total spend divided by the number of orders."),
    MEAN_GAP: (
        "Average days between orders",
        "Average days between the user's orders (days as a customer with fewer than two).",
    ),
    LAST_GAP: (
        "Days between last two orders",
        "Days between the user's two latest orders (days as a customer with fewer than two).",
    ),
    ORDERS_30: ("Orders in last 30 days", "Orders the user placed in the 30 days before the date."),
    ORDERS_90: ("Orders in last 90 days", "Orders the user placed in the 90 days before the date."),
    EVENTS_7: ("Events in last 7 days", "Events of any kind in the 7 days before the date."),
    EVENTS_30: ("Events in last 30 days", "Events of any kind in the 30 days before the date."),
    EVENTS_90: ("Events in last 90 days", "Events of any kind in the 90 days before the date."),
    VIEW_TO_CART: ("View-to-cart rate", "Carts per product view: how often a view led to a cart."),
    CART_TO_PURCHASE: (
        "Cart-to-purchase rate",
        "Purchase lines per cart (at most 1): how often a cart led to a purchase.",
    ),
    DISTINCT_ITEMS: ("Different products", "How many different products the user touched."),
    DISTINCT_CATEGORIES: (
        "Different categories",
        "How many different categories the user touched.",
    ),
    TOP_CATEGORY_SHARE: (
        "Share in favourite category",
        "Share (0 to 1) of the user's purchases, by spend where prices exist, in their "
        "most-bought category.",
    ),
    AVG_PRICE_PAID: ("Average price paid", "Average unit price of the products the user bought."),
    SINCE_VIEW: ("Days since last view", "Days since the user last viewed a product."),
    SINCE_CART: ("Days since last cart", "Days since the user last added a product to the cart."),
    VIEWED_PRICE: (
        "Average price of products seen",
        "Average list price of the products in the user's events.",
    ),
    **{
        f"{COUNT_PREFIX}{kind}": (label, f"Number of {counted} before the date.")
        for kind, (label, counted) in _COUNTED.items()
    },
}

# Inputs that only mean something when the data has these event types (beyond the count of
# each type): on orders-only data they would be constant columns the networks learn nothing
# from, so they are left out.
NEEDS_TYPES: Final = {
    SINCE_VIEW: (schema.VIEW,),
    SINCE_CART: (schema.CART,),
    VIEW_TO_CART: (schema.VIEW, schema.CART),
    CART_TO_PURCHASE: (schema.CART,),
    VIEWED_PRICE: (schema.VIEW,),
    **{name: (kind,) for kind, name in zip(schema.EVENT_TYPES, COUNT_FEATURES, strict=True)},
}


def event_types_of(events: pd.DataFrame) -> tuple[str, ...]:
    """The event types the data has (in ``schema.EVENT_TYPES`` order)."""
    present = set(events[schema.EVENT_TYPE].astype("str").unique())
    return tuple(kind for kind in schema.EVENT_TYPES if kind in present)


def unusable_features(event_types: Collection[str]) -> tuple[str, ...]:
    """The inputs left out of data with only ``event_types`` (e.g. days since the last view
    on orders-only data), in ``NEEDS_TYPES`` order."""
    return tuple(
        name
        for name, needs in NEEDS_TYPES.items()
        if not all(kind in event_types for kind in needs)
    )


def prepare_events(events: pd.DataFrame, products: pd.DataFrame | None = None) -> pd.DataFrame:
    """Events sorted by time, with ``category`` (and product ``price``) taken from the product
    table where the events lack them. Returns a new frame."""
    prepared = events
    if not events[schema.TIMESTAMP].is_monotonic_increasing:
        prepared = events.sort_values(schema.TIMESTAMP, kind="stable", ignore_index=True)
    if products is not None and schema.ITEM_ID in events.columns:
        table = products.drop_duplicates(schema.ITEM_ID).set_index(schema.ITEM_ID)
        items = prepared[schema.ITEM_ID].astype("str")
        additions = {}
        if schema.CATEGORY not in prepared.columns and schema.CATEGORY in table.columns:
            additions[schema.CATEGORY] = items.map(table[schema.CATEGORY]).astype("category")
        if schema.PRICE in table.columns:
            additions[VIEWED_PRICE] = items.map(table[schema.PRICE]).astype("float64")
        if additions:
            prepared = prepared.assign(**additions)
    return prepared


def draw_users(
    events: pd.DataFrame, max_users: int | None, *, random_state: int
) -> tuple[pd.DataFrame, int, int]:
    """The events of at most ``max_users`` users drawn at random, every user having the same
    chance (the same seed draws the same users).

    Args:
        events: canonical events (``user_id`` categorical); their order is kept.
        max_users: the most users kept, at least 1 (``None``: every user).
        random_state: the seed of the draw.

    Returns:
        the kept events, whose ``user_id`` has only the drawn users as categories (so no
        table counts a user left out), the users drawn and the users in ``events``; the
        events themselves when they have ``max_users`` users or fewer.
    """
    user = events[schema.USER_ID]
    codes = user.cat.codes.to_numpy()
    present = np.flatnonzero(np.bincount(codes, minlength=len(user.cat.categories)))
    total = len(present)
    if max_users is None or total <= max_users:
        return events, total, total
    rng = np.random.default_rng(random_state)
    drawn = np.sort(rng.choice(present, size=max_users, replace=False))
    new_codes = np.full(len(user.cat.categories), -1, dtype=np.int64)
    new_codes[drawn] = np.arange(max_users)
    kept_codes = new_codes[codes]
    kept = kept_codes >= 0
    users = pd.Categorical.from_codes(
        kept_codes[kept], categories=user.cat.categories[drawn], validate=False
    )
    return events[kept].assign(**{schema.USER_ID: users}), max_users, total


def extract_orders(events: pd.DataFrame) -> pd.DataFrame:
    """One row per order (``core.data.orders``): ``user_id`` (same categories as the events),
    ``timestamp`` (its first line) and ``order_value`` (sum of price x quantity where prices
    exist, else NaN); in time order."""
    purchases = events[(events[schema.EVENT_TYPE] == schema.PURCHASE).to_numpy()]
    users = purchases[schema.USER_ID].cat.codes.to_numpy().astype(np.int64)
    stamps = purchases[schema.TIMESTAMP].to_numpy().astype("datetime64[ns]").view(np.int64)
    order_codes = (
        purchases[schema.ORDER_ID].cat.codes.to_numpy().astype(np.int64)
        if schema.ORDER_ID in purchases.columns
        else None
    )
    if schema.PRICE in purchases.columns:
        quantity = (
            purchases[schema.QUANTITY].to_numpy(dtype="float64")
            if schema.QUANTITY in purchases.columns
            else 1.0
        )
        value = purchases[schema.PRICE].to_numpy(dtype="float64") * quantity
    else:
        value = np.full(len(purchases), np.nan)
    lines = pd.DataFrame(
        {"order": order_keys(users, stamps, order_codes), "user": users, "time": stamps}
    ).assign(value=value)
    grouped = lines.groupby("order", sort=False)
    orders = pd.DataFrame(
        {
            "code": grouped["user"].first().to_numpy(),
            schema.TIMESTAMP: grouped["time"].min().to_numpy().astype("datetime64[ns]"),
            ORDER_VALUE: grouped["value"].sum(min_count=1).to_numpy(),
        }
    ).sort_values(schema.TIMESTAMP, kind="stable", ignore_index=True)
    categories = events[schema.USER_ID].cat.categories
    user_ids = pd.Categorical.from_codes(
        orders.pop("code").to_numpy(), categories=categories, validate=False
    )
    orders.insert(0, schema.USER_ID, user_ids)
    return orders


def count_orders(orders: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Orders per user with ``start <= timestamp < end`` (users without any are absent)."""
    inside = orders[(orders[schema.TIMESTAMP] >= start) & (orders[schema.TIMESTAMP] < end)]
    return inside.groupby(inside[schema.USER_ID].astype("str"), sort=False).size()


def _days(at: pd.Timestamp, times: np.ndarray) -> np.ndarray:
    return (at.value - times.astype("datetime64[ns]").view(np.int64)) / DAY_NS


def _group_last(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Per code, the value of its last row (rows are in time order); NaN where absent."""
    out = np.full(size, np.nan)
    out[codes] = values  # later rows overwrite earlier ones
    return out


def _group_first(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    out = np.full(size, np.nan)
    out[codes[::-1]] = values[::-1]
    return out


def user_features(
    events: pd.DataFrame,
    orders: pd.DataFrame,
    at: pd.Timestamp,
    *,
    event_types: Collection[str] = schema.EVENT_TYPES,
) -> pd.DataFrame:
    """Features of every user with an event before ``at``, from events before ``at`` only.

    Args:
        events: canonical events as returned by ``prepare_events`` (sorted by time).
        orders: the output of ``extract_orders`` on the same events.
        at: the date the features describe; nothing at or after it is used.
        event_types: the event types the whole data has (``event_types_of``); the inputs that
            need another type (``unusable_features``) are left out.

    Returns:
        one row per user (index ``user_id`` as text), columns in a fixed order; days are
        fractional days before ``at``.
    """
    times = events[schema.TIMESTAMP].to_numpy()
    cut = int(np.searchsorted(times, np.datetime64(at.to_datetime64()), side="left"))
    past = events.iloc[:cut]
    user_codes = past[schema.USER_ID].cat.codes.to_numpy()
    size = len(events[schema.USER_ID].cat.categories)
    counts = np.bincount(user_codes, minlength=size)
    present = counts > 0
    ago = _days(at, past[schema.TIMESTAMP].to_numpy())
    tenure = _group_first(user_codes, ago, size)
    since_event = _group_last(user_codes, ago, size)
    columns: dict[str, np.ndarray] = {TENURE: tenure, SINCE_EVENT: since_event}

    order_cut = int(
        np.searchsorted(
            orders[schema.TIMESTAMP].to_numpy(), np.datetime64(at.to_datetime64()), side="left"
        )
    )
    past_orders = orders.iloc[:order_cut]
    order_codes = past_orders[schema.USER_ID].cat.codes.to_numpy()
    order_ago = _days(at, past_orders[schema.TIMESTAMP].to_numpy())
    n_orders = np.bincount(order_codes, minlength=size).astype(float)
    last_order = _group_last(order_codes, order_ago, size)
    first_order = _group_first(order_codes, order_ago, size)
    columns[ORDERS] = n_orders
    columns[SINCE_ORDER] = np.where(np.isnan(last_order), tenure, last_order)
    columns[MEAN_GAP] = np.where(
        n_orders >= 2, (first_order - last_order) / np.maximum(n_orders - 1, 1), tenure
    )
    columns[LAST_GAP] = _last_gap(order_codes, order_ago, size, tenure)
    columns[ORDERS_30] = np.bincount(order_codes[order_ago <= 30], minlength=size).astype(float)
    columns[ORDERS_90] = np.bincount(order_codes[order_ago <= 90], minlength=size).astype(float)
    # Spend sums the purchase lines before ``at`` (price x quantity), not the order values: an
    # order placed before ``at`` can have later lines (same order id, or same day without one).
    bought_lines = (past[schema.EVENT_TYPE] == schema.PURCHASE).to_numpy()
    line_value = np.full(int(bought_lines.sum()), np.nan)
    if schema.PRICE in past.columns:
        line_value = past[schema.PRICE].to_numpy(dtype="float64")[bought_lines]
        if schema.QUANTITY in past.columns:
            line_value = line_value * past[schema.QUANTITY].to_numpy(dtype="float64")[bought_lines]
    priced = ~np.isnan(line_value)
    if priced.any():
        spend = np.bincount(
            user_codes[bought_lines][priced], weights=line_value[priced], minlength=size
        )
        columns[SPEND] = spend
        columns[AVG_ORDER_VALUE] = np.divide(
            spend, n_orders, out=np.zeros(size), where=n_orders > 0
        )

    for window, name in ((7, EVENTS_7), (30, EVENTS_30), (90, EVENTS_90)):
        columns[name] = np.bincount(user_codes[ago <= window], minlength=size).astype(float)

    kinds = past[schema.EVENT_TYPE].astype("str").to_numpy()
    type_counts = {}
    for kind, name in zip(schema.EVENT_TYPES, COUNT_FEATURES, strict=True):
        mask = kinds == kind
        type_counts[kind] = np.bincount(user_codes[mask], minlength=size).astype(float)
        columns[name] = type_counts[kind]
        if kind in (schema.VIEW, schema.CART):
            last = _group_last(user_codes[mask], ago[mask], size)
            columns[SINCE_VIEW if kind == schema.VIEW else SINCE_CART] = np.where(
                np.isnan(last), tenure, last
            )
    views, carts = type_counts[schema.VIEW], type_counts[schema.CART]
    columns[VIEW_TO_CART] = np.divide(carts, views, out=np.zeros(size), where=views > 0)
    columns[CART_TO_PURCHASE] = np.minimum(
        np.divide(type_counts[schema.PURCHASE], carts, out=np.zeros(size), where=carts > 0), 1.0
    )

    if schema.ITEM_ID in past.columns:
        columns[DISTINCT_ITEMS] = _distinct_per_user(user_codes, past[schema.ITEM_ID], size)
    if schema.CATEGORY in past.columns:
        columns[DISTINCT_CATEGORIES] = _distinct_per_user(user_codes, past[schema.CATEGORY], size)
        columns[TOP_CATEGORY_SHARE] = _top_category_share(past, user_codes, kinds, size)
    if schema.PRICE in past.columns:
        bought = kinds == schema.PURCHASE
        paid = past[schema.PRICE].to_numpy(dtype="float64")[bought]
        ok = ~np.isnan(paid)
        total = np.bincount(user_codes[bought][ok], weights=paid[ok], minlength=size)
        lines = np.bincount(user_codes[bought][ok], minlength=size)
        columns[AVG_PRICE_PAID] = np.divide(total, lines, out=np.zeros(size), where=lines > 0)
    if VIEWED_PRICE in past.columns:
        prices = past[VIEWED_PRICE].to_numpy(dtype="float64")
        ok = ~np.isnan(prices)
        total = np.bincount(user_codes[ok], weights=prices[ok], minlength=size)
        seen = np.bincount(user_codes[ok], minlength=size)
        columns[VIEWED_PRICE] = np.divide(total, seen, out=np.zeros(size), where=seen > 0)

    index = pd.Index(events[schema.USER_ID].cat.categories[present], name=schema.USER_ID)
    left_out = set(unusable_features(event_types))
    return pd.DataFrame(
        {name: values[present] for name, values in columns.items() if name not in left_out},
        index=index,
    )


def _last_gap(codes: np.ndarray, ago: np.ndarray, size: int, fill: np.ndarray) -> np.ndarray:
    """Days between each user's last two orders; ``fill`` where a user has fewer than two."""
    last = _group_last(codes, ago, size)
    is_last = np.zeros(len(codes), dtype=bool)
    if len(codes):
        _, last_positions = np.unique(codes[::-1], return_index=True)
        is_last[len(codes) - 1 - last_positions] = True
    second = _group_last(codes[~is_last], ago[~is_last], size)
    return np.where(np.isnan(second), fill, second - last)


def _distinct_per_user(codes: np.ndarray, values: pd.Series, size: int) -> np.ndarray:
    value_codes = (
        values.cat.codes.to_numpy().astype(np.int64)
        if isinstance(values.dtype, pd.CategoricalDtype)
        else pd.factorize(values)[0].astype(np.int64)
    )
    ok = value_codes >= 0
    width = int(value_codes.max(initial=-1)) + 2  # initial: no events before ``at`` at all
    pairs = distinct(codes[ok].astype(np.int64) * width + value_codes[ok])
    users = pairs // width
    return np.bincount(users, minlength=size).astype(float)


def _top_category_share(
    past: pd.DataFrame, user_codes: np.ndarray, kinds: np.ndarray, size: int
) -> np.ndarray:
    """Share of a user's purchases (by spend where prices exist) in their top category."""
    bought = kinds == schema.PURCHASE
    categories = past[schema.CATEGORY].to_numpy()[bought]
    weights = np.ones(int(bought.sum()))
    if schema.PRICE in past.columns:
        weights = np.nan_to_num(past[schema.PRICE].to_numpy(dtype="float64")[bought], nan=0.0)
        if schema.QUANTITY in past.columns:
            weights = weights * np.nan_to_num(
                past[schema.QUANTITY].to_numpy(dtype="float64")[bought]
            )
    frame = pd.DataFrame({"user": user_codes[bought], "category": categories, "w": weights})
    frame = frame[frame["category"].notna()]
    share = np.zeros(size)
    if frame.empty:
        return share
    per_category = frame.groupby(["user", "category"], observed=True, sort=False)["w"].sum()
    per_user = per_category.groupby(level=0).agg(["max", "sum"])
    users = per_user.index.to_numpy()
    share[users] = np.divide(
        per_user["max"],
        per_user["sum"],
        out=np.zeros(len(users)),
        where=per_user["sum"].to_numpy() > 0,
    )
    return share
