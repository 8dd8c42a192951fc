"""Widgets of the Recommendations page: the ranker's settings, training on a worker thread with
progress and Stop, the scoreboard and charts, the per-user browser, the what-if panel and the
export."""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import purchase, recommend, schema
from core.data.exports import to_safe_csv
from core.data.loading import ShopData
from core.errors import ShopLensError
from core.ml import charts as ml_charts
from core.ml import metrics as m
from core.ml.network import EpochReport, NetworkConfig, format_hidden_layers
from core.recommend import RecommendationEvaluation, Recommender, RecommenderConfig
from core.recommend import charts as rc
from ui import state, widgets

DEFAULT = RecommenderConfig()
DEFAULT_HORIZON = 30
K_CHOICES = (5, 10, 20)
DEFAULT_K = 10
EVALUATE = "Evaluate: hold out the H days after a cutoff and score every model"
DEPLOY = "Recommend now: learn from all the data (no scores)"


def hidden_layer_editor() -> tuple[int, ...] | None:
    """The ranker's hidden layers, in the same editor as the Purchase prediction page."""
    return widgets.hidden_layer_editor(
        state.RECS_LAYER_EDITOR,
        default=DEFAULT.network.hidden_layers,
        inputs="Features of a (user, product) pair",
        outputs="chance the user buys it. Candidates come from item-to-item neighbours, the "
        "user's categories and overall popularity; the network ranks them.",
    )


# --- settings form ------------------------------------------------------------------------


@dataclass(frozen=True)
class RecsSettings:
    """What one training was asked for.

    Attributes:
        evaluate: score every model on ``[cutoff, cutoff + H)``; otherwise learn from all data.
        cutoff: the evaluation cutoff, or the end of the data when recommending now.
        horizon_days: H, the length of the test window and of each training window.
        k: products per list, the k of every score.
        config: the recommender's settings.
    """

    evaluate: bool
    cutoff: pd.Timestamp
    horizon_days: int
    k: int
    config: RecommenderConfig


@dataclass(frozen=True)
class RecsRequest:
    """The form's values; ``settings`` is None while the hidden layers are invalid."""

    submitted: bool
    settings: RecsSettings | None


def form_values(
    config: RecommenderConfig,
    *,
    evaluate: bool,
    cutoff: dt.date | None,
    horizon_days: int,
    k: int,
) -> dict[str, object]:
    """The form's widget values for these settings (keys of ``ui.state``), each kept within
    what its widget accepts."""
    network = config.network

    def within(value: int, low: int, high: int) -> int:
        return min(max(int(value), low), high)

    return {
        state.RECS_MODE: EVALUATE if evaluate else DEPLOY,
        state.RECS_K: k if k in K_CHOICES else DEFAULT_K,
        state.RECS_HORIZON: within(horizon_days, 1, 365),
        state.RECS_CUTOFF: cutoff if evaluate else None,
        state.RECS_EPOCHS: within(network.epochs, 1, 2000),
        state.RECS_BUY_AGAIN: config.buy_again,
        state.RECS_CATALOGUE_ONLY: config.catalogue_only,
        state.RECS_EARLY_STOPPING: network.early_stopping,
        state.RECS_SEED: network.random_state,
        state.RECS_LEARNING_RATE: network.learning_rate,
        state.RECS_ALPHA: network.alpha,
        state.RECS_CANDIDATES: within(config.candidates, 5, 500),
        state.RECS_NEGATIVES: within(config.negatives, 1, 500),
        state.RECS_WINDOWS: within(config.train_windows, 1, 12),
    }


