"""The recommender's baselines: most popular, popular in the user's categories, item-kNN and
random.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.recommend.candidates import _blocked, _chunks, _dense_scores
from core.recommend.model import Recommender, _top_k

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
