"""Comparing runs: the registry table, best baselines, settings and scores side by side."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Final

import pandas as pd

from core.images.models import MODEL_LABELS as IMAGE_LABELS
from core.ml import metrics as m
from core.ml.layers import format_hidden_layers
from core.purchase.models import MODEL_LABELS as PURCHASE_LABELS
from core.recommend.evaluation import MODEL_LABELS as RECOMMEND_LABELS
from core.runs.manifest import RunManifest
from core.runs.names import TASK_LABELS
from core.runs.store import RunInfo

# Columns of the registry table.
RUN_ID: Final = "run_id"
NAME: Final = "name"
TASK: Final = "task"
CREATED: Final = "created"
HIDDEN_LAYERS: Final = "hidden_layers"
SEED: Final = "seed"
DATA: Final = "data"
FINGERPRINT: Final = "fingerprint"
K: Final = "k"
BEATS_BASELINES: Final = "beats_baselines"
VERSUS_BASELINES: Final = "versus_baselines"
TRAIN_SECONDS: Final = "train_seconds"
TAGS: Final = "tags"
STATUS: Final = "status"
# The MLP's scores shown per run, and the best baseline's beside each.
SCORES: Final = (m.MSE, m.ACCURACY, m.NDCG)


def baseline_column(metric: str) -> str:
    """The registry table's column of the best baseline's ``metric``."""
    return f"baseline_{metric}"


def best_baseline(manifest: RunManifest, metric: str) -> float | None:
    """The best value of ``metric`` among the run's baselines (every model but the MLP)."""
    values = {
        model: row.get(metric)
        for model, row in manifest.metrics.items()
        if model != m.MLP and row.get(metric) is not None
    }
    best = m.best_of(values, metric)
    return None if best is None else values[best]


MODEL_LABELS: Final = {
    "purchase": PURCHASE_LABELS,
    "recommend": RECOMMEND_LABELS,
    "images": IMAGE_LABELS,
}


def baseline_verdict(manifest: RunManifest) -> m.Verdict | None:
    """The MLP against the best baseline on each headline score of the run's task (None
    without scores)."""
    return m.compare_with_baselines(manifest.metrics, manifest.task)


def beats_baselines(manifest: RunManifest) -> bool | None:
    """Whether the MLP beats the best baseline on every headline score of its task (a tie is
    not a win; None without scores)."""
    verdict = baseline_verdict(manifest)
    return None if verdict is None else verdict.beats_baselines


def versus_baselines(manifest: RunManifest) -> str:
    """Which headline scores the MLP wins and which it loses, and to which baseline, e.g.
    ``wins MSE, PR-AUC; loses ROC-AUC to Linear / logistic regression`` (empty without
    scores)."""
    verdict = baseline_verdict(manifest)
    if verdict is None:
        return ""
    return verdict.describe(MODEL_LABELS.get(manifest.task, {}), k=manifest.config.k)


def status_text(info: RunInfo) -> str:
    """``ok``, ``stopped at epoch 12`` or ``broken: <reason>``."""
    if info.manifest is None:
        return f"broken: {info.problem}"
    if info.manifest.stopped_at_epoch is not None:
        return f"stopped at epoch {info.manifest.stopped_at_epoch}"
    return "ok"


def runs_table(infos: Sequence[RunInfo]) -> pd.DataFrame:
    """One row per run for the registry table (broken runs with their reason as status)."""
    rows = []
    for info in infos:
        manifest = info.manifest
        row: dict[str, Any] = {
            RUN_ID: info.run_id,
            NAME: info.name or info.run_id,
            TASK: TASK_LABELS.get(info.task, info.task),
            CREATED: info.created.tz_convert(None),
            TAGS: "",
            STATUS: status_text(info),
        }
        if manifest is not None:
            network = manifest.config.network
            mlp = manifest.metrics.get(m.MLP, {})
            row |= {
                HIDDEN_LAYERS: format_hidden_layers(network.hidden_layers),
                SEED: network.random_state,
                DATA: manifest.dataset.events_file,
                FINGERPRINT: manifest.dataset.fingerprint,
                K: manifest.config.k,
                BEATS_BASELINES: beats_baselines(manifest),
                VERSUS_BASELINES: versus_baselines(manifest),
                TRAIN_SECONDS: manifest.train_seconds,
                TAGS: ", ".join(manifest.tags),
            }
            for metric in SCORES:
                row[metric] = mlp.get(metric)
                row[baseline_column(metric)] = best_baseline(manifest, metric)
        rows.append(row)
    numbers = [*SCORES, *map(baseline_column, SCORES)]
    columns = [
        RUN_ID, NAME, TASK, CREATED, HIDDEN_LAYERS, SEED, DATA, FINGERPRINT, *numbers, K,
        BEATS_BASELINES, VERSUS_BASELINES, TRAIN_SECONDS, TAGS, STATUS,
    ]  # fmt: skip
    table = pd.DataFrame(rows, columns=columns)
    # Numbers even when no run has a score (runs trained without a test window).
    return table.astype({c: float for c in numbers})


def flat_config(manifest: RunManifest) -> dict[str, Any]:
    """The configuration as ``{"network.hidden_layers": "64,32", ...}`` (nested keys dotted)."""
    config = manifest.config
    flat: dict[str, Any] = {}
    for field in dataclasses.fields(config.network):
        value = getattr(config.network, field.name)
        flat[f"network.{field.name}"] = (
            format_hidden_layers(value) if field.name == "hidden_layers" else value
        )
    if config.cutoff is not None:
        flat["cutoff"] = f"{config.cutoff:%Y-%m-%d}"
    if config.horizon_days is not None:
        flat["horizon_days"] = config.horizon_days
    if manifest.task == "purchase":
        flat["max_users"] = "every user" if config.max_users is None else config.max_users
    flat["evaluate"] = config.evaluate
    if config.k is not None:
        flat["k"] = config.k
    if config.recommender is not None:  # its network is the same as config's
        for field in dataclasses.fields(config.recommender):
            if field.name != "network":
                flat[f"recommender.{field.name}"] = getattr(config.recommender, field.name)
    return flat


def run_label(manifest: RunManifest) -> str:
    """``<name> (<last 8 characters of the id>)``: a column header telling runs apart."""
    return f"{manifest.name} ({manifest.run_id[-8:]})"


def config_diff(manifests: Sequence[RunManifest], *, only_different: bool = True) -> pd.DataFrame:
    """Settings side by side: one row per setting, one column per run (by name)."""
    columns = {run_label(mf): pd.Series(flat_config(mf), dtype=object) for mf in manifests}
    table = pd.DataFrame(columns).rename_axis("setting")
    if only_different and len(manifests) > 1:
        as_text = table.astype(str)
        table = table[as_text.nunique(axis=1, dropna=False) > 1]
    return table


def metrics_side_by_side(manifests: Sequence[RunManifest]) -> pd.DataFrame:
    """The MLP's scores of each run, one column per run (by name)."""
    columns = {run_label(mf): pd.Series(mf.metrics.get(m.MLP, {}), dtype=float) for mf in manifests}
    return pd.DataFrame(columns).rename_axis("metric")
