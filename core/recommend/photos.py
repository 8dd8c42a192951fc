"""Product photos as the recommender's item features.

Each photo's embedding (``core.images``) is centred on the mean photo of the items known at the
cutoff and scaled to length 1, so the dot product of two items is how alike they look. A user's
look is the mean of the items they bought; the ranker gets how close a candidate is to it and
the candidate's first principal components, and a cold-start generator proposes items with a
photo that few users bought yet to the users whose bought items look like them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
from scipy import sparse

from core.images import FeatureKind, embed_photos, load_embedder
from core.images.reading import PhotoSet

PHOTO_FEATURES: Final = ("photo_similarity", "photo_pc1", "photo_pc2", "photo_pc3")
COMPONENTS: Final = len(PHOTO_FEATURES) - 1
COLD_BUYERS: Final = 3  # an item bought by fewer users before the date is new to the shop
LOOKALIKE: Final = 0.25  # the similarity from which a reason says an item looks like another


@dataclass(frozen=True)
class PhotoVectors:
    """A shop's photos embedded: one vector per item id, with the features used."""

    item_ids: tuple[str, ...]
    vectors: np.ndarray
    kind: FeatureKind


def embed_shop_photos(photos: PhotoSet, *, cache_dir: Path | None) -> PhotoVectors:
    """The vectors of a shop's photos (each read from the cache folder when it is there)."""
    embedder = load_embedder(cache_dir)
    embedded = embed_photos(photos.photos, embedder, cache_dir=cache_dir)
    return PhotoVectors(tuple(p.item_id for p in photos.photos), embedded.vectors, embedder.kind)


@dataclass(frozen=True)
class ItemPhotos:
    """The photos of the recommender's items, in item-code order.

    Attributes:
        kind: the features the vectors were made with.
        has_photo: ``(items,)`` whether the item has a photo.
        vectors: ``(items, size)`` float32, centred and of length 1; zero without a photo.
        components: ``(items, COMPONENTS)`` float32, the vectors on their principal axes
            (fitted on the fitting items only); zero without a photo.
    """

    kind: FeatureKind
    has_photo: np.ndarray
    vectors: np.ndarray
    components: np.ndarray


def fit_item_photos(
    item_ids: pd.Index, photos: PhotoVectors, *, fit_on: np.ndarray
) -> ItemPhotos | None:
    """The items' photos, centred on the mean of the items ``fit_on`` marks (those known at
    the cutoff) and projected on their principal axes; ``None`` when no item has a photo.

    Args:
        item_ids: the recommender's item ids, in code order.
        photos: the shop's embedded photos (photos of unknown items are left out).
        fit_on: ``(items,)`` bool, the items the mean and the axes are fitted on.
    """
    positions = item_ids.get_indexer(pd.Index(photos.item_ids, dtype="str"))
    found = positions >= 0
    if not found.any():
        return None
    size = photos.vectors.shape[1]
    raw = np.zeros((len(item_ids), size), dtype=np.float64)
    raw[positions[found]] = photos.vectors[found]
    has_photo = np.zeros(len(item_ids), dtype=bool)
    has_photo[positions[found]] = True
    fitting = raw[has_photo & fit_on]
    mean = fitting.mean(axis=0) if len(fitting) else np.zeros(size)
    centred = np.where(has_photo[:, None], raw - mean, 0.0)
    lengths = np.linalg.norm(centred, axis=1, keepdims=True)
    vectors = np.divide(centred, lengths, out=np.zeros_like(centred), where=lengths > 0)
    axes = _principal_axes(vectors[has_photo & fit_on], COMPONENTS)
    components = np.where(has_photo[:, None], vectors @ axes.T, 0.0)
    return ItemPhotos(
        photos.kind, has_photo, vectors.astype(np.float32), components.astype(np.float32)
    )


