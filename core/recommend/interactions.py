"""What is known at a date: sparse user x item matrices (events weighted purchase > cart >
fav > view, with time decay), item-to-item similarities and item and user statistics.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse
from scipy.linalg import lapack
from sklearn.preprocessing import normalize

from core import schema
from core.data.nonproduct import non_product_items
from core.errors import ShopLensError

EVENT_WEIGHTS: Final = {schema.VIEW: 1.0, schema.FAV: 2.0, schema.CART: 3.0, schema.PURCHASE: 5.0}
HALF_LIFE_DAYS: Final = 60.0
RECENT_DAYS: Final = 30  # the days whose events make an item's recent popularity
NEIGHBOURS: Final = 100
EASE_ITEMS: Final = 5000
EASE_LAMBDA: Final = 200.0
CATEGORY_TOP: Final = 50
HISTORY_FOR_SIMILARITY: Final = 300
CHUNK_USERS: Final = 500
SIMILARITY_BLOCK: Final = 512  # item rows per block of the similarity product (bounds memory)
# A per-(user, item) table of the events before a date, which the feature job writes so the
# recommender reads it instead of adding the events up: the events, views, carts and purchases,
# the decayed weight (EVENT_WEIGHTS, HALF_LIFE_DAYS), the weight of the last RECENT_DAYS, and
# the first, last and last view, cart and purchase times in microseconds since the epoch.
PAIR_EVENTS: Final = "events"
PAIR_VIEWS: Final = "views"
PAIR_CARTS: Final = "carts"
PAIR_PURCHASES: Final = "purchases"
PAIR_WEIGHT: Final = "weight"
PAIR_RECENT: Final = "recent_weight"
FIRST_US: Final = "first_us"
LAST_US: Final = "last_us"
LAST_VIEW_US: Final = "last_view_us"
LAST_CART_US: Final = "last_cart_us"
LAST_PURCHASE_US: Final = "last_purchase_us"
PAIRS: Final = (
    schema.USER_ID,
    schema.ITEM_ID,
    PAIR_EVENTS,
    PAIR_VIEWS,
    PAIR_CARTS,
    PAIR_PURCHASES,
    PAIR_WEIGHT,
    PAIR_RECENT,
    FIRST_US,
    LAST_US,
    LAST_VIEW_US,
    LAST_CART_US,
    LAST_PURCHASE_US,
)
# The pair table at a date, when it was computed elsewhere (the feature job's).
PairsAt = Callable[[pd.Timestamp], pd.DataFrame]


class NoItemsError(ShopLensError):
    """The data has no item ids, so there is nothing to recommend."""


class UnknownUserError(ShopLensError):
    """A user id that is not in the data."""


# --- interactions at a date -------------------------------------------------------------


@dataclass
class Interactions:
    """What is known at ``at``: sparse user x item matrices and item/user statistics.

    User and item positions are the category codes of the full events frame, so they line up
    across dates. ``known`` marks the items that existed at ``at`` (an event before it, or,
    when ``at`` is the end of the data, a row of the product table); ``allowed`` the ones that
    may be recommended (known, and listed and in stock when only the catalogue is wanted).
    ``non_product`` marks the postage, fee and adjustment lines (``core.data.nonproduct``):
    their events are left out of every matrix and statistic, and they are neither known nor
    allowed, so no model ranks them, recommends them or counts them as bought.
    ``non_product_lines`` counts their events left out before ``at``.
    ``items_beyond_vocabulary`` counts the known items left out of ``allowed`` (and of the
    item similarities) because they were less active than the ``max_items`` most active ones.
    """

    at: pd.Timestamp
    user_ids: pd.Index
    item_ids: pd.Index
    weights: sparse.csr_matrix
    views: sparse.csr_matrix
    carts: sparse.csr_matrix
    bought: sparse.csr_matrix
    last_touch: sparse.csr_matrix
    last_view: sparse.csr_matrix
    last_cart: sparse.csr_matrix
    last_purchase: sparse.csr_matrix
    similarity: sparse.csr_matrix
    ease: np.ndarray
    ease_items: np.ndarray
    ease_position: np.ndarray
    popularity: np.ndarray
    popularity_in_category: np.ndarray
    category_top: list[np.ndarray]
    recent_popularity: np.ndarray
    item_days_since_sale: np.ndarray
    item_age_days: np.ndarray
    item_category: np.ndarray
    category_names: pd.Index
    item_brand: np.ndarray
    item_price: np.ndarray
    user_category: sparse.csr_matrix
    user_brand: sparse.csr_matrix
    user_log_price: np.ndarray
    user_events: np.ndarray
    user_items: np.ndarray
    user_purchases: np.ndarray
    user_days_since_event: np.ndarray
    known: np.ndarray
    allowed: np.ndarray
    item_names: np.ndarray
    non_product: np.ndarray
    non_product_lines: int = 0
    items_beyond_vocabulary: int = 0

    @cached_property
    def by_popularity(self) -> np.ndarray:
        """Every item, the most popular first (ties: the lower code); computed once."""
        return np.argsort(-self.popularity, kind="stable")

    @cached_property
    def buyers(self) -> np.ndarray:
        """Per item, how many users bought it; computed once."""
        return np.diff(sparse.csc_matrix(self.bought).indptr)


def _codes(values: pd.Series) -> np.ndarray:
    return values.cat.codes.to_numpy().astype(np.int64)


def _item_attribute(
    events: pd.DataFrame, products: pd.DataFrame | None, column: str, item_ids: pd.Index
) -> pd.Series:
    """Per item (in code order): the product table's value, else the most recent event value."""
    result = pd.Series(pd.NA, index=item_ids, dtype="object")
    if column in events.columns:
        last = events.dropna(subset=[column]).drop_duplicates(schema.ITEM_ID, keep="last")
        result.update(
            pd.Series(
                last[column].astype("str").to_numpy(), index=last[schema.ITEM_ID].astype("str")
            )
        )
    if products is not None and column in products.columns:
        table = products.drop_duplicates(schema.ITEM_ID).set_index(schema.ITEM_ID)[column]
        known = table.dropna()
        result.update(known.astype("str") if column != schema.PRICE else known)
    return result


