"""A stakeholder report of saved runs: one self-contained HTML file.

The report holds plotly.js once, inline, and every figure as a ``<div>``; the styles are
inline too, so it opens without a network connection and can be mailed or archived as is.

Everything that comes from the data or a manifest (run names, tags, file names, user ids,
product names, reasons) is untrusted: it reaches the page only through ``html.escape`` or
``DataFrame.to_html(escape=True)``, and figures carry only labels written here.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from core import images, plotting, purchase, recommend, schema
from core import overview as an
from core.data.loading import ShopData
from core.data.photos import Photo
from core.errors import RunError, ShopLensError
from core.images import charts as image_charts
from core.images.thumbnails import THUMBNAIL_PX, thumbnail_url
from core.ml import charts as ml_charts
from core.ml import metrics as m
from core.ml.layers import format_hidden_layers
from core.ml.network import NetworkConfig
from core.overview import charts as oc
from core.purchase import charts
from core.recommend import charts as rc
from core.runs.compare import beats_baselines, versus_baselines
from core.runs.manifest import (
    DatasetSummary,
    ImageDetails,
    PurchaseDetails,
    RecommendDetails,
    RunManifest,
)
from core.runs.names import TASK_LABELS
from core.runs.store import LoadedRun, RunStore
from core.runs.tasks import recommender_from_run
from core.services import shop_photo_vectors

MODEL_COLUMN: Final = "model"
EXAMPLE_USERS: Final = 3
KPI_DAYS: Final = 30
BOUGHT_MARK: Final = "✔ bought"
_PLOTLY_CONFIG: Final = {"displaylogo": False, "responsive": True}
# Every figure gets Plotly's own template, whatever the process's default is: inside the app
# Streamlit makes its own template the default, whose colours are placeholders that only the
# app's page fills in, and whose axes do not make room for long labels.
_TEMPLATE: Final = "plotly"
STOPPED_MARK: Final = "stopped"
_CSS: Final = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color: #1f2430; background: #fff; margin: 0; line-height: 1.45; }
header { background: #1f2430; color: #fff; padding: 24px 32px; }
header h1 { margin: 0 0 4px; font-size: 1.7em; }
header p { margin: 0; color: #cfd3dc; }
main { max-width: 1150px; margin: 0 auto; padding: 8px 32px 48px; }
section { border-top: 1px solid #e3e6ec; margin-top: 28px; padding-top: 8px; }
h2 { font-size: 1.35em; margin: 16px 0 4px; }
h3 { font-size: 1.08em; margin: 22px 0 6px; }
h4 { font-size: 1em; margin: 16px 0 4px; }
.meta { color: #5b6272; margin: 0 0 8px; }
.tag { display: inline-block; background: #eef0f4; border-radius: 9px; padding: 0 8px;
  margin-right: 4px; font-size: .9em; }
.tag.stopped { background: #fde2d8; color: #8a2b0c; font-weight: 600; }
h2 .tag { font-size: .62em; vertical-align: middle; margin-left: 6px; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: .92em; }
th, td { border: 1px solid #e3e6ec; padding: 4px 9px; text-align: left; vertical-align: top; }
th { background: #f4f5f8; font-weight: 600; }
table.numbers td:not(:first-child) { text-align: right; font-variant-numeric: tabular-nums; }
img.thumb { display: block; border-radius: 4px; }
table.scores tbody tr:first-child { background: #fdece7; font-weight: 600; }
table.settings th { width: 230px; }
.how { color: #5b6272; font-size: .9em; margin: 2px 0 18px; }
.note { background: #fff8e1; border-left: 4px solid #f2c94c; padding: 6px 12px; margin: 8px 0; }
.headline { margin: 6px 0; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
@media (max-width: 900px) { .pair { grid-template-columns: 1fr; } }
figure { margin: 0; }
nav ul { margin: 4px 0; padding-left: 20px; }
footer { color: #5b6272; font-size: .85em; max-width: 1150px; margin: 0 auto;
  padding: 0 32px 32px; }
"""


class ReportError(ShopLensError):
    """A report that cannot be made from the runs asked for."""


# --- small HTML helpers --------------------------------------------------------------------


def _e(value: object) -> str:
    """Text shown literally: every ``<``, ``>``, ``&`` and quote escaped."""
    return html.escape(str(value), quote=True)