def training_form(
    layers: tuple[int, ...] | None,
    *,
    first_day: dt.date,
    last_day: dt.date,
    data_end: pd.Timestamp,
    has_products: bool,
    running: bool,
) -> RecsRequest:
    """Mode, k, horizon, cutoff, options and the ranker's training settings in one form.

    Args:
        data_end: the exclusive end of the data (midnight after the last event's day).
        running: a training is under way, so Train is disabled until it ends or is stopped.
    """
    widgets.seed_widgets(
        form_values(DEFAULT, evaluate=True, cutoff=None, horizon_days=DEFAULT_HORIZON, k=DEFAULT_K)
    )
    session = st.session_state
    network = DEFAULT.network
    with st.form(state.RECS_FORM):
        st.markdown("**What to train**")
        mode = st.radio(
            "Mode", [EVALUATE, DEPLOY], key=state.RECS_MODE, label_visibility="collapsed"
        )
        cols = st.columns(4)
        k = cols[0].radio(
            "Products per list (k)",
            K_CHOICES,
            horizontal=True,
            key=state.RECS_K,
            help="How many products each user is shown; every score is measured at this k.",
        )
        horizon = cols[1].number_input(
            "Horizon H (days)",
            1,
            365,
            key=state.RECS_HORIZON,
            help="Length of the test window after the cutoff, and of each training window.",
        )
        latest = data_end - pd.Timedelta(days=DEFAULT_HORIZON)
        cutoff = cols[2].date_input(
            "Cutoff date",
            min_value=first_day,
            max_value=last_day,
            key=state.RECS_CUTOFF,
            help="Evaluate mode: the recommender learns only from events before this date and "
            "is scored on what users bought in the H days from it. Empty: the latest date that "
            f"leaves H days of data ({latest:%Y-%m-%d} for H={DEFAULT_HORIZON}). Not used when "
            "recommending now.",
        )
        epochs = cols[3].number_input("Epochs (at most)", 1, 2000, key=state.RECS_EPOCHS)
        cols = st.columns(4)
        buy_again = cols[0].checkbox(
            "Buy again",
            key=state.RECS_BUY_AGAIN,
            help="Also recommend products the user already bought (they then count as hits too). "
            "Useful for groceries and consumables.",
        )
        catalogue_only = cols[1].checkbox(
            "Catalogue only",
            key=state.RECS_CATALOGUE_ONLY,
            disabled=not has_products,
            help="Only recommend products listed in the product table (and in stock where it "
            "has an in_stock column)."
            + ("" if has_products else " Load a product table on the Data page to use it."),
        )
        early_stopping = cols[2].checkbox(
            "Early stopping",
            key=state.RECS_EARLY_STOPPING,
            help="Stop when the validation log-loss has not improved for "
            f"{network.patience} epochs. The best epoch is kept either way.",
        )
        seed = cols[3].number_input("Random seed", 0, 2**31 - 1, key=state.RECS_SEED)
        with st.expander("More settings"):
            cols = st.columns(5)
            learning_rate = cols[0].select_slider(
                "Learning rate",
                sorted({*widgets.LEARNING_RATES, session[state.RECS_LEARNING_RATE]}),
                format_func="{:g}".format,
                key=state.RECS_LEARNING_RATE,
            )
            alpha = cols[1].select_slider(
                "L2 penalty α",
                sorted({*widgets.ALPHAS, session[state.RECS_ALPHA]}),
                format_func="{:g}".format,
                key=state.RECS_ALPHA,
            )
            candidates = cols[2].number_input(
                "Candidates per generator",
                5,
                500,
                key=state.RECS_CANDIDATES,
                help="Products each candidate generator proposes per user before ranking.",
            )
            negatives = cols[3].number_input(
                "Negatives per user",
                1,
                500,
                key=state.RECS_NEGATIVES,
                help="Candidates the user did not buy, kept per user to train the ranker.",
            )
            windows = cols[4].number_input(
                "Training windows",
                1,
                12,
                key=state.RECS_WINDOWS,
                help="Consecutive H-day windows before the cutoff the ranker learns from.",
            )
        submitted = st.form_submit_button(
            "Train",
            type="primary",
            disabled=layers is None or running,
            key=state.RECS_TRAIN,
            help="A training is running: press Stop below to end it." if running else None,
        )
    if layers is None:
        return RecsRequest(submitted, None)
    evaluate = mode == EVALUATE
    horizon_days = int(horizon)
    if not evaluate:
        at = data_end
    elif cutoff is None:
        at = data_end - pd.Timedelta(days=horizon_days)
    else:
        at = pd.Timestamp(cutoff)
    config = RecommenderConfig(
        network=NetworkConfig(
            hidden_layers=layers,
            learning_rate=learning_rate,
            alpha=alpha,
            epochs=int(epochs),
            early_stopping=early_stopping,
            random_state=int(seed),
        ),
        candidates=int(candidates),
        negatives=int(negatives),
        train_windows=int(windows),
        buy_again=buy_again,
        catalogue_only=catalogue_only and has_products,
    )
    return RecsRequest(submitted, RecsSettings(evaluate, at, horizon_days, int(k), config))


