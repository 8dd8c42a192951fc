"""Figures of purchase prediction: curves, scores, errors, ROC, PR, calibration, gain."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from core import purchase as pp
from core.ml import metrics as m
from core.plotting import (
    MLP_COLOUR,
    OTHER_COLOUR,
    PRIMARY_COLOUR,
    add_date_marks,
    bar_chart_height,
    baseline_points,
    reference_line,
    score_bars,
    tidy,
    unique_labels,
    wrap_label,
)
from core.purchase import features

# --- purchase prediction -----------------------------------------------------------------

MODEL_COLOURS = {
    m.MLP: MLP_COLOUR,
    pp.BGNBD_NAME: PRIMARY_COLOUR,
    pp.PAST_RATE: "#72b7b2",
    pp.LINEAR: "#54a24b",
    pp.MEAN: "#9d755d",
    pp.ZERO: "#bab0ac",
}
SHORT_LABELS = {
    m.MLP: "MLP",
    pp.BGNBD_NAME: "BG/NBD",
    pp.PAST_RATE: "past-rate baseline",
    pp.LINEAR: "linear baseline",
    pp.MEAN: "mean baseline",
    pp.ZERO: "zero baseline",
}
# Models whose scores rank users; the mean and zero baselines give everyone the same score.
RANKING_MODELS = (m.MLP, pp.BGNBD_NAME, pp.PAST_RATE, pp.LINEAR)

METRIC_LABELS = {
    m.MSE: "MSE (orders²)",
    m.RMSE: "RMSE (orders)",
    m.MAE: "MAE (orders)",
    m.R2: "R²",
    m.TOTAL_PREDICTED: "predicted orders (total)",
    m.TOTAL_ACTUAL: "actual orders (total)",
    m.ACCURACY: "accuracy",
    m.PRECISION: "precision",
    m.RECALL: "recall",
    m.F1: "F1",
    m.ROC_AUC: "ROC-AUC",
    m.PR_AUC: "PR-AUC",
    m.LOG_LOSS: "log-loss",
}
LOWER_IS_BETTER = frozenset({m.MSE, m.RMSE, m.MAE, m.LOG_LOSS})

# Feature names are read in a wide chart: wrap only those longer than any built-in one.
IMPORTANCE_LABEL_WIDTH = 24

FREQUENCY_BUCKETS = (("0", 0, 0), ("1", 1, 1), ("2–3", 2, 3), ("4–7", 4, 7), ("8+", 8, np.inf))


def orders_column(model: str) -> str:
    """The column of a model's predicted orders in ``PurchaseEvaluation.users``."""
    return f"{model}_orders"


def probability_column(model: str) -> str:
    """The column of a model's buy probability in ``PurchaseEvaluation.users``."""
    return f"{model}_probability"


def model_scores_bar(scores: pd.DataFrame, metric: str) -> go.Figure:
    """One metric for every model as horizontal bars, the MLP highlighted.

    Args:
        scores: ``PurchaseEvaluation.scores`` (one row per model name).
        metric: a column of ``scores``, e.g. ``"mse"``.
    """
    values = scores[metric].to_numpy(dtype=float)
    label = METRIC_LABELS.get(metric, metric)
    better = "lower" if metric in LOWER_IS_BETTER else "higher"
    return score_bars(
        [pp.MODEL_LABELS.get(str(n), str(n)) for n in scores.index],
        values,
        highlighted=[n == m.MLP for n in scores.index],
        text=[_short_number(v) for v in values],
        title=f"{label} by model ({better} is better)",
        axis_title=label,
    )


def _short_number(value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3f}"


