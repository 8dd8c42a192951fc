"""Session-state keys and accessors shared by the pages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from core.config import load_settings
from core.data.loading import ShopData, with_photos
from core.data.photos import PhotoSet
from core.runs.store import RunStore
from ui import cache, untrusted

SHOP = "data.shop"
SOURCE = "data.source"
EVENTS_FILE = "data.events_file"
PRODUCTS_FILE = "data.products_file"
DATE_ORDER = "data.date_order"
DROP_DUPLICATES = "data.drop_duplicates"
MAPPING_PREFIX = "data.map"
SOURCE_SAMPLE = "Sample shop"
SOURCE_UPLOAD = "Upload files"
SOURCE_KEPT = "Data of the opened run"
SOURCE_DATASET = "Dataset on the server"
DATASET_CHOICE = "data.dataset"
ATTACHED_PHOTOS = "data.attached_photos"  # (the tables' fingerprint, photos added on a page)
PENDING_SOURCE = "data.pending_source"  # the source to show at the page's next drawing
INGESTED_UPLOAD = "data.ingested_upload"  # the upload last made into a dataset (its file id)
# The server dataset behind the current shop: (its fingerprint, its folder, its report's mtime).
DATASET_FOLDER = "data.dataset_folder"
KEPT_DATA = "data.kept"  # fingerprint of data reloaded from the runs folder to open a run

# Session-state prefixes of anything trained on a dataset; cleared when the dataset changes.
IMAGES_PREFIX = "images."
MODEL_PREFIXES = ("purchase.", "recs.", "runs.", IMAGES_PREFIX)


INSIDE_APP = "app.inside"


def run_inside_app() -> None:
    """Run this page through ``app.py``'s navigation.

    A page opened by its own URL on a freshly started server is run by Streamlit's older
    ``pages/`` discovery instead (narrow layout, a sidebar listing the files), until ``app.py``
    has run once. Switching that off and rerunning lets ``app.py`` run, which then picks the
    same page from the URL (query parameters included).
    """
    if getattr(PagesManager, "uses_pages_directory", False) and INSIDE_APP not in st.session_state:
        st.session_state[INSIDE_APP] = True  # once per session: never a rerun loop
        PagesManager.uses_pages_directory = False
        st.rerun()


def open_datasets_source() -> None:
    """Show the datasets on the server at the Data page's next drawing (the source picker is
    drawn already on this one, so its value cannot change now)."""
    st.session_state[PENDING_SOURCE] = SOURCE_DATASET


def mapping_key(table: str, digest: str, field: str) -> str:
    """Widget key of one mapping choice, unique per file so stale choices never carry over."""
    return f"{MAPPING_PREFIX}.{table}.{digest}.{field}"


def shop() -> ShopData:
    """The dataset every page works on: the last one loaded, or the bundled sample shop."""
    current = st.session_state.get(SHOP)
    if current is None:
        current = cache.sample_shop()
        st.session_state[SHOP] = current
    return current


def current_shop() -> ShopData | None:
    """The current dataset, or ``None`` while no page has loaded one (the sample is not loaded
    for asking)."""
    return st.session_state.get(SHOP)


def is_sample(shop: ShopData) -> bool:
    """Whether ``shop`` is the bundled sample shop as loaded with the detected mapping."""
    events, _ = cache.sample_files()
    return shop.events.source_name == events.name and shop.fingerprint == cache.sample_fingerprint()


def dataset_name(shop: ShopData) -> str:
    """What to call a dataset: "Sample shop", or its files' names (untrusted text), said to be
    an opened run's data when it was reloaded from the runs folder."""
    if is_sample(shop):
        return "Sample shop"
    files = " + ".join(
        table.source_name for table in (shop.events, shop.products) if table is not None
    )
    if st.session_state.get(KEPT_DATA) == shop.fingerprint:
        return f"Data of an opened run: {files}"
    return files


def attach_photos(shop: ShopData, photos: PhotoSet) -> bool:
    """Make ``shop`` with ``photos`` the active dataset, and keep the photos with its tables:
    loaded again on the Data page, the same tables come back with them. Returns True when
    trained models had to be cleared."""
    bare = with_photos(shop, None)
    st.session_state[ATTACHED_PHOTOS] = (bare.fingerprint, photos)
    # The Product photos page's own settings and model stay: the tables did not change.
    return set_shop(with_photos(bare, photos), keep=IMAGES_PREFIX)


def set_shop(new: ShopData, *, keep: str | None = None) -> bool:
    """Make ``new`` the active dataset (with the photos attached to its tables, if any);
    returns True when trained models (those of pages other than ``keep``'s key prefix) had to
    be cleared."""
    attached = st.session_state.get(ATTACHED_PHOTOS)
    if new.photos is None and attached is not None and attached[0] == new.fingerprint:
        new = with_photos(new, attached[1])
    old = st.session_state.get(SHOP)
    st.session_state[SHOP] = new
    if old is None or old.fingerprint == new.fingerprint:
        return False
    stale = [
        k
        for k in st.session_state
        if str(k).startswith(MODEL_PREFIXES) and not (keep and str(k).startswith(keep))
    ]
    for key in stale:
        del st.session_state[key]
    return bool(stale)


