"""The recommender's baselines: most popular, popular in the user's categories, item-kNN and
random.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd
from scipy import sparse

from core.recommend.interactions import CHUNK_USERS, Interactions
from core.recommend.model import Recommender, _top_k

# Users x recommendable items scored at once: bounds the dense score blocks' memory.
CELLS_PER_BLOCK: Final = 4_000_000

# --- baselines ---------------------------------------------------------------------------


def baseline_recommendations(
    recommender: Recommender, users: np.ndarray, *, k: int, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """Most popular, popular in the user's categories, item-kNN and random, for ``users``.

    Each baseline fills its list with the most popular items when it has fewer than k. Only
    the items that may be recommended are scored, a block of users at a time.
    """
    inter = recommender.interactions
    columns = np.flatnonzero(inter.allowed)
    rng = np.random.default_rng(seed)
    results: dict[str, list[pd.DataFrame]] = {
        name: [] for name in ("popularity", "category_popularity", "item_knn", "random")
    }
    fallback = np.zeros(len(columns))
    fallback[np.argsort(-inter.popularity[columns], kind="stable")] = np.linspace(
        1e-6, 0, len(columns), endpoint=False
    )
    users = np.asarray(users)
    similarity = inter.similarity[:, columns].tocsr()  # sliced once, not per block
    block = max(1, min(CHUNK_USERS, CELLS_PER_BLOCK // max(len(columns), 1)))
    for start in range(0, len(users), block):
        chunk = users[start : start + block]
        knn, category_popularity = _dense_scores(inter, chunk, columns, similarity)
        blocked = (
            inter.bought[chunk][:, columns].toarray() > 0
            if not recommender.config.buy_again
            else np.zeros((len(chunk), len(columns)), dtype=bool)
        )
        random_scores = rng.random(blocked.shape)
        for name, scores in (
            ("popularity", np.broadcast_to(inter.popularity[columns], blocked.shape)),
            ("category_popularity", category_popularity + fallback),
            ("item_knn", knn + fallback),
            ("random", random_scores),
        ):
            ranked = np.where(blocked, -np.inf, scores)
            take = min(k, ranked.shape[1])
            if not take:
                continue
            top = np.argpartition(-ranked, take - 1, axis=1)[:, :take]
            rows = np.repeat(np.arange(len(chunk)), take)
            values = ranked[rows, top.ravel()]
            ok = np.isfinite(values)
            items = columns[top.ravel()]
            results[name].append(_top_k(chunk[rows][ok], items[ok], values[ok], k, inter))
    empty = _top_k(np.zeros(0, int), np.zeros(0, int), np.zeros(0), k, inter)
    return {
        name: pd.concat(parts, ignore_index=True) if parts else empty
        for name, parts in results.items()
    }


def _dense_scores(
    inter: Interactions, users: np.ndarray, columns: np.ndarray, similarity: sparse.csr_matrix
) -> tuple[np.ndarray, np.ndarray]:
    """Dense (users x ``columns``) item-kNN and category-popularity scores (``similarity``:
    the item similarities to ``columns``)."""
    knn = (inter.weights[users] @ similarity).toarray().astype(np.float32)
    if len(inter.category_names):
        shares = inter.user_category[users].toarray()
        category = inter.item_category[columns]
        known = category >= 0
        per_item = np.zeros((len(users), len(columns)), dtype=np.float32)
        per_item[:, known] = shares[:, category[known]]
        category_popularity = per_item * inter.popularity_in_category[columns][None, :]
    else:
        category_popularity = np.zeros_like(knn)
    return knn, category_popularity
