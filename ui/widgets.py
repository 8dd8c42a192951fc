"""Widgets shared by pages: the mapping editor, the validation report, the data profile, and
the purchase-prediction editor, live training view and results."""

from __future__ import annotations

import datetime as dt
import math
import re
import time
import typing
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import plotting, purchase, schema
from core.data import charts as data_charts
from core.data.exports import to_safe_csv
from core.data.loading import LoadResult
from core.data.profile import Profile
from core.ml import charts as ml_charts
from core.ml import metrics as m
from core.ml.network import (
    MAX_LAYERS,
    MAX_UNITS,
    PRESETS,
    Activation,
    HiddenLayersError,
    NetworkConfig,
    Solver,
    format_hidden_layers,
    parse_hidden_layers,
)
from core.purchase import (
    PurchaseData,
    PurchaseEvaluation,
    PurchaseProgress,
    PurchaseTraining,
    charts,
    features,
)
from ui import state

NOT_USED = "— not used —"


_MARKDOWN_ACTIVE = re.compile(r"([\\`*_\[\]()<>#!|~$:&])")


def plain_md(text: object) -> str:
    """Untrusted text (ids, names, file names) shown literally inside Markdown: no links,
    images, emphasis, HTML, math or Streamlit directives, and on one line."""
    return _MARKDOWN_ACTIVE.sub(r"\\\1", " ".join(str(text).split()))


def mapping_editor(
    table: str,
    digest: str,
    columns: tuple[str, ...],
    detected: dict[str, str],
    fields: tuple[str, ...],
) -> dict[str, str | None]:
    """One select box per canonical field, preset to the detected column.

    Returns:
        the fields whose choice differs from the detected mapping (``None`` = not used).
    """
    overrides: dict[str, str | None] = {}
    options = [NOT_USED, *columns]
    grid = st.columns(3)
    for position, field in enumerate(fields):
        default = detected.get(field)
        choice = grid[position % 3].selectbox(
            field,
            options,
            index=options.index(default) if default in options else 0,
            key=state.mapping_key(table, digest, field),
            help=_FIELD_HELP.get(field),
        )
        chosen = None if choice == NOT_USED else choice
        if chosen != default:
            overrides[field] = chosen
    return overrides


_FIELD_HELP = {
    schema.USER_ID: "Required: who did it (customer, visitor or user id).",
    schema.TIMESTAMP: "Required: when (a date/time or unix seconds/milliseconds).",
    schema.ITEM_ID: "The product (needed for recommendations).",
    schema.EVENT_TYPE: "view / cart / fav / purchase / return; leave unused for an orders export "
    "(every row is then a purchase).",
    schema.PRICE: "Unit price.",
    schema.AMOUNT: "Line total (price × quantity); used for the price when no unit price exists.",
}


def load_report(result: LoadResult, *, key: str) -> None:
    """Recognised format, notes, kept/rejected counts by reason, and the rejected-rows download."""
    st.markdown(
        f"**{result.source_name}** — recognised as **{result.export_format.label}**  \n"
        f"Read as {result.read_as}."
    )
    for note in result.notes:
        st.caption(f"ℹ️ {note}")
    kept, read = result.rows_kept, result.rows_read
    cols = st.columns(4)
    cols[0].metric("Rows read", f"{read:,}")
    cols[1].metric("Rows kept", f"{kept:,}")
    cols[2].metric("Rows rejected", f"{len(result.rejected):,}")
    dup_label = "Duplicates dropped" if result.duplicates_dropped else "Duplicates (kept)"
    cols[3].metric(dup_label, f"{result.duplicates:,}")
    counts = result.rejected_counts
    if not counts:
        st.success("Every row passed validation.")
        return
    st.plotly_chart(data_charts.rejected_reasons_bar(counts), key=f"{key}.reasons")
    st.dataframe(
        result.rejected.groupby("reason", sort=False).head(3),
        hide_index=True,
        key=f"{key}.examples",
    )
    st.download_button(
        "Download rejected rows (CSV)",
        lambda: to_safe_csv(result.rejected),
        file_name=f"rejected_{result.source_name.replace('/', '_')}.csv",
        mime="text/csv",
        key=f"{key}.download",
        on_click="ignore",
    )


