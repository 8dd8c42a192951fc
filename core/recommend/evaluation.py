"""Scores of the two-stage model and every baseline on the test window after a cutoff."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd

from core import schema
from core.ml import metrics as m
from core.ml.arrays import distinct
from core.ml.network import EpochReport
from core.ml.timesplit import check_cutoff
from core.recommend.baselines import baseline_recommendations
from core.recommend.categories import _category_probability, _next_categories
from core.recommend.interactions import relevant_items
from core.recommend.model import Recommender, RecommenderConfig, fit_recommender, recommend_users
from core.recommend.photos import PhotoVectors

# --- evaluation and deployment -----------------------------------------------------------

BASELINES: Final = ("popularity", "category_popularity", "item_knn", "random")
MODEL_LABELS: Final = {
    m.MLP: "Two-stage MLP ranker",
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
            coverage (a share of the items that could be recommended at the cutoff), novelty
            (bits) and diversity.
        by_k: metric-vs-k curves: rows (model, k), the ranking metrics as columns.
        recommendations: every model's top-max(ks) lists for the evaluated users.
        relevant: the (user_id, item_id) pairs bought in the test window, of items that
            existed at the cutoff (no model could recommend one that appeared later).
        users: evaluated users.
        category_report: the next-category model's accuracy, where categories exist.
        fit_seconds: time to fit the recommender.
        score_seconds: time to rank the evaluated users with the two-stage model.
        photos: the two-stage model with and without photo features, when it has them and
            both were trained to the end.
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
    photos: PhotoComparison | None = field(default=None)


WITH_PHOTOS: Final = "with_photos"
WITHOUT_PHOTOS: Final = "without_photos"
NEW_ITEM_NDCG: Final = "new_item_ndcg"
PHOTO_COUNTS: Final = ("new_items", "new_items_with_photo", "new_item_users")


@dataclass(frozen=True)
class PhotoComparison:
    """The two-stage model trained with and without photo features on the same split.

    Attributes:
        scores: rows ``WITH_PHOTOS`` and ``WITHOUT_PHOTOS``; columns ``ndcg`` (NDCG@k over
            every evaluated user), ``new_item_ndcg`` (NDCG@k on the purchases of items first
            sold in the test window, over the users who bought one; NaN when nobody did) and
            ``fit_seconds``, all between 0 and 1 except the seconds.
        new_items: items first sold in the test window (bought then, never before the cutoff).
        new_items_with_photo: how many of them have a photo.
        new_item_users: users who bought one of them.
    """

    scores: pd.DataFrame
    new_items: int
    new_items_with_photo: int
    new_item_users: int

    @property
    def gain(self) -> float:
        """``new_item_ndcg`` with photo features minus without (NaN when not scored)."""
        column = self.scores[NEW_ITEM_NDCG]
        return float(column[WITH_PHOTOS] - column[WITHOUT_PHOTOS])

    def to_frame(self) -> pd.DataFrame:
        """One row per model with the counts repeated, as a run's manifest keeps it."""
        counts = dict(zip(PHOTO_COUNTS, self._counts(), strict=True))
        return self.scores.assign(**counts).rename_axis("model").reset_index()

    def _counts(self) -> tuple[int, int, int]:
        return self.new_items, self.new_items_with_photo, self.new_item_users

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> PhotoComparison:
        """The comparison a manifest kept (``to_frame``'s inverse)."""
        scores = frame.set_index("model")
        counts = [int(scores[name].iloc[0]) for name in PHOTO_COUNTS]
        return cls(scores.drop(columns=list(PHOTO_COUNTS)), *counts)


def new_item_purchases(recommender: Recommender, relevant: pd.DataFrame) -> pd.DataFrame:
    """The ``relevant`` (user_id, item_id) pairs of items nobody bought before the
    recommender's date: items first sold in the test window."""
    inter = recommender.interactions
    codes = inter.item_ids.get_indexer(relevant[schema.ITEM_ID].astype("str"))
    buyers = inter.buyers
    return relevant[(codes >= 0) & (buyers[np.maximum(codes, 0)] == 0)].reset_index(drop=True)


