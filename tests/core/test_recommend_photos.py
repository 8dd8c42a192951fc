"""Product photos in the recommender: the items' looks, the photo inputs, the cold-start
generator and its reason, the new-item NDCG and the comparison with and without photos."""

from __future__ import annotations

import dataclasses
import hashlib
import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import sparse

from core import recommend as rec
from core import schema, services
from core.data.loading import LoadResult, make_shop
from core.errors import RunIntegrityError
from core.images.embed import CNN
from core.images.reading import Photo, PhotoSet
from core.ml.network import NetworkConfig
from core.recommend.photos import (
    COLD_BUYERS,
    PhotoVectors,
    cold_start_pairs,
    fit_item_photos,
    photo_pair_features,
    user_looks,
)
from core.recommend.reasons import explain
from core.runs import RunStore
from tests.frames import make_events

CONFIG = rec.RecommenderConfig(
    network=NetworkConfig(hidden_layers=(8,), epochs=5, random_state=0), train_windows=2
)
ITEMS = pd.Index(["red1", "red2", "red_new", "blue1", "blue_new", "plain"])
# Two looks: red items point one way, blue items the other; "plain" has no photo.
RED, BLUE = np.array([3.0, 1.0, 0.0]), np.array([0.0, 1.0, 3.0])
PHOTOS = PhotoVectors(
    ("red1", "red2", "red_new", "blue1", "blue_new", "gone"),
    np.stack([RED, RED * 1.1, RED * 0.9, BLUE, BLUE * 1.2, RED]).astype(np.float32),
    CNN,
)


def unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def test_item_photos_are_centred_on_the_fitting_items_and_of_length_one():
    fit_on = np.array([True, True, False, True, False, True])
    photos = fit_item_photos(ITEMS, PHOTOS, fit_on=fit_on)
    assert photos is not None
    assert photos.has_photo.tolist() == [True, True, True, True, True, False]
    mean = (RED + RED * 1.1 + BLUE) / 3  # red1, red2, blue1: known and pictured
    np.testing.assert_allclose(photos.vectors[0], unit(RED - mean), atol=1e-6)
    np.testing.assert_allclose(photos.vectors[4], unit(BLUE * 1.2 - mean), atol=1e-6)
    assert not photos.vectors[5].any() and not photos.components[5].any()
    np.testing.assert_allclose(np.linalg.norm(photos.vectors[:5], axis=1), 1.0, atol=1e-6)
    # The first axis tells red from blue.
    first = photos.components[:, 0]
    assert np.sign(first[0]) == np.sign(first[2]) != np.sign(first[3]) == np.sign(first[4])


def test_no_item_with_a_photo_gives_no_item_photos():
    other = PhotoVectors(("elsewhere",), RED[None, :].astype(np.float32), CNN)
    assert fit_item_photos(ITEMS, other, fit_on=np.ones(len(ITEMS), bool)) is None


def test_a_users_look_is_the_mean_of_what_they_bought_and_scores_each_candidate():
    photos = fit_item_photos(ITEMS, PHOTOS, fit_on=np.ones(len(ITEMS), bool))
    bought = sparse.csr_matrix(np.array([[1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1]], float))
    looks = user_looks(photos, bought)
    expected = unit(photos.vectors[0] + photos.vectors[1])
    np.testing.assert_allclose(looks[0], expected, atol=1e-6)
    assert not looks[1].any()  # bought only an item without a photo
    rows, items = np.array([0, 0, 0, 1]), np.array([2, 4, 5, 2])
    features = photo_pair_features(photos, looks, rows, items)
    assert features.shape == (4, len(rec.PHOTO_FEATURES))
    assert features[0, 0] == pytest.approx(float(expected @ photos.vectors[2]), abs=1e-5)
    assert features[0, 0] > 0.9 > 0 > features[1, 0]  # red looks red, blue does not
    assert features[2].tolist() == [0.0] * 4 and features[3, 0] == 0.0
    # The cold-start generator proposes the red items to the red buyer, the one they own aside.
    rows, proposed = cold_start_pairs(photos, looks, np.array([1, 2, 4]), bought, keep=5)
    assert rows.tolist() == [0] and ITEMS[proposed].tolist() == ["red_new"]


