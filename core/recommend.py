"""Two-stage product recommender: candidate generators, then an MLP ranker, with reasons.

Stage one proposes items per user from three generators: item-to-item cosine neighbours on the
user x item matrix (events weighted purchase > cart > fav > view, with time decay), popularity
within the user's categories, and overall popularity. Stage two scores each (user, candidate)
pair with an ``MLPClassifier`` trained on an earlier window the same way it is evaluated:
features from events before the window, labels = the items the user bought in it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Final

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import normalize

from core import metrics, schema
from core.errors import ShopLensError
from core.metrics import RANK, SCORE
from core.network import (
    EpochReport,
    NetworkConfig,
    NetworkTrainer,
    network_config_dict,
    network_config_from,
)
from core.runs import (
    LoadedRun,
    RunIntegrityError,
    RunRecord,
    columns_to_frame,
    frame_to_columns,
    scores_to_metrics,
)

EVENT_WEIGHTS: Final = {schema.VIEW: 1.0, schema.FAV: 2.0, schema.CART: 3.0, schema.PURCHASE: 5.0}
HALF_LIFE_DAYS: Final = 60.0
NEIGHBOURS: Final = 100
EASE_ITEMS: Final = 5000
EASE_LAMBDA: Final = 200.0
CATEGORY_TOP: Final = 50
HISTORY_FOR_SIMILARITY: Final = 300
CHUNK_USERS: Final = 500
REASON: Final = "reason"

PAIR_FEATURES: Final = (
    "ease_score",
    "ease_rank",
    "knn_score",
    "knn_share",
    "category_popularity",
    "knn_rank",
    "category_rank",
    "popularity",
    "recent_popularity",
    "user_item_weight",
    "user_item_views",
    "user_item_carts",
    "category_share",
    "brand_share",
    "price_fit",
    "item_price",
    "item_days_since_sale",
    "item_age_days",
    "user_events",
    "user_items",
    "user_purchases",
    "user_days_since_event",
    "category_probability",
)


class NoItemsError(ShopLensError):
    """The data has no item ids, so there is nothing to recommend."""


class UnknownUserError(ShopLensError):
    """A user id that is not in the data."""


@dataclass(frozen=True)
class RecommenderConfig:
    """Settings of the two-stage recommender.

    Attributes:
        network: the ranker's MLP settings (hidden layers, epochs, seed, ...).
        candidates: candidates taken from each generator per user.
        negatives: non-bought candidates kept per user for training the ranker.
        train_windows: how many consecutive H-day windows before the cutoff train the ranker.
        max_train_pairs: the most (user, candidate) pairs the ranker trains on; above it, a
            random share of the users is kept.
        buy_again: allow items the user already bought (then they count as hits too).
        catalogue_only: only recommend items present in the product table (and in stock
            where the table has an ``in_stock`` column).
    """

    network: NetworkConfig = field(default_factory=lambda: NetworkConfig(hidden_layers=(64, 32)))
    candidates: int = 50
    negatives: int = 30
    train_windows: int = 3
    max_train_pairs: int = 400_000
    buy_again: bool = False
    catalogue_only: bool = False


# --- interactions at a date -------------------------------------------------------------


@dataclass
class Interactions:
    """What is known at ``at``: sparse user x item matrices and item/user statistics.

    User and item positions are the category codes of the full events frame, so they line up
    across dates.
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
    allowed: np.ndarray
    item_names: np.ndarray

    @cached_property
    def similarity_to(self) -> sparse.csr_matrix:
        """The similarity matrix transposed: row i holds the items that have i as a
        neighbour (computed once, for the reasons)."""
        return self.similarity.T.tocsr()


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
) -> Interactions:
    """Sparse matrices and statistics from the events strictly before ``at``."""
    if schema.ITEM_ID not in events.columns or not events[schema.ITEM_ID].notna().any():
        raise NoItemsError(
            "This data has no item ids, so there is nothing to recommend; load "
            "events with a product column to use recommendations."
        )
    user_ids = pd.Index(events[schema.USER_ID].cat.categories.astype("str"))
    item_ids = pd.Index(events[schema.ITEM_ID].cat.categories.astype("str"))
    n_users, n_items = len(user_ids), len(item_ids)
    times = events[schema.TIMESTAMP].to_numpy()
    past = events.iloc[: int(np.searchsorted(times, np.datetime64(at.to_datetime64())))]
    past = past[past[schema.ITEM_ID].notna().to_numpy()]
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
    shape = (n_users, n_items)

    def matrix(values: np.ndarray, mask: np.ndarray | slice = slice(None)) -> sparse.csr_matrix:
        return sparse.csr_matrix((values[mask], (users[mask], items[mask])), shape=shape)

    weights = matrix(weight * decay)
    weights.eliminate_zeros()  # returns and unknown event types carry no weight
    is_view, is_cart = is_type(schema.VIEW), is_type(schema.CART)
    is_purchase = is_type(schema.PURCHASE)
    ones = np.ones(len(users))
    views, carts = matrix(ones, is_view), matrix(ones, is_cart)
    bought = matrix(ones, is_purchase)
    bought.data[:] = 1.0
    # Latest touch per pair (any type, and per type) in unix seconds; 0 means "never".
    seconds = past[schema.TIMESTAMP].to_numpy().astype("datetime64[s]").view(np.int64)
    seconds = seconds.astype(np.float64)

    def latest(mask: np.ndarray | slice = slice(None)) -> sparse.csr_matrix:
        return _pair_max(users[mask], items[mask], seconds[mask], shape)

    last_touch, last_view, last_cart = latest(), latest(is_view), latest(is_cart)
    last_purchase = latest(is_purchase)

    purchases_weight = np.where(is_purchase, 1.0, 0.0)
    sold = np.bincount(items, weights=purchases_weight, minlength=n_items)
    touched = np.bincount(items, weights=weight * decay, minlength=n_items)
    popularity = np.log1p(sold + 0.1 * touched)
    recent = age <= 30
    recent_popularity = np.log1p(
        np.bincount(items[recent], weights=weight[recent], minlength=n_items)
    )
    last_sale = np.full(n_items, np.inf)
    np.minimum.at(last_sale, items[is_purchase], age[is_purchase])
    item_days_since_sale = np.minimum(last_sale, 3650.0)
    first_seen = np.full(n_items, 0.0)
    np.maximum.at(first_seen, items, age)

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
    user_events = np.bincount(users, minlength=n_users).astype(float)
    user_last = np.full(n_users, np.inf)
    np.minimum.at(user_last, users, age)

    # Only items known at ``at`` can be recommended: seen before it, or in the product table.
    allowed = np.bincount(items, minlength=n_items) > 0
    if products is not None:
        listed = item_ids.isin(products[schema.ITEM_ID].astype("str"))
        allowed = listed if catalogue_only else allowed | listed
        if catalogue_only and "in_stock" in products.columns:
            stocked = products.loc[_in_stock(products["in_stock"]), schema.ITEM_ID]
            allowed &= item_ids.isin(stocked.astype("str"))

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
        views=views,
        carts=carts,
        bought=bought,
        last_touch=last_touch,
        last_view=last_view,
        last_cart=last_cart,
        last_purchase=last_purchase,
        similarity=_item_similarity(weights),
        **_ease(weights, popularity),
        popularity=popularity,
        popularity_in_category=in_category,
        category_top=category_top,
        recent_popularity=recent_popularity,
        item_days_since_sale=item_days_since_sale,
        item_age_days=first_seen,
        item_category=category_codes,
        category_names=pd.Index(category_names),
        item_brand=brand_codes,
        item_price=np.nan_to_num(
            prices, nan=np.nanmedian(prices) if np.isfinite(prices).any() else 0.0
        ),
        user_category=user_category,
        user_brand=user_brand,
        user_log_price=user_log_price,
        user_events=user_events,
        user_items=np.diff(weights.indptr).astype(float),
        user_purchases=np.asarray(bought.sum(axis=1)).ravel(),
        user_days_since_event=np.minimum(user_last, 3650.0),
        allowed=allowed,
        item_names=item_names,
    )


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