def _note(text: str) -> str:
    return f'<p class="note">{_e(text)}</p>'


def _chart_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text from a manifest made inert inside a chart: Plotly renders tags such as ``<a>`` in
    labels, so angle brackets become look-alike characters."""
    text = frame.select_dtypes(include=["object", "string"]).columns
    inert = {c: frame[c].astype("str").str.replace("<", "‹").str.replace(">", "›") for c in text}
    return frame.assign(**inert)


def _figure(fig: go.Figure, how_to_read: str) -> str:
    """A figure as a ``<div>`` (plotly.js is loaded once, in the head) and its reading hint."""
    fig = go.Figure(fig).update_layout(template=_TEMPLATE)
    div = fig.to_html(full_html=False, include_plotlyjs=False, config=_PLOTLY_CONFIG)
    caption = f'<figcaption class="how">How to read: {_e(how_to_read)}</figcaption>'
    return f"<figure>{div}{caption}</figure>"


def _settings_table(rows: Sequence[tuple[str, object]]) -> str:
    body = "".join(f"<tr><th>{_e(key)}</th><td>{_e(value)}</td></tr>" for key, value in rows)
    return f'<table class="settings"><tbody>{body}</tbody></table>'


def _frame_table(frame: pd.DataFrame, *, classes: str, table_id: str | None = None) -> str:
    """An HTML table: a column the data never fills (categories of data that has none) left
    out, a missing value shown as a dash."""
    frame = plotting.filled_columns(frame)
    shown = frame.astype(object).where(frame.notna(), plotting.MISSING)
    return shown.to_html(escape=True, index=False, classes=classes, table_id=table_id, border=0)


def _number(value: object, decimals: int) -> str:
    """A score as shown in the tables: fixed decimals, thousands separated, n/a when missing."""
    try:
        number = float(value) if isinstance(value, int | float | str) else math.nan
    except (TypeError, ValueError):
        return "n/a"
    if not math.isfinite(number):
        return "n/a"
    text = f"{number:,.{decimals}f}"
    # A small negative number rounds to "-0.000": show it as zero.
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _day(value: object) -> str:
    """``3 May 2026`` from a timestamp or ISO text; the text itself when it is not a date."""
    try:
        stamp = pd.Timestamp(value) if isinstance(value, str | dt.date | pd.Timestamp) else pd.NaT
    except (TypeError, ValueError):
        return str(value)
    if pd.isna(stamp):
        return "unknown"
    return f"{stamp.day} {stamp:%b %Y}"


def _stopped_tag(manifest: RunManifest) -> str:
    """A ``stopped`` tag after a run's name when its training was cut short, else nothing."""
    if manifest.status != "stopped":
        return ""
    return f' <span class="tag stopped">{STOPPED_MARK}</span>'


def _anchor(text: str) -> str:
    return "".join(c if c.isalnum() or c == "-" else "-" for c in text)


# --- datasets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Dataset:
    fingerprint: str
    summary: DatasetSummary
    runs: tuple[LoadedRun, ...]
    shop: ShopData | None
    problem: str | None


def _dataset_section(dataset: _Dataset) -> str:
    summary = dataset.summary
    start, end = summary.start, summary.end
    span = "unknown"
    if start is not None and end is not None:
        days = (end.normalize() - start.normalize()).days + 1
        span = f"{_day(start)} to {_day(end)} ({days:,} days)"
    items = summary.items
    names = ", ".join(
        f"{r.manifest.name} ({r.run_id}"
        + (f", {STOPPED_MARK})" if r.manifest.status == "stopped" else ")")
        for r in dataset.runs
    )
    rows = [
        ("Events file", summary.events_file or "unknown"),
        ("Products file", summary.products_file or "none"),
        ("Events", _number(summary.events, 0)),
        ("Users", _number(summary.users, 0)),
        ("Items", "no item ids" if items is None else _number(items, 0)),
        ("Time span", span),
        ("Fingerprint", dataset.fingerprint),
        ("Used by", names),
    ]
    parts = [
        f'<section id="data-{_anchor(dataset.fingerprint)}">',
        f"<h2>Data: {_e(summary.events_file or dataset.fingerprint)}</h2>",
        _settings_table(rows),
        "<h3>The shop at a glance</h3>",
    ]
    if dataset.shop is None:
        parts.append(_note(dataset.problem or "The data is not kept in the runs folder."))
    else:
        parts.append(_overview(dataset.shop))
    parts.append("</section>")
    return "".join(parts)


