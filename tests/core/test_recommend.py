"""Tests for the two-stage recommender: the evaluation protocol (train before t, relevant items
bought in [t, t + H), already-bought items blocked unless buy_again, no test-window leakage),
the interactions at a date, candidate generation, cold start, reasons, baselines and the
evaluation report. Tiny literal frames carry the hand-computed cases; a small synthetic shop
carries the protocol checks."""

from __future__ import annotations

import dataclasses
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from core import recommend as rec
from core import schema
from core.ml import metrics
from core.ml.metrics import MLP, NDCG, RANK, SCORE
from core.ml.network import NetworkConfig, NetworkTrainer
from core.recommend import (
    BASELINES,
    REASON,
    NoItemsError,
    RecommenderConfig,
    UnknownUserError,
    baseline_recommendations,
    browse,
    build_interactions,
    evaluate_recommender,
    explain,
    fit_recommender,
    generate_candidates,
    interactions,
    popular_in_segment,
    recommend_everyone,
    recommend_for_items,
    recommend_for_user,
    recommend_users,
    relevant_items,
    write_everyone,
)
from core.recommend.reasons import _top_categories
from core.schema import CART, FAV, PURCHASE, VIEW
from tests.frames import SHORT, canonical, make_events, small_shop_frames

DAY = pd.Timedelta(days=1)
CONFIG = RecommenderConfig(
    network=NetworkConfig(hidden_layers=(8,), epochs=5, batch_size=256, random_state=0),
    candidates=20,
    negatives=10,
    train_windows=2,
)
BOUNDED_METRICS = ("precision", "recall", "f1", "map", NDCG, "hit_rate", "coverage")

# --- the tiny shop -------------------------------------------------------------------------
#
# Cutoff 1 Jun 2026, horizon 10 days: the test window is [1 Jun, 11 Jun).
# Before the cutoff: u1 bought i1, viewed i2 twice and carted i3; u2 and u3 bought i1 and i2
# together; u4 viewed i4 and bought i5; u5 only viewed i6 (which nobody else touched).
# In the window: u1 buys i1 again and i2, u2 buys i3 and the brand-new i7, u4 views i6, u6 (no
# history) buys i4. After it: u5 buys i6 on 20 Jun.

TINY_CUTOFF = pd.Timestamp("2026-06-01")
TINY_H = 10
BOOKS, TOYS = "Books", "Toys"
TINY_ROWS = [
    ("u1", "i1", PURCHASE, "2026-05-01 12:00", BOOKS, 10.0),
    ("u1", "i2", VIEW, "2026-05-10 12:00", BOOKS, 12.0),
    ("u1", "i2", VIEW, "2026-05-20 12:00", BOOKS, 12.0),
    ("u1", "i3", CART, "2026-05-25 12:00", BOOKS, 14.0),
    ("u2", "i1", PURCHASE, "2026-05-03 12:00", BOOKS, 10.0),
    ("u2", "i2", PURCHASE, "2026-05-04 12:00", BOOKS, 12.0),
    ("u2", "i4", VIEW, "2026-05-05 12:00", TOYS, 20.0),
    ("u3", "i1", PURCHASE, "2026-05-06 12:00", BOOKS, 10.0),
    ("u3", "i2", PURCHASE, "2026-05-06 12:00", BOOKS, 12.0),
    ("u3", "i5", FAV, "2026-05-07 12:00", TOYS, 22.0),
    ("u4", "i4", VIEW, "2026-05-09 12:00", TOYS, 20.0),
    ("u4", "i5", PURCHASE, "2026-05-10 12:00", TOYS, 22.0),
    ("u5", "i6", VIEW, "2026-05-12 00:00", TOYS, 24.0),
    ("u1", "i1", PURCHASE, "2026-06-02 12:00", BOOKS, 10.0),
    ("u1", "i2", PURCHASE, "2026-06-03 12:00", BOOKS, 12.0),
    ("u2", "i3", PURCHASE, "2026-06-04 12:00", BOOKS, 14.0),
    ("u4", "i6", VIEW, "2026-06-05 12:00", TOYS, 24.0),
    ("u6", "i4", PURCHASE, "2026-06-06 12:00", TOYS, 20.0),
    ("u2", "i7", PURCHASE, "2026-06-07 12:00", TOYS, 30.0),
    ("u5", "i6", PURCHASE, "2026-06-20 12:00", TOYS, 24.0),
]


def events_frame(rows: list[tuple]) -> pd.DataFrame:
    """(user, item, event type, time, category, price) tuples -> a canonical events frame."""
    return make_events(rows, (*SHORT, schema.CATEGORY, schema.PRICE))


def tiny() -> pd.DataFrame:
    return events_frame(TINY_ROWS)


def position(index: pd.Index, label: str) -> int:
    return int(index.get_loc(label))


def pairs_of(frame: pd.DataFrame) -> set[tuple[str, str]]:
    users, items = frame[schema.USER_ID].astype("str"), frame[schema.ITEM_ID].astype("str")
    return set(zip(users, items, strict=True))


def items_of(frame: pd.DataFrame, user: str) -> list[str]:
    mine = frame[frame[schema.USER_ID].astype("str") == user]
    return mine.sort_values(RANK)[schema.ITEM_ID].astype("str").tolist()


def candidate_items(candidates: rec.Candidates, inter: rec.Interactions, user: str) -> set[str]:
    code = position(inter.user_ids, user)
    return set(inter.item_ids[candidates.items[candidates.users == code]])


def reason_for(recommender: rec.Recommender, user: str, item: str) -> str:
    inter = recommender.interactions
    one = pd.DataFrame(
        {"user": [position(inter.user_ids, user)], "item": [position(inter.item_ids, item)]}
    )
    return explain(recommender, one).iloc[0]


def same_interactions(left: rec.Interactions, right: rec.Interactions) -> list[str]:
    """The fields of two Interactions that differ (empty when they are identical)."""
    differ = []
    for name in (f.name for f in dataclasses.fields(left)):
        a, b = getattr(left, name), getattr(right, name)
        if sparse.issparse(a):
            same = a.shape == b.shape and (a != b).nnz == 0
        elif isinstance(a, list):
            same = len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
        elif isinstance(a, np.ndarray):
            same = np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        elif isinstance(a, pd.Index):
            same = a.equals(b)
        else:
            same = a == b
        if not same:
            differ.append(name)
    return differ


@pytest.fixture(scope="module")
def tiny_recommender() -> rec.Recommender:
    return fit_recommender(tiny(), None, cutoff=TINY_CUTOFF, horizon_days=TINY_H, config=CONFIG)


# --- the sample shop -----------------------------------------------------------------------

# The sample shop runs from 1 May to 31 Oct 2026; the last 30 days are the test window.
CUTOFF = pd.Timestamp("2026-10-02")
H = 30
K = 10