def time_split(settings: RecsSettings, *, data_start: pd.Timestamp, data_end: pd.Timestamp) -> None:
    """The timeline of the chosen split with a how-to-read caption."""
    _chart(
        rc.recommender_timeline(
            data_start=data_start,
            data_end=data_end,
            cutoff=settings.cutoff,
            horizon_days=settings.horizon_days,
            windows=settings.config.train_windows,
            evaluate=settings.evaluate,
        ),
        "Each training window teaches the ranker: candidates come from the events before the "
        "window, and the products bought in it are the right answers. Nothing after the cutoff "
        "is used for training, so the test window stays unseen until it is scored.",
        key="recs.chart.timeline",
    )


# --- training on a worker thread ----------------------------------------------------------


@dataclass(frozen=True)
class RecsResult:
    """One finished training, kept in session state so the browser never retrains.

    Attributes:
        settings: what was asked for.
        recommender: the fitted two-stage recommender (as of ``settings.cutoff``).
        evaluation: every model's scores on the test window; ``None`` when recommending now.
        epochs: the ranker's epochs run.
        best_epoch: the epoch whose weights the ranker keeps.
        stopped: Stop ended the ranker's training early.
        seconds: wall time from Train to the result.
        run_id: the saved run (None when it could not be saved).
    """

    settings: RecsSettings
    recommender: Recommender
    evaluation: RecommendationEvaluation | None
    epochs: int
    best_epoch: int
    stopped: bool
    seconds: float
    run_id: str | None = None


class RecsTraining:
    """Fits (and in evaluate mode scores) the recommender on a worker thread.

    The page polls it for progress. A Stop click interrupts the page script, not this thread:
    the click's callback asks the ranker to stop after its current epoch (keeping the best
    epoch so far), and the next run waits for the result. Only core code runs on the thread.
    """

    def __init__(self, shop: ShopData, settings: RecsSettings) -> None:
        self.settings = settings
        self.report: EpochReport | None = None
        self.stopped_at: int | None = None
        self.discarded = False
        self._started = time.monotonic()
        self._stop = threading.Event()
        events = shop.events.frame
        products = shop.products.frame if shop.products is not None else None
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shoplens-recs")
        self._future: Future[tuple[Recommender, RecommendationEvaluation | None]] = pool.submit(
            self._run, events, products
        )
        pool.shutdown(wait=False)  # the thread ends with this one task
        self._ended: float | None = None
        self._future.add_done_callback(lambda _: setattr(self, "_ended", time.monotonic()))

    def _on_epoch(self, report: EpochReport) -> bool | None:
        self.report = report
        if self._stop.is_set():
            self.stopped_at = report.epoch
            return False
        return None

    def _run(
        self, events: pd.DataFrame, products: pd.DataFrame | None
    ) -> tuple[Recommender, RecommendationEvaluation | None]:
        s = self.settings
        if s.evaluate:
            return recommend.evaluate_recommender(
                events,
                products,
                cutoff=s.cutoff,
                horizon_days=s.horizon_days,
                k=s.k,
                config=s.config,
                on_epoch=self._on_epoch,
            )
        fitted = recommend.fit_recommender(
            events,
            products,
            cutoff=s.cutoff,
            horizon_days=s.horizon_days,
            config=s.config,
            on_epoch=self._on_epoch,
        )
        return fitted, None

    def request_stop(self) -> None:
        """Ask the ranker to stop after its current epoch (the Stop button's callback)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Stop was pressed."""
        return self._stop.is_set()

    @property
    def done(self) -> bool:
        """The worker has finished (with a result or an error)."""
        return self._future.done()

    def wait(self) -> None:
        """Block until the worker has finished."""
        wait([self._future])

    @property
    def seconds(self) -> float:
        """Seconds from Train to the end of the work (or to now while it runs)."""
        return (self._ended or time.monotonic()) - self._started

    def result(self) -> RecsResult:
        """Wait for the worker and bundle its result; re-raises the worker's error."""
        recommender, evaluation = self._future.result()
        report = self.report
        return RecsResult(
            settings=self.settings,
            recommender=recommender,
            evaluation=evaluation,
            epochs=report.epoch if report else 0,
            best_epoch=report.best_epoch if report else 0,
            stopped=self.stopped_at is not None,
            seconds=self.seconds,
        )


