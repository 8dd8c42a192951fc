"""Two-stage product recommender: candidate generators, then an MLP ranker.

Stage two scores each (user, candidate) pair with an ``MLPClassifier`` trained on an earlier
window the same way it is evaluated: features from events before the window, labels = the
items the user bought in it. A next-category model adds its guess as one input.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from core import schema
from core.ml.arrays import distinct
from core.ml.metrics import RANK, SCORE
from core.ml.network import EpochReport, NetworkConfig, NetworkTrainer
from core.params import Constraint, Flag, SettingError, Whole, check_settings, shown
from core.recommend.candidates import (
    PAIR_FEATURES,
    Candidates,
    generate_candidates,
    map_user_chunks,
    ranker_inputs,
)
from core.recommend.categories import (
    _category_probability,
    category_training_set,
    train_category_model,
)
from core.recommend.interactions import (
    Interactions,
    PairsAt,
    build_interactions,
    non_product_note,
    relevant_items,
    vocabulary_note,
)
from core.recommend.photos import ItemPhotos, PhotoVectors, fit_item_photos


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
        max_items: the item vocabulary: only this many of the most active products may be
            recommended and get neighbours (bounds memory and time on big catalogues).
        buy_again: allow items the user already bought (then they count as hits too).
        catalogue_only: only recommend items present in the product table (and in stock
            where the table has an ``in_stock`` column).
    """

    network: NetworkConfig = field(default_factory=NetworkConfig)
    candidates: int = 50
    negatives: int = 30
    train_windows: int = 3
    max_train_pairs: int = 400_000
    max_items: int = 100_000
    buy_again: bool = False
    catalogue_only: bool = False

    CONSTRAINTS: ClassVar[Mapping[str, Constraint]] = {
        "candidates": Whole("Candidates per generator", 5, 500),
        "negatives": Whole("Negatives per user", 1, 500),
        "train_windows": Whole("Training windows", 1, 12),
        "max_train_pairs": Whole("The most training pairs", 1_000, 50_000_000),
        "max_items": Whole("Item vocabulary", 1, 10_000_000),
        "buy_again": Flag("Buy again"),
        "catalogue_only": Flag("Catalogue only"),
    }

    def __post_init__(self) -> None:
        if not isinstance(self.network, NetworkConfig):
            raise SettingError(f"The ranker's settings are not usable (got {shown(self.network)}).")
        check_settings(self, self.CONSTRAINTS)


# --- the model ---------------------------------------------------------------------------


@dataclass
class Recommender:
    """A fitted two-stage recommender: the interactions it knows, its ranker and, when the
    shop has product photos, its items' photos (then the ranker has photo inputs too)."""

    config: RecommenderConfig
    interactions: Interactions
    ranker: Pipeline | None
    category_model: Pipeline | None
    curves: pd.DataFrame
    fit_seconds: float
    train_pairs: int
    best_epoch: int = 0
    photos: ItemPhotos | None = None

    @property
    def inputs(self) -> tuple[str, ...]:
        """The ranker's inputs, in order."""
        return ranker_inputs(self.photos)

    @property
    def notes(self) -> tuple[str, ...]:
        """What the user should know about the data it learned from (e.g. the non-product
        lines left out)."""
        notes = (non_product_note(self.interactions), vocabulary_note(self.interactions))
        return tuple(note for note in notes if note)

    def category_probability(self, users: np.ndarray | None = None) -> np.ndarray | None:
        """P(next purchase in category c) per user, from the category model."""
        if self.category_model is None:
            return None
        return _category_probability(self.category_model, self.interactions, users)