def _principal_axes(rows: np.ndarray, count: int) -> np.ndarray:
    """``(count, size)``: the first principal axes of ``rows`` (zero rows where there are
    fewer), each signed so that its largest loading is positive (the same data always gives
    the same axes)."""
    axes = np.zeros((count, rows.shape[1]))
    if len(rows) < 2:
        return axes
    _, _, vt = np.linalg.svd(rows - rows.mean(axis=0), full_matrices=False)
    found = vt[:count]
    signs = np.sign(found[np.arange(len(found)), np.abs(found).argmax(axis=1)])
    axes[: len(found)] = found * np.where(signs == 0, 1.0, signs)[:, None]
    return axes


def user_looks(photos: ItemPhotos, bought: sparse.csr_matrix) -> np.ndarray:
    """``(users, size)``: the mean look of each row's bought items that have a photo, of
    length 1; zero for a user who bought none."""
    mean = np.asarray(bought @ photos.vectors, dtype=np.float64)
    lengths = np.linalg.norm(mean, axis=1, keepdims=True)
    return np.divide(mean, lengths, out=np.zeros_like(mean), where=lengths > 1e-9)


def photo_pair_features(
    photos: ItemPhotos, looks: np.ndarray, rows: np.ndarray, items: np.ndarray
) -> np.ndarray:
    """``(pairs, len(PHOTO_FEATURES))`` float32: how close each item looks to its user's
    bought items (-1 to 1; 0 without a photo on either side) and the item's components."""
    pictured = np.flatnonzero(photos.has_photo)
    position = np.full(len(photos.has_photo), -1)
    position[pictured] = np.arange(len(pictured))
    alike = looks @ photos.vectors[pictured].T.astype(np.float64)  # (users, pictured items)
    at = position[items]
    similarity = np.where(at >= 0, alike[rows, np.maximum(at, 0)], 0.0)
    return np.column_stack([similarity, photos.components[items]]).astype(np.float32)


def cold_items(photos: ItemPhotos, bought: sparse.csr_matrix, allowed: np.ndarray) -> np.ndarray:
    """Positions of the items with a photo that may be recommended and that fewer than
    ``COLD_BUYERS`` users bought."""
    buyers = np.asarray((bought > 0).sum(axis=0)).ravel()
    return np.flatnonzero(photos.has_photo & allowed & (buyers < COLD_BUYERS))


def cold_start_pairs(
    photos: ItemPhotos,
    looks: np.ndarray,
    cold: np.ndarray,
    blocked: sparse.csr_matrix,
    *,
    keep: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``keep`` of the ``cold`` items per row of ``looks``, most alike first, that
    look like the row's bought items (similarity above 0) and are not ``blocked`` for it.

    Returns:
        ``(rows, items)`` of the proposed pairs.
    """
    if not len(cold) or not len(looks):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    similarity = looks @ photos.vectors[cold].T.astype(np.float64)
    similarity[blocked[:, cold].toarray() > 0] = 0.0
    take = min(keep, len(cold))
    top = np.argsort(-similarity, axis=1, kind="stable")[:, :take]
    rows = np.repeat(np.arange(len(looks)), take)
    chosen = top.ravel()
    alike = similarity[rows, chosen] > 0
    return rows[alike], cold[chosen[alike]]


def lookalikes(
    photos: ItemPhotos, bought: sparse.csr_matrix, items: np.ndarray, *, chunk: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """For each (bought row, item) pair: the bought item with a photo that looks most like
    the item, and how alike they are (-1 to 1); ``(-1, -inf)`` where the item has no photo or
    the row bought none with a photo.

    Args:
        bought: one row of bought items per pair.
        items: the pairs' items.
    """
    anchor = np.full(len(items), -1, dtype=np.int64)
    best = np.full(len(items), -np.inf)
    pictured = np.flatnonzero(photos.has_photo[items])
    for start in range(0, len(pictured), chunk):
        rows = pictured[start : start + chunk]
        similarity = photos.vectors[items[rows]] @ photos.vectors.T
        owned = (bought[rows].toarray() > 0) & photos.has_photo[None, :]
        similarity = np.where(owned, similarity, -np.inf)
        anchor[rows] = similarity.argmax(axis=1)
        best[rows] = similarity.max(axis=1)
    anchor[~np.isfinite(best)] = -1
    return anchor, best