def build_interactions(
    events: pd.DataFrame,
    products: pd.DataFrame | None,
    at: pd.Timestamp,
    *,
    catalogue_only: bool = False,
    max_items: int | None = None,
    pairs: pd.DataFrame | None = None,
) -> Interactions:
    """Sparse matrices and statistics from the events strictly before ``at``.

    The product table adds item attributes (category, brand, price, name) for the items that
    existed at ``at``; it adds items of its own only when ``at`` is the end of the data, since
    at an earlier date it may list items that appeared later.

    ``max_items`` is the item vocabulary: only the most active known items (by events before
    ``at``) may be recommended and get neighbours, which bounds the memory and time of a
    shop with millions of products; the others still count in users' histories.

    ``pairs`` is the per-(user, item) table of the events before ``at`` (``PAIRS``) when it was
    computed elsewhere (the feature job's, of the same events); otherwise the events are added
    up here. Either way the interactions are the same, but for the last bits of decayed sums.
    """
    if schema.ITEM_ID not in events.columns or not events[schema.ITEM_ID].notna().any():
        raise NoItemsError(
            "This data has no item ids, so there is nothing to recommend; load "
            "events with a product column to use recommendations."
        )
    user_ids = pd.Index(events[schema.USER_ID].cat.categories.astype("str"))
    item_ids = pd.Index(events[schema.ITEM_ID].cat.categories.astype("str"))
    n_users, n_items = len(user_ids), len(item_ids)
    times = events[schema.TIMESTAMP].to_numpy()
    before = int(np.searchsorted(times, np.datetime64(at.to_datetime64())))
    # The product table was exported when the data ends: it describes the shop at ``at`` only
    # when nothing happened from ``at`` on (recommending now), never at an earlier date.
    table_is_current = before == len(events)
    non_product = non_product_mask(events, products, item_ids)
    past = events.iloc[:before]
    past = past[past[schema.ITEM_ID].notna().to_numpy()]
    left_out = non_product[_codes(past[schema.ITEM_ID])]
    past = past[~left_out]
    shape = (n_users, n_items)
    tally = (
        _tally_events(past, shape, at)
        if pairs is None
        else _tally_pairs(pairs, user_ids, item_ids, non_product, at)
    )
    weights, bought = tally.weights, tally.bought
    popularity = np.log1p(tally.sold + 0.1 * tally.touched)

    # Items known at ``at``: those with an event before it and, when the product table is
    # current, every item it lists. Only they are recommended, counted in the catalogue and
    # scored as bought; a table exported later still describes them (category, price, ...)
    # but cannot add items that appeared after ``at``.
    known = tally.item_events > 0
    listed = np.ones(n_items, dtype=bool)
    if products is not None:
        listed = item_ids.isin(products[schema.ITEM_ID].astype("str"))
        if table_is_current:
            known = known | listed
    known &= ~non_product
    vocabulary = _vocabulary(tally.item_events, known, max_items)
    allowed = (known & listed if catalogue_only else known) & vocabulary
    if products is not None and catalogue_only and "in_stock" in products.columns:
        stocked = products.loc[_in_stock(products["in_stock"]), schema.ITEM_ID]
        allowed &= item_ids.isin(stocked.astype("str"))

    categories = _item_attribute(past, products, schema.CATEGORY, item_ids)
    category_codes, category_names = pd.factorize(categories, use_na_sentinel=True)
    brands = _item_attribute(past, products, schema.BRAND, item_ids)
    brand_codes, _ = pd.factorize(brands, use_na_sentinel=True)
    prices = pd.to_numeric(
        _item_attribute(past, products, schema.PRICE, item_ids), errors="coerce"
    ).to_numpy(dtype=float)
    names = _item_attribute(past, products, schema.NAME, item_ids)
    item_names = names.fillna(pd.Series(item_ids, index=item_ids)).to_numpy(dtype=object)

    user_category = _user_share(weights, category_codes, max(len(category_names), 1))
    user_brand = _user_share(weights, brand_codes, max(int(brand_codes.max(initial=-1)) + 1, 1))
    log_price = np.log1p(np.nan_to_num(prices, nan=0.0))
    priced = sparse.csr_matrix(weights.multiply(log_price[None, :]))
    totals = np.asarray(weights.sum(axis=1)).ravel()
    user_log_price = np.divide(
        np.asarray(priced.sum(axis=1)).ravel(), totals, out=np.zeros(n_users), where=totals > 0
    )

    in_category = _popularity_within_category(popularity, category_codes)
    category_top = [
        np.flatnonzero((category_codes == code) & (popularity > 0))[
            np.argsort(-popularity[(category_codes == code) & (popularity > 0)], kind="stable")[
                :CATEGORY_TOP
            ]
        ]
        for code in range(len(category_names))
    ]
    return Interactions(
        at=at,
        user_ids=user_ids,
        item_ids=item_ids,
        weights=weights,
        views=tally.views,
        carts=tally.carts,
        bought=bought,
        last_touch=tally.last_touch,
        last_view=tally.last_view,
        last_cart=tally.last_cart,
        last_purchase=tally.last_purchase,
        **_item_models(weights, vocabulary, popularity),
        popularity=popularity,
        popularity_in_category=in_category,
        category_top=category_top,
        recent_popularity=np.log1p(tally.recent),
        item_days_since_sale=np.minimum(tally.last_sale, 3650.0),
        item_age_days=tally.first_seen,
        item_category=category_codes,
        category_names=pd.Index(category_names),
        item_brand=brand_codes,
        item_price=_fill_price(prices, known),
        user_category=user_category,
        user_brand=user_brand,
        user_log_price=user_log_price,
        user_events=tally.user_events,
        user_items=np.diff(weights.indptr).astype(float),
        user_purchases=np.asarray(bought.sum(axis=1)).ravel(),
        user_days_since_event=np.minimum(tally.user_last, 3650.0),
        known=known,
        allowed=allowed,
        item_names=item_names,
        non_product=non_product,
        non_product_lines=int(left_out.sum()),
        items_beyond_vocabulary=int((known & ~vocabulary).sum()),
    )