def _overview(shop: ShopData) -> str:
    """KPIs of the data's last 30 days against the 30 days before, and the funnel."""
    events = shop.events.frame
    products = shop.product_frame
    options = an.list_filter_options(events, products)
    if options.start is None or options.end is None:
        return _note("This data has no events, so there are no KPIs to show.")
    last = options.end.normalize()
    first = max(options.start.normalize(), last - pd.Timedelta(days=KPI_DAYS - 1))
    overview = an.compute_overview(events, products, start=first, end=last + pd.Timedelta(days=1))
    kpis = overview.kpis
    days = (last - first).days + 1
    previous_last = kpis.start - pd.Timedelta(days=1)
    current = f"{first:%Y-%m-%d} to {last:%Y-%m-%d}"
    before = f"{kpis.previous_start:%Y-%m-%d} to {previous_last:%Y-%m-%d}"
    rows = []
    for kpi in kpis.answerable(options.event_types):
        row = kpis.table.loc[kpi]
        unit = str(row[an.UNIT])
        rows.append(
            {
                "KPI": str(row[an.LABEL]),
                current: an.format_kpi(float(row[an.VALUE]), unit),
                before: an.format_kpi(float(row[an.PREVIOUS]), unit),
                "change": an.format_change(row) or "n/a",
            }
        )
    caption = (
        f"The last {days} days of the data compared with the {days} days before. Shares change "
        "in percentage points (pp); conversion is buyers ÷ active users."
    )
    if kpis.table[an.PREVIOUS].isna().all():
        caption += " The data starts inside this period, so there is nothing to compare with."
    elif not kpis.previous_complete:
        caption += (
            " The data starts inside the previous period, so its figures are undercounted and "
            "the changes are too high."
        )
    parts = [
        _frame_table(pd.DataFrame(rows), classes="numbers kpis"),
        f'<p class="how">{_e(caption)}</p>',
    ]
    parts += [_note(text) for text in overview.notes]
    parts.append(_funnel(overview.funnel))
    return "".join(parts)


def _funnel(funnel: an.Funnel) -> str:
    """The funnel chart, or one line on why there is none (as the app's Overview does): a
    funnel needs two steps, so data of orders alone has none."""
    if len(funnel.step_names) < 2:
        return _note(
            f"No funnel: this data has no {' or '.join(funnel.missing_steps)} events, and a "
            "funnel needs at least two of the view, cart and purchase steps."
        )
    if funnel.steps[an.USERS].iloc[0] == 0:
        return _note(funnel.message or "No user entered the funnel in these days.")
    parts = [_note(funnel.message)] if funnel.message else []
    parts.append(
        _figure(
            oc.funnel_chart(funnel),
            "users who entered the funnel in those days, and how many of them went on to "
            "each later step within the window; the percentages are of the previous and of "
            "the first step.",
        )
    )
    return "".join(parts)


# --- runs ----------------------------------------------------------------------------------


def _ordered_scores(manifest: RunManifest, order: Sequence[str]) -> pd.DataFrame:
    scores = manifest.scores
    known = [name for name in order if name in scores.index]
    return scores.loc[known + [n for n in scores.index if n not in known]]


def _score_table(
    scores: pd.DataFrame,
    columns: Sequence[str],
    labels: Mapping[str, str],
    *,
    k: int | None = None,
    table_id: str,
) -> str:
    shown = [c for c in columns if c in scores.columns]
    frame = pd.DataFrame({MODEL_COLUMN: [labels.get(str(n), str(n)) for n in scores.index]})
    for column in shown:
        metric = m.METRICS[column]
        frame[metric.header(k)] = [_number(v, metric.decimals) for v in scores[column]]
    return _frame_table(frame, classes="numbers scores", table_id=table_id)


