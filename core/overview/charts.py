"""Plotly figure builders for the Shop overview page; no Streamlit here.

Names from shop data (categories, brands, item names) are untrusted: Plotly reads a few HTML
tags in text (links, bold, line breaks), so every such label is escaped with ``plain`` before
it reaches a figure, and the raw value travels in ``customdata`` for click selections.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core import overview as an
from core import schema
from core.plotting import (
    ACCENT_COLOUR,
    EVENT_COLOURS,
    OTHER_COLOUR,
    PRIMARY_COLOUR,
    chart_labels,
    chart_text,
    legend_below,
    reference_line,
    shorten,
    tidy,
)

BAR_COLOUR = PRIMARY_COLOUR
REVENUE_COLOUR = "#54a24b"
NEW_COLOUR = "#f58518"
RETURNING_COLOUR = PRIMARY_COLOUR
MEASURE_LABELS = {
    an.VIEWS: "views",
    an.CARTS: "add-to-carts",
    an.ORDERS: "orders",
    an.REVENUE: "revenue",
}
STEP_LABELS = {schema.VIEW: "viewed", schema.CART: "added to cart", schema.PURCHASE: "purchased"}
FREQ_LABELS = {"D": "day", "W": "week", "M": "month"}
SPLIT_LABELS = {"new_vs_returning": "new vs returning", "category": "category", "brand": "brand"}
# Best segments green, those slipping away orange, lost ones grey.
SEGMENT_COLOURS = {
    an.CHAMPIONS: "#1a9850",
    an.LOYAL: "#66bd63",
    an.POTENTIAL_LOYALISTS: "#a6d96a",
    an.NEW_CUSTOMERS: "#74add1",
    an.PROMISING: "#abd9e9",
    an.NEED_ATTENTION: "#fee08b",
    an.ABOUT_TO_SLEEP: "#fdae61",
    an.AT_RISK: "#f46d43",
    an.CANT_LOSE: "#d73027",
    an.HIBERNATING: "#bababa",
    an.LOST: "#878787",
}
_TREND_COLUMNS = frozenset({an.PERIOD, an.ORDERS, an.REVENUE, an.ACTIVE_USERS, an.BUYERS})
_LABEL_CHARS = 48
DAY_MS = 86_400_000


def plain(text: object) -> str:
    """``text`` shown literally in a Plotly figure (Plotly would read ``<a>``, ``<b>``…)."""
    return chart_text(text)


def _labels(values: Sequence[object]) -> list[str]:
    """Escaped, shortened and unique axis labels."""
    return chart_labels(values, size=_LABEL_CHARS)


def _tidy(fig: go.Figure, *, height: int = 340, top: int = 50) -> go.Figure:
    return tidy(fig, height=height, top=top)


def _week_ticks(fig: go.Figure, periods: pd.Series, *, most: int = 10) -> go.Figure:
    """Ticks on the weeks' Mondays (Plotly's own weekly ticks fall on Sundays)."""
    if len(periods):
        step = 7 * DAY_MS * max(1, math.ceil(len(periods) / most))
        fig.update_xaxes(tick0=pd.Timestamp(periods.iloc[0]), dtick=step, tickformat="%b %d")
    return fig


def format_hours(hours: float) -> str:
    """A conversion window in words: ``1 hour``, ``1 day``, ``7 days``."""
    if hours % 24 == 0:
        days = int(hours // 24)
        return f"{days} day" if days == 1 else f"{days} days"
    return f"{hours:g} hour" if hours == 1 else f"{hours:g} hours"


# --- funnel --------------------------------------------------------------------------------


def funnel_chart(funnel: an.Funnel) -> go.Figure:
    """Users reaching each step, with the share of the previous and of the first step."""
    steps = funnel.steps
    names = [str(s) for s in steps[an.STEP]]
    fig = go.Figure(
        go.Funnel(
            y=[STEP_LABELS.get(s, s) for s in names],
            x=steps[an.USERS],
            texttemplate="<b>%{value:,} users</b><br>%{percentPrevious:.1%} of previous · "
            "%{percentInitial:.1%} of first",
            textposition="inside",
            textfont={"color": "#222", "size": 12},
            marker={"color": [EVENT_COLOURS.get(s, OTHER_COLOUR) for s in names]},
            connector={"fillcolor": "#eef0f4"},
            hovertemplate="%{y}: %{value:,} users<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"Users reaching each step within {format_hours(funnel.window_hours)}",
        showlegend=False,
        uniformtext={"minsize": 12, "mode": "show"},  # readable even on a narrow last step
    )
    fig.update_yaxes(title_text="")
    return _tidy(fig, height=110 + 80 * len(names))


def funnel_split_chart(funnel: an.Funnel, *, top: int = 15) -> go.Figure:
    """Step and overall conversion per segment, one row per segment (the biggest first)."""
    steps = funnel.steps
    names = list(funnel.step_names)
    segments = list(dict.fromkeys(steps[an.SEGMENT].astype(str)))[:top]
    shown = steps[steps[an.SEGMENT].astype(str).isin(segments)]
    wide = shown.pivot_table(
        index=an.SEGMENT, columns=an.STEP, values=an.USERS, aggfunc="sum", observed=True
    )
    wide.index = wide.index.astype(str)
    wide = wide.reindex(index=segments, columns=names)
    entered = wide[names[0]].to_numpy(dtype=float)
    labels = _labels([f"{s} ({n:,.0f})" for s, n in zip(segments, entered, strict=True)])
    fig = go.Figure()
    pairs = list(zip(names, names[1:], strict=False))
    if len(names) > 2:
        pairs.append((names[0], names[-1]))
    symbols = ["circle", "diamond", "star"]
    for number, (before, after) in enumerate(pairs):
        rate = wide[after].to_numpy(dtype=float) / np.where(
            wide[before].to_numpy(dtype=float) > 0, wide[before].to_numpy(dtype=float), np.nan
        )
        overall = number == len(pairs) - 1 and len(names) > 2
        fig.add_trace(
            go.Scatter(
                x=rate,
                y=labels,
                mode="markers",
                name=f"{before} → {after}" + (" (overall)" if overall else ""),
                marker={
                    "size": 13 if overall else 10,
                    "symbol": symbols[number % len(symbols)],
                    "color": "#222" if overall else EVENT_COLOURS.get(after, OTHER_COLOUR),
                },
                hovertemplate="%{y}: %{x:.1%}<extra>" + f"{before} → {after}</extra>",
            )
        )
    split = SPLIT_LABELS.get(str(funnel.by), str(funnel.by))
    fig.update_layout(
        title=f"Conversion by {split} (users entering in brackets)",
        xaxis={"title": "share of users", "tickformat": ".0%", "rangemode": "tozero"},
        yaxis={"title": "", "autorange": "reversed", "type": "category"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
    )
    return _tidy(fig, height=150 + 28 * len(segments), top=80)


def funnel_trend_chart(trend: pd.DataFrame) -> go.Figure:
    """Weekly step and overall conversion; open markers where the window is still open."""
    rates = [c for c in trend.columns if "_to_" in str(c)]
    if an.CONVERSION_FROM_FIRST in trend.columns and len(rates) > 1:
        rates.append(an.CONVERSION_FROM_FIRST)
    complete = trend[an.COMPLETE].to_numpy(dtype=bool)
    steps = [str(c).split("_to_") for c in rates if c != an.CONVERSION_FROM_FIRST]
    whole = f"{steps[0][0]} → {steps[-1][-1]} (whole way)" if steps else "whole way"
    fig = go.Figure()
    for column in rates:
        overall = column == an.CONVERSION_FROM_FIRST
        after = str(column).split("_to_")[-1]
        name = whole if overall else str(column).replace("_to_", " → ")
        fig.add_trace(
            go.Scatter(
                x=trend[an.PERIOD],
                y=trend[column],
                name=name,
                mode="lines+markers",
                line={
                    "color": "#222" if overall else EVENT_COLOURS.get(after, OTHER_COLOUR),
                    "width": 3 if overall else 2,
                },
                marker={"symbol": np.where(complete, "circle", "circle-open"), "size": 8},
                hovertemplate="week of %{x|%Y-%m-%d}: %{y:.1%}<extra>" + name + "</extra>",
            )
        )
    fig.update_layout(
        title="Conversion of the users entering each week",
        yaxis={"title": "share of users", "tickformat": ".0%", "rangemode": "tozero"},
        xaxis_title="week (Monday) of the first view",
    )
    return _tidy(_week_ticks(fig, trend[an.PERIOD]))


# --- trends --------------------------------------------------------------------------------


def events_trend_chart(trends: pd.DataFrame, freq: an.Freq) -> go.Figure:
    """Events per period, one small panel per event type, each with its own scale."""
    types = [c for c in trends.columns if c not in _TREND_COLUMNS]
    fig = make_subplots(
        rows=max(len(types), 1),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.04,
        subplot_titles=[plain(t) for t in types] or None,
    )
    for row, column in enumerate(types, start=1):
        fig.add_trace(
            go.Scatter(
                x=trends[an.PERIOD],
                y=trends[column],
                name=plain(column),
                mode="lines",
                line={"color": EVENT_COLOURS.get(str(column), OTHER_COLOUR)},
                hovertemplate="%{x|%Y-%m-%d}: %{y:,} events<extra>" + plain(column) + "</extra>",
            ),
            row=row,
            col=1,
        )
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(
        title=f"Events per {FREQ_LABELS[freq]} by type (each panel has its own scale)",
        showlegend=False,
    )
    if freq == "W":
        _week_ticks(fig, trends[an.PERIOD])
    return _tidy(fig, height=90 + 110 * max(len(types), 1), top=70)


def revenue_trend_chart(trends: pd.DataFrame, freq: an.Freq, *, has_revenue: bool) -> go.Figure:
    """Revenue (bars, where the data has prices) and orders per period."""
    rows = 2 if has_revenue else 1
    titles = ("revenue", "orders") if has_revenue else ("orders",)
    fig = make_subplots(
        rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.1, subplot_titles=titles
    )
    if has_revenue:
        fig.add_trace(
            go.Bar(
                x=trends[an.PERIOD],
                y=trends[an.REVENUE],
                name="revenue",
                marker_color=REVENUE_COLOUR,
                hovertemplate="%{x|%Y-%m-%d}: %{y:,.2f}<extra>revenue</extra>",
            ),
            row=1,
            col=1,
        )
    fig.add_trace(
        go.Scatter(
            x=trends[an.PERIOD],
            y=trends[an.ORDERS],
            name="orders",
            mode="lines",
            line={"color": EVENT_COLOURS[schema.PURCHASE]},
            hovertemplate="%{x|%Y-%m-%d}: %{y:,} orders<extra></extra>",
        ),
        row=rows,
        col=1,
    )
    fig.update_yaxes(rangemode="tozero")
    what = "Revenue and orders" if has_revenue else "Orders"
    fig.update_layout(title=f"{what} per {FREQ_LABELS[freq]}", showlegend=False)
    if freq == "W":
        _week_ticks(fig, trends[an.PERIOD])
    return _tidy(fig, height=200 + 160 * rows, top=70)


def active_users_chart(trends: pd.DataFrame, freq: an.Freq) -> go.Figure:
    """Distinct active users and buyers per period."""
    fig = go.Figure()
    for column, name, colour in (
        (an.ACTIVE_USERS, "active users", BAR_COLOUR),
        (an.BUYERS, "buyers", EVENT_COLOURS[schema.PURCHASE]),
    ):
        fig.add_trace(
            go.Scatter(
                x=trends[an.PERIOD],
                y=trends[column],
                name=name,
                mode="lines",
                line={"color": colour},
                hovertemplate="%{x|%Y-%m-%d}: %{y:,}<extra>" + name + "</extra>",
            )
        )
    fig.update_yaxes(rangemode="tozero", title_text="users")
    fig.update_layout(title=f"Active users and buyers per {FREQ_LABELS[freq]}")
    if freq == "W":
        _week_ticks(fig, trends[an.PERIOD])
    return legend_below(_tidy(fig))


def hour_weekday_heatmap(heatmap: pd.DataFrame) -> go.Figure:
    """Events by weekday (rows) and hour of day (columns)."""
    fig = go.Figure(
        go.Heatmap(
            z=heatmap.to_numpy(),
            x=[f"{h:02d}" for h in heatmap.columns],
            y=[str(d) for d in heatmap.index],
            colorscale="Blues",
            colorbar={"title": "events"},
            hovertemplate="%{y} %{x}:00–%{x}:59: %{z:,} events<extra></extra>",
        )
    )
    fig.update_layout(
        title="When the shop is busy: events by weekday and hour",
        xaxis_title="hour of day (time zone of the data)",
        yaxis={"title": "", "autorange": "reversed"},
    )
    return _tidy(fig, height=330)


# --- products ------------------------------------------------------------------------------


def top_bar(
    table: pd.DataFrame,
    *,
    key: str,
    measure: str,
    title: str,
    label: str | None = None,
    selected: Collection[str] = (),
) -> go.Figure:
    """Horizontal bars of ``measure`` per row of a top table, best first.

    Args:
        table: ``Overview.top_items[measure]`` (or categories, brands).
        key: the column identifying a row (``item_id``, ``category``, ``brand``); its raw
            values go in ``customdata``, so a click selection returns them.
        measure: the column to plot.
        title: the figure title.
        label: the column shown on the axis (e.g. ``name``), default ``key``.
        selected: keys to highlight (the others are dimmed).
    """
    keys = table[key].astype(str).tolist()
    shown = table[label].fillna(table[key]).astype(str).tolist() if label else keys
    if label:  # shorten the name, never the id
        shown = [f"{shorten(name, 32)} · {k}" for name, k in zip(shown, keys, strict=True)]
    values = table[measure].to_numpy(dtype=float)
    money = measure == an.REVENUE
    text = [f"{v:,.2f}" if money else f"{v:,.0f}" for v in values]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=_labels(shown),
            orientation="h",
            customdata=keys,
            text=text,
            textposition="auto",
            hovertext=[plain(s) for s in shown],
            hovertemplate="%{hovertext}: %{text} "
            + MEASURE_LABELS.get(measure, measure)
            + "<extra></extra>",
            marker_color=BAR_COLOUR,
            selectedpoints=[i for i, k in enumerate(keys) if k in selected] if selected else None,
            selected={"marker": {"color": ACCENT_COLOUR}},
        )
    )
    fig.update_layout(
        title=title,
        xaxis_title=MEASURE_LABELS.get(measure, measure),
        yaxis={"title": "", "autorange": "reversed", "type": "category"},
        showlegend=False,
        clickmode="event+select",
    )
    return _tidy(fig, height=max(200, 90 + 26 * len(keys)))


def category_conversion_chart(conversion: pd.DataFrame) -> go.Figure:
    """View-to-purchase rate per category, best first."""
    frame = conversion[conversion[an.VIEWERS] > 0].sort_values(
        an.VIEW_TO_PURCHASE, ascending=False, kind="stable"
    )
    rates = frame[an.VIEW_TO_PURCHASE].to_numpy(dtype=float)
    fig = go.Figure(
        go.Bar(
            x=rates,
            y=_labels(frame[schema.CATEGORY].tolist()),
            orientation="h",
            marker_color=EVENT_COLOURS[schema.PURCHASE],
            text=[f"{r:.1%}" for r in rates],
            textposition="auto",
            customdata=np.column_stack([frame[an.CONVERTED], frame[an.VIEWERS]]),
            hovertemplate="%{y}: %{customdata[0]:,} of %{customdata[1]:,} viewers bought "
            "(%{x:.1%})<extra></extra>",
        )
    )
    fig.update_layout(
        title="View-to-purchase rate per category",
        xaxis={"title": "share of the category's viewers who bought in it", "tickformat": ".0%"},
        yaxis={"title": "", "autorange": "reversed", "type": "category"},
        showlegend=False,
    )
    return _tidy(fig, height=max(200, 90 + 24 * len(frame)))


def price_box_chart(prices: pd.DataFrame) -> go.Figure:
    """Item prices per category as boxes: 25th–75th percentile, median, whiskers 10th–90th."""
    labels = _labels(prices[schema.CATEGORY].tolist())
    fig = go.Figure(
        go.Box(
            x=labels,
            q1=prices[an.P25],
            median=prices[an.MEDIAN],
            q3=prices[an.P75],
            lowerfence=prices[an.P10],
            upperfence=prices[an.P90],
            mean=prices[an.MEAN],
            marker_color=BAR_COLOUR,
            boxpoints=False,
        )
    )
    fig.update_layout(
        title="Item prices per category",
        yaxis={"title": "price (log scale)", "type": "log", "tickvals": _log_ticks(prices)},
        xaxis={"title": "", "type": "category"},
        showlegend=False,
    )
    return _tidy(fig, height=380)


def _log_ticks(prices: pd.DataFrame) -> list[float]:
    """1-2-5 ticks covering the whiskers, for a readable log axis."""
    low, high = prices[an.P10].min(), prices[an.P90].max()
    if not (np.isfinite(low) and np.isfinite(high)) or low <= 0:
        return []
    ticks = [m * 10.0**e for e in range(-3, 10) for m in (1, 2, 5)]
    return [t for t in ticks if low / 2 <= t <= high * 2]


def long_tail_chart(tail: an.LongTail) -> go.Figure:
    """Cumulative share of units sold against the share of best-selling items."""
    curve = tail.curve
    top = tail.share_of_top(0.2)
    fig = go.Figure(reference_line([0, 1], [0, 1], "every item sells the same"))
    fig.update_traces(hoverinfo="skip")
    fig.add_trace(
        go.Scatter(
            x=curve[an.ITEM_SHARE],
            y=curve[an.SALES_SHARE],
            name=f"this shop ({tail.items:,} items sold)",
            mode="lines",
            line={"color": BAR_COLOUR, "width": 3},
            hovertemplate="top %{x:.0%} of items: %{y:.1%} of " + tail.measure + "<extra></extra>",
        )
    )
    if np.isfinite(top):
        fig.add_trace(
            go.Scatter(
                x=[0.2],
                y=[top],
                mode="markers+text",
                marker={"size": 11, "color": ACCENT_COLOUR},
                text=[f"top 20% → {top:.0%}"],
                textposition="bottom right",
                showlegend=False,
                hoverinfo="skip",
            )
        )
    fig.update_layout(
        title=f"Long tail: share of {tail.measure} sold by the best-selling items",
        xaxis={"title": "best-selling items (share of items sold)", "tickformat": ".0%"},
        yaxis={"title": f"share of {tail.measure}", "tickformat": ".0%", "range": [0, 1.02]},
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
    )
    return _tidy(fig, height=380)


def describe_long_tail(tail: an.LongTail) -> str:
    """One sentence on how concentrated sales are, e.g. for a caption."""
    top = tail.share_of_top(0.2)
    if not np.isfinite(top):
        return "No item was sold in this selection."
    return (
        f"The best-selling 20% of the {tail.items:,} items sold make {top:.0%} of the "
        f"{tail.measure}; the top 1% make {tail.share_of_top(0.01):.0%}."
    )


# --- customers -----------------------------------------------------------------------------


def segment_bar(segments: pd.DataFrame, *, selected: Collection[str] = ()) -> go.Figure:
    """Buyers per RFM segment (best first), with each segment's share of revenue."""
    names = segments[an.SEGMENT].astype(str).tolist()
    users = segments[an.USERS].to_numpy(dtype=float)
    shares = segments[an.REVENUE_SHARE].to_numpy(dtype=float)
    text = [
        f"{u:,.0f}" + (f" · {s:.0%} of revenue" if np.isfinite(s) else "")
        for u, s in zip(users, shares, strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=users,
            y=names,
            orientation="h",
            customdata=names,
            text=text,
            textposition="auto",
            marker_color=[SEGMENT_COLOURS.get(n, OTHER_COLOUR) for n in names],
            hovertemplate="%{y}: %{text}<extra></extra>",
            selectedpoints=[i for i, n in enumerate(names) if n in selected] if selected else None,
        )
    )
    fig.update_layout(
        title="Buyers per RFM segment (click a bar to list its buyers)",
        xaxis_title="buyers",
        yaxis={"title": "", "autorange": "reversed", "type": "category"},
        showlegend=False,
        clickmode="event+select",
    )
    return _tidy(fig, height=90 + 28 * len(names))


