"""The network trainer's chart: per-epoch curves of one network, with the kept epoch marked."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.ml import network as net
from core.plotting import MLP_COLOUR, tidy


def _integer_epochs(fig: go.Figure, curves: pd.DataFrame) -> None:
    """Whole-number epoch ticks while there are only a few epochs."""
    if len(curves) <= 10:
        fig.update_xaxes(dtick=1, tick0=1)


def _best_epoch_marker(fig: go.Figure, best_epoch: int, **where: int) -> None:
    fig.add_vline(x=best_epoch, line_dash="dash", line_color="#555", **where)


def training_curves_line(
    curves: pd.DataFrame, *, task: net.Task, best_epoch: int, title: str | None = None
) -> go.Figure:
    """Per-epoch curves of one network, with the best (kept) epoch marked.

    The regressor shows training loss (half the squared error plus the L2 penalty, as the
    optimiser sees it) beside the real training and validation MSE; the classifier shows its
    training loss and validation log-loss above the training and validation accuracy.
    """
    # Markers keep the first few epochs visible (a single point draws no line).
    mode = "lines+markers" if len(curves) <= 25 else "lines"
    if task == "regression":
        fig = go.Figure()
        for column, style in (
            (net.TRAINING_LOSS, {"color": "#999", "dash": "dot"}),
            (net.TRAIN_MSE, {"color": "#4c78a8"}),
            (net.VALIDATION_MSE, {"color": MLP_COLOUR}),
        ):
            if column in curves:
                fig.add_trace(
                    go.Scatter(
                        x=curves[net.EPOCH], y=curves[column], name=column, mode=mode, line=style
                    )
                )
        fig.update_yaxes(title_text="orders² (lower is better)", rangemode="tozero")
        fig.update_xaxes(title_text="epoch")
        _integer_epochs(fig, curves)
        if best_epoch:
            _best_epoch_marker(fig, best_epoch)
        fig.update_layout(
            title=title or f"Orders network: training curves (best epoch {best_epoch})"
        )
        return tidy(fig)
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=("loss (lower is better)", "accuracy (higher is better)"),
    )
    for column, row, style in (
        (net.TRAINING_LOSS, 1, {"color": "#999", "dash": "dot"}),
        (net.VALIDATION_LOG_LOSS, 1, {"color": MLP_COLOUR}),
        (net.TRAIN_ACCURACY, 2, {"color": "#4c78a8"}),
        (net.VALIDATION_ACCURACY, 2, {"color": MLP_COLOUR, "dash": "dash"}),
    ):
        if column in curves:
            fig.add_trace(
                go.Scatter(
                    x=curves[net.EPOCH], y=curves[column], name=column, mode=mode, line=style
                ),
                row=row,
                col=1,
            )
    if best_epoch:
        for row in (1, 2):
            _best_epoch_marker(fig, best_epoch, row=row, col=1)
    fig.update_xaxes(title_text="epoch", row=2, col=1)
    fig.update_yaxes(title_text="log-loss", row=1, col=1)
    fig.update_yaxes(title_text="share correct", tickformat=".1%", row=2, col=1)
    _integer_epochs(fig, curves)
    fig.update_layout(title=title or f"Buyer network: training curves (best epoch {best_epoch})")
    return tidy(fig, height=440, top=80)
