"""Product photos: safe reading, embeddings, category models and visually similar products."""

from core.images.embed import CNN, COLOUR, Embeddings, FeatureKind, embed_photos, load_embedder
from core.images.models import (
    DEFAULT_NETWORK,
    MODEL_NAMES,
    ImageModels,
    ModelScores,
    TooFewPhotosError,
    score_image_models,
    similar_precision_at_k,
    train_image_models,
)
from core.images.reading import (
    ImageInputError,
    Photo,
    PhotoSet,
    Skipped,
    read_photo_folder,
    read_photo_list,
    read_photo_zip,
)

__all__ = [
    "CNN",
    "COLOUR",
    "DEFAULT_NETWORK",
    "MODEL_NAMES",
    "Embeddings",
    "FeatureKind",
    "ImageInputError",
    "ImageModels",
    "ModelScores",
    "Photo",
    "PhotoSet",
    "Skipped",
    "TooFewPhotosError",
    "embed_photos",
    "load_embedder",
    "read_photo_folder",
    "read_photo_list",
    "read_photo_zip",
    "score_image_models",
    "similar_precision_at_k",
    "train_image_models",
]
