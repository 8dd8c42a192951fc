"""The sample shop's product photos: one per grocery product, readable, small, and remade
identically from the Grocery Store Dataset."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from core.images.reading import read_photo_list
from core.images.sample import LABEL, LIST_FILE, PHOTOS_DIR, product_kind, write_sample_photos

ROOT = Path(__file__).resolve().parents[2]
PRODUCTS = ROOT / "data" / "sample_products.csv"


def test_a_products_kind_is_read_from_its_name() -> None:
    assert product_kind("Classic milk (Pebble)") == "milk"
    assert product_kind("Premium fruit juice (Harbor & Co)") == "fruit juice"
    assert product_kind("Classic kettle (Pebble)") is None


def test_every_grocery_product_has_exactly_one_listed_photo_of_its_kind() -> None:
    products = pd.read_csv(PRODUCTS, dtype=str)
    grocery = products[products["category"] == "Grocery"]
    listed = pd.read_csv(PHOTOS_DIR / LIST_FILE, dtype=str)
    assert sorted(listed["item_id"]) == sorted(grocery["item_id"])
    kinds = dict(zip(grocery["item_id"], grocery["name"].map(product_kind), strict=True))
    assert all(
        kinds[item] == kind for item, kind in zip(listed["item_id"], listed[LABEL], strict=True)
    )
    assert listed[LABEL].nunique() >= 8


def test_the_photos_read_cleanly_and_stay_small() -> None:
    photos = read_photo_list(PHOTOS_DIR / LIST_FILE, label=LABEL)
    assert len(photos.photos) == len(pd.read_csv(PHOTOS_DIR / LIST_FILE)) and not photos.skipped
    size = sum(path.stat().st_size for path in PHOTOS_DIR.iterdir())
    assert size <= 5 * 1024 * 1024
    assert "MIT License" in (PHOTOS_DIR / "LICENSE").read_text(encoding="utf-8")


def test_the_shipped_photos_are_remade_identically(shared_data: Path, tmp_path: Path) -> None:
    grocery = shared_data / "grocery"
    if not (grocery / "train.csv").is_file():
        pytest.skip("the Grocery Store Dataset is not in ../shared/data")
    count = write_sample_photos(PRODUCTS, grocery, tmp_path)
    with (PHOTOS_DIR / LIST_FILE).open(encoding="utf-8") as handle:
        assert count == sum(1 for _ in csv.reader(handle)) - 1
    for made in tmp_path.iterdir():
        assert made.read_bytes() == (PHOTOS_DIR / made.name).read_bytes(), made.name
