"""Plotly figure builders for the Recommendations page; no Streamlit here.

Product names and categories come from the shop's files and are untrusted: Plotly reads a few
HTML tags in text (links, bold, line breaks), so each one is escaped with ``_plain`` before it
reaches a figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core import schema
from core.ml import metrics as m
from core.plotting import (
    EVENT_COLOURS,
    MLP_COLOUR,
    OTHER_COLOUR,
    PRIMARY_COLOUR,
    add_date_marks,
    chart_labels,
    chart_text,
    score_bars,
    tidy,
)
from core.recommend import BASELINES, MODEL_LABELS, Recommender

MODEL_COLOURS = {
    m.MLP: MLP_COLOUR,
    "popularity": PRIMARY_COLOUR,
    "category_popularity": "#54a24b",
    "item_knn": "#b279a2",
    "random": "#bab0ac",
}
SHORT_LABELS = {
    m.MLP: "MLP ranker",
    "popularity": "most popular",
    "category_popularity": "popular in categories",
    "item_knn": "item-kNN",
    "random": "random",
}
METRIC_LABELS = {
    m.PRECISION: "precision",
    m.RECALL: "recall",
    m.F1: "F1",
    m.MAP: "MAP",
    m.NDCG: "NDCG",
    m.HIT_RATE: "hit rate",
    "coverage": "coverage",
    "novelty": "novelty (bits)",
    "diversity": "diversity",
}
CURVE_METRICS = (m.PRECISION, m.RECALL, m.NDCG, m.HIT_RATE)
EVENT_ORDER = (schema.VIEW, schema.FAV, schema.CART, schema.PURCHASE, schema.RETURN)
POPULARITY_GROUP = "popularity group"
SHARE = "share"
PAST_ACTIVITY = "past activity"
_NEVER_SEEN = "never seen before"
HOVER_CHARS = 500  # a hover shows a long name whole, up to this


def _tidy(fig: go.Figure, *, height: int = 340, top: int = 50) -> go.Figure:
    return tidy(fig, height=height, top=top)


def _line(name: str) -> dict[str, object]:
    return {"color": MODEL_COLOURS.get(name, OTHER_COLOUR), "width": 3 if name == m.MLP else 1.5}


def training_windows(
    *, data_start: pd.Timestamp, cutoff: pd.Timestamp, horizon_days: int, windows: int
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The ranker's training windows ``[start, end)``, newest first, as ``fit_recommender``
    takes them: ``windows`` spans of H days ending at ``cutoff``, none starting before the data.
    """
    horizon = pd.Timedelta(days=horizon_days)
    spans = []
    for window in range(1, windows + 1):
        start = cutoff - window * horizon
        if start <= data_start:
            break
        spans.append((start, start + horizon))
    return spans