def _versus(scores: pd.DataFrame, metric: str, label: str, labels: Mapping[str, str]) -> str:
    """One sentence: the MLP against the best baseline on ``metric``."""
    lower_is_better, decimals = m.lower_is_better(metric), m.METRICS[metric].decimals
    if metric not in scores.columns or m.MLP not in scores.index:
        return ""
    baselines = scores[metric].drop(index=m.MLP).dropna()
    mlp = float(scores.loc[m.MLP, metric])
    if baselines.empty or not math.isfinite(mlp):
        return ""
    best = str(baselines.idxmin() if lower_is_better else baselines.idxmax())
    other = float(baselines[best])
    wins = mlp < other if lower_is_better else mlp > other
    verdict = "a tie" if mlp == other else "the MLP is better" if wins else "the baseline is better"
    text = (
        f"{label}: the MLP scores {_number(mlp, decimals)} against {_number(other, decimals)} for "
        f"the best baseline ({labels.get(best, best)}) — {verdict} "
        f"({'lower' if lower_is_better else 'higher'} is better)."
    )
    return f'<p class="headline">{_e(text)}</p>'


def _against_baselines(manifest: RunManifest) -> str:
    """One sentence: does the MLP beat the best baseline on every headline score of its task,
    and if not, which it wins and which it loses to which baseline."""
    verdict = versus_baselines(manifest)
    if not verdict:
        return ""
    k = manifest.config.k
    scores = ", ".join(m.METRICS[key].header(k) for key in m.HEADLINES[manifest.task])
    lead = (
        "The MLP beats the baselines"
        if beats_baselines(manifest)
        else "The MLP does not beat the baselines on every headline score"
    )
    text = f"{lead} ({scores}; a tie is no win): it {verdict}."
    return f'<p class="headline">{_e(text)}</p>'


def _network_rows(network: NetworkConfig) -> list[tuple[str, object]]:
    layers = network.hidden_layers
    return [
        ("Hidden layers", f"{format_hidden_layers(layers)} ({_count(len(layers), 'layer')})"),
        ("Activation", network.activation),
        ("L2 penalty (alpha)", network.alpha),
        ("Learning rate", network.learning_rate),
        ("Most epochs", network.epochs),
        ("Batch size", network.batch_size),
        ("Seed", network.random_state),
    ]


def _run_header(loaded: LoadedRun, settings: Sequence[tuple[str, object]]) -> str:
    manifest = loaded.manifest
    created = manifest.created
    meta = (
        f"{TASK_LABELS.get(loaded.task, loaded.task)} · created {_day(created)}, "
        f"{created:%H:%M} {created.tzname() or ''} · run {loaded.run_id}"
    )
    tags = "".join(f' <span class="tag">{_e(t)}</span>' for t in manifest.tags)
    parts = [
        f'<section id="run-{_anchor(loaded.run_id)}">',
        f"<h2>{_e(manifest.name)}{_stopped_tag(manifest)}</h2>",
        f'<p class="meta">{_e(meta)}{tags}</p>',
    ]
    if manifest.stopped_at_epoch is not None:
        parts.append(
            _note(
                f"Stopped: training was cut short at epoch {manifest.stopped_at_epoch}; the "
                "best epoch so far was kept."
            )
        )
    parts += [_note(w) for w in loaded.warnings]
    parts += ["<h3>Configuration</h3>", _settings_table(settings)]
    return "".join(parts)


