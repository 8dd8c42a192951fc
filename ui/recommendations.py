"""Widgets of the Recommendations page: the ranker's settings, training in the background
trainer, the scoreboard and charts, the per-user browser, the what-if panel and the export."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import plotting, purchase, recommend, schema, services
from core.data.exports import to_safe_csv
from core.data.loading import ShopData
from core.errors import CutoffError
from core.ml import charts as ml_charts
from core.ml import metrics as m
from core.ml.layers import format_hidden_layers
from core.ml.network import NetworkConfig, TrainingProgress
from core.ml.timesplit import check_cutoff, data_end_of
from core.recommend import RecommendationEvaluation, Recommender, RecommenderConfig
from core.recommend import charts as rc
from core.services import RecommendResult, RecommendSettings
from ui import cache, state, trainer, untrusted, widgets
from ui import purchase as purchase_page

PAGE = "recs"
DEFAULT = RecommendSettings()
LIMITS = {
    **NetworkConfig.CONSTRAINTS,
    **RecommenderConfig.CONSTRAINTS,
    **RecommendSettings.CONSTRAINTS,
}
K_CHOICES = (5, 10, 20)
EVALUATE = "Evaluate: hold out the H days after a cutoff and score every model"
DEPLOY = "Recommend now: learn from all the data (no scores)"


def hidden_layer_editor() -> tuple[int, ...] | None:
    """The ranker's hidden layers, in the same editor as the Purchase prediction page."""
    return widgets.hidden_layer_editor(
        state.RECS_LAYER_EDITOR,
        default=DEFAULT.config.network.hidden_layers,
        inputs="Features of a (user, product) pair",
        outputs="chance the user buys it. Candidates come from item-to-item neighbours, the "
        "user's categories and overall popularity; the network ranks them.",
    )


# --- settings form ------------------------------------------------------------------------


Request = widgets.TrainingRequest[RecommendSettings]


# The settings of the form and their widgets' keys: the form is filled from settings and read
# back into settings through these maps.
NETWORK_KEYS = {
    "learning_rate": state.RECS_LEARNING_RATE,
    "alpha": state.RECS_ALPHA,
    "epochs": state.RECS_EPOCHS,
    "early_stopping": state.RECS_EARLY_STOPPING,
    "random_state": state.RECS_SEED,
}
RECOMMENDER_KEYS = {
    "candidates": state.RECS_CANDIDATES,
    "negatives": state.RECS_NEGATIVES,
    "train_windows": state.RECS_WINDOWS,
    "max_items": state.RECS_MAX_ITEMS,
    "buy_again": state.RECS_BUY_AGAIN,
    "catalogue_only": state.RECS_CATALOGUE_ONLY,
}

# The candidate settings under "More settings": label and tooltip.
CANDIDATE_SETTINGS = {
    "candidates": (
        "Candidates per generator",
        "Products each candidate generator proposes per user before ranking.",
    ),
    "negatives": (
        "Negatives per user",
        "Candidates the user did not buy, kept per user to train the ranker.",
    ),
    "train_windows": (
        "Training windows",
        "Consecutive H-day windows before the cutoff the ranker learns from.",
    ),
    "max_items": (
        "Item vocabulary",
        "Only this many of the most active products may be recommended and get neighbours; "
        "the others still count in users' histories. Lower it to train faster on a catalogue "
        "of millions of products.",
    ),
}


def form_values(settings: RecommendSettings) -> dict[str, object]:
    """The form's widget values for these settings (keys of ``ui.state``)."""
    config = settings.config
    values: dict[str, object] = {
        **{key: getattr(config.network, name) for name, key in NETWORK_KEYS.items()},
        **{key: getattr(config, name) for name, key in RECOMMENDER_KEYS.items()},
    }
    values[state.RECS_MODE] = EVALUATE if settings.evaluate else DEPLOY
    values[state.RECS_K] = settings.k if settings.k in K_CHOICES else DEFAULT.k
    values[state.RECS_HORIZON] = settings.horizon_days
    cutoff = settings.cutoff if settings.evaluate else None
    values[state.RECS_CUTOFF] = None if cutoff is None else cutoff.date()
    return values


def settings_form(shop: ShopData) -> tuple[trainer.TrainingJob | None, Request]:
    """The hidden layers, what to train and the training form, and the training this session
    follows on the page (one re-attached after a refresh first shows its settings in the form)."""
    job = trainer.current(PAGE, on_reattach=show_settings)
    st.subheader("Ranker")
    with st.container(border=True):
        layers = hidden_layer_editor()
    widgets.seed_widgets(form_values(DEFAULT))
    problem = split_form(shop)
    return job, training_form(layers, shop, problem, running=job is not None and job.running)