def recommender_timeline(
    *,
    data_start: pd.Timestamp,
    data_end: pd.Timestamp,
    cutoff: pd.Timestamp,
    horizon_days: int,
    windows: int,
    evaluate: bool,
) -> go.Figure:
    """The data, the ranker's training windows, what the recommender knows and the test span.

    Args:
        data_end: the exclusive end of the data (midnight after the last event's day).
        cutoff: the evaluation cutoff, or ``data_end`` when recommending from all the data.
        windows: ``RecommenderConfig.train_windows``.
        evaluate: draw the test window ``[cutoff, cutoff + H)`` that every model is scored on.
    """
    spans = training_windows(
        data_start=data_start, cutoff=cutoff, horizon_days=horizon_days, windows=windows
    )
    rows = [("all data", data_start.normalize(), data_end, "data")]
    for number, (start, end) in enumerate(reversed(spans), start=1):
        rows.append((f"training window {number}", start, end, "training labels (purchases)"))
    rows.append(("history used", data_start.normalize(), cutoff, "history the recommender uses"))
    if evaluate:
        end = cutoff + pd.Timedelta(days=horizon_days)
        rows.append(("test window", cutoff, end, "test window (scored)"))
    colours = {
        "data": "#d9dde4",
        "training labels (purchases)": PRIMARY_COLOUR,
        "history the recommender uses": "#9ecae9",
        "test window (scored)": MLP_COLOUR,
    }
    fig = go.Figure()
    for part, colour in colours.items():
        chosen = [r for r in rows if r[3] == part]
        if not chosen:
            continue
        fig.add_trace(
            go.Bar(
                base=[r[1] for r in chosen],
                x=[(r[2] - r[1]).total_seconds() * 1000 for r in chosen],
                y=[r[0] for r in chosen],
                orientation="h",
                name=part,
                marker_color=colour,
                customdata=[[f"{r[1]:%Y-%m-%d}", f"{r[2]:%Y-%m-%d}"] for r in chosen],
                hovertemplate="%{y}: %{customdata[0]} to %{customdata[1]} (exclusive)"
                "<extra></extra>",
            )
        )
    label = f"cutoff {cutoff:%Y-%m-%d}" if evaluate else "data ends: recommending from here"
    marks = [(cutoff, label, "right" if evaluate else "left")]
    add_date_marks(fig, marks)
    fig.update_xaxes(type="date", title_text="date")
    fig.update_yaxes(
        autorange="reversed",
        title_text="",
        categoryorder="array",
        categoryarray=[r[0] for r in rows],
    )
    what = (
        f"scored on the {horizon_days} days after the cutoff"
        if evaluate
        else "trained on everything, for recommending now"
    )
    fig.update_layout(
        title=f"Time split: {len(spans)} training windows of {horizon_days} days; {what}",
        barmode="overlay",
        legend={"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0},
    )
    return _tidy(fig, height=150 + 28 * len(rows), top=70)


def model_scores_bar(scores: pd.DataFrame, *, k: int, metric: str = m.NDCG) -> go.Figure:
    """One ranking metric at k for every model as horizontal bars, the MLP ranker highlighted.

    Args:
        scores: ``RecommendationEvaluation.scores`` (one row per model name).
        k: the list length the scores were measured at.
    """
    values = scores[metric].to_numpy(dtype=float)
    label = f"{METRIC_LABELS.get(metric, metric)}@{k}"
    better = "lower" if m.lower_is_better(metric) else "higher"
    return score_bars(
        [MODEL_LABELS.get(str(n), str(n)) for n in scores.index],
        values,
        highlighted=[n == m.MLP for n in scores.index],
        text=[f"{v:.3f}" if np.isfinite(v) else "n/a" for v in values],
        title=f"{label} by model ({better} is better)",
        axis_title=label,
    )


def metric_by_k_line(
    by_k: pd.DataFrame, *, k: int, metrics: Sequence[str] = CURVE_METRICS
) -> go.Figure:
    """Ranking metrics against the list length k, one line per model, the chosen k marked.

    Args:
        by_k: ``RecommendationEvaluation.by_k`` (columns ``k``, the metrics and ``model``).
    """
    fig = make_subplots(
        rows=2,
        cols=2,
        subplot_titles=[f"{METRIC_LABELS[name]} @ k" for name in metrics],
        horizontal_spacing=0.08,
        vertical_spacing=0.16,
    )
    models = [name for name in (m.MLP, *BASELINES) if name in set(by_k["model"])]
    for position, metric in enumerate(metrics):
        row, col = divmod(position, 2)
        for name in models:
            curve = by_k[by_k["model"] == name].sort_values(m.K)
            fig.add_trace(
                go.Scatter(
                    x=curve[m.K],
                    y=curve[metric],
                    mode="lines+markers",
                    name=SHORT_LABELS.get(name, name),
                    line=_line(name),
                    legendgroup=name,
                    showlegend=position == 0,
                    hovertemplate=f"{SHORT_LABELS.get(name, name)}: {METRIC_LABELS[metric]}"
                    "@%{x} = %{y:.3f}<extra></extra>",
                ),
                row=row + 1,
                col=col + 1,
            )
        fig.add_vline(x=k, line_dash="dot", line_color="#777", row=row + 1, col=col + 1)
    ticks = sorted(by_k[m.K].unique())
    fig.update_xaxes(type="log", tickvals=ticks, ticktext=[str(t) for t in ticks])
    fig.update_xaxes(title_text="k (products recommended)", row=2)
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(
        title=f"Ranking metrics against k (dotted line: k = {k})",
        legend={"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0},
    )
    return _tidy(fig, height=560, top=80)


def accuracy_coverage_scatter(scores: pd.DataFrame, *, k: int, accuracy: str = m.NDCG) -> go.Figure:
    """One point per model: catalogue coverage against an accuracy metric, both at k.

    Args:
        scores: ``RecommendationEvaluation.scores`` (one row per model name).
    """
    fig = go.Figure()
    for name in scores.index:
        fig.add_trace(
            go.Scatter(
                x=[scores.loc[name, "coverage"]],
                y=[scores.loc[name, accuracy]],
                mode="markers+text",
                name=SHORT_LABELS.get(str(name), str(name)),
                text=[SHORT_LABELS.get(str(name), str(name))],
                textposition="top center",
                marker={
                    "size": 18 if name == m.MLP else 12,
                    "color": MODEL_COLOURS.get(str(name), OTHER_COLOUR),
                },
                hovertemplate=f"{MODEL_LABELS.get(str(name), name)}<br>coverage %{{x:.1%}}<br>"
                f"{METRIC_LABELS[accuracy]}@{k} %{{y:.3f}}<extra></extra>",
            )
        )
    fig.update_xaxes(title_text=f"catalogue coverage @ {k} (share of items ever recommended)")
    fig.update_xaxes(tickformat=".0%", range=[-0.05, 1.08])
    fig.update_yaxes(title_text=f"{METRIC_LABELS[accuracy]} @ {k}", rangemode="tozero")
    fig.update_layout(
        title=f"Accuracy against coverage at k = {k} (top right is best)", showlegend=False
    )
    return _tidy(fig, height=420)


def item_user_counts(recommender: Recommender) -> pd.Series:
    """Distinct users who touched each item before the recommender's cutoff (item id index)."""
    inter = recommender.interactions
    seen = np.asarray((inter.weights > 0).sum(axis=0)).ravel()
    return pd.Series(seen, index=inter.item_ids, name="users")


def long_tail_shares(
    recommendations: dict[str, pd.DataFrame],
    item_counts: pd.Series,
    *,
    k: int,
    groups: int = 10,
) -> pd.DataFrame:
    """How each model's top-k slots spread over popularity groups of the catalogue.

    The items seen before the cutoff are sorted from most to least popular (distinct users,
    ties by item id) and cut into ``groups`` groups of equal item count; items never seen get
    a group of their own.

    Args:
        recommendations: model name -> long frame (``user_id``, ``item_id``, ``rank``).
        item_counts: item id -> distinct users before the cutoff (``item_user_counts``).

    Returns:
        Columns ``popularity group`` (labels, most popular first), ``model`` (each model and
        ``past activity``: the share of all past user-item touches per group) and ``share``
        (0 to 1; each model's shares add up to 1).
    """
    seen = item_counts[item_counts > 0]
    order = seen.reset_index()
    order.columns = [schema.ITEM_ID, "users"]
    order = order.sort_values(["users", schema.ITEM_ID], ascending=[False, True], kind="stable")
    size = len(order)
    groups = max(1, min(groups, size)) if size else 1
    bucket = (np.arange(size) * groups // max(size, 1)).astype(int)
    edges = [round(100 * g / groups) for g in range(groups + 1)]
    labels = [f"top {edges[1]}%"] + [f"{edges[g]}–{edges[g + 1]}%" for g in range(1, groups)]
    group_of = pd.Series(np.asarray(labels, dtype=object)[bucket], index=order[schema.ITEM_ID])
    categories = [*labels, _NEVER_SEEN]
    rows = []
    past = pd.Series(order["users"].to_numpy(), index=group_of.to_numpy()).groupby(level=0).sum()
    total = max(float(past.sum()), 1.0)
    for label in categories:
        rows.append((label, PAST_ACTIVITY, float(past.get(label, 0.0)) / total))
    for name, frame in recommendations.items():
        top = m.select_top_k(frame, k=k)
        placed = top[schema.ITEM_ID].astype("str").map(group_of).fillna(_NEVER_SEEN)
        counts = placed.value_counts()
        for label in categories:
            rows.append((label, name, float(counts.get(label, 0)) / max(len(top), 1)))
    result = pd.DataFrame(rows, columns=[POPULARITY_GROUP, "model", SHARE])
    keep = (result[POPULARITY_GROUP] != _NEVER_SEEN) | (
        result.groupby(POPULARITY_GROUP)[SHARE].transform("sum") > 0
    )
    return result[keep].reset_index(drop=True)


def long_tail_line(shares: pd.DataFrame, *, k: int) -> go.Figure:
    """Share of each model's recommendations per popularity group, past activity dashed.

    Args:
        shares: ``long_tail_shares``.
    """
    fig = go.Figure()
    for name, part in shares.groupby("model", sort=False):
        name = str(name)
        past = name == PAST_ACTIVITY
        fig.add_trace(
            go.Scatter(
                x=part[POPULARITY_GROUP],
                y=part[SHARE],
                mode="lines+markers",
                name="past activity (all users' touches)" if past else SHORT_LABELS.get(name, name),
                line={"color": "#333", "dash": "dash", "width": 2} if past else _line(name),
                hovertemplate="%{x}: %{y:.1%}<extra></extra>",
            )
        )
    fig.update_xaxes(
        title_text="items grouped by popularity before the cutoff (most popular first)",
        type="category",
    )
    fig.update_yaxes(title_text=f"share of the top-{k} slots", tickformat=".0%", rangemode="tozero")
    fig.update_layout(
        title="Long tail: where the recommendations land, from popular to niche items",
        legend={"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0},
    )
    return _tidy(fig, height=440)


def category_confusion_heatmap(confusion: pd.DataFrame) -> go.Figure:
    """The next-category model's confusion matrix: counts, coloured by the share of each row.

    Args:
        confusion: ``CategoryModelReport.confusion`` (actual categories as rows, predicted as
            columns); missing categories on either side are added as zeros.
    """
    names = sorted(set(map(str, confusion.index)) | set(map(str, confusion.columns)))
    table = confusion.copy()
    table.index, table.columns = table.index.map(str), table.columns.map(str)
    table = table.reindex(index=names, columns=names, fill_value=0)
    counts = table.to_numpy(dtype=float)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    labels = chart_labels(names)  # shortened: the full names are in the hover
    full = [chart_text(name, size=HOVER_CHARS) for name in names]
    fig = go.Figure(
        go.Heatmap(
            z=share,
            x=labels,
            y=labels,
            text=[[f"{int(c):,}" if c else "" for c in row] for row in counts],
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar={"title": "share of row", "tickformat": ".0%"},
            customdata=[
                [[f"{int(c):,}", actual, predicted] for c, predicted in zip(row, full, strict=True)]
                for row, actual in zip(counts, full, strict=True)
            ],
            hovertemplate="bought next: %{customdata[1]}<br>predicted: %{customdata[2]}<br>"
            "%{customdata[0]} users (%{z:.0%} of the row)<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="predicted next category", tickangle=-40)
    fig.update_yaxes(title_text="category actually bought next", autorange="reversed")
    fig.update_layout(title="Next-category model: what users bought next vs the prediction")
    return _tidy(fig, height=max(380, 160 + 26 * len(names)))


def user_history_scatter(
    history: pd.DataFrame,
    *,
    cutoff: pd.Timestamp | None = None,
    horizon_days: int | None = None,
) -> go.Figure:
    """One user's events over time, one row per event type, with the product in the hover.

    Args:
        history: ``recommend.user_history`` (timestamp, event_type, item_id, name, category,
            price).
        cutoff: draws the cutoff; with ``horizon_days``, shades the test window after it.
    """
    fig = go.Figure()
    present = [e for e in EVENT_ORDER if e in set(history[schema.EVENT_TYPE].dropna())]
    others = sorted(set(history[schema.EVENT_TYPE].dropna()) - set(EVENT_ORDER))
    for event in [*present, *others]:
        part = history[history[schema.EVENT_TYPE] == event]
        hover = [
            f"{chart_text(n if isinstance(n, str) else i)}<br>"
            f"{chart_text(c) if isinstance(c, str) else ''}"
            f"{'' if pd.isna(p) else f' · {p:,.2f}'}"
            for n, i, c, p in zip(
                part[schema.NAME],
                part[schema.ITEM_ID],
                part[schema.CATEGORY],
                part[schema.PRICE],
                strict=True,
            )
        ]
        fig.add_trace(
            go.Scatter(
                x=part[schema.TIMESTAMP],
                y=[chart_text(event)] * len(part),
                mode="markers",
                name=chart_text(event),
                marker={
                    "size": 11,
                    "color": EVENT_COLOURS.get(event, "#777"),
                    "line": {"width": 1, "color": "white"},
                },
                text=hover,
                hovertemplate="%{x|%Y-%m-%d %H:%M}<br>%{text}<extra>"
                + chart_text(event)
                + "</extra>",
            )
        )
    if cutoff is not None:
        if horizon_days:
            fig.add_vrect(
                x0=cutoff,
                x1=cutoff + pd.Timedelta(days=horizon_days),
                fillcolor=MLP_COLOUR,
                opacity=0.08,
                line_width=0,
            )
        add_date_marks(fig, [(cutoff, f"cutoff {cutoff:%Y-%m-%d}", "right")])
    fig.update_yaxes(
        title_text="",
        categoryorder="array",
        categoryarray=[chart_text(e) for e in [*present, *others][::-1]],
    )
    fig.update_xaxes(title_text="time")
    fig.update_layout(title="History", showlegend=False)
    return _tidy(fig, height=120 + 45 * max(len(present) + len(others), 1), top=60)
