"""What a run holds, typed.

A training hands the registry a :class:`RunRecord`; the registry keeps it as ``manifest.json``
beside the model. A manifest is parsed and checked once, on load and on bundle import, into a
frozen :class:`RunManifest` that every reader uses: a value that is not what its field allows
(a cutoff that is no date, a horizon out of range, a warning carrying markup) makes the whole
manifest refused with one line, so no reader ever meets it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import pandas as pd
import sklearn

from core import schema
from core.config import MAX_HORIZON_DAYS, MAX_K
from core.data.loading import ShopData
from core.errors import RunIntegrityError, RunNameError
from core.images.embed import CNN, COLOUR, FeatureKind
from core.ml.network import NetworkConfig, network_config_dict, network_config_from
from core.params import MAX_USERS, SettingError
from core.recommend.model import RecommenderConfig
from core.runs.names import MAX_NAME, MAX_TAGS, TAG, TASKS, Task, clean_name, data_label
from core.runs.serial import columns_to_frame, frame_to_columns, jsonable, metrics_to_scores

MANIFEST: Final = "manifest.json"
MODEL: Final = "model.joblib"
BUNDLE_MODEL: Final = "model.skops"
DATASETS: Final = "_datasets"
MANIFEST_VERSION: Final = 2  # 2: the status of a run cut short is kept

Status = Literal["complete", "stopped"]
FINGERPRINT_PATTERN: Final = re.compile(r"[0-9a-f]{16}")
_SHA256: Final = re.compile(r"[0-9a-f]{64}")
_NAME: Final = re.compile(r"[a-z0-9_]{1,40}")  # model, metric and curve column keys
_CURVE_COLUMN: Final = re.compile(r"[A-Za-z0-9_ \-]{1,40}")
# Characters that Markdown, HTML or math would act on: never in text a manifest carries.
_MARKUP: Final = re.compile(r"[\[\]<>`*$\\|~#!{}]|://|www\.", re.IGNORECASE)
_MAX_TEXT: Final = 300
_FIRST_DAY: Final = pd.Timestamp("1970-01-01")
_LAST_DAY: Final = pd.Timestamp("2200-01-01")
_SEED: Final = NetworkConfig.CONSTRAINTS["random_state"]
_NETWORKS: Final = {
    "purchase": ("regressor", "classifier"),
    "recommend": ("ranker",),
    "images": ("photo_classifier",),
}


class ManifestError(ValueError):
    """What is wrong with a manifest, in a few words (shown after the run id)."""


# --- the parts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetSummary:
    """The data a run learned from: fingerprint, size, time span and file names."""

    fingerprint: str
    events: int | None = None
    users: int | None = None
    items: int | None = None
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    events_file: str | None = None
    products_file: str | None = None

    @classmethod
    def of(cls, shop: ShopData) -> DatasetSummary:
        """The summary of a loaded shop."""
        frame = shop.events.frame
        items = frame[schema.ITEM_ID].nunique() if schema.ITEM_ID in frame.columns else None
        times = frame[schema.TIMESTAMP]
        return cls(
            fingerprint=shop.fingerprint,
            events=len(frame),
            users=int(frame[schema.USER_ID].nunique()),
            items=None if items is None else int(items),
            start=times.min() if len(frame) else None,
            end=times.max() if len(frame) else None,
            events_file=shop.events.source_name,
            products_file=shop.products.source_name if shop.products is not None else None,
        )


@dataclass(frozen=True)
class RunConfig:
    """What a training was asked for.

    Attributes:
        network: the MLP's settings (for recommendations, the ranker's).
        cutoff: the evaluation date; for a recommender trained on all data, the end of the data
            (None for photos, which are scored on a held-out share instead).
        horizon_days: H, the length of the predicted (test) window (None for photos).
        evaluate: whether every model was scored on ``[cutoff, cutoff + H)``.
        k: products per list (recommendations only).
        recommender: the recommender's other settings (recommendations only).
        max_users: the users trained and scored on when they were a random sample of the
            data's (purchase prediction only; ``None``: every user, as in runs saved before
            users were drawn).
        sample_seed: the seed those users and the training rows were drawn with (purchase
            prediction only; ``None``: the network's own).
    """

    network: NetworkConfig
    cutoff: pd.Timestamp | None
    horizon_days: int | None
    evaluate: bool = True
    k: int | None = None
    recommender: RecommenderConfig | None = None
    max_users: int | None = None
    sample_seed: int | None = None

    @property
    def time_window(self) -> tuple[pd.Timestamp, int]:
        """The cutoff and H of a run split in time (purchase prediction, recommendations).

        Raises:
            RunIntegrityError: the run was not split in time (a product-photo run).
        """
        if self.cutoff is None or self.horizon_days is None:
            raise RunIntegrityError("This run was not split in time; open it on its own page.")
        return self.cutoff, self.horizon_days


@dataclass(frozen=True)
class PurchaseDetails:
    """What a purchase run needs besides its config to be shown and reopened."""

    users: int
    mean_rate_per_day: float
    base_buy_rate: float
    best_epochs: tuple[int, int]
    epochs_run: tuple[int, int]
    warnings: tuple[str, ...] = ()
    importance: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class RecommendDetails:
    """What a recommender run needs besides its config to be shown and reopened."""

    pair_features: tuple[str, ...]
    train_pairs: int
    fit_seconds: float
    epochs: int
    best_epoch: int
    users_evaluated: int | None = None
    score_seconds: float | None = None
    by_k: pd.DataFrame | None = None
    category_accuracy: float | None = None
    category_top3_accuracy: float | None = None
    non_product_items: int = 0
    notes: tuple[str, ...] = ()
    photo_features: FeatureKind | None = None
    photo_comparison: pd.DataFrame | None = None


@dataclass(frozen=True)
class ImageDetails:
    """What a product-photo run needs besides its config to be shown again.

    Attributes:
        label: the label column the categories came from.
        source: where the photos came from (a file name, or the sample's photos).
        features: the photo features (``efficientnet-lite0`` or ``colour-histogram``).
        train_photos: photos trained on; test_photos: held out and scored on.
        unlabelled_photos: photos without a label (given a suggested one).
        test_share: share of the labelled photos held out (0 to 1).
        mirrored: mirror images were trained on and averaged over.
        classes: the categories, in the confusion matrix's order.
        confusion: the MLP's confusion matrix on the test photos (rows: true category).
        epochs: the MLP's epochs run; best_epoch: the one whose weights were kept.
        similar_precision_at_5: share of each test photo's 5 most similar training photos in
            its category (0 to 1).
        warnings: what the user should know.
    """

    label: str
    source: str
    features: str
    train_photos: int
    test_photos: int
    unlabelled_photos: int
    test_share: float
    mirrored: bool
    classes: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]
    epochs: int
    best_epoch: int
    similar_precision_at_5: float | None = None
    warnings: tuple[str, ...] = ()


Details = PurchaseDetails | RecommendDetails | ImageDetails


@dataclass(frozen=True)
class RunRecord:
    """What a training hands to the registry.

    Attributes:
        task: ``purchase`` or ``recommend``.
        estimators: the fitted scikit-learn estimators by role (e.g. ``regressor``).
        config: what the training was asked for.
        metrics: per model (the MLP and every baseline), its scores (``None`` when undefined).
        curves: per network, its per-epoch curves.
        details: what the task needs besides to show and reopen the run.
        train_seconds: wall time of the training.
        stopped_at_epoch: the epoch reached when the training was cut short (Stop, or the
            server shutting down); ``None`` when it ran until it ended by itself.
    """

    task: Task
    estimators: dict[str, Any]
    config: RunConfig
    metrics: Mapping[str, Mapping[str, float | None]]
    curves: Mapping[str, pd.DataFrame]
    details: Details
    train_seconds: float = 0.0
    stopped_at_epoch: int | None = None

    def default_name(self, data: str | None, created: dt.datetime) -> str:
        """``64,32 · seed 0 · Online Retail · 2026-12-04 09:30`` (the data's file name without
        its extensions, the time in UTC), and ``(stopped at epoch 12)`` for a run cut short:
        distinct for runs of the same settings on other data or at other times."""
        network = self.config.network
        if isinstance(self.details, ImageDetails):  # named by its photos, not the shop's events
            data = self.details.source
        parts = [
            ",".join(str(w) for w in network.hidden_layers),
            f"seed {network.random_state}",
            data_label(data) if data else "",
            f"{created.astimezone(dt.UTC):%Y-%m-%d %H:%M}",
        ]
        stopped = (
            f" (stopped at epoch {self.stopped_at_epoch})"
            if self.stopped_at_epoch is not None
            else ""
        )
        name = " · ".join(part for part in parts if part) + stopped
        if len(name) > MAX_NAME:  # wide networks and long seeds: the data's name gives way
            del parts[2]
            name = (" · ".join(part for part in parts if part) + stopped)[:MAX_NAME].strip()
        return name


@dataclass(frozen=True)
class RunManifest:
    """A run's manifest, checked: everything known about a run but its estimators."""

    run_id: str
    task: Task
    name: str
    tags: tuple[str, ...]
    created: pd.Timestamp
    config: RunConfig
    dataset: DatasetSummary
    metrics: Mapping[str, Mapping[str, float | None]]
    curves: Mapping[str, pd.DataFrame]
    details: Details
    train_seconds: float
    model_sha256: str
    versions: Mapping[str, str] = field(default_factory=dict)
    stopped_at_epoch: int | None = None
    imported_from: str | None = None
    bundle_model_sha256: str | None = None

    @property
    def status(self) -> Status:
        """``stopped`` for a run cut short, else ``complete``."""
        return "complete" if self.stopped_at_epoch is None else "stopped"

    @property
    def scores(self) -> pd.DataFrame:
        """The metrics as a table: one row per model (index ``model``), NaN where undefined."""
        return metrics_to_scores(self.metrics)

    def record(self, estimators: dict[str, Any]) -> RunRecord:
        """The training this manifest describes, with its ``estimators``, ready to save again
        (e.g. into another runs folder)."""
        return RunRecord(
            self.task,
            estimators,
            self.config,
            self.metrics,
            self.curves,
            self.details,
            self.train_seconds,
            self.stopped_at_epoch,
        )

    def version_warnings(self) -> tuple[str, ...]:
        """A warning when the run was saved with another scikit-learn than this one."""
        saved = self.versions.get("scikit-learn")
        if saved and saved != sklearn.__version__:
            return (
                f"This run was trained with scikit-learn {saved} and is opened with "
                f"{sklearn.__version__}; its predictions may differ slightly. Retrain to be sure.",
            )
        return ()

    def to_json(self) -> dict[str, Any]:
        """The manifest as plain JSON values (the inverse of :func:`parse_manifest`)."""
        config = self.config
        config_json: dict[str, Any] = {
            "network": network_config_dict(config.network),
            "evaluate": config.evaluate,
        }
        if config.cutoff is not None:
            config_json["cutoff"] = f"{config.cutoff:%Y-%m-%d}"
        if config.horizon_days is not None:
            config_json["horizon_days"] = config.horizon_days
        if config.k is not None:
            config_json["k"] = config.k
        if config.recommender is not None:
            values = dataclasses.asdict(config.recommender)
            values["network"] = network_config_dict(config.recommender.network)
            config_json["recommender"] = values
        if config.max_users is not None:
            config_json["max_users"] = config.max_users
        if config.sample_seed is not None:
            config_json["sample_seed"] = config.sample_seed
        data = {
            "manifest_version": MANIFEST_VERSION,
            "run_id": self.run_id,
            "task": self.task,
            "name": self.name,
            "tags": list(self.tags),
            "created": self.created.isoformat(timespec="seconds"),
            "status": self.status,
            "stopped_at_epoch": self.stopped_at_epoch,
            "config": config_json,
            "dataset": {
                f.name: getattr(self.dataset, f.name) for f in dataclasses.fields(DatasetSummary)
            },
            "metrics": self.metrics,
            "curves": {name: frame_to_columns(frame) for name, frame in self.curves.items()},
            "details": _details_json(self.details),
            "train_seconds": self.train_seconds,
            "versions": dict(self.versions),
            "model_file": MODEL,
            "model_sha256": self.model_sha256,
        }
        if self.imported_from is not None:
            data["imported_from"] = self.imported_from
        if self.bundle_model_sha256 is not None:
            data["bundle_model_sha256"] = self.bundle_model_sha256
        return jsonable(data)


def _details_json(details: Details) -> dict[str, Any]:
    values = {f.name: getattr(details, f.name) for f in dataclasses.fields(details)}
    for name, value in values.items():
        if isinstance(value, pd.DataFrame):
            values[name] = frame_to_columns(value)
    return values


# --- parsing ------------------------------------------------------------------------------


def _part(data: Mapping[str, Any], key: str, parse: Callable[[Any], Any]) -> Any:
    """``parse(data[key])``, or the one-line reason the manifest is refused."""
    try:
        return parse(data.get(key))
    except (KeyError, TypeError, ValueError, AttributeError, SettingError, RunNameError):
        raise ManifestError(f"manifest.json has no valid '{key}'") from None


def _whole(low: int, high: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(value)
        return value

    return parse


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(value)
    return float(value)


def _optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else parse(value)


def _text(value: Any) -> str:
    """Plain text from a manifest: one line, no markup, not too long."""
    if not isinstance(value, str) or len(value) > _MAX_TEXT or _MARKUP.search(value):
        raise ValueError(value)
    if any(not c.isprintable() for c in value):
        raise ValueError(value)
    return value


def _file_name(value: Any) -> str:
    if not isinstance(value, str) or len(value) > _MAX_TEXT:
        raise ValueError(value)
    return value


def _timestamp(value: Any, *, zone: bool | None = None) -> pd.Timestamp:
    """A time written as text: with a zone (``zone=True``), without one and between 1970 and
    2200 (``zone=False``, a day such as a cutoff), or either (``None``)."""
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError(value)
    stamp = pd.Timestamp(value)
    if zone is not None and (stamp.tzinfo is not None) != zone:
        raise ValueError(value)
    if zone is False and not _FIRST_DAY <= stamp <= _LAST_DAY:
        raise ValueError(value)
    return stamp


def _with_zone(value: Any) -> pd.Timestamp:
    return _timestamp(value, zone=True)


def _now(_: Any) -> pd.Timestamp:
    """A bundle's creation time is not kept: the import is the run's creation."""
    return pd.Timestamp.now("UTC")


def _mapping(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(value)
    return value


def _metrics(value: Any) -> dict[str, dict[str, float | None]]:
    rows: dict[str, dict[str, float | None]] = {}
    for model, row in _mapping(value).items():
        if not _NAME.fullmatch(model):
            raise ValueError(model)
        rows[model] = {}
        for metric, number in _mapping(row).items():
            if not _NAME.fullmatch(metric):
                raise ValueError(metric)
            rows[model][metric] = _optional(_number)(number)
    return rows


def plain_text(text: str) -> str:
    """``text`` as a manifest may carry it: one line, markup characters blanked, not too long.
    Trainings pass their warnings through it, so what they save always reads back."""
    flat = " ".join(_MARKUP.sub(" ", str(text)).split())
    return "".join(c for c in flat if c.isprintable())[:_MAX_TEXT]


def _columns(value: Any, *, epoch: bool) -> pd.DataFrame:
    """Per column, values of equal length (numbers or None; text for a ``feature`` column)."""
    columns = _mapping(value)
    if not columns:
        return pd.DataFrame()
    if epoch and "epoch" not in columns:
        raise ValueError("no epoch")
    if len({len(v) if isinstance(v, list) else -1 for v in columns.values()}) != 1:
        raise ValueError("unequal")
    for name, values in columns.items():
        if not isinstance(values, list) or not _CURVE_COLUMN.fullmatch(name):
            raise ValueError(name)
        check = _text if name == "feature" else _optional(_number)
        for item in values:
            check(item)
    return columns_to_frame(columns)


def _curves(task: str) -> Callable[[Any], dict[str, pd.DataFrame]]:
    def parse(value: Any) -> dict[str, pd.DataFrame]:
        curves = {name: _columns(v, epoch=True) for name, v in _mapping(value).items()}
        if not set(curves) <= set(_NETWORKS[task]):
            raise ValueError(value)
        if task == "purchase" and set(curves) != set(_NETWORKS[task]):
            raise ValueError(value)
        return curves

    return parse


def _dataset(value: Any) -> DatasetSummary:
    data = _mapping(value)
    fingerprint = data.get("fingerprint")
    if not isinstance(fingerprint, str) or not FINGERPRINT_PATTERN.fullmatch(fingerprint):
        raise ValueError(fingerprint)
    count = _optional(_whole(0, 2**62))
    return DatasetSummary(
        fingerprint=fingerprint,
        events=count(data.get("events")),
        users=count(data.get("users")),
        items=count(data.get("items")),
        start=_optional(_timestamp)(data.get("start")),
        end=_optional(_timestamp)(data.get("end")),
        events_file=_optional(_file_name)(data.get("events_file")),
        products_file=_optional(_file_name)(data.get("products_file")),
    )


def _config(task: str) -> Callable[[Any], RunConfig]:
    def parse(value: Any) -> RunConfig:
        data = _mapping(value)
        k = _whole(1, MAX_K)(data["k"]) if task == "recommend" else None
        recommender = None
        if task == "recommend":
            values = _mapping(data["recommender"])
            known = {f.name for f in dataclasses.fields(RecommenderConfig)} - {"network"}
            recommender = RecommenderConfig(
                network=network_config_from(_mapping(values["network"])),
                **{k: v for k, v in values.items() if k in known},
            )
        evaluate = data.get("evaluate", True)
        if not isinstance(evaluate, bool):
            raise ValueError(evaluate)
        timed = task != "images"  # photos are scored on a held-out share, not a time window
        network = network_config_from(_mapping(data["network"]))
        sampled = task == "purchase"
        return RunConfig(
            network=network,
            cutoff=_timestamp(data["cutoff"], zone=False) if timed else None,
            horizon_days=_whole(1, MAX_HORIZON_DAYS)(data["horizon_days"]) if timed else None,
            evaluate=evaluate,
            k=k,
            recommender=recommender,
            max_users=_optional(MAX_USERS.check)(data.get("max_users")) if sampled else None,
            sample_seed=_optional(_SEED.check)(data.get("sample_seed")) if sampled else None,
        )

    return parse


def _pair(value: Any) -> tuple[int, int]:
    first, second = (_whole(0, 10**6)(v) for v in value)
    return first, second


def _details(task: str) -> Callable[[Any], Details]:
    def parse(value: Any) -> Details:
        data = _mapping(value)
        if task == "purchase":
            return PurchaseDetails(
                users=_whole(0, 2**62)(data["users"]),
                mean_rate_per_day=_number(data["mean_rate_per_day"]),
                base_buy_rate=_number(data["base_buy_rate"]),
                best_epochs=_pair(data["best_epochs"]),
                epochs_run=_pair(data["epochs_run"]),
                warnings=tuple(_text(w) for w in data.get("warnings", [])),
                importance=_columns(data.get("importance", {}), epoch=False),
            )
        if task == "images":
            return _image_details(data)
        by_k = data.get("by_k")
        return RecommendDetails(
            pair_features=tuple(_text(f) for f in data["pair_features"]),
            train_pairs=_whole(0, 2**62)(data["train_pairs"]),
            fit_seconds=_number(data["fit_seconds"]),
            epochs=_whole(0, 10**6)(data["epochs"]),
            best_epoch=_whole(0, 10**6)(data["best_epoch"]),
            users_evaluated=_optional(_whole(0, 2**62))(data.get("users_evaluated")),
            score_seconds=_optional(_number)(data.get("score_seconds")),
            by_k=_by_k(by_k) if by_k is not None else None,
            category_accuracy=_optional(_number)(data.get("category_accuracy")),
            category_top3_accuracy=_optional(_number)(data.get("category_top3_accuracy")),
            non_product_items=_whole(0, 2**62)(data.get("non_product_items", 0)),
            notes=tuple(_text(n) for n in data.get("notes", [])),
            photo_features=_optional(_feature_kind)(data.get("photo_features")),
            photo_comparison=_optional(_by_k)(data.get("photo_comparison")),
        )

    return parse


def _image_details(data: Mapping[str, Any]) -> ImageDetails:
    count = _whole(0, 2**62)
    classes = tuple(_text(c) for c in data["classes"])
    confusion = tuple(tuple(count(n) for n in row) for row in data["confusion"])
    if len(confusion) != len(classes) or any(len(row) != len(classes) for row in confusion):
        raise ValueError("confusion")
    share = _number(data["test_share"])
    if not 0 < share < 1 or not isinstance(data["mirrored"], bool):
        raise ValueError("settings")
    return ImageDetails(
        label=_text(data["label"]),
        source=_text(data["source"]),
        features=_text(data["features"]),
        train_photos=count(data["train_photos"]),
        test_photos=count(data["test_photos"]),
        unlabelled_photos=count(data["unlabelled_photos"]),
        test_share=share,
        mirrored=data["mirrored"],
        classes=classes,
        confusion=confusion,
        epochs=_whole(0, 10**6)(data["epochs"]),
        best_epoch=_whole(0, 10**6)(data["best_epoch"]),
        similar_precision_at_5=_optional(_number)(data.get("similar_precision_at_5")),
        warnings=tuple(_text(w) for w in data.get("warnings", [])),
    )


def _feature_kind(value: Any) -> FeatureKind:
    if value == CNN:
        return CNN
    if value == COLOUR:
        return COLOUR
    raise ValueError(value)


def _by_k(value: Any) -> pd.DataFrame:
    columns = dict(_mapping(value))
    models = columns.pop("model", None)
    frame = _columns(columns, epoch=False)
    if models is not None:
        if not isinstance(models, list) or not all(
            isinstance(m, str) and _NAME.fullmatch(m) for m in models
        ):
            raise ValueError(models)
        frame["model"] = models
    return frame


def _name(value: Any) -> str:
    if not isinstance(value, str) or clean_name(value) != value:
        raise ValueError(value)
    return value


def _tags(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        raise ValueError(value)
    if not all(isinstance(t, str) and TAG.fullmatch(t) for t in value):
        raise ValueError(value)
    return tuple(value)


def _usable_name(value: Any) -> str:
    """A bundle's name when it is usable here, else none (the run gets its default name)."""
    try:
        return _name(value)
    except (ValueError, RunNameError):
        return ""


def _usable_tags(value: Any) -> tuple[str, ...]:
    try:
        return _tags(value)
    except ValueError:
        return ()


def _versions(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    return {str(k): _file_name(v) for k, v in _mapping(value).items()}


def _sha(value: Any) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise ValueError(value)
    return value


def _stopped_at(data: Mapping[str, Any], details: Details) -> int | None:
    """The epoch a run cut short reached; older manifests only said ``details.stopped``."""
    if "status" in data:
        status = data["status"]
        if status == "complete":
            return None
        if status != "stopped":
            raise ValueError(status)
        return _whole(0, 10**6)(data.get("stopped_at_epoch"))
    old = _mapping(data.get("details")).get("stopped", False)
    if old is not True:
        return None
    if isinstance(details, PurchaseDetails):
        return max(details.epochs_run)
    return details.epochs


def parse_manifest(data: Any, *, run_id: str | None) -> RunManifest:
    """Check a manifest read from JSON and type it.

    Args:
        data: what ``json.loads`` gave.
        run_id: the run's folder (``None`` for a bundle's manifest, whose name, tags and
            creation time are not kept as they are).

    Raises:
        ManifestError: a few words saying what is wrong (e.g. ``manifest.json has no valid
            'config'``), for anything that is not what this version writes.
    """
    if not isinstance(data, dict):
        raise ManifestError("manifest.json is not an object")
    task = data.get("task")
    if task not in TASKS:
        raise ManifestError("manifest.json names an unknown task")
    if run_id is not None and data.get("run_id") != run_id:
        raise ManifestError("manifest.json belongs to another run")
    details = _part(data, "details", _details(task))
    bundle = run_id is None
    return RunManifest(
        run_id=run_id if run_id is not None else str(data.get("run_id", ""))[:60],
        task=task,
        name=_part(data, "name", _usable_name if bundle else _name),
        tags=_part(data, "tags", _usable_tags if bundle else _tags),
        created=_part(
            data,
            "created",
            lambda v: pd.Timestamp.now("UTC") if bundle else _timestamp(v, zone=True),
        ),
        config=_part(data, "config", _config(task)),
        dataset=_part(data, "dataset", _dataset),
        metrics=_part(data, "metrics", _metrics),
        curves=_part(data, "curves", _curves(task)),
        details=details,
        train_seconds=_part(data, "train_seconds", lambda v: _optional(_number)(v) or 0.0),
        model_sha256=_part(data, "model_sha256", lambda v: v if bundle else _sha(v)),
        versions=_part(data, "versions", _versions),
        stopped_at_epoch=_part(data, "status", lambda _: _stopped_at(data, details)),
        imported_from=_part(data, "imported_from", _optional(_text)),
        bundle_model_sha256=_part(data, "bundle_model_sha256", _optional(_sha)),
    )
