"""Tests for the ranking metrics @k: hand-computed cases, degenerate inputs, sklearn equivalence
where the definitions overlap, and a slow pure-Python reference on seeded random data."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, ndcg_score

from core.errors import MissingColumnsError
from core.ml import metrics
from core.ml.metrics import (
    F1,
    HIT_RATE,
    MAP,
    NDCG,
    PRECISION,
    RANK,
    RANKING_METRICS,
    RECALL,
    SCORE,
    K,
    catalog_coverage,
    intra_list_diversity,
    novelty,
    per_user_ranking_scores,
    ranking_scores,
    ranking_scores_by_k,
    select_top_k,
)
from core.schema import ITEM_ID, USER_ID

LOG2_3 = math.log2(3)  # 1.5849625...


def recs_frame(rows: list[tuple], order: str = SCORE) -> pd.DataFrame:
    """(user, item, score or rank) tuples -> the long recommendation frame."""
    return pd.DataFrame(rows, columns=[USER_ID, ITEM_ID, order])


def relevant_frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[USER_ID, ITEM_ID])


def scores_of(frame: pd.DataFrame, user: object) -> dict[str, float]:
    row = frame.loc[frame[USER_ID] == user, list(RANKING_METRICS)]
    assert len(row) == 1
    return row.iloc[0].to_dict()


# Three evaluated users and one who is not evaluated, k = 3.
# u1 is recommended a, b, c, d (scores .9 .8 .7 .6) and finds a, c, e relevant;
# u2 is recommended only x, y and finds y relevant; u3 has no recommendations at all;
# u4 has recommendations but no relevant items, so it is not evaluated.
# fmt: off
RECS = recs_frame([
    ("u1", "a", 0.9), ("u1", "b", 0.8), ("u1", "c", 0.7), ("u1", "d", 0.6),
    ("u2", "x", 0.5), ("u2", "y", 0.4),
    ("u4", "a", 0.9),
])
# fmt: on
RELEVANT = relevant_frame([("u1", "a"), ("u1", "c"), ("u1", "e"), ("u2", "y"), ("u3", "a")])

# u1: top 3 = a b c, rel = 1 0 1, hits = 2, |R| = 3
#   precision = 2/3, recall = 2/3, F1 = 2/3
#   AP = (1/min(3, 3)) * (P@1 + P@3) = (1 + 2/3) / 3 = 5/9
#   DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3) + 1/2; NDCG = 1.5 / IDCG
U1 = {
    PRECISION: 2 / 3,
    RECALL: 2 / 3,
    F1: 2 / 3,
    MAP: 5 / 9,
    NDCG: 1.5 / (1 + 1 / LOG2_3 + 0.5),
    HIT_RATE: 1.0,
}
# u2: top 3 = x y (only two), rel = 0 1, hits = 1, |R| = 1
#   precision = 1/3 (divided by k, not by the 2 items), recall = 1/1
#   F1 = 2 * (1/3) * 1 / (1/3 + 1) = 1/2
#   AP = (1/min(3, 1)) * P@2 = 1/2
#   DCG = 1/log2(3); IDCG = 1/log2(2) = 1; NDCG = 1/log2(3)
U2 = {PRECISION: 1 / 3, RECALL: 1.0, F1: 0.5, MAP: 0.5, NDCG: 1 / LOG2_3, HIT_RATE: 1.0}
# u3: nothing recommended, so zero hits and zero everywhere.
U3 = dict.fromkeys(RANKING_METRICS, 0.0)


def test_per_user_scores_match_the_hand_computed_values() -> None:
    per_user = per_user_ranking_scores(RECS, RELEVANT, k=3)

    assert list(per_user[USER_ID]) == ["u1", "u2", "u3"]
    assert list(per_user.columns) == [USER_ID, *RANKING_METRICS]
    assert scores_of(per_user, "u1") == pytest.approx(U1)
    assert scores_of(per_user, "u2") == pytest.approx(U2)
    assert scores_of(per_user, "u3") == pytest.approx(U3)


def test_ranking_scores_average_the_hand_computed_values_over_evaluated_users() -> None:
    scores = ranking_scores(RECS, RELEVANT, k=3)

    # Means over u1, u2, u3 (u4 is not in RELEVANT and is ignored):
    assert scores == pytest.approx(
        {
            PRECISION: (2 / 3 + 1 / 3 + 0) / 3,  # 1/3
            RECALL: (2 / 3 + 1 + 0) / 3,  # 5/9
            F1: (2 / 3 + 1 / 2 + 0) / 3,  # 7/18
            MAP: (5 / 9 + 1 / 2 + 0) / 3,  # 19/54
            NDCG: (U1[NDCG] + U2[NDCG] + 0) / 3,
            HIT_RATE: 2 / 3,  # u1 and u2 have a hit, u3 has none
        }
    )


def test_a_rank_column_orders_the_lists_like_the_equivalent_scores() -> None:
    ranked = RECS.assign(**{RANK: [1, 2, 3, 4, 1, 2, 1]}).drop(columns=SCORE)

    assert ranking_scores(ranked, RELEVANT, k=3) == pytest.approx(
        ranking_scores(RECS, RELEVANT, k=3)
    )


def test_rank_is_used_when_both_rank_and_score_are_given() -> None:
    # The ranks put b first, the scores would put a first; relevant = {a}.
    recs = pd.DataFrame({USER_ID: [1, 1], ITEM_ID: ["a", "b"], RANK: [2, 1], SCORE: [0.9, 0.1]})

    assert ranking_scores(recs, relevant_frame([(1, "a")]), k=1)[PRECISION] == 0.0


def test_empty_recommendations_score_zero_for_every_evaluated_user() -> None:
    empty = recs_frame([])

    per_user = per_user_ranking_scores(empty, RELEVANT, k=3)

    assert list(per_user[USER_ID]) == ["u1", "u2", "u3"]
    assert (per_user[list(RANKING_METRICS)] == 0.0).all().all()
    assert ranking_scores(empty, RELEVANT, k=3) == dict.fromkeys(RANKING_METRICS, 0.0)


def test_fewer_than_k_candidates_divide_precision_by_k() -> None:
    # One item, relevant, k = 5: hits = 1
    # precision = 1/5, recall = 1/1, F1 = 2 * 0.2 * 1 / 1.2 = 1/3
    # AP = (1/min(5, 1)) * P@1 = 1, NDCG = (1/log2 2) / (1/log2 2) = 1
    recs = recs_frame([(1, "a", 0.3)])

    scores = ranking_scores(recs, relevant_frame([(1, "a")]), k=5)

    assert scores == pytest.approx(
        {PRECISION: 0.2, RECALL: 1.0, F1: 1 / 3, MAP: 1.0, NDCG: 1.0, HIT_RATE: 1.0}
    )


def test_no_hits_anywhere_gives_zeros_not_nan() -> None:
    recs = recs_frame([(1, "a", 0.9), (1, "b", 0.8), (2, "c", 0.5)])
    relevant = relevant_frame([(1, "z"), (2, "y"), (2, "x")])

    scores = ranking_scores(recs, relevant, k=2)

    assert scores == dict.fromkeys(RANKING_METRICS, 0.0)
    assert not any(math.isnan(value) for value in scores.values())


def test_no_evaluated_users_gives_nan() -> None:
    scores = ranking_scores(RECS, relevant_frame([]), k=3)

    assert all(math.isnan(value) for value in scores.values())
    assert per_user_ranking_scores(RECS, relevant_frame([]), k=3).empty


def test_k_larger_than_every_list_only_changes_the_divisor_of_precision() -> None:
    # k = 50 keeps u1's whole list a b c d (rel 1 0 1 0) and u2's x y.
    # u1: precision = 2/50, recall = 2/3, F1 = 2 * (2/50) * (2/3) / (2/50 + 2/3) = 8/106 = 4/53
    #     AP = (1/min(50, 3)) * (1 + 2/3) = 5/9; NDCG = 1.5 / (1 + 1/log2 3 + 1/2) as at k = 3
    # u2: precision = 1/50, recall = 1, F1 = 2 * (1/50) / (1/50 + 1) = 2/51, AP = 1/2
    per_user = per_user_ranking_scores(RECS, RELEVANT, k=50)

    assert scores_of(per_user, "u1") == pytest.approx({**U1, PRECISION: 2 / 50, F1: 4 / 53})
    assert scores_of(per_user, "u2") == pytest.approx({**U2, PRECISION: 1 / 50, F1: 2 / 51})


def test_tied_scores_are_broken_by_item_id_whatever_the_row_order() -> None:
    rows = [(1, "c", 0.5), (1, "a", 0.5), (1, "b", 0.5), (1, "d", 0.9)]
    forward, backward = recs_frame(rows), recs_frame(rows[::-1])

    # d has the highest score; a, b and c tie and follow in item id order.
    assert list(select_top_k(forward, k=3)[ITEM_ID]) == ["d", "a", "b"]
    assert list(select_top_k(backward, k=3)[ITEM_ID]) == ["d", "a", "b"]
    # So at k = 2 the relevant c is cut and b is kept: precision = 1/2 (d) for both orders.
    relevant = relevant_frame([(1, "d"), (1, "c")])
    assert (
        ranking_scores(forward, relevant, k=2)[PRECISION]
        == ranking_scores(backward, relevant, k=2)[PRECISION]
        == 0.5
    )


def test_tied_ranks_are_broken_by_item_id() -> None:
    recs = recs_frame([(1, 20, 1), (1, 10, 1), (1, 30, 2)], order=RANK)

    assert list(select_top_k(recs, k=3)[ITEM_ID]) == [10, 20, 30]
    assert list(select_top_k(recs, k=3)[RANK]) == [1, 2, 3]


def test_repeated_items_count_once_at_their_best_position() -> None:
    # a is listed at ranks 1 and 2; the repeat is dropped and b moves up to position 2.
    recs = recs_frame([("u", "a", 1), ("u", "a", 2), ("u", "b", 3), ("u", "c", 4)], order=RANK)
    relevant = relevant_frame([("u", "a"), ("u", "b")])

    top = select_top_k(recs, k=2)
    assert list(top[ITEM_ID]) == ["a", "b"]
    assert list(top[RANK]) == [1, 2]
    # hits = 2 (a, b), not a counted twice: precision = 2/2, recall = 2/2, AP = (1 + 1)/2
    assert ranking_scores(recs, relevant, k=2) == pytest.approx(
        {PRECISION: 1.0, RECALL: 1.0, F1: 1.0, MAP: 1.0, NDCG: 1.0, HIT_RATE: 1.0}
    )


def test_a_repeat_with_a_lower_score_does_not_push_the_item_down() -> None:
    recs = recs_frame([("u", "a", 0.1), ("u", "b", 0.5), ("u", "a", 0.9)])

    assert list(select_top_k(recs, k=5)[ITEM_ID]) == ["a", "b"]


def test_repeated_relevant_pairs_count_once() -> None:
    relevant = relevant_frame([("u", "a"), ("u", "a"), ("u", "b")])

    # |R| = 2, so finding a alone is recall 1/2.
    assert ranking_scores(recs_frame([("u", "a", 1.0)]), relevant, k=1)[RECALL] == 0.5


def test_missing_ids_are_ignored() -> None:
    recs = recs_frame([("u", None, 0.9), ("u", "a", 0.5), (None, "a", 0.7)])
    relevant = relevant_frame([("u", "a"), ("v", None)])

    per_user = per_user_ranking_scores(recs, relevant, k=1)

    assert list(per_user[USER_ID]) == ["u"]
    assert per_user[PRECISION].tolist() == [1.0]


def test_missing_columns_raise_missing_columns_error() -> None:
    with pytest.raises(MissingColumnsError, match="neither a 'rank' nor a 'score'"):
        ranking_scores(RECS.drop(columns=SCORE), RELEVANT, k=3)
    with pytest.raises(MissingColumnsError, match="'item_id'"):
        ranking_scores(RECS.drop(columns=ITEM_ID), RELEVANT, k=3)
    with pytest.raises(MissingColumnsError, match="relevant items have no column 'user_id'"):
        ranking_scores(RECS, RELEVANT.drop(columns=USER_ID), k=3)


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_a_cutoff_that_is_not_a_positive_integer_raises_value_error(k) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        ranking_scores(RECS, RELEVANT, k=k)


def test_inputs_are_not_modified() -> None:
    recs, relevant = RECS.copy(), RELEVANT.copy()

    ranking_scores_by_k(recs, relevant)
    per_user_ranking_scores(recs, relevant, k=2)

    pd.testing.assert_frame_equal(recs, RECS)
    pd.testing.assert_frame_equal(relevant, RELEVANT)


def random_case(seed: int, n_users: int = 40, n_items: int = 15) -> tuple:
    """Seeded recommendations with ties, repeats, short and missing lists, and users who are
    recommended to but not evaluated."""
    rng = np.random.default_rng(seed)
    rec_rows, rel_rows = [], []
    for user in range(n_users):
        for _ in range(rng.integers(0, 12)):
            # One decimal makes ties common; repeats of an item happen by chance.
            rec_rows.append((user, int(rng.integers(n_items)), round(float(rng.random()), 1)))
        if user % 7 != 3:
            for item in rng.choice(n_items, size=rng.integers(1, 6), replace=False):
                rel_rows.append((user, int(item)))
    return rec_rows, rel_rows


def reference_per_user(rec_rows: list[tuple], rel_rows: list[tuple], k: int) -> dict:
    """Slow, obviously correct per-user metrics, straight from the protocol."""
    lists: dict[int, list[int]] = defaultdict(list)
    # Highest score first, ties by item id; an item already listed is skipped.
    for user, item, _ in sorted(rec_rows, key=lambda row: (-row[2], row[1])):
        if item not in lists[user]:
            lists[user].append(item)
    relevant: dict[int, set[int]] = defaultdict(set)
    for user, item in rel_rows:
        relevant[user].add(item)

    result = {}
    for user, items in relevant.items():
        top = lists.get(user, [])[:k]
        rel = [1 if item in items else 0 for item in top]
        hits = sum(rel)
        precision = hits / k
        recall = hits / len(items)
        f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
        ap = sum(sum(rel[:i]) / i * rel[i - 1] for i in range(1, len(top) + 1))
        ap /= min(k, len(items))
        dcg = sum(rel[i - 1] / math.log2(i + 1) for i in range(1, len(top) + 1))
        idcg = sum(1 / math.log2(i + 1) for i in range(1, min(k, len(items)) + 1))
        result[user] = {
            PRECISION: precision,
            RECALL: recall,
            F1: f1,
            MAP: ap,
            NDCG: dcg / idcg,
            HIT_RATE: float(hits > 0),
        }
    return result


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 3, 10, 20])
def test_vectorised_per_user_scores_equal_the_pure_python_reference(seed, k) -> None:
    rec_rows, rel_rows = random_case(seed)
    rng = np.random.default_rng(seed + 100)
    recs = recs_frame(rec_rows).sample(frac=1.0, random_state=rng)  # row order must not matter

    per_user = per_user_ranking_scores(recs, relevant_frame(rel_rows), k=k)
    expected = reference_per_user(rec_rows, rel_rows, k)

    assert sorted(per_user[USER_ID]) == sorted(expected)
    for user, scores in expected.items():
        assert scores_of(per_user, user) == pytest.approx(scores), user


def test_scores_by_k_equal_ranking_scores_at_each_k() -> None:
    rec_rows, rel_rows = random_case(5)
    recs, relevant = recs_frame(rec_rows), relevant_frame(rel_rows)

    by_k = ranking_scores_by_k(recs, relevant, ks=(1, 5, 10, 20))

    assert by_k.index.name == K
    assert list(by_k.index) == [1, 5, 10, 20]
    assert list(by_k.columns) == list(RANKING_METRICS)
    for k in (1, 5, 10, 20):
        assert by_k.loc[k].to_dict() == pytest.approx(ranking_scores(recs, relevant, k=k))


def candidate_case(seed: int, n_users: int = 25, n_candidates: int = 8) -> tuple:
    """Every user scores the same number of candidates with distinct scores (sklearn averages
    tied scores) and every relevant item is among the candidates."""
    rng = np.random.default_rng(seed)
    y_score = np.array([rng.permutation(n_candidates) / n_candidates for _ in range(n_users)])
    y_true = np.zeros((n_users, n_candidates), dtype=int)
    for user in range(n_users):
        y_true[user, rng.choice(n_candidates, size=rng.integers(1, 5), replace=False)] = 1
    recs = pd.DataFrame(
        {
            USER_ID: np.repeat(np.arange(n_users), n_candidates),
            ITEM_ID: np.tile(np.arange(n_candidates), n_users),
            SCORE: y_score.ravel(),
        }
    )
    users, items = np.nonzero(y_true)
    return y_true, y_score, recs, relevant_frame(list(zip(users, items, strict=True)))


@pytest.mark.parametrize("k", [1, 2, 3, 5, 8, 12])
def test_ndcg_equals_sklearn_ndcg_score_when_every_relevant_item_is_a_candidate(k) -> None:
    # sklearn's ideal DCG@k puts all relevant candidates first: min(k, |R|) ones, which is our
    # ideal because every relevant item is a candidate.
    y_true, y_score, recs, relevant = candidate_case(seed=k)

    assert ranking_scores(recs, relevant, k=k)[NDCG] == pytest.approx(
        ndcg_score(y_true, y_score, k=k)
    )


def test_average_precision_equals_sklearn_when_k_covers_the_whole_list() -> None:
    # With k >= the list length and every relevant item in the list, min(k, |R|) = |R|.
    y_true, y_score, recs, relevant = candidate_case(seed=42)

    per_user = per_user_ranking_scores(recs, relevant, k=8)

    for user in range(len(y_true)):
        expected = average_precision_score(y_true[user], y_score[user])
        assert scores_of(per_user, user)[MAP] == pytest.approx(expected)


def test_both_sort_paths_give_the_same_lists(monkeypatch) -> None:
    rec_rows, _ = random_case(7)
    recs = recs_frame(rec_rows)
    fast = select_top_k(recs, k=6)

    # Force the lexsort used when one int64 sort code could overflow.
    monkeypatch.setattr(metrics, "_CODE_LIMIT", 0)

    pd.testing.assert_frame_equal(select_top_k(recs, k=6), fast)


# Coverage, novelty and diversity use every user's top k; k = 2 here:
# u1 -> a, b    u2 -> a, c    u3 -> d (only one item)
# fmt: off
BEYOND = recs_frame([
    ("u1", "a", 0.9), ("u1", "b", 0.8), ("u1", "c", 0.1),
    ("u2", "c", 0.7), ("u2", "a", 0.8),
    ("u3", "d", 0.4),
])
# fmt: on


def test_catalog_coverage_is_distinct_recommended_items_over_the_catalogue() -> None:
    # top 2: {a, b} | {a, c} | {d} -> 4 distinct items of 8.
    assert catalog_coverage(BEYOND, k=2, n_items=8) == pytest.approx(4 / 8)
    # top 1: a | a | d -> 2 of 8.
    assert catalog_coverage(BEYOND, k=1, n_items=8) == pytest.approx(2 / 8)
    assert catalog_coverage(recs_frame([]), k=2, n_items=8) == 0.0
    assert math.isnan(catalog_coverage(BEYOND, k=2, n_items=0))


def test_novelty_is_the_mean_self_information_of_recommended_items() -> None:
    # 8 users in total; a was seen by 8, b by 2, c by 1, d by nobody (scored as 1).
    # Slots: a, b, a, c, d -> -log2(8/8), -log2(2/8), -log2(8/8), -log2(1/8), -log2(1/8)
    #                       = 0, 2, 0, 3, 3 -> mean 8/5 bits
    counts = pd.Series({"a": 8, "b": 2, "c": 1})

    assert novelty(BEYOND, k=2, item_counts=counts, total=8) == pytest.approx(8 / 5)
    # A count of 0 is treated like a missing item.
    with_zero = pd.concat([counts, pd.Series({"d": 0})])
    assert novelty(BEYOND, k=2, item_counts=with_zero, total=8) == pytest.approx(8 / 5)
    # k = 1: a, a, d -> 0, 0, 3 -> 1 bit
    assert novelty(BEYOND, k=1, item_counts=counts, total=8) == pytest.approx(1.0)
    assert math.isnan(novelty(recs_frame([]), k=2, item_counts=counts, total=8))


def test_intra_list_diversity_is_the_mean_share_of_pairs_in_different_categories() -> None:
    categories = pd.Series({"a": "shoes", "b": "shoes", "c": "bags", "d": "hats"})

    # k = 3: u1 -> a, b, c: pairs ab (same), ac, bc (different) -> 2/3
    #        u2 -> a, c: one pair, different -> 1
    #        u3 -> d alone has no pair and is left out -> mean (2/3 + 1) / 2 = 5/6
    assert intra_list_diversity(BEYOND, k=3, item_category=categories) == pytest.approx(5 / 6)
    # k = 2: u1 -> a, b (same) -> 0; u2 -> a, c -> 1; mean 1/2
    assert intra_list_diversity(BEYOND, k=2, item_category=categories) == pytest.approx(0.5)


def test_intra_list_diversity_leaves_out_items_without_a_category() -> None:
    # b has no category: u1 -> a, c -> 1; u2 -> a, c -> 1.
    categories = pd.Series({"a": "shoes", "b": None, "c": "bags"})

    assert intra_list_diversity(BEYOND, k=3, item_category=categories) == pytest.approx(1.0)


def test_intra_list_diversity_is_nan_without_categories() -> None:
    assert math.isnan(intra_list_diversity(BEYOND, k=3, item_category=pd.Series(dtype=object)))
