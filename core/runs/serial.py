"""Plain JSON values for manifests: numbers, NaN as null, frames as columns."""

from __future__ import annotations

import datetime as dt
import json
import math
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn

from core.data.exports import atomic_write_bytes


def jsonable(value: Any) -> Any:
    """Plain JSON values: numpy numbers become Python numbers, NaN and infinity ``None``,
    timestamps ISO text, tuples lists."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray | pd.Index):
        return [jsonable(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    if value is None or isinstance(value, str | int):
        return value
    if pd.isna(value):
        return None
    return str(value)


def frame_to_columns(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """A small frame as ``{column: values}`` for a manifest."""
    return {str(c): jsonable(frame[c].to_numpy()) for c in frame.columns}


def columns_to_frame(columns: Mapping[str, list[Any]]) -> pd.DataFrame:
    """The inverse of :func:`frame_to_columns` (``None`` comes back as NaN in numbers)."""
    frame = pd.DataFrame({k: list(v) for k, v in columns.items()})
    for column in frame.columns:
        if frame[column].dtype == object:
            converted = pd.to_numeric(frame[column], errors="coerce")
            if converted.notna().sum() == frame[column].notna().sum():
                frame[column] = converted.astype(float)
    return frame


def scores_to_metrics(scores: pd.DataFrame) -> dict[str, dict[str, float]]:
    """A scores table (one row per model) as ``{model: {metric: value}}``."""
    return {str(model): jsonable(row.to_dict()) for model, row in scores.iterrows()}


def metrics_to_scores(metrics: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """The inverse of :func:`scores_to_metrics` (index: model)."""
    frame = pd.DataFrame.from_dict(
        {m: {k: np.nan if v is None else v for k, v in row.items()} for m, row in metrics.items()},
        orient="index",
    )
    return frame.astype(float).rename_axis("model")


def versions() -> dict[str, str]:
    """Versions of the libraries a model file depends on."""
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "joblib": joblib.__version__,
    }


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as indented JSON, atomically."""
    text = json.dumps(jsonable(data), indent=1, ensure_ascii=False, allow_nan=False)
    atomic_write_bytes(path, text.encode("utf-8"))


def first_line(err: BaseException) -> str:
    """An error's first line, short enough to quote in a one-line message."""
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:120]
