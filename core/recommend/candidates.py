"""Stage one of the recommender: candidate items per user from item-to-item neighbours,
popularity within the user's categories and overall popularity (and, when the shop has photos,
new items that look like what the user bought), with the (user, item) pair features the ranker
scores; and the items a user really bought in a window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final, TypeVar

import numpy as np
from scipy import sparse
from sklearn.pipeline import Pipeline

from core.ml.arrays import distinct
from core.recommend.categories import _category_probability
from core.recommend.interactions import (
    CHUNK_USERS,
    Interactions,
    lookup,
    pair_keys,
    top_per_row,
)
from core.recommend.photos import (
    PHOTO_FEATURES,
    ItemPhotos,
    cold_items,
    cold_start_pairs,
    photo_pair_features,
    user_looks,
)

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


def ranker_inputs(photos: ItemPhotos | None) -> tuple[str, ...]:
    """The ranker's inputs: the pair features, and the photo features when items have photos."""
    return PAIR_FEATURES + (PHOTO_FEATURES if photos is not None else ())


# --- candidates and pair features ------------------------------------------------------


@dataclass(frozen=True)
class Candidates:
    """Candidate (user, item) pairs with their generator scores and the ranker's inputs."""

    users: np.ndarray
    items: np.ndarray
    features: np.ndarray
    knn: np.ndarray
    category_popularity: np.ndarray


_Part = TypeVar("_Part")


def _chunks(users: np.ndarray) -> Iterator[np.ndarray]:
    for start in range(0, len(users), CHUNK_USERS):
        yield users[start : start + CHUNK_USERS]


def map_user_chunks(work: Callable[[np.ndarray], _Part], users: np.ndarray) -> list[_Part]:
    """``work`` on each chunk of ``CHUNK_USERS`` of ``users``, results in order; more than one
    chunk runs on two threads (the sparse products, sorts and partitions release the GIL)."""
    chunks = list(_chunks(users))
    if len(chunks) <= 1:
        return [work(chunk) for chunk in chunks]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(work, chunks))


@dataclass(frozen=True)
class _ChunkScores:
    """Generator scores of a chunk of users, sparse where they are sparse."""

    users: np.ndarray
    knn: sparse.csr_matrix
    ease: np.ndarray
    shares: sparse.csr_matrix

    def knn_of(self, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
        return lookup(self.knn, pair_keys(self.knn), rows, items)

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
    knn.sort_indices()
    # in the model's single precision: a double history would copy the model to double on
    # every product (3 to 15 times slower for 500 users)
    ease_history = sparse.csr_matrix(history[:, inter.ease_items], dtype=inter.ease.dtype)
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
    photos: ItemPhotos | None = None,
) -> Candidates:
    """Candidates for ``users`` (codes): the union of each generator's top ``per_source`` plus
    the items the user already touched, minus blocked items (bought, or not in the catalogue).

    With ``photos``, the items with a photo that few users bought yet are proposed to the users
    whose bought items look most like them, and the photo features follow the pair features.
    """
    popular = inter.by_popularity[:per_source]
    n_items = len(inter.item_ids)
    cold = cold_items(photos, inter.bought, inter.allowed) if photos is not None else None

    def of_chunk(chunk: np.ndarray) -> tuple[np.ndarray, ...]:
        scores = _chunk_scores(inter, chunk)
        size = len(chunk)
        # Blocked items are dropped before each generator takes its top, not after.
        knn = sparse.csr_matrix(scores.knn, copy=True)
        knn.data[~inter.allowed[knn.indices]] = 0.0
        if not buy_again:  # an elementwise product finds the bought entries, not look-ups
            knn = knn - knn.multiply(inter.bought[chunk] > 0)
        top_knn = sparse.coo_matrix(top_per_row(knn, per_source))
        pairs = [(top_knn.row, top_knn.col)]
        take = min(per_source, scores.ease.shape[1])
        if take:
            ease = np.where(inter.allowed[inter.ease_items][None, :], scores.ease, -np.inf)
            if not buy_again:
                ease[inter.bought[chunk][:, inter.ease_items].toarray() > 0] = -np.inf
            top = np.argpartition(-ease, take - 1, axis=1)[:, :take]
            rows = np.repeat(np.arange(size), take)
            positive = ease[rows, top.ravel()] > 0
            pairs.append((rows[positive], inter.ease_items[top.ravel()][positive]))
        if len(inter.category_names):
            shares = sparse.coo_matrix(top_per_row(scores.shares, 3))
            rows, categories = shares.row, shares.col
            lengths = np.array([len(inter.category_top[c]) for c in categories], dtype=int)
            if lengths.sum():
                items = np.concatenate([inter.category_top[c] for c in categories])
                pairs.append((np.repeat(rows, lengths), items[: int(lengths.sum())]))
        pairs.append((np.repeat(np.arange(size), len(popular)), np.tile(popular, size)))
        touched = inter.weights[chunk].tocoo()
        pairs.append((touched.row, touched.col))
        looks = None
        if photos is not None and cold is not None:
            looks = user_looks(photos, inter.bought[chunk])
            owned = inter.bought[chunk] if not buy_again else sparse.csr_matrix((size, n_items))
            pairs.append(cold_start_pairs(photos, looks, cold, owned.tocsr(), keep=per_source))
        keys = distinct(np.concatenate([r.astype(np.int64) * n_items + c for r, c in pairs]))
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
        if photos is not None and looks is not None:
            features = np.hstack([features, photo_pair_features(photos, looks, rows, items)])
        return chunk[rows], items, features, knn_pair, category_pair

    parts = map_user_chunks(of_chunk, users)
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        width = len(ranker_inputs(photos))
        return Candidates(empty, empty, np.zeros((0, width)), np.zeros(0), np.zeros(0))
    return Candidates(*(np.concatenate([p[i] for p in parts]) for i in range(5)))


def _candidate_rank(rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Each pair's rank among its user's candidates by ``scores`` (0 = best), as 0..1."""
    order = np.lexsort((-scores, rows))
    ranks = np.empty(len(rows))
    starts = np.searchsorted(rows[order], rows[order], side="left")
    sizes = np.bincount(rows)[rows[order]]
    ranks[order] = (np.arange(len(rows)) - starts) / np.maximum(sizes, 1)
    return ranks


def _pair_values(matrix: sparse.csr_matrix, pair: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The matrix's entries at (users, items), one per pair (scipy returns one value for no
    pairs at all, so that case is answered here)."""
    if not len(pair[0]):
        return np.zeros(0)
    return np.asarray(matrix[pair]).ravel()


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
        np.log1p(_pair_values(inter.weights, pair)),
        np.log1p(_pair_values(inter.views, pair)),
        np.log1p(_pair_values(inter.carts, pair)),
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
