"""One function per use case: train, evaluate and save the run; and open a saved run again.

The model pages (through the background trainer), the command line, sweeps and benchmarks all
call these, so a rule changed here changes everywhere. Each takes the loaded data and settings
checked where they are defined, reports its progress to an optional callback (which may ask it
to stop: the run is then kept as ``stopped`` with the best epoch so far) and returns everything
a page shows of the result.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from core import batch, images, purchase, recommend
from core.config import HORIZON_DAYS, TOP_K, load_settings
from core.data.loading import ShopData, with_photos_fingerprint
from core.errors import RunWriteError, ShopLensError
from core.ml.layers import format_hidden_layers
from core.ml.network import EpochReport, NetworkConfig, OnProgress, TrainingProgress
from core.ml.timesplit import as_day, check_cutoff, data_end_of, default_cutoff
from core.params import HORIZON, MAX_USERS, Constraint, Flag, K, OrNone, check_settings
from core.runs.manifest import DatasetSummary, RecommendDetails, RunConfig, RunRecord
from core.runs.store import LoadedRun, RunStore
from core.runs.tasks import (
    check_run_inputs,
    image_run_record,
    purchase_models_from_run,
    purchase_run_record,
    recommender_from_run,
    recommender_run_record,
)


class TrainingCancelledError(ShopLensError):
    """Stop was pressed before the first epoch ended, so there is no model to keep."""


def _report(on_progress: OnProgress | None, progress: TrainingProgress) -> bool:
    """Pass ``progress`` on; True when the callback asked to stop."""
    return on_progress is not None and on_progress(progress) is False


def _save(
    store: RunStore | None,
    record: RunRecord,
    shop: ShopData | DatasetSummary,
    *,
    name: str,
    tags: tuple[str, ...],
    on_progress: OnProgress | None,
) -> tuple[str | None, str | None]:
    """Save the run; ``(run id, None)``, or ``(None, why)`` when the folder cannot be written."""
    if store is None:
        return None, None
    _report(on_progress, TrainingProgress("saving"))
    try:
        return store.save(record, shop, name=name, tags=tags), None
    except RunWriteError as err:
        return None, str(err)


# --- purchase prediction ------------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseSettings:
    """What a purchase-prediction training is asked for.

    Attributes:
        network: the settings of both networks.
        horizon_days: H, the predicted window in days (1 to 365).
        cutoff: the evaluation date; ``None`` takes the latest one that leaves H days after it.
        max_users: with more users in the data, every model is trained and scored on this
            many drawn at random (100 to 100,000,000; ``None``: every user).
        sample_seed: the seed that draws those users and the training rows above the row
            limit (``None``: the network's own); a sweep's runs share the tables of its first
            seed, and a reopened run rebuilds its own.
    """

    network: NetworkConfig = field(default_factory=NetworkConfig)
    horizon_days: int = HORIZON_DAYS
    cutoff: pd.Timestamp | None = None
    max_users: int | None = None
    sample_seed: int | None = None

    CONSTRAINTS: ClassVar[Mapping[str, Constraint]] = {
        "horizon_days": HORIZON,
        "max_users": OrNone(MAX_USERS),
        "sample_seed": OrNone(NetworkConfig.CONSTRAINTS["random_state"]),
    }

    def __post_init__(self) -> None:
        check_settings(self, self.CONSTRAINTS)
        if self.cutoff is not None:
            object.__setattr__(self, "cutoff", as_day(self.cutoff))

    @property
    def tables_seed(self) -> int:
        """The seed the feature tables are drawn with."""
        return self.network.random_state if self.sample_seed is None else self.sample_seed

    @classmethod
    def of_run(cls, config: RunConfig) -> PurchaseSettings:
        """The settings a saved purchase run was trained with (a run saved before users were
        sampled used every user).

        Raises:
            RunIntegrityError: the run was not split in time.
        """
        cutoff, horizon = config.time_window
        return cls(config.network, horizon, cutoff, config.max_users, config.sample_seed)


@dataclass(frozen=True)
class PurchaseResult:
    """One purchase training, fresh or reopened: what the page, the CLI and sweeps show.

    Attributes:
        data: the feature tables the models were trained and scored on.
        models: both networks and every baseline.
        evaluation: scores, per-user predictions and permutation importance.
        next_orders: predictions for the H days after the data ends.
        epochs: joint epochs run before training ended or was stopped.
        run_id: the saved run (None when it was not saved).
        save_problem: why the run could not be saved, when it could not.
    """

    data: purchase.PurchaseData
    models: purchase.PurchaseModels
    evaluation: purchase.PurchaseEvaluation
    next_orders: pd.DataFrame
    epochs: int
    run_id: str | None = None
    save_problem: str | None = None

    @property
    def stopped(self) -> bool:
        """Stop cut the training short."""
        return self.models.stopped

    @property
    def warnings(self) -> tuple[str, ...]:
        """What the user should know: about the data (e.g. BG/NBD not fitted) and training."""
        return tuple(dict.fromkeys((*self.data.warnings, *self.models.warnings)))

    @property
    def label(self) -> str:
        """The configuration in a few words, e.g. ``64,32 relu α=0.0001``."""
        config = self.models.config
        return (
            f"{format_hidden_layers(config.hidden_layers)} {config.activation} α={config.alpha:g}"
        )


def prepare_purchase(
    shop: ShopData,
    settings: PurchaseSettings,
    *,
    inputs: tuple[str, ...] | None = None,
    features_at: purchase.FeaturesAt | None = None,
) -> purchase.PurchaseData:
    """The feature tables for the settings' cutoff and horizon, with the inputs the data can
    have, or ``inputs`` (a saved run's own list). ``features_at`` gives the per-user features
    at each date when a feature job computed them for this data (e.g.
    ``batch.FeatureTables.users_at``); otherwise they are computed here.

    With more users than ``settings.max_users``, the tables hold that many users drawn at
    random, so every model (both networks and every baseline) is trained and scored on the
    same sampled users, and the tables' warnings say so. The users and the training-row
    sample (above the row limit) are drawn with ``settings.tables_seed``.

    Raises:
        CutoffError: when the cutoff leaves no room for training or evaluation.
    """
    return purchase.build_purchase_data(
        shop.events.frame,
        shop.product_frame,
        cutoff=settings.cutoff,
        horizon_days=settings.horizon_days,
        random_state=settings.tables_seed,
        inputs=inputs,
        max_users=settings.max_users,
        features_at=features_at,
    )


@dataclass(frozen=True)
class DatasetFeatures:
    """What a dataset's own feature tables (``features/`` in its folder) give the settings.

    Attributes:
        tables: the tables to read (None: the features are computed here).
        note: one line on where the features come from ('' without such tables).
    """

    tables: batch.FeatureTables | None = None
    note: str = ""


def dataset_features(dataset: Path, shop: ShopData, settings: PurchaseSettings) -> DatasetFeatures:
    """The feature job's tables a dataset keeps in ``features/`` (``python -m core features
    --dataset NAME --horizon-days H --out DATA_DIR/NAME/features``), when they hold every date
    purchase prediction with these settings reads; otherwise the features are computed here."""
    what = "the features"

    def refusal(tables: batch.FeatureTables) -> str | None:
        if tables.serves(shop.events.frame, settings.cutoff, settings.horizon_days):
            return None
        return _made_for_others(tables, what)

    return _dataset_tables(dataset, refusal, "Per-user features", what)


def dataset_interactions(
    dataset: Path, shop: ShopData, settings: RecommendSettings
) -> DatasetFeatures:
    """The feature job's tables a dataset keeps in ``features/``, when they hold the user x item
    table at every date the recommender with these settings reads;
    otherwise the interactions are added up from the events here."""
    events, what = shop.events.frame, "the interactions"

    def refusal(tables: batch.FeatureTables) -> str | None:
        if not tables.interaction_dates:
            return (
                f"The dataset's feature tables ({tables.engine}) hold no user x item tables by "
                "date; run python -m core features --horizon-days H again to write them. Until "
                f"then {what} are computed here."
            )
        if tables.serves_recommender(
            events,
            settings.cutoff_for(events),
            settings.horizon_days,
            settings.config.train_windows,
        ):
            return None
        return _made_for_others(tables, what)

    return _dataset_tables(dataset, refusal, "User x item interactions", what)


def _made_for_others(tables: batch.FeatureTables, what: str) -> str:
    return (
        f"The dataset's feature tables ({tables.engine}) were made for cutoff "
        f"{tables.cutoff:%Y-%m-%d} and a {tables.horizon_days}-day horizon, not for these "
        f"settings, so {what} are computed here."
    )


def _dataset_tables(
    dataset: Path,
    refusal: Callable[[batch.FeatureTables], str | None],
    read: str,
    what: str,
) -> DatasetFeatures:
    """The tables in the dataset's ``features/`` unless ``refusal`` says why they do not serve;
    ``read`` and ``what`` name what they give, as a sentence starts and within one."""
    folder = dataset / batch.IN_DATASET
    if not folder.is_dir():
        return DatasetFeatures()
    try:
        tables = batch.FeatureTables.open(folder)
    except batch.FeatureTablesError as err:
        return DatasetFeatures(note=f"{err} Until then {what} are computed here.")
    note = refusal(tables)
    if note is not None:
        return DatasetFeatures(note=note)
    return DatasetFeatures(
        tables,
        f"{read} read from the dataset's feature tables ({tables.engine}, cutoff "
        f"{tables.cutoff:%Y-%m-%d}, {tables.horizon_days}-day horizon).",
    )


def score_purchase(
    models: purchase.PurchaseModels,
    data: purchase.PurchaseData,
    *,
    epochs: int,
    run_id: str | None = None,
) -> PurchaseResult:
    """Every model's scores on the evaluation window and the MLP's predictions for the H days
    after the data, for trained or reopened models."""
    evaluation = purchase.evaluate_purchase_models(
        models, data, random_state=models.config.random_state
    )
    return PurchaseResult(
        data=data,
        models=models,
        evaluation=evaluation,
        next_orders=purchase.predict_next_orders(models, data),
        epochs=epochs,
        run_id=run_id,
    )


def train_purchase(
    shop: ShopData,
    settings: PurchaseSettings,
    store: RunStore | None,
    *,
    data: purchase.PurchaseData | None = None,
    on_progress: OnProgress | None = None,
    name: str = "",
    tags: tuple[str, ...] = (),
) -> PurchaseResult:
    """Train both networks and the baselines, score every model, and save the run.

    Args:
        shop: the loaded data; the run records it.
        settings: the networks' settings, the horizon and the cutoff.
        store: where the run is saved (``None``: not saved).
        data: the feature tables when already built for these settings (sweeps share them).
        on_progress: told about every stage and epoch; returning False stops the training,
            which then keeps each network's best epoch and is saved as stopped.
        name: the run's name (default: its hidden layers and seed).
        tags: the run's tags.

    Raises:
        CutoffError: when the cutoff leaves no room for training or evaluation.
        TrainingCancelledError: when asked to stop before the first epoch ended.
    """
    if _report(on_progress, TrainingProgress("preparing")):
        raise TrainingCancelledError("Training was stopped before it started; nothing was kept.")
    data = data if data is not None else prepare_purchase(shop, settings)
    training = purchase.PurchaseTraining(data, settings.network)
    training.run(on_progress)
    if not training.can_finish:
        raise TrainingCancelledError(
            "Training was stopped before its first epoch ended, so no model was kept."
        )
    _report(on_progress, TrainingProgress("scoring", training.epoch, settings.network.epochs))
    result = score_purchase(training.finish(), data, epochs=training.epoch)
    record = purchase_run_record(result.models, result.evaluation, data)
    run_id, problem = _save(store, record, shop, name=name, tags=tags, on_progress=on_progress)
    return dataclasses.replace(result, run_id=run_id, save_problem=problem)


def open_purchase_run(
    loaded: LoadedRun, shop: ShopData, *, data: purchase.PurchaseData | None = None
) -> PurchaseResult:
    """A saved purchase run scored again on the data it was trained on.

    Raises:
        RunIntegrityError: when the run lacks a part or was trained on other inputs.
    """
    models = purchase_models_from_run(loaded)
    settings = PurchaseSettings.of_run(loaded.manifest.config)
    inputs = tuple(getattr(models.regressor, "feature_names_in_", ()))
    if (
        data is None
        or data.feature_names != inputs
        or not data.user_sample.matches(settings.max_users, settings.tables_seed)
    ):
        # A run predicts with its own inputs, e.g. one saved before inputs that the data
        # cannot have were left out, on the users it was trained on.
        data = prepare_purchase(shop, settings, inputs=inputs)
    check_run_inputs(loaded.run_id, models, data)
    return score_purchase(models, data, epochs=max(models.epochs_run), run_id=loaded.run_id)


# --- recommendations ----------------------------------------------------------------------


@dataclass(frozen=True)
class RecommendSettings:
    """What a recommender training is asked for.

    Attributes:
        config: the recommender's settings (the ranker's network among them).
        evaluate: hold out the H days after the cutoff and score every model on them;
            otherwise learn from all the data to recommend now.
        cutoff: the evaluation date; ``None`` takes the latest one that leaves H days after it
            (evaluate) or the end of the data (recommend now).
        horizon_days: H, the test window and each training window, in days (1 to 365).
        k: products per list, the k of every score (1 to 100).
    """

    config: recommend.RecommenderConfig = field(default_factory=recommend.RecommenderConfig)
    evaluate: bool = True
    cutoff: pd.Timestamp | None = None
    horizon_days: int = HORIZON_DAYS
    k: int = TOP_K

    CONSTRAINTS: ClassVar[Mapping[str, Constraint]] = {
        "evaluate": Flag("Evaluate"),
        "horizon_days": HORIZON,
        "k": K,
    }

    def __post_init__(self) -> None:
        check_settings(self, self.CONSTRAINTS)
        if self.cutoff is not None:
            object.__setattr__(self, "cutoff", as_day(self.cutoff))

    def cutoff_for(self, events: pd.DataFrame) -> pd.Timestamp:
        """The cutoff used on these events (the default one when none was given)."""
        if not self.evaluate:
            return data_end_of(events)
        return self.cutoff if self.cutoff is not None else default_cutoff(events, self.horizon_days)


@dataclass(frozen=True)
class RecommendResult:
    """One recommender training, fresh or reopened: what the page, the CLI and sweeps show.

    Attributes:
        settings: what was asked for, with the cutoff that was used.
        recommender: the fitted two-stage recommender (as of the cutoff).
        evaluation: every model's scores on the test window; ``None`` when recommending now.
        epochs: the ranker's epochs run.
        best_epoch: the epoch whose weights the ranker keeps.
        stopped: Stop cut the ranker's training short.
        seconds: wall time from the start to the result.
        run_id: the saved run (None when it was not saved).
        save_problem: why the run could not be saved, when it could not.
    """

    settings: RecommendSettings
    recommender: recommend.Recommender
    evaluation: recommend.RecommendationEvaluation | None
    epochs: int
    best_epoch: int
    stopped: bool
    seconds: float
    run_id: str | None = None
    save_problem: str | None = None

    @property
    def cutoff(self) -> pd.Timestamp:
        """The cutoff the recommender was fitted at (the end of the data when recommending now)."""
        assert self.settings.cutoff is not None  # a result's settings name the cutoff used
        return self.settings.cutoff


def train_recommender(
    shop: ShopData,
    settings: RecommendSettings,
    store: RunStore | None,
    *,
    on_progress: OnProgress | None = None,
    name: str = "",
    tags: tuple[str, ...] = (),
    pairs_at: recommend.PairsAt | None = None,
) -> RecommendResult:
    """Fit the recommender (and in evaluate mode score it beside the baselines), and save the run.

    Args:
        shop: the loaded data, with item ids; the run records it.
        settings: the recommender's settings, the mode, cutoff, horizon and k.
        store: where the run is saved (``None``: not saved).
        on_progress: told about every stage and the ranker's epochs; returning False stops the
            ranker, which then keeps its best epoch, and the run is saved as stopped.
        name: the run's name (default: its hidden layers and seed).
        tags: the run's tags.
        pairs_at: the per-(user, item) tables of the feature job run on these events, read
            instead of adding the events up (``recommend.fit_recommender``).

    Raises:
        CutoffError: when the cutoff has no data before it or, when scoring, no H days after.
        NoItemsError: when the data has no item ids.
        TrainingCancelledError: when asked to stop before the ranker's first epoch.
    """
    started = time.perf_counter()
    events = shop.events.frame
    products = shop.product_frame
    cutoff = settings.cutoff_for(events)
    check_cutoff(events, cutoff, settings.horizon_days, evaluate=settings.evaluate)
    settings = RecommendSettings(
        settings.config, settings.evaluate, cutoff, settings.horizon_days, settings.k
    )
    stopped: list[int] = []
    latest: list[EpochReport] = []

    def on_epoch(report: EpochReport) -> bool | None:
        latest[:] = [report]
        progress = TrainingProgress(
            "training", report.epoch, report.epochs, report.seconds, (report,)
        )
        if _report(on_progress, progress):
            stopped.append(report.epoch)
            return False
        return None

    if _report(on_progress, TrainingProgress("preparing")):
        raise TrainingCancelledError("Training was stopped before it started; nothing was kept.")
    photos = shop_photo_vectors(shop)
    fitted = recommend.fit_recommender(
        events,
        products,
        cutoff=cutoff,
        horizon_days=settings.horizon_days,
        config=settings.config,
        photos=photos,
        on_epoch=on_epoch,
        pairs_at=pairs_at,
    )
    report = latest[0] if latest else None
    epochs = report.epoch if report is not None else 0
    evaluation = None
    if settings.evaluate:
        scoring = TrainingProgress("scoring", epochs, settings.config.network.epochs)
        _report(on_progress, scoring)
        evaluation = recommend.score_recommender(
            fitted, events, cutoff=cutoff, horizon_days=settings.horizon_days, k=settings.k
        )
        if fitted.photos is not None and not stopped:
            # The same model without photo features, on the same split, tells what they add.
            without = recommend.fit_recommender(
                events,
                products,
                cutoff=cutoff,
                horizon_days=settings.horizon_days,
                config=settings.config,
                category_model=fitted.category_model,
                on_epoch=lambda _: False if _report(on_progress, scoring) else None,
                pairs_at=pairs_at,
            )
            if not _report(on_progress, scoring):
                comparison = recommend.compare_photo_features(fitted, without, evaluation)
                evaluation = dataclasses.replace(evaluation, photos=comparison)
    record = recommender_run_record(
        fitted,
        evaluation,
        cutoff=cutoff,
        horizon_days=settings.horizon_days,
        k=settings.k,
        stopped=bool(stopped),
    )
    run_id, problem = _save(store, record, shop, name=name, tags=tags, on_progress=on_progress)
    return RecommendResult(
        settings=settings,
        recommender=fitted,
        evaluation=evaluation,
        epochs=epochs,
        best_epoch=report.best_epoch if report is not None else 0,
        stopped=bool(stopped),
        seconds=time.perf_counter() - started,
        run_id=run_id,
        save_problem=problem,
    )


def shop_photo_vectors(shop: ShopData) -> recommend.PhotoVectors | None:
    """The shop's product photos embedded (through the cache folder), or ``None`` when it has
    none."""
    if shop.photos is None or not shop.photos.photos:
        return None
    return recommend.embed_shop_photos(shop.photos, cache_dir=load_settings().cache_dir)


def open_recommend_run(loaded: LoadedRun, shop: ShopData) -> RecommendResult:
    """A saved recommender made usable again on the data it was trained on (and, when it was
    evaluated, scored again on its test window).

    Raises:
        RunIntegrityError: when the run is not a recommender or was trained on other inputs.
    """
    manifest = loaded.manifest
    events = shop.events.frame
    products = shop.product_frame
    details = manifest.details
    assert isinstance(details, RecommendDetails)
    photos = shop_photo_vectors(shop) if details.photo_features is not None else None
    fitted = recommender_from_run(loaded, events, products, photos=photos)
    config = manifest.config
    cutoff, horizon = config.time_window
    k = config.k or TOP_K
    evaluation = None
    if config.evaluate:
        evaluation = recommend.score_recommender(
            fitted, events, cutoff=cutoff, horizon_days=horizon, k=k
        )
        if details.photo_comparison is not None:
            comparison = recommend.PhotoComparison.from_frame(details.photo_comparison)
            evaluation = dataclasses.replace(evaluation, photos=comparison)
    return RecommendResult(
        settings=RecommendSettings(fitted.config, config.evaluate, cutoff, horizon, k),
        recommender=fitted,
        evaluation=evaluation,
        epochs=details.epochs,
        best_epoch=details.best_epoch,
        stopped=manifest.stopped_at_epoch is not None,
        seconds=manifest.train_seconds,
        run_id=loaded.run_id,
    )


# --- product images -----------------------------------------------------------------------


@dataclass(frozen=True)
class ImageSettings:
    """What a category-model training on photos is asked for.

    Attributes:
        network: the MLP's settings.
        test_share: share of the photos held out for scoring when no test list is given
            (split so that each category keeps its share).
        mirrored: train on each photo and its mirror image, and average the predictions over
            both (better accuracy for twice the embedding time).
        features: ask for the colour features even when the network is installed.
    """

    network: NetworkConfig = images.DEFAULT_NETWORK
    test_share: float = 0.2
    mirrored: bool = True
    features: images.FeatureKind | None = None


@dataclass(frozen=True)
class ImageResult:
    """One category-model training on photos: what the page and the CLI show.

    Attributes:
        models: the MLP and the baselines.
        scores: every model's scores on the test photos.
        similar_precision_at_5: share of each test photo's 5 most similar training photos in
            its category (0 to 1), in the similarity space (see ``similarity_vectors``).
        train: the photos trained on; test: the photos scored on (labels set).
        test_probabilities: the MLP's probabilities for the test photos (rows: ``test``,
            columns: ``models.classes``).
        catalogue: every photo (training, test, then those without a label), the rows of
            ``similarity_vectors``.
        similarity_vectors: the photos as "visually similar" compares them (by cosine): the
            MLP's last hidden layer, averaged over each photo and its mirror image.
        suggestions: the MLP's label for each photo without one (``item_id``, ``suggested``,
            ``confidence``), most confident first.
        catalogue_precision_at_5: share of each test photo's 5 most similar other photos (of
            the whole catalogue's labelled ones) with its label (0 to 1), as "find products
            like this" shows them; training photos are not asked about, as the MLP has learnt
            their labels.
        features: the embedding used.
        embed_seconds_per_photo: seconds per photo (and mirror image) embedded now; 0 when all
            came from the cache.
        embed_seconds: wall time of embedding every photo, cache reads included.
        label: the label column (the page's photos; empty from a list).
        source: where the photos came from, in a few words (the page's photos).
        settings: what was asked for.
        run_id: the saved run (None when it was not saved).
        save_problem: why the run could not be saved, when it could not.
    """

    models: images.ImageModels
    scores: dict[str, images.ModelScores]
    similar_precision_at_5: float
    train: tuple[images.Photo, ...]
    test: tuple[images.Photo, ...]
    test_probabilities: np.ndarray
    catalogue: tuple[images.Photo, ...]
    similarity_vectors: np.ndarray
    suggestions: pd.DataFrame
    catalogue_precision_at_5: float
    features: images.FeatureKind
    embed_seconds_per_photo: float
    embed_seconds: float
    label: str = ""
    source: str = ""
    settings: ImageSettings = field(default_factory=ImageSettings)
    run_id: str | None = None
    save_problem: str | None = None

    @property
    def train_photos(self) -> int:
        """Photos trained on."""
        return len(self.train)

    @property
    def test_photos(self) -> int:
        """Photos scored on."""
        return len(self.test)

    @property
    def stopped(self) -> bool:
        """Stop cut the MLP's training short."""
        return self.models.stopped


def split_photos(
    photos: Sequence[images.Photo], test_share: float, random_state: int
) -> tuple[tuple[images.Photo, ...], tuple[images.Photo, ...]]:
    """Training and test photos, each category keeping its share where it has photos enough.

    Raises:
        TooFewPhotosError: fewer than 4 photos.
    """
    from sklearn.model_selection import train_test_split

    labels = [str(photo.label) for photo in photos]
    if len(labels) < 4:
        raise images.TooFewPhotosError(
            f"Only {len(labels)} labelled photos; at least 4 are needed to train and score."
        )
    counts = pd.Series(labels).value_counts()
    held = max(1, round(len(labels) * test_share))
    stratify = labels if counts.min() >= 2 and held >= len(counts) else None
    train, test = train_test_split(
        list(photos), test_size=held, random_state=random_state, stratify=stratify
    )
    return tuple(train), tuple(test)


def train_images(
    train: Sequence[images.Photo],
    test: Sequence[images.Photo] | None,
    settings: ImageSettings,
    *,
    cache_dir: Path | None,
    unlabelled: Sequence[images.Photo] = (),
    on_progress: OnProgress | None = None,
    store: RunStore | None = None,
    shop: ShopData | None = None,
    label: str = "",
    source: str = "",
    name: str = "",
    tags: tuple[str, ...] = (),
) -> ImageResult:
    """Embed the photos, train the category MLP and its baselines, score every model and the
    "visually similar" neighbours on the test photos (or a held-out share of ``train``),
    suggest a label for the ``unlabelled`` photos, and save the run.

    Args:
        train: labelled photos (a share is held out for scoring when ``test`` is None).
        test: labelled photos to score on.
        settings: the MLP's settings, the held-out share, mirror images and features.
        cache_dir: where the network's graph and the embeddings are kept (None: nowhere).
        unlabelled: photos without a label, given a suggested one.
        on_progress: told about the embedding (``embedding``: photos done of all), every
            epoch and stage; returning False stops (the MLP keeps its best epoch).
        store: where the run is saved (None: not saved); ``shop`` is the data it records
            (None: photos alone, as on the command line).
        label: the label column, recorded in the run.
        source: where the photos came from, recorded in the run.
        name: a name for the saved run; tags: its tags.

    Raises:
        TooFewPhotosError: too few labelled photos or categories.
        TrainingCancelledError: Stop was pressed before the first epoch ended.
    """
    if _report(on_progress, TrainingProgress("preparing")):
        raise TrainingCancelledError("Training was stopped before it started; nothing was kept.")
    if test is None:
        train_photos, test_photos = split_photos(
            train, settings.test_share, settings.network.random_state
        )
    else:
        train_photos, test_photos = tuple(train), tuple(test)
    images.check_categories([str(photo.label) for photo in train_photos])
    embedder = images.load_embedder(cache_dir, features=settings.features)
    catalogue = (*train_photos, *test_photos, *unlabelled)

    def embedded_so_far(done: int, total: int) -> None:
        if _report(on_progress, TrainingProgress("embedding", done, total)):
            raise TrainingCancelledError(
                "Training was stopped while the photos were embedded; nothing was kept (the "
                "photos embedded so far are kept in the cache)."
            )

    embedded = images.embed_photos(
        catalogue,
        embedder,
        cache_dir=cache_dir,
        mirrored=settings.mirrored,
        on_progress=embedded_so_far,
    )
    cut, end = len(train_photos), len(train_photos) + len(test_photos)
    vectors, mirrored = embedded.vectors, embedded.mirrored

    def rows(low: int, high: int) -> tuple[np.ndarray, np.ndarray | None]:
        return vectors[low:high], None if mirrored is None else mirrored[low:high]

    (train_vectors, train_mirrored), (test_vectors, test_mirrored) = rows(0, cut), rows(cut, end)
    train_labels = np.array([str(photo.label) for photo in train_photos])
    test_labels = np.array([str(photo.label) for photo in test_photos])

    def on_epoch(report: EpochReport) -> bool:
        progress = TrainingProgress(
            "training", report.epoch, report.epochs, report.seconds, (report,)
        )
        return not _report(on_progress, progress)

    models = images.train_image_models(
        train_vectors,
        train_labels,
        mirrored=train_mirrored,
        config=settings.network,
        on_epoch=on_epoch,
    )
    _report(on_progress, TrainingProgress("scoring"))
    scores = images.score_image_models(models, test_vectors, test_labels, mirrored=test_mirrored)
    unlabelled_vectors, unlabelled_mirrored = rows(end, len(catalogue))
    space = models.similarity_space(vectors, mirrored)
    result = ImageResult(
        models=models,
        scores=scores,
        similar_precision_at_5=images.similar_precision_at_k(
            space[:cut], train_labels, space[cut:end], test_labels
        ),
        train=train_photos,
        test=test_photos,
        test_probabilities=models.probabilities(images.MLP, test_vectors, test_mirrored),
        catalogue=catalogue,
        similarity_vectors=space,
        suggestions=images.suggest_labels(
            models, [p.item_id for p in unlabelled], unlabelled_vectors, unlabelled_mirrored
        ),
        catalogue_precision_at_5=images.catalogue_precision_at_k(
            space[:end], [str(p.label) for p in catalogue[:end]], queries=np.arange(cut, end)
        ),
        features=embedder.kind,
        embed_seconds_per_photo=embedded.seconds_per_photo,
        embed_seconds=embedded.seconds,
        label=label,
        source=source,
        settings=settings,
    )
    if store is None:
        return result
    record = image_run_record(
        models,
        scores,
        label=label,
        source=source,
        features=embedder.kind,
        train_photos=len(train_photos),
        test_photos=len(test_photos),
        unlabelled_photos=len(unlabelled),
        test_share=settings.test_share,
        mirrored=settings.mirrored,
        similar_precision_at_5=result.similar_precision_at_5,
    )
    # Photos alone (the command line) are recorded by their fingerprint and source.
    recorded = (
        shop
        if shop is not None
        else DatasetSummary(
            with_photos_fingerprint("photos", images.PhotoSet(catalogue)), events_file=source
        )
    )
    run_id, problem = _save(store, record, recorded, name=name, tags=tags, on_progress=on_progress)
    return dataclasses.replace(result, run_id=run_id, save_problem=problem)
