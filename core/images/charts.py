"""Charts of the photo category models: the confusion matrix and the scoreboard's bars."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from core.images.models import MLP, MODEL_LABELS
from core.ml import metrics as m
from core.plotting import chart_labels, score_bars, tidy

CATEGORY_CHARS = 24  # a category name on an axis is shortened past this (full text on hover)


def confusion_heatmap(
    classes: Sequence[str] | np.ndarray, confusion: np.ndarray | Sequence[Sequence[int]]
) -> go.Figure:
    """The MLP's test photos by true (rows) and predicted (columns) category; the diagonal is
    right. Category names come from data: shortened and shown literally."""
    counts = np.asarray(confusion, dtype=int)
    names = [str(name) for name in classes]
    labels = chart_labels(names, size=CATEGORY_CHARS)
    full = chart_labels(names, size=200)
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    hover = [
        [
            f"true: {full[i]}<br>predicted: {full[j]}<br>{counts[i, j]} photos"
            for j in range(len(full))
        ]
        for i in range(len(full))
    ]
    fig = go.Figure(
        go.Heatmap(
            z=share,
            x=labels,
            y=labels,
            text=counts,
            texttemplate="%{text}",
            customdata=hover,
            colorscale="Blues",
            zmin=0,
            zmax=1,
            showscale=False,
            hovertemplate="%{customdata}<extra></extra>",
        )
    )
    size = max(320, 60 + 34 * len(labels))
    fig.update_layout(
        title="MLP: true category (rows) against predicted (columns), test photos",
        xaxis={"title": "predicted category", "tickangle": -40, "type": "category"},
        yaxis={"title": "true category", "autorange": "reversed", "type": "category"},
    )
    return tidy(fig, height=size + 80, top=50)


def model_scores_bar(scores: Mapping[str, Mapping[str, float | None]], metric: str) -> go.Figure:
    """One bar per model (the MLP first and highlighted) for one score, 0 to 1."""
    names = [name for name in MODEL_LABELS if name in scores]
    values = [float(scores[name].get(metric) or 0.0) for name in names]
    info = m.METRICS[metric]
    fig = score_bars(
        [MODEL_LABELS[name] for name in names],
        values,
        highlighted=[name == MLP for name in names],
        text=[f"{value:.{info.decimals}f}" for value in values],
        title=f"{info.name} on the test photos (higher is better)",
        axis_title=info.label,
    )
    fig.update_xaxes(range=[0, 1])
    return fig
