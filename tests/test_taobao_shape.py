"""The benchmarks' Taobao-shaped log has the public log's layout and shape, and loads as such."""

from __future__ import annotations

import pandas as pd

from benchmarks.taobao import MIX, write_taobao
from core.data.loading import read_events


def test_the_generated_log_has_the_taobao_shape(tmp_path):
    path = tmp_path / "UserBehavior.csv"
    write_taobao(path, 200_000)
    frame = pd.read_csv(path, header=None, names=["user", "item", "category", "kind", "time"])
    assert len(frame) == 200_000
    assert 80 <= len(frame) / frame["user"].nunique() <= 130
    assert 15 <= len(frame) / frame["item"].nunique() <= 40
    shares = frame["kind"].value_counts(normalize=True)
    for kind, share in zip(["pv", "cart", "fav", "buy"], MIX, strict=True):
        assert abs(shares[kind] - share) < 0.005
    assert frame["time"].is_monotonic_increasing
    assert (frame["time"].max() - frame["time"].min()) / 86_400 > 59
    top_user_share = frame["user"].value_counts().iloc[: frame["user"].nunique() // 100].sum()
    assert top_user_share / len(frame) > 0.05  # heavy users: a Pareto law, not uniform


def test_the_generated_log_loads_with_every_row_kept(tmp_path):
    path = tmp_path / "UserBehavior.csv"
    write_taobao(path, 20_000)
    result = read_events(path)
    assert result.rows_kept == 20_000
    assert set(result.frame["event_type"].unique()) == {"view", "cart", "fav", "purchase"}