def pending_training() -> RecsTraining | None:
    """A training started on this dataset whose result has not been collected yet."""
    return st.session_state.get(state.RECS_TRAINING)


def current_result() -> RecsResult | None:
    """The last finished training on the current dataset."""
    return st.session_state.get(state.RECS_RESULT)


def start_training(shop: ShopData, settings: RecsSettings) -> None:
    """Start a training and rerun, so the form shows Train disabled while it runs."""
    old = pending_training()
    if old is not None:  # replaced by a newer request: let it end quickly, keep nothing
        old.discarded = True
        old.request_stop()
    st.session_state[state.RECS_TRAINING] = RecsTraining(shop, settings)
    st.rerun()


POLL_SECONDS = 0.25
LIVE_CHART_SECONDS = 0.5


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


def _progress_text(training: RecsTraining) -> tuple[float, str]:
    report, settings = training.report, training.settings
    if training.stopping:
        return 1.0, "Stopping after this epoch, then scoring every model…"
    if report is None:
        windows = settings.config.train_windows
        return 0.0, (
            f"Preparing ({training.seconds:.0f} s): candidates and right answers from up to "
            f"{windows} training windows, and the next-category model…"
        )
    left = _duration(report.seconds_left)
    then = "scoring every model" if settings.evaluate else "ranking"
    return min(report.epoch / report.epochs, 1.0), (
        f"Ranker epoch {report.epoch} of at most {report.epochs} · best so far: epoch "
        f"{report.best_epoch} · about {left} left (early stopping may end sooner), then {then}"
    )


def follow_training(training: RecsTraining, *, running: bool) -> None:
    """While the training runs, show its progress with a Stop button and rerun once it ends;
    once it has ended, keep its result (or show its error) and forget it.

    Args:
        running: the training was still running when the form was drawn on this run, so
            Train is disabled there and the page must be drawn again when it ends.
    """
    if running:
        if not training.stopping:
            _live_progress(training)
        label = "Scoring every model on the test window…" if training.settings.evaluate else ""
        with st.spinner(label or "Finishing…"):
            training.wait()
        st.rerun()
    st.session_state.pop(state.RECS_TRAINING, None)
    try:
        result = training.result()
    except ShopLensError as err:
        st.error(str(err))
        return
    if not training.discarded:
        settings = result.settings
        record = recommend.recommender_run_record(
            result.recommender,
            result.evaluation,
            cutoff=settings.cutoff,
            horizon_days=settings.horizon_days,
            k=settings.k,
            stopped=result.stopped,
        )
        st.session_state[state.RECS_RESULT] = replace(result, run_id=state.save_run(record))