def split_form(shop: ShopData) -> str | None:
    """Mode, horizon and cutoff, checked as they change; returns why Train cannot run with
    them (the one-line reason, also shown under them), or None."""
    session = st.session_state
    with st.container(border=True):
        st.markdown("**What to train**")
        st.radio("Mode", [EVALUATE, DEPLOY], key=state.RECS_MODE, label_visibility="collapsed")
        evaluate = session[state.RECS_MODE] == EVALUATE
        widgets.time_split(
            shop,
            keys=(state.RECS_HORIZON, state.RECS_CUTOFF),
            horizon_help="Length of the test window after the cutoff, and of each training window.",
            cutoff_help="Evaluate mode: the recommender learns only from events before this "
            "date and is scored on what users bought in the H days from it. Not used when "
            "recommending now.",
            cutoff_used=evaluate,
        )
        if not evaluate:
            return None
        events = shop.events.frame
        try:
            check_cutoff(events, _cutoff(), session[state.RECS_HORIZON])
        except CutoffError as err:
            st.error(untrusted.error_text(err))
            return untrusted.error_text(err)  # the tooltip of Train is Markdown too
    return None


def _cutoff() -> pd.Timestamp:
    """The cutoff on screen (the widget always holds a date once drawn)."""
    return pd.Timestamp(st.session_state[state.RECS_CUTOFF])


def training_form(
    layers: tuple[int, ...] | None, shop: ShopData, problem: str | None, *, running: bool
) -> Request:
    """k, options and the ranker's training settings in one form; defaults are the settings'
    own.

    Args:
        layers: the hidden layers (None while the typed widths are not valid).
        shop: the data (the catalogue option needs a product table).
        problem: why the mode and time split on screen cannot be trained (Train is disabled).
        running: a training is under way, so Train is disabled until it ends or is stopped.
    """
    has_products = shop.products is not None
    session = st.session_state
    with st.form(state.RECS_FORM):
        st.markdown("**Training**")
        cols = st.columns([2, 1, 1])
        cols[0].radio(
            "Products per list (k)",
            K_CHOICES,
            horizontal=True,
            key=state.RECS_K,
            help="How many products each user is shown; every score is measured at this k.",
        )
        widgets.whole_input(cols[1], "Epochs (at most)", LIMITS["epochs"], key=state.RECS_EPOCHS)
        widgets.whole_input(cols[2], "Random seed", LIMITS["random_state"], key=state.RECS_SEED)
        row = st.columns(3)
        row[0].checkbox(
            "Buy again",
            key=state.RECS_BUY_AGAIN,
            help="Also recommend products the user already bought (they then count as hits too). "
            "Useful for groceries and consumables.",
        )
        row[1].checkbox(
            "Catalogue only",
            key=state.RECS_CATALOGUE_ONLY,
            disabled=not has_products,
            help="Only recommend products listed in the product table (and in stock where it "
            "has an in_stock column)."
            + ("" if has_products else " Load a product table on the Data page to use it."),
        )
        row[2].checkbox(
            "Early stopping",
            key=state.RECS_EARLY_STOPPING,
            help="Stop when the validation log-loss has not improved for "
            f"{DEFAULT.config.network.patience} epochs. The best epoch is kept either way.",
        )
        with st.expander("More settings"):
            more = st.columns(3) + st.columns(3)
            widgets.learning_rate_slider(more[0], key=state.RECS_LEARNING_RATE)
            widgets.alpha_slider(more[1], key=state.RECS_ALPHA)
            for column, (setting, (label, help_text)) in zip(
                more[2:], CANDIDATE_SETTINGS.items(), strict=True
            ):
                widgets.whole_input(
                    column, label, LIMITS[setting], key=RECOMMENDER_KEYS[setting], help=help_text
                )
        disabled = layers is None or running or problem is not None
        why = widgets.train_help(running=running, problem=problem)
        submitted = st.form_submit_button(
            "Train",
            type="primary",
            disabled=disabled,
            key=state.RECS_TRAIN,
            help=why,
        )
    submitted = widgets.pressed_elsewhere(
        state.RECS_TRAIN_PRESSED, submitted, disabled=disabled, why=why
    )
    if layers is None or problem is not None:
        return Request(submitted, None, running)
    network = NetworkConfig(layers, **{name: session[key] for name, key in NETWORK_KEYS.items()})
    chosen = {name: session[key] for name, key in RECOMMENDER_KEYS.items()}
    chosen["catalogue_only"] = chosen["catalogue_only"] and has_products
    evaluate = session[state.RECS_MODE] == EVALUATE
    at = _cutoff() if evaluate else None
    settings = RecommendSettings(
        RecommenderConfig(network, **chosen),
        evaluate,
        at,
        session[state.RECS_HORIZON],
        int(session[state.RECS_K]),
    )
    return Request(submitted, settings, running)


def press_train() -> None:
    """Press Train from elsewhere (the command box, after its confirmation): the form trains
    on its next draw with the settings it shows, or says why Train is disabled."""
    st.session_state[state.RECS_TRAIN_PRESSED] = True


def show_settings(settings: RecommendSettings) -> None:
    """Show these settings in the form and the layer editor (an opened run's, or those of a
    training re-attached after a refresh), ready to tune from there."""
    widgets.show_in_form(
        form_values(settings), state.RECS_LAYER_EDITOR, settings.config.network.hidden_layers
    )