# --- what the events before a date add up to ---------------------------------------------


@dataclass(frozen=True)
class _Tally:
    """What the events before a date add up to, per (user, item), per item and per user.

    Ages are in days before the date; seconds are unix seconds.
    """

    weights: sparse.csr_matrix  # events weighted by type and decayed
    views: sparse.csr_matrix
    carts: sparse.csr_matrix
    bought: sparse.csr_matrix  # 1 where the user bought the item
    last_touch: sparse.csr_matrix  # the latest event's seconds, of any type and per type
    last_view: sparse.csr_matrix
    last_cart: sparse.csr_matrix
    last_purchase: sparse.csr_matrix
    item_events: np.ndarray  # events per item
    sold: np.ndarray  # purchase lines per item
    touched: np.ndarray  # weighted, decayed events per item
    recent: np.ndarray  # weighted events of the last RECENT_DAYS per item
    last_sale: np.ndarray  # the age of the item's last purchase (inf: never)
    first_seen: np.ndarray  # the age of the item's first event (0: none)
    user_events: np.ndarray  # events per user
    user_last: np.ndarray  # the age of the user's last event (inf: none)


def _tally_events(past: pd.DataFrame, shape: tuple[int, int], at: pd.Timestamp) -> _Tally:
    """The tally of ``past``: the events before ``at`` with an item, non-products left out."""
    n_users, n_items = shape
    users, items = _codes(past[schema.USER_ID]), _codes(past[schema.ITEM_ID])
    type_codes = _codes(past[schema.EVENT_TYPE])
    type_names = list(past[schema.EVENT_TYPE].cat.categories.astype("str"))
    lookup = np.array([EVENT_WEIGHTS.get(name, 0.0) for name in type_names] + [0.0])
    weight = lookup[type_codes]  # code -1 (missing) takes the trailing 0

    def is_type(kind: str) -> np.ndarray:
        return type_codes == (type_names.index(kind) if kind in type_names else -2)

    age = (
        at.value - past[schema.TIMESTAMP].to_numpy().astype("datetime64[ns]").view(np.int64)
    ) / 86_400e9
    decay = 0.5 ** (age / HALF_LIFE_DAYS)

    def matrix(values: np.ndarray, mask: np.ndarray | slice = slice(None)) -> sparse.csr_matrix:
        return sparse.csr_matrix((values[mask], (users[mask], items[mask])), shape=shape)

    weights = matrix(weight * decay)
    weights.eliminate_zeros()  # returns and unknown event types carry no weight
    is_view, is_cart = is_type(schema.VIEW), is_type(schema.CART)
    is_purchase = is_type(schema.PURCHASE)
    ones = np.ones(len(users))
    bought = matrix(ones, is_purchase)
    bought.data[:] = 1.0
    seconds = past[schema.TIMESTAMP].to_numpy().astype("datetime64[s]").view(np.int64)
    seconds = seconds.astype(np.float64)
    # One stable sort by (user, item) serves every "latest" matrix: a type's events keep
    # that order when picked out of it.
    by_pair = np.argsort(users * n_items + items, kind="stable")
    pair_keys, pair_seconds = (users * n_items + items)[by_pair], seconds[by_pair]

    def latest(mask: np.ndarray | slice = slice(None)) -> sparse.csr_matrix:
        chosen = mask[by_pair] if isinstance(mask, np.ndarray) else mask
        return _pair_max(pair_keys[chosen], pair_seconds[chosen], shape)

    recent = age <= RECENT_DAYS
    last_sale = np.full(n_items, np.inf)
    np.minimum.at(last_sale, items[is_purchase], age[is_purchase])
    first_seen = np.full(n_items, 0.0)
    np.maximum.at(first_seen, items, age)
    user_last = np.full(n_users, np.inf)
    np.minimum.at(user_last, users, age)
    return _Tally(
        weights=weights,
        views=matrix(ones, is_view),
        carts=matrix(ones, is_cart),
        bought=bought,
        last_touch=latest(),
        last_view=latest(is_view),
        last_cart=latest(is_cart),
        last_purchase=latest(is_purchase),
        item_events=np.bincount(items, minlength=n_items),
        sold=np.bincount(items, weights=np.where(is_purchase, 1.0, 0.0), minlength=n_items),
        touched=np.bincount(items, weights=weight * decay, minlength=n_items),
        recent=np.bincount(items[recent], weights=weight[recent], minlength=n_items),
        last_sale=last_sale,
        first_seen=first_seen,
        user_events=np.bincount(users, minlength=n_users).astype(float),
        user_last=user_last,
    )