def _pair_max(
    users: np.ndarray, items: np.ndarray, values: np.ndarray, shape: tuple[int, int]
) -> sparse.csr_matrix:
    """Sparse matrix holding, per (user, item), the largest of its values."""
    if not len(users):
        return sparse.csr_matrix(shape)
    key = users * shape[1] + items
    frame = pd.DataFrame({"key": key, "value": values}).groupby("key")["value"].max()
    keys = frame.index.to_numpy()
    return sparse.csr_matrix((frame.to_numpy(), (keys // shape[1], keys % shape[1])), shape=shape)


def _user_share(weights: sparse.csr_matrix, codes: np.ndarray, size: int) -> sparse.csr_matrix:
    """Share of each user's (weighted, decayed) interactions per category or brand."""
    known = codes >= 0
    mapping = sparse.csr_matrix(
        (np.ones(int(known.sum())), (np.flatnonzero(known), codes[known])),
        shape=(weights.shape[1], size),
    )
    per_group = weights @ mapping
    return sparse.csr_matrix(normalize(per_group, norm="l1", axis=1))


def _item_similarity(weights: sparse.csr_matrix) -> sparse.csr_matrix:
    """Cosine similarity between items' user vectors, keeping each item's top neighbours.

    Each user's most recent-weighted items only (at most ``HISTORY_FOR_SIMILARITY``) enter,
    which bounds the cost of very active users.
    """
    binary = weights.copy().tocsr()
    binary.data = np.log1p(binary.data)
    counts = np.diff(binary.indptr)
    if counts.max(initial=0) > HISTORY_FOR_SIMILARITY:
        binary = _top_per_row(binary, HISTORY_FOR_SIMILARITY)
    columns = normalize(binary.T.tocsr(), norm="l2", axis=1)
    similarity = (columns @ columns.T).tocsr()
    similarity.setdiag(0.0)
    similarity.eliminate_zeros()
    return _top_per_row(similarity, NEIGHBOURS)


def _ease(weights: sparse.csr_matrix, popularity: np.ndarray) -> dict[str, np.ndarray]:
    """EASE (Steck 2019): a closed-form item-to-item linear model, on the most popular items.

    B = I - P / diag(P) with P = (X'X + lambda I)^-1, diagonal zeroed; a user's scores are
    their interaction row times B.
    """
    items = np.sort(np.argsort(-popularity, kind="stable")[:EASE_ITEMS])
    matrix = weights[:, items].tocsr()
    matrix.data = np.log1p(matrix.data)
    gram = (matrix.T @ matrix).toarray().astype(np.float64)
    gram[np.diag_indices_from(gram)] += EASE_LAMBDA
    inverse = np.linalg.inv(gram)
    ease = -inverse / np.diag(inverse)[None, :]
    np.fill_diagonal(ease, 0.0)
    position = np.full(weights.shape[1], -1)
    position[items] = np.arange(len(items))
    return {"ease": ease.astype(np.float32), "ease_items": items, "ease_position": position}


def _top_per_row(matrix: sparse.csr_matrix, keep: int) -> sparse.csr_matrix:
    matrix = matrix.tocsr()
    rows, cols, vals = [], [], []
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        if end - start == 0:
            continue
        data = matrix.data[start:end]
        index = matrix.indices[start:end]
        if end - start > keep:
            top = np.argpartition(-data, keep - 1)[:keep]
            data, index = data[top], index[top]
        rows.append(np.full(len(index), row))
        cols.append(index)
        vals.append(data)
    if not rows:
        return sparse.csr_matrix(matrix.shape)
    return sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=matrix.shape
    )


# --- candidates and pair features ------------------------------------------------------


@dataclass(frozen=True)
class Candidates:
    """Candidate (user, item) pairs with their generator scores and the ranker's inputs."""

    users: np.ndarray
    items: np.ndarray
    features: np.ndarray
    knn: np.ndarray
    category_popularity: np.ndarray


def _chunks(users: np.ndarray) -> Iterator[np.ndarray]:
    for start in range(0, len(users), CHUNK_USERS):
        yield users[start : start + CHUNK_USERS]


def _dense_scores(inter: Interactions, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense (users x items) item-kNN and category-popularity scores, for the baselines."""
    knn = (inter.weights[users] @ inter.similarity).toarray().astype(np.float32)
    if len(inter.category_names):
        shares = inter.user_category[users].toarray()
        known = inter.item_category >= 0
        per_item = np.zeros((len(users), len(inter.item_ids)), dtype=np.float32)
        per_item[:, known] = shares[:, inter.item_category[known]]
        category_popularity = per_item * inter.popularity_in_category[None, :]
    else:
        category_popularity = np.zeros_like(knn)
    return knn, category_popularity


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


def _blocked(inter: Interactions, users: np.ndarray, buy_again: bool) -> np.ndarray:
    blocked = np.broadcast_to(~inter.allowed, (len(users), len(inter.item_ids))).copy()
    if not buy_again:
        blocked |= inter.bought[users].toarray() > 0
    return blocked


def _top_per_row_pairs(
    rows: np.ndarray, cols: np.ndarray, values: np.ndarray, keep: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``keep`` highest-valued (row, col) entries of each row (positive values only)."""
    positive = values > 0
    rows, cols, values = rows[positive], cols[positive], values[positive]
    order = np.lexsort((-values, rows))
    rows, cols = rows[order], cols[order]
    within = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
    return rows[within < keep], cols[within < keep]


@dataclass(frozen=True)
class _ChunkScores:
    """Generator scores of a chunk of users, sparse where they are sparse."""

    users: np.ndarray
    knn: sparse.csr_matrix
    ease: np.ndarray
    shares: sparse.csr_matrix

    def knn_of(self, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
        return np.asarray(self.knn[rows, items]).ravel() if len(rows) else np.zeros(0)

    def ease_of(self, inter: Interactions, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
        position = inter.ease_position[items]
        return np.where(position >= 0, self.ease[rows, np.maximum(position, 0)], 0.0)

    def category_of(self, inter: Interactions, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
        category = inter.item_category[items]
        known = category >= 0
        result = np.zeros(len(items))
        if known.any() and len(inter.category_names):
            result[known] = np.asarray(self.shares[rows[known], category[known]]).ravel()
        return result * inter.popularity_in_category[items]


def _chunk_scores(inter: Interactions, users: np.ndarray) -> _ChunkScores:
    history = inter.weights[users]
    knn = (history @ inter.similarity).tocsr()
    ease_history = history[:, inter.ease_items].tocsr()
    ease_history.data = np.log1p(ease_history.data)
    ease = np.asarray(ease_history @ inter.ease)
    return _ChunkScores(users, knn, ease, inter.user_category[users].tocsr())


def generate_candidates(
    inter: Interactions,
    users: np.ndarray,
    *,
    per_source: int,
    buy_again: bool,
    category_model: Pipeline | None = None,
) -> Candidates:
    """Candidates for ``users`` (codes): the union of each generator's top ``per_source`` plus
    the items the user already touched, minus blocked items (bought, or not in the catalogue)."""
    parts: list[tuple[np.ndarray, ...]] = []
    popular = np.argsort(-inter.popularity, kind="stable")[:per_source]
    n_items = len(inter.item_ids)
    for chunk in _chunks(users):
        scores = _chunk_scores(inter, chunk)
        size = len(chunk)
        # Blocked items are dropped before each generator takes its top, not after.
        knn = scores.knn.tocoo()
        open_knn = inter.allowed[knn.col]
        if not buy_again and len(knn.row):
            open_knn &= np.asarray(inter.bought[chunk[knn.row], knn.col]).ravel() == 0
        pairs = [
            _top_per_row_pairs(knn.row[open_knn], knn.col[open_knn], knn.data[open_knn], per_source)
        ]
        take = min(per_source, scores.ease.shape[1])
        if take:
            ease = np.where(inter.allowed[inter.ease_items][None, :], scores.ease, -np.inf)
            if not buy_again:
                ease[inter.bought[chunk][:, inter.ease_items].toarray() > 0] = -np.inf
            top = np.argpartition(-ease, take - 1, axis=1)[:, :take]
            rows = np.repeat(np.arange(size), take)
            pairs.append(
                _top_per_row_pairs(
                    rows, inter.ease_items[top.ravel()], ease[rows, top.ravel()], take
                )
            )
        if len(inter.category_names):
            shares = scores.shares.tocoo()
            rows, categories = _top_per_row_pairs(shares.row, shares.col, shares.data, 3)
            lengths = np.array([len(inter.category_top[c]) for c in categories], dtype=int)
            if lengths.sum():
                items = np.concatenate([inter.category_top[c] for c in categories])
                pairs.append((np.repeat(rows, lengths), items[: int(lengths.sum())]))
        pairs.append((np.repeat(np.arange(size), len(popular)), np.tile(popular, size)))
        touched = inter.weights[chunk].tocoo()
        pairs.append((touched.row, touched.col))
        keys = np.unique(np.concatenate([r.astype(np.int64) * n_items + c for r, c in pairs]))
        rows, items = keys // n_items, keys % n_items
        blocked = ~inter.allowed[items]
        if not buy_again and len(rows):
            blocked |= np.asarray(inter.bought[chunk[rows], items]).ravel() > 0
        rows, items = rows[~blocked], items[~blocked]
        probability = (
            _category_probability(category_model, inter, chunk)
            if category_model is not None
            else None
        )
        features, knn_pair, category_pair = _pair_features(inter, scores, rows, items, probability)
        parts.append((chunk[rows], items, features, knn_pair, category_pair))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Candidates(empty, empty, np.zeros((0, len(PAIR_FEATURES))), np.zeros(0), np.zeros(0))
    return Candidates(*(np.concatenate([p[i] for p in parts]) for i in range(5)))


def _candidate_rank(rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Each pair's rank among its user's candidates by ``scores`` (0 = best), as 0..1."""
    order = np.lexsort((-scores, rows))
    ranks = np.empty(len(rows))
    starts = np.searchsorted(rows[order], rows[order], side="left")
    sizes = np.bincount(rows)[rows[order]]
    ranks[order] = (np.arange(len(rows)) - starts) / np.maximum(sizes, 1)
    return ranks


def _pair_features(
    inter: Interactions,
    scores: _ChunkScores,
    rows: np.ndarray,
    items: np.ndarray,
    category_probability: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    users = scores.users[rows]
    ease_pair = scores.ease_of(inter, rows, items)
    knn_pair = scores.knn_of(rows, items)
    category_pair = scores.category_of(inter, rows, items)
    knn_total = np.asarray(scores.knn.sum(axis=1)).ravel()[rows]
    category = inter.item_category[items]
    known = category >= 0
    share = np.zeros(len(items))
    if len(inter.category_names) and known.any():
        share[known] = np.asarray(scores.shares[rows[known], category[known]]).ravel()
    brand = inter.item_brand[items]
    brand_share = np.zeros(len(items))
    has_brand = brand >= 0
    if has_brand.any():
        brand_share[has_brand] = np.asarray(
            inter.user_brand[users[has_brand], brand[has_brand]]
        ).ravel()
    probability = np.zeros(len(items))
    if category_probability is not None and len(inter.category_names):
        probability[known] = category_probability[rows[known], category[known]]
    pair = (users, items)
    columns = [
        ease_pair,
        _candidate_rank(rows, ease_pair),
        np.log1p(knn_pair),
        np.divide(knn_pair, knn_total, out=np.zeros(len(items)), where=knn_total > 0),
        category_pair,
        _candidate_rank(rows, knn_pair),
        _candidate_rank(rows, category_pair),
        inter.popularity[items],
        inter.recent_popularity[items],
        np.log1p(np.asarray(inter.weights[pair]).ravel()),
        np.log1p(np.asarray(inter.views[pair]).ravel()),
        np.log1p(np.asarray(inter.carts[pair]).ravel()),
        share,
        brand_share,
        np.abs(np.log1p(inter.item_price[items]) - inter.user_log_price[users]),
        np.log1p(inter.item_price[items]),
        np.log1p(inter.item_days_since_sale[items]),
        np.log1p(inter.item_age_days[items]),
        np.log1p(inter.user_events[users]),
        np.log1p(inter.user_items[users]),
        np.log1p(inter.user_purchases[users]),
        np.log1p(inter.user_days_since_event[users]),
        probability,
    ]
    return np.column_stack(columns).astype(np.float32), knn_pair, category_pair


# --- relevance ---------------------------------------------------------------------------


def relevant_items(
    events: pd.DataFrame,
    inter: Interactions,
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    buy_again: bool,
) -> pd.DataFrame:
    """Distinct (user code, item code) pairs bought in ``[start, end)`` (any event when the data
    has no purchases); items bought before ``start`` are left out unless ``buy_again``.

    Only users with at least one event before ``start`` are kept.
    """
    window = events[(events[schema.TIMESTAMP] >= start) & (events[schema.TIMESTAMP] < end)]
    window = window[window[schema.ITEM_ID].notna().to_numpy()]
    if (events[schema.EVENT_TYPE] == schema.PURCHASE).any():
        window = window[(window[schema.EVENT_TYPE] == schema.PURCHASE).to_numpy()]
    pairs = pd.DataFrame(
        {"user": _codes(window[schema.USER_ID]), "item": _codes(window[schema.ITEM_ID])}
    ).drop_duplicates()
    known = inter.user_events[pairs["user"].to_numpy()] > 0
    pairs = pairs[known]
    if not buy_again and len(pairs):
        already = (
            np.asarray(inter.bought[pairs["user"].to_numpy(), pairs["item"].to_numpy()]).ravel() > 0
        )
        pairs = pairs[~already]
    return pairs.reset_index(drop=True)


# --- the model ---------------------------------------------------------------------------


@dataclass
class Recommender:
    """A fitted two-stage recommender: the interactions it knows and its ranker."""

    config: RecommenderConfig
    interactions: Interactions
    ranker: Pipeline | None
    category_model: Pipeline | None
    curves: pd.DataFrame
    fit_seconds: float
    train_pairs: int
    best_epoch: int = 0

    def category_probability(self, users: np.ndarray | None = None) -> np.ndarray | None:
        """P(next purchase in category c) per user, from the category model."""
        if self.category_model is None:
            return None
        return _category_probability(self.category_model, self.interactions, users)


def _user_matrix(inter: Interactions, users: np.ndarray | None = None) -> np.ndarray:
    rows = slice(None) if users is None else users
    base = np.column_stack(
        [
            np.log1p(inter.user_events[rows]),
            np.log1p(inter.user_items[rows]),
            np.log1p(inter.user_purchases[rows]),
            np.log1p(inter.user_days_since_event[rows]),
            inter.user_log_price[rows],
        ]
    )
    if len(inter.category_names):
        base = np.column_stack([base, inter.user_category[rows].toarray()])
    return base.astype(np.float32)


def _category_probability(
    model: Pipeline, inter: Interactions, users: np.ndarray | None
) -> np.ndarray:
    features = _user_matrix(inter, users)
    probability = np.zeros((features.shape[0], len(inter.category_names)))
    for start in range(0, features.shape[0], 20_000):
        block = model.predict_proba(features[start : start + 20_000])
        probability[start : start + 20_000][:, model.classes_] = block
    return probability


@dataclass(frozen=True)
class CategoryModelReport:
    """How well the category model predicts the category a user buys next."""

    accuracy: float
    top3_accuracy: float
    confusion: pd.DataFrame
    users: int


def fit_category_model(
    events: pd.DataFrame,
    inter: Interactions,
    start: pd.Timestamp,
    end: pd.Timestamp,
    config: NetworkConfig,
) -> Pipeline | None:
    """An MLPClassifier of the category a user buys most in ``[start, end)``, from what is known
    at ``start``; ``None`` without categories or with too few buyers."""
    if len(inter.category_names) < 2:
        return None
    labels = _next_categories(events, inter, start, end)
    if len(labels) < 20 or labels.nunique() < 2:
        return None
    trainer = NetworkTrainer("classification", config)
    trainer.fit(_user_matrix(inter, labels.index.to_numpy()), labels.to_numpy())
    return trainer.best_pipeline()


def _next_categories(
    events: pd.DataFrame, inter: Interactions, start: pd.Timestamp, end: pd.Timestamp
) -> pd.Series:
    pairs = relevant_items(events, inter, start, end, buy_again=True)
    category = inter.item_category[pairs["item"].to_numpy()]
    pairs = pairs.assign(category=category)[category >= 0]
    top = pairs.groupby(["user", "category"]).size().reset_index(name="n")
    top = top.sort_values(["user", "n", "category"], ascending=[True, False, True])
    first = top.drop_duplicates("user")
    return pd.Series(first["category"].to_numpy(), index=first["user"].to_numpy())


def evaluate_category_model(
    recommender: Recommender, events: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> CategoryModelReport | None:
    """Accuracy, top-3 accuracy and confusion matrix of the next-category model."""
    inter = recommender.interactions
    if recommender.category_model is None:
        return None
    labels = _next_categories(events, inter, start, end)
    if labels.empty:
        return None
    probability = recommender.category_probability(labels.index.to_numpy())
    assert probability is not None
    ranked = np.argsort(-probability, axis=1)
    actual = labels.to_numpy()
    predicted = ranked[:, 0]
    names = inter.category_names
    confusion = pd.crosstab(
        pd.Series(names[actual], name="actual"), pd.Series(names[predicted], name="predicted")
    )
    return CategoryModelReport(
        accuracy=float((predicted == actual).mean()),
        top3_accuracy=float((ranked[:, :3] == actual[:, None]).any(axis=1).mean()),
        confusion=confusion,
        users=len(actual),
    )


def fit_recommender(
    events: pd.DataFrame,
    products: pd.DataFrame | None,
    *,
    cutoff: pd.Timestamp,
    horizon_days: int,
    config: RecommenderConfig,
    on_epoch: Callable[[EpochReport], bool | None] | None = None,
) -> Recommender:
    """Fit the recommender for use at ``cutoff``.

    The ranker learns from ``config.train_windows`` windows of H days that end at ``cutoff``:
    for each, features come from the events before the window and the labels are the items
    bought in it. Then the interactions are rebuilt from everything before ``cutoff``.
    """
    started = time.perf_counter()
    horizon = pd.Timedelta(days=horizon_days)
    first = events[schema.TIMESTAMP].min()
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    category_model = None
    for window in range(1, config.train_windows + 1):
        start, end = cutoff - window * horizon, cutoff - (window - 1) * horizon
        if start <= first:
            break
        past = build_interactions(events, products, start, catalogue_only=config.catalogue_only)
        if window == 1:
            # Fixed settings: the next-category model should not suffer from a tiny ranker.
            category_model = fit_category_model(
                events,
                past,
                start,
                end,
                NetworkConfig(hidden_layers=(64, 32), random_state=config.network.random_state),
            )
        relevant = relevant_items(events, past, start, end, buy_again=config.buy_again)
        users = np.unique(relevant["user"].to_numpy())
        if not len(users):
            continue
        candidates = generate_candidates(
            past,
            users,
            per_source=config.candidates,
            buy_again=config.buy_again,
            category_model=category_model,
        )
        n_items = len(past.item_ids)
        labels = np.isin(
            candidates.users * n_items + candidates.items,
            relevant["user"].to_numpy() * n_items + relevant["item"].to_numpy(),
        )
        keep = _sample_negatives(
            candidates.users, labels, config.negatives, config.network.random_state + window
        )
        # Users are told apart per window, so one user's windows share a validation side.
        blocks.append((candidates.features[keep], labels[keep], candidates.users[keep]))
    ranker, curves, pairs, best_epoch = None, pd.DataFrame(), 0, 0
    if blocks:
        features = pd.DataFrame(np.concatenate([b[0] for b in blocks]), columns=list(PAIR_FEATURES))
        labels = np.concatenate([b[1] for b in blocks])
        groups = np.concatenate([b[2] for b in blocks])
        if len(labels) > config.max_train_pairs:  # a sample of users keeps training time bounded
            keep_users = np.random.default_rng(config.network.random_state).permutation(
                np.unique(groups)
            )[: max(1, int(len(np.unique(groups)) * config.max_train_pairs / len(labels)))]
            keep = np.isin(groups, keep_users)
            features, labels, groups = features[keep], labels[keep], groups[keep]
        pairs = len(labels)
        if labels.any() and not labels.all():
            trainer = NetworkTrainer("classification", config.network)
            trainer.fit(features, labels.astype(int), groups=groups, on_epoch=on_epoch)
            ranker, curves = trainer.best_pipeline(), trainer.curves_
            best_epoch = trainer.best_epoch_
    now = build_interactions(events, products, cutoff, catalogue_only=config.catalogue_only)
    seconds = time.perf_counter() - started
    return Recommender(config, now, ranker, category_model, curves, seconds, pairs, best_epoch)


def _sample_negatives(
    users: np.ndarray, labels: np.ndarray, per_user: int, seed: int
) -> np.ndarray:
    """All positive pairs plus up to ``per_user`` random negatives of each user."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(users))
    frame = pd.DataFrame({"user": users[order], "label": labels[order], "row": order})
    negatives = frame[~frame["label"]]
    kept = negatives.groupby("user").head(per_user)["row"].to_numpy()
    keep = labels.copy()
    keep[kept] = True
    return keep


# --- recommending ------------------------------------------------------------------------

Scorer = Callable[[Candidates], np.ndarray]


def _ranker_scores(recommender: Recommender) -> Scorer:
    def score(candidates: Candidates) -> np.ndarray:
        if recommender.ranker is None:  # no training window: generators, then popularity
            popularity = candidates.features[:, PAIR_FEATURES.index("popularity")]
            return candidates.knn + candidates.category_popularity + 1e-6 * popularity
        features = pd.DataFrame(candidates.features, columns=list(PAIR_FEATURES))
        return recommender.ranker.predict_proba(features)[:, 1]

    return score


def _top_k(
    users: np.ndarray, items: np.ndarray, scores: np.ndarray, k: int, inter: Interactions
) -> pd.DataFrame:
    frame = pd.DataFrame({"user": users, "item": items, SCORE: scores})
    frame = frame.sort_values(["user", SCORE, "item"], ascending=[True, False, True], kind="stable")
    frame = frame.groupby("user", sort=False).head(k)
    frame[RANK] = frame.groupby("user", sort=False).cumcount() + 1
    return pd.DataFrame(
        {
            schema.USER_ID: inter.user_ids[frame["user"].to_numpy()],
            schema.ITEM_ID: inter.item_ids[frame["item"].to_numpy()],
            SCORE: frame[SCORE].to_numpy(),
            RANK: frame[RANK].to_numpy(),
            "user": frame["user"].to_numpy(),
            "item": frame["item"].to_numpy(),
        }
    )


def recommend_users(
    recommender: Recommender,
    users: np.ndarray,
    *,
    k: int,
    scorer: Scorer | None = None,
) -> pd.DataFrame:
    """Top-k for each user code in ``users`` (long frame: user_id, item_id, score, rank).

    Chunks of users run on two threads: the sparse products, sorts and the ranker's matrix
    products release the GIL.
    """
    inter = recommender.interactions
    scorer = scorer or _ranker_scores(recommender)

    def top_of(chunk: np.ndarray) -> pd.DataFrame:
        candidates = generate_candidates(
            inter,
            chunk,
            per_source=recommender.config.candidates,
            buy_again=recommender.config.buy_again,
            category_model=recommender.category_model,
        )
        return _top_k(candidates.users, candidates.items, scorer(candidates), k, inter)

    chunks = list(_chunks(np.asarray(users)))
    if len(chunks) > 1:
        with ThreadPoolExecutor(max_workers=2) as pool:
            parts = list(pool.map(top_of, chunks))
    else:
        parts = [top_of(chunk) for chunk in chunks]
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else _top_k(np.zeros(0, int), np.zeros(0, int), np.zeros(0), k, inter)
    )


# --- baselines ---------------------------------------------------------------------------


def baseline_recommendations(
    recommender: Recommender, users: np.ndarray, *, k: int, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """Most popular, popular in the user's categories, item-kNN and random, for ``users``.

    Each baseline fills its list with the most popular items when it has fewer than k.
    """
    inter = recommender.interactions
    popular = np.argsort(-inter.popularity, kind="stable")
    rng = np.random.default_rng(seed)
    results: dict[str, list[pd.DataFrame]] = {
        name: [] for name in ("popularity", "category_popularity", "item_knn", "random")
    }
    fallback = np.zeros(len(inter.item_ids))
    fallback[popular] = np.linspace(1e-6, 0, len(popular), endpoint=False)
    for chunk in _chunks(np.asarray(users)):
        knn, category_popularity = _dense_scores(inter, chunk)
        blocked = _blocked(inter, chunk, recommender.config.buy_again)
        random_scores = rng.random(blocked.shape)
        for name, scores in (
            ("popularity", np.broadcast_to(inter.popularity, blocked.shape)),
            ("category_popularity", category_popularity + fallback),
            ("item_knn", knn + fallback),
            ("random", random_scores),
        ):
            ranked = np.where(blocked, -np.inf, scores)
            take = min(k, ranked.shape[1])
            top = np.argpartition(-ranked, take - 1, axis=1)[:, :take]
            rows = np.repeat(np.arange(len(chunk)), take)
            values = ranked[rows, top.ravel()]
            ok = np.isfinite(values)
            results[name].append(_top_k(chunk[rows][ok], top.ravel()[ok], values[ok], k, inter))
    return {name: pd.concat(parts, ignore_index=True) for name, parts in results.items()}


def user_code(recommender: Recommender, user_id: str) -> int:
    """The position of ``user_id``; raises UnknownUserError with a one-line message."""
    position = recommender.interactions.user_ids.get_indexer([str(user_id)])[0]
    if position < 0:
        raise UnknownUserError(f"User '{user_id}' is not in this data; pick a user from the list.")
    return int(position)


# --- reasons -----------------------------------------------------------------------------


def _day(seconds: float) -> str:
    """A date from unix seconds, e.g. '3 May 2026'."""
    when = pd.Timestamp(int(seconds), unit="s")
    return f"{when.day} {when:%b %Y}"


def explain(recommender: Recommender, recommendations: pd.DataFrame) -> pd.Series:
    """A plain reason for each recommendation, from the user's own events before the cutoff.

    In order: the user already viewed or carted the item; it is a close neighbour of an item
    the user bought or viewed (named, with the date); it is popular in one of the user's
    categories; it is popular across the shop.
    """
    inter = recommender.interactions
    users = recommendations["user"].to_numpy()
    items = recommendations["item"].to_numpy()
    if not len(users):
        return pd.Series([], dtype="str", index=recommendations.index)
    pair = (users, items)
    views = np.asarray(inter.views[pair]).ravel()
    carts = np.asarray(inter.carts[pair]).ravel()
    last_view = np.asarray(inter.last_view[pair]).ravel()
    last_cart = np.asarray(inter.last_cart[pair]).ravel()
    history = inter.weights[users].tocsr()
    history.data[:] = 1.0
    closeness = history.multiply(inter.similarity_to[items]).tocsr()
    anchor = np.asarray(closeness.argmax(axis=1)).ravel()
    anchor_score = np.asarray(closeness.max(axis=1).todense()).ravel()
    anchor_bought = np.asarray(inter.bought[users, anchor]).ravel() > 0
    anchor_touch = np.where(
        anchor_bought,
        np.asarray(inter.last_purchase[users, anchor]).ravel(),
        np.asarray(inter.last_touch[users, anchor]).ravel(),
    )
    category = inter.item_category[items]
    shares = inter.user_category[users].toarray() if len(inter.category_names) else None
    reasons = []
    for row in range(len(users)):
        if carts[row] > 0 or views[row] > 0:
            if carts[row] > 0:
                what, when = f"you added it to your cart {int(carts[row])}×", last_cart[row]
            else:
                what, when = f"you viewed it {int(views[row])}×", last_view[row]
            reasons.append(f"{what}, last on {_day(when)}")
        elif anchor_score[row] > 0 and anchor_touch[row] > 0:
            verb = "bought" if anchor_bought[row] else "looked at"
            name = str(inter.item_names[anchor[row]])[:60]
            reasons.append(
                f"often chosen together with {name}, which you {verb} on {_day(anchor_touch[row])}"
            )
        elif shares is not None and category[row] >= 0 and shares[row, category[row]] > 0:
            top = int(shares[row].argmax()) == category[row]
            label = "your top category" if top else "one of your categories"
            reasons.append(f"popular in {inter.category_names[category[row]]}, {label}")
        else:
            reasons.append("popular across the shop right now")
    return pd.Series(reasons, index=recommendations.index, dtype="str")


# --- evaluation and deployment -----------------------------------------------------------

MLP_RANKER: Final = "mlp"
BASELINES: Final = ("popularity", "category_popularity", "item_knn", "random")
MODEL_LABELS: Final = {
    MLP_RANKER: "Two-stage MLP ranker",
    "popularity": "Most popular",
    "category_popularity": "Popular in the user's categories",
    "item_knn": "Item-kNN",
    "random": "Random",
}


@dataclass(frozen=True)
class RecommendationEvaluation:
    """Scores of the two-stage model and every baseline on [t, t + H).

    Attributes:
        scores: one row per model; precision, recall, f1, map, ndcg, hit_rate (at ``k``),
            coverage, novelty (bits) and diversity.
        by_k: metric-vs-k curves: rows (model, k), the ranking metrics as columns.
        recommendations: every model's top-max(ks) lists for the evaluated users.
        relevant: the (user_id, item_id) pairs bought in the test window.
        users: evaluated users.
        category_report: the next-category model's accuracy, where categories exist.
        fit_seconds: time to fit the recommender.
        score_seconds: time to rank the evaluated users with the two-stage model.
    """

    cutoff: pd.Timestamp
    horizon_days: int
    k: int
    scores: pd.DataFrame
    by_k: pd.DataFrame
    recommendations: dict[str, pd.DataFrame]
    relevant: pd.DataFrame
    users: int
    category_report: CategoryModelReport | None
    fit_seconds: float
    score_seconds: float


def evaluate_recommender(
    events: pd.DataFrame,
    products: pd.DataFrame | None,
    *,
    cutoff: pd.Timestamp,
    horizon_days: int,
    k: int,
    config: RecommenderConfig,
    ks: tuple[int, ...] = (1, 5, 10, 20),
    on_epoch: Callable[[EpochReport], bool | None] | None = None,
) -> tuple[Recommender, RecommendationEvaluation]:
    """Fit at ``cutoff`` on earlier events only, then score every model on [t, t + H)."""
    _check_test_window(events, cutoff, horizon_days)
    recommender = fit_recommender(
        events, products, cutoff=cutoff, horizon_days=horizon_days, config=config, on_epoch=on_epoch
    )
    return recommender, score_recommender(
        recommender, events, cutoff=cutoff, horizon_days=horizon_days, k=k, ks=ks
    )


def _check_test_window(events: pd.DataFrame, cutoff: pd.Timestamp, horizon_days: int) -> None:
    end = cutoff + pd.Timedelta(days=horizon_days)
    if end > events[schema.TIMESTAMP].max().normalize() + pd.Timedelta(days=1):
        raise ShopLensError(
            f"Cutoff {cutoff:%Y-%m-%d} leaves less than {horizon_days} days of data after it; "
            "pick an earlier cutoff or a shorter horizon."
        )


def score_recommender(
    recommender: Recommender,
    events: pd.DataFrame,
    *,
    cutoff: pd.Timestamp,
    horizon_days: int,
    k: int,
    ks: tuple[int, ...] = (1, 5, 10, 20),
) -> RecommendationEvaluation:
    """Score a recommender fitted at ``cutoff`` and every baseline on [t, t + H)."""
    _check_test_window(events, cutoff, horizon_days)
    config = recommender.config
    end = cutoff + pd.Timedelta(days=horizon_days)
    inter = recommender.interactions
    pairs = relevant_items(events, inter, cutoff, end, buy_again=config.buy_again)
    users = np.unique(pairs["user"].to_numpy())
    relevant = pd.DataFrame(
        {
            schema.USER_ID: inter.user_ids[pairs["user"].to_numpy()],
            schema.ITEM_ID: inter.item_ids[pairs["item"].to_numpy()],
        }
    )
    depth = max(max(ks), k)
    started = time.perf_counter()
    lists = {MLP_RANKER: recommend_users(recommender, users, k=depth)}
    score_seconds = time.perf_counter() - started
    lists.update(
        baseline_recommendations(recommender, users, k=depth, seed=config.network.random_state)
    )
    seen = np.asarray((inter.weights > 0).sum(axis=0)).ravel()
    item_counts = pd.Series(seen, index=inter.item_ids)
    history_users = int((inter.user_events > 0).sum())
    categories = pd.Series(
        np.where(
            inter.item_category >= 0,
            inter.category_names.take(np.maximum(inter.item_category, 0)),
            None,
        )
        if len(inter.category_names)
        else None,
        index=inter.item_ids,
        dtype="object",
    )
    rows, curves = {}, []
    for name, frame in lists.items():
        rows[name] = {
            **metrics.ranking_scores(frame, relevant, k=k),
            "coverage": metrics.catalog_coverage(frame, k=k, n_items=int((seen > 0).sum())),
            "novelty": metrics.novelty(frame, k=k, item_counts=item_counts, total=history_users),
            "diversity": metrics.intra_list_diversity(frame, k=k, item_category=categories),
        }
        curve = metrics.ranking_scores_by_k(frame, relevant, ks=ks).reset_index()
        curves.append(curve.assign(model=name))
    evaluation = RecommendationEvaluation(
        cutoff=cutoff,
        horizon_days=horizon_days,
        k=k,
        scores=pd.DataFrame.from_dict(rows, orient="index").rename_axis("model"),
        by_k=pd.concat(curves, ignore_index=True),
        recommendations=lists,
        relevant=relevant,
        users=len(users),
        category_report=evaluate_category_model(recommender, events, cutoff, end),
        fit_seconds=recommender.fit_seconds,
        score_seconds=score_seconds,
    )
    return evaluation


def recommend_everyone(recommender: Recommender, *, k: int) -> pd.DataFrame:
    """Top-k with reasons for every user with history (user_id, rank, item_id, score, reason)."""
    inter = recommender.interactions
    users = np.flatnonzero(inter.user_events > 0)
    lists = recommend_users(recommender, users, k=k)
    lists[REASON] = explain(recommender, lists)
    return lists[[schema.USER_ID, RANK, schema.ITEM_ID, SCORE, REASON]]


def recommend_for_user(recommender: Recommender, user_id: str, *, k: int) -> pd.DataFrame:
    """One user's top-k with score, category, price and a reason (fast: one user's scores)."""
    code = user_code(recommender, user_id)
    lists = recommend_users(recommender, np.array([code]), k=k)
    return _describe(recommender, lists.assign(**{REASON: explain(recommender, lists)}))


def recommend_for_items(recommender: Recommender, item_ids: list[str], *, k: int) -> pd.DataFrame:
    """Cold start without retraining: neighbours of the items a new visitor clicked."""
    inter = recommender.interactions
    positions = inter.item_ids.get_indexer([str(i) for i in item_ids])
    positions = positions[positions >= 0]
    if not len(positions):
        scores = inter.popularity.copy()
    else:
        scores = np.asarray(inter.similarity[positions].sum(axis=0)).ravel()
        scores = scores + 1e-6 * inter.popularity / max(inter.popularity.max(), 1e-9)
    scores[positions] = -np.inf
    scores[~inter.allowed] = -np.inf
    order = np.argsort(-scores, kind="stable")[:k]
    order = order[np.isfinite(scores[order])]
    names = [str(inter.item_names[p])[:60] for p in positions]
    clicked = ", ".join(names[:3]) if names else ""
    frame = pd.DataFrame(
        {
            "user": -1,
            "item": order,
            SCORE: scores[order],
            RANK: np.arange(1, len(order) + 1),
            schema.ITEM_ID: inter.item_ids[order],
        }
    )
    frame[REASON] = (
        f"close to what you clicked ({clicked})"
        if len(positions)
        else "popular across the shop right now"
    )
    return _describe(recommender, frame)


def popular_in_segment(recommender: Recommender, category: str | None, *, k: int) -> pd.DataFrame:
    """Cold start for a user with no history: the most popular items (in a category)."""
    inter = recommender.interactions
    scores = inter.popularity.astype(float).copy()
    if category is not None and category in set(inter.category_names):
        code = int(inter.category_names.get_loc(category))
        scores[inter.item_category != code] = -np.inf
    scores[~inter.allowed] = -np.inf
    order = np.argsort(-scores, kind="stable")[:k]
    order = order[np.isfinite(scores[order])]
    known = category is not None and category in set(inter.category_names)
    label = f"popular in {category}" if known else "popular across the shop right now"
    frame = pd.DataFrame(
        {
            "user": -1,
            "item": order,
            SCORE: scores[order],
            RANK: np.arange(1, len(order) + 1),
            schema.ITEM_ID: inter.item_ids[order],
            REASON: label,
        }
    )
    return _describe(recommender, frame)


def _describe(recommender: Recommender, frame: pd.DataFrame) -> pd.DataFrame:
    inter = recommender.interactions
    items = frame["item"].to_numpy()
    category = inter.item_category[items]
    return pd.DataFrame(
        {
            RANK: frame[RANK].to_numpy(),
            schema.ITEM_ID: inter.item_ids[items],
            schema.NAME: inter.item_names[items],
            schema.CATEGORY: [inter.category_names[c] if c >= 0 else None for c in category],
            schema.PRICE: inter.item_price[items],
            SCORE: frame[SCORE].to_numpy(),
            REASON: frame[REASON].to_numpy(),
        }
    )


HISTORY_COLUMNS: Final = (
    schema.TIMESTAMP,
    schema.EVENT_TYPE,
    schema.ITEM_ID,
    schema.NAME,
    schema.CATEGORY,
    schema.PRICE,
)


def user_history(
    events: pd.DataFrame,
    products: pd.DataFrame | None,
    user_id: str,
    *,
    before: pd.Timestamp | None = None,
    limit: int = 200,
) -> pd.DataFrame:
    """One user's events, newest first, with each product's name, category and price.

    Name and category come from the product table where it knows the item, else from the event
    itself; the price is the event's own price where it has one (what the user saw), else the
    product table's.

    Args:
        events: the canonical events frame.
        products: the product table, or ``None``.
        user_id: the user to show.
        before: only events strictly before this time (e.g. the evaluation cutoff).
        limit: the most events returned (the newest ones), at least 0.

    Returns:
        Columns ``HISTORY_COLUMNS`` (missing values where the data has no such field); empty
        when the user has no events before ``before``.

    Raises:
        UnknownUserError: ``user_id`` has no events at all.
    """
    mine = events[(events[schema.USER_ID] == str(user_id)).to_numpy()]
    if mine.empty:
        raise UnknownUserError(f"User '{user_id}' is not in this data; pick a user from the list.")
    if before is not None:
        mine = mine[(mine[schema.TIMESTAMP] < before).to_numpy()]
    mine = mine.sort_values(schema.TIMESTAMP, ascending=False, kind="stable").head(max(limit, 0))
    history = pd.DataFrame(index=range(len(mine)))
    for column in HISTORY_COLUMNS:
        values = mine[column] if column in mine.columns else pd.Series(pd.NA, index=mine.index)
        history[column] = values.astype("object").to_numpy()
    history[schema.TIMESTAMP] = mine[schema.TIMESTAMP].to_numpy()
    if products is not None and schema.ITEM_ID in products.columns and len(history):
        table = products.drop_duplicates(schema.ITEM_ID)
        table = table.set_index(table[schema.ITEM_ID].astype("str"))
        items = history[schema.ITEM_ID].astype("str")
        for column in (schema.NAME, schema.CATEGORY):
            if column in table.columns:
                known = items.map(table[column].astype("object"))
                history[column] = known.where(known.notna(), history[column])
        if schema.PRICE in table.columns:
            listed = items.map(table[schema.PRICE].astype("object"))
            history[schema.PRICE] = history[schema.PRICE].where(
                history[schema.PRICE].notna(), listed
            )
    history[schema.PRICE] = pd.to_numeric(history[schema.PRICE], errors="coerce")
    for column in (schema.EVENT_TYPE, schema.ITEM_ID, schema.NAME, schema.CATEGORY):
        history[column] = history[column].astype("str").where(history[column].notna(), None)
    return history


# --- runs -----------------------------------------------------------------------------------


def recommender_config_dict(config: RecommenderConfig) -> dict[str, object]:
    """The recommender's settings as JSON-ready values (for a run's manifest)."""
    values = {f.name: getattr(config, f.name) for f in fields(RecommenderConfig)}
    values["network"] = network_config_dict(config.network)
    return values


def recommender_config_from(values: dict) -> RecommenderConfig:
    """The inverse of :func:`recommender_config_dict`."""
    known = {f.name for f in fields(RecommenderConfig)} - {"network"}
    settings = {k: v for k, v in values.items() if k in known}
    return RecommenderConfig(network=network_config_from(values["network"]), **settings)


def recommender_run_record(
    recommender: Recommender,
    evaluation: RecommendationEvaluation | None,
    *,
    cutoff: pd.Timestamp,
    horizon_days: int,
    k: int,
    stopped: bool,
) -> RunRecord:
    """One training as a run: the ranker, the next-category model and every score."""
    estimators = {"ranker": recommender.ranker, "category": recommender.category_model}
    details: dict[str, object] = {
        "pair_features": list(PAIR_FEATURES),
        "train_pairs": recommender.train_pairs,
        "fit_seconds": recommender.fit_seconds,
        "epochs": len(recommender.curves),
        "best_epoch": recommender.best_epoch,
        "stopped": stopped,
    }
    if evaluation is not None:
        details["users_evaluated"] = evaluation.users
        details["score_seconds"] = evaluation.score_seconds
        details["by_k"] = frame_to_columns(evaluation.by_k)
        report = evaluation.category_report
        if report is not None:
            details["category_accuracy"] = report.accuracy
            details["category_top3_accuracy"] = report.top3_accuracy
    return RunRecord(
        task="recommend",
        estimators={name: model for name, model in estimators.items() if model is not None},
        config={
            "network": network_config_dict(recommender.config.network),
            "recommender": recommender_config_dict(recommender.config),
            "evaluate": evaluation is not None,
            "cutoff": f"{cutoff:%Y-%m-%d}",
            "horizon_days": horizon_days,
            "k": k,
        },
        metrics=scores_to_metrics(evaluation.scores) if evaluation is not None else {},
        curves={"ranker": frame_to_columns(recommender.curves)},
        details=details,
        train_seconds=recommender.fit_seconds,
    )


def recommender_from_run(
    loaded: LoadedRun, events: pd.DataFrame, products: pd.DataFrame | None
) -> Recommender:
    """A saved recommender made usable again on the data it was trained on: its networks as
    saved, the interactions rebuilt from the events before its cutoff.

    Raises:
        RunIntegrityError: when the run is not a recommender run or lacks a part.
    """
    if loaded.task != "recommend":
        raise RunIntegrityError(f"Run {loaded.run_id} is not a recommendations run.")
    manifest = loaded.manifest
    try:
        config = recommender_config_from(manifest["config"]["recommender"])
        cutoff = pd.Timestamp(manifest["config"]["cutoff"])
        details = manifest["details"]
        curves = columns_to_frame(manifest["curves"]["ranker"])
        train_pairs = int(details["train_pairs"])
    except (KeyError, TypeError, ValueError) as err:
        raise RunIntegrityError(
            f"Run {loaded.run_id} lacks part of a recommender ({err}); retrain it."
        ) from None
    ranker = loaded.estimators.get("ranker")
    inputs = getattr(ranker, "n_features_in_", len(PAIR_FEATURES))
    if details.get("pair_features") != list(PAIR_FEATURES) or inputs != len(PAIR_FEATURES):
        raise RunIntegrityError(
            f"Run {loaded.run_id} was trained on other ranker inputs ({inputs} features, this "
            f"version uses {len(PAIR_FEATURES)}); train it again."
        )
    interactions = build_interactions(
        events, products, cutoff, catalogue_only=config.catalogue_only
    )
    return Recommender(
        config,
        interactions,
        ranker,
        loaded.estimators.get("category"),
        curves,
        float(manifest.get("train_seconds") or 0.0),
        train_pairs,
        int(details.get("best_epoch", 0)),
    )
