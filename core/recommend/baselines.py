"""The recommender's baselines: most popular, popular in the user's categories, item-kNN and
random.

Each is scored on a few candidates per user that are sure to hold its top k (the most popular
items, the user's kNN neighbours, the most popular items of each of the user's categories),
never on a dense users x items matrix, so a catalogue of millions costs no more than a small
one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from core.ml.arrays import distinct
from core.recommend.candidates import _chunks
from core.recommend.interactions import Interactions, top_per_row
from core.recommend.model import Recommender, _top_k

BASELINE_NAMES = ("popularity", "category_popularity", "item_knn", "random")


@dataclass(frozen=True)
class _Catalogue:
    """The recommendable items, most popular first, and per category in the same order."""

    popular: np.ndarray  # allowed items by popularity, most popular first
    fallback: np.ndarray  # per item: a tiny score that orders the popular ones, 0 elsewhere
    by_category: np.ndarray  # allowed items with a category, by category then popularity
    category_start: np.ndarray  # where each category's items start in ``by_category``


def _catalogue(inter: Interactions) -> _Catalogue:
    order = inter.by_popularity
    popular = order[inter.allowed[order]]
    fallback = np.zeros(len(inter.item_ids))
    fallback[popular] = np.linspace(1e-6, 0, len(popular), endpoint=False)
    with_category = popular[inter.item_category[popular] >= 0]
    categories = inter.item_category[with_category]
    by_category = with_category[np.argsort(categories, kind="stable")]
    starts = np.searchsorted(
        np.sort(categories), np.arange(len(inter.category_names) + 1), side="left"
    )
    return _Catalogue(popular, fallback, by_category, starts)


def baseline_recommendations(
    recommender: Recommender, users: np.ndarray, *, k: int, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """Most popular, popular in the user's categories, item-kNN and random, for ``users``.

    Each baseline fills its list with the most popular items when it has fewer than k; none
    proposes an item the user bought (unless buying again is allowed) or one that may not be
    recommended.
    """
    inter = recommender.interactions
    catalogue = _catalogue(inter)
    rng = np.random.default_rng(seed)
    buy_again = recommender.config.buy_again
    results: dict[str, list[pd.DataFrame]] = {name: [] for name in BASELINE_NAMES}
    n_items = len(inter.item_ids)
    for chunk in _chunks(np.asarray(users)):
        size = len(chunk)
        owned = (
            sparse.csr_matrix(inter.bought[chunk] > 0, dtype=np.float64)
            if not buy_again
            else sparse.csr_matrix((size, n_items))
        )
        # The most popular k + (the most any of these users bought) always hold k unbought.
        depth = k + int(np.diff(owned.indptr).max(initial=0))
        head = catalogue.popular[:depth]
        head_pairs = (np.repeat(np.arange(size), len(head)), np.tile(head, size))

        knn = sparse.csr_matrix(inter.weights[chunk] @ inter.similarity)
        knn.data[~inter.allowed[knn.indices]] = 0.0
        knn = sparse.coo_matrix(top_per_row(knn - knn.multiply(owned), k))
        knn_pairs = _union(head_pairs, (knn.row, knn.col), n_items)
        knn_score = _values(knn, *knn_pairs) + catalogue.fallback[knn_pairs[1]]

        shares = sparse.coo_matrix(inter.user_category[chunk])
        category_pairs = _union(head_pairs, _category_heads(catalogue, shares, depth), n_items)
        category_score = _category_scores(inter, shares, *category_pairs)
        category_score += catalogue.fallback[category_pairs[1]]

        random_pairs = _random_pairs(catalogue.popular, size, depth, rng, n_items)
        scored = {
            "popularity": (head_pairs, inter.popularity[head_pairs[1]]),
            "category_popularity": (category_pairs, category_score),
            "item_knn": (knn_pairs, knn_score),
            "random": (random_pairs, rng.random(len(random_pairs[0]))),
        }
        for name, ((rows, items), scores) in scored.items():
            open_ = _values(sparse.coo_matrix(owned), rows, items) == 0
            rows, items, scores = rows[open_], items[open_], scores[open_]
            results[name].append(_top_k(chunk[rows], items, scores, k, inter))
    empty = _top_k(np.zeros(0, int), np.zeros(0, int), np.zeros(0), k, inter)
    return {
        name: pd.concat(parts, ignore_index=True) if parts else empty
        for name, parts in results.items()
    }


Pairs = tuple[np.ndarray, np.ndarray]


def _union(left: Pairs, right: Pairs, n_items: int) -> Pairs:
    """The distinct (row, item) pairs of both, sorted by row then item."""
    keys = distinct(
        np.concatenate([rows.astype(np.int64) * n_items + items for rows, items in (left, right)])
    )
    return keys // n_items, keys % n_items


def _values(matrix: sparse.coo_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The matrix's entries at (rows, cols), 0 where it has none."""
    width = np.int64(matrix.shape[1])
    keys = matrix.row.astype(np.int64) * width + matrix.col
    order = np.argsort(keys, kind="stable")
    keys, data = keys[order], matrix.data[order]
    wanted = rows.astype(np.int64) * width + cols
    if not len(keys):
        return np.zeros(len(wanted))
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[at] == wanted, data[at], 0.0)


def _category_heads(catalogue: _Catalogue, shares: sparse.coo_matrix, depth: int) -> Pairs:
    """For each (user, category) the user has a share in, that category's ``depth`` most
    popular recommendable items."""
    if len(catalogue.category_start) < 2:  # the data names no category
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = catalogue.category_start[shares.col]
    lengths = np.minimum(catalogue.category_start[shares.col + 1] - starts, depth)
    if not lengths.sum():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rows = np.repeat(shares.row, lengths)
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return rows, catalogue.by_category[np.repeat(starts, lengths) + offsets]


def _category_scores(
    inter: Interactions, shares: sparse.coo_matrix, rows: np.ndarray, items: np.ndarray
) -> np.ndarray:
    """The user's share of the item's category times the item's popularity within it."""
    category = inter.item_category[items]
    known = category >= 0
    share = np.zeros(len(items))
    share[known] = _values(shares, rows[known], category[known])
    return share * inter.popularity_in_category[items]


def _random_pairs(
    popular: np.ndarray, size: int, depth: int, rng: np.random.Generator, n_items: int
) -> Pairs:
    """Random recommendable items per user, enough that k stay after the bought ones leave:
    every item when the catalogue is small, else three times ``depth`` drawn per user."""
    draws = 3 * depth + 8
    if draws >= len(popular) // 2:
        return np.repeat(np.arange(size), len(popular)), np.tile(popular, size)
    drawn = popular[rng.integers(0, len(popular), size=(size, draws))]
    return _union(
        (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)),
        (np.repeat(np.arange(size), draws), drawn.ravel()),
        n_items,
    )
