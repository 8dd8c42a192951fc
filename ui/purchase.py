"""Widgets of the Purchase prediction page: the settings form, the time split, training in
the background trainer, and the results."""

from __future__ import annotations

import math
import typing
from pathlib import Path

import pandas as pd
import streamlit as st

from core import schema, services
from core.data.exports import to_safe_csv
from core.data.loading import ShopData
from core.errors import CutoffError
from core.ml import charts as ml_charts
from core.ml import metrics as m
from core.ml.network import (
    Activation,
    NetworkConfig,
    Solver,
    TrainingProgress,
)
from core.params import MAX_USERS
from core.purchase import (
    ACTUAL_BUYER,
    ACTUAL_ORDERS,
    BGNBD_EXPECTED,
    BGNBD_ORDERS,
    BGNBD_SCALE,
    MODEL_LABELS,
    MODEL_NAMES,
    PREDICTED,
    PROBABILITY,
    PurchaseData,
    PurchaseEvaluation,
    PurchaseModels,
    charts,
    describe_bgnbd,
    features,
    input_help,
    input_label,
)
from core.services import PurchaseResult, PurchaseSettings
from ui import cache, state, trainer, untrusted, widgets

PAGE = "purchase"
# Interactive training draws this many users at most (the command line uses every user).
PAGE_MAX_USERS = 100_000
DEFAULT = PurchaseSettings(max_users=PAGE_MAX_USERS)
LIMITS = {**NetworkConfig.CONSTRAINTS, **PurchaseSettings.CONSTRAINTS}
BATCH_SIZES = (32, 64, 128, 256, 512, 1024, 2048)
VALIDATION_FRACTIONS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def hidden_layer_editor() -> tuple[int, ...] | None:
    """The hidden layers of both networks."""
    return widgets.hidden_layer_editor(
        state.PURCHASE_LAYER_EDITOR,
        default=DEFAULT.network.hidden_layers,
        inputs="User features",
        outputs="output. The same hidden layers are used by the orders network (how many "
        "orders) and the buyer network (buys at all or not).",
    )


# --- settings form --------------------------------------------------------------------------


Request = widgets.TrainingRequest[PurchaseSettings]


# The network settings of the form and their widgets' keys: the form is filled from settings
# and read back into settings through this one map.
NETWORK_KEYS = {
    "activation": state.PURCHASE_ACTIVATION,
    "solver": state.PURCHASE_SOLVER,
    "alpha": state.PURCHASE_ALPHA,
    "learning_rate": state.PURCHASE_LEARNING_RATE,
    "batch_size": state.PURCHASE_BATCH_SIZE,
    "epochs": state.PURCHASE_EPOCHS,
    "early_stopping": state.PURCHASE_EARLY_STOPPING,
    "validation_fraction": state.PURCHASE_VALIDATION_FRACTION,
    "patience": state.PURCHASE_PATIENCE,
    "random_state": state.PURCHASE_SEED,
}


def form_values(settings: PurchaseSettings) -> dict[str, object]:
    """The form's widget values for these settings (keys of ``ui.state``)."""
    values: dict[str, object] = {
        key: getattr(settings.network, name) for name, key in NETWORK_KEYS.items()
    }
    values[state.PURCHASE_HORIZON] = settings.horizon_days
    values[state.PURCHASE_CUTOFF] = None if settings.cutoff is None else settings.cutoff.date()
    # Every user: the largest number the input takes.
    values[state.PURCHASE_MAX_USERS] = settings.max_users or MAX_USERS.high
    return values


def settings_form(shop: ShopData) -> tuple[trainer.TrainingJob | None, Request]:
    """The hidden layers, the time split and the training form, and the training this session
    follows on the page (one re-attached after a refresh first shows its settings in the form)."""
    job = trainer.current(PAGE, on_reattach=show_settings)
    st.subheader("Network")
    with st.container(border=True):
        layers = hidden_layer_editor()
    widgets.seed_widgets(form_values(DEFAULT))
    problem = split_form(shop)
    users = cache.shop_profile(shop.fingerprint, shop).users
    return job, training_form(layers, problem, users, running=job is not None and job.running)