def segment_treemap(segments: pd.DataFrame) -> go.Figure:
    """RFM segments as areas proportional to their buyers, with their revenue share."""
    frame = segments[segments[an.USERS] > 0]
    names = frame[an.SEGMENT].astype(str).tolist()
    shares = frame[an.REVENUE_SHARE].to_numpy(dtype=float)
    revenue = [f"{s:.0%} of revenue" if np.isfinite(s) else "" for s in shares]
    fig = go.Figure(
        go.Treemap(
            labels=names,
            parents=[""] * len(names),
            values=frame[an.USERS],
            customdata=revenue,
            texttemplate="%{label}<br>buyers: %{value:,}<br>%{customdata}",
            hovertemplate="%{label}: buyers %{value:,}, %{customdata}<extra></extra>",
            marker={"colors": [SEGMENT_COLOURS.get(n, OTHER_COLOUR) for n in names]},
            sort=False,
        )
    )
    fig.update_layout(title="RFM segments by number of buyers")
    return _tidy(fig, height=380)


def new_vs_returning_chart(frame: pd.DataFrame) -> go.Figure:
    """Weekly active users, stacked into new (first event that week) and returning."""
    fig = go.Figure()
    for column, name, colour in (
        (an.NEW_USERS, "new", NEW_COLOUR),
        (an.RETURNING_USERS, "returning", RETURNING_COLOUR),
    ):
        fig.add_trace(
            go.Bar(
                x=frame[an.PERIOD],
                y=frame[column],
                name=name,
                marker_color=colour,
                hovertemplate="week of %{x|%Y-%m-%d}: %{y:,} " + name + " users<extra></extra>",
            )
        )
    fig.update_layout(
        title="Active users per week: new and returning",
        barmode="stack",
        yaxis_title="users",
        xaxis_title="week (Monday)",
    )
    return _tidy(_week_ticks(fig, frame[an.PERIOD]))