def _shop_rows() -> list[tuple]:
    """Red fans buy red items, blue fans blue ones; the new red and blue items are only
    viewed before the cutoff (10 Mar) and bought after it by a fan of their colour."""
    rows: list[tuple] = []
    for user, colour, day in [(f"r{i}", "red", i) for i in range(6)] + [
        (f"b{i}", "blue", i) for i in range(6)
    ]:
        first, second = ("red1", "red2") if colour == "red" else ("blue1", "plain")
        rows += [
            (user, first, "purchase", f"2026-01-{day + 2:02d}"),
            (user, second, "view", f"2026-01-{day + 12:02d}"),
            (user, second, "purchase", f"2026-02-{day + 3:02d}"),
        ]
    rows += [
        ("r0", "red_new", "view", "2026-03-01"),
        ("b0", "blue_new", "view", "2026-03-01"),
        ("r1", "red_new", "purchase", "2026-03-12"),
        ("b1", "blue_new", "purchase", "2026-03-13"),
        ("r2", "red1", "purchase", "2026-03-14"),
        ("b5", "blue1", "view", "2026-03-31"),
    ]
    return rows


CUTOFF = pd.Timestamp("2026-03-10")
H = 20  # the ranker learns from the purchases of early February


def load_result(events: pd.DataFrame) -> LoadResult:
    """Events as loaded, with nothing rejected."""
    return LoadResult(
        frame=events,
        rejected=pd.DataFrame({"row": [], "reason": []}),
        duplicates=0,
        duplicates_dropped=False,
        export_format=schema.GENERIC,
        mapping={},
        notes=(),
        rows_read=len(events),
        source_name="events.csv",
        read_as="CSV",
        source_columns=tuple(events.columns),
    )


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return make_events(_shop_rows())


@pytest.fixture(scope="module")
def fitted(events) -> rec.Recommender:
    return rec.fit_recommender(
        events, None, cutoff=CUTOFF, horizon_days=H, config=CONFIG, photos=PHOTOS
    )


def test_new_items_with_a_photo_are_candidates_for_users_whose_purchases_look_alike(fitted):
    inter = fitted.interactions
    users = inter.user_ids.get_indexer(["r3", "b3"])
    candidates = rec.generate_candidates(
        inter, users, per_source=1, buy_again=False, photos=fitted.photos
    )
    by_user = {
        inter.user_ids[u]: set(inter.item_ids[candidates.items[candidates.users == u]])
        for u in users
    }
    # One per generator: popularity and neighbours propose red2/blue1..., only photos propose
    # the new item of the user's colour.
    assert "red_new" in by_user["r3"] and "blue_new" not in by_user["r3"]
    assert "blue_new" in by_user["b3"] and "red_new" not in by_user["b3"]
    assert candidates.features.shape[1] == len(rec.PAIR_FEATURES) + len(rec.PHOTO_FEATURES)
    assert fitted.inputs[-len(rec.PHOTO_FEATURES) :] == rec.PHOTO_FEATURES
    assert list(fitted.ranker.feature_names_in_) == list(fitted.inputs)


def test_the_reason_for_an_item_few_bought_names_the_bought_item_it_looks_like(fitted):
    inter = fitted.interactions
    pair = pd.DataFrame(
        {
            "user": inter.user_ids.get_indexer(["r3"]),
            "item": inter.item_ids.get_indexer(["red_new"]),
        }
    )
    assert explain(fitted, pair).iloc[0] == "looks like red1, which you bought on 5 Jan 2026"
    assert (np.asarray((inter.bought > 0).sum(axis=0)).ravel() < COLD_BUYERS)[
        inter.item_ids.get_loc("red_new")
    ]