@pytest.fixture(scope="module")
def shop() -> tuple[pd.DataFrame, pd.DataFrame]:
    return canonical(*small_shop_frames())


@pytest.fixture(scope="module")
def evaluated(shop) -> tuple[rec.Recommender, rec.RecommendationEvaluation]:
    return evaluate_recommender(*shop, cutoff=CUTOFF, horizon_days=H, k=K, config=CONFIG)


@pytest.fixture(scope="module")
def evaluated_buy_again(shop) -> tuple[rec.Recommender, rec.RecommendationEvaluation]:
    config = dataclasses.replace(CONFIG, buy_again=True)
    return evaluate_recommender(*shop, cutoff=CUTOFF, horizon_days=H, k=K, config=config)


def bought_before(events: pd.DataFrame, cutoff: pd.Timestamp) -> set[tuple[str, str]]:
    bought = (events[schema.TIMESTAMP] < cutoff) & (events[schema.EVENT_TYPE] == PURCHASE)
    return pairs_of(events[bought])


def change_the_test_window(events: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Every event from ``cutoff`` on is altered (prices tripled, a third turned into purchases)
    and each is duplicated a day later, with the same users, items and event types as before."""
    changed = events.copy()
    later = (changed[schema.TIMESTAMP] >= cutoff).to_numpy()
    changed.loc[later, schema.PRICE] = changed.loc[later, schema.PRICE] * 3
    types = changed[schema.EVENT_TYPE].astype("str").to_numpy().copy()
    types[np.flatnonzero(later)[::3]] = PURCHASE
    changed[schema.EVENT_TYPE] = pd.Categorical(
        types, categories=events[schema.EVENT_TYPE].cat.categories
    )
    extra = changed[later].assign(**{schema.TIMESTAMP: changed.loc[later, schema.TIMESTAMP] + DAY})
    changed = pd.concat([changed, extra], ignore_index=True)
    changed = changed.sort_values(schema.TIMESTAMP, kind="stable", ignore_index=True)
    for column in (schema.USER_ID, schema.ITEM_ID, schema.EVENT_TYPE):
        changed[column] = changed[column].astype(events[column].dtype)
    return changed


# --- the evaluation protocol ----------------------------------------------------------------


def test_relevant_items_are_the_distinct_items_bought_in_the_window_by_users_with_history():
    events = tiny()
    inter = build_interactions(events, None, TINY_CUTOFF)
    end = TINY_CUTOFF + TINY_H * DAY
    pairs = relevant_items(events, inter, TINY_CUTOFF, end, buy_again=False)
    found = {(inter.user_ids[u], inter.item_ids[i]) for u, i in pairs.itertuples(index=False)}
    # u1 re-buying i1 is left out (bought before t); u4's view is no purchase; u6 has no
    # history; u5's purchase on 20 Jun is after the window; i7 did not exist at t (its first
    # event is u2's purchase on 7 Jun), so no list could have held it.
    assert found == {("u1", "i2"), ("u2", "i3")}
    assert not pairs.duplicated().any()
    with_new = relevant_items(events, inter, TINY_CUTOFF, end, buy_again=False, new_items=True)
    found = {(inter.user_ids[u], inter.item_ids[i]) for u, i in with_new.itertuples(index=False)}
    assert found == {("u1", "i2"), ("u2", "i3"), ("u2", "i7")}


def test_relevant_items_with_buy_again_keep_items_bought_before_the_cutoff():
    events = tiny()
    inter = build_interactions(events, None, TINY_CUTOFF)
    end = TINY_CUTOFF + TINY_H * DAY
    pairs = relevant_items(events, inter, TINY_CUTOFF, end, buy_again=True)
    found = {(inter.user_ids[u], inter.item_ids[i]) for u, i in pairs.itertuples(index=False)}
    assert found == {("u1", "i1"), ("u1", "i2"), ("u2", "i3")}  # i7 did not exist at t


def test_relevant_items_are_any_event_in_the_window_when_the_data_has_no_purchases():
    rows = [
        ("u1", "i1", VIEW, "2026-05-01 12:00", BOOKS, 10.0),
        ("u2", "i2", CART, "2026-05-02 12:00", BOOKS, 12.0),
        ("u1", "i2", VIEW, "2026-06-02 12:00", BOOKS, 12.0),
        ("u1", "i2", FAV, "2026-06-03 12:00", BOOKS, 12.0),
        ("u2", "i1", CART, "2026-06-04 12:00", BOOKS, 10.0),
        ("u3", "i1", VIEW, "2026-06-05 12:00", BOOKS, 10.0),
        ("u2", "i2", VIEW, "2026-06-30 12:00", BOOKS, 12.0),
    ]
    events = events_frame(rows)
    inter = build_interactions(events, None, TINY_CUTOFF)
    pairs = relevant_items(events, inter, TINY_CUTOFF, TINY_CUTOFF + TINY_H * DAY, buy_again=False)
    found = {(inter.user_ids[u], inter.item_ids[i]) for u, i in pairs.itertuples(index=False)}
    assert found == {("u1", "i2"), ("u2", "i1")}  # u3 has no history; 30 Jun is too late


def test_evaluated_users_and_relevant_pairs_follow_the_protocol(shop, evaluated):
    events, _ = shop
    _, evaluation = evaluated
    window = events[
        (events[schema.TIMESTAMP] >= CUTOFF) & (events[schema.TIMESTAMP] < CUTOFF + H * DAY)
    ]
    before = events[events[schema.TIMESTAMP] < CUTOFF]
    with_history = set(before[schema.USER_ID].astype("str"))
    existing = set(before[schema.ITEM_ID].astype("str"))
    bought = pairs_of(window[window[schema.EVENT_TYPE] == PURCHASE])
    expected = {
        (user, item) for user, item in bought if user in with_history and item in existing
    } - bought_before(events, CUTOFF)
    assert expected  # the sample shop has buyers in the window
    assert pairs_of(evaluation.relevant) == expected
    assert not evaluation.relevant.duplicated().any()
    assert evaluation.users == len({user for user, _ in expected})


def test_no_item_bought_before_the_cutoff_is_recommended_or_counted_as_a_hit(shop, evaluated):
    events, _ = shop
    _, evaluation = evaluated
    bought = bought_before(events, CUTOFF)
    assert not pairs_of(evaluation.relevant) & bought
    assert set(evaluation.recommendations) == {MLP, *BASELINES}
    for name, frame in evaluation.recommendations.items():
        assert not pairs_of(frame) & bought, name


def test_with_buy_again_items_bought_before_the_cutoff_may_be_recommended_and_count(
    shop, evaluated_buy_again
):
    events, _ = shop
    _, evaluation = evaluated_buy_again
    bought = bought_before(events, CUTOFF)
    rebought = pairs_of(evaluation.relevant) & bought
    assert rebought
    assert pairs_of(evaluation.recommendations[MLP]) & bought
    hits = pairs_of(evaluation.recommendations[MLP]) & rebought
    assert hits  # an item bought again is a hit


@pytest.mark.parametrize("table", ["with_products", "without_products"])
def test_test_window_events_change_nothing_the_recommender_learns(shop, table):
    """Prices, event types and extra events from the cutoff on: nothing of them leaks, whether the
    product table gives the prices or only the events do."""
    events, products = shop
    products = products if table == "with_products" else None
    changed = change_the_test_window(events, CUTOFF)
    before = fit_recommender(events, products, cutoff=CUTOFF, horizon_days=H, config=CONFIG)
    after = fit_recommender(changed, products, cutoff=CUTOFF, horizon_days=H, config=CONFIG)

    assert same_interactions(before.interactions, after.interactions) == []
    assert before.train_pairs == after.train_pairs > 0
    assert before.ranker is not None  # the lists below come from the MLP ranker
    users = np.flatnonzero(before.interactions.user_events > 0)
    lists = recommend_users(before, users, k=K)
    assert lists[[schema.USER_ID, schema.ITEM_ID, RANK]].equals(
        recommend_users(after, users, k=K)[[schema.USER_ID, schema.ITEM_ID, RANK]]
    )
    assert lists[SCORE].to_numpy() == pytest.approx(recommend_users(after, users, k=K)[SCORE])
    # ...while what is evaluated does change.
    end = CUTOFF + H * DAY
    relevant = relevant_items(events, before.interactions, CUTOFF, end, buy_again=False)
    relevant_changed = relevant_items(changed, after.interactions, CUTOFF, end, buy_again=False)
    assert len(relevant_changed) > len(relevant)


def test_above_the_most_training_pairs_candidates_are_made_for_a_share_of_the_users(
    shop, monkeypatch
):
    events, products = shop
    config = dataclasses.replace(CONFIG, candidates=100, negatives=60)
    asked: list[np.ndarray] = []

    def recording(inter, users, **settings):
        asked.append(users)
        return generate_candidates(inter, users, **settings)

    monkeypatch.setattr(rec.model, "generate_candidates", recording)
    whole = fit_recommender(events, products, cutoff=CUTOFF, horizon_days=H, config=config)
    everyone = sum(len(users) for users in asked)
    assert whole.train_pairs > 4000  # under the default bound: every user's pairs
    asked.clear()
    bounded = dataclasses.replace(config, max_train_pairs=1000)
    fitted = fit_recommender(events, products, cutoff=CUTOFF, horizon_days=H, config=bounded)
    assert 500 < fitted.train_pairs <= 1000
    assert sum(len(users) for users in asked) < everyone / 2


def test_training_users_are_a_random_share_a_little_above_what_the_pair_bound_asks():
    window_1 = pd.DataFrame({"user": np.arange(50), "item": np.zeros(50, dtype=int)})
    window_2 = pd.DataFrame({"user": np.arange(25, 75), "item": np.ones(50, dtype=int)})
    config = dataclasses.replace(CONFIG, negatives=30, max_train_pairs=1000)
    # At most 100 bought pairs plus 30 negatives for each of 100 (user, window): 3,100 pairs.
    chosen = rec.model._training_users([window_1, window_2], config)
    assert chosen is not None
    assert len(chosen) == 31  # 75 users times 1.25 * 1,000 / 3,100, rounded up
    assert set(chosen) <= set(range(75)) and list(chosen) == sorted(set(chosen))
    again = rec.model._training_users([window_1, window_2], config)
    assert again is not None and again.tolist() == chosen.tolist()
    roomy = dataclasses.replace(config, max_train_pairs=3100)
    assert rec.model._training_users([window_1, window_2], roomy) is None


def test_candidates_made_chunk_by_chunk_on_two_threads_are_those_made_at_once(
    evaluated, monkeypatch
):
    recommender, _ = evaluated
    inter = recommender.interactions
    users = np.flatnonzero(inter.user_events > 0)
    settings = {"per_source": 10, "buy_again": False, "category_model": recommender.category_model}
    at_once = generate_candidates(inter, users, **settings)
    monkeypatch.setattr(rec.candidates, "CHUNK_USERS", 3)
    in_chunks = generate_candidates(inter, users, **settings)
    assert len(users) > 3 * 4 and len(at_once.users) > 0
    assert np.array_equal(in_chunks.users, at_once.users)
    assert np.array_equal(in_chunks.items, at_once.items)
    # the same values (the next-category model's probabilities differ by about 1e-8: its
    # single-precision products run on batches of another size)
    for field in ("features", "knn", "category_popularity"):
        assert getattr(in_chunks, field) == pytest.approx(getattr(at_once, field), rel=1e-5), field


def test_an_item_first_seen_after_the_cutoff_is_never_recommended():
    events = tiny()
    inter = build_interactions(events, None, TINY_CUTOFF)
    candidates = generate_candidates(inter, np.arange(6), per_source=3, buy_again=False)
    assert "i7" not in set(inter.item_ids[candidates.items])
    _, evaluation = evaluate_recommender(
        events, None, cutoff=TINY_CUTOFF, horizon_days=TINY_H, k=6, config=CONFIG, ks=(1, 6)
    )
    for name, frame in evaluation.recommendations.items():
        assert "i7" not in set(frame[schema.ITEM_ID]), name


def later_products() -> pd.DataFrame:
    """A product table exported after the tiny shop's cutoff: it lists the brand-new i7 (first
    sold on 7 Jun) with a price far above the rest, and i6 out of stock."""
    return pd.DataFrame(
        {
            schema.ITEM_ID: [f"i{n}" for n in range(1, 8)],
            schema.CATEGORY: [BOOKS, BOOKS, BOOKS, TOYS, TOYS, TOYS, TOYS],
            schema.PRICE: [10.0, 12.0, np.nan, 20.0, 22.0, 24.0, 1000.0],
            "in_stock": [1, 1, 1, 1, 1, 0, 1],
        }
    )


def test_a_later_product_table_adds_no_item_that_did_not_exist_at_the_cutoff():
    events = tiny().drop(columns=schema.PRICE)  # prices from the table only
    inter = build_interactions(events, later_products(), TINY_CUTOFF)
    assert inter.item_ids[inter.known].tolist() == ["i1", "i2", "i3", "i4", "i5", "i6"]
    assert inter.item_ids[inter.allowed].tolist() == ["i1", "i2", "i3", "i4", "i5", "i6"]
    # The table still describes the items that existed, but i7's price does not fill i3's gap:
    # the median of i1, i2, i4, i5 and i6 is 20 (with i7's 1000 it would be 21).
    assert inter.item_price[position(inter.item_ids, "i3")] == 20.0
    assert inter.item_price[position(inter.item_ids, "i5")] == 22.0
    catalogue = build_interactions(events, later_products(), TINY_CUTOFF, catalogue_only=True)
    assert catalogue.item_ids[catalogue.allowed].tolist() == ["i1", "i2", "i3", "i4", "i5"]


def test_recommending_now_keeps_every_item_of_the_data_and_of_the_product_table():
    events = tiny()
    end = pd.Timestamp("2026-06-21")  # the day after the last event: the data's end
    inter = build_interactions(events, later_products(), end)
    assert inter.item_ids[inter.allowed].tolist() == [f"i{n}" for n in range(1, 8)]
    catalogue = build_interactions(events, later_products(), end, catalogue_only=True)
    assert catalogue.item_ids[catalogue.allowed].tolist() == ["i1", "i2", "i3", "i4", "i5", "i7"]


def test_with_a_later_product_table_no_model_recommends_or_counts_a_later_item():
    """The random baseline went past 100% coverage when a later table added items."""
    events, products = tiny(), later_products()
    _, evaluation = evaluate_recommender(
        events, products, cutoff=TINY_CUTOFF, horizon_days=TINY_H, k=7, config=CONFIG, ks=(1, 7)
    )
    assert set(evaluation.recommendations) == {MLP, *BASELINES}
    for name, frame in evaluation.recommendations.items():
        assert "i7" not in set(frame[schema.ITEM_ID].astype("str")), name
    assert "i7" not in set(evaluation.relevant[schema.ITEM_ID])
    assert evaluation.users == 2  # u1 (bought i2) and u2 (bought i3)
    # Six items existed. Random lists all the unbought ones at k = 7: i2..i6 for u1, i3..i6
    # for u2, so it covers five of the six (with i7 counted it was six of six).
    assert evaluation.scores.loc["random", "coverage"] == pytest.approx(5 / 6)
    assert (evaluation.scores["coverage"] <= 1.0).all()
    without_table = evaluate_recommender(
        events, None, cutoff=TINY_CUTOFF, horizon_days=TINY_H, k=7, config=CONFIG, ks=(1, 7)
    )[1]
    assert evaluation.scores.loc["random", "coverage"] == pytest.approx(
        without_table.scores.loc["random", "coverage"]
    )


# --- interactions at a date ----------------------------------------------------------------


def test_weights_rank_purchase_over_cart_over_fav_over_view_with_a_60_day_half_life():
    rows = [
        ("u1", "i1", PURCHASE, "2026-04-02", BOOKS, 10.0),  # 60 days before 1 Jun
        ("u1", "i1", VIEW, "2026-05-02", BOOKS, 10.0),  # 30 days before
        ("u2", "i1", CART, "2026-04-02", BOOKS, 10.0),
        ("u3", "i1", FAV, "2026-04-02", BOOKS, 10.0),
        ("u4", "i1", VIEW, "2026-04-02", BOOKS, 10.0),
    ]
    inter = build_interactions(events_frame(rows), None, TINY_CUTOFF)
    weights = inter.weights.toarray()[:, 0]
    # 5 x 0.5^(60/60) + 1 x 0.5^(30/60) = 2.5 + 0.70710678
    assert weights[0] == pytest.approx(3.2071068)
    assert weights[1:] == pytest.approx([1.5, 1.0, 0.5])


def test_views_carts_and_bought_count_events_before_the_date():
    rows = [*TINY_ROWS, ("u2", "i2", PURCHASE, "2026-05-30 12:00", BOOKS, 12.0)]
    inter = build_interactions(events_frame(rows), None, TINY_CUTOFF)
    u1, u2, u5 = (position(inter.user_ids, u) for u in ("u1", "u2", "u5"))
    i1, i2, i3, i6 = (position(inter.item_ids, i) for i in ("i1", "i2", "i3", "i6"))
    assert inter.views[u1, i2] == 2
    assert inter.carts[u1, i3] == 1
    assert inter.bought[u2, i2] == 1  # bought twice, still a yes
    assert inter.bought[u1, i1] == 1  # the re-purchase on 2 Jun is after the date
    assert inter.views[u5, i6] == 1 and inter.bought[u5, i6] == 0  # 20 Jun is after it
    assert inter.bought.sum() == 6
    assert inter.user_events.tolist() == [4, 4, 3, 2, 1, 0]  # u2: 3 + the extra purchase


def test_popularity_ranks_most_sold_first_and_counts_only_events_before_the_date():
    inter = build_interactions(tiny(), None, TINY_CUTOFF)
    order = inter.item_ids[np.argsort(-inter.popularity, kind="stable")].tolist()
    assert order == ["i1", "i2", "i5", "i3", "i4", "i6", "i7"]
    # i6: one view 20 days before the date, none of its later events: log1p(0.1 x 0.5^(20/60)).
    assert inter.popularity[position(inter.item_ids, "i6")] == pytest.approx(0.0763776)
    assert inter.popularity[position(inter.item_ids, "i7")] == 0.0


def test_items_bought_together_are_each_others_top_neighbours():
    inter = build_interactions(tiny(), None, TINY_CUTOFF)
    similarity = inter.similarity.toarray()
    i1, i2 = position(inter.item_ids, "i1"), position(inter.item_ids, "i2")
    assert similarity.argmax(axis=1)[i1] == i2
    assert similarity.argmax(axis=1)[i2] == i1
    assert similarity == pytest.approx(similarity.T)
    assert np.diag(similarity).tolist() == [0.0] * len(inter.item_ids)
    assert similarity[position(inter.item_ids, "i6")].sum() == 0  # viewed by u5 alone


def test_the_item_vocabulary_keeps_only_the_most_active_items_recommendable():
    # Events before the cutoff: i2 4, i1 3, i4 and i5 2 each (the tie goes to the earlier
    # code, i4), i3 and i6 1 each.
    inter = build_interactions(tiny(), None, TINY_CUTOFF, max_items=3)
    vocabulary = {"i1", "i2", "i4"}
    assert set(inter.item_ids[inter.allowed]) == vocabulary
    assert inter.items_beyond_vocabulary == 3
    linked = sparse.coo_matrix(inter.similarity)
    assert set(inter.item_ids[linked.row]) | set(inter.item_ids[linked.col]) <= vocabulary
    assert inter.views[position(inter.user_ids, "u5"), position(inter.item_ids, "i6")] == 1
    note = interactions.vocabulary_note(inter)
    assert note is not None and "Only the 3 most active products" in note and "3 less" in note
    assert interactions.vocabulary_note(build_interactions(tiny(), None, TINY_CUTOFF)) is None


def test_no_model_recommends_an_item_outside_the_vocabulary():
    config = dataclasses.replace(CONFIG, max_items=3)
    recommender, evaluation = evaluate_recommender(
        tiny(), None, cutoff=TINY_CUTOFF, horizon_days=TINY_H, k=3, config=config
    )
    for name, lists in evaluation.recommendations.items():
        assert set(lists[schema.ITEM_ID].astype("str")) <= {"i1", "i2", "i4"}, name
    assert any("most active products" in note for note in recommender.notes)


def test_item_similarity_in_blocks_is_the_top_neighbours_of_the_whole_cosine(monkeypatch):
    rng = np.random.default_rng(7)
    weights = sparse.random(40, 25, density=0.3, random_state=rng, format="csr")
    vocabulary = np.ones(25, dtype=bool)
    vocabulary[[3, 11]] = False
    monkeypatch.setattr(interactions, "NEIGHBOURS", 4)
    monkeypatch.setattr(interactions, "SIMILARITY_BLOCK", 3)
    got = interactions._item_similarity(weights, vocabulary).toarray()
    history = weights.toarray()[:, vocabulary]
    history = np.log1p(history) / np.linalg.norm(np.log1p(history), axis=0).clip(1e-12)
    cosine = history.T @ history
    np.fill_diagonal(cosine, 0.0)
    expected = np.zeros((25, 25))
    inside = np.flatnonzero(vocabulary)
    for row, values in zip(inside, cosine, strict=True):
        top = np.argsort(-values)[:4]
        top = top[values[top] > 0]
        expected[row, inside[top]] = values[top]
    assert got == pytest.approx(expected)


def test_top_per_row_keeps_each_rows_largest_positive_entries():
    rows = [[0.5, 3.0, -1.0, 2.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    matrix = sparse.csr_matrix(np.array(rows))
    top = interactions.top_per_row(matrix, 2).toarray()
    assert top.tolist() == [[0.0, 3.0, 0.0, 2.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]


def test_category_shares_sum_to_one_for_each_user_with_events():
    inter = build_interactions(tiny(), None, TINY_CUTOFF)
    shares = inter.user_category.toarray()
    totals = shares.sum(axis=1)
    assert totals[:5] == pytest.approx([1.0] * 5)
    assert totals[position(inter.user_ids, "u6")] == 0.0  # no history before the date
    books, toys = position(inter.category_names, BOOKS), position(inter.category_names, TOYS)
    assert shares[position(inter.user_ids, "u1"), books] == 1.0
    # u2: purchases 29 and 28 days back (Books), a view 27 days back (Toys).
    toy = 0.5 ** (27 / 60)
    expected = toy / (5 * 0.5 ** (29 / 60) + 5 * 0.5 ** (28 / 60) + toy)
    assert shares[position(inter.user_ids, "u2"), toys] == pytest.approx(expected)


def test_events_at_or_after_the_date_never_count():
    # Without category or price columns: item attributes are a known leak (see the xfail above).
    at_the_date = ("u5", "i1", PURCHASE, "2026-06-01 00:00", BOOKS, 10.0)
    everything = events_frame([*TINY_ROWS, at_the_date]).drop(
        columns=[schema.CATEGORY, schema.PRICE]
    )
    before = everything[everything[schema.TIMESTAMP] < TINY_CUTOFF]
    assert len(before) == 13
    assert (
        same_interactions(
            build_interactions(everything, None, TINY_CUTOFF),
            build_interactions(before, None, TINY_CUTOFF),
        )
        == []
    )


# --- candidates ----------------------------------------------------------------------------


def test_candidates_hold_touched_popular_neighbour_and_category_items_but_nothing_bought():
    inter = build_interactions(tiny(), None, TINY_CUTOFF)
    candidates = generate_candidates(inter, np.arange(6), per_source=2, buy_again=False)
    found = {u: candidate_items(candidates, inter, u) for u in ("u1", "u2", "u3", "u4", "u5")}
    assert {"i2", "i3"} <= found["u1"]  # viewed, carted
    assert "i4" in found["u2"] and "i5" in found["u3"] and "i6" in found["u5"]  # touched
    assert {"i1", "i2"} <= found["u4"] and {"i1", "i2"} <= found["u5"]  # the two most popular
    assert "i1" in found["u4"]  # u4's i4 is a neighbour of i1
    assert {"i4", "i5"} <= found["u5"]  # popular in u5's only category, Toys
    bought = bought_before(tiny(), TINY_CUTOFF)
    for user, items in found.items():
        assert not {(user, item) for item in items} & bought


def test_every_candidate_comes_from_a_generator_or_the_users_history():
    inter = build_interactions(tiny(), None, TINY_CUTOFF)
    users = np.arange(len(inter.user_ids))
    candidates = generate_candidates(inter, users, per_source=2, buy_again=False)
    history = inter.weights[users].toarray()
    knn = (inter.weights[users] @ inter.similarity).toarray()
    logged = inter.weights[users][:, inter.ease_items].toarray()
    ease = np.zeros_like(knn)
    ease[:, inter.ease_items] = np.log1p(logged) @ inter.ease
    shares = inter.user_category[users].toarray()
    popular = set(np.argsort(-inter.popularity, kind="stable")[:2])
    for user, item in zip(candidates.users, candidates.items, strict=True):
        category = inter.item_category[item]
        assert (
            item in popular
            or history[user, item] != 0
            or knn[user, item] > 0
            or ease[user, item] > 0
            or (category >= 0 and shares[user, category] > 0)
        )


def test_catalogue_only_never_proposes_unlisted_or_out_of_stock_items():
    products = pd.DataFrame(
        {
            schema.ITEM_ID: ["i1", "i2", "i3", "i4", "i5", "i6"],
            "in_stock": ["yes", "yes", "no", "Yes", "true", "1"],
        }
    )
    events = tiny()
    inter = build_interactions(events, products, TINY_CUTOFF, catalogue_only=True)
    assert inter.item_ids[~inter.allowed].tolist() == ["i3", "i7"]
    candidates = generate_candidates(inter, np.arange(6), per_source=5, buy_again=True)
    assert not {"i3", "i7"} & set(inter.item_ids[candidates.items])
    config = dataclasses.replace(CONFIG, catalogue_only=True)
    recommender = fit_recommender(
        events, products, cutoff=TINY_CUTOFF, horizon_days=TINY_H, config=config
    )
    users = np.arange(6)
    lists = [recommend_users(recommender, users, k=7)]
    lists += baseline_recommendations(recommender, users, k=7).values()
    lists += [popular_in_segment(recommender, None, k=7)]
    lists += [recommend_for_items(recommender, ["i1"], k=7)]
    for frame in lists:
        assert not {"i3", "i7"} & set(frame[schema.ITEM_ID].astype("str"))


def test_an_in_stock_column_of_floats_keeps_the_items_marked_one():
    products = pd.DataFrame({schema.ITEM_ID: ["i1", "i2", "i3"], "in_stock": [1.0, 0.0, np.nan]})
    inter = build_interactions(tiny(), products, TINY_CUTOFF, catalogue_only=True)
    assert inter.item_ids[inter.allowed].tolist() == ["i1"]


# --- cold start ----------------------------------------------------------------------------


def test_popular_in_segment_gives_the_categorys_most_popular_items(tiny_recommender):
    toys = popular_in_segment(tiny_recommender, TOYS, k=2)
    assert toys[schema.ITEM_ID].tolist() == ["i5", "i4"]  # one purchase; then two views beat one
    assert set(toys[schema.CATEGORY]) == {TOYS}
    assert toys[RANK].tolist() == [1, 2]
    assert set(toys[REASON]) == {"popular in Toys"}
    everything = popular_in_segment(tiny_recommender, None, k=3)
    assert everything[schema.ITEM_ID].tolist() == ["i1", "i2", "i5"]


def test_recommend_for_items_gives_neighbours_of_the_clicks_without_fitting(
    tiny_recommender, monkeypatch
):
    def no_fitting(*args, **kwargs):
        raise AssertionError("cold start must not fit anything")

    monkeypatch.setattr(rec, "build_interactions", no_fitting)
    monkeypatch.setattr(rec, "fit_recommender", no_fitting)
    monkeypatch.setattr(NetworkTrainer, "fit", no_fitting)
    similarity = tiny_recommender.interactions.similarity.copy()

    clicked = recommend_for_items(tiny_recommender, ["i1"], k=4)
    # i1's cosine neighbours, closest first: i2 (bought together twice), i3, i4, i5.
    assert clicked[schema.ITEM_ID].tolist() == ["i2", "i3", "i4", "i5"]
    assert set(clicked[REASON]) == {"close to what you clicked (i1)"}
    both = recommend_for_items(tiny_recommender, ["i1", "i2"], k=7)
    assert not {"i1", "i2"} & set(both[schema.ITEM_ID])
    assert (tiny_recommender.interactions.similarity != similarity).nnz == 0


def test_recommend_for_items_with_unknown_clicks_falls_back_to_popular_items(tiny_recommender):
    unknown = recommend_for_items(tiny_recommender, ["nothing"], k=2)
    assert unknown[schema.ITEM_ID].tolist() == ["i1", "i2"]
    assert set(unknown[REASON]) == {"popular across the shop right now"}


def test_recommend_for_user_without_history_lists_the_most_popular_items(tiny_recommender):
    assert tiny_recommender.ranker is None
    popular = recommend_for_user(tiny_recommender, "u6", k=3)
    assert popular[schema.ITEM_ID].tolist() == ["i1", "i2", "i5"]


# --- reasons -------------------------------------------------------------------------------

REASON_ROWS = [
    ("ann", "lamp", VIEW, "2026-05-10 12:00", BOOKS, 10.0),
    ("ann", "lamp", VIEW, "2026-05-20 12:00", BOOKS, 10.0),
    ("ann", "mug", VIEW, "2026-05-10 12:00", BOOKS, 10.0),
    ("ann", "mug", FAV, "2026-05-20 12:00", BOOKS, 10.0),
    ("bob", "pen", CART, "2026-05-05 12:00", BOOKS, 10.0),
    ("bob", "pen", VIEW, "2026-05-15 12:00", BOOKS, 10.0),
    ("cid", "tent", PURCHASE, "2026-05-03 12:00", TOYS, 10.0),
    ("cid", "tent", VIEW, "2026-05-25 12:00", TOYS, 10.0),
    ("eve", "tent", PURCHASE, "2026-05-04 12:00", TOYS, 10.0),
    ("eve", "stove", PURCHASE, "2026-05-04 12:00", TOYS, 10.0),
    ("fay", "tent", PURCHASE, "2026-05-06 12:00", TOYS, 10.0),
    ("fay", "stove", PURCHASE, "2026-05-06 12:00", TOYS, 10.0),
    ("gus", "tent", PURCHASE, "2026-05-08 12:00", TOYS, 10.0),
    ("hal", "tent", VIEW, "2026-05-09 12:00", TOYS, 10.0),
    ("dan", "kite", VIEW, "2026-04-14 00:00", TOYS, 10.0),
]


@pytest.fixture(scope="module")
def reasons_recommender() -> rec.Recommender:
    events = events_frame(REASON_ROWS)
    return fit_recommender(events, None, cutoff=TINY_CUTOFF, horizon_days=TINY_H, config=CONFIG)


def test_a_viewed_item_gives_the_view_count_and_last_view_date(reasons_recommender):
    assert reason_for(reasons_recommender, "ann", "lamp") == "you viewed it 2×, last on 20 May 2026"


def test_a_neighbour_of_a_touched_item_names_it_and_the_day(reasons_recommender):
    assert reason_for(reasons_recommender, "gus", "stove") == (
        "often chosen together with tent, which you bought on 8 May 2026"
    )
    assert reason_for(reasons_recommender, "hal", "stove") == (
        "often chosen together with tent, which you looked at on 9 May 2026"
    )


def test_category_and_shop_reasons_name_only_the_users_categories(tiny_recommender):
    # u5 only viewed i6, which has no neighbours: Toys is u5's only category.
    assert reason_for(tiny_recommender, "u5", "i5") == "popular in Toys, your top category"
    assert reason_for(tiny_recommender, "u5", "i1") == "popular across the shop right now"


def test_a_users_top_category_is_their_largest_share_the_lowest_code_among_ties():
    shares = sparse.csr_matrix(
        np.array([[0.2, 0.4, 0.4], [0.0, 0.0, 0.0], [0.5, 0.0, 0.5], [0.0, 0.0, 0.9]])
    )
    inter = SimpleNamespace(user_category=shares)
    # each user as many times as they have rows, in any order; a user with none gets 0
    found = _top_categories(inter, np.array([3, 0, 0, 1, 2, 3]))  # type: ignore[arg-type]
    assert found.tolist() == [2, 1, 1, 0, 0, 2]


def test_the_view_reason_date_is_the_last_view_not_a_later_fav(reasons_recommender):
    assert reason_for(reasons_recommender, "ann", "mug") == "you viewed it 1×, last on 10 May 2026"


def test_the_cart_reason_date_is_the_last_cart_not_a_later_view(reasons_recommender):
    assert reason_for(reasons_recommender, "bob", "pen") == (
        "you added it to your cart 1×, last on 5 May 2026"
    )


def test_the_together_reason_gives_the_day_the_anchor_was_bought(reasons_recommender):
    assert reason_for(reasons_recommender, "cid", "stove") == (
        "often chosen together with tent, which you bought on 3 May 2026"
    )


def test_a_reason_for_a_midnight_event_gives_that_day(reasons_recommender):
    assert reason_for(reasons_recommender, "dan", "kite") == "you viewed it 1×, last on 14 Apr 2026"


def _day(when: pd.Timestamp) -> str:
    return f"{when.day} {when:%b %Y}"


def check_reasons(
    reasons: pd.DataFrame, events: pd.DataFrame, products: pd.DataFrame, *, dates: bool
) -> list[str]:
    """Reasons that do not match the user's own events before the cutoff."""
    past = events[events[schema.TIMESTAMP] < CUTOFF]
    past = past.assign(**{c: past[c].astype("str") for c in (schema.USER_ID, schema.ITEM_ID)})
    by_user = dict(tuple(past.groupby(schema.USER_ID)))
    named = products.groupby(products[schema.NAME].astype("str"), observed=True)
    named = named[schema.ITEM_ID].agg(lambda items: set(items.astype("str")))
    items = products[schema.ITEM_ID].astype("str")
    category_of = dict(zip(items, products[schema.CATEGORY].astype("str"), strict=True))
    wrong = []
    columns = [schema.USER_ID, schema.ITEM_ID, REASON]
    for user, item, reason in reasons[columns].itertuples(index=False):
        mine = by_user[str(user)]
        own = mine[mine[schema.ITEM_ID] == str(item)]
        if match := re.fullmatch(
            r"you (viewed it|added it to your cart) (\d+)×, last on (.+)", reason
        ):
            kind = VIEW if match[1] == "viewed it" else CART
            done = own[own[schema.EVENT_TYPE] == kind]
            ok = len(done) == int(match[2])
            if dates:
                ok = ok and _day(done[schema.TIMESTAMP].max()) == match[3]
        elif match := re.fullmatch(
            r"often chosen together with (.+), which you (bought|looked at) on (.+)", reason
        ):
            anchors = mine[mine[schema.ITEM_ID].isin(named[match[1]])]
            if match[2] == "bought":
                anchors = anchors[anchors[schema.EVENT_TYPE] == PURCHASE]
            ok = len(anchors) > 0
            if dates:
                ok = ok and match[3] in {_day(t) for t in anchors[schema.TIMESTAMP]}
        elif match := re.fullmatch(
            r"popular in (.+), (your top category|one of your categories)", reason
        ):
            ok = match[1] in {category_of[i] for i in mine[schema.ITEM_ID]}
        else:
            ok = reason == "popular across the shop right now"
        if not ok:
            wrong.append(f"{user} {item}: {reason}")
    return wrong


