"""The next-category model: which category a user buys most next, from what is known at a
date; its guesses are one of the ranker's inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from core.ml.network import NetworkConfig, NetworkTrainer
from core.recommend.interactions import Interactions, relevant_items


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


def category_training_set(
    events: pd.DataFrame, inter: Interactions, start: pd.Timestamp, end: pd.Timestamp
) -> tuple[np.ndarray, np.ndarray] | None:
    """What the next-category model learns from: per user known at ``start``, their inputs and
    the category they buy most in ``[start, end)``; ``None`` without categories or with too
    few buyers."""
    if len(inter.category_names) < 2:
        return None
    labels = _next_categories(events, inter, start, end)
    if len(labels) < 20 or labels.nunique() < 2:
        return None
    return _user_matrix(inter, labels.index.to_numpy()), labels.to_numpy()


def train_category_model(
    features: np.ndarray, labels: np.ndarray, config: NetworkConfig
) -> Pipeline:
    """An MLPClassifier of the category a user buys most next (from ``category_training_set``)."""
    trainer = NetworkTrainer("classification", config)
    trainer.fit(features, labels)
    return trainer.best_pipeline()


def _next_categories(
    events: pd.DataFrame, inter: Interactions, start: pd.Timestamp, end: pd.Timestamp
) -> pd.Series:
    pairs = relevant_items(events, inter, start, end, buy_again=True, new_items=True)
    category = inter.item_category[pairs["item"].to_numpy()]
    pairs = pairs.assign(category=category)[category >= 0]
    top = pairs.groupby(["user", "category"]).size().reset_index(name="n")
    top = top.sort_values(["user", "n", "category"], ascending=[True, False, True])
    first = top.drop_duplicates("user")
    return pd.Series(first["category"].to_numpy(), index=first["user"].to_numpy())