def confusion_matrix_heatmap(
    actual: np.ndarray, probability: np.ndarray, *, threshold: float = 0.5, model: str = m.MLP
) -> go.Figure:
    """Counts of users by actual and predicted buying, predicted = probability >= threshold."""
    actual = np.asarray(actual, dtype=int)
    predicted = (np.asarray(probability, dtype=float) >= threshold).astype(int)
    counts = confusion_matrix(actual, predicted, labels=[0, 1])
    share = counts / max(counts.sum(), 1)
    text = [
        [f"{c:,}<br>({s:.1%} of users)" for c, s in zip(row, srow, strict=True)]
        for row, srow in zip(counts, share, strict=True)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=counts,
            x=["predicted: won't buy", "predicted: will buy"],
            y=["actually didn't buy", "actually bought"],
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            showscale=False,
            hovertemplate="%{y}, %{x}: %{z:,} users<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"Who the {SHORT_LABELS.get(model, model)} predicted to buy (probability ≥ "
        f"{threshold:g})",
        xaxis_title="prediction",
        yaxis={"title": "what happened", "autorange": "reversed"},
    )
    return tidy(fig, height=340)


def _model_line(name: str) -> dict[str, object]:
    return {"color": MODEL_COLOURS.get(name, OTHER_COLOUR), "width": 3 if name == m.MLP else 1.5}


def _model_curve(
    model: str, x: Any, y: Any, *, label: str | None = None, **more: Any
) -> go.Scatter:
    """A model's curve in its colour (the MLP's thicker), named by its label unless ``label``
    is given; ``more`` goes to the trace (``mode`` defaults to lines)."""
    more.setdefault("mode", "lines")
    name = label or pp.MODEL_LABELS.get(model, model)
    return go.Scatter(x=x, y=y, name=name, line=_model_line(model), **more)


def _curves_by_model(
    users: pd.DataFrame,
    models: Sequence[str],
    *,
    reference: tuple[list[float], list[float], str],
    curve: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, float]],
    area: str,
    line_shape: str = "linear",
) -> go.Figure:
    """One threshold curve per model's buy probability (its area in the legend) over a grey
    dotted reference line (what guessing achieves)."""
    actual = users[pp.ACTUAL_BUYER].to_numpy(dtype=int)
    x, y, name = reference
    fig = go.Figure(reference_line(x, y, name))
    if len(np.unique(actual)) == 2:
        for model in models:
            across, up, value = curve(actual, users[probability_column(model)].to_numpy(float))
            label = f"{pp.MODEL_LABELS.get(model, model)} ({area} {value:.3f})"
            fig.add_trace(_model_curve(model, across, up, label=label, line_shape=line_shape))
    return fig


