"""Model scores; thin wrappers over ``sklearn.metrics`` with the units stated.

Names follow sklearn: ``*_score`` is higher-is-better, ``*_error`` / ``*_loss`` lower-is-better.
The ranking metrics @k at the end have no sklearn equivalent for recommendation lists, so they are
computed with pandas/numpy over the shared long frame (user_id, item_id, rank or score).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from core.errors import MissingColumnsError
from core.schema import ITEM_ID, USER_ID

# Keys of the score dictionaries below.
MSE: Final = "mse"
RMSE: Final = "rmse"
MAE: Final = "mae"
R2: Final = "r2"
TOTAL_PREDICTED: Final = "total_predicted"
TOTAL_ACTUAL: Final = "total_actual"
ACCURACY: Final = "accuracy"
TOP3_ACCURACY: Final = "top3_accuracy"
MACRO_F1: Final = "macro_f1"
PRECISION: Final = "precision"
RECALL: Final = "recall"
F1: Final = "f1"
ROC_AUC: Final = "roc_auc"
PR_AUC: Final = "pr_auc"
LOG_LOSS: Final = "log_loss"
MAP: Final = "map"
NDCG: Final = "ndcg"
HIT_RATE: Final = "hit_rate"
COVERAGE: Final = "coverage"
NOVELTY: Final = "novelty"
DIVERSITY: Final = "diversity"

# The model every scoreboard compares with its baselines, in every task.
MLP: Final = "mlp"


@dataclass(frozen=True)
class Metric:
    """How a score is named, shown and judged.

    Attributes:
        key: the key in score tables and manifests.
        name: a short column header, e.g. ``MSE``.
        label: the name with its unit, for chart axes, e.g. ``MSE (orders²)``.
        decimals: decimals shown.
        lower_is_better: errors and losses; every other score is better higher.
        at_k: measured on the top k of a list (its header gets ``@k``).
        help: one sentence for a hover.
    """

    key: str
    name: str
    label: str
    decimals: int
    lower_is_better: bool = False
    at_k: bool = False
    help: str = ""

    def header(self, k: int | None = None) -> str:
        """The column header, ``NDCG@10`` for a metric measured at ``k``."""
        return f"{self.name}@{k}" if self.at_k and k is not None else self.name


def _metrics(*metrics: Metric) -> dict[str, Metric]:
    return {metric.key: metric for metric in metrics}


METRICS: Final[Mapping[str, Metric]] = _metrics(
    Metric(MSE, "MSE", "MSE (orders²)", 4, lower_is_better=True,
           help="Mean squared error of each user's predicted orders (orders²); lower is better."),
    Metric(RMSE, "RMSE", "RMSE (orders)", 4, lower_is_better=True,
           help="Square root of the MSE, in orders per user; lower is better."),
    Metric(MAE, "MAE", "MAE (orders)", 4, lower_is_better=True,
           help="Mean absolute error of each user's predicted orders; lower is better."),
    Metric(R2, "R²", "R²", 3,
           help="Share of the variation in orders the model explains: 1 is perfect, 0 is no "
           "better than predicting the mean."),
    Metric(TOTAL_PREDICTED, "Orders predicted", "predicted orders (total)", 0,
           help="Orders the model expects from all scored users together."),
    Metric(TOTAL_ACTUAL, "Orders that happened", "actual orders (total)", 0,
           help="Orders the scored users really placed in the window."),
    Metric(ACCURACY, "Accuracy", "accuracy", 3,
           help="Share of users whose buy / no-buy call at probability 0.5 was right."),
    Metric(TOP3_ACCURACY, "Top-3 accuracy", "top-3 accuracy", 3,
           help="Share of photos whose true category is among the model's 3 likeliest."),
    Metric(MACRO_F1, "Macro-F1", "macro-F1", 3,
           help="F1 of each category (0 to 1), averaged with equal weight per category, so "
           "small categories count as much as big ones."),
    Metric(PRECISION, "Precision", "precision", 3, at_k=True,
           help="Share of the flagged (or recommended) that were bought (0 to 1)."),
    Metric(RECALL, "Recall", "recall", 3, at_k=True,
           help="Share of the buyers (or bought products) that were flagged (0 to 1)."),
    Metric(F1, "F1", "F1", 3, at_k=True,
           help="Harmonic mean of precision and recall (0 to 1)."),
    Metric(ROC_AUC, "ROC-AUC", "ROC-AUC", 3,
           help="Chance that a random buyer gets a higher buy probability than a random "
           "non-buyer: 0.5 is a coin flip, 1 is perfect."),
    Metric(PR_AUC, "PR-AUC", "PR-AUC", 3,
           help="Average precision over every threshold; random flagging scores the buyers' "
           "share."),
    Metric(LOG_LOSS, "Log-loss", "log-loss", 4, lower_is_better=True,
           help="Punishes confident wrong probabilities; lower is better."),
    Metric(MAP, "MAP", "MAP", 3, at_k=True,
           help="Mean average precision: for each hit, the precision at its rank, summed and "
           "divided by min(k, products bought); rewards hits near the top (0 to 1)."),
    Metric(NDCG, "NDCG", "NDCG", 3, at_k=True,
           help="Hits discounted by log2(rank + 1), divided by the best possible list: 1 means "
           "every bought product sits at the top (0 to 1)."),
    Metric(HIT_RATE, "Hit rate", "hit rate", 3, at_k=True,
           help="Share of users with at least one bought product in their top k (0 to 1)."),
    Metric(COVERAGE, "Coverage", "coverage", 3, at_k=True,
           help="Share of the catalogue (the products that could be recommended: seen before "
           "the cutoff) that appears in anyone's top k; low coverage means everyone gets the "
           "same few products."),
    Metric(NOVELTY, "Novelty (bits)", "novelty (bits)", 2,
           help="Mean −log2 of the share of users who had touched a recommended product before "
           "the cutoff, in bits: 0 = products everyone knows; higher = less obvious products."),
    Metric(DIVERSITY, "Diversity", "diversity", 3,
           help="Mean share of pairs in a user's top k from different categories: 0 = one "
           "category per list, 1 = all different."),
)  # fmt: skip

# The scoreboards' columns, in order, for the app, the report and the command line.
ORDER_SCORES: Final = (MSE, RMSE, MAE, R2, TOTAL_PREDICTED, TOTAL_ACTUAL)
BUYER_SCORES: Final = (ACCURACY, PRECISION, RECALL, F1, ROC_AUC, PR_AUC)
RANKING_METRICS: Final = (PRECISION, RECALL, F1, MAP, NDCG, HIT_RATE)
RANKING_SCORES: Final = (*RANKING_METRICS, COVERAGE, NOVELTY, DIVERSITY)
# The scores an MLP must beat every baseline on before it counts as better than them. Purchase:
# the orders error and both rankings of the buyers (ROC-AUC over everyone, PR-AUC over the few
# who buy), the two questions the page answers; accuracy and F1 at 0.5 hang on one threshold.
# Recommendations at k: NDCG (hits near the top), recall (the share of purchases found) and hit
# rate (the share of users helped); precision at a fixed k only restates the hits of recall.
# Photo categories: accuracy, and macro-F1 so that small categories count as much as big ones.
HEADLINES: Final[Mapping[str, tuple[str, ...]]] = {
    "purchase": (MSE, ROC_AUC, PR_AUC),
    "recommend": (NDCG, RECALL, HIT_RATE),
    "images": (ACCURACY, MACRO_F1),
}
# The one score a task is judged by first, where a single number is needed (a sweep's best run).
HEADLINE: Final = {task: keys[0] for task, keys in HEADLINES.items()}


def lower_is_better(key: str) -> bool:
    """Whether a lower value of the score ``key`` is better (errors and losses)."""
    return METRICS[key].lower_is_better


def best_of(values: Mapping[str, float | None], key: str) -> str | None:
    """The name whose finite value of score ``key`` is best (the first on a tie)."""
    finite = {name: v for name, v in values.items() if v is not None and np.isfinite(v)}
    if not finite:
        return None
    pick = min if lower_is_better(key) else max
    return pick(finite, key=finite.__getitem__)


@dataclass(frozen=True)
class Verdict:
    """The MLP against its best baseline on each headline score of its task.

    Attributes:
        wins: the scores on which the MLP is strictly better than every baseline.
        ties: (score, baseline) where the best baseline scores exactly the same.
        losses: (score, baseline) where the best baseline is better.
        unscored: headline scores missing (or not finite) for the MLP or for every baseline.
    """

    wins: tuple[str, ...] = ()
    ties: tuple[tuple[str, str], ...] = ()
    losses: tuple[tuple[str, str], ...] = ()
    unscored: tuple[str, ...] = ()

    @property
    def beats_baselines(self) -> bool:
        """True only when the MLP wins every headline score (a tie is not a win)."""
        return bool(self.wins) and not (self.ties or self.losses or self.unscored)

    def describe(self, labels: Mapping[str, str] | None = None, *, k: int | None = None) -> str:
        """E.g. ``wins MSE, PR-AUC; loses ROC-AUC to Linear / logistic regression``.

        Args:
            labels: model name -> how to show it (names are shown as they are otherwise).
            k: the k of scores measured at k (``NDCG@10``).
        """
        names = labels or {}

        def shown(key: str) -> str:
            return METRICS[key].header(k)

        def against(pairs: tuple[tuple[str, str], ...], word: str) -> str:
            by_model: dict[str, list[str]] = {}
            for key, model in pairs:
                by_model.setdefault(model, []).append(shown(key))
            return ", ".join(
                f"{', '.join(keys)} {word} {names.get(model, model)}"
                for model, keys in by_model.items()
            )

        if self.beats_baselines:
            return f"beats every baseline on {', '.join(map(shown, self.wins))}"
        parts = []
        if self.wins:
            parts.append(f"wins {', '.join(map(shown, self.wins))}")
        if self.ties:
            parts.append(f"ties {against(self.ties, 'with')}")
        if self.losses:
            parts.append(f"loses {against(self.losses, 'to')}")
        if self.unscored:
            parts.append(f"no {', '.join(map(shown, self.unscored))} to compare")
        return "; ".join(parts)


def compare_with_baselines(
    scores: Mapping[str, Mapping[str, float | None]], task: str
) -> Verdict | None:
    """The MLP (``scores[MLP]``) against the best of the other models on each of the task's
    ``HEADLINES``, each judged in its own direction; ``None`` when none of them is scored."""
    mlp = scores.get(MLP, {})
    wins: list[str] = []
    ties: list[tuple[str, str]] = []
    losses: list[tuple[str, str]] = []
    unscored: list[str] = []
    for key in HEADLINES[task]:
        others = {model: row.get(key) for model, row in scores.items() if model != MLP}
        best = best_of(others, key)
        own = mlp.get(key)
        if best is None or own is None or not np.isfinite(own):
            unscored.append(key)
            continue
        other = others[best]
        assert other is not None  # best_of picks a finite value
        if own == other:
            ties.append((key, best))
        elif (own < other) == lower_is_better(key):
            wins.append(key)
        else:
            losses.append((key, best))
    if len(unscored) == len(HEADLINES[task]):
        return None
    return Verdict(tuple(wins), tuple(ties), tuple(losses), tuple(unscored))


def regression_scores(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """MSE, RMSE, MAE (in orders), R² and the predicted and actual totals (orders)."""
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    mse = float(skm.mean_squared_error(actual, predicted))
    return {
        MSE: mse,
        RMSE: float(np.sqrt(mse)),
        MAE: float(skm.mean_absolute_error(actual, predicted)),
        R2: float(skm.r2_score(actual, predicted)) if len(actual) > 1 else float("nan"),
        TOTAL_PREDICTED: float(predicted.sum()),
        TOTAL_ACTUAL: float(actual.sum()),
    }


def classification_scores(actual: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    """Accuracy, precision, recall, F1 (at probability 0.5), ROC-AUC, PR-AUC and log-loss.

    ROC-AUC and PR-AUC are NaN when the actual labels hold a single class.
    """
    actual = np.asarray(actual, dtype=int)
    probability = np.clip(np.asarray(probability, dtype=float), 0.0, 1.0)
    predicted = (probability >= 0.5).astype(int)
    both = len(np.unique(actual)) == 2
    return {
        ACCURACY: float(skm.accuracy_score(actual, predicted)),
        PRECISION: float(skm.precision_score(actual, predicted, zero_division=0)),
        RECALL: float(skm.recall_score(actual, predicted, zero_division=0)),
        F1: float(skm.f1_score(actual, predicted, zero_division=0)),
        ROC_AUC: float(skm.roc_auc_score(actual, probability)) if both else float("nan"),
        PR_AUC: float(skm.average_precision_score(actual, probability)) if both else float("nan"),
        LOG_LOSS: float(skm.log_loss(actual, probability, labels=[0, 1])),
    }


def cumulative_gain(
    actual: np.ndarray, score: np.ndarray, points: int = 101
) -> tuple[np.ndarray, np.ndarray]:
    """Share of all positives found in the top x share of users ranked by ``score``.

    Returns:
        (share of users 0..1, share of positives 0..1), ``points`` long each.
    """
    actual = np.asarray(actual, dtype=float)
    order = np.argsort(-np.asarray(score, dtype=float), kind="stable")
    found = np.concatenate([[0.0], np.cumsum(actual[order])])
    total = found[-1] if found[-1] > 0 else 1.0
    share_users = np.linspace(0, 1, points)
    positions = np.round(share_users * len(actual)).astype(int)
    return share_users, found[positions] / total


# ---------------------------------------------------------------------------------------------
# Ranking metrics @k.
#
# The data contract is the long recommendation frame shared with the recommenders: one row per
# recommendation with USER_ID, ITEM_ID and either RANK (1 = first) or SCORE (higher = first).
# ``relevant`` holds the (USER_ID, ITEM_ID) pairs a user actually interacted with after the
# cutoff. Accuracy metrics are computed per evaluated user (every user in ``relevant``) and
# then averaged with equal weight per user.

# Columns of the recommendation frame besides USER_ID and ITEM_ID.
RANK: Final = "rank"
SCORE: Final = "score"

# Index name of the metric-vs-k table.
K: Final = "k"


def _check_k(k: int, name: str = "k") -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"{name} must be a positive integer; got {k!r}.")
    return int(k)


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], row: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise MissingColumnsError(
            f"The {row}s have no column {', '.join(repr(c) for c in missing)} (columns: "
            f"{', '.join(map(str, frame.columns[:12]))}); give one row per {row} with "
            f"{', '.join(columns)}."
        )


def _order_column(recommendations: pd.DataFrame) -> str:
    _require_columns(recommendations, (USER_ID, ITEM_ID), "recommendation")
    if RANK in recommendations.columns:
        return RANK
    if SCORE in recommendations.columns:
        return SCORE
    raise MissingColumnsError(
        f"The recommendations have neither a {RANK!r} nor a {SCORE!r} column (columns: "
        f"{', '.join(map(str, recommendations.columns[:12]))}); add the position of each item "
        f"({RANK}, 1 = first) or its score ({SCORE}, higher = first)."
    )


def _positions(groups: np.ndarray) -> np.ndarray:
    """1-based position of each row within its run of equal ``groups`` codes."""
    index = np.arange(len(groups))
    starts = np.ones(len(groups), dtype=bool)
    starts[1:] = groups[1:] != groups[:-1]
    return index - np.maximum.accumulate(np.where(starts, index, 0)) + 1


# Orders are sorted on one int64 code (user, key, item) while it cannot overflow.
_CODE_LIMIT: Final = 2**63


def _list_order(
    users: np.ndarray, key: np.ndarray, items: np.ndarray, n_users: int, n_items: int
) -> np.ndarray:
    """Row order by user code, then ``key`` ascending (NaN last), then item code."""
    key_ranks = np.unique(key, return_inverse=True)[1]
    n_keys = int(key_ranks.max()) + 1 if len(key_ranks) else 1
    if n_users * n_keys * max(n_items, 1) >= _CODE_LIMIT:
        return np.lexsort((items, key, users))
    return np.argsort((users * n_keys + key_ranks) * max(n_items, 1) + items)


def select_top_k(recommendations: pd.DataFrame, *, k: int) -> pd.DataFrame:
    """The first ``k`` distinct items of each user's recommendation list, in order.

    Each list is ordered by RANK ascending when that column is present, otherwise by SCORE
    descending (missing scores last). Equal ranks or scores are ordered by item id ascending, so
    the cut is deterministic whatever the row order. An item repeated in a user's list counts
    once, at its best position; the items after it move up. Rows with a missing user or item id
    are ignored.

    Args:
        recommendations: one row per recommendation: USER_ID, ITEM_ID and RANK or SCORE.
        k: the cutoff, a positive integer; lists shorter than ``k`` are kept whole.

    Returns:
        USER_ID, ITEM_ID and RANK (the position 1..k, counted after dropping repeats), users in
        order of first appearance, each user's rows in rank order.

    Raises:
        MissingColumnsError: a required column is absent.
        ValueError: ``k`` is not a positive integer.
    """
    k = _check_k(k)
    order_by = _order_column(recommendations)
    users, user_ids = pd.factorize(recommendations[USER_ID])
    # sort=True numbers the items in id order, which is the tie-break.
    items, item_ids = pd.factorize(recommendations[ITEM_ID], sort=True)
    key = pd.to_numeric(recommendations[order_by]).to_numpy(dtype=float, na_value=np.nan)
    if order_by == SCORE:
        key = -key
    rows = np.flatnonzero((users >= 0) & (items >= 0))
    users, items, key = users[rows].astype(np.int64), items[rows].astype(np.int64), key[rows]
    order = _list_order(users, key, items, len(user_ids), len(item_ids))
    rows, users, items = rows[order], users[order], items[order]
    first = ~pd.Series(users * max(len(item_ids), 1) + items).duplicated().to_numpy()
    rows, users = rows[first], users[first]
    position = _positions(users)
    keep = position <= k
    top = recommendations[[USER_ID, ITEM_ID]].iloc[rows[keep]].reset_index(drop=True)
    top[RANK] = position[keep].astype(np.int64)
    return top


@dataclass(frozen=True)
class _Matched:
    """Top-k recommendations of the evaluated users, matched against their relevant items."""

    users: pd.Index  # the evaluated users; codes below index into it
    n_relevant: np.ndarray  # distinct relevant items per evaluated user (at least 1)
    user: np.ndarray  # per recommendation row: code of its user
    position: np.ndarray  # per recommendation row: 1-based position in the user's list
    hit: np.ndarray  # per recommendation row: the item is relevant to the user


def _match(top: pd.DataFrame, relevant: pd.DataFrame) -> _Matched:
    _require_columns(relevant, (USER_ID, ITEM_ID), "relevant item")
    relevant = relevant[[USER_ID, ITEM_ID]].dropna()
    n_rel_rows = len(relevant)
    # Relevant users come first, so the evaluated users get the codes 0..n_users-1.
    user_codes, user_ids = pd.factorize(
        pd.concat([relevant[USER_ID], top[USER_ID]], ignore_index=True)
    )
    item_codes, item_ids = pd.factorize(
        pd.concat([relevant[ITEM_ID], top[ITEM_ID]], ignore_index=True)
    )
    n_items = max(len(item_ids), 1)
    rel_user, rel_item = user_codes[:n_rel_rows], item_codes[:n_rel_rows]
    n_users = int(rel_user.max()) + 1 if n_rel_rows else 0
    rel_pairs = pd.unique(rel_user.astype(np.int64) * n_items + rel_item)
    n_relevant = np.bincount(rel_pairs // n_items, minlength=n_users)

    rec_user, rec_item = user_codes[n_rel_rows:], item_codes[n_rel_rows:]
    evaluated = rec_user < n_users
    rec_user, rec_item = rec_user[evaluated], rec_item[evaluated]
    rec_pairs = rec_user.astype(np.int64) * n_items + rec_item
    return _Matched(
        users=user_ids[:n_users],
        n_relevant=n_relevant,
        user=rec_user,
        position=top[RANK].to_numpy()[evaluated],
        hit=pd.Index(rel_pairs).get_indexer(rec_pairs) >= 0,
    )


def _scores_at(matched: _Matched, k: int) -> dict[str, np.ndarray]:
    """Per-user metrics at cutoff ``k`` (at most the cutoff ``matched`` was built with)."""
    n_users = len(matched.users)
    within = matched.position <= k
    user, position = matched.user[within], matched.position[within]
    hit = matched.hit[within].astype(float)
    n_relevant = matched.n_relevant

    hits = np.bincount(user, weights=hit, minlength=n_users)
    precision = hits / k
    recall = hits / n_relevant
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros(n_users), where=both > 0)

    # Each user's rows are contiguous and in position order, so a row's list starts
    # ``position - 1`` rows earlier; hits before that start belong to other users.
    running = np.cumsum(hit)
    before = np.concatenate([[0.0], running])[np.arange(len(hit)) - position + 1]
    precision_at_row = (running - before) / position
    best = np.minimum(k, n_relevant)
    average_precision = np.bincount(user, weights=precision_at_row * hit, minlength=n_users) / best

    dcg = np.bincount(user, weights=hit / np.log2(position + 1), minlength=n_users)
    ideal = np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))[best - 1]
    return {
        PRECISION: precision,
        RECALL: recall,
        F1: f1,
        MAP: average_precision,
        NDCG: dcg / ideal,
        HIT_RATE: (hits > 0).astype(float),
    }


def _mean_scores(per_user: dict[str, np.ndarray]) -> dict[str, float]:
    return {
        name: float(values.mean()) if len(values) else float("nan")
        for name, values in per_user.items()
    }


def per_user_ranking_scores(
    recommendations: pd.DataFrame, relevant: pd.DataFrame, *, k: int
) -> pd.DataFrame:
    """Precision, recall, F1, average precision, NDCG and hit (0 or 1) at ``k`` for each user.

    The evaluated users are those in ``relevant``; recommendations for anyone else are ignored,
    and a user without recommendations scores 0 everywhere. For a user with relevant set R and
    ``rel_i`` = 1 when the item at position i is in R:

    - precision = hits / k (k, even when fewer than k items were recommended);
    - recall = hits / |R|; F1 = their harmonic mean (0 when both are 0);
    - average precision = sum over i <= k of precision@i * rel_i, divided by min(k, |R|);
    - NDCG = sum rel_i / log2(i + 1), divided by the same sum for min(k, |R|) hits in a row;
    - hit = 1 when at least one of the top k items is in R.

    Lists are cut as in ``select_top_k`` (ties by item id, repeats counted once). Repeated
    relevant pairs count once.

    Args:
        recommendations: one row per recommendation: USER_ID, ITEM_ID and RANK or SCORE.
        relevant: the (USER_ID, ITEM_ID) pairs each user interacted with after the cutoff.
        k: the cutoff, a positive integer.

    Returns:
        One row per evaluated user (in order of first appearance in ``relevant``): USER_ID and
        the ``RANKING_METRICS`` columns, each between 0 and 1.

    Raises:
        MissingColumnsError: a required column is absent.
        ValueError: ``k`` is not a positive integer.
    """
    k = _check_k(k)
    matched = _match(select_top_k(recommendations, k=k), relevant)
    scores = _scores_at(matched, k)
    frame = pd.DataFrame(scores, columns=list(RANKING_METRICS))
    frame.insert(0, USER_ID, matched.users)
    return frame


def ranking_scores(
    recommendations: pd.DataFrame, relevant: pd.DataFrame, *, k: int
) -> dict[str, float]:
    """The ``per_user_ranking_scores`` averaged over the evaluated users.

    Returns:
        ``RANKING_METRICS`` -> value between 0 and 1 (``HIT_RATE`` is the share of users with at
        least one hit; ``MAP`` is mean average precision). NaN when ``relevant`` has no users.
    """
    k = _check_k(k)
    matched = _match(select_top_k(recommendations, k=k), relevant)
    return _mean_scores(_scores_at(matched, k))


def ranking_scores_by_k(
    recommendations: pd.DataFrame,
    relevant: pd.DataFrame,
    *,
    ks: Sequence[int] = (1, 5, 10, 20),
) -> pd.DataFrame:
    """``ranking_scores`` at several cutoffs, for metric-vs-k curves.

    Returns:
        One row per cutoff in ``ks`` (index named ``K``, in the given order) and the
        ``RANKING_METRICS`` columns, each between 0 and 1.
    """
    cutoffs = [_check_k(k, "every k in ks") for k in ks]
    if not cutoffs:
        raise ValueError("ks must hold at least one cutoff.")
    matched = _match(select_top_k(recommendations, k=max(cutoffs)), relevant)
    rows = [_mean_scores(_scores_at(matched, k)) for k in cutoffs]
    return pd.DataFrame(rows, index=pd.Index(cutoffs, name=K), columns=list(RANKING_METRICS))


def catalog_coverage(recommendations: pd.DataFrame, *, k: int, n_items: int) -> float:
    """Share of the catalogue that appears in anyone's top ``k``.

    Args:
        recommendations: one row per recommendation: USER_ID, ITEM_ID and RANK or SCORE.
        k: the cutoff, a positive integer.
        n_items: the catalogue size, i.e. the number of distinct items that could be
            recommended (in ShopLens: items seen before the cutoff).

    Returns:
        Distinct recommended items / ``n_items``: between 0 and 1 when every recommended item
        is in the catalogue (items outside it still count). NaN when ``n_items`` is 0.
    """
    if n_items < 0:
        raise ValueError(f"n_items must not be negative; got {n_items}.")
    top = select_top_k(recommendations, k=k)
    if n_items == 0:
        return float("nan")
    return top[ITEM_ID].nunique() / n_items


def novelty(recommendations: pd.DataFrame, *, k: int, item_counts: pd.Series, total: int) -> float:
    """Mean self-information of the recommended items, in bits: how unexpected they are.

    An item's popularity share is ``item_counts[item] / total``; in ShopLens that is the share
    of users who interacted with the item before the cutoff (``item_counts`` = distinct users
    per item, ``total`` = users), though event counts and the number of events work the same
    way. Its self-information is ``-log2(share)``. An item missing from ``item_counts`` (or with
    count 0) is scored as if one user had seen it, so the value stays finite.

    Returns:
        The mean over every recommendation in the top ``k`` of all users (each slot counts
        once): between 0 (only items everyone saw) and log2(``total``). NaN when there are no
        recommendations or ``total`` is 0.
    """
    if total < 0:
        raise ValueError(f"total must not be negative; got {total}.")
    top = select_top_k(recommendations, k=k)
    if top.empty or total == 0:
        return float("nan")
    counts = top[ITEM_ID].map(item_counts).astype(float).fillna(0.0).clip(lower=1.0)
    return float(np.log2(total) - np.log2(counts.to_numpy()).mean())


def intra_list_diversity(
    recommendations: pd.DataFrame, *, k: int, item_category: pd.Series
) -> float:
    """Mean share of pairs of items in a user's top ``k`` that belong to different categories.

    Items without a category (absent from ``item_category`` or missing there) are left out of
    the pairs, and users with fewer than two categorised items are left out of the mean.

    Args:
        recommendations: one row per recommendation: USER_ID, ITEM_ID and RANK or SCORE.
        k: the cutoff, a positive integer.
        item_category: item id -> category.

    Returns:
        Between 0 (every list is one category) and 1 (no two items share one). NaN when no
        user has two categorised items.
    """
    top = select_top_k(recommendations, k=k)
    category = top[ITEM_ID].map(item_category)
    known = category.notna().to_numpy()
    users, _ = pd.factorize(top[USER_ID].to_numpy()[known])
    categories, category_ids = pd.factorize(category.to_numpy()[known])
    per_user = np.bincount(users).astype(float)
    groups, sizes = np.unique(
        users.astype(np.int64) * max(len(category_ids), 1) + categories, return_counts=True
    )
    same = np.bincount(
        groups // max(len(category_ids), 1),
        weights=sizes * (sizes - 1) / 2,
        minlength=len(per_user),
    )
    pairs = per_user * (per_user - 1) / 2
    scored = pairs > 0
    if not scored.any():
        return float("nan")
    return float((1.0 - same[scored] / pairs[scored]).mean())
