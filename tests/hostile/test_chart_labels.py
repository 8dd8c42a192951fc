"""Hostile names in charts: a 5,000-character category no longer squeezes a chart to nothing
(labels are shortened, the full name is on hover), and right-to-left overrides cannot make a
name read as something else."""

from __future__ import annotations

import pandas as pd

from core import schema
from core.overview import charts as oc
from core.plotting import LABEL_CHARS, chart_labels, chart_text
from core.recommend import charts as rc

HUGE = "Garden " * 715  # 5,005 characters
SPOOF = "\u202eevil\u202dgpj.exe"  # displays as "gpj.exelive" where overrides work
BIDI = set("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def test_overrides_are_removed_and_markup_escaped():
    assert chart_text(SPOOF) == "evilgpj.exe"
    assert chart_text("<b>sale</b> & more") == "&lt;b&gt;sale&lt;/b&gt; &amp; more"
    assert chart_text("x" * 60, size=10) == "x" * 9 + "…"
    assert chart_labels(["a", "a", "b"]) == ["a", "a (2)", "b"]


def test_the_next_category_heatmap_keeps_its_room_with_a_huge_category_name():
    names = [HUGE, SPOOF, "Shoes"]
    confusion = pd.DataFrame([[3, 1, 0], [0, 2, 1], [1, 0, 4]], index=names, columns=names)
    fig = rc.category_confusion_heatmap(confusion)
    heatmap = fig.data[0]
    for axis in (heatmap.x, heatmap.y):
        assert max(len(label) for label in axis) <= LABEL_CHARS
        assert not BIDI & set("".join(axis))
    hovered = {cell[1] for row in heatmap.customdata for cell in row}
    assert "evilgpj.exe" in hovered
    assert any(name.startswith("Garden Garden") and len(name) == 500 for name in hovered)
    assert "%{customdata[1]}" in heatmap.hovertemplate


def test_top_bars_shorten_long_names_and_keep_them_apart():
    table = pd.DataFrame(
        {schema.CATEGORY: [HUGE, HUGE + "!", SPOOF], "orders": [5, 4, 3], "views": [1, 1, 1]}
    )
    fig = oc.top_bar(table, key=schema.CATEGORY, measure="orders", title="Categories by orders")
    labels = list(fig.data[0].y)
    assert len(set(labels)) == 3  # two names that shorten alike stay two bars
    assert max(len(label) for label in labels) <= LABEL_CHARS + 4
    assert "evilgpj.exe" in labels