def _purchase_section(loaded: LoadedRun) -> str:
    manifest = loaded.manifest
    config, details, curves = manifest.config, manifest.details, manifest.curves
    assert isinstance(details, PurchaseDetails)
    best, run = details.best_epochs, details.epochs_run
    cutoff, horizon = config.time_window
    last_day = cutoff + pd.Timedelta(days=horizon - 1)
    rows = [
        *_network_rows(config.network),
        ("Epochs run (orders / buyer network)", f"{run[0]} / {run[1]}"),
        ("Best epoch kept (orders / buyer network)", f"{best[0]} / {best[1]}"),
        ("Cutoff", f"{cutoff:%Y-%m-%d}"),
        ("Horizon", f"{horizon} days (scored on {cutoff:%Y-%m-%d} to {last_day:%Y-%m-%d})"),
        ("Users scored", _number(details.users, 0)),
        (
            "Users to train on",
            "every user"
            if config.max_users is None
            else f"a random {config.max_users:,} of the data's users",
        ),
        ("Training time", f"{manifest.train_seconds:.1f} s"),
    ]
    labels = purchase.MODEL_LABELS
    scores = _ordered_scores(manifest, purchase.MODEL_NAMES)
    parts = [_run_header(loaded, rows)]
    parts += [_note(w) for w in details.warnings]
    parts += [
        "<h3>Scoreboard: the MLP against every baseline</h3>",
        _against_baselines(manifest),
        _versus(scores, m.MSE, "Order error (MSE)", labels),
        _versus(scores, m.ROC_AUC, "Finding buyers (ROC-AUC)", labels),
        "<h4>How many orders · per-user errors, in orders</h4>",
        _score_table(scores, m.ORDER_SCORES, labels, table_id=f"orders-{loaded.run_id}"),
        "<h4>Who buys · at buy probability 0.5; the AUCs judge the ranking</h4>",
        _score_table(scores, m.BUYER_SCORES, labels, table_id=f"buyers-{loaded.run_id}"),
        '<p class="how">Every model is scored on the same users: features from before the '
        "cutoff, orders counted in the H days after it. MSE, RMSE and MAE are errors in orders "
        "per user (lower is better); ROC-AUC and PR-AUC judge how well buyers are ranked above "
        "non-buyers (higher is better). The MLP is the first, highlighted row.</p>",
        '<div class="pair">',
        _figure(
            plotting.legend_below(charts.model_scores_bar(scores, m.MSE)),
            "one bar per model; the MLP is highlighted. Shorter is better: a model that does "
            "not beat the simple baselines is not worth deploying.",
        ),
        _figure(
            plotting.legend_below(charts.model_scores_bar(scores, m.ROC_AUC)),
            "longer is better; 0.5 is a coin flip, 1 ranks every buyer above every non-buyer.",
        ),
        "</div>",
        "<h3>Training curves</h3>",
        '<div class="pair">',
        _figure(
            plotting.legend_below(
                ml_charts.training_curves_line(
                    curves["regressor"], task="regression", best_epoch=best[0]
                )
            ),
            "MSE on training rows and on held-out validation users after every epoch; the "
            "dashed line is the epoch whose weights were kept. Validation MSE rising while "
            "training MSE falls means overfitting.",
        ),
        _figure(
            plotting.legend_below(
                ml_charts.training_curves_line(
                    curves["classifier"],
                    task="classification",
                    best_epoch=best[1],
                )
            ),
            "log-loss punishes confident wrong probabilities; accuracy counts right yes/no "
            "calls at 0.5. The kept epoch (dashed) has the lowest validation log-loss.",
        ),
        "</div>",
        "<h3>What the orders network relies on</h3>",
    ]
    if len(details.importance):
        parts.append(
            _figure(
                charts.permutation_importance_bar(_chart_safe(details.importance)),
                "each input is shuffled across users and the rise in the network's MSE is the "
                "bar (whiskers: spread over repeats). Inputs carrying the same information "
                "share the credit, so each can look small.",
            )
        )
    else:
        parts.append(_note("This run has no feature importance."))
    parts.append("</section>")
    return "".join(parts)