def _dataset(shop: ShopData) -> Path | None:
    """The folder of the server dataset on screen (None for other data)."""
    on_disk = state.dataset_folder(shop)
    return None if on_disk is None else on_disk[0]


def _split() -> PurchaseSettings:
    """The time split and users on screen, with the default network (the tables do not depend
    on it)."""
    session = st.session_state
    cutoff = session[state.PURCHASE_CUTOFF]
    return PurchaseSettings(
        NetworkConfig(random_state=session[state.PURCHASE_SEED]),
        session[state.PURCHASE_HORIZON],
        pd.Timestamp(cutoff) if cutoff is not None else None,
        session[state.PURCHASE_MAX_USERS],
    )


def users_caption(users: int, max_users: int) -> str:
    """What "Users to train on" does to the loaded data, in one sentence."""
    if users > max_users:
        return f"The loaded data has {users:,} users: training draws a random {max_users:,}."
    return f"All {users:,} users are used."


def split_form(shop: ShopData) -> str | None:
    """Horizon and cutoff, checked as they change; returns why Train cannot run with them (the
    one-line reason, also shown under them), or None."""
    with st.container(border=True):
        st.markdown("**Time split**")
        widgets.time_split(
            shop,
            keys=(state.PURCHASE_HORIZON, state.PURCHASE_CUTOFF),
            horizon_help="Predict the orders in the H days after a date.",
            cutoff_help="The models are scored on the H days from this date and trained only "
            "on windows that end by it.",
        )
        try:
            cache.purchase_data(shop.fingerprint, shop, _split(), _dataset(shop))
        except CutoffError as err:
            st.error(untrusted.error_text(err))
            return untrusted.error_text(err)  # the tooltip of Train is Markdown too
    return None


def training_form(
    layers: tuple[int, ...] | None, problem: str | None, users: int, *, running: bool
) -> Request:
    """The training settings in one form with a Train button; defaults are the settings' own.

    Args:
        layers: the hidden layers (None while the typed widths are not valid).
        problem: why the time split on screen cannot be trained on (Train is then disabled).
        users: the users in the loaded data.
        running: a training of this page is under way, so Train is disabled until it ends.
    """
    session = st.session_state
    with st.form(state.PURCHASE_FORM):
        st.markdown("**Training**")
        cols = st.columns(4)
        cols[0].selectbox("Activation", typing.get_args(Activation), key=state.PURCHASE_ACTIVATION)
        cols[1].selectbox("Solver", typing.get_args(Solver), key=state.PURCHASE_SOLVER)
        widgets.alpha_slider(cols[2], key=state.PURCHASE_ALPHA)
        widgets.learning_rate_slider(cols[3], key=state.PURCHASE_LEARNING_RATE)
        cols = st.columns(4)
        cols[0].select_slider(
            "Batch size",
            widgets.with_default(BATCH_SIZES, session[state.PURCHASE_BATCH_SIZE]),
            key=state.PURCHASE_BATCH_SIZE,
        )
        widgets.whole_input(
            cols[1], "Epochs (at most)", LIMITS["epochs"], key=state.PURCHASE_EPOCHS
        )
        widgets.whole_input(
            cols[2], "Patience (epochs)", LIMITS["patience"], key=state.PURCHASE_PATIENCE
        )
        widgets.whole_input(cols[3], "Random seed", LIMITS["random_state"], key=state.PURCHASE_SEED)
        left, right = st.columns(2)
        left.checkbox(
            "Early stopping",
            key=state.PURCHASE_EARLY_STOPPING,
            help="Stop when the validation score has not improved for 'patience' epochs. "
            "The best epoch on the validation users is kept either way.",
        )
        right.select_slider(
            "Validation share",
            widgets.with_default(VALIDATION_FRACTIONS, session[state.PURCHASE_VALIDATION_FRACTION]),
            format_func="{:.0%}".format,
            key=state.PURCHASE_VALIDATION_FRACTION,
            help="Share of users held out of training for the validation curves.",
        )
        column = st.columns(2)[0]
        widgets.whole_input(
            column,
            MAX_USERS.label,
            MAX_USERS,
            key=state.PURCHASE_MAX_USERS,
            help="With more users in the data, this many are drawn at random (the same seed "
            "draws the same users) and every model, the baselines too, is trained and scored "
            "on them only. Fewer users train faster; the command line uses every user.",
        )
        column.caption(users_caption(users, session[state.PURCHASE_MAX_USERS]))
        disabled = layers is None or running or problem is not None
        why = widgets.train_help(running=running, problem=problem)
        submitted = st.form_submit_button(
            "Train",
            type="primary",
            disabled=disabled,
            key=state.PURCHASE_TRAIN,
            help=why,
        )
    submitted = widgets.pressed_elsewhere(
        state.PURCHASE_TRAIN_PRESSED, submitted, disabled=disabled, why=why
    )
    if layers is None or problem is not None:
        return Request(submitted, None, running)
    network = NetworkConfig(layers, **{name: session[key] for name, key in NETWORK_KEYS.items()})
    split = _split()
    settings = PurchaseSettings(network, split.horizon_days, split.cutoff, split.max_users)
    return Request(submitted, settings, running)