@pytest.mark.slow
def test_every_reason_on_the_sample_shop_refers_to_the_users_own_events(shop, evaluated):
    events, products = shop
    recommender, _ = evaluated
    everyone = recommend_everyone(recommender, k=K)
    assert list(everyone.columns) == [
        schema.USER_ID, RANK, schema.ITEM_ID, schema.NAME, SCORE, REASON
    ]  # fmt: skip
    names = products.set_index(schema.ITEM_ID)[schema.NAME]
    assert (everyone[schema.NAME] == names.loc[everyone[schema.ITEM_ID]].to_numpy()).all()
    assert check_reasons(everyone, events, products, dates=False) == []
    user = str(everyone[schema.USER_ID].iloc[0])
    one = recommend_for_user(recommender, user, k=K)
    product = [schema.ITEM_ID, schema.NAME, schema.CATEGORY, schema.PRICE]
    assert list(one.columns) == [RANK, *product, SCORE, REASON]
    assert one[REASON].tolist() == everyone.loc[everyone[schema.USER_ID] == user, REASON].tolist()
    assert check_reasons(one.assign(**{schema.USER_ID: user}), events, products, dates=False) == []


@pytest.mark.slow
def test_every_reason_date_on_the_sample_shop_is_a_day_the_user_did_that(shop, evaluated):
    events, products = shop
    recommender, _ = evaluated
    everyone = recommend_everyone(recommender, k=K)
    assert check_reasons(everyone, events, products, dates=True) == []