def profile(summary: Profile) -> None:
    """Size, time span, event mix, events per day, missing values, top items and categories."""
    cols = st.columns(4)
    cols[0].metric("Events", f"{summary.rows:,}")
    cols[1].metric("Users", f"{summary.users:,}")
    cols[2].metric("Items", "none" if summary.items is None else f"{summary.items:,}")
    days = (summary.end.normalize() - summary.start.normalize()).days + 1
    cols[3].metric("Days covered", f"{days:,}")
    st.caption(f"From {summary.start:%Y-%m-%d %H:%M} to {summary.end:%Y-%m-%d %H:%M} (UTC).")
    left, right = st.columns([1, 2])
    left.plotly_chart(data_charts.event_mix_bar(summary), key="data.chart.mix")
    right.plotly_chart(data_charts.daily_events_line(summary), key="data.chart.daily")
    left, middle, right = st.columns(3)
    left.markdown("**Missing values per column**")
    left.dataframe(
        summary.missing,
        hide_index=True,
        column_config={
            "missing share": st.column_config.ProgressColumn(
                format="percent", min_value=0.0, max_value=1.0
            )
        },
    )
    middle.markdown("**Top items**")
    if summary.top_items is None:
        middle.write("This data has no item ids.")
    else:
        middle.dataframe(summary.top_items, hide_index=True)
    right.markdown("**Top categories**")
    if summary.top_categories is None:
        right.write("This data has no categories.")
    else:
        right.dataframe(summary.top_categories, hide_index=True)


# --- purchase prediction: hidden-layer editor ---------------------------------------------

CUSTOM = "custom"


def _set_layers(keys: state.LayerEditorKeys, widths: tuple[int, ...]) -> None:
    """Make ``widths`` the layers and show them in every part of the editor (callbacks only)."""
    session = st.session_state
    text = format_hidden_layers(widths)
    session[keys.layers] = widths
    session[keys.text] = text
    session[keys.preset] = text if text in PRESETS else CUSTOM
    for position, width in enumerate(widths):
        session[keys.layer(position)] = width


def _on_preset(keys: state.LayerEditorKeys) -> None:
    choice = st.session_state[keys.preset]
    if choice != CUSTOM:
        _set_layers(keys, parse_hidden_layers(choice))


def _on_width(keys: state.LayerEditorKeys) -> None:
    count = len(st.session_state[keys.layers])
    _set_layers(keys, tuple(int(st.session_state[keys.layer(i)]) for i in range(count)))