def press_train() -> None:
    """Press Train from elsewhere (the command box, after its confirmation): the form trains
    on its next draw with the settings it shows, or says why Train is disabled."""
    st.session_state[state.PURCHASE_TRAIN_PRESSED] = True


def show_settings(settings: PurchaseSettings) -> None:
    """Show these settings in the form and the layer editor (an opened run's, or those of a
    training re-attached after a refresh), ready to tune from there."""
    widgets.show_in_form(
        form_values(settings), state.PURCHASE_LAYER_EDITOR, settings.network.hidden_layers
    )


def time_split(shop: ShopData) -> PurchaseData | None:
    """The feature tables of the time split on screen and its timeline; ``None`` when the
    cutoff leaves no room for training or evaluation (``split_form`` says why)."""
    summary = cache.shop_profile(shop.fingerprint, shop)
    try:
        data = cache.purchase_data(shop.fingerprint, shop, _split(), _dataset(shop))
    except CutoffError:
        return None
    with st.expander("Time split", expanded=result() is None):
        timeline = charts.purchase_timeline(
            data.windows,
            data_start=summary.start,
            data_end=data.data_end,
            cutoff=data.cutoff,
            horizon_days=data.horizon_days,
        )
        st.plotly_chart(timeline, key="purchase.chart.timeline")
        st.caption(
            f"The data runs from {summary.start:%Y-%m-%d} to {summary.end:%Y-%m-%d}. Each "
            "training window learns from features before its start and the orders inside it; "
            "none reaches past the cutoff, so the evaluation window stays unseen. "
            f"{len(data.feature_names)} features per user, {len(data.train):,} training rows"
            + (
                f", from a random {data.user_sample.drawn:,} of the "
                f"{data.user_sample.total:,} users."
                if data.user_sample.sampled
                else "."
            )
        )
        note = cache.dataset_features(shop, _split(), _dataset(shop)).note
        if note:
            st.caption(untrusted.plain_md(note))
    return data


def has_purchases(shop: ShopData) -> bool:
    """Whether the data has any purchase to learn from."""
    summary = cache.shop_profile(shop.fingerprint, shop)
    return bool(summary.event_mix.get(schema.PURCHASE, 0))


# --- training in the background ---------------------------------------------------------------