def test_every_users_lists_written_to_parquet_in_batches_are_the_lists_in_memory(
    tiny_recommender, tmp_path, monkeypatch
):
    monkeypatch.setattr(browse, "EVERYONE_BATCH", 2)  # five users with history: three batches
    told: list[tuple[int, int]] = []
    out = tmp_path / "lists.parquet"
    rows = write_everyone(tiny_recommender, out, k=3, on_batch=lambda *done: told.append(done))
    written = pd.read_parquet(out)
    expected = recommend_everyone(tiny_recommender, k=3)
    assert rows == len(expected) == len(written)
    pd.testing.assert_frame_equal(written, expected.astype(written.dtypes.to_dict()))
    assert told == [(2, 5), (4, 5), (5, 5)]
    assert [path.name for path in tmp_path.iterdir()] == ["lists.parquet"]  # no temporary left


# --- baselines -----------------------------------------------------------------------------


def test_the_popularity_baseline_gives_the_most_popular_items_not_yet_bought(tiny_recommender):
    users = np.array([position(tiny_recommender.interactions.user_ids, u) for u in ("u1", "u4")])
    popular = baseline_recommendations(tiny_recommender, users, k=3)["popularity"]
    assert items_of(popular, "u1") == ["i2", "i5", "i3"]  # i1 is bought
    assert items_of(popular, "u4") == ["i1", "i2", "i3"]  # i5 is bought