def _roc(actual: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    fpr, tpr, _ = roc_curve(actual, score)
    return fpr, tpr, float(roc_auc_score(actual, score))


def _precision_recall(
    actual: np.ndarray, score: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    precision, recall, _ = precision_recall_curve(actual, score)
    return recall, precision, float(average_precision_score(actual, score))


def roc_curves_line(users: pd.DataFrame, models: Sequence[str] = pp.MODEL_NAMES) -> go.Figure:
    """ROC curve of each model's buy probability, AUC in the legend.

    Args:
        users: ``PurchaseEvaluation.users`` (``actual_buyer`` and ``<model>_probability``).
    """
    fig = _curves_by_model(
        users, models, reference=([0, 1], [0, 1], "random guess"), curve=_roc, area="AUC"
    )
    fig.update_layout(
        title="ROC: buyers found vs non-buyers flagged",
        xaxis={"title": "false positive rate (non-buyers flagged)", "range": [0, 1]},
        yaxis={"title": "true positive rate (buyers found)", "range": [0, 1.02]},
    )
    return tidy(fig, height=420)


def pr_curves_line(users: pd.DataFrame, models: Sequence[str] = pp.MODEL_NAMES) -> go.Figure:
    """Precision-recall curve of each model's buy probability, PR-AUC (average precision) in
    the legend, and the share of buyers as the no-skill line."""
    actual = users[pp.ACTUAL_BUYER].to_numpy(dtype=int)
    base = float(actual.mean()) if len(actual) else 0.0
    fig = _curves_by_model(
        users,
        models,
        reference=([0, 1], [base, base], f"random guess ({base:.1%} buy)"),
        curve=_precision_recall,
        area="PR-AUC",
        line_shape="hv",
    )
    fig.update_layout(
        title="Precision vs recall of the buyer list",
        xaxis={"title": "recall (share of buyers found)", "range": [0, 1]},
        yaxis={"title": "precision (share who bought)", "range": [0, 1.02]},
    )
    return tidy(fig, height=420)


def calibration_line(
    users: pd.DataFrame, models: Sequence[str] = RANKING_MODELS, *, bins: int = 10
) -> go.Figure:
    """Predicted buy probability against the share who bought, per bin of equally many users."""
    actual = users[pp.ACTUAL_BUYER].to_numpy(dtype=int)
    fig = go.Figure(reference_line([0, 1], [0, 1], "perfectly calibrated"))
    if len(np.unique(actual)) == 2:
        for name in models:
            score = np.clip(users[probability_column(name)].to_numpy(dtype=float), 0, 1)
            share, mean_predicted = calibration_curve(
                actual, score, n_bins=bins, strategy="quantile"
            )
            fig.add_trace(_model_curve(name, mean_predicted, share, mode="lines+markers"))
    fig.update_layout(
        title="Calibration: predicted vs actual buying",
        xaxis={"title": "mean predicted buy probability", "range": [0, 1], "tickformat": ".0%"},
        yaxis={"title": "share who actually bought", "range": [0, 1.02], "tickformat": ".0%"},
    )
    return tidy(fig, height=420)


def cumulative_gain_line(users: pd.DataFrame, models: Sequence[str] = RANKING_MODELS) -> go.Figure:
    """Cumulative gain (share of buyers in the top x% of users) and lift, side by side."""
    actual = users[pp.ACTUAL_BUYER].to_numpy(dtype=float)
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.1,
        subplot_titles=("cumulative gain", "lift over random"),
    )
    share, perfect = m.cumulative_gain(actual, actual)
    fig.add_trace(reference_line(share, share, "random"), row=1, col=1)
    fig.add_trace(reference_line(share, perfect, "perfect ranking"), row=1, col=1)
    fig.update_traces(line_dash="dash", selector={"name": "perfect ranking"})
    inside = share > 0
    for name in models:
        score = users[probability_column(name)].to_numpy(dtype=float)
        _, found = m.cumulative_gain(actual, score)
        fig.add_trace(_model_curve(name, share, found, legendgroup=name), row=1, col=1)
        lift = _model_curve(
            name, share[inside], found[inside] / share[inside], legendgroup=name, showlegend=False
        )
        fig.add_trace(lift, row=1, col=2)
    fig.add_hline(y=1, line_dash="dot", line_color="#bbb", row=1, col=2)
    fig.update_xaxes(
        title_text="share of users contacted (highest probability first)", tickformat=".0%"
    )
    fig.update_yaxes(title_text="share of next-period buyers found", tickformat=".0%", row=1, col=1)
    fig.update_yaxes(title_text="lift (× random)", row=1, col=2)
    fig.update_layout(title="Cumulative gain and lift: ranking users by buy probability")
    return tidy(fig, height=440, top=80)


def describe_gain(
    actual: np.ndarray, score: np.ndarray, *, top: float = 0.1, model: str = m.MLP
) -> str:
    """A caption-ready sentence: "The top 10% of users by MLP (neural network) buy probability
    hold 45% of next-period buyers (a random 10% of users would hold about 10%)."

    Args:
        actual: 1 for users who bought in the evaluation window, else 0.
        score: the model's buy probability (any ranking score).
        top: the share of users at the top of the ranking, between 0 and 1.
    """
    actual = np.asarray(actual, dtype=float)
    if len(actual) == 0 or actual.sum() == 0:
        return "Nobody bought in the evaluation window, so the ranking cannot be judged."
    share, found = m.cumulative_gain(actual, score, points=1001)
    held = float(np.interp(top, share, found))
    label = pp.MODEL_LABELS.get(model, model)
    return (
        f"The top {top:.0%} of users by {label} buy probability hold {held:.0%} of "
        f"next-period buyers (a random {top:.0%} of users would hold about {top:.0%})."
    )


def _log1p_ticks(top: float) -> tuple[list[float], list[str]]:
    values = [v for v in (0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000) if v <= max(top, 1)]
    return [float(np.log1p(v)) for v in values], [str(v) for v in values]


def predicted_vs_actual_scatter(
    users: pd.DataFrame, *, model: str = m.MLP, max_points: int = 4000, random_state: int = 0
) -> go.Figure:
    """Predicted against actual orders per user on log(1 + orders) axes, so zeros show.

    Actual orders are whole numbers, so they get a little horizontal jitter; points are
    translucent and at most ``max_points`` users (a random sample) are drawn.
    """
    sample = users
    if len(users) > max_points:
        sample = users.sample(max_points, random_state=random_state)
    rng = np.random.default_rng(random_state)
    actual = sample[pp.ACTUAL_ORDERS].to_numpy(dtype=float)
    predicted = np.clip(sample[orders_column(model)].to_numpy(dtype=float), 0, None)
    x = np.log1p(actual) + rng.uniform(-0.12, 0.12, len(actual))
    y = np.log1p(predicted)
    top = float(max(actual.max(initial=0), predicted.max(initial=0)))
    ticks, labels = _log1p_ticks(top)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[0, np.log1p(top)],
            y=[0, np.log1p(top)],
            name="perfect prediction",
            mode="lines",
            line={"color": "#888", "dash": "dot"},
        )
    )
    fig.add_trace(
        go.Scattergl(
            x=x,
            y=y,
            mode="markers",
            name="one user",
            marker={"color": MODEL_COLOURS.get(model, MLP_COLOUR), "opacity": 0.3, "size": 5},
            customdata=np.column_stack([actual, predicted]),
            hovertemplate="actual %{customdata[0]:.0f}, predicted %{customdata[1]:.2f}"
            "<extra></extra>",
        )
    )
    shown = f" ({len(sample):,} of {len(users):,} users shown)" if len(sample) < len(users) else ""
    fig.update_layout(
        title=f"Predicted vs actual orders per user: {pp.MODEL_LABELS.get(model, model)}{shown}",
        xaxis={
            "title": "actual orders (log scale, 0 shown)",
            "tickvals": ticks,
            "ticktext": labels,
        },
        yaxis={
            "title": "predicted orders (log scale, 0 shown)",
            "tickvals": ticks,
            "ticktext": labels,
        },
    )
    return tidy(fig, height=440)