def _recommend_section(loaded: LoadedRun, shop: ShopData | None, problem: str | None) -> str:
    manifest = loaded.manifest
    config, details, settings = manifest.config, manifest.details, manifest.config.recommender
    assert isinstance(details, RecommendDetails) and settings is not None
    k, (cutoff, horizon) = config.k or 0, config.time_window
    last_day = cutoff + pd.Timedelta(days=horizon - 1)
    evaluated = config.evaluate and bool(manifest.metrics)
    scored = (
        f"{_number(details.users_evaluated, 0)} users who bought from {cutoff:%Y-%m-%d} "
        f"to {last_day:%Y-%m-%d}"
        if evaluated
        else "not scored (trained on all the data)"
    )
    rows = [
        *_network_rows(config.network),
        ("Epochs run", details.epochs),
        ("Best epoch kept", details.best_epoch),
        ("Cutoff", f"{cutoff:%Y-%m-%d}"),
        ("Horizon", f"{horizon} days"),
        ("k (products recommended)", k),
        ("Candidates per generator", settings.candidates),
        ("Already-bought products allowed", "yes" if settings.buy_again else "no"),
        ("Ranker trained on", f"{_number(details.train_pairs, 0)} (user, product) pairs"),
        ("Scored on", scored),
        ("Training time", f"{manifest.train_seconds:.1f} s"),
    ]
    labels = recommend.MODEL_LABELS
    parts = [_run_header(loaded, rows)]
    parts += [_note(n) for n in details.notes]
    parts.append("<h3>Scoreboard: the MLP ranker against every baseline</h3>")
    if evaluated:
        scores = _ordered_scores(manifest, (m.MLP, *recommend.BASELINES))
        parts += [
            _against_baselines(manifest),
            _versus(scores, m.NDCG, f"NDCG@{k}", labels),
            _score_table(
                scores, m.RANKING_SCORES, labels, k=k, table_id=f"ranking-{loaded.run_id}"
            ),
            f'<p class="how">Every model recommends {k} products to each user who bought '
            "something in the test window, using only events before the cutoff; a hit is a "
            "recommended product the user then bought. From precision to hit rate, higher is "
            "better; coverage, novelty and diversity describe the lists (random tops them). "
            "The MLP ranker is the first, highlighted row.</p>",
            _figure(
                rc.model_scores_bar(scores, k=k),
                "one bar per model; the ranker is highlighted. NDCG rewards bought products "
                "near the top of the list: 1 means every bought product sits at the top.",
            ),
        ]
    else:
        parts.append(_note("This run was trained on all the data without a test window."))
    parts.append("<h3>Training curves</h3>")
    curves = manifest.curves.get("ranker", pd.DataFrame())
    if curves.empty:
        parts.append(_note("The ranker was not trained, so there are no curves."))
    else:
        best = details.best_epoch
        parts.append(
            _figure(
                ml_charts.training_curves_line(
                    curves,
                    task="classification",
                    best_epoch=best,
                    title=f"Ranker: training curves (best epoch {best})",
                ),
                "log-loss punishes confident wrong guesses of “will buy this product”; accuracy "
                "counts right yes/no calls on (user, candidate) pairs, most of which are not "
                "bought. The dashed line is the kept epoch.",
            )
        )
    by_k = details.by_k
    if by_k is not None and len(by_k):
        parts += [
            "<h3>Metrics against k</h3>",
            _figure(
                rc.metric_by_k_line(_chart_safe(by_k), k=k),
                "each line is a model, measured with lists of different lengths. Longer lists "
                "find more of what users buy (recall, hit rate rise) but each slot is less "
                "likely to be right (precision falls); the ranker's line should stay on top.",
            ),
        ]
    parts.append("<h3>Example users</h3>")
    if shop is None:
        parts.append(_note(problem or "The data of this run is not kept in the runs folder."))
    else:
        parts.append(_examples(loaded, shop, k=k, evaluated=evaluated))
    parts.append("</section>")
    return "".join(parts)


