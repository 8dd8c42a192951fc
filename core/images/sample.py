"""The sample shop's product photos: one small photo per grocery product, from the Grocery Store
Dataset (MIT licence), named ``<item_id>.jpg`` and listed with each product's kind.

The photos ship in ``data/photos``; ``write_sample_photos`` remakes them from the dataset's
training photos (``python -m core.images.sample GROCERY_DIR``).
"""

from __future__ import annotations

import csv
import io
import sys
from collections import defaultdict
from pathlib import Path
from typing import Final

from PIL import Image, ImageOps

from core.data.catalogue import CATEGORIES
from core.images.reading import PhotoSet, read_photo_list

PHOTOS_DIR: Final = Path(__file__).resolve().parents[2] / "data" / "photos"
LIST_FILE: Final = "photos.csv"
LABEL: Final = "kind"
SIZE: Final = 192  # pixels on the longer side
QUALITY: Final = 80

# Each kind of grocery product in the sample's catalogue, and the dataset's class it shows.
KIND_CLASSES: Final = {
    "apples": "Apple",
    "bananas": "Banana",
    "oranges": "Orange",
    "bell peppers": "Pepper",
    "tomatoes": "Tomato",
    "fruit juice": "Juice",
    "milk": "Milk",
    "yoghurt": "Yoghurt",
}
GROCERY: Final = "Grocery"


def product_kind(name: str) -> str | None:
    """The kind of a sample grocery product from its name ("Classic milk (Pebble)" → "milk")."""
    nouns = next(c[3].split("|") for c in CATEGORIES if c[0] == GROCERY)
    words = name.split(" (")[0]
    return next((noun for noun in nouns if words.endswith(f" {noun}")), None)


def read_sample_photos(folder: Path = PHOTOS_DIR) -> PhotoSet | None:
    """The sample shop's product photos, each labelled with its kind; ``None`` when the folder
    holds no photo list (a sample folder without photos)."""
    listing = folder / LIST_FILE
    return read_photo_list(listing, label=LABEL) if listing.is_file() else None


def _class_photos(grocery: Path) -> dict[str, list[str]]:
    """The training photos of each coarse class, alternating between its fine classes so that
    consecutive picks differ (paths relative to ``grocery``)."""
    names: dict[str, str] = {}
    with (grocery / "classes.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.reader(handle):
            if row and row[3].isdigit():
                names[row[3]] = row[2]
    by_fine: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    with (grocery / "train.csv").open(newline="", encoding="utf-8") as handle:
        for line in csv.DictReader(handle):
            by_fine[names[line["coarse_class_id"]]][line["class_id"]].append(line["path"])
    photos: dict[str, list[str]] = {}
    for coarse, fine in by_fine.items():
        lists = [sorted(paths) for _, paths in sorted(fine.items())]
        photos[coarse] = [
            paths[i] for i in range(max(map(len, lists))) for paths in lists if i < len(paths)
        ]
    return photos


def _thumbnail(path: Path) -> bytes:
    with Image.open(path) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    image.thumbnail((SIZE, SIZE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()


def write_sample_photos(products: Path, grocery: Path, out: Path = PHOTOS_DIR) -> int:
    """Write one photo per grocery product of ``products`` (the sample's catalogue CSV) into
    ``out``, with ``photos.csv`` (``path,item_id,kind``); returns the number of photos."""
    pool = _class_photos(grocery)
    used: dict[str, int] = defaultdict(int)
    rows = []
    out.mkdir(parents=True, exist_ok=True)
    with products.open(newline="", encoding="utf-8") as handle:
        for product in csv.DictReader(handle):
            kind = product_kind(product["name"]) if product["category"] == GROCERY else None
            if kind is None:
                continue
            source = pool[KIND_CLASSES[kind]][used[kind]]
            used[kind] += 1
            name = f"{product['item_id']}.jpg"
            (out / name).write_bytes(_thumbnail(grocery / source))
            rows.append((name, product["item_id"], kind))
    with (out / LIST_FILE).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("path", "item_id", LABEL))
        writer.writerows(rows)
    return len(rows)


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[2]
    count = write_sample_photos(root / "data" / "sample_products.csv", Path(sys.argv[1]))
    print(f"wrote {count} photos to {PHOTOS_DIR}")