def result() -> PurchaseResult | None:
    """The last finished (or reopened) training on the current dataset."""
    return st.session_state.get(state.PURCHASE_RESULT)


def set_result(opened: PurchaseResult) -> None:
    """Make ``opened`` (e.g. a reopened run) the page's current result."""
    st.session_state[state.PURCHASE_RESULT] = opened


def train(
    shop: ShopData,
    request: Request,
    data: PurchaseData | None,
    job: trainer.TrainingJob | None,
) -> None:
    """Start a training when Train was pressed, follow the one under way (progress, live
    curves, Stop), and keep its result once it has ended."""
    settings, start = request.settings, None
    if request.submitted and settings is not None and data is not None:
        store = state.run_store()
        start = (
            settings.network,
            settings,
            lambda job: services.train_purchase(
                shop, settings, store, data=data, on_progress=job.report
            ),
        )
    finished = trainer.train_on_page(
        PAGE,
        train=start,
        job=job,
        drawn_running=request.running,
        stop_key=state.PURCHASE_STOP,
        epoch_text=_epoch_text,
        stop_help="End training now and keep each network's best epoch so far.",
    )
    if finished is not None:
        set_result(finished)
        state.show_saved_run(finished.run_id, finished.save_problem)


def _epoch_text(progress: TrainingProgress) -> str:
    return f"Epoch {progress.epoch} of at most {progress.epochs}"


# --- purchase prediction: results ----------------------------------------------------------

MODEL_COLUMN = "model"


def _number(value: float, digits: int) -> str:
    return f"{value:.{digits}f}" if math.isfinite(value) else "n/a"