def _examples(loaded: LoadedRun, shop: ShopData, *, k: int, evaluated: bool) -> str:
    """Top-k lists with reasons for the evaluated users with the most history."""
    events = shop.events.frame
    if schema.ITEM_ID not in events.columns:
        return _note("This data has no item ids, so there are no recommendations to show.")
    products = shop.product_frame
    learned_from_photos = isinstance(loaded.manifest.details, RecommendDetails) and (
        loaded.manifest.details.photo_features is not None
    )
    photos = shop_photo_vectors(shop) if learned_from_photos else None
    recommender = recommender_from_run(loaded, events, products, photos=photos)
    by_item = {p.item_id: p for p in shop.photos.photos} if shop.photos is not None else None
    inter = recommender.interactions
    cutoff, horizon = loaded.manifest.config.time_window
    bought: dict[int, set[str]] = {}
    if evaluated:
        pairs = recommend.relevant_items(
            events,
            inter,
            cutoff,
            cutoff + pd.Timedelta(days=horizon),
            buy_again=recommender.config.buy_again,
        )
        for user, item in zip(pairs["user"], pairs["item"], strict=True):
            bought.setdefault(int(user), set()).add(str(inter.item_ids[item]))
        candidates = np.array(sorted(bought), dtype=np.int64)
    else:
        candidates = np.flatnonzero(inter.user_events > 0)
    if not len(candidates):
        return _note("No user had events before the cutoff, so there are no examples.")
    history = inter.user_events[candidates]
    chosen = candidates[np.lexsort((candidates, -history))][:EXAMPLE_USERS]
    intro = (
        f"The {len(chosen)} users with the most events before {cutoff:%Y-%m-%d} among those who "
        "bought something in the test window, with the ranker's top "
        f"{k} for each and the reason shown to them; “{BOUGHT_MARK}” marks products they then "
        "bought."
        if evaluated
        else f"The {len(chosen)} users with the most events, with the ranker's top {k} for each "
        "and the reason shown to them."
    )
    parts = [f'<p class="how">{_e(intro)}</p>']
    for code in chosen:
        user_id = str(inter.user_ids[code])
        recs = recommend.recommend_for_user(recommender, user_id, k=k)
        hits = bought.get(int(code), set())
        table = pd.DataFrame({"#": recs[m.RANK].to_numpy()})
        images: dict[str, str] = {}
        if by_item is not None:
            marks = [_photo_mark(by_item.get(str(i)), images) for i in recs[schema.ITEM_ID]]
            table["photo"] = marks
        table = table.assign(
            **{
                "product": recs[schema.NAME].astype("object").to_numpy(),
                "why": recs[recommend.REASON].to_numpy(),
                "category": recs[schema.CATEGORY].to_numpy(),
                "price": [_number(p, 2) if pd.notna(p) else "" for p in recs[schema.PRICE]],
            }
        )
        if evaluated:
            table["in the test window"] = [
                BOUGHT_MARK if str(i) in hits else "" for i in recs[schema.ITEM_ID]
            ]
        line = f"{int(inter.user_events[code]):,} events before the cutoff"
        if evaluated:
            line += f"; bought {_count(len(hits), 'new product')} in the test window"
        parts += [
            f"<h4>User {_e(user_id)}</h4>",
            f'<p class="meta">{_e(line)}</p>',
            _with_images(_frame_table(table, classes="recommendations"), images)
            if len(table)
            else _note("No recommendations for this user."),
        ]
    return "".join(parts)


_PHOTO_TOKEN: Final = f"photo-{secrets.token_hex(8)}-"  # no product name can hold it


def _photo_mark(photo: Photo | None, images: dict[str, str]) -> str:
    """A placeholder for the photo's thumbnail, to be swapped for the image in the escaped
    table ('' for a product without a photo)."""
    url = thumbnail_url(photo.data) if photo is not None else None
    if url is None:
        return ""
    mark = f"{_PHOTO_TOKEN}{len(images)}"
    images[mark] = url
    return mark


def _with_images(table_html: str, images: dict[str, str]) -> str:
    """The escaped table with each photo placeholder replaced by its embedded thumbnail."""
    for mark, url in images.items():
        image = f'<img class="thumb" src="{_e(url)}" alt="" width="{THUMBNAIL_PX}">'
        table_html = table_html.replace(f">{mark}<", f">{image}<")
    return table_html


# --- the report ----------------------------------------------------------------------------


def _load_runs(store: RunStore, run_ids: Sequence[str]) -> list[LoadedRun]:
    if isinstance(run_ids, str):
        run_ids = [run_ids]
    unique = list(dict.fromkeys(str(r).strip() for r in run_ids))
    if not unique:
        raise ReportError("No runs were given for the report; name at least one run id.")
    return [store.load(run_id) for run_id in unique]


def _datasets(store: RunStore, runs: Sequence[LoadedRun]) -> list[_Dataset]:
    grouped: dict[str, list[LoadedRun]] = {}
    for loaded in runs:
        grouped.setdefault(loaded.manifest.dataset.fingerprint, []).append(loaded)
    found = []
    for fingerprint, members in grouped.items():
        shop, problem = None, None
        if not store.has_dataset(fingerprint):
            problem = (
                "The data these runs learned from is not kept in the runs folder, so its KPIs "
                "and example recommendations are left out."
            )
        else:
            try:
                shop = store.load_dataset(fingerprint)
            except RunError as err:
                problem = f"The kept data cannot be used: {err}"
        found.append(
            _Dataset(fingerprint, members[0].manifest.dataset, tuple(members), shop, problem)
        )
    return found