def time_split(settings: RecommendSettings, shop: ShopData) -> None:
    """The timeline of the chosen split with a how-to-read caption."""
    events = shop.events.frame
    widgets.chart(
        rc.recommender_timeline(
            data_start=events[schema.TIMESTAMP].min(),
            data_end=data_end_of(events),
            cutoff=settings.cutoff_for(events),
            horizon_days=settings.horizon_days,
            windows=settings.config.train_windows,
            evaluate=settings.evaluate,
        ),
        "Each training window teaches the ranker: candidates come from the events before the "
        "window, and the products bought in it are the right answers. Nothing after the cutoff "
        "is used for training, so the test window stays unseen until it is scored.",
        key="recs.chart.timeline",
    )
    note = _dataset_tables(shop, settings).note
    if note:
        st.caption(untrusted.plain_md(note))


def _dataset_tables(shop: ShopData, settings: RecommendSettings) -> services.DatasetFeatures:
    """The feature tables the server dataset on screen keeps for these settings, if any."""
    on_disk = state.dataset_folder(shop)
    return cache.dataset_interactions(shop, settings, None if on_disk is None else on_disk[0])


# --- training in the background ---------------------------------------------------------


def result() -> RecommendResult | None:
    """The last finished (or reopened) training on the current dataset."""
    return st.session_state.get(state.RECS_RESULT)


def set_result(result: RecommendResult) -> None:
    """Make ``result`` (e.g. a reopened run) the page's current result."""
    st.session_state[state.RECS_RESULT] = result


def train(shop: ShopData, request: Request, job: trainer.TrainingJob | None) -> None:
    """Start a training when Train was pressed, follow the one under way (progress, the
    ranker's live curves, Stop), and keep its result once it has ended."""
    settings, start = request.settings, None
    if request.submitted and settings is not None:
        store = state.run_store()
        tables = _dataset_tables(shop, settings).tables
        pairs_at = None if tables is None else tables.interactions_at
        start = (
            settings.config.network,
            settings,
            lambda job: services.train_recommender(
                shop, settings, store, on_progress=job.report, pairs_at=pairs_at
            ),
        )
    finished = trainer.train_on_page(
        PAGE,
        train=start,
        job=job,
        drawn_running=request.running,
        stop_key=state.RECS_STOP,
        epoch_text=_epoch_text,
        curves=lambda report: _curves(report.curves, report.best_epoch),
        stop_help="End the ranker's training now and keep its best epoch so far.",
    )
    if finished is not None:
        set_result(finished)
        state.show_saved_run(finished.run_id, finished.save_problem)


def _epoch_text(progress: TrainingProgress) -> str:
    best = progress.networks[-1].best_epoch if progress.networks else 0
    return f"Ranker epoch {progress.epoch} of at most {progress.epochs} · best so far: epoch {best}"


def _curves(curves: pd.DataFrame, best_epoch: int) -> go.Figure:
    return ml_charts.training_curves_line(
        curves,
        task="classification",
        best_epoch=best_epoch,
        title=f"Ranker: training curves (best epoch {best_epoch})",
    )


# --- results ------------------------------------------------------------------------------

MODEL_COLUMN = "model"


def _label(metric: str, k: int) -> str:
    return m.METRICS[metric].header(k)


def summary(result: RecommendResult) -> None:
    """What was trained on which split, a Stop notice and the headline scores."""
    s, fitted, evaluation = result.settings, result.recommender, result.evaluation
    layers = format_hidden_layers(s.config.network.hidden_layers)
    ranker = (
        f"ranker {layers} trained on {fitted.train_pairs:,} (user, product) pairs, best epoch "
        f"{result.best_epoch} of {result.epochs}"
        if fitted.ranker is not None
        else "no ranker (too little history before the cutoff: candidates keep their "
        "generator scores)"
    )
    if evaluation is not None:
        end = result.cutoff + pd.Timedelta(days=s.horizon_days - 1)
        where = (
            f"scored on {evaluation.users:,} users who bought in the {s.horizon_days} days from "
            f"{result.cutoff:%Y-%m-%d} to {end:%Y-%m-%d}"
        )
        timing = f"fit {evaluation.fit_seconds:.1f} s, scoring {evaluation.score_seconds:.1f} s"
    else:
        where = f"learned from all the data up to {result.cutoff - pd.Timedelta(days=1):%Y-%m-%d}"
        timing = f"fit {fitted.fit_seconds:.1f} s"
    st.caption(f"k = {s.k} · {where} · {ranker} · {timing} ({result.seconds:.0f} s in all).")
    for note in fitted.notes:
        st.caption(untrusted.plain_md(note))
    if result.stopped:
        st.info(
            f"Training was stopped at epoch {result.epochs}; the ranker keeps its best epoch so "
            f"far (epoch {result.best_epoch})."
        )
    if evaluation is None:
        return
    scores = evaluation.scores
    mlp, baselines = scores.loc[m.MLP], scores.drop(index=m.MLP)
    best = baselines[m.NDCG].idxmax()
    tiles = widgets.row()
    tiles.metric(
        f"NDCG@{s.k} · MLP ranker",
        f"{mlp[m.NDCG]:.3f}",
        delta=f"{mlp[m.NDCG] - baselines[m.NDCG].max():+.3f}",
        delta_description=f"vs {recommend.MODEL_LABELS[best]}",
        help=m.METRICS[m.NDCG].help + " The delta compares with the best baseline.",
        width=widgets.TILE_WIDTH,
    )
    tiles.metric(
        f"Hit rate@{s.k} · MLP ranker",
        f"{mlp[m.HIT_RATE]:.1%}",
        help=m.METRICS[m.HIT_RATE].help,
        width=widgets.TILE_WIDTH,
    )
    tiles.metric(
        f"Coverage@{s.k} · MLP ranker",
        f"{mlp[m.COVERAGE]:.1%}",
        help=m.METRICS[m.COVERAGE].help,
        width=widgets.TILE_WIDTH,
    )
    tiles.metric("Users evaluated", f"{evaluation.users:,}", width=widgets.TILE_WIDTH)
    if evaluation.photos is not None:
        photo_comparison(evaluation.photos, k=s.k)


