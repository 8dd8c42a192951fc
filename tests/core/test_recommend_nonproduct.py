"""Non-product lines (postage, fees, adjustments) are never recommended nor ranked as products:
not by the two-stage model, a baseline, a candidate generator, cold start or the export, and
buying one in the test window is no one's hit or miss."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import schema
from core.ml.network import NetworkConfig
from core.recommend import (
    RecommenderConfig,
    build_interactions,
    evaluate_recommender,
    generate_candidates,
    popular_in_segment,
    popular_items,
    recommend_everyone,
    recommend_for_items,
    recommend_for_user,
    relevant_items,
)
from core.runs import RunStore
from core.runs.tasks import recommender_run_record
from tests.cli import run_json
from tests.frames import make_events, make_products, write_shop

CUTOFF = pd.Timestamp("2026-04-01")
H = 20
CONFIG = RecommenderConfig(
    network=NetworkConfig(hidden_layers=(8,), epochs=5, batch_size=256, random_state=0),
    candidates=10,
    negatives=5,
    train_windows=2,
)
PRODUCTS = [f"p{n}" for n in range(1, 21)]
# POST is on every order (the most bought "item"), DOT is bought by every user once a month,
# and X1 is a fee known by its name only.
NON_PRODUCTS = {"POST", "DOT", "X1"}
COLUMNS = (
    schema.USER_ID,
    schema.ITEM_ID,
    schema.EVENT_TYPE,
    schema.TIMESTAMP,
    schema.ORDER_ID,
    schema.PRICE,
)


def tiny_shop_rows() -> list[tuple]:
    """40 users ordering two products every ten days from 1 Jan to 30 Apr 2026."""
    rows = []
    for u in range(40):
        for j in range(12):
            day = pd.Timestamp("2026-01-01") + pd.Timedelta(days=u % 7 + 10 * j, hours=9)
            order = f"o{u}-{j}"
            for item in (PRODUCTS[(u + j) % 20], PRODUCTS[(3 * u + j * j) % 20]):
                rows.append((f"u{u}", item, "purchase", day, order, 10.0))
            rows.append((f"u{u}", "POST", "purchase", day, order, 5.0))
            if j % 3 == 0:
                rows.append((f"u{u}", "DOT", "purchase", day, order, 2.0))
            if u % 5 == 0:
                rows.append((f"u{u}", "X1", "purchase", day, order, 1.0))
            rows.append((f"u{u}", PRODUCTS[(u + 2 * j) % 20], "view", day, None, 10.0))
    return rows


def tiny_products() -> pd.DataFrame:
    rows = [
        (p, "Toys" if n < 10 else "Books", f"Product {p}", 10.0) for n, p in enumerate(PRODUCTS)
    ]
    rows += [("POST", "Toys", "POSTAGE", 5.0), ("DOT", None, "DOTCOM POSTAGE", 2.0)]
    rows += [("X1", "Books", "Carriage", 1.0)]
    return make_products(rows, (schema.ITEM_ID, schema.CATEGORY, schema.NAME, schema.PRICE)).astype(
        {schema.ITEM_ID: "category", schema.CATEGORY: "category", schema.NAME: "category"}
    )


@pytest.fixture(scope="module")
def tiny_shop() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_events(tiny_shop_rows(), COLUMNS), tiny_products()


@pytest.fixture(scope="module")
def evaluated(tiny_shop):
    events, products = tiny_shop
    return evaluate_recommender(events, products, cutoff=CUTOFF, horizon_days=H, k=5, config=CONFIG)


def _no_non_products(items: pd.Series | np.ndarray | list) -> bool:
    return not set(map(str, items)) & NON_PRODUCTS


def test_postage_is_the_most_bought_item_of_the_tiny_shop(tiny_shop):
    events, _ = tiny_shop
    bought = events[events[schema.EVENT_TYPE] == "purchase"][schema.ITEM_ID].value_counts()
    assert bought.index[0] == "POST"
    dot_buyers = events[events[schema.ITEM_ID] == "DOT"][schema.USER_ID].nunique()
    assert dot_buyers == events[schema.USER_ID].nunique()


def test_interactions_leave_non_product_lines_out_of_everything_they_learn(tiny_shop):
    events, products = tiny_shop
    inter = build_interactions(events, products, CUTOFF)
    flagged = set(inter.item_ids[inter.non_product])
    assert flagged == NON_PRODUCTS
    columns = inter.non_product
    assert not inter.known[columns].any() and not inter.allowed[columns].any()
    assert inter.weights[:, columns].nnz == 0 and inter.bought[:, columns].nnz == 0
    assert (inter.popularity[columns] == 0).all()
    before = events[events[schema.TIMESTAMP] < CUTOFF]
    assert inter.non_product_lines == int(before[schema.ITEM_ID].isin(NON_PRODUCTS).sum())


def test_a_user_who_bought_everything_has_no_candidates(tiny_shop):
    events, products = tiny_shop
    inter = build_interactions(events, products, CUTOFF)
    inter.allowed[:] = False
    candidates = generate_candidates(inter, np.array([0, 1]), per_source=5, buy_again=False)
    assert len(candidates.items) == 0


def test_no_candidate_generator_proposes_a_non_product(tiny_shop):
    events, products = tiny_shop
    inter = build_interactions(events, products, CUTOFF)
    users = np.flatnonzero(inter.user_events > 0)
    for buy_again in (False, True):
        candidates = generate_candidates(inter, users, per_source=20, buy_again=buy_again)
        assert len(candidates.items)
        assert _no_non_products(inter.item_ids[candidates.items])


def test_no_model_or_baseline_lists_a_non_product(evaluated):
    _, evaluation = evaluated
    assert {"mlp", "popularity", "category_popularity", "item_knn", "random"} <= set(
        evaluation.recommendations
    )
    for name, lists in evaluation.recommendations.items():
        assert len(lists), name
        assert _no_non_products(lists[schema.ITEM_ID]), name


def test_buying_postage_in_the_test_window_is_no_ones_hit_or_miss(tiny_shop, evaluated):
    events, _ = tiny_shop
    fitted, evaluation = evaluated
    assert len(evaluation.relevant)
    assert _no_non_products(evaluation.relevant[schema.ITEM_ID])
    end = CUTOFF + pd.Timedelta(days=H)
    for new_items in (False, True):
        pairs = relevant_items(
            events, fitted.interactions, CUTOFF, end, buy_again=True, new_items=new_items
        )
        assert _no_non_products(fitted.interactions.item_ids[pairs["item"].to_numpy()])


def test_exports_cold_start_and_what_if_never_list_a_non_product(evaluated):
    fitted, _ = evaluated
    everyone = recommend_everyone(fitted, k=5)
    assert len(everyone) and _no_non_products(everyone[schema.ITEM_ID])
    assert _no_non_products(recommend_for_user(fitted, "u3", k=5)[schema.ITEM_ID])
    for clicked in (["POST"], ["POST", "DOT", "p1"], ["p2"]):
        recs = recommend_for_items(fitted, clicked, k=8)
        assert len(recs) and _no_non_products(recs[schema.ITEM_ID]), clicked
    assert "POSTAGE" not in recommend_for_items(fitted, ["POST", "p1"], k=3)["reason"].iloc[0]
    for category in (None, "Toys", "Books"):
        recs = popular_in_segment(fitted, category, k=10)
        assert len(recs) and _no_non_products(recs[schema.ITEM_ID]), category
    options = fitted.interactions.item_ids[popular_items(fitted, limit=100)]
    assert set(options) == set(PRODUCTS)


def test_the_run_says_how_many_non_product_items_were_left_out(evaluated):
    fitted, evaluation = evaluated
    assert len(fitted.notes) == 1
    assert fitted.notes[0].startswith("3 non-product items")
    record = recommender_run_record(
        fitted, evaluation, cutoff=CUTOFF, horizon_days=H, k=5, stopped=False
    )
    assert record.details.non_product_items == 3
    assert record.details.notes == fitted.notes


def test_a_shop_without_non_products_has_no_note(evaluated, tiny_shop):
    events, products = tiny_shop
    clean = events[~events[schema.ITEM_ID].isin(NON_PRODUCTS).to_numpy()]
    inter = build_interactions(clean.reset_index(drop=True), products, CUTOFF)
    # The items stay in the vocabulary (the product table lists them) but are still flagged.
    assert inter.non_product_lines == 0
    assert set(inter.item_ids[inter.non_product]) == NON_PRODUCTS


@pytest.mark.slow
def test_the_cli_export_never_recommends_postage(tiny_shop, tmp_path, runs_dir, capsys):
    events, products = tiny_shop
    events_csv, products_csv = write_shop(tmp_path, events, products)
    out_csv = tmp_path / "recs.csv"
    options = f"--horizon-days {H} --k 5 --hidden 8 --epochs 3 --json"
    result = run_json(
        capsys,
        "recommend",
        events_csv,
        "--products",
        products_csv,
        *options.split(),
        "--out",
        out_csv,
    )
    recs = pd.read_csv(out_csv, dtype={"item_id": "str"})
    assert len(recs) and _no_non_products(recs["item_id"])
    details = RunStore(runs_dir).info(result["run_id"]).manifest.details
    assert details.non_product_items == 3
    assert "left out" in details.notes[0]