def set_current_result(result: RecsResult) -> None:
    """Make ``result`` (e.g. a reopened run) the page's current result."""
    st.session_state[state.RECS_RESULT] = result


def _live_progress(training: RecsTraining) -> None:
    """Poll the worker: progress bar, the ranker's live curves, Stop (which reruns the page)."""
    stop = st.empty()
    stop.button(
        "Stop",
        key=state.RECS_STOP,
        icon="⏹️",
        on_click=training.request_stop,
        help="End the ranker's training now and keep its best epoch so far.",
    )
    bar = st.progress(0.0, text="Starting…")
    chart = st.empty()
    drawn_epoch, drawn_at = 0, -math.inf
    while not training.done:
        fraction, text = _progress_text(training)
        bar.progress(fraction, text=text)
        report = training.report
        if (
            report is not None
            and report.epoch != drawn_epoch
            and time.monotonic() - drawn_at >= LIVE_CHART_SECONDS
        ):
            drawn_epoch, drawn_at = report.epoch, time.monotonic()
            chart.plotly_chart(
                _curves(report.curves, report.best_epoch), key=f"recs.live.{report.epoch}"
            )
        time.sleep(POLL_SECONDS)
    for element in (stop, bar, chart):
        element.empty()


def _curves(curves: pd.DataFrame, best_epoch: int) -> go.Figure:
    return ml_charts.training_curves_line(
        curves,
        task="classification",
        best_epoch=best_epoch,
        title=f"Ranker: training curves (best epoch {best_epoch})",
    )


# --- results ------------------------------------------------------------------------------

METRIC_HELP = {
    m.PRECISION: "Share of the k recommended products that the user bought in the test window, "
    "averaged over users (0 to 1).",
    m.RECALL: "Share of each user's test-window purchases that made it into their top k, "
    "averaged over users (0 to 1).",
    m.F1: "Harmonic mean of each user's precision and recall, averaged over users (0 to 1).",
    m.MAP: "Mean average precision: for each hit, the precision at its rank, summed and divided "
    "by min(k, products bought); rewards hits near the top (0 to 1).",
    m.NDCG: "Hits discounted by log2(rank + 1), divided by the best possible list: 1 means "
    "every bought product sits at the top (0 to 1).",
    m.HIT_RATE: "Share of users with at least one bought product in their top k (0 to 1).",
    "coverage": "Share of the catalogue (products seen before the cutoff) that appears in "
    "anyone's top k; low coverage means everyone gets the same few products.",
    "novelty": "Mean −log2 of the share of users who had touched a recommended product before "
    "the cutoff, in bits: 0 = products everyone knows; higher = less obvious products.",
    "diversity": "Mean share of pairs in a user's top k from different categories: 0 = one "
    "category per list, 1 = all different.",
}
SCORE_FORMATS = {**dict.fromkeys(m.RANKING_METRICS, "%.3f"), "coverage": "%.3f"}
SCORE_FORMATS.update({"novelty": "%.2f", "diversity": "%.3f"})
MODEL_COLUMN = "model"


def _chart(figure: go.Figure, how_to_read: str, *, key: str) -> None:
    st.plotly_chart(figure, key=key)
    st.caption(how_to_read)


def _label(metric: str, k: int) -> str:
    name = rc.METRIC_LABELS[metric]
    return name if metric in ("novelty", "diversity") else f"{name}@{k}"