def test_the_baselines_are_the_top_k_of_their_scores_over_every_recommendable_item(evaluated):
    recommender, _ = evaluated
    inter = recommender.interactions
    users = np.flatnonzero(inter.user_events > 0)[:60]
    got = baseline_recommendations(recommender, users, k=K)
    popular = np.argsort(-inter.popularity, kind="stable")
    popular = popular[inter.allowed[popular]]
    fallback = np.zeros(len(inter.item_ids))
    fallback[popular] = np.linspace(1e-6, 0, len(popular), endpoint=False)
    shares = inter.user_category[users].toarray()
    category = inter.item_category
    in_category = np.where(category >= 0, shares[:, np.maximum(category, 0)], 0.0)
    dense = {
        "popularity": np.broadcast_to(inter.popularity, (len(users), len(category))),
        "category_popularity": in_category * inter.popularity_in_category + fallback,
        "item_knn": (inter.weights[users] @ inter.similarity).toarray() + fallback,
    }
    blocked = (inter.bought[users].toarray() > 0) | ~inter.allowed
    for name, scores in dense.items():
        for row, user in enumerate(users):
            open_ = np.flatnonzero(~blocked[row])
            best = open_[np.lexsort((open_, -scores[row, open_]))][:K]
            expected = list(inter.item_ids[best])
            assert items_of(got[name], inter.user_ids[user]) == expected, (name, user)


