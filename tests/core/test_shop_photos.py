"""A shop's product photos: the sample shop's, the fingerprint they change, and the kept data
of a run that holds them."""

from __future__ import annotations

import hashlib
import io

import pandas as pd
import pytest
from PIL import Image

from core.data.loading import fingerprint_frames, with_photos
from core.errors import RunIntegrityError
from core.images.reading import Photo, PhotoSet
from core.images.sample import LIST_FILE, PHOTOS_DIR, read_sample_photos
from core.runs import RunStore


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(out, "JPEG")
    return out.getvalue()


def _photos(**colours: tuple[int, int, int]) -> PhotoSet:
    photos = []
    for item_id, colour in colours.items():
        data = _jpeg(colour)
        photos.append(Photo(item_id, data, hashlib.sha256(data).hexdigest(), "kind", item_id))
    return PhotoSet(tuple(photos))


def test_the_sample_shop_has_one_labelled_photo_per_listed_grocery_product():
    photos = read_sample_photos()
    listed = pd.read_csv(PHOTOS_DIR / LIST_FILE, dtype="str")
    assert photos is not None
    assert sorted(p.item_id for p in photos.photos) == sorted(listed["item_id"])
    assert {p.label for p in photos.photos} == set(listed["kind"])
    assert photos.skipped == ()


def test_a_sample_folder_without_a_photo_list_has_no_photos(tmp_path):
    assert read_sample_photos(tmp_path) is None


def test_photos_change_the_fingerprint_and_no_photos_keep_the_tables_one(small_shop):
    tables = fingerprint_frames(small_shop.events.frame, small_shop.products.frame)
    assert small_shop.photos is None and small_shop.fingerprint == tables
    red = with_photos(small_shop, _photos(i1=(200, 0, 0)))
    blue = with_photos(small_shop, _photos(i1=(0, 0, 200)))
    assert red.photos is not None and red.events is small_shop.events
    assert len({tables, red.fingerprint, blue.fingerprint}) == 3
    assert with_photos(small_shop, _photos(i1=(200, 0, 0))).fingerprint == red.fingerprint
    assert with_photos(red, None).fingerprint == tables


def test_kept_data_comes_back_with_its_photos_and_fingerprint(tmp_path, small_shop):
    store = RunStore(tmp_path / "runs")
    shop = with_photos(small_shop, _photos(i1=(200, 0, 0), i2=(0, 200, 0)))
    folder = store.save_dataset(shop)
    again = store.load_dataset(shop.fingerprint)
    assert again.fingerprint == shop.fingerprint
    assert again.photos == shop.photos
    # A photo changed on disk no longer matches the fingerprint.
    table = pd.read_parquet(folder / "photos.parquet")
    table.loc[0, "data"] = _jpeg((1, 2, 3))
    table.to_parquet(folder / "photos.parquet", index=False)
    with pytest.raises(RunIntegrityError, match="was changed on disk"):
        store.load_dataset(shop.fingerprint)
