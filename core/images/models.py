"""Category models on photo embeddings, their baselines and scores, and visually similar
products.

The category model is an MLP trained epoch by epoch (live accuracy and log-loss curves, Stop
keeps the best epoch), on each photo and its mirror image; it predicts by averaging its
probabilities for the photo and its mirror image. Baselines: logistic regression, k nearest
neighbours (cosine) and the majority class.

"Visually similar" is cosine nearest neighbours in the MLP's last hidden layer (each photo
averaged with its mirror image): the trained network keeps what tells products apart and drops
what does not (light, background), so on the Grocery val photos 77% of a photo's 5 nearest
training photos share its category, against 61% on the raw embeddings.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import Normalizer, StandardScaler

from core.errors import ShopLensError
from core.ml.network import EpochReport, NetworkConfig, NetworkTrainer

MLP: Final = "mlp"
LOGISTIC: Final = "logistic"
KNN: Final = "knn"
MAJORITY: Final = "majority"
MODEL_NAMES: Final = (MLP, LOGISTIC, KNN, MAJORITY)
MODEL_LABELS: Final = {
    MLP: "MLP",
    LOGISTIC: "Logistic regression",
    KNN: "k nearest neighbours",
    MAJORITY: "Majority category",
}
NEIGHBOURS: Final = 5
TOP_K: Final = 3
DEFAULT_NETWORK: Final = NetworkConfig(
    hidden_layers=(256,),
    alpha=1e-2,  # lowest log-loss of 1e-3, 1e-2, 3e-2 in 5-fold CV on Grocery training photos
    learning_rate=1e-3,
    batch_size=128,
    epochs=200,
    validation_fraction=0.15,
    patience=10,
)


class TooFewPhotosError(ShopLensError):
    """Too few labelled photos, or a single category, to train a category model."""


@dataclass(frozen=True)
class ImageModels:
    """The fitted category models.

    Attributes:
        classes: the category labels, in the order of the probability columns.
        mlp: the MLP (preprocessing and network with the best epoch's weights).
        baselines: the fitted baselines by name.
        curves: the MLP's per-epoch curves (accuracy and log-loss on training and validation).
        best_epoch: the epoch whose weights were kept.
        stopped: Stop cut the training short.
        train_seconds: wall time of training every model.
        warnings: what the user should know (e.g. a baseline that did not converge).
        config: the MLP's settings.
    """

    classes: np.ndarray
    mlp: Pipeline
    baselines: dict[str, Any]
    curves: pd.DataFrame
    best_epoch: int
    stopped: bool
    train_seconds: float
    warnings: tuple[str, ...] = ()
    config: NetworkConfig = DEFAULT_NETWORK

    def probabilities(
        self, name: str, vectors: np.ndarray, mirrored: np.ndarray | None = None
    ) -> np.ndarray:
        """``(photos, classes)`` probabilities of model ``name``, averaged over each photo and
        its mirror image when ``mirrored`` is given."""
        model = self.mlp if name == MLP else self.baselines[name]
        views = [vectors] if mirrored is None else [vectors, mirrored]
        return np.mean([_full_probabilities(model, v, len(self.classes)) for v in views], axis=0)

    def similarity_space(
        self, vectors: np.ndarray, mirrored: np.ndarray | None = None
    ) -> np.ndarray:
        """``(photos, units)``: the photos as "visually similar" compares them, the MLP's last
        hidden layer, averaged over each photo and its mirror image when ``mirrored`` is
        given."""
        views = [vectors] if mirrored is None else [vectors, mirrored]
        return np.mean([_last_hidden_layer(self.mlp, v) for v in views], axis=0)


_ACTIVATIONS: Final[dict[str, Callable[[np.ndarray], np.ndarray]]] = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "logistic": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "identity": lambda z: z,
}


def _last_hidden_layer(pipeline: Pipeline, vectors: np.ndarray) -> np.ndarray:
    """The activations of the network's last hidden layer, from its fitted weights."""
    network = pipeline[-1]
    values = pipeline[:-1].transform(vectors)
    activation = _ACTIVATIONS[network.activation]
    for weights, intercepts in zip(network.coefs_[:-1], network.intercepts_[:-1], strict=True):
        values = activation(values @ weights + intercepts)
    return np.asarray(values)


def _full_probabilities(model: Any, vectors: np.ndarray, classes: int) -> np.ndarray:
    """Probabilities over every class code, also those a model never saw."""
    known = model.predict_proba(vectors)
    out = np.zeros((len(vectors), classes))
    out[:, np.asarray(model.classes_, dtype=int)] = known
    return out


def check_categories(labels: np.ndarray | list[str]) -> None:
    """Refuse training labels a category model cannot learn from.

    Raises:
        TooFewPhotosError: fewer than 4 photos, or fewer than 2 categories.
    """
    text = np.asarray(labels).astype(str)
    categories = len(np.unique(text))
    if categories < 2 or len(text) < 4:
        raise TooFewPhotosError(
            f"A category model needs at least 4 labelled photos in 2 categories; got "
            f"{len(text)} in {categories}: choose another label column or label more photos."
        )


def train_image_models(
    vectors: np.ndarray,
    labels: np.ndarray,
    *,
    mirrored: np.ndarray | None = None,
    config: NetworkConfig = DEFAULT_NETWORK,
    on_epoch: Callable[[EpochReport], bool | None] | None = None,
) -> ImageModels:
    """Fit the MLP and the baselines on photo ``vectors`` and their category ``labels``;
    the mirror images' vectors, when given, are extra training rows for the MLP (kept on the
    same side of its validation split as their photo).

    Raises:
        TooFewPhotosError: fewer than 2 categories, or fewer than 4 photos.
    """
    check_categories(labels)
    classes, codes = np.unique(np.asarray(labels).astype(str), return_inverse=True)
    started = time.perf_counter()
    rows, targets, groups = vectors, codes, np.arange(len(codes))
    if mirrored is not None:
        rows = np.concatenate([vectors, mirrored])
        targets, groups = np.tile(codes, 2), np.tile(groups, 2)
    asked_to_stop = False

    def report(epoch: EpochReport) -> bool:
        nonlocal asked_to_stop
        asked_to_stop = on_epoch is not None and on_epoch(epoch) is False
        return not asked_to_stop

    trainer = NetworkTrainer("classification", config)
    trainer.fit(rows, targets, groups=groups, on_epoch=report)
    with warnings.catch_warnings(record=True) as raised:
        warnings.simplefilter("always", ConvergenceWarning)
        baselines = _fit_baselines(vectors, codes, config.random_state)
    caught = [f"{w.message}".split(".")[0] for w in raised if w.category is ConvergenceWarning]
    return ImageModels(
        classes=classes,
        mlp=trainer.best_pipeline(),
        baselines=baselines,
        curves=trainer.curves_,
        best_epoch=trainer.best_epoch_,
        stopped=asked_to_stop,
        train_seconds=time.perf_counter() - started,
        warnings=tuple(dict.fromkeys(f"Logistic regression: {c}." for c in caught)),
        config=config,
    )


def _fit_baselines(vectors: np.ndarray, codes: np.ndarray, seed: int) -> dict[str, Any]:
    neighbours = min(NEIGHBOURS, len(codes))
    return {
        LOGISTIC: make_pipeline(
            StandardScaler(), LogisticRegression(C=0.05, max_iter=300, random_state=seed)
        ).fit(vectors, codes),
        KNN: make_pipeline(Normalizer(), KNeighborsClassifier(neighbours, weights="distance")).fit(
            vectors, codes
        ),
        MAJORITY: DummyClassifier(strategy="most_frequent").fit(vectors, codes),
    }


@dataclass(frozen=True)
class ModelScores:
    """One model's scores on the test photos (all between 0 and 1, higher is better)."""

    accuracy: float
    top3_accuracy: float
    macro_f1: float
    confusion: np.ndarray  # rows: true class code, columns: predicted


def score_probabilities(probabilities: np.ndarray, codes: np.ndarray) -> ModelScores:
    """Accuracy, top-3 accuracy, macro-F1 (over the classes present in the test photos) and
    the confusion matrix of ``probabilities`` against the true class ``codes``."""
    classes = probabilities.shape[1]
    predicted = probabilities.argmax(axis=1)
    top = np.argsort(-probabilities, axis=1, kind="stable")[:, :TOP_K]
    present = np.unique(codes)
    return ModelScores(
        accuracy=float(accuracy_score(codes, predicted)),
        top3_accuracy=float((top == codes[:, None]).any(axis=1).mean()),
        macro_f1=float(
            f1_score(codes, predicted, labels=present, average="macro", zero_division=0)
        ),
        confusion=confusion_matrix(codes, predicted, labels=np.arange(classes)),
    )


def encode_labels(models: ImageModels, labels: np.ndarray) -> np.ndarray:
    """The class codes of ``labels``; -1 for a label the models never saw."""
    lookup = {label: code for code, label in enumerate(models.classes)}
    return np.array([lookup.get(str(label), -1) for label in labels], dtype=int)


def score_image_models(
    models: ImageModels,
    vectors: np.ndarray,
    labels: np.ndarray,
    *,
    mirrored: np.ndarray | None = None,
) -> dict[str, ModelScores]:
    """Every model's scores on test photos (a label never seen in training counts as wrong)."""
    codes = encode_labels(models, labels)
    return {
        name: score_probabilities(models.probabilities(name, vectors, mirrored), codes)
        for name in MODEL_NAMES
    }


# --- visually similar ---------------------------------------------------------------------


def fit_similar(vectors: np.ndarray) -> NearestNeighbors:
    """Cosine nearest neighbours over the catalogue's photo vectors."""
    return NearestNeighbors(metric="cosine", algorithm="brute").fit(vectors)


def similar_photos(
    index: NearestNeighbors, vectors: np.ndarray, *, k: int = NEIGHBOURS
) -> np.ndarray:
    """``(queries, k)`` row numbers of the most similar catalogue photos, nearest first."""
    k = min(k, int(index.n_samples_fit_))
    neighbours: np.ndarray = index.kneighbors(vectors, n_neighbors=k, return_distance=False)
    return neighbours


def similar_precision_at_k(
    train_vectors: np.ndarray,
    train_labels: np.ndarray,
    test_vectors: np.ndarray,
    test_labels: np.ndarray,
    *,
    k: int = NEIGHBOURS,
) -> float:
    """The share of each test photo's ``k`` most similar training photos that have its
    category, averaged over the test photos (between 0 and 1)."""
    neighbours = similar_photos(fit_similar(train_vectors), test_vectors, k=k)
    same = (
        np.asarray(train_labels).astype(str)[neighbours]
        == np.asarray(test_labels).astype(str)[:, None]
    )
    return float(same.mean())


def nearest_photos(
    vectors: np.ndarray, query: np.ndarray, *, k: int = NEIGHBOURS, exclude: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` catalogue photos most similar to one ``query`` vector, nearest first: their
    row numbers in ``vectors`` and their cosine similarity (between -1 and 1; features that
    are never negative give 0 to 1). Row ``exclude`` (the query's own photo) is left out."""
    index = fit_similar(vectors)
    wanted = min(k + (exclude is not None), len(vectors))
    distances, rows = index.kneighbors(query.reshape(1, -1), n_neighbors=wanted)
    keep = rows[0] != exclude
    return rows[0][keep][:k], 1.0 - distances[0][keep][:k]


def catalogue_precision_at_k(
    vectors: np.ndarray,
    labels: np.ndarray | list[str],
    *,
    queries: np.ndarray | None = None,
    k: int = NEIGHBOURS,
    max_queries: int = 2000,
    random_state: int = 0,
) -> float:
    """The share of each photo's ``k`` most similar other photos that have its label, averaged
    over the photos asked about (the row numbers ``queries``; every photo when None), or over
    ``max_queries`` of them drawn at random when there are more (between 0 and 1; NaN with
    fewer than 2 photos or no photo asked about)."""
    queries = np.arange(len(vectors)) if queries is None else np.asarray(queries, dtype=int)
    if len(vectors) < 2 or len(queries) == 0:
        return float("nan")
    k = min(k, len(vectors) - 1)
    if len(queries) > max_queries:
        queries = np.sort(
            np.random.default_rng(random_state).choice(queries, max_queries, replace=False)
        )
    rows = fit_similar(vectors).kneighbors(
        vectors[queries], n_neighbors=k + 1, return_distance=False
    )
    others = np.array(
        [[r for r in row if r != own][:k] for own, row in zip(queries, rows, strict=True)]
    )
    text = np.asarray(labels).astype(str)
    return float((text[others] == text[queries][:, None]).mean())


# Columns of the mistakes table.
TRUE_LABEL: Final = "true_label"
PREDICTED_LABEL: Final = "predicted_label"
CONFIDENCE: Final = "confidence"
ROW: Final = "row"


def typical_mistakes(
    probabilities: np.ndarray, labels: np.ndarray, classes: np.ndarray, *, limit: int = 8
) -> pd.DataFrame:
    """The test photos a model got wrong, most confident mistakes first, at most ``limit``
    per pair of true and predicted label (so one confusion does not fill the table): their
    ``row`` among the test photos, true and predicted label and the predicted label's
    probability (``confidence``, 0 to 1)."""
    predicted = probabilities.argmax(axis=1)
    text = np.asarray(labels).astype(str)
    wrong = pd.DataFrame(
        {
            ROW: np.arange(len(text)),
            TRUE_LABEL: text,
            PREDICTED_LABEL: np.asarray(classes).astype(str)[predicted],
            CONFIDENCE: probabilities.max(axis=1),
        }
    )
    wrong = wrong[wrong[TRUE_LABEL] != wrong[PREDICTED_LABEL]]
    wrong = wrong.sort_values(CONFIDENCE, ascending=False, kind="stable")
    return (
        wrong.groupby([TRUE_LABEL, PREDICTED_LABEL], sort=False).head(limit).reset_index(drop=True)
    )


SUGGESTED: Final = "suggested"


def suggest_labels(
    models: ImageModels,
    item_ids: list[str],
    vectors: np.ndarray,
    mirrored: np.ndarray | None = None,
) -> pd.DataFrame:
    """The MLP's label for photos without one, most confident first: ``item_id``,
    ``suggested`` and its probability (``confidence``, 0 to 1)."""
    if not item_ids:
        return pd.DataFrame({"item_id": [], SUGGESTED: [], CONFIDENCE: []})
    probabilities = models.probabilities(MLP, vectors, mirrored)
    frame = pd.DataFrame(
        {
            "item_id": item_ids,
            SUGGESTED: models.classes[probabilities.argmax(axis=1)].astype(str),
            CONFIDENCE: probabilities.max(axis=1),
        }
    )
    return frame.sort_values(CONFIDENCE, ascending=False, kind="stable").reset_index(drop=True)
