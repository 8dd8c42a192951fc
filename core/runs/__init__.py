"""Runs: every trained model kept with its manifest, reopened, compared and moved as a bundle;
sweeps and the report build on them."""

from __future__ import annotations

from core.errors import RunError, RunIntegrityError, RunNameError, RunNotFoundError, RunWriteError
from core.runs.compare import (
    RUN_ID,
    config_diff,
    metrics_side_by_side,
    run_label,
    runs_table,
    versus_baselines,
)
from core.runs.manifest import BUNDLE_MODEL, MANIFEST, MODEL, RunRecord
from core.runs.names import TASK_LABELS, check_run_id, clean_name, clean_tags, file_slug
from core.runs.serial import scores_to_metrics
from core.runs.store import RunInfo, RunStore

__all__ = [
    "RunError",
    "RunIntegrityError",
    "RunNameError",
    "RunNotFoundError",
    "RunWriteError",
    "TASK_LABELS",
    "clean_name",
    "clean_tags",
    "check_run_id",
    "file_slug",
    "MANIFEST",
    "MODEL",
    "BUNDLE_MODEL",
    "RunRecord",
    "scores_to_metrics",
    "RunInfo",
    "RunStore",
    "RUN_ID",
    "runs_table",
    "run_label",
    "config_diff",
    "metrics_side_by_side",
    "versus_baselines",
]