PHOTO_MODELS = {
    recommend.WITH_PHOTOS: "MLP ranker with photo features",
    recommend.WITHOUT_PHOTOS: "Same ranker without photo features",
}


def photo_comparison(comparison: recommend.PhotoComparison, *, k: int) -> None:
    """NDCG@k with and without photo features, on the products first sold in the test window
    and over every evaluated user, with one plain sentence on what the photos add."""
    st.markdown("**What the product photos add**")
    scores = comparison.scores
    new_items = f"NDCG@{k} · products first sold in the test window"
    table = pd.DataFrame(
        {
            MODEL_COLUMN: [PHOTO_MODELS[name] for name in scores.index],
            new_items: scores[recommend.NEW_ITEM_NDCG].to_numpy(),
            f"NDCG@{k} · every user": scores[m.NDCG].to_numpy(),
            "training (s)": scores["fit_seconds"].to_numpy(),
        }
    )
    widgets.table(
        table,
        hide_index=True,
        column_config={
            new_items: st.column_config.NumberColumn(format="%.3f"),
            f"NDCG@{k} · every user": st.column_config.NumberColumn(format="%.3f"),
            "training (s)": st.column_config.NumberColumn(
                format="%.1f",
                help="Seconds to fit each recommender. The one without photo features reuses "
                "the next-category model of the first, so its time leaves that model out.",
            ),
        },
        key="recs.photo_table",
    )
    st.caption(_photo_verdict(comparison, k=k))


def _photo_verdict(comparison: recommend.PhotoComparison, *, k: int) -> str:
    """What the photos did to NDCG@k on the new products, said plainly, gain or not."""
    if not comparison.new_item_users:
        return (
            "No product was first sold in the test window, so what photos do for new products "
            "cannot be measured on this split."
        )
    gain = comparison.gain
    verdict = (
        f"the photo features raise it by {gain:.3f}"
        if gain > 0
        else f"the photo features lower it by {-gain:.3f}"
        if gain < 0
        else "the photo features change nothing"
    )
    return (
        f"{comparison.new_items:,} products were first sold in the test window "
        f"({comparison.new_items_with_photo:,} of them with a photo), bought by "
        f"{comparison.new_item_users:,} users. On those purchases, {verdict} "
        f"(NDCG@{k}). Both rankers are trained on the same split with the same settings; "
        "the one with photo features is the one used here."
    )


def evaluation_tabs(result: RecommendResult, evaluation: RecommendationEvaluation) -> None:
    """The scores of an evaluated training, one view per tab."""
    views: dict[str, Callable[[], None]] = {
        "Scoreboard": partial(scoreboard, evaluation),
        "Metric vs k": partial(metric_curves, evaluation),
        "Accuracy vs coverage": partial(accuracy_coverage, evaluation),
        "Long tail": partial(long_tail, result),
        "Next category": partial(next_category, evaluation),
        "Training curves": partial(training_curves, result),
    }
    for tab, draw in zip(st.tabs(list(views)), views.values(), strict=True):
        with tab:
            draw()


def scoreboard(evaluation: RecommendationEvaluation) -> None:
    """Every model's scores at k, each column's definition in its header tooltip."""
    k = evaluation.k
    columns = [c for c in m.RANKING_SCORES if c in evaluation.scores.columns]
    table = evaluation.scores[columns].rename(
        index=recommend.MODEL_LABELS, columns={c: _label(c, k) for c in columns}
    )
    widgets.table(
        table.rename_axis(MODEL_COLUMN).reset_index(),
        hide_index=True,
        column_config={
            _label(c, k): st.column_config.NumberColumn(
                help=m.METRICS[c].help, format=f"%.{m.METRICS[c].decimals}f"
            )
            for c in columns
        },
        key="recs.scoreboard",
    )
    st.caption(
        f"Every model recommends {k} products to each user who bought something in the test "
        "window, using only events before the cutoff and only products that existed then "
        "(with an event before it); a hit is a recommended product the user then bought, and "
        "products that first appeared later count nowhere. Hover a column header for its "
        "definition. From precision to hit rate, "
        "higher is better; coverage, novelty and diversity describe the lists (random tops "
        "them). A ranker that does not beat the baselines is not worth deploying."
    )