def test_new_item_purchases_are_those_of_items_nobody_bought_before_the_cutoff(fitted):
    relevant = pd.DataFrame(
        {schema.USER_ID: ["r1", "b1", "r2"], schema.ITEM_ID: ["red_new", "blue_new", "red1"]}
    )
    new = rec.new_item_purchases(fitted, relevant)
    assert new[schema.ITEM_ID].tolist() == ["red_new", "blue_new"]


def test_with_and_without_photos_are_compared_on_the_same_split(events, fitted):
    evaluation = rec.score_recommender(fitted, events, cutoff=CUTOFF, horizon_days=H, k=3)
    without = rec.fit_recommender(
        events, None, cutoff=CUTOFF, horizon_days=H, config=CONFIG, category_model=None
    )
    comparison = rec.compare_photo_features(fitted, without, evaluation)
    scores = comparison.scores
    assert (comparison.new_items, comparison.new_items_with_photo) == (2, 2)
    assert comparison.new_item_users == 2
    assert scores.loc[rec.WITH_PHOTOS, "ndcg"] == pytest.approx(
        evaluation.scores.loc["mlp", "ndcg"]
    )
    # r1 never touched red_new; its photo brings it into their top 3.
    with_lists = evaluation.recommendations["mlp"]
    r1 = with_lists[with_lists[schema.USER_ID] == "r1"][schema.ITEM_ID].tolist()
    assert "red_new" in r1
    assert 0 < scores.loc[rec.WITH_PHOTOS, "new_item_ndcg"] <= 1
    again = rec.PhotoComparison.from_frame(comparison.to_frame())
    pd.testing.assert_frame_equal(again.scores, scores, check_names=False)
    assert again.new_items == 2 and again.gain == pytest.approx(comparison.gain, nan_ok=True)


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (32, 32), colour)
    image.paste((255, 255, 255), (8, 8, 24, 24))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def test_a_shop_with_photos_trains_compares_saves_and_reopens_the_same(tmp_path, events):
    photos = []
    for item_id, colour in [
        ("red1", (220, 20, 20)),
        ("red2", (200, 30, 30)),
        ("red_new", (230, 10, 40)),
        ("blue1", (20, 20, 220)),
        ("blue_new", (30, 40, 200)),
    ]:
        data = _jpeg(colour)
        photos.append(Photo(item_id, data, hashlib.sha256(data).hexdigest()))
    shop = make_shop(load_result(events), None, PhotoSet(tuple(photos)))
    settings = services.RecommendSettings(CONFIG, cutoff=CUTOFF, horizon_days=H, k=3)
    store = RunStore(tmp_path / "runs")
    result = services.train_recommender(shop, settings, store)
    assert result.recommender.photos is not None and result.evaluation is not None
    comparison = result.evaluation.photos
    assert comparison is not None and comparison.new_items == 2
    reopened = services.open_recommend_run(store.load(result.run_id), shop)
    assert reopened.evaluation.photos.scores.equals(comparison.scores)
    pd.testing.assert_frame_equal(
        reopened.evaluation.recommendations["mlp"], result.evaluation.recommendations["mlp"]
    )
    # The same run refuses data without its photos.
    plain = make_shop(shop.events, None)
    with pytest.raises(RunIntegrityError, match="learned from product photos"):
        services.open_recommend_run(store.load(result.run_id), plain)


def test_a_shop_without_photos_has_no_photo_inputs_nor_comparison(events):
    settings = services.RecommendSettings(CONFIG, cutoff=CUTOFF, horizon_days=H, k=3)
    result = services.train_recommender(make_shop(load_result(events), None), settings, None)
    assert result.recommender.photos is None
    assert result.recommender.inputs == rec.PAIR_FEATURES
    assert result.evaluation is not None and result.evaluation.photos is None
    assert dataclasses.replace(result.evaluation).photos is None