def set_dataset_folder(shop: ShopData, folder: Path, stamp: float) -> None:
    """Remember that ``shop`` is the server's dataset in ``folder`` (``stamp``: when its report
    was written), so pages can compute over its files."""
    st.session_state[DATASET_FOLDER] = (shop.fingerprint, str(folder), stamp)


def dataset_folder(shop: ShopData) -> tuple[Path, float] | None:
    """The folder (and report time) of the server dataset ``shop`` is, ``None`` for uploads,
    the sample and a run's kept data."""
    found = st.session_state.get(DATASET_FOLDER)
    if found is None or found[0] != shop.fingerprint:
        return None
    return Path(found[1]), float(found[2])


def use_kept_data(kept: ShopData) -> None:
    """Make data reloaded from the runs folder the current dataset (opening a run on it)."""
    set_shop(kept)
    st.session_state[KEPT_DATA] = kept.fingerprint


def kept_data() -> ShopData | None:
    """The current dataset when it was reloaded from the runs folder to open a run."""
    current = st.session_state.get(SHOP)
    if current is not None and st.session_state.get(KEPT_DATA) == current.fingerprint:
        return current
    return None


# --- Home page -------------------------------------------------------------------------------

HOME_SAMPLE = "home.sample"
HOME_UPLOAD = "home.upload"
HOME_RUNS = "home.runs"
HOME_STEP = "home.step"  # + ".<number>": one guided step's box; + ".<number>.go": its button
HOME_STEP_SAMPLE = f"{HOME_STEP}.1.go"
# Guided steps done by looking at a page, set by that page (a session flag each).
HOME_SAW_OVERVIEW = "home.saw_overview"
HOME_SAW_REASONS = "home.saw_reasons"


# --- Purchase prediction page -------------------------------------------------------------

PURCHASE_LAYERS = "purchase.layers"  # the last valid hidden-layer widths (a tuple)
PURCHASE_LAYERS_TEXT = "purchase.layers_text"
PURCHASE_PRESET = "purchase.preset"
PURCHASE_LAYER_PREFIX = "purchase.layer"
PURCHASE_ADD_LAYER = "purchase.add_layer"
PURCHASE_REMOVE_LAYER = "purchase.remove_layer"
PURCHASE_FORM = "purchase.form"
PURCHASE_HORIZON = "purchase.horizon"
PURCHASE_CUTOFF = "purchase.cutoff"
PURCHASE_ACTIVATION = "purchase.activation"
PURCHASE_SOLVER = "purchase.solver"
PURCHASE_ALPHA = "purchase.alpha"
PURCHASE_LEARNING_RATE = "purchase.learning_rate"
PURCHASE_BATCH_SIZE = "purchase.batch_size"
PURCHASE_EPOCHS = "purchase.epochs"
PURCHASE_EARLY_STOPPING = "purchase.early_stopping"
PURCHASE_VALIDATION_FRACTION = "purchase.validation_fraction"
PURCHASE_PATIENCE = "purchase.patience"
PURCHASE_SEED = "purchase.seed"
PURCHASE_MAX_USERS = "purchase.max_users"
PURCHASE_TRAIN = "purchase.train"
PURCHASE_TRAIN_PRESSED = "purchase.train_pressed"  # Train pressed from the command box
PURCHASE_STOP = "purchase.stop"
PURCHASE_METRIC = "purchase.metric"
PURCHASE_USER_SEARCH = "purchase.user_search"
PURCHASE_RESULT = "purchase.result"


@dataclass(frozen=True)
class LayerEditorKeys:
    """Session-state and widget keys of one page's hidden-layer editor."""

    layers: str
    text: str
    preset: str
    layer_prefix: str
    add: str
    remove: str

    def layer(self, position: int) -> str:
        """Widget key of one hidden layer's width (0 = the first hidden layer)."""
        return f"{self.layer_prefix}.{position}"


PURCHASE_LAYER_EDITOR = LayerEditorKeys(
    PURCHASE_LAYERS,
    PURCHASE_LAYERS_TEXT,
    PURCHASE_PRESET,
    PURCHASE_LAYER_PREFIX,
    PURCHASE_ADD_LAYER,
    PURCHASE_REMOVE_LAYER,
)


def layer_key(position: int) -> str:
    """Widget key of one of the purchase page's hidden-layer widths."""
    return PURCHASE_LAYER_EDITOR.layer(position)


# --- runs ------------------------------------------------------------------------------------

RUN_QUERY = "run"  # the URL's query parameter naming the open run
RUNS_NOTICE = "runs.notice"  # a one-line message to show once on the next page drawn


def run_store() -> RunStore:
    """The runs folder (``SHOPLENS_RUNS_DIR``, else ``runs/``)."""
    return RunStore(load_settings().runs_dir)