def _on_add_layer(keys: state.LayerEditorKeys) -> None:
    widths = st.session_state[keys.layers]
    if len(widths) < MAX_LAYERS:
        _set_layers(keys, (*widths, max(1, widths[-1] // 2)))


def _on_remove_layer(keys: state.LayerEditorKeys) -> None:
    widths = st.session_state[keys.layers]
    if len(widths) > 1:
        _set_layers(keys, widths[:-1])


def _on_text(keys: state.LayerEditorKeys) -> None:
    try:
        _set_layers(keys, parse_hidden_layers(st.session_state[keys.text]))
    except HiddenLayersError:
        pass  # the editor shows the message on this run


def hidden_layer_editor(
    keys: state.LayerEditorKeys = state.PURCHASE_LAYER_EDITOR,
    *,
    default: tuple[int, ...] = NetworkConfig().hidden_layers,
    inputs: str = "User features",
    outputs: str = "output. The same hidden layers are used by the orders network (how many "
    "orders) and the buyer network (buys at all or not).",
) -> tuple[int, ...] | None:
    """Hidden layers, TensorFlow-Playground style: a preset, one width per layer with Add /
    Remove layer buttons (1 to 6 layers of 1 to 1024 units), or the widths typed as "64,32".

    Args:
        keys: the page's widget keys, so each page keeps its own layers.
        default: the layers on a first visit.
        inputs: what enters the network, for the caption.
        outputs: what leaves it, for the caption.

    Returns:
        the widths, or ``None`` while the typed text is not valid (its message is shown).
    """
    session = st.session_state
    widths = session.setdefault(keys.layers, default)
    needed = [keys.text, keys.preset, *map(keys.layer, range(len(widths)))]
    if any(k not in session for k in needed):
        _set_layers(keys, widths)  # first visit, or the widgets were cleaned up on another page
    top = st.columns([1, 1, 2], vertical_alignment="bottom")
    top[0].selectbox(
        "Preset",
        [*PRESETS, CUSTOM],
        key=keys.preset,
        on_change=_on_preset,
        args=(keys,),
        help="Widths of the hidden layers, first layer first.",
    )
    top[1].text_input(
        "Or type the widths",
        key=keys.text,
        on_change=_on_text,
        args=(keys,),
        help=f"1 to {MAX_LAYERS} whole numbers of 1 to {MAX_UNITS} units, e.g. 64,32; "
        "press Enter to apply.",
    )
    cells = st.columns(MAX_LAYERS)
    for position in range(len(widths)):
        cells[position].number_input(
            f"Layer {position + 1} (units)",
            min_value=1,
            max_value=MAX_UNITS,
            step=1,
            key=keys.layer(position),
            on_change=_on_width,
            args=(keys,),
        )
    buttons = st.columns([1, 1, 4])
    buttons[0].button(
        "Add layer",
        key=keys.add,
        on_click=_on_add_layer,
        args=(keys,),
        disabled=len(widths) >= MAX_LAYERS,
        width="stretch",
    )
    buttons[1].button(
        "Remove layer",
        key=keys.remove,
        on_click=_on_remove_layer,
        args=(keys,),
        disabled=len(widths) <= 1,
        width="stretch",
    )
    try:
        parsed = parse_hidden_layers(session[keys.text])
    except HiddenLayersError as err:
        st.error(str(err))
        return None
    arrows = " → ".join(str(w) for w in parsed)
    top[2].caption(f"{inputs} → **{arrows}** → {outputs}")
    return parsed


# --- purchase prediction: settings form ---------------------------------------------------

DEFAULT_NETWORK = NetworkConfig()
DEFAULT_HORIZON = 30
ALPHAS = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0)
LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1)
BATCH_SIZES = (32, 64, 128, 256, 512, 1024, 2048)
VALIDATION_FRACTIONS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def _with(options: tuple[float, ...], default: float) -> list[float]:
    """The options plus the default, in order (NetworkConfig's defaults may change)."""
    return sorted({*options, default})


@dataclass(frozen=True)
class TrainingRequest:
    """The settings form's values; ``config`` is None while the hidden layers are invalid."""

    submitted: bool
    horizon_days: int
    cutoff: dt.date | None
    config: NetworkConfig | None


def seed_widgets(values: dict[str, object]) -> None:
    """First values of widgets, given through session state (so that opening a saved run can
    set them too); widgets seeded this way take no default of their own."""
    for key, value in values.items():
        st.session_state.setdefault(key, value)


def purchase_form_values(
    config: NetworkConfig, horizon_days: int, cutoff: dt.date | None
) -> dict[str, object]:
    """The purchase form's widget values for these settings (keys of ``ui.state``)."""
    return {
        state.PURCHASE_HORIZON: horizon_days,
        state.PURCHASE_CUTOFF: cutoff,
        state.PURCHASE_ACTIVATION: config.activation,
        state.PURCHASE_SOLVER: config.solver,
        state.PURCHASE_ALPHA: config.alpha,
        state.PURCHASE_LEARNING_RATE: config.learning_rate,
        state.PURCHASE_BATCH_SIZE: config.batch_size,
        state.PURCHASE_EPOCHS: min(max(config.epochs, 1), 2000),
        state.PURCHASE_EARLY_STOPPING: config.early_stopping,
        state.PURCHASE_VALIDATION_FRACTION: config.validation_fraction,
        state.PURCHASE_PATIENCE: min(max(config.patience, 1), 200),
        state.PURCHASE_SEED: config.random_state,
    }


def training_form(
    layers: tuple[int, ...] | None, *, first_day: dt.date, last_day: dt.date, latest: dt.date
) -> TrainingRequest:
    """Horizon, cutoff and the training settings in one form with a Train button; defaults
    are ``NetworkConfig``'s. ``latest`` is the default cutoff for the default horizon."""
    seed_widgets(purchase_form_values(DEFAULT_NETWORK, DEFAULT_HORIZON, None))
    session = st.session_state
    with st.form(state.PURCHASE_FORM):
        st.markdown("**Time split and training**")
        cols = st.columns(4)
        horizon = cols[0].number_input(
            "Horizon H (days)",
            1,
            365,
            key=state.PURCHASE_HORIZON,
            help="Predict the orders in the H days after a date.",
        )
        cutoff = cols[1].date_input(
            "Cutoff date",
            min_value=first_day,
            max_value=last_day,
            key=state.PURCHASE_CUTOFF,
            help="The models are scored on the H days from this date and trained only on "
            "windows that end by it. Empty: the latest date that leaves H days of data "
            f"({latest:%Y-%m-%d} for H={DEFAULT_HORIZON}).",
        )
        activation = cols[2].selectbox(
            "Activation", typing.get_args(Activation), key=state.PURCHASE_ACTIVATION
        )
        solver = cols[3].selectbox("Solver", typing.get_args(Solver), key=state.PURCHASE_SOLVER)
        cols = st.columns(4)
        alpha = cols[0].select_slider(
            "L2 penalty α",
            _with(ALPHAS, session[state.PURCHASE_ALPHA]),
            format_func="{:g}".format,
            key=state.PURCHASE_ALPHA,
            help="Larger values keep the weights small (smoother fit).",
        )
        learning_rate = cols[1].select_slider(
            "Learning rate",
            _with(LEARNING_RATES, session[state.PURCHASE_LEARNING_RATE]),
            format_func="{:g}".format,
            key=state.PURCHASE_LEARNING_RATE,
        )
        batch_size = cols[2].select_slider(
            "Batch size",
            _with(BATCH_SIZES, session[state.PURCHASE_BATCH_SIZE]),
            key=state.PURCHASE_BATCH_SIZE,
        )
        epochs = cols[3].number_input("Epochs (at most)", 1, 2000, key=state.PURCHASE_EPOCHS)
        cols = st.columns(4)
        early_stopping = cols[0].checkbox(
            "Early stopping",
            key=state.PURCHASE_EARLY_STOPPING,
            help="Stop when the validation score has not improved for 'patience' epochs. "
            "The best epoch on the validation users is kept either way.",
        )
        validation_fraction = cols[1].select_slider(
            "Validation share",
            _with(VALIDATION_FRACTIONS, session[state.PURCHASE_VALIDATION_FRACTION]),
            format_func="{:.0%}".format,
            key=state.PURCHASE_VALIDATION_FRACTION,
            help="Share of users held out of training for the validation curves.",
        )
        patience = cols[2].number_input("Patience (epochs)", 1, 200, key=state.PURCHASE_PATIENCE)
        seed = cols[3].number_input("Random seed", 0, 2**31 - 1, key=state.PURCHASE_SEED)
        submitted = st.form_submit_button(
            "Train", type="primary", disabled=layers is None, key=state.PURCHASE_TRAIN
        )
    config = None
    if layers is not None:
        config = NetworkConfig(
            hidden_layers=layers,
            activation=activation,
            solver=solver,
            alpha=alpha,
            learning_rate=learning_rate,
            batch_size=batch_size,
            epochs=int(epochs),
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            patience=int(patience),
            random_state=int(seed),
        )
    return TrainingRequest(submitted, int(horizon), cutoff, config)


# --- purchase prediction: live training ----------------------------------------------------

LIVE_CHART_SECONDS = 0.5  # redraw the live curves at most twice a second


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


def train_with_live_curves(training: PurchaseTraining) -> None:
    """Run ``training`` under a Stop button, a progress bar and both networks' live curves.

    Stop works by interrupting this script: Streamlit reruns the page at the next element
    update, and that run finds the training unfinished and finishes it with its best epochs.
    """
    stop = st.empty()
    stop.button(
        "Stop",
        key=state.PURCHASE_STOP,
        icon="⏹️",
        help="End training now and keep each network's best epoch so far.",
    )
    bar = st.progress(0.0, text="Preparing the training rows…")
    left, right = st.columns(2)
    slots = {"regression": left.empty(), "classification": right.empty()}
    drawn = -math.inf

    def on_epoch(progress: PurchaseProgress) -> None:
        nonlocal drawn
        bar.progress(
            min(progress.epoch / progress.epochs, 1.0),
            text=f"Epoch {progress.epoch} of at most {progress.epochs} · about "
            f"{_duration(progress.seconds_left)} left (early stopping may end sooner)",
        )
        if time.monotonic() - drawn < LIVE_CHART_SECONDS:
            return
        drawn = time.monotonic()
        for report in (progress.regressor, progress.classifier):
            if report is not None:
                slots[report.task].plotly_chart(
                    plotting.legend_below(
                        ml_charts.training_curves_line(
                            report.curves, task=report.task, best_epoch=report.best_epoch
                        )
                    ),
                    key=f"purchase.live.{report.task}.{report.epoch}",
                )

    training.run(on_epoch)
    for element in (stop, bar, *slots.values()):
        element.empty()


# --- purchase prediction: results ----------------------------------------------------------

ORDER_SCORES = {
    m.MSE: ("MSE", "%.4f"),
    m.RMSE: ("RMSE", "%.4f"),
    m.MAE: ("MAE", "%.4f"),
    m.R2: ("R²", "%.3f"),
    m.TOTAL_PREDICTED: ("Orders predicted", "%.0f"),
    m.TOTAL_ACTUAL: ("Orders that happened", "%.0f"),
}
BUYER_SCORES = {
    m.ACCURACY: ("Accuracy", "%.3f"),
    m.PRECISION: ("Precision", "%.3f"),
    m.RECALL: ("Recall", "%.3f"),
    m.F1: ("F1", "%.3f"),
    m.ROC_AUC: ("ROC-AUC", "%.3f"),
    m.PR_AUC: ("PR-AUC", "%.3f"),
}
MODEL_COLUMN = "model"


def _number(value: float, digits: int) -> str:
    return f"{value:.{digits}f}" if math.isfinite(value) else "n/a"


def _chart(figure: go.Figure, how_to_read: str, *, key: str, half: bool = False) -> None:
    st.plotly_chart(plotting.legend_below(figure) if half else figure, key=key)
    st.caption(how_to_read)


def purchase_summary(result: state.PurchaseResult) -> None:
    """What was trained on which split, a Stop notice, warnings and the headline scores."""
    data, models = result.data, result.models
    last_day = data.cutoff + pd.Timedelta(days=data.horizon_days - 1)
    (reg_best, clf_best), (reg_run, clf_run) = models.best_epochs, models.epochs_run
    st.caption(
        f"Hidden layers {result.label} · horizon H = {data.horizon_days} days · scored on "
        f"{len(data.evaluation):,} users' orders from {data.cutoff:%Y-%m-%d} to "
        f"{last_day:%Y-%m-%d} · trained on {len(data.train):,} rows from {len(data.windows)} "
        f"earlier windows in {models.train_seconds:.1f} s · orders network: best epoch "
        f"{reg_best} of {reg_run}, buyer network: best epoch {clf_best} of {clf_run}."
    )
    if models.stopped:
        st.info(
            f"Training was stopped at epoch {result.epochs}; each network keeps its best epoch "
            f"so far (orders network: epoch {reg_best}, buyer network: epoch {clf_best})."
        )
    for warning in models.warnings:
        st.warning(warning)
    scores = result.evaluation.scores
    mlp, baselines = scores.loc[purchase.MLP], scores.drop(index=purchase.MLP)
    best_mse, aucs = baselines[m.MSE].idxmin(), baselines[m.ROC_AUC].dropna()
    cols = st.columns(4)
    cols[0].metric(
        "MSE · MLP",
        _number(mlp[m.MSE], 4),
        delta=f"{mlp[m.MSE] - baselines[m.MSE].min():+.4f}",
        delta_color="inverse",
        delta_description=f"vs {purchase.MODEL_LABELS[best_mse]}",
        help="Mean squared error of each user's predicted orders (orders²); lower is better. "
        "The delta compares with the best baseline.",
    )
    if not aucs.empty and math.isfinite(mlp[m.ROC_AUC]):
        cols[1].metric(
            "ROC-AUC · MLP",
            _number(mlp[m.ROC_AUC], 3),
            delta=f"{mlp[m.ROC_AUC] - aucs.max():+.3f}",
            delta_description=f"vs {purchase.MODEL_LABELS[aucs.idxmax()]}",
            help="How well the buy probability ranks buyers above non-buyers: 0.5 is a coin "
            "flip, 1 is perfect. The delta compares with the best baseline.",
        )
    cols[2].metric("Orders predicted · MLP", f"{mlp[m.TOTAL_PREDICTED]:,.0f}")
    cols[3].metric("Orders that happened", f"{mlp[m.TOTAL_ACTUAL]:,.0f}")


def _score_table(scores: pd.DataFrame, columns: dict[str, tuple[str, str]], key: str) -> None:
    table = scores[list(columns)].rename(
        index=purchase.MODEL_LABELS, columns={k: v[0] for k, v in columns.items()}
    )
    st.dataframe(
        table.rename_axis(MODEL_COLUMN).reset_index(),
        hide_index=True,
        column_config={
            label: st.column_config.NumberColumn(format=fmt) for label, fmt in columns.values()
        },
        key=key,
    )


def purchase_scoreboard(scores: pd.DataFrame) -> None:
    """Every model's scores as two tables (orders, buyers), and one metric as a bar chart."""
    st.markdown("**How many orders** · per-user errors, in orders")
    _score_table(scores, ORDER_SCORES, "purchase.scoreboard.orders")
    st.markdown("**Who buys** · at buy probability 0.5; the AUCs judge the ranking")
    _score_table(scores, BUYER_SCORES, "purchase.scoreboard.buyers")
    st.caption(
        "Every model is scored on the same users: features from before the cutoff, orders "
        "counted in the H days after it. MSE, RMSE and MAE are errors in orders per user (lower "
        "is better); accuracy, precision, recall and F1 judge “buys at least once” at "
        "probability 0.5; ROC-AUC and PR-AUC judge how well users are ranked (higher is better)."
    )
    metric = st.selectbox(
        "Compare the models on",
        [*ORDER_SCORES, *BUYER_SCORES],
        format_func=lambda k: charts.METRIC_LABELS[k],
        key=state.PURCHASE_METRIC,
    )
    _chart(
        charts.model_scores_bar(scores, metric),
        "One bar per model on the evaluation window; the MLP is highlighted. A model that "
        "does not beat the simple baselines is not worth deploying.",
        key="purchase.chart.scores",
    )


def training_curves(models: purchase.PurchaseModels) -> None:
    """Both networks' per-epoch curves with the kept epoch marked."""
    left, right = st.columns(2)
    with left:
        _chart(
            ml_charts.training_curves_line(
                models.regressor_curves, task="regression", best_epoch=models.best_epochs[0]
            ),
            "MSE is measured on training rows and on held-out validation users after every "
            "epoch. Training loss is what the optimiser minimises: half the squared error plus "
            "the L2 penalty. The dashed line marks the epoch whose weights were kept; a "
            "validation MSE rising while training MSE falls means overfitting.",
            key="purchase.chart.curves.regression",
            half=True,
        )
    with right:
        _chart(
            ml_charts.training_curves_line(
                models.classifier_curves,
                task="classification",
                best_epoch=models.best_epochs[1],
            ),
            "Log-loss punishes confident wrong probabilities; accuracy counts right yes/no "
            "calls at 0.5. The kept epoch (dashed) is the one with the lowest validation "
            "log-loss.",
            key="purchase.chart.curves.classification",
            half=True,
        )


def regression_charts(evaluation: PurchaseEvaluation) -> None:
    """Predicted vs actual orders and the errors by past order frequency."""
    _chart(
        charts.predicted_vs_actual_scatter(evaluation.users),
        "Each dot is a user; points on the dotted line were predicted exactly. Both axes are "
        "log(1 + orders), so users with no orders still show at 0; actual orders are whole "
        "numbers, spread sideways a little so the dots do not hide each other.",
        key="purchase.chart.scatter",
    )
    _chart(
        charts.residuals_by_frequency_bar(evaluation.users),
        "Top: the average of predicted − actual orders in each group (above 0: the model "
        "expects too many orders). Bottom: how much the error varies inside the group.",
        key="purchase.chart.residuals",
    )


def classification_charts(evaluation: PurchaseEvaluation) -> None:
    """Confusion matrix, ROC and PR curves, calibration, and gain/lift with its sentence."""
    users = evaluation.users
    left, right = st.columns(2)
    with left:
        _chart(
            charts.confusion_matrix_heatmap(
                users[purchase.ACTUAL_BUYER], users[charts.probability_column(purchase.MLP)]
            ),
            "Rows: what happened in the evaluation window; columns: the MLP's call at buy "
            "probability 0.5. The diagonal is right; top right are false alarms, bottom left "
            "are missed buyers.",
            key="purchase.chart.confusion",
            half=True,
        )
        _chart(
            charts.roc_curves_line(users),
            "Each curve sweeps the probability threshold from high to low: further up-left is "
            "better; the diagonal is guessing. AUC is the chance a random buyer gets a higher "
            "probability than a random non-buyer.",
            key="purchase.chart.roc",
            half=True,
        )
    with right:
        _chart(
            charts.calibration_line(users),
            "Users are split into ten equal groups by predicted probability; a point on the "
            "diagonal means the group bought as often as predicted. Below the line: "
            "probabilities too high.",
            key="purchase.chart.calibration",
            half=True,
        )
        _chart(
            charts.pr_curves_line(users),
            "Precision is the share of flagged users who bought; recall is the share of buyers "
            "flagged. Higher is better; the dotted line is what random flagging achieves.",
            key="purchase.chart.pr",
            half=True,
        )
    _chart(
        charts.cumulative_gain_line(users),
        charts.describe_gain(
            users[purchase.ACTUAL_BUYER], users[charts.probability_column(purchase.MLP)]
        )
        + " Left: share of buyers reached when contacting the top x% of users; right: how "
        "many times better than contacting users at random.",
        key="purchase.chart.gain",
    )


def importance_chart(evaluation: PurchaseEvaluation) -> None:
    """Permutation importance of the orders network's inputs."""
    _chart(
        charts.permutation_importance_bar(evaluation.importance),
        "Each input is shuffled across users (5 times) and the rise in the orders network's "
        "MSE is the bar; whiskers show the spread. Inputs that carry the same information "
        "share the credit, so each can look small.",
        key="purchase.chart.importance",
    )


USER_ROWS_SHOWN = 1000


@st.fragment
def user_table(evaluation: PurchaseEvaluation, data: PurchaseData) -> None:
    """Every evaluation user's features, predictions and actual orders, searchable by user
    id, with a CSV download of the matching rows (reruns only this part on search)."""
    users = evaluation.users
    first = [
        purchase.ACTUAL_ORDERS,
        charts.orders_column(purchase.MLP),
        purchase.ACTUAL_BUYER,
        charts.probability_column(purchase.MLP),
    ]
    users = users[[*first, *(c for c in users.columns if c not in first)]]
    users = users.sort_values(charts.orders_column(purchase.MLP), ascending=False)
    query = st.text_input(
        "Search user id",
        key=state.PURCHASE_USER_SEARCH,
        placeholder="part of a user id",
    )
    if query:
        users = users[users.index.astype("str").str.contains(query, case=False, regex=False)]
    if users.empty:
        st.write(f"No user id contains “{query}”.")
        return
    shown = users.head(USER_ROWS_SHOWN).reset_index()
    st.dataframe(shown, hide_index=True, key="purchase.users")
    more = f"the first {USER_ROWS_SHOWN:,} of " if len(users) > USER_ROWS_SHOWN else ""
    st.caption(
        f"Showing {more}{len(users):,} users, most predicted orders first. Features describe "
        f"each user before the cutoff ({data.cutoff:%Y-%m-%d}); actual_orders counts their "
        f"orders in the {data.horizon_days} days after it; `<model>_orders` and "
        "`<model>_probability` are each model's predictions."
    )
    st.download_button(
        "Download these users (CSV)",
        lambda: to_safe_csv(users.reset_index()),
        file_name=f"purchase_evaluation_{data.cutoff:%Y%m%d}_{data.horizon_days}d.csv",
        mime="text/csv",
        key="purchase.users_download",
        on_click="ignore",
    )


def next_orders_table(next_orders: pd.DataFrame, data: PurchaseData) -> None:
    """Deployment: the MLP's expected orders and buy probability after the data ends."""
    start, days = data.data_end, data.horizon_days
    last_day = start + pd.Timedelta(days=days - 1)
    cols = st.columns(3)
    cols[0].metric("Users", f"{len(next_orders):,}")
    cols[1].metric("Expected orders", f"{next_orders[purchase.PREDICTED].sum():,.0f}")
    cols[2].metric("Expected buyers", f"{next_orders[purchase.PROBABILITY].sum():,.0f}")
    st.dataframe(
        next_orders.head(USER_ROWS_SHOWN).reset_index(),
        hide_index=True,
        column_config={
            purchase.PREDICTED: st.column_config.NumberColumn(format="%.2f"),
            purchase.PROBABILITY: st.column_config.NumberColumn(format="%.3f"),
            purchase.BGNBD_EXPECTED: st.column_config.NumberColumn(format="%.2f"),
            features.SINCE_ORDER: st.column_config.NumberColumn(format="%.1f"),
        },
        key="purchase.next_orders",
    )
    st.caption(
        f"Predictions for {start:%Y-%m-%d} to {last_day:%Y-%m-%d}, the {days} days after the "
        f"data ends, from every user's history up to then; most expected orders first "
        f"(showing up to {USER_ROWS_SHOWN:,}; the download has all). Expected buyers is the "
        f"sum of the buy probabilities; `{features.ORDERS}` and `{features.SINCE_ORDER}` "
        "describe the user's past."
    )
    st.download_button(
        f"Download predictions for the next {days} days (CSV)",
        lambda: to_safe_csv(next_orders.reset_index()),
        file_name=f"next_{days}_days_orders_from_{start:%Y%m%d}.csv",
        mime="text/csv",
        key="purchase.next_download",
        on_click="ignore",
    )


def training_history(runs: pd.DataFrame) -> None:
    """Every purchase run saved on this data, as a table and a comparison chart."""
    if runs.empty:
        st.caption("No saved runs on this data yet.")
        return
    st.dataframe(
        runs,
        hide_index=True,
        column_order=[
            "name",
            "created",
            "hidden_layers",
            "seed",
            m.MSE,
            "baseline_mse",
            m.ACCURACY,
            "baseline_accuracy",
            "train_seconds",
            "tags",
        ],  # fmt: skip
        column_config={
            "created": st.column_config.DatetimeColumn("created (UTC)", format="YYYY-MM-DD HH:mm"),
            "hidden_layers": "hidden layers",
            m.MSE: st.column_config.NumberColumn("MSE", format="%.4f"),
            m.ACCURACY: st.column_config.NumberColumn("accuracy", format="%.3f"),
            "baseline_mse": st.column_config.NumberColumn("best baseline MSE", format="%.4f"),
            "baseline_accuracy": st.column_config.NumberColumn(
                "best baseline accuracy", format="%.3f"
            ),
            "train_seconds": st.column_config.NumberColumn("training (s)", format="%.1f"),
        },
        key="purchase.history_table",
    )
    _chart(
        charts.hidden_layers_comparison(runs.rename(columns={"name": "label"})),
        "One dot per saved run on this data, oldest first; the open diamond is the best baseline "
        "on the same time split. Compare configurations only when H and the cutoff match; the "
        "Runs page compares them in more detail.",
        key="purchase.chart.history",
    )