def fit_recommender(
    events: pd.DataFrame,
    products: pd.DataFrame | None,
    *,
    cutoff: pd.Timestamp,
    horizon_days: int,
    config: RecommenderConfig,
    photos: PhotoVectors | None = None,
    category_model: Pipeline | None = None,
    on_epoch: Callable[[EpochReport], bool | None] | None = None,
    pairs_at: PairsAt | None = None,
) -> Recommender:
    """Fit the recommender for use at ``cutoff``.

    The ranker learns from ``config.train_windows`` windows of H days that end at ``cutoff``:
    for each, features come from the events before the window and the labels are the items
    bought in it. The interactions it recommends from are those of everything before
    ``cutoff``.

    Args:
        photos: the shop's embedded product photos: they add the photo inputs and the
            cold-start candidates (their centre and axes are fitted on the items known at
            ``cutoff``).
        category_model: a next-category model already fitted for this cutoff and these
            settings (it is fitted here otherwise).
        pairs_at: the per-(user, item) table of the events before each of
            ``recommend_dates`` when it was computed elsewhere (the feature job's tables of
            the same events); the events are added up here otherwise.
    """
    started = time.perf_counter()
    horizon = pd.Timedelta(days=horizon_days)
    dates = recommend_dates(
        events[schema.TIMESTAMP].min(), cutoff, horizon_days, config.train_windows
    )

    def interactions_at(at: pd.Timestamp) -> Interactions:
        return build_interactions(
            events,
            products,
            at,
            catalogue_only=config.catalogue_only,
            max_items=config.max_items,
            pairs=None if pairs_at is None else pairs_at(at),
        )

    now = interactions_at(cutoff)
    item_photos = (
        fit_item_photos(now.item_ids, photos, fit_on=now.known) if photos is not None else None
    )
    inputs = ranker_inputs(item_photos)
    fit_categories = category_model is None
    windows: list[tuple[int, Interactions, pd.DataFrame]] = []
    # The next-category network trains on a second thread while the next window's interactions
    # are built: its matrix products run in BLAS without the GIL.
    with ThreadPoolExecutor(max_workers=1) as pool:
        categories: Future[Pipeline] | None = None
        for window, start in enumerate(dates[1:], start=1):
            end = start + horizon
            past = interactions_at(start)
            if window == 1 and fit_categories:
                category_model = None
                training_set = category_training_set(events, past, start, end)
                if training_set is not None:
                    # Fixed settings: the next-category model should not suffer from a tiny
                    # ranker.
                    settings = NetworkConfig(
                        hidden_layers=(64, 32), random_state=config.network.random_state
                    )
                    categories = pool.submit(train_category_model, *training_set, settings)
            relevant = relevant_items(events, past, start, end, buy_again=config.buy_again)
            windows.append((window, past, relevant))
        if categories is not None:
            category_model = categories.result()
    chosen = _training_users([relevant for _, _, relevant in windows], config)
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    while windows:
        window, past, relevant = windows.pop(0)  # each window's interactions freed once used
        users = distinct(relevant["user"].to_numpy())
        if chosen is not None:
            users = users[np.isin(users, chosen)]
        if not len(users):
            continue
        candidates = generate_candidates(
            past,
            users,
            per_source=config.candidates,
            buy_again=config.buy_again,
            category_model=category_model,
            photos=item_photos,
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
        features = pd.DataFrame(np.concatenate([b[0] for b in blocks]), columns=list(inputs))
        labels = np.concatenate([b[1] for b in blocks])
        groups = np.concatenate([b[2] for b in blocks])
        if len(labels) > config.max_train_pairs:  # a sample of users keeps training time bounded
            group_ids = distinct(groups)
            keep_users = np.random.default_rng(config.network.random_state).permutation(group_ids)[
                : max(1, int(len(group_ids) * config.max_train_pairs / len(labels)))
            ]
            keep = np.isin(groups, keep_users)
            features, labels, groups = features[keep], labels[keep], groups[keep]
        pairs = len(labels)
        if labels.any() and not labels.all():
            trainer = NetworkTrainer("classification", config.network)
            trainer.fit(features, labels.astype(int), groups=groups, on_epoch=on_epoch)
            ranker, curves = trainer.best_pipeline(), trainer.curves_
            best_epoch = trainer.best_epoch_
    seconds = time.perf_counter() - started
    return Recommender(
        config, now, ranker, category_model, curves, seconds, pairs, best_epoch, item_photos
    )


def recommend_dates(
    first: pd.Timestamp, cutoff: pd.Timestamp, horizon_days: int, train_windows: int
) -> tuple[pd.Timestamp, ...]:
    """The dates ``fit_recommender`` builds interactions at, on events from ``first``: the
    cutoff, then the start of each H-day training window before it (newest first) that has
    an event before it."""
    horizon = pd.Timedelta(days=horizon_days)
    starts = (cutoff - window * horizon for window in range(1, train_windows + 1))
    return (cutoff, *itertools.takewhile(lambda start: start > first, starts))


# Users kept beyond the share the pair bound asks for, so that the pairs they really have
# (fewer than the bound: not every bought item is a candidate) still reach the most pairs.
_USER_MARGIN = 1.25


def _training_users(relevant: list[pd.DataFrame], config: RecommenderConfig) -> np.ndarray | None:
    """The users (codes) whose candidates train the ranker; ``None`` for all of them.

    Each user brings at most their bought items plus ``config.negatives`` pairs per window.
    When that bound passes ``config.max_train_pairs``, a random share of the users is drawn
    before any candidate is made (so none is made for users who would be left out), a little
    larger than the bound asks for; the pairs are cut to the most exactly once known.
    """
    bought = sum(len(frame) for frame in relevant)
    bound = bought + config.negatives * sum(frame["user"].nunique() for frame in relevant)
    if bound <= config.max_train_pairs:
        return None
    users = distinct(np.concatenate([frame["user"].to_numpy() for frame in relevant]))
    share = min(1.0, _USER_MARGIN * config.max_train_pairs / bound)
    order = np.random.default_rng(config.network.random_state).permutation(users)
    return np.sort(order[: int(np.ceil(len(users) * share))])


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
        features = pd.DataFrame(candidates.features, columns=list(recommender.inputs))
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

    Chunks of users run on two threads (``map_user_chunks``): the sparse products, sorts and
    the ranker's matrix products release the GIL.
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
            photos=recommender.photos,
        )
        return _top_k(candidates.users, candidates.items, scorer(candidates), k, inter)

    parts = map_user_chunks(top_of, np.asarray(users))
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else _top_k(np.zeros(0, int), np.zeros(0, int), np.zeros(0), k, inter)
    )