def _tally_pairs(
    pairs: pd.DataFrame,
    user_ids: pd.Index,
    item_ids: pd.Index,
    non_product: np.ndarray,
    at: pd.Timestamp,
) -> _Tally:
    """The tally of the events before ``at`` from their per-(user, item) table (``PAIRS``
    columns, as the feature job writes it), non-products left out.

    Raises:
        ShopLensError: when the table names a user or item the events do not have.
    """
    n_users, n_items = len(user_ids), len(item_ids)
    users, items = (
        _codes_in(pairs[schema.USER_ID], user_ids),
        _codes_in(pairs[schema.ITEM_ID], item_ids),
    )
    if (users < 0).any() or (items < 0).any():
        raise ShopLensError(
            "The user x item table names users or items these events do not have; run python "
            "-m core features on this data again."
        )
    kept = ~non_product[items]
    every = bool(kept.all())
    users, items = (users, items) if every else (users[kept], items[kept])
    column = {
        name: pairs[name].to_numpy() if every else pairs[name].to_numpy()[kept]
        for name in PAIRS[2:]
    }
    shape = (n_users, n_items)

    def matrix(values: np.ndarray, mask: np.ndarray | slice = slice(None)) -> sparse.csr_matrix:
        return sparse.csr_matrix((values[mask], (users[mask], items[mask])), shape=shape)

    def age(micros: np.ndarray) -> np.ndarray:
        return (at.value - micros.astype(np.int64) * 1000) / 86_400e9

    def seconds(micros: np.ndarray) -> np.ndarray:  # missing (never) only where left out
        return (np.nan_to_num(micros).astype(np.int64) // 10**6).astype(np.float64)

    weights = matrix(column[PAIR_WEIGHT].astype(np.float64))
    weights.eliminate_zeros()
    views, carts, bought = (
        column[name].astype(np.float64) for name in (PAIR_VIEWS, PAIR_CARTS, PAIR_PURCHASES)
    )
    sold = bought > 0
    last_sale = np.full(n_items, np.inf)
    np.minimum.at(last_sale, items[sold], age(column[LAST_PURCHASE_US][sold]))
    first_seen = np.full(n_items, 0.0)
    np.maximum.at(first_seen, items, age(column[FIRST_US]))
    user_last = np.full(n_users, np.inf)
    np.minimum.at(user_last, users, age(column[LAST_US]))
    events = column[PAIR_EVENTS].astype(np.int64)
    return _Tally(
        weights=weights,
        views=matrix(views, views > 0),
        carts=matrix(carts, carts > 0),
        bought=matrix(np.ones(len(users)), sold),
        last_touch=matrix(seconds(column[LAST_US])),
        last_view=matrix(seconds(column[LAST_VIEW_US]), views > 0),
        last_cart=matrix(seconds(column[LAST_CART_US]), carts > 0),
        last_purchase=matrix(seconds(column[LAST_PURCHASE_US]), sold),
        item_events=np.bincount(items, weights=events, minlength=n_items).astype(np.int64),
        sold=np.bincount(items, weights=bought, minlength=n_items),
        touched=np.bincount(items, weights=column[PAIR_WEIGHT], minlength=n_items),
        recent=np.bincount(items, weights=column[PAIR_RECENT], minlength=n_items),
        last_sale=last_sale,
        first_seen=first_seen,
        user_events=np.bincount(users, weights=events, minlength=n_users),
        user_last=user_last,
    )


def _codes_in(ids: pd.Series, index: pd.Index) -> np.ndarray:
    """The position of each id in ``index`` (-1: not there), by one hash lookup in Arrow."""
    found = pc.index_in(pa.array(ids.astype("str")), value_set=pa.array(index, pa.string()))
    return found.fill_null(-1).to_numpy().astype(np.int64)


def _vocabulary(activity: np.ndarray, known: np.ndarray, max_items: int | None) -> np.ndarray:
    """The ``max_items`` most active known items (ties: the earlier code), or every known
    item when there are no more than that."""
    if max_items is None or int(known.sum()) <= max_items:
        return known.copy()
    ranked = np.lexsort((np.arange(len(activity)), -activity, ~known))[:max_items]
    vocabulary = np.zeros(len(activity), dtype=bool)
    vocabulary[ranked] = True
    return vocabulary


def non_product_note(inter: Interactions) -> str | None:
    """One sentence on the non-product items left out of the recommender, or ``None``."""
    items = int(inter.non_product.sum())
    if not items:
        return None
    lines = inter.non_product_lines
    return (
        f"{items:,} non-product item{'s' if items != 1 else ''} (postage, fees, bank charges, "
        f"adjustments) and {lines:,} line{'s' if lines != 1 else ''} of them before "
        f"{inter.at:%Y-%m-%d} were left out: no model learns from, recommends or scores them."
    )


def vocabulary_note(inter: Interactions) -> str | None:
    """One sentence on the products left out of the item vocabulary, or ``None``."""
    beyond = inter.items_beyond_vocabulary
    if not beyond:
        return None
    kept = int(inter.known.sum()) - beyond
    return (
        f"Only the {kept:,} most active products may be recommended (the item vocabulary "
        f"setting); {beyond:,} less active one{'s' if beyond != 1 else ''} known at "
        f"{inter.at:%Y-%m-%d} {'are' if beyond != 1 else 'is'} left out of the lists and of "
        "the item neighbours, but still count in users' histories."
    )


def non_product_mask(
    events: pd.DataFrame, products: pd.DataFrame | None, item_ids: pd.Index
) -> np.ndarray:
    """Per item (in code order), whether it is a non-product line (postage, fees, bank
    charges, manual adjustments), by its code or by its name in the events or product table."""
    names = _item_attribute(events, products, schema.NAME, item_ids)
    return non_product_items(item_ids, names.to_numpy(dtype=object))


def _fill_price(prices: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Prices with the gaps filled by the median price of the items known at the date (an
    item that appeared later never shifts it)."""
    usable = prices[known & np.isfinite(prices)]
    return np.nan_to_num(prices, nan=float(np.median(usable)) if len(usable) else 0.0)


def _in_stock(column: pd.Series) -> np.ndarray:
    """True where a stock column says the item is available: a positive number, or a word
    such as 'yes', 'true' or 'in stock'."""
    numbers = pd.to_numeric(column, errors="coerce")
    words = (
        column.astype("str")
        .str.strip()
        .str.lower()
        .isin(["true", "yes", "y", "in stock", "available"])
    )
    return np.where(numbers.notna(), numbers.fillna(0) > 0, words)


def _pair_max(keys: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    """Sparse matrix holding, per (user, item), the largest of its values; ``keys`` are
    ``user * items + item``, sorted."""
    if not len(keys):
        return sparse.csr_matrix(shape)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    largest = np.maximum.reduceat(values, starts)
    keys = keys[starts]
    return sparse.csr_matrix((largest, (keys // shape[1], keys % shape[1])), shape=shape)


def _user_share(weights: sparse.csr_matrix, codes: np.ndarray, size: int) -> sparse.csr_matrix:
    """Share of each user's (weighted, decayed) interactions per category or brand."""
    known = codes >= 0
    mapping = sparse.csr_matrix(
        (np.ones(int(known.sum())), (np.flatnonzero(known), codes[known])),
        shape=(weights.shape[1], size),
    )
    per_group = weights @ mapping
    return sparse.csr_matrix(normalize(per_group, norm="l1", axis=1))


def _item_models(
    weights: sparse.csr_matrix, vocabulary: np.ndarray, popularity: np.ndarray
) -> dict[str, Any]:
    """The item neighbours and the EASE model, side by side: EASE's inversion runs in LAPACK
    without the GIL, so on a second thread it takes little beyond the similarity's time."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        ease = pool.submit(_ease, weights, np.where(vocabulary, popularity, -1.0))
        similarity = _item_similarity(weights, vocabulary)
        return {"similarity": similarity, **ease.result()}


def _item_similarity(weights: sparse.csr_matrix, vocabulary: np.ndarray) -> sparse.csr_matrix:
    """Cosine similarity between the vocabulary items' user vectors, keeping each item's top
    neighbours (items outside the vocabulary have none and are no one's neighbour).

    Each user's most recent-weighted items only (at most ``HISTORY_FOR_SIMILARITY``) enter,
    which bounds the cost of very active users; the product is taken a block of items at a
    time, so memory stays bounded however many items co-occur. Two blocks are worked on at
    once: the sparse product and the partitions run in C without the GIL.
    """
    positions = np.flatnonzero(vocabulary)
    history = sparse.csr_matrix(weights[:, positions])
    history.data = np.log1p(history.data)
    history = top_per_row(history, HISTORY_FOR_SIMILARITY)
    columns = sparse.csr_matrix(normalize(history.T.tocsr(), norm="l2", axis=1), dtype=np.float32)
    transposed = sparse.csr_matrix(columns.T)

    def neighbours(start: int) -> sparse.csr_matrix:
        block = sparse.csr_matrix(columns[start : start + SIMILARITY_BLOCK] @ transposed)
        rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
        block.data[block.indices == rows + start] = 0.0  # an item is not its own neighbour
        return top_per_row(block, NEIGHBOURS)

    with ThreadPoolExecutor(max_workers=2) as pool:  # in block order, as one at a time
        blocks = list(pool.map(neighbours, range(0, len(positions), SIMILARITY_BLOCK)))
    n_items = weights.shape[1]
    if not blocks:
        return sparse.csr_matrix((n_items, n_items))
    within = sparse.coo_matrix(sparse.vstack(blocks))
    return sparse.csr_matrix(
        (within.data, (positions[within.row], positions[within.col])), shape=(n_items, n_items)
    )


def _ease(weights: sparse.csr_matrix, popularity: np.ndarray) -> dict[str, np.ndarray]:
    """EASE (Steck 2019): a closed-form item-to-item linear model, on the most popular items.

    B = I - P / diag(P) with P = (X'X + lambda I)^-1, diagonal zeroed; a user's scores are
    their interaction row times B.
    """
    items = np.sort(np.argsort(-popularity, kind="stable")[:EASE_ITEMS])
    matrix = weights[:, items].tocsr()
    matrix.data = np.log1p(matrix.data)
    gram = (matrix.T @ matrix).toarray().astype(np.float32)
    gram[np.diag_indices_from(gram)] += EASE_LAMBDA
    inverse = _spd_inverse(gram)
    ease = -inverse / np.diag(inverse)[None, :]
    np.fill_diagonal(ease, 0.0)
    position = np.full(weights.shape[1], -1)
    position[items] = np.arange(len(items))
    return {"ease": ease.astype(np.float32), "ease_items": items, "ease_position": position}


def _spd_inverse(matrix: np.ndarray) -> np.ndarray:
    """The inverse of a symmetric positive-definite matrix, by Cholesky in single precision
    (4x faster than a general inverse in double; the ridge keeps it well conditioned)."""
    if not len(matrix):
        return matrix
    factor, info = lapack.spotrf(matrix, lower=False, clean=False)
    if info == 0:
        inverse, info = lapack.spotri(factor, lower=False, overwrite_c=True)
    if info != 0:  # not positive definite after all: the general inverse
        return np.asarray(np.linalg.inv(matrix.astype(np.float64)), dtype=np.float32)
    upper = np.triu(inverse)
    return np.asarray(upper + np.triu(upper, 1).T, dtype=np.float32)


def _popularity_within_category(popularity: np.ndarray, categories: np.ndarray) -> np.ndarray:
    """Each item's popularity relative to the most popular item of its category (0..1)."""
    result = np.zeros(len(popularity))
    known = categories >= 0
    if known.any():
        top = pd.Series(popularity[known]).groupby(categories[known]).transform("max").to_numpy()
        result[known] = np.divide(
            popularity[known], top, out=np.zeros(int(known.sum())), where=top > 0
        )
    return result


def pair_keys(matrix: sparse.csr_matrix) -> np.ndarray:
    """``row * columns + col`` of each stored entry of a CSR matrix, in storage order (its
    indices are sorted in place first when they are not, so the keys are sorted)."""
    if not matrix.has_sorted_indices:
        matrix.sort_indices()
    width = np.int64(matrix.shape[1])
    rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    return rows * width + matrix.indices


def lookup(
    matrix: sparse.csr_matrix, keys: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """The entries of a CSR matrix with sorted indices (``keys``: its ``pair_keys``) at
    (rows, cols), 0 where it has none: one binary search over all its entries, which stays
    fast however long its rows are (scipy's pair indexing scans them)."""
    wanted = rows.astype(np.int64) * np.int64(matrix.shape[1]) + cols
    if not len(keys):
        return np.zeros(len(wanted))
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[at] == wanted, matrix.data[at], 0.0)


def row_argmax(matrix: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Each row's column of its largest stored entry (the lowest column among ties; 0 for a
    row with none) and that entry (0 for a row with none), for a matrix whose stored entries
    are positive: scipy's ``argmax(axis=1)`` and ``max(axis=1)`` without a loop over rows."""
    n_rows = matrix.shape[0]
    counts = np.diff(matrix.indptr)
    anchor, best = np.zeros(n_rows, dtype=np.int64), np.zeros(n_rows)
    filled = counts > 0
    if not filled.any():
        return anchor, best
    best[filled] = np.maximum.reduceat(matrix.data, matrix.indptr[:-1][filled])
    rows = np.repeat(np.arange(n_rows), counts)
    at_best = np.flatnonzero(matrix.data == best[rows])  # rows ascending, as stored
    rows_at = rows[at_best]
    starts = np.flatnonzero(np.r_[True, rows_at[1:] != rows_at[:-1]])
    anchor[rows_at[starts]] = np.minimum.reduceat(matrix.indices[at_best], starts)
    return anchor, best


def top_per_row(matrix: sparse.csr_matrix, keep: int) -> sparse.csr_matrix:
    """The matrix with only each row's ``keep`` largest positive entries (rows holding more
    are cut one by one, in linear time; the others are kept whole)."""
    matrix = sparse.csr_matrix(matrix, copy=True)
    matrix.data[~(matrix.data > 0)] = 0.0
    matrix.eliminate_zeros()
    counts = np.diff(matrix.indptr)
    kept = np.ones(matrix.nnz, dtype=bool)
    for row in np.flatnonzero(counts > keep):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        kept[start + np.argpartition(-matrix.data[start:end], keep - 1)[keep:]] = False
    rows = np.repeat(np.arange(matrix.shape[0]), counts)
    return sparse.csr_matrix(
        (matrix.data[kept], (rows[kept], matrix.indices[kept])), shape=matrix.shape
    )


# --- relevance ---------------------------------------------------------------------------


def relevant_items(
    events: pd.DataFrame,
    inter: Interactions,
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    buy_again: bool,
    new_items: bool = False,
) -> pd.DataFrame:
    """Distinct (user code, item code) pairs bought in ``[start, end)`` (any event when the data
    has no purchases); items bought before ``start`` are left out unless ``buy_again``.

    Only users with at least one event before ``start`` are kept, and only items that existed
    then (``inter.known``): no list made at ``start`` could hold an item that appeared later,
    so it would only swell every model's denominators. ``new_items`` keeps those items too.
    Non-product lines (postage, fees) are never relevant: buying one is no one's hit or miss.
    """
    window = events[(events[schema.TIMESTAMP] >= start) & (events[schema.TIMESTAMP] < end)]
    window = window[window[schema.ITEM_ID].notna().to_numpy()]
    if (events[schema.EVENT_TYPE] == schema.PURCHASE).any():
        window = window[(window[schema.EVENT_TYPE] == schema.PURCHASE).to_numpy()]
    pairs = pd.DataFrame(
        {"user": _codes(window[schema.USER_ID]), "item": _codes(window[schema.ITEM_ID])}
    ).drop_duplicates()
    known = inter.user_events[pairs["user"].to_numpy()] > 0
    known &= ~inter.non_product[pairs["item"].to_numpy()]
    if not new_items:
        known &= inter.known[pairs["item"].to_numpy()]
    pairs = pairs[known]
    if not buy_again and len(pairs):
        already = (
            np.asarray(inter.bought[pairs["user"].to_numpy(), pairs["item"].to_numpy()]).ravel() > 0
        )
        pairs = pairs[~already]
    return pairs.reset_index(drop=True)
