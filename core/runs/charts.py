"""Plotly figures that compare saved runs; no Streamlit here."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.ml import metrics as m
from core.ml import network as net
from core.plotting import BEST_COLOUR, MLP_COLOUR, RUN_COLOURS, baseline_points, tidy
from core.runs.compare import RUN_ID


def _title(metric: str) -> str:
    """``MSE (orders²) of the MLP on each run (lower is better)``."""
    better = "lower" if m.lower_is_better(metric) else "higher"
    return f"{m.METRICS[metric].label} of the MLP on each run ({better} is better)"


def configuration_scores(
    table: pd.DataFrame, metric: str, *, best_run: str | None = None
) -> go.Figure:
    """One point per run at its hidden-layer configuration (seeds side by side), the mean of
    each configuration with its seed spread (± one standard deviation), the best run starred
    and the best baseline of each run as an open diamond.

    Args:
        table: rows with ``run_id``, ``hidden_layers``, ``seed``, ``metric`` and, optionally,
            ``baseline_<metric>`` (the best baseline's value on the run's split).
    """
    baseline = f"baseline_{metric}"
    order = _configuration_order(table["hidden_layers"].astype(str))
    fig = go.Figure()
    grouped = table.groupby(table["hidden_layers"].astype(str))[metric]
    spread = grouped.agg(["mean", "std", "count"]).reindex(order)
    fig.add_trace(
        go.Scatter(
            x=order,
            y=spread["mean"],
            error_y={"type": "data", "array": spread["std"].fillna(0.0), "visible": True},
            mode="markers",
            name="mean over seeds ± 1 sd",
            marker={"symbol": "line-ew-open", "size": 28, "color": "#555", "line": {"width": 3}},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=table["hidden_layers"].astype(str),
            y=table[metric],
            mode="markers",
            name="one run (hover for seed)",
            marker={"size": 10, "color": MLP_COLOUR, "opacity": 0.8},
            customdata=np.stack([table[RUN_ID], table["seed"].astype(str)], axis=1),
            hovertemplate="%{x} · seed %{customdata[1]}<br>%{y:.4f}<br>%{customdata[0]}"
            "<extra></extra>",
        )
    )
    if baseline in table and table[baseline].notna().any():
        fig.add_trace(baseline_points(table["hidden_layers"].astype(str), table[baseline]))
    if best_run is not None and (table[RUN_ID] == best_run).any():
        best = table[table[RUN_ID] == best_run].iloc[0]
        fig.add_trace(
            go.Scatter(
                x=[str(best["hidden_layers"])],
                y=[best[metric]],
                mode="markers",
                name=f"best run (seed {best['seed']})",
                marker={
                    "symbol": "star",
                    "size": 20,
                    "color": BEST_COLOUR,
                    "line": {"color": "#333", "width": 1},
                },
            )
        )
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=order)
    fig.update_xaxes(title_text="hidden layers (widths, input side first)")
    fig.update_yaxes(title_text=metric)
    fig.update_layout(
        title=_title(metric),
        legend={"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0},
    )
    return tidy(fig, height=380, top=50)


def _configuration_order(labels: pd.Series) -> list[str]:
    """Configurations from the smallest network to the largest (total units, then depth)."""
    unique = list(dict.fromkeys(labels))

    def size(label: str) -> tuple[int, int, str]:
        widths = [int(w) for w in label.split(",") if w.strip().isdigit()]
        return sum(widths), len(widths), label

    return sorted(unique, key=size)


CURVE_PAIRS = {
    "regressor": (net.TRAIN_MSE, net.VALIDATION_MSE, "MSE (orders², lower is better)"),
    "classifier": (net.TRAIN_ACCURACY, net.VALIDATION_ACCURACY, "accuracy (higher is better)"),
    "ranker": (net.TRAINING_LOSS, net.VALIDATION_LOG_LOSS, "loss (lower is better)"),
}
CURVE_TITLES = {
    "regressor": "Orders network",
    "classifier": "Buyer network",
    "ranker": "Ranker",
    "photo_classifier": "Photo category network",
}


def overlaid_curves(curves: Mapping[str, pd.DataFrame], network: str) -> go.Figure:
    """Training (dotted) and validation (solid) curves of several runs in one chart, one colour
    per run.

    Args:
        curves: run label -> that run's per-epoch curves of ``network``.
        network: ``regressor``, ``classifier`` or ``ranker``.
    """
    train, validation, y_title = CURVE_PAIRS[network]
    fig = go.Figure()
    for position, (label, frame) in enumerate(curves.items()):
        colour = RUN_COLOURS[position % len(RUN_COLOURS)]
        for column, dash, part in ((train, "dot", "training"), (validation, "solid", "validation")):
            if column not in frame or frame[column].isna().all():
                continue
            fig.add_trace(
                go.Scatter(
                    x=frame[net.EPOCH],
                    y=frame[column],
                    name=f"{label} · {part}",
                    legendgroup=label,
                    mode="lines",
                    line={"color": colour, "dash": dash},
                )
            )
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text=y_title)
    fig.update_layout(
        title=f"{CURVE_TITLES[network]}: training (dotted) and validation (solid) curves",
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
    )
    return tidy(fig, height=420, top=50)