def metric_curves(evaluation: RecommendationEvaluation) -> None:
    """Precision, recall, NDCG and hit rate against k."""
    widgets.chart(
        rc.metric_by_k_line(evaluation.by_k, k=evaluation.k),
        "Each line is a model, measured with lists of 1, 5, 10 and 20 products. Longer lists "
        "find more of what users buy (recall, hit rate rise) but each slot is less likely to "
        "be right (precision falls); the ranker's line should stay above the others.",
        key="recs.chart.by_k",
    )


def accuracy_coverage(evaluation: RecommendationEvaluation) -> None:
    """Accuracy against catalogue coverage, one point per model."""
    accuracy = st.selectbox(
        "Accuracy measure",
        list(m.RANKING_METRICS),
        index=list(m.RANKING_METRICS).index(m.NDCG),
        format_func=lambda c: m.METRICS[c].label,
        key=state.RECS_ACCURACY,
    )
    widgets.chart(
        rc.accuracy_coverage_scatter(evaluation.scores, k=evaluation.k, accuracy=accuracy),
        "Up is more accurate; right means more of the catalogue gets recommended to someone. "
        "“Most popular” sits top-left (safe, same list for all), “random” bottom-right; a good "
        "recommender is high without collapsing to the left.",
        key="recs.chart.coverage",
    )


def long_tail(result: RecommendResult) -> None:
    """How each model's recommendations spread over popular and niche products."""
    evaluation = result.evaluation
    assert evaluation is not None
    shares = rc.long_tail_shares(
        evaluation.recommendations, rc.item_user_counts(result.recommender), k=evaluation.k
    )
    widgets.chart(
        rc.long_tail_line(shares, k=evaluation.k),
        "Products are sorted by how many users touched them before the cutoff and cut into ten "
        "equal groups, most popular first. Each line shows where a model's recommendation slots "
        "land; the dashed line is where past activity was. Lines hugging the left only push "
        "bestsellers; a flat line (random) ignores popularity altogether.",
        key="recs.chart.long_tail",
    )


def next_category(evaluation: RecommendationEvaluation) -> None:
    """The next-category model's accuracy, top-3 accuracy and confusion matrix."""
    report = evaluation.category_report
    if report is None:
        st.write(
            "No next-category model: it needs at least two categories and enough buyers in the "
            "window before the cutoff."
        )
        return
    tiles = widgets.row()
    tiles.metric(
        "Accuracy",
        f"{report.accuracy:.1%}",
        help="Share of users whose most-bought category in the test window was the model's "
        "first guess.",
        width=widgets.TILE_WIDTH,
    )
    tiles.metric(
        "Top-3 accuracy",
        f"{report.top3_accuracy:.1%}",
        help="Share of users whose most-bought category was among the model's three guesses.",
        width=widgets.TILE_WIDTH,
    )
    tiles.metric("Users scored", f"{report.users:,}", width=widgets.TILE_WIDTH)
    widgets.chart(
        rc.category_confusion_heatmap(report.confusion),
        "Rows: the category each user bought most in the test window; columns: the model's "
        "first guess. Numbers are users; colour is the share of the row, so a dark diagonal "
        "means the guesses were right. The ranker uses these guesses as one of its inputs.",
        key="recs.chart.category",
    )


def training_curves(result: RecommendResult) -> None:
    """The ranker's per-epoch curves with the kept epoch marked."""
    curves = result.recommender.curves
    if curves.empty:
        st.write("The ranker was not trained, so there are no curves.")
        return
    widgets.chart(
        _curves(curves, result.best_epoch),
        "Log-loss punishes confident wrong guesses of “will buy this product”; accuracy counts "
        "right yes/no calls at 0.5 on (user, candidate) pairs, most of which are not bought. "
        "Validation pairs belong to users held out of training; the dashed line is the kept "
        "epoch.",
        key="recs.chart.curves",
    )


# --- per-user browser ---------------------------------------------------------------------

