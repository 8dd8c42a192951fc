"""The chart palette and the helpers every Plotly figure of the app uses; no Streamlit here."""

from __future__ import annotations

import html
import math
import re
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core import schema

# The palette: the MLP (and whatever a chart highlights) is always this red, the data's own
# series this blue, baselines and the rest grey, in every chart alike.
MISSING = "–"  # how a table shows a missing value, in the app and the report
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


# Characters on one line of a category label (model names, steps) before it wraps.
LABEL_WIDTH = 20
# Pixels one line of tick text takes at Plotly's default 12 px font, and the gap around a bar.
_LINE_PX = 16
_BAR_GAP_PX = 12


def tidy(fig: go.Figure, *, height: int = 320, top: int = 40) -> go.Figure:
    """Small outer margins that grow as the tick labels and axis titles need.

    Margins are pushed out by every axis's own ``automargin``, set here rather than left to
    the template: Streamlit's default template, used by whatever runs in the app's process
    (the downloadable report too), has none, and long labels would be cut at the edge.
    """
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": top, "b": 10}, legend_title_text=""
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


# Bidirectional controls (embeddings, overrides, isolates, marks): in a name they can make
# "\u202eevil\u202dgpj.exe" display as "gpj.exelive".
_BIDI_CONTROLS = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
LABEL_CHARS = 48  # a chart label from data is shortened past this, its full text on hover


def filled_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """A table without the columns the data never fills (category on data that has none);
    an empty table keeps every column, as there is nothing to judge by."""
    return frame.loc[:, frame.notna().any()] if len(frame) else frame


def shorten(text: object, size: int | None = None) -> str:
    """Text from data without bidirectional controls and, with ``size``, shortened to that
    many characters with an ellipsis (not yet escaped for Plotly: see ``chart_text``)."""
    shown = _BIDI_CONTROLS.sub("", str(text))
    if size is not None and len(shown) > size:
        shown = shown[: size - 1] + "…"
    return shown


def chart_text(text: object, *, size: int | None = None) -> str:
    """Text from data shown literally in a Plotly figure: ``shorten``, then Plotly's HTML-like
    tags escaped."""
    return html.escape(shorten(text, size), quote=False)


def chart_labels(values: Sequence[object], *, size: int = LABEL_CHARS) -> list[str]:
    """Axis labels from data: ``chart_text``, shortened, and unique (a category axis merges
    equal labels, so a repeat gets its number)."""
    seen: dict[str, int] = {}
    labels = []
    for value in values:
        label = chart_text(value, size=size)
        seen[label] = seen.get(label, 0) + 1
        labels.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return labels


def wrap_label(text: str, *, width: int = LABEL_WIDTH) -> str:
    """A category label on lines of at most ``width`` characters, broken at spaces into lines
    of similar length and joined by Plotly's ``<br>``; a single longer word stays whole.

    ``text`` must already be safe for Plotly (escaped where it comes from data).
    """
    lines = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)
    if len(lines) <= 1:
        return text
    # The narrowest width that needs no more lines, so that no line is left nearly empty.
    for narrower in range(math.ceil(len(text) / len(lines)), width):
        balanced = textwrap.wrap(text, narrower, break_long_words=False, break_on_hyphens=False)
        if len(balanced) <= len(lines):
            return "<br>".join(balanced)
    return "<br>".join(lines)


def bar_chart_height(labels: Sequence[str], *, base: int, per_bar: int) -> int:
    """The height of a horizontal bar chart: ``base`` for title and axis, and ``per_bar`` for
    each bar, more when the labels wrap onto several lines (``wrap_label``)."""
    lines = max((label.count("<br>") + 1 for label in labels), default=1)
    band = per_bar if lines == 1 else max(per_bar, _LINE_PX * lines + _BAR_GAP_PX)
    return base + len(labels) * band


def score_bars(
    labels: Sequence[str],
    values: Sequence[float] | np.ndarray,
    *,
    highlighted: Sequence[bool],
    text: Sequence[str],
    title: str,
    axis_title: str,
) -> go.Figure:
    """One horizontal bar per model, top to bottom in the given order, the highlighted ones
    (the MLP) in the accent colour and the rest grey; long labels wrap."""
    wrapped = [wrap_label(label) for label in labels]
    fig = go.Figure(
        go.Bar(
            x=np.asarray(values, dtype=float),
            y=wrapped,
            orientation="h",
            marker_color=[MLP_COLOUR if h else OTHER_COLOUR for h in highlighted],
            text=list(text),
            textposition="auto",
        )
    )
    fig.update_layout(
        title=title,
        xaxis_title=axis_title,
        yaxis={"title": "", "autorange": "reversed"},
        showlegend=False,
    )
    return tidy(fig, height=bar_chart_height(wrapped, base=60, per_bar=45))


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