def summary(result: RecsResult) -> None:
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
        end = s.cutoff + pd.Timedelta(days=s.horizon_days - 1)
        where = (
            f"scored on {evaluation.users:,} users who bought in the {s.horizon_days} days from "
            f"{s.cutoff:%Y-%m-%d} to {end:%Y-%m-%d}"
        )
        timing = f"fit {evaluation.fit_seconds:.1f} s, scoring {evaluation.score_seconds:.1f} s"
    else:
        where = f"learned from all the data up to {s.cutoff - pd.Timedelta(days=1):%Y-%m-%d}"
        timing = f"fit {fitted.fit_seconds:.1f} s"
    st.caption(f"k = {s.k} · {where} · {ranker} · {timing} ({result.seconds:.0f} s in all).")
    if result.stopped:
        st.info(
            f"Training was stopped at epoch {result.epochs}; the ranker keeps its best epoch so "
            f"far (epoch {result.best_epoch})."
        )
    if evaluation is None:
        return
    scores = evaluation.scores
    mlp, baselines = scores.loc[recommend.MLP_RANKER], scores.drop(index=recommend.MLP_RANKER)
    best = baselines[m.NDCG].idxmax()
    cols = st.columns(4)
    cols[0].metric(
        f"NDCG@{s.k} · MLP ranker",
        f"{mlp[m.NDCG]:.3f}",
        delta=f"{mlp[m.NDCG] - baselines[m.NDCG].max():+.3f}",
        delta_description=f"vs {recommend.MODEL_LABELS[best]}",
        help=METRIC_HELP[m.NDCG] + " The delta compares with the best baseline.",
    )
    cols[1].metric(
        f"Hit rate@{s.k} · MLP ranker", f"{mlp[m.HIT_RATE]:.1%}", help=METRIC_HELP[m.HIT_RATE]
    )
    cols[2].metric(
        f"Coverage@{s.k} · MLP ranker", f"{mlp['coverage']:.1%}", help=METRIC_HELP["coverage"]
    )
    cols[3].metric("Users evaluated", f"{evaluation.users:,}")


def scoreboard(evaluation: RecommendationEvaluation) -> None:
    """Every model's scores at k, each column's definition in its header tooltip."""
    k = evaluation.k
    columns = [c for c in METRIC_HELP if c in evaluation.scores.columns]
    table = evaluation.scores[columns].rename(
        index=recommend.MODEL_LABELS, columns={c: _label(c, k) for c in columns}
    )
    st.dataframe(
        table.rename_axis(MODEL_COLUMN).reset_index(),
        hide_index=True,
        column_config={
            _label(c, k): st.column_config.NumberColumn(
                help=METRIC_HELP[c], format=SCORE_FORMATS[c]
            )
            for c in columns
        },
        key="recs.scoreboard",
    )
    st.caption(
        f"Every model recommends {k} products to each user who bought something in the test "
        "window, using only events before the cutoff; a hit is a recommended product the user "
        "then bought. Hover a column header for its definition. From precision to hit rate, "
        "higher is better; coverage, novelty and diversity describe the lists (random tops "
        "them). A ranker that does not beat the baselines is not worth deploying."
    )


def metric_curves(evaluation: RecommendationEvaluation) -> None:
    """Precision, recall, NDCG and hit rate against k."""
    _chart(
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
        format_func=lambda c: rc.METRIC_LABELS[c],
        key=state.RECS_ACCURACY,
    )
    _chart(
        rc.accuracy_coverage_scatter(evaluation.scores, k=evaluation.k, accuracy=accuracy),
        "Up is more accurate; right means more of the catalogue gets recommended to someone. "
        "“Most popular” sits top-left (safe, same list for all), “random” bottom-right; a good "
        "recommender is high without collapsing to the left.",
        key="recs.chart.coverage",
    )