def show_saved_run(run_id: str | None, problem: str | None) -> None:
    """Name a training's saved run in the URL, so a refresh or a shared link reopens it; or
    warn (with the reason) that it could not be saved and is kept in this session only."""
    if run_id is not None:
        st.query_params[RUN_QUERY] = run_id
        return
    st.warning(
        "The model could not be saved as a run and is kept in this session only: "
        f"{untrusted.error_text(str(problem))}"
    )
    if RUN_QUERY in st.query_params:  # the URL must not reopen an older run over this one
        del st.query_params[RUN_QUERY]


# --- Shop overview page --------------------------------------------------------------------

OVERVIEW_WINDOW = "overview.window"
OVERVIEW_FREQ = "overview.freq"
OVERVIEW_SPLIT = "overview.split"
OVERVIEW_MEASURE = "overview.measure"
OVERVIEW_RETENTION = "overview.retention"
OVERVIEW_SHOW_USERS = "overview.show_users"
OVERVIEW_CLEAR = "overview.clear"
OVERVIEW_CLEAR_SEGMENTS = "overview.clear_segments"
OVERVIEW_CATEGORY_CHART = "overview.chart.categories"
OVERVIEW_SEGMENT_CHART = "overview.chart.segments"
# Dataset-dependent parts, named through overview_key so they never carry over to other data.
OVERVIEW_DATES = "dates"
OVERVIEW_CATEGORIES = "categories"
OVERVIEW_BRANDS = "brands"
OVERVIEW_EVENT_TYPES = "event_types"
OVERVIEW_SEGMENTS = "segments"  # RFM segments clicked on the segment chart


def overview_key(fingerprint: str, name: str) -> str:
    """Key of an Overview filter or selection on the dataset with this fingerprint."""
    return f"overview.{fingerprint}.{name}"


# --- Recommendations page ------------------------------------------------------------------

RECS_LAYERS = "recs.layers"  # the last valid hidden-layer widths of the ranker (a tuple)
RECS_LAYERS_TEXT = "recs.layers_text"
RECS_PRESET = "recs.preset"
RECS_LAYER_PREFIX = "recs.layer"  # + ".<position>": one hidden layer's width
RECS_ADD_LAYER = "recs.add_layer"
RECS_REMOVE_LAYER = "recs.remove_layer"
RECS_LAYER_EDITOR = LayerEditorKeys(
    RECS_LAYERS,
    RECS_LAYERS_TEXT,
    RECS_PRESET,
    RECS_LAYER_PREFIX,
    RECS_ADD_LAYER,
    RECS_REMOVE_LAYER,
)
RECS_FORM = "recs.form"
RECS_MODE = "recs.mode"
RECS_K = "recs.k"
RECS_HORIZON = "recs.horizon"
RECS_CUTOFF = "recs.cutoff"
RECS_EPOCHS = "recs.epochs"
RECS_EARLY_STOPPING = "recs.early_stopping"
RECS_LEARNING_RATE = "recs.learning_rate"
RECS_ALPHA = "recs.alpha"
RECS_SEED = "recs.seed"
RECS_CANDIDATES = "recs.candidates"
RECS_NEGATIVES = "recs.negatives"
RECS_WINDOWS = "recs.windows"
RECS_MAX_ITEMS = "recs.max_items"
RECS_BUY_AGAIN = "recs.buy_again"
RECS_CATALOGUE_ONLY = "recs.catalogue_only"
RECS_TRAIN = "recs.train"
RECS_TRAIN_PRESSED = "recs.train_pressed"  # Train pressed from the command box
RECS_STOP = "recs.stop"
RECS_RESULT = "recs.result"  # the fitted Recommender and its evaluation (ui.recommendations)
RECS_ACCURACY = "recs.accuracy"
RECS_USER_SOURCE = "recs.user_source"
RECS_USER_PICK = "recs.user_pick"
RECS_USER_SEARCH = "recs.user_search"
RECS_BUYER = "recs.buyer"
RECS_WHATIF_ITEMS = "recs.whatif_items"
RECS_WHATIF_CATEGORY = "recs.whatif_category"
RECS_EXPORT = "recs.export"


# --- Product photos page -------------------------------------------------------------------

IMAGES_SOURCE = "images.source"
IMAGES_ZIP = "images.zip"
IMAGES_FOLDER = "images.folder"
IMAGES_LIST = "images.list"
IMAGES_LABEL = "images.label"
IMAGES_LAYER_EDITOR = LayerEditorKeys(
    "images.layers",
    "images.layers_text",
    "images.preset",
    "images.layer",
    "images.add_layer",
    "images.remove_layer",
)
IMAGES_FORM = "images.form"
IMAGES_EPOCHS = "images.epochs"
IMAGES_TEST_SHARE = "images.test_share"
IMAGES_SEED = "images.seed"
IMAGES_MIRRORED = "images.mirrored"
IMAGES_TRAIN = "images.train"
IMAGES_STOP = "images.stop"
IMAGES_RESULT = "images.result"
IMAGES_METRIC = "images.metric"
IMAGES_QUERY_SOURCE = "images.query_source"
IMAGES_QUERY_ITEM = "images.query_item"
IMAGES_QUERY_PHOTO = "images.query_photo"
