"""Product recommendations: candidate generators, an MLP ranker, baselines, reasons, scores."""

from __future__ import annotations

from core.recommend.baselines import baseline_recommendations
from core.recommend.browse import (
    HISTORY_COLUMNS,
    popular_in_segment,
    popular_items,
    recommend_everyone,
    recommend_for_items,
    recommend_for_user,
    user_activity,
    user_history,
    write_everyone,
)
from core.recommend.candidates import PAIR_FEATURES, Candidates, generate_candidates
from core.recommend.evaluation import (
    BASELINES,
    MODEL_LABELS,
    NEW_ITEM_NDCG,
    WITH_PHOTOS,
    WITHOUT_PHOTOS,
    PhotoComparison,
    RecommendationEvaluation,
    compare_photo_features,
    evaluate_recommender,
    new_item_purchases,
    score_recommender,
)
from core.recommend.interactions import (
    Interactions,
    NoItemsError,
    PairsAt,
    UnknownUserError,
    build_interactions,
    non_product_mask,
    relevant_items,
)
from core.recommend.model import (
    Recommender,
    RecommenderConfig,
    fit_recommender,
    recommend_dates,
    recommend_users,
)
from core.recommend.photos import PHOTO_FEATURES, ItemPhotos, PhotoVectors, embed_shop_photos
from core.recommend.reasons import REASON, explain

__all__ = [
    "NoItemsError",
    "UnknownUserError",
    "Interactions",
    "build_interactions",
    "PairsAt",
    "recommend_dates",
    "non_product_mask",
    "relevant_items",
    "PAIR_FEATURES",
    "Candidates",
    "generate_candidates",
    "RecommenderConfig",
    "Recommender",
    "fit_recommender",
    "recommend_users",
    "baseline_recommendations",
    "REASON",
    "explain",
    "BASELINES",
    "MODEL_LABELS",
    "RecommendationEvaluation",
    "evaluate_recommender",
    "score_recommender",
    "NEW_ITEM_NDCG",
    "WITH_PHOTOS",
    "WITHOUT_PHOTOS",
    "PhotoComparison",
    "compare_photo_features",
    "new_item_purchases",
    "PHOTO_FEATURES",
    "ItemPhotos",
    "PhotoVectors",
    "embed_shop_photos",
    "recommend_everyone",
    "write_everyone",
    "recommend_for_user",
    "recommend_for_items",
    "popular_in_segment",
    "popular_items",
    "HISTORY_COLUMNS",
    "user_activity",
    "user_history",
]