def long_tail(result: RecsResult) -> None:
    """How each model's recommendations spread over popular and niche products."""
    evaluation = result.evaluation
    assert evaluation is not None
    shares = rc.long_tail_shares(
        evaluation.recommendations, rc.item_user_counts(result.recommender), k=evaluation.k
    )
    _chart(
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
    cols = st.columns(3)
    cols[0].metric(
        "Accuracy",
        f"{report.accuracy:.1%}",
        help="Share of users whose most-bought category in the test window was the model's "
        "first guess.",
    )
    cols[1].metric(
        "Top-3 accuracy",
        f"{report.top3_accuracy:.1%}",
        help="Share of users whose most-bought category was among the model's three guesses.",
    )
    cols[2].metric("Users scored", f"{report.users:,}")
    _chart(
        rc.category_confusion_heatmap(report.confusion),
        "Rows: the category each user bought most in the test window; columns: the model's "
        "first guess. Numbers are users; colour is the share of the row, so a dark diagonal "
        "means the guesses were right. The ranker uses these guesses as one of its inputs.",
        key="recs.chart.category",
    )


def training_curves(result: RecsResult) -> None:
    """The ranker's per-epoch curves with the kept epoch marked."""
    curves = result.recommender.curves
    if curves.empty:
        st.write("The ranker was not trained, so there are no curves.")
        return
    _chart(
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
        "score", format="%.3f", width=60, help="The ranker's chance that the user buys it."
    ),
    schema.ITEM_ID: st.column_config.TextColumn("item id", width=80),
}


def predicted_buyers(top: int = 25) -> pd.DataFrame | None:
    """The Purchase prediction page's most likely buyers, if it has results on this dataset."""
    result = state.purchase_result()
    if result is None:
        return None
    return result.next_orders.sort_values(purchase.PROBABILITY, ascending=False).head(top)


def _pick_list(result: RecsResult) -> pd.Series:
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


