"""Figures of the Data page: the event mix, events per day and rejected rows by reason."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from core import schema
from core.data.profile import DAY, EVENTS, Profile
from core.plotting import EVENT_COLOURS, tidy


def event_mix_bar(profile: Profile) -> go.Figure:
    """Events per type as horizontal bars."""
    mix = profile.event_mix.rename_axis(schema.EVENT_TYPE).reset_index()
    fig = px.bar(
        mix,
        x=EVENTS,
        y=schema.EVENT_TYPE,
        orientation="h",
        color=schema.EVENT_TYPE,
        color_discrete_map=EVENT_COLOURS,
        title="Events by type",
        text_auto=",",
    )
    fig.update_layout(showlegend=False, yaxis={"categoryorder": "total ascending", "title": ""})
    return tidy(fig)


def daily_events_line(profile: Profile) -> go.Figure:
    """Events per day, one small panel per event type, each with its own scale."""
    types = list(profile.event_mix.index)
    fig = px.line(
        profile.daily,
        x=DAY,
        y=EVENTS,
        color=schema.EVENT_TYPE,
        facet_row=schema.EVENT_TYPE,
        category_orders={schema.EVENT_TYPE: types},
        color_discrete_map=EVENT_COLOURS,
        title="Events per day by type (each panel has its own scale)",
    )
    fig.update_yaxes(matches=None, title_text="", rangemode="tozero")
    fig.update_xaxes(title_text="")
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1], textangle=0))
    fig.update_layout(showlegend=False)
    fig = tidy(fig, height=90 + 90 * len(types))
    fig.update_layout(margin_r=80)  # room for the panel labels on the right
    return fig


def rejected_reasons_bar(counts: dict[str, int]) -> go.Figure:
    """Rejected rows per reason."""
    frame = pd.DataFrame({"reason": list(counts), "rows": list(counts.values())})
    fig = px.bar(
        frame,
        x="rows",
        y="reason",
        orientation="h",
        title="Rejected rows by reason",
        text_auto=",",
        color_discrete_sequence=["#d62728"],
    )
    fig.update_layout(yaxis={"categoryorder": "total ascending", "title": ""})
    return tidy(fig, height=max(200, 60 + 40 * len(counts)))
