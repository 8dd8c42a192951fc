"""Photos matched with the product table: which label each photo gets (a product column such as
the category, or a column of the photos' own list), and which photos have none."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import pandas as pd

from core import schema
from core.images.reading import Photo, PhotoSet

LIST_SUFFIX: Final = " (photo list)"  # how a column of the photos' own list is named


@dataclass(frozen=True)
class LabelledPhotos:
    """The photos split by whether they have a label.

    Attributes:
        column: the label column used.
        labelled: photos with a label (``Photo.label`` set).
        unlabelled: photos without one: a product without a value in the column, or an item
            id the product table does not list.
        not_in_products: how many of the unlabelled have an item id the product table lacks.
    """

    column: str
    labelled: tuple[Photo, ...]
    unlabelled: tuple[Photo, ...]
    not_in_products: int = 0

    @property
    def categories(self) -> int:
        """How many different labels the labelled photos have."""
        return len({photo.label for photo in self.labelled})


def label_columns(photos: PhotoSet, products: pd.DataFrame | None) -> pd.DataFrame:
    """Every column a photo's label may come from, one row per item id (text; missing where
    there is no value): the photos' own list's columns first (named ``<column> (photo list)``),
    then the product table's text columns (the item id and numbers left out)."""
    parts = [
        pd.Series(dict(values), name=f"{column}{LIST_SUFFIX}", dtype="string")
        for column, values in photos.listed.items()
    ]
    if products is not None and schema.ITEM_ID in products.columns:
        table = products.set_index(products[schema.ITEM_ID].astype("string"))
        for column in table.columns:
            values = table[column]
            if column == schema.ITEM_ID or pd.api.types.is_numeric_dtype(values):
                continue
            if pd.api.types.is_datetime64_any_dtype(values):
                continue
            parts.append(values.astype("string").rename(str(column)))
    if not parts:
        return pd.DataFrame(index=pd.Index([], dtype="string", name=schema.ITEM_ID))
    frame = pd.concat([part[~part.index.duplicated()] for part in parts], axis=1)
    return frame.rename_axis(schema.ITEM_ID)


def default_label(columns: Sequence[str]) -> str | None:
    """The label column to start with: the photos' own list's first column, else the product
    category, else the first column (None without any)."""
    listed = [c for c in columns if c.endswith(LIST_SUFFIX)]
    if listed:
        return listed[0]
    if schema.CATEGORY in columns:
        return schema.CATEGORY
    return columns[0] if columns else None


def label_photos(
    photos: Sequence[Photo], labels: Mapping[str, object] | pd.Series
) -> LabelledPhotos:
    """Each photo with its item id's label from ``labels`` (item id -> label; blank or missing
    values count as no label).

    Args:
        photos: the photos read.
        labels: one column of :func:`label_columns` (its name is kept as the column used).
    """
    series = pd.Series(labels, dtype="string") if not isinstance(labels, pd.Series) else labels
    values = series.astype("string").str.strip()
    known = {str(k): v for k, v in values.items() if not pd.isna(v) and v != ""}
    listed = {str(k) for k in series.index}
    labelled, unlabelled = [], []
    for photo in photos:
        label = known.get(photo.item_id)
        if label is None:
            unlabelled.append(dataclasses.replace(photo, label=None))
        else:
            labelled.append(dataclasses.replace(photo, label=str(label)))
    missing = sum(photo.item_id not in listed for photo in unlabelled)
    return LabelledPhotos(str(series.name or ""), tuple(labelled), tuple(unlabelled), missing)