def residuals_by_frequency_bar(
    users: pd.DataFrame, models: Sequence[str] = (*RANKING_MODELS, pp.MEAN)
) -> go.Figure:
    """Mean and spread of predicted − actual orders by the users' past orders (0, 1, 2–3, 4–7,
    8+), one bar per model."""
    past = users[features.ORDERS].to_numpy(dtype=float)
    actual = users[pp.ACTUAL_ORDERS].to_numpy(dtype=float)
    labels, masks = [], []
    for name, low, high in FREQUENCY_BUCKETS:
        mask = (past >= low) & (past <= high)
        labels.append(f"{name} past orders<br>({int(mask.sum()):,} users)")
        masks.append(mask)
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        subplot_titles=(
            "average error: above 0 = predicts too many orders",
            "spread: standard deviation of the error",
        ),
    )
    for name in models:
        error = users[orders_column(name)].to_numpy(dtype=float) - actual
        means = [float(error[k].mean()) if k.any() else np.nan for k in masks]
        spreads = [float(error[k].std()) if k.any() else np.nan for k in masks]
        colour = MODEL_COLOURS.get(name, OTHER_COLOUR)
        label = pp.MODEL_LABELS.get(name, name)
        fig.add_trace(
            go.Bar(x=labels, y=means, name=label, marker_color=colour, legendgroup=name),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Bar(
                x=labels,
                y=spreads,
                name=label,
                marker_color=colour,
                legendgroup=name,
                showlegend=False,
            ),
            row=2,
            col=1,
        )
    fig.update_yaxes(title_text="predicted − actual", row=1, col=1)
    fig.update_yaxes(title_text="orders", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(title_text="users grouped by orders before the cutoff", row=2, col=1)
    fig.update_layout(title="Errors by past order frequency", barmode="group")
    return tidy(fig, height=540, top=80)


def permutation_importance_bar(importance: pd.DataFrame, *, top: int = 15) -> go.Figure:
    """The inputs whose shuffling hurts the orders network most (mean ± sd over repeats),
    each by its plain label, with its explanation on hover."""
    shown = importance.head(top)
    names = [str(f) for f in shown["feature"]]
    labels = [wrap_label(pp.input_label(f), width=IMPORTANCE_LABEL_WIDTH) for f in names]
    fig = go.Figure(
        go.Bar(
            x=shown["mse_increase"],
            y=labels,
            error_x={"type": "data", "array": shown["std"], "color": "#666"},
            orientation="h",
            marker_color=MLP_COLOUR,
            customdata=[wrap_label(pp.input_help(f), width=60) for f in names],
            hovertemplate="%{x:.4g}<br>%{customdata}<extra></extra>",
        )
    )
    fig.update_layout(
        title="What the orders network relies on (permutation importance)",
        xaxis_title="increase in MSE when the input is shuffled (orders²)",
        yaxis={"title": "", "autorange": "reversed"},
        showlegend=False,
    )
    return tidy(fig, height=bar_chart_height(labels, base=80, per_bar=26))


def purchase_timeline(
    windows: Sequence[tuple[pd.Timestamp, int]],
    *,
    data_start: pd.Timestamp,
    data_end: pd.Timestamp,
    cutoff: pd.Timestamp,
    horizon_days: int,
) -> go.Figure:
    """The data span, each training window's label period, the cutoff, the evaluation window
    and the deployment window after the data.

    Args:
        windows: (window start, length in days) of each training window (``PurchaseData``).
        data_end: the exclusive end of the data (midnight after the last event's day).
    """
    horizon = pd.Timedelta(days=horizon_days)
    rows = [("all data", data_start.normalize(), data_end, "data")]
    for number, (start, days) in enumerate(sorted(windows), start=1):
        rows.append(
            (f"training window {number}", start, start + pd.Timedelta(days=days), "training labels")
        )
    rows.append(("evaluation", cutoff, cutoff + horizon, "evaluation (scored)"))
    rows.append(("prediction", data_end, data_end + horizon, "prediction (after the data)"))
    frame = pd.DataFrame(rows, columns=["row", "start", "end", "part"])
    fig = px.timeline(
        frame,
        x_start="start",
        x_end="end",
        y="row",
        color="part",
        color_discrete_map={
            "data": "#d9dde4",
            "training labels": PRIMARY_COLOUR,
            "evaluation (scored)": MLP_COLOUR,
            "prediction (after the data)": "#b279a2",
        },
        title=f"Time split: {len(windows)} training windows end by the cutoff; "
        f"the models are scored on the {horizon_days} days after it",
    )
    add_date_marks(
        fig, ((cutoff, f"cutoff {cutoff:%Y-%m-%d}", "right"), (data_end, "data ends", "left"))
    )
    fig.update_yaxes(autorange="reversed", title_text="")
    fig.update_xaxes(title_text="date (each bar: the days whose orders are counted)")
    return tidy(fig, height=140 + 20 * len(rows), top=70)


def hidden_layers_comparison(history: pd.DataFrame) -> go.Figure:
    """MSE and accuracy of each configuration tried, with the best baseline of its split.

    Args:
        history: one row per run with columns ``label``, ``mse``, ``accuracy``,
            ``baseline_mse`` and ``baseline_accuracy``.
    """
    labels = unique_labels(history["label"].astype(str).tolist())
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.14,
        subplot_titles=(
            "MSE of predicted orders (lower is better)",
            "accuracy of buy / no buy at 0.5 (higher is better)",
        ),
    )
    for column, base, row in ((m.MSE, "baseline_mse", 1), (m.ACCURACY, "baseline_accuracy", 2)):
        fig.add_trace(
            go.Scatter(
                x=labels,
                y=history[column],
                name="MLP",
                mode="markers",
                marker={"size": 14, "color": MLP_COLOUR},
                showlegend=row == 1,
                legendgroup="mlp",
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            baseline_points(labels, history[base], showlegend=row == 1, legendgroup="baseline"),
            row=row,
            col=1,
        )
    fig.update_xaxes(type="category")
    fig.update_xaxes(title_text="run name (oldest first)", row=2, col=1)
    fig.update_yaxes(title_text="orders²", row=1, col=1)
    fig.update_yaxes(title_text="share correct", tickformat=".2%", row=2, col=1)
    fig.update_layout(title="Runs saved on this data")
    return tidy(fig, height=520, top=80)