def summary(result: PurchaseResult) -> None:
    """What was trained on which split, a Stop notice, warnings and the headline scores."""
    data, models = result.data, result.models
    last_day = data.cutoff + pd.Timedelta(days=data.horizon_days - 1)
    (reg_best, clf_best), (reg_run, clf_run) = models.best_epochs, models.epochs_run
    st.caption(
        f"Hidden layers {untrusted.plain_md(result.label)} · horizon H = {data.horizon_days} "
        "days · scored on "
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
    for warning in result.warnings:  # an imported run's manifest says what they are
        st.warning(untrusted.plain_md(warning))
    bgnbd = describe_bgnbd(data)
    if bgnbd:
        st.caption(bgnbd)  # the app's own sentence: numbers, no names from data
    scores = result.evaluation.scores
    mlp, baselines = scores.loc[m.MLP], scores.drop(index=m.MLP)
    best_mse, aucs = baselines[m.MSE].idxmin(), baselines[m.ROC_AUC].dropna()
    tiles = widgets.row()
    tiles.metric(
        "MSE · MLP",
        _number(mlp[m.MSE], 4),
        delta=f"{mlp[m.MSE] - baselines[m.MSE].min():+.4f}",
        delta_color="inverse",
        delta_description=f"vs {MODEL_LABELS[best_mse]}",
        help=m.METRICS[m.MSE].help + " The delta compares with the best baseline.",
        width=widgets.TILE_WIDTH,
    )
    if not aucs.empty and math.isfinite(mlp[m.ROC_AUC]):
        tiles.metric(
            "ROC-AUC · MLP",
            _number(mlp[m.ROC_AUC], 3),
            delta=f"{mlp[m.ROC_AUC] - aucs.max():+.3f}",
            delta_description=f"vs {MODEL_LABELS[aucs.idxmax()]}",
            help=m.METRICS[m.ROC_AUC].help + " The delta compares with the best baseline.",
            width=widgets.TILE_WIDTH,
        )
    tiles.metric(
        "Orders predicted · MLP", f"{mlp[m.TOTAL_PREDICTED]:,.0f}", width=widgets.TILE_WIDTH
    )
    tiles.metric("Orders that happened", f"{mlp[m.TOTAL_ACTUAL]:,.0f}", width=widgets.TILE_WIDTH)


def _score_table(scores: pd.DataFrame, columns: tuple[str, ...], key: str) -> None:
    metrics = [m.METRICS[c] for c in columns]
    table = scores[list(columns)].rename(
        index=MODEL_LABELS, columns={metric.key: metric.name for metric in metrics}
    )
    widgets.table(
        table.rename_axis(MODEL_COLUMN).reset_index(),
        hide_index=True,
        column_config={
            metric.name: st.column_config.NumberColumn(
                format=f"%.{metric.decimals}f", help=metric.help
            )
            for metric in metrics
        },
        key=key,
    )


def scoreboard(scores: pd.DataFrame) -> None:
    """Every model's scores as two tables (orders, buyers), and one metric as a bar chart."""
    st.markdown("**How many orders** · per-user errors, in orders")
    _score_table(scores, m.ORDER_SCORES, "purchase.scoreboard.orders")
    st.markdown("**Who buys** · at buy probability 0.5; the AUCs judge the ranking")
    _score_table(scores, m.BUYER_SCORES, "purchase.scoreboard.buyers")
    st.caption(
        "Every model is scored on the same users: features from before the cutoff, orders "
        "counted in the H days after it. MSE, RMSE and MAE are errors in orders per user (lower "
        "is better); accuracy, precision, recall and F1 judge “buys at least once” at "
        "probability 0.5; ROC-AUC and PR-AUC judge how well users are ranked (higher is better)."
    )
    metric = st.selectbox(
        "Compare the models on",
        [*m.ORDER_SCORES, *m.BUYER_SCORES],
        format_func=lambda k: m.METRICS[k].label,
        key=state.PURCHASE_METRIC,
    )
    widgets.chart(
        charts.model_scores_bar(scores, metric),
        "One bar per model on the evaluation window; the MLP is highlighted. A model that "
        "does not beat the simple baselines is not worth deploying.",
        key="purchase.chart.scores",
    )


def training_curves(models: PurchaseModels) -> None:
    """Both networks' per-epoch curves with the kept epoch marked."""
    left, right = st.columns(2)
    with left:
        widgets.chart(
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
        widgets.chart(
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
    widgets.chart(
        charts.predicted_vs_actual_scatter(evaluation.users),
        "Each dot is a user; points on the dotted line were predicted exactly. Both axes are "
        "log(1 + orders), so users with no orders still show at 0; actual orders are whole "
        "numbers, spread sideways a little so the dots do not hide each other.",
        key="purchase.chart.scatter",
    )
    widgets.chart(
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
        widgets.chart(
            charts.confusion_matrix_heatmap(
                users[ACTUAL_BUYER], users[charts.probability_column(m.MLP)]
            ),
            "Rows: what happened in the evaluation window; columns: the MLP's call at buy "
            "probability 0.5. The diagonal is right; top right are false alarms, bottom left "
            "are missed buyers.",
            key="purchase.chart.confusion",
            half=True,
        )
        widgets.chart(
            charts.roc_curves_line(users),
            "Each curve sweeps the probability threshold from high to low: further up-left is "
            "better; the diagonal is guessing. AUC is the chance a random buyer gets a higher "
            "probability than a random non-buyer.",
            key="purchase.chart.roc",
            half=True,
        )
    with right:
        widgets.chart(
            charts.calibration_line(users),
            "Users are split into ten equal groups by predicted probability; a point on the "
            "diagonal means the group bought as often as predicted. Below the line: "
            "probabilities too high.",
            key="purchase.chart.calibration",
            half=True,
        )
        widgets.chart(
            charts.pr_curves_line(users),
            "Precision is the share of flagged users who bought; recall is the share of buyers "
            "flagged. Higher is better; the dotted line is what random flagging achieves.",
            key="purchase.chart.pr",
            half=True,
        )
    widgets.chart(
        charts.cumulative_gain_line(users),
        charts.describe_gain(users[ACTUAL_BUYER], users[charts.probability_column(m.MLP)])
        + " Left: share of buyers reached when contacting the top x% of users; right: how "
        "many times better than contacting users at random.",
        key="purchase.chart.gain",
    )


def importance_chart(evaluation: PurchaseEvaluation) -> None:
    """Permutation importance of the orders network's inputs, and the inputs the data
    cannot have."""
    widgets.chart(
        charts.permutation_importance_bar(evaluation.importance),
        "Each input is shuffled across users (5 times) and the rise in the orders network's "
        "MSE is the bar; whiskers show the spread; hover a bar for what the input is. Inputs "
        "that carry the same information share the credit, so each can look small.",
        key="purchase.chart.importance",
    )
    if evaluation.left_out:
        names = ", ".join(input_label(name).lower() for name in evaluation.left_out)
        st.caption(
            f"Left out because the data has no such events (they would be the same for every "
            f"user): {names}."
        )


USER_ROWS_SHOWN = 1000
PROBABILITY_HELP = "probability of buying at least once in the H days (0–1, higher = more likely)"


def input_columns(names: tuple[str, ...]) -> dict[str, typing.Any]:
    """Each model input's column under its plain label, its explanation as the hover."""
    return {
        name: st.column_config.NumberColumn(input_label(name), help=input_help(name), format="%.4g")
        for name in names
    }


# Each model's predictions and what happened, in the per-user table.
PREDICTION_COLUMNS = {
    ACTUAL_ORDERS: st.column_config.NumberColumn(
        "orders that happened",
        format="%d",
        help="The user's orders in the H days after the cutoff.",
    ),
    ACTUAL_BUYER: st.column_config.NumberColumn(
        "bought (1) or not (0)", format="%d", help="1 when the user ordered in the H days."
    ),
    **{
        charts.orders_column(name): st.column_config.NumberColumn(
            f"{MODEL_LABELS[name]}: orders",
            format="%.2f",
            help=f"{MODEL_LABELS[name]}: expected orders in the H days (0 or more).",
        )
        for name in MODEL_NAMES
    },
    **{
        charts.probability_column(name): st.column_config.NumberColumn(
            f"{MODEL_LABELS[name]}: probability of buying (0–1)",
            format="%.3f",
            help=f"{MODEL_LABELS[name]}: {PROBABILITY_HELP}.",
        )
        for name in MODEL_NAMES
    },
}
# BG/NBD's columns in the per-user tables: its own unit, the scale and the orders it is scored on.
BGNBD_COLUMNS = {
    BGNBD_EXPECTED: st.column_config.NumberColumn(
        "BG/NBD purchase days",
        format="%.2f",
        help="BG/NBD's expected purchase days in the H days (several orders on one day count "
        "once); also an input of the MLP, which learns the rest.",
    ),
    BGNBD_SCALE: st.column_config.NumberColumn(
        "orders per purchase day",
        format="%.2f",
        help="The user's own orders per purchase day before the date when they bought on at "
        "least 3 days, else the ratio over every customer.",
    ),
    BGNBD_ORDERS: st.column_config.NumberColumn(
        "BG/NBD orders",
        format="%.2f",
        help="BG/NBD's purchase days × orders per purchase day: what it is scored on.",
    ),
}


@st.fragment
def user_table(evaluation: PurchaseEvaluation, data: PurchaseData) -> None:
    """Every evaluation user's features, predictions and actual orders, searchable by user
    id, with a CSV download of the matching rows (reruns only this part on search)."""
    users = evaluation.users
    first = [
        ACTUAL_ORDERS,
        charts.orders_column(m.MLP),
        ACTUAL_BUYER,
        charts.probability_column(m.MLP),
    ]
    users = users[[*first, *(c for c in users.columns if c not in first)]]
    users = users.sort_values(charts.orders_column(m.MLP), ascending=False)
    query = st.text_input(
        "Search user id",
        key=state.PURCHASE_USER_SEARCH,
        placeholder="part of a user id",
    )
    if query:
        users = users[users.index.astype("str").str.contains(query, case=False, regex=False)]
    if users.empty:
        st.write(f"No user id contains “{untrusted.plain_md(query)}”.")
        return
    shown = users.head(USER_ROWS_SHOWN).reset_index()
    widgets.table(
        shown,
        hide_index=True,
        column_config={
            schema.USER_ID: st.column_config.TextColumn("user id"),
            **input_columns(data.feature_names),
            **PREDICTION_COLUMNS,
            **BGNBD_COLUMNS,
        },
        key="purchase.users",
    )
    more = f"the first {USER_ROWS_SHOWN:,} of " if len(users) > USER_ROWS_SHOWN else ""
    st.caption(
        f"Showing {more}{len(users):,} users, most predicted orders first; hover a column "
        f"header for what it holds. Inputs describe each user before the cutoff "
        f"({data.cutoff:%Y-%m-%d}); “orders that happened” counts their orders in the "
        f"{data.horizon_days} days after it, beside each model's expected orders and "
        "probability of buying; BG/NBD's orders are its purchase days × orders per purchase day."
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
    widgets.tiles(
        {
            "Users": f"{len(next_orders):,}",
            "Expected orders": f"{next_orders[PREDICTED].sum():,.0f}",
            "Expected buyers": f"{next_orders[PROBABILITY].sum():,.0f}",
        }
    )
    widgets.table(
        next_orders.head(USER_ROWS_SHOWN).reset_index(),
        hide_index=True,
        column_config={
            schema.USER_ID: st.column_config.TextColumn("user id"),
            PREDICTED: st.column_config.NumberColumn(
                "expected orders",
                format="%.2f",
                help="The MLP's expected orders in the H days after the data (0 or more).",
            ),
            PROBABILITY: st.column_config.NumberColumn(
                "probability of buying (0–1)", format="%.3f", help=f"The MLP's {PROBABILITY_HELP}."
            ),
            **BGNBD_COLUMNS,
            **input_columns((features.ORDERS, features.SINCE_ORDER)),
        },
        key="purchase.next_orders",
    )
    st.caption(
        f"Predictions for {start:%Y-%m-%d} to {last_day:%Y-%m-%d}, the {days} days after the "
        f"data ends, from every user's history up to then; most expected orders first "
        f"(showing up to {USER_ROWS_SHOWN:,}; the download has all). Expected buyers is the "
        f"sum of the buy probabilities; {input_label(features.ORDERS).lower()} and "
        f"{input_label(features.SINCE_ORDER).lower()} describe the user's past; BG/NBD's "
        "expectation is shown in purchase days and in orders."
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
    widgets.table(
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
            m.MSE: st.column_config.NumberColumn("MSE", format="%.4f", help=m.METRICS[m.MSE].help),
            m.ACCURACY: st.column_config.NumberColumn(
                "accuracy", format="%.3f", help=m.METRICS[m.ACCURACY].help
            ),
            "baseline_mse": st.column_config.NumberColumn(
                "best baseline MSE",
                format="%.4f",
                help=f"The best baseline's on the same split. {m.METRICS[m.MSE].help}",
            ),
            "baseline_accuracy": st.column_config.NumberColumn(
                "best baseline accuracy",
                format="%.3f",
                help=f"The best baseline's on the same split. {m.METRICS[m.ACCURACY].help}",
            ),
            "train_seconds": st.column_config.NumberColumn("training (s)", format="%.1f"),
        },
        key="purchase.history_table",
    )
    widgets.chart(
        charts.hidden_layers_comparison(runs.rename(columns={"name": "label"})),
        "One dot per saved run on this data, oldest first; the open diamond is the best baseline "
        "on the same time split. Compare configurations only when H and the cutoff match; the "
        "Runs page compares them in more detail.",
        key="purchase.chart.history",
    )
