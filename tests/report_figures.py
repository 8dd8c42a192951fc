"""The Plotly figures inside a report's HTML, read back as JSON, the category labels each one
puts on its axes, and Plotly's settings as they are in the app's process: for the report tests
and the report's browser test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import plotly.io as pio

_CALL = "Plotly.newPlot("


def figures_in(document: str) -> list[dict[str, Any]]:
    """Every figure of ``document`` in page order, as ``{"data": [...], "layout": {...}}``."""
    decoder = json.JSONDecoder()
    found = []
    start = document.find(_CALL)
    while start != -1:
        position = start + len(_CALL)
        values = []
        for _ in range(3):  # the div's id, the traces, the layout
            position = len(document) - len(document[position:].lstrip(" \n\t,"))
            value, position = decoder.raw_decode(document, position)
            values.append(value)
        found.append({"data": values[1], "layout": values[2]})
        start = document.find(_CALL, position)
    return found


def category_labels(figure: dict[str, Any]) -> list[str]:
    """The labels of a figure's bars and funnel steps as the reader should see them: each
    ``<br>`` of a wrapped label read as a space."""
    labels = []
    for trace in figure["data"]:
        if trace.get("type") == "funnel" or trace.get("orientation") == "h":
            labels += [str(label).replace("<br>", " ") for label in trace["y"]]
    return labels


@contextmanager
def as_in_the_app() -> Iterator[None]:
    """Plotly's default template as in the app, which offers the report for download: importing
    Streamlit makes its own template the default (colour placeholders that only the app's page
    fills in, and axes that leave no room for long labels). Put back on leaving."""
    previous = pio.templates.default  # read before a first import of Streamlit changes it
    import streamlit  # noqa: F401  (registers the "streamlit" template)

    pio.templates.default = "streamlit"
    try:
        yield
    finally:
        pio.templates.default = previous