def _choose_user(result: RecsResult, buyers: pd.DataFrame | None) -> str | None:
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
        days = state.purchase_result().data.horizon_days  # type: ignore[union-attr]
        labels = {
            str(u): f"{u} · {p:.0%} likely to buy in the next {days} days"
            for u, p in buyers[purchase.PROBABILITY].items()
        }
        return st.selectbox(
            f"Top {len(labels)} predicted buyers (Purchase prediction)",
            list(labels),
            format_func=labels.get,
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
def user_browser(result: RecsResult, shop: ShopData, buyers: pd.DataFrame | None) -> None:
    """One user's history, top-k with reasons, and (evaluate mode) the hits; reruns only this
    part on every pick and never retrains."""
    user = _choose_user(result, buyers)
    if user is None:
        return
    s, evaluation = result.settings, result.evaluation
    events = shop.events.frame
    products = shop.products.frame if shop.products is not None else None
    try:
        recs = recommend.recommend_for_user(result.recommender, user, k=s.k)
        known = recommend.user_history(events, products, user, before=s.cutoff, limit=200)
    except recommend.UnknownUserError as err:
        st.error(widgets.plain_md(str(err)))  # the message quotes the typed id
        return
    bought_after = set()
    if evaluation is not None:
        relevant = evaluation.relevant
        bought_after = set(relevant.loc[relevant[schema.USER_ID] == user, schema.ITEM_ID])
    hits = recs[schema.ITEM_ID].isin(bought_after)
    cols = st.columns(4)
    cols[0].metric(
        "Events before the cutoff" if evaluation else "Events",
        f"{len(known):,}{'+' * (len(known) >= 200)}",
    )
    cols[1].metric(
        "Purchases among them", f"{int((known[schema.EVENT_TYPE] == schema.PURCHASE).sum()):,}"
    )
    if evaluation is not None:
        cols[2].metric("Bought in the test window", f"{len(bought_after):,}")
        cols[3].metric(f"Hits in the top {s.k}", f"{int(hits.sum())} of {len(recs)}")
    _recommendation_table(recs, hits if evaluation is not None else None, k=s.k)
    missed = sorted(bought_after - set(recs[schema.ITEM_ID]))
    if missed:
        st.markdown(f"**Bought in the test window but not in the top {s.k}**")
        st.dataframe(
            _products(result.recommender, missed),
            hide_index=True,
            column_config=RECOMMENDATION_COLUMNS,
            key="recs.missed_table",
        )
    _history(result, events, products, user, known)


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


def _recommendation_table(recs: pd.DataFrame, hits: pd.Series | None, *, k: int) -> None:
    st.markdown(f"**Top {k} recommendations**")  # the id is in the picker, not in Markdown
    if recs.empty:
        st.write("No recommendations for this user.")
        return
    table = recs[[*SHOWN_COLUMNS, schema.ITEM_ID]]
    config = dict(RECOMMENDATION_COLUMNS)
    if hits is not None:
        table.insert(1, HIT, hits.map({True: HIT_MARK, False: ""}).to_numpy())
        config[HIT] = st.column_config.TextColumn(
            "hit?",
            width=90,
            help="✔ bought: the user bought this product in the test window (a hit).",
        )
    styled = table.style.apply(
        lambda row: (
            ["background-color: #e3f4e8" if hits is not None and row[HIT] else ""] * len(row)
        ),
        axis=1,
    )
    st.dataframe(styled, hide_index=True, column_config=config, key="recs.user_table")
    st.caption(
        "Ranked by the ranker's score; “why” explains each product from the user's own events "
        "before the cutoff."
        + (" Green rows (✔) were bought in the test window: hits." if hits is not None else "")
    )


def _history(
    result: RecsResult,
    events: pd.DataFrame,
    products: pd.DataFrame | None,
    user: str,
    known: pd.DataFrame,
) -> None:
    s, evaluate = result.settings, result.evaluation is not None
    shown = known
    if evaluate:  # what the model knew, and what the user did in the test window
        end = s.cutoff + pd.Timedelta(days=s.horizon_days)
        later = recommend.user_history(events, products, user, before=end, limit=500)
        shown = pd.concat([later[later[schema.TIMESTAMP] >= s.cutoff], known], ignore_index=True)
    if shown.empty:
        st.write("This user has no events yet.")
        return
    _chart(
        rc.user_history_scatter(
            shown,
            cutoff=s.cutoff if evaluate else None,
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
        st.dataframe(
            known,
            hide_index=True,
            column_config={
                schema.TIMESTAMP: st.column_config.DatetimeColumn(
                    "time", format="YYYY-MM-DD HH:mm"
                ),
                schema.EVENT_TYPE: "event",
                schema.ITEM_ID: "item id",
                schema.NAME: "product",
                schema.PRICE: st.column_config.NumberColumn("price", format="%.2f"),
            },
            key="recs.history_table",
        )


# --- what-if and export -------------------------------------------------------------------

WHATIF_ITEMS = 5000
WHATIF_CLICKS = 20
ANY_CATEGORY = "any category"


@st.fragment
def what_if(result: RecsResult) -> None:
    """Cold start without retraining: products a new visitor clicked, or a category alone."""
    fitted, k = result.recommender, result.settings.k
    inter = fitted.interactions
    order = inter.popularity.argsort(kind="stable")[::-1][:WHATIF_ITEMS]
    labels = {  # names repeat across items, so the id tells them apart
        str(inter.item_ids[i]): f"{inter.item_names[i]} · {_category(inter, int(i))} · "
        f"{inter.item_ids[i]}"
        for i in order
    }
    clicked = st.multiselect(
        "Products the visitor clicked",
        list(labels),
        format_func=labels.get,
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
    st.dataframe(
        recs[list(SHOWN_COLUMNS)],
        hide_index=True,
        column_config=RECOMMENDATION_COLUMNS,
        key="recs.whatif_table",
    )
    st.caption(note + " Nothing is retrained.")


def _category(inter: recommend.Interactions, item: int) -> str:
    code = int(inter.item_category[item])
    return str(inter.category_names[code]) if code >= 0 else "no category"


def export(result: RecsResult) -> None:
    """Every user's top-k with reasons as a CSV, built when the button is clicked."""
    s = result.settings
    fitted = result.recommender
    as_of = f"as of {s.cutoff:%Y-%m-%d}" if result.evaluation is not None else "from all the data"
    st.download_button(
        f"Download every user's top {s.k} (CSV)",
        lambda: to_safe_csv(recommend.recommend_everyone(fitted, k=s.k)),
        file_name=f"recommendations_top{s.k}_{s.cutoff:%Y%m%d}.csv",
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
