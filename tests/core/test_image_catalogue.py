"""Product photos matched with the product table, the photo service end to end on tiny colour
photos (colour features: no network needed), similar products, and the run it saves."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from core import images, services
from core.images import catalogue, models, reading
from core.ml import metrics as m
from core.report import build_report
from core.runs import bundles, compare
from core.runs.manifest import ImageDetails
from core.runs.store import RunStore
from tests.photos import zip_of

RED, BLUE, GREEN = (200, 30, 30), (30, 30, 200), (30, 200, 30)


def _photo_bytes(colour: tuple[int, int, int], seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = np.clip(rng.normal(colour, 20, (20, 20, 3)), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


def test_a_list_inside_the_zip_names_the_photos_and_gives_label_columns() -> None:
    data = zip_of(
        {
            "shop/list.csv": "path,item_id,kind\nimg/a.png,p1,red\nimg/b.png,p2,blue\nc.png,,\n",
            "shop/img/a.png": _photo_bytes(RED, 0),
            "shop/img/b.png": _photo_bytes(BLUE, 1),
            "shop/c.png": _photo_bytes(BLUE, 2),
        }
    )
    photos = reading.read_photo_zip(data)
    assert sorted(p.item_id for p in photos.photos) == ["c", "p1", "p2"]
    assert photos.skipped == ()  # the list itself is not an entry skipped
    assert photos.listed == {"kind": {"p1": "red", "p2": "blue"}}


def test_a_list_without_a_path_column_is_skipped_with_its_reason() -> None:
    data = zip_of({"list.csv": "item,kind\na,red\n", "a.png": _photo_bytes(RED, 0)})
    photos = reading.read_photo_zip(data)
    assert [p.item_id for p in photos.photos] == ["a"]
    assert photos.skipped[0].reason.startswith("unreadable list: it has no 'path' column")
    assert photos.listed == {}


def test_label_columns_put_the_photo_list_first_and_leave_out_ids_and_numbers() -> None:
    photos = reading.PhotoSet((), listed={"kind": {"p1": "red"}})
    products = pd.DataFrame(
        {
            "item_id": ["p1", "p2"],
            "category": pd.Categorical(["Fruit", None]),
            "price": [1.5, 2.0],
            "brand": ["A", "B"],
        }
    )
    columns = catalogue.label_columns(photos, products)
    assert list(columns.columns) == ["kind (photo list)", "category", "brand"]
    assert catalogue.default_label(list(columns.columns)) == "kind (photo list)"
    assert catalogue.default_label(["brand", "category"]) == "category"
    assert columns.loc["p1", "kind (photo list)"] == "red"
    assert pd.isna(columns.loc["p2", "kind (photo list)"])


def test_photos_without_a_value_or_a_product_are_unlabelled_and_counted() -> None:
    photos = [reading.Photo(item, b"", item) for item in ("p1", "p2", "p3", "p9")]
    labels = pd.Series({"p1": "Fruit", "p2": None, "p3": "  "}, name="category")
    split = catalogue.label_photos(photos, labels)
    assert [(p.item_id, p.label) for p in split.labelled] == [("p1", "Fruit")]
    assert [p.item_id for p in split.unlabelled] == ["p2", "p3", "p9"]
    assert split.not_in_products == 1
    assert split.column == "category" and split.categories == 1


def test_nearest_photos_leave_out_the_query_and_give_cosine_similarity() -> None:
    vectors = np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [1.0, 1.0]])
    rows, similarity = models.nearest_photos(vectors, vectors[0], k=2, exclude=0)
    assert rows.tolist() == [1, 3]
    assert similarity == pytest.approx([1 / np.sqrt(1.01), 1 / np.sqrt(2)])


def test_catalogue_precision_counts_same_label_neighbours_by_hand() -> None:
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    # Each photo's nearest other photo has its label.
    assert models.catalogue_precision_at_k(vectors, ["a", "a", "b", "b"], k=1) == 1.0
    # With k=2 the second neighbour is always of the other label.
    assert models.catalogue_precision_at_k(vectors, ["a", "a", "b", "b"], k=2) == 0.5
    assert np.isnan(models.catalogue_precision_at_k(vectors[:1], ["a"]))


def test_catalogue_precision_asks_only_about_the_chosen_photos() -> None:
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    # Photo 0's nearest other photo (1) has its label, photo 2's (3) has not.
    labels = ["a", "a", "b", "c"]
    assert models.catalogue_precision_at_k(vectors, labels, queries=np.array([0]), k=1) == 1.0
    assert models.catalogue_precision_at_k(vectors, labels, queries=np.array([0, 2]), k=1) == 0.5
    assert np.isnan(models.catalogue_precision_at_k(vectors, labels, queries=np.array([])))


def test_typical_mistakes_are_the_most_confident_wrong_calls() -> None:
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    mistakes = models.typical_mistakes(
        probabilities, np.array(["x", "x", "y", "y"]), np.array(["x", "y"])
    )
    assert mistakes[models.ROW].tolist() == [1, 2]
    assert mistakes[models.PREDICTED_LABEL].tolist() == ["y", "x"]
    assert mistakes[models.CONFIDENCE].tolist() == pytest.approx([0.8, 0.6])


def _labelled(count: int, seed: int) -> list[reading.Photo]:
    colours = {"red": RED, "blue": BLUE, "green": GREEN}
    photos = []
    for index in range(count):
        label = list(colours)[index % 3]
        data = _photo_bytes(colours[label], seed * 1000 + index)
        photos.append(reading.Photo(f"p{seed}-{index}", data, f"{seed}-{index}", label))
    return photos


@pytest.fixture
def colour_result(tmp_path: Path, sample_shop) -> tuple[services.ImageResult, RunStore]:
    store = RunStore(tmp_path / "runs")
    unlabelled = [dataclasses.replace(p, label=None) for p in _labelled(3, 9)]
    settings = services.ImageSettings(
        network=dataclasses.replace(
            images.DEFAULT_NETWORK, hidden_layers=(8,), epochs=30, learning_rate=1e-2
        ),
        test_share=0.25,
        features=images.COLOUR,
    )
    stages: list[str] = []
    result = services.train_images(
        _labelled(36, 0),
        None,
        settings,
        cache_dir=tmp_path / "cache",
        unlabelled=unlabelled,
        on_progress=lambda progress: stages.append(progress.stage),
        store=store,
        shop=sample_shop,
        label="colour",
        source="colours.zip",
    )
    assert stages[0] == "preparing" and "embedding" in stages and stages[-1] == "saving"
    return result, store


def test_the_photo_service_learns_colours_suggests_and_finds_alike(colour_result) -> None:
    result, _ = colour_result
    assert result.features == images.COLOUR
    assert (result.train_photos, result.test_photos) == (27, 9)
    assert result.scores[models.MLP].accuracy == 1.0
    assert result.scores[models.MAJORITY].accuracy == pytest.approx(1 / 3)
    assert result.catalogue_precision_at_5 == 1.0
    assert result.suggestions["suggested"].tolist() == ["red", "blue", "green"]
    # "Visually similar" compares the photos in the MLP's hidden layer of 8 units.
    assert result.similarity_vectors.shape == (39, 8)
    found = images.embed_query(
        _photo_bytes(GREEN, 77), result.features, mirrored=True, cache_dir=None
    )
    assert found.mirrored is not None and found.vectors.shape == found.mirrored.shape
    assert len(found.vectors) == 1
    query = result.models.similarity_space(found.vectors, found.mirrored)[0]
    rows, _ = models.nearest_photos(result.similarity_vectors, query, k=3)
    assert {result.catalogue[r].label for r in rows} <= {"green", None}


def test_an_uploaded_query_that_is_not_a_photo_is_refused_with_its_reason() -> None:
    with pytest.raises(reading.PhotoError, match="not an image"):
        images.embed_query(b"plain text", images.COLOUR, mirrored=True, cache_dir=None)


def test_the_photo_run_is_listed_reported_and_moves_as_a_bundle(colour_result, sample_shop):
    result, store = colour_result
    assert result.run_id is not None and result.save_problem is None
    loaded = store.load(result.run_id)
    details = loaded.manifest.details
    assert isinstance(details, ImageDetails)
    assert details.classes == ("blue", "green", "red")
    assert np.array(details.confusion).sum() == result.test_photos
    assert loaded.manifest.config.cutoff is None
    assert "colours" in loaded.manifest.name
    assert loaded.manifest.metrics[m.MLP][m.ACCURACY] == 1.0
    row = compare.runs_table(store.runs()).iloc[0]
    assert row["task"] == "Product photos" and row["accuracy"] == 1.0
    report = build_report(store, [result.run_id])
    assert "Confusion matrix" in report and "colours.zip" in report
    imported = bundles.import_bundle(
        store, bundles.export_bundle(store, result.run_id), sample_shop
    )
    assert store.load(imported).manifest.details == details
