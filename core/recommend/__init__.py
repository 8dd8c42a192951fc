"""Product recommendations: candidate generators, an MLP ranker, baselines, reasons, scores."""

from __future__ import annotations

from core.recommend.baselines import baseline_recommendations
from core.recommend.browse import (
    HISTORY_COLUMNS,
    popular_in_segment,
    recommend_everyone,
    recommend_for_items,
    recommend_for_user,
    user_code,
    user_history,
)
from core.recommend.candidates import PAIR_FEATURES, Candidates, generate_candidates
from core.recommend.categories import fit_category_model
from core.recommend.evaluation import (
    BASELINES,
    MODEL_LABELS,
    CategoryModelReport,
    RecommendationEvaluation,
    evaluate_category_model,
    evaluate_recommender,
    score_recommender,
)
from core.recommend.interactions import (
    CATEGORY_TOP,
    CHUNK_USERS,
    EASE_ITEMS,
    EASE_LAMBDA,
    EVENT_WEIGHTS,
    HALF_LIFE_DAYS,
    HISTORY_FOR_SIMILARITY,
    NEIGHBOURS,
    Interactions,
    NoItemsError,
    UnknownUserError,
    build_interactions,
    relevant_items,
)
from core.recommend.model import (
    Recommender,
    RecommenderConfig,
    Scorer,
    fit_recommender,
    recommend_users,
)
from core.recommend.reasons import REASON, explain

__all__ = [
    "EVENT_WEIGHTS",
    "HALF_LIFE_DAYS",
    "NEIGHBOURS",
    "EASE_ITEMS",
    "EASE_LAMBDA",
    "CATEGORY_TOP",
    "HISTORY_FOR_SIMILARITY",
    "CHUNK_USERS",
    "NoItemsError",
    "UnknownUserError",
    "Interactions",
    "build_interactions",
    "relevant_items",
    "fit_category_model",
    "PAIR_FEATURES",
    "Candidates",
    "generate_candidates",
    "RecommenderConfig",
    "Recommender",
    "fit_recommender",
    "Scorer",
    "recommend_users",
    "baseline_recommendations",
    "REASON",
    "explain",
    "BASELINES",
    "MODEL_LABELS",
    "RecommendationEvaluation",
    "CategoryModelReport",
    "evaluate_category_model",
    "evaluate_recommender",
    "score_recommender",
    "user_code",
    "recommend_everyone",
    "recommend_for_user",
    "recommend_for_items",
    "popular_in_segment",
    "HISTORY_COLUMNS",
    "user_history",
]