def test_the_random_baseline_is_seeded(evaluated):
    recommender, _ = evaluated
    users = np.flatnonzero(recommender.interactions.user_events > 0)
    first = baseline_recommendations(recommender, users, k=K, seed=3)["random"]
    again = baseline_recommendations(recommender, users, k=K, seed=3)["random"]
    other = baseline_recommendations(recommender, users, k=K, seed=4)["random"]
    assert first.equals(again)
    assert not first[schema.ITEM_ID].equals(other[schema.ITEM_ID])
    assert first.groupby(schema.USER_ID, observed=True).size().eq(K).all()


def test_item_knn_fills_a_short_list_with_popular_items(tiny_recommender):
    inter = tiny_recommender.interactions
    users = np.array([position(inter.user_ids, u) for u in ("u5", "u4")])
    knn = baseline_recommendations(tiny_recommender, users, k=3)["item_knn"]
    # u5's only item, i6, has no neighbours: the whole list is the most popular items.
    assert items_of(knn, "u5") == ["i1", "i2", "i5"]
    # u4 (viewed i4, bought i5) has three neighbours, i4, i2 and i1; then popularity fills:
    # i3 and i6 are the most popular of the rest (i5 is bought).
    longer = baseline_recommendations(tiny_recommender, users, k=5)["item_knn"]
    assert items_of(longer, "u4") == ["i4", "i2", "i1", "i3", "i6"]