def compare_photo_features(
    with_photos: Recommender, without_photos: Recommender, evaluation: RecommendationEvaluation
) -> PhotoComparison:
    """NDCG@k of the model with photo features (``evaluation`` scored it) and of the same
    model trained without them on the same split, over every evaluated user and on the items
    first sold in the test window."""
    inter = with_photos.interactions
    relevant, k = evaluation.relevant, evaluation.k
    users = inter.user_ids.get_indexer(relevant[schema.USER_ID].astype("str").unique())
    lists = {
        WITH_PHOTOS: evaluation.recommendations[m.MLP],
        WITHOUT_PHOTOS: recommend_users(without_photos, users, k=k),
    }
    new = new_item_purchases(with_photos, relevant)
    rows = {}
    for name, frame in lists.items():
        new_score = m.ranking_scores(frame, new, k=k)[m.NDCG] if len(new) else np.nan
        rows[name] = {
            m.NDCG: m.ranking_scores(frame, relevant, k=k)[m.NDCG],
            NEW_ITEM_NDCG: new_score,
        }
    scores = pd.DataFrame.from_dict(rows, orient="index")
    scores["fit_seconds"] = [with_photos.fit_seconds, without_photos.fit_seconds]
    new_codes = inter.item_ids.get_indexer(new[schema.ITEM_ID].astype("str").unique())
    photos = with_photos.photos
    pictured = int(photos.has_photo[new_codes].sum()) if photos is not None else 0
    return PhotoComparison(scores, len(new_codes), pictured, int(new[schema.USER_ID].nunique()))


@dataclass(frozen=True)
class CategoryModelReport:
    """How well the category model predicts the category a user buys next."""

    accuracy: float
    top3_accuracy: float
    confusion: pd.DataFrame
    users: int


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
    probability = _category_probability(recommender.category_model, inter, labels.index.to_numpy())
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


def evaluate_recommender(
    events: pd.DataFrame,
    products: pd.DataFrame | None,
    *,
    cutoff: pd.Timestamp,
    horizon_days: int,
    k: int,
    config: RecommenderConfig,
    ks: tuple[int, ...] = (1, 5, 10, 20),
    photos: PhotoVectors | None = None,
    on_epoch: Callable[[EpochReport], bool | None] | None = None,
) -> tuple[Recommender, RecommendationEvaluation]:
    """Fit at ``cutoff`` on earlier events only (with the shop's ``photos`` when given), then
    score every model on [t, t + H)."""
    check_cutoff(events, cutoff, horizon_days)
    recommender = fit_recommender(
        events,
        products,
        cutoff=cutoff,
        horizon_days=horizon_days,
        config=config,
        photos=photos,
        on_epoch=on_epoch,
    )
    return recommender, score_recommender(
        recommender, events, cutoff=cutoff, horizon_days=horizon_days, k=k, ks=ks
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
    check_cutoff(events, cutoff, horizon_days)
    config = recommender.config
    end = cutoff + pd.Timedelta(days=horizon_days)
    inter = recommender.interactions
    pairs = relevant_items(events, inter, cutoff, end, buy_again=config.buy_again)
    users = distinct(pairs["user"].to_numpy())
    relevant = pd.DataFrame(
        {
            schema.USER_ID: inter.user_ids[pairs["user"].to_numpy()],
            schema.ITEM_ID: inter.item_ids[pairs["item"].to_numpy()],
        }
    )
    depth = max(max(ks), k)
    started = time.perf_counter()
    lists = {m.MLP: recommend_users(recommender, users, k=depth)}
    score_seconds = time.perf_counter() - started
    lists.update(
        baseline_recommendations(recommender, users, k=depth, seed=config.network.random_state)
    )
    # The catalogue is what could be recommended at the cutoff, so coverage stays within 0..1.
    catalogue = int(inter.allowed.sum())
    seen = np.asarray((inter.weights > 0).sum(axis=0)).ravel()
    item_counts = pd.Series(seen, index=inter.item_ids)[inter.known]
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
            **m.ranking_scores(frame, relevant, k=k),
            "coverage": m.catalog_coverage(frame, k=k, n_items=catalogue),
            "novelty": m.novelty(frame, k=k, item_counts=item_counts, total=history_users),
            "diversity": m.intra_list_diversity(frame, k=k, item_category=categories),
        }
        curve = m.ranking_scores_by_k(frame, relevant, ks=ks).reset_index()
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