def retention_heatmap(cohorts: an.CohortTable) -> go.Figure:
    """Share of each monthly acquisition cohort active (or buying) k months later."""
    shares = cohorts.shares
    z = shares.to_numpy(dtype=float)
    later = z[:, 1:] if z.shape[1] > 1 else z
    top = float(np.nanmax(later)) if np.isfinite(later).any() else 1.0
    text = np.where(np.isfinite(z), np.vectorize(lambda v: f"{v:.0%}")(np.nan_to_num(z)), "")
    who, start = ("users", "event") if cohorts.metric == "active" else ("buyers", "purchase")
    rows = [
        f"{month:%Y-%m} ({size:,} {who})"
        for month, size in zip(shares.index, cohorts.sizes, strict=True)
    ]
    doing = "active" if cohorts.metric == "active" else "buying"
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"+{k}" for k in shares.columns],
            y=rows,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=max(top, 1e-9),
            showscale=False,
            hovertemplate="%{y}, month %{x}: %{z:.1%} " + doing + "<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"Monthly cohorts: share {doing} k months after their first month",
        xaxis={"title": f"months since the first {start}", "type": "category"},
        yaxis={"title": "", "autorange": "reversed", "type": "category"},
    )
    return _tidy(fig, height=110 + 30 * max(len(rows), 1))