PICK = "Pick from a list"
TYPE = "Type a user id"
BUYERS = "Top predicted buyers"
PICK_LIMIT = 2000
HIT = "hit"
PHOTO = "photo"
PHOTO_COLUMN = st.column_config.ImageColumn(
    "photo", width=56, help="The product's photo (blank: no photo of this product)."
)
PHOTO_ROW_HEIGHT = 56  # px: rows tall enough to make a thumbnail out
HIT_MARK = "✔ bought"  # a text symbol, shown even where no emoji font is installed
# The reason comes right after the product and gets the most room: it is what users read.
SHOWN_COLUMNS = (m.RANK, schema.NAME, recommend.REASON, schema.CATEGORY, schema.PRICE, m.SCORE)
RECOMMENDATION_COLUMNS = {
    m.RANK: st.column_config.NumberColumn("#", width=40),
    schema.NAME: st.column_config.TextColumn("product", width=210),
    recommend.REASON: st.column_config.TextColumn("why", width=350),
    schema.CATEGORY: st.column_config.TextColumn("category", width=100),
    schema.PRICE: st.column_config.NumberColumn("price", format="%.2f", width=70),
    m.SCORE: st.column_config.NumberColumn(
        "chance of buying (0–1)",
        format="%.3f",
        width=80,
        help="The ranker's probability (0–1) that the user buys this product in the H days; "
        "higher = more likely.",
    ),
    schema.ITEM_ID: st.column_config.TextColumn("item id", width=80),
}
# Without a ranker (too little history before the cutoff) lists keep the generators' score.
GENERATOR_SCORE = st.column_config.NumberColumn(
    "generator score (0 or more)",
    format="%.3f",
    width=80,
    help="Not a probability: item-to-item closeness plus popularity in the user's categories "
    "(0 or more); higher = ranked first.",
)
# Cold start ranks by closeness to the clicks, or by popularity.
WHATIF_SCORE = st.column_config.NumberColumn(
    "match (0 or more)",
    format="%.3f",
    width=80,
    help="Not a probability: summed closeness to the clicked products, or the product's "
    "popularity (log of its sales) with no clicks; higher = ranked first.",
)