# --- evaluation ----------------------------------------------------------------------------


def test_evaluation_scores_every_model_with_metrics_between_zero_and_one(evaluated):
    _, evaluation = evaluated
    scores = evaluation.scores
    assert set(scores.index) == {MLP, *BASELINES}
    values = scores[list(BOUNDED_METRICS)].to_numpy()
    assert np.isfinite(values).all()
    assert ((values >= 0) & (values <= 1)).all()
    assert evaluation.users > 0 and evaluation.k == K


def test_evaluation_ndcg_is_the_metrics_ndcg_of_its_own_lists(evaluated):
    _, evaluation = evaluated
    for name, frame in evaluation.recommendations.items():
        expected = metrics.ranking_scores(frame, evaluation.relevant, k=K)[metrics.NDCG]
        assert evaluation.scores.loc[name, NDCG] == pytest.approx(expected), name


def test_the_category_model_report_has_accuracies_between_zero_and_one(evaluated):
    _, evaluation = evaluated
    report = evaluation.category_report
    assert report is not None
    assert 0 <= report.accuracy <= report.top3_accuracy <= 1
    assert report.users > 0
    assert report.confusion.to_numpy().sum() == report.users


def test_the_category_model_trained_beside_the_windows_is_the_one_trained_alone(evaluated, shop):
    recommender, _ = evaluated
    events, products = shop
    start = CUTOFF - H * DAY  # the first training window: [start, CUTOFF)
    past = build_interactions(events, products, start, max_items=CONFIG.max_items)
    training_set = rec.categories.category_training_set(events, past, start, CUTOFF)
    assert training_set is not None
    features, labels = training_set
    assert len(features) == len(labels) > 20
    assert set(labels) <= set(range(len(past.category_names)))
    settings = NetworkConfig(hidden_layers=(64, 32), random_state=CONFIG.network.random_state)
    alone = rec.categories.train_category_model(features, labels, settings)
    assert recommender.category_model is not None
    assert recommender.category_model.predict_proba(features) == pytest.approx(
        alone.predict_proba(features)
    )


