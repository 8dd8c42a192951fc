"""The chart palette and the helpers every Plotly figure of the app uses; no Streamlit here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core import schema

# The palette: the MLP (and whatever a chart highlights) is always this red, the data's own
# series this blue, baselines and the rest grey, in every chart alike.
ACCENT_COLOUR = "#e4572e"
MLP_COLOUR = ACCENT_COLOUR
PRIMARY_COLOUR = "#4c78a8"
REFERENCE_LINE = {"color": "#bbb", "dash": "dot"}
OTHER_COLOUR = "#a0a7b4"
BEST_COLOUR = "#f2b701"
BASELINE_COLOUR = "#333"
# One colour per run in overlaid curves (Plotly's qualitative "D3" palette).
RUN_COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
EVENT_COLOURS = {
    schema.VIEW: "#8da0cb",
    schema.CART: "#fc8d62",
    schema.FAV: "#e78ac3",
    schema.PURCHASE: "#66c2a5",
    schema.RETURN: "#a6a6a6",
}


def reference_line(
    x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, name: str
) -> go.Scatter:
    """A grey dotted line of what chance (or perfection) achieves, to read a curve against."""
    return go.Scatter(x=x, y=y, name=name, mode="lines", line=REFERENCE_LINE)


def baseline_points(x: Any, y: Any, **more: Any) -> go.Scatter:
    """The best baseline's score on the same split as each MLP point: open diamonds."""
    return go.Scatter(
        x=x,
        y=y,
        mode="markers",
        name="best baseline on the same split",
        marker={"symbol": "diamond-open", "size": 12, "color": BASELINE_COLOUR},
        **more,
    )


def legend_below(fig: go.Figure) -> go.Figure:
    """Move the legend under the plot, for charts shown in half-width columns."""
    fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0})
    return fig


def tidy(fig: go.Figure, *, height: int = 320, top: int = 40) -> go.Figure:
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": top, "b": 10}, legend_title_text=""
    )
    return fig


def unique_labels(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return unique


def add_date_marks(fig: go.Figure, marks: Sequence[tuple[pd.Timestamp, str, str]]) -> None:
    """Dashed vertical lines at dates, each labelled on top (side: "left" or "right")."""
    for when, text, side in marks:
        fig.add_shape(
            type="line",
            x0=when,
            x1=when,
            y0=0,
            y1=1,
            yref="paper",
            line={"color": "#333", "dash": "dash"},
        )
        fig.add_annotation(
            x=when, y=1.0, yref="paper", text=text, showarrow=False, yanchor="bottom", xanchor=side
        )