def _shown(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as a table shows it: a column the data never fills (categories of data that
    has none) left out, and missing text (a product without category, an event without name)
    shown as a dash rather than "None"."""
    frame = plotting.filled_columns(frame)
    text = frame.select_dtypes(include=["object", "string", "category"]).columns
    return frame.assign(
        **{c: frame[c].astype("object").where(frame[c].notna(), widgets.MISSING) for c in text}
    )


@dataclass(frozen=True)
class PredictedBuyers:
    """The Purchase prediction page's most likely buyers and the days they are predicted for."""

    table: pd.DataFrame
    horizon_days: int


def predicted_buyers(top: int = 25) -> PredictedBuyers | None:
    """The Purchase prediction page's most likely buyers, if it has results on this dataset."""
    result = purchase_page.result()
    if result is None:
        return None
    table = result.next_orders.sort_values(purchase.PROBABILITY, ascending=False).head(top)
    return PredictedBuyers(table, result.data.horizon_days)


def _pick_list(result: RecommendResult) -> pd.Series:
    """Users to pick from, with a short label each."""
    evaluation = result.evaluation
    if evaluation is not None:
        counts = evaluation.relevant[schema.USER_ID].value_counts(sort=False)
        counts = counts.sort_index().sort_values(ascending=False, kind="stable").head(PICK_LIMIT)
        return pd.Series(
            [
                f"{u} · bought {n} product{'s' * (n != 1)} in the test window"
                for u, n in counts.items()
            ],
            index=counts.index.astype("str"),
        )
    inter = result.recommender.interactions
    active = pd.Series(inter.user_events, index=inter.user_ids)
    active = active[active > 0].sort_index().sort_values(ascending=False, kind="stable")
    active = active.head(PICK_LIMIT)
    return pd.Series(
        [f"{u} · {int(n):,} events" for u, n in active.items()], index=active.index.astype("str")
    )


def select_user(user_id: str) -> None:
    """Show ``user_id`` in the user browser (typed as its id), e.g. for the command box."""
    st.session_state[state.RECS_USER_SOURCE] = TYPE
    st.session_state[state.RECS_USER_SEARCH] = user_id


def _choose_user(result: RecommendResult, buyers: PredictedBuyers | None) -> str | None:
    sources = [PICK, TYPE, *([BUYERS] if buyers is not None else [])]
    source = st.radio("Find a user", sources, horizontal=True, key=state.RECS_USER_SOURCE)
    if buyers is None:
        st.caption(
            "Tip: train on the Purchase prediction page to pick from its top predicted buyers."
        )
    if source == TYPE:
        typed = st.text_input(
            "User id", key=state.RECS_USER_SEARCH, placeholder="e.g. the id from your CRM"
        )
        return typed.strip() or None
    if source == BUYERS and buyers is not None:
        labels = {
            str(u): f"{u} · {p:.0%} likely to buy in the next {buyers.horizon_days} days"
            for u, p in buyers.table[purchase.PROBABILITY].items()
        }
        return st.selectbox(
            f"Top {len(labels)} predicted buyers (Purchase prediction)",
            list(labels),
            format_func=labels.__getitem__,
            key=state.RECS_BUYER,
        )
    options = _pick_list(result)
    if options.empty:
        st.write("No users to pick from; type a user id instead.")
        return None
    more = f"the {PICK_LIMIT:,} with the most purchases of " if len(options) >= PICK_LIMIT else ""
    return st.selectbox(
        "User",
        list(options.index),
        format_func=options.get,
        key=state.RECS_USER_PICK,
        help=f"Type in the box to search. Lists {more}the users who bought in the test window"
        if result.evaluation is not None
        else "Type in the box to search; most active users first.",
    )


@st.fragment
def user_browser(result: RecommendResult, shop: ShopData, buyers: PredictedBuyers | None) -> None:
    """One user's history, top-k with reasons, and (evaluate mode) the hits; reruns only this
    part on every pick and never retrains."""
    user = _choose_user(result, buyers)
    if user is None:
        return
    s, evaluation = result.settings, result.evaluation
    events = shop.events.frame
    products = shop.product_frame
    try:
        recs = recommend.recommend_for_user(result.recommender, user, k=s.k)
        known = recommend.user_history(events, products, user, before=result.cutoff, limit=200)
    except recommend.UnknownUserError as err:
        st.error(untrusted.error_text(err))  # the message quotes the typed id
        return
    bought_after = set()
    if evaluation is not None:
        relevant = evaluation.relevant
        bought_after = set(relevant.loc[relevant[schema.USER_ID] == user, schema.ITEM_ID])
    hits = recs[schema.ITEM_ID].isin(bought_after)
    done = recommend.user_activity(events, user, before=result.cutoff)
    tiles = {
        "Events before the cutoff" if evaluation else "Events": f"{done.events:,}",
        "Purchase lines": f"{done.purchase_lines:,}",
        "Orders": f"{done.orders:,}",
    }
    if evaluation is not None:
        tiles["Bought in the test window"] = f"{len(bought_after):,}"
        tiles[f"Hits in the top {s.k}"] = f"{int(hits.sum())} of {len(recs)}"
    widgets.tiles(tiles)
    _recommendation_table(
        recs,
        hits if evaluation is not None else None,
        k=s.k,
        ranked=result.recommender.ranker is not None,
        photos=cache.thumbnails(shop, recs[schema.ITEM_ID]),
    )
    missed = sorted(bought_after - set(recs[schema.ITEM_ID]))
    if missed:
        st.markdown(f"**Bought in the test window but not in the top {s.k}**")
        table = _shown(_products(result.recommender, missed))
        _photo_table(
            table,
            cache.thumbnails(shop, missed),
            RECOMMENDATION_COLUMNS,
            key="recs.missed_table",
            at=0,
        )
    _history(result, shop, user, known)


def _photo_table(
    table: pd.DataFrame,
    photos: list[str | None] | None,
    config: dict[str, Any],
    *,
    key: str,
    at: int = 1,
) -> None:
    """A table with each product's thumbnail in column ``at`` when the shop has photos."""
    if photos is None:
        widgets.table(table, hide_index=True, column_config=config, key=key)
        return
    table.insert(at, PHOTO, photos)
    widgets.table(
        table,
        hide_index=True,
        column_config={**config, PHOTO: PHOTO_COLUMN},
        row_height=PHOTO_ROW_HEIGHT,
        key=key,
    )


def _products(fitted: Recommender, item_ids: list[str]) -> pd.DataFrame:
    """Name, category and price of some items, as the recommender knows them."""
    inter = fitted.interactions
    positions = inter.item_ids.get_indexer(item_ids)
    return pd.DataFrame(
        {
            schema.NAME: inter.item_names[positions],
            schema.CATEGORY: [_category(inter, int(p)) for p in positions],
            schema.PRICE: inter.item_price[positions],
            schema.ITEM_ID: item_ids,
        }
    )


def _recommendation_table(
    recs: pd.DataFrame,
    hits: pd.Series | None,
    *,
    k: int,
    ranked: bool,
    photos: list[str | None] | None,
) -> None:
    st.markdown(f"**Top {k} recommendations**")  # the id is in the picker, not in Markdown
    if recs.empty:
        st.write("No recommendations for this user.")
        return
    table = _shown(recs[[*SHOWN_COLUMNS, schema.ITEM_ID]])
    config = dict(RECOMMENDATION_COLUMNS)
    if not ranked:
        config[m.SCORE] = GENERATOR_SCORE
    if hits is not None:
        table.insert(1, HIT, hits.map({True: HIT_MARK, False: ""}).to_numpy())
        config[HIT] = st.column_config.TextColumn(
            "hit?",
            width=90,
            help="✔ bought: the user bought this product in the test window (a hit).",
        )
    if photos is not None:
        table.insert(1, PHOTO, photos)
        config[PHOTO] = PHOTO_COLUMN
    styled = table.style.apply(
        lambda row: (
            ["background-color: #e3f4e8" if hits is not None and row[HIT] else ""] * len(row)
        ),
        axis=1,
    )
    widgets.table(
        styled,
        hide_index=True,
        column_config=config,
        key="recs.user_table",
        row_height=PHOTO_ROW_HEIGHT if photos is not None else None,
        height="content" if photos is not None else "auto",  # every product in view
    )
    st.caption(
        "Ranked by the ranker's score; “why” explains each product from the user's own events "
        "before the cutoff."
        + (" Green rows (✔) were bought in the test window: hits." if hits is not None else "")
    )


def _history(result: RecommendResult, shop: ShopData, user: str, known: pd.DataFrame) -> None:
    events, products = shop.events.frame, shop.product_frame
    s, evaluate = result.settings, result.evaluation is not None
    shown = known
    if evaluate:  # what the model knew, and what the user did in the test window
        end = result.cutoff + pd.Timedelta(days=s.horizon_days)
        later = recommend.user_history(events, products, user, before=end, limit=500)
        shown = pd.concat(
            [later[later[schema.TIMESTAMP] >= result.cutoff], known], ignore_index=True
        )
    if shown.empty:
        st.write("This user has no events yet.")
        return
    widgets.chart(
        rc.user_history_scatter(
            shown,
            cutoff=result.cutoff if evaluate else None,
            horizon_days=s.horizon_days if evaluate else None,
        ),
        "Each dot is one event (hover for the product); "
        + (
            "the shaded span after the dashed cutoff is the test window the model never saw."
            if evaluate
            else "the newest events are on the right."
        ),
        key="recs.chart.history",
    )
    with st.expander(
        f"History table ({len(known):,} newest events{' before the cutoff' if evaluate else ''})"
    ):
        _photo_table(
            _shown(known),
            cache.thumbnails(shop, known[schema.ITEM_ID].astype("str")),
            {
                schema.TIMESTAMP: st.column_config.DatetimeColumn(
                    "time", format="YYYY-MM-DD HH:mm"
                ),
                schema.EVENT_TYPE: "event",
                schema.ITEM_ID: "item id",
                schema.NAME: "product",
                schema.PRICE: st.column_config.NumberColumn("price", format="%.2f"),
            },
            key="recs.history_table",
            at=2,
        )


# --- what-if and export -------------------------------------------------------------------

WHATIF_ITEMS = 5000
WHATIF_CLICKS = 20
ANY_CATEGORY = "any category"


@st.fragment
def what_if(result: RecommendResult) -> None:
    """Cold start without retraining: products a new visitor clicked, or a category alone."""
    fitted, k = result.recommender, result.settings.k
    inter = fitted.interactions
    order = recommend.popular_items(fitted, limit=WHATIF_ITEMS)
    labels = {  # names repeat across items, so the id tells them apart
        str(inter.item_ids[i]): f"{inter.item_names[i]} · {_category(inter, int(i))} · "
        f"{inter.item_ids[i]}"
        for i in order
    }
    clicked = st.multiselect(
        "Products the visitor clicked",
        list(labels),
        format_func=labels.__getitem__,
        key=state.RECS_WHATIF_ITEMS,
        max_selections=WHATIF_CLICKS,
        select_all=False,  # a visitor who clicked every product is no what-if
        placeholder="search products by name",
        help=f"Up to {WHATIF_CLICKS} of the {len(labels):,} most popular products; the "
        "recommendations update at once.",
    )
    if clicked:
        recs = recommend.recommend_for_items(fitted, clicked, k=k)
        note = "Neighbours of the clicked products (people who touched them also touched these)."
    else:
        categories = [ANY_CATEGORY, *sorted(map(str, inter.category_names))]
        category = st.selectbox(
            "No clicks yet? The category they came for",
            categories,
            key=state.RECS_WHATIF_CATEGORY,
        )
        chosen = None if category == ANY_CATEGORY else category
        recs = recommend.popular_in_segment(fitted, chosen, k=k)
        note = "A visitor with no history gets the most popular products (of the category)."
    widgets.table(
        _shown(recs[list(SHOWN_COLUMNS)]),
        hide_index=True,
        column_config={**RECOMMENDATION_COLUMNS, m.SCORE: WHATIF_SCORE},
        key="recs.whatif_table",
    )
    st.caption(note + " Nothing is retrained.")


def _category(inter: recommend.Interactions, item: int) -> str:
    code = int(inter.item_category[item])
    return str(inter.category_names[code]) if code >= 0 else "no category"


def export(result: RecommendResult) -> None:
    """Every user's top-k with reasons as a CSV, built when the button is clicked."""
    s = result.settings
    fitted = result.recommender
    as_of = (
        f"as of {result.cutoff:%Y-%m-%d}" if result.evaluation is not None else "from all the data"
    )
    st.download_button(
        f"Download every user's top {s.k} (CSV)",
        lambda: to_safe_csv(recommend.recommend_everyone(fitted, k=s.k)),
        file_name=f"recommendations_top{s.k}_{result.cutoff:%Y%m%d}.csv",
        mime="text/csv",
        key=state.RECS_EXPORT,
        on_click="ignore",
    )
    st.caption(
        f"One row per user and product (user_id, rank, item_id, score, reason), {as_of}, for "
        "every user with history. "
        + (
            "To recommend from the newest data, train again in “Recommend now” mode."
            if result.evaluation is not None
            else ""
        )
    )