def _image_section(loaded: LoadedRun) -> str:
    manifest = loaded.manifest
    details = manifest.details
    assert isinstance(details, ImageDetails)
    share = details.test_share
    rows = [
        *_network_rows(manifest.config.network),
        ("Photos", f"{details.source} · categories from {details.label}"),
        ("Features", details.features),
        ("Epochs run", f"{details.epochs} (best epoch kept: {details.best_epoch})"),
        (
            "Split",
            f"{details.train_photos} photos trained on, {details.test_photos} held out "
            f"({share:.0%}, each category keeping its share) and scored on",
        ),
        ("Training time", f"{manifest.train_seconds:.1f} s"),
    ]
    labels = images.MODEL_LABELS
    scores = _ordered_scores(manifest, images.MODEL_NAMES)
    columns = (m.ACCURACY, m.TOP3_ACCURACY, m.MACRO_F1)
    parts = [_run_header(loaded, rows)]
    parts += [_note(w) for w in details.warnings]
    parts += [
        "<h3>Scoreboard: the MLP against every baseline</h3>",
        _against_baselines(manifest),
        _versus(scores, m.ACCURACY, "Accuracy", labels),
        _score_table(scores, columns, labels, table_id=f"photos-{loaded.run_id}"),
        '<div class="pair">',
        _figure(
            plotting.legend_below(image_charts.model_scores_bar(manifest.metrics, m.ACCURACY)),
            "one bar per model on the held-out photos; the MLP is highlighted.",
        ),
        _figure(
            plotting.legend_below(
                ml_charts.training_curves_line(
                    manifest.curves["photo_classifier"],
                    task="classification",
                    best_epoch=details.best_epoch,
                )
            ),
            "log-loss and accuracy on training and validation photos after every epoch; the "
            "dashed line is the epoch whose weights were kept.",
        ),
        "</div>",
        "<h3>Confusion matrix</h3>",
        _figure(
            image_charts.confusion_heatmap(details.classes, details.confusion),
            "rows are the true categories, columns the MLP's; the diagonal is right.",
        ),
        "</section>",
    ]
    return "".join(parts)


def _run_section(loaded: LoadedRun, dataset: _Dataset) -> str:
    if loaded.task == "purchase":
        return _purchase_section(loaded)
    if loaded.task == "images":
        return _image_section(loaded)
    return _recommend_section(loaded, dataset.shop, dataset.problem)


def build_report(store: RunStore, run_ids: Sequence[str], *, title: str = "ShopLens report") -> str:
    """One self-contained HTML document describing the runs ``run_ids`` of ``store``.

    It opens offline: plotly.js is embedded once, styles are inline and nothing is fetched.
    Sections: each dataset (files, size, span; KPIs and funnel when the data is kept in the
    store), then each run: configuration, the scoreboard of the MLP against every baseline
    (table and bar chart), training curves, feature importance (purchase) or metrics against
    k and example users with their top k and reasons (recommendations).

    Raises:
        ReportError: for an empty list, or a run whose manifest is incomplete.
        RunNotFoundError: for a run id that is not in the store.
        RunIntegrityError: for a broken or changed run.
    """
    runs = _load_runs(store, run_ids)
    datasets = _datasets(store, runs)
    by_fingerprint = {d.fingerprint: d for d in datasets}
    now = dt.datetime.now(dt.UTC)
    sections = [_dataset_section(d) for d in datasets]
    for loaded in runs:
        dataset = by_fingerprint[loaded.manifest.dataset.fingerprint]
        sections.append(_run_section(loaded, dataset))
    contents = "".join(
        f'<li><a href="#run-{_anchor(r.run_id)}">{_e(r.manifest.name)}</a>'
        f"{_stopped_tag(r.manifest)} · {_e(TASK_LABELS.get(r.task, r.task))}</li>"
        for r in runs
    )
    plotly_js = get_plotlyjs().replace("</script", "<\\/script")
    count = f"{_count(len(runs), 'run')} · {_count(len(datasets), 'dataset')}"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n"
        f'<script type="text/javascript">{plotly_js}</script>\n</head>\n<body>\n'
        f"<header><h1>{_e(title)}</h1><p>Made on {_e(_day(now))} at {now:%H:%M} UTC · "
        f"{_e(count)}</p></header>\n"
        f"<main>\n<nav><h2>Runs in this report</h2><ul>{contents}</ul></nav>\n"
        + "\n".join(sections)
        + "\n</main>\n<footer>Made with ShopLens. Every chart is interactive: hover for values, "
        "drag to zoom, double-click to reset.</footer>\n</body>\n</html>\n"
    )