def test_there_is_no_category_report_without_categories():
    events = tiny().drop(columns=schema.CATEGORY)
    recommender, evaluation = evaluate_recommender(
        events, None, cutoff=TINY_CUTOFF, horizon_days=TINY_H, k=3, config=CONFIG, ks=(1, 3)
    )
    assert recommender.category_model is None
    assert evaluation.category_report is None
    assert set(evaluation.scores.index) == {MLP, *BASELINES}


def test_data_without_item_ids_raises_no_items_error_with_one_line():
    events = tiny().drop(columns=schema.ITEM_ID)
    with pytest.raises(NoItemsError, match="no item ids") as error:
        evaluate_recommender(
            events, None, cutoff=TINY_CUTOFF, horizon_days=TINY_H, k=3, config=CONFIG
        )
    assert "\n" not in str(error.value)


def test_an_item_column_with_no_values_raises_no_items_error():
    events = tiny()
    events[schema.ITEM_ID] = pd.Categorical(
        [None] * len(events), categories=pd.Index([], dtype="str")
    )
    with pytest.raises(NoItemsError):
        evaluate_recommender(
            events, None, cutoff=TINY_CUTOFF, horizon_days=TINY_H, k=3, config=CONFIG
        )


def test_an_unknown_user_raises_unknown_user_error(tiny_recommender):
    with pytest.raises(UnknownUserError, match="'nobody' is not in this data") as error:
        recommend_for_user(tiny_recommender, "nobody", k=3)
    assert "\n" not in str(error.value)


def test_the_symmetric_inverse_is_the_inverse_and_falls_back_when_not_positive_definite():
    gram = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]], dtype=np.float32)
    assert interactions._spd_inverse(gram.copy()) @ gram == pytest.approx(np.eye(3), abs=1e-5)
    indefinite = np.array([[1.0, 2.0], [2.0, 1.0]], dtype=np.float32)
    inverse = interactions._spd_inverse(indefinite.copy())
    assert inverse @ indefinite == pytest.approx(np.eye(2), abs=1e-5)


def test_row_argmax_is_each_rows_largest_entry_lowest_column_first():
    from core.recommend.interactions import row_argmax

    # row 0: a tie at 2.0 stored as column 3 then column 1; row 1: none; row 2: one entry
    matrix = sparse.csr_matrix(
        (np.array([2.0, 0.5, 2.0, 1.5]), np.array([3, 0, 1, 4]), np.array([0, 3, 3, 4])),
        shape=(3, 5),
    )
    anchor, best = row_argmax(matrix)
    assert anchor.tolist() == [1, 0, 4] and best.tolist() == [2.0, 0.0, 1.5]
    rng = np.random.default_rng(0)
    shuffled = sparse.random(60, 80, density=0.1, format="csr", random_state=1)
    shuffled.data = np.ceil(shuffled.data * 3)  # many ties
    shuffled = sparse.csr_matrix(shuffled[:, rng.permutation(80)])
    anchor, best = row_argmax(shuffled)
    assert anchor.tolist() == np.asarray(shuffled.argmax(axis=1)).ravel().tolist()
    assert best.tolist() == shuffled.max(axis=1).toarray().ravel().tolist()
