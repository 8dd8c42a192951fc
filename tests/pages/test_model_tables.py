"""What the model pages' tables and charts show after a training: plain labels for the inputs,
one hover per metric, the scale of every score, and no "None" or "nan" text for a missing
value."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from core import purchase, recommend, services
from core.ml import metrics as m
from core.ml.network import NetworkConfig
from core.purchase import charts
from tests.pages.apptest import PURCHASE, RECOMMENDATIONS, run_page
from ui import state

TINY = NetworkConfig(hidden_layers=(8,), epochs=3)
MISSING_TEXT = {"none", "nan", "<na>", "nat", "null"}


def _missing_text_cells(frame: pd.DataFrame) -> list[tuple[str, object]]:
    """Cells that would read as "None"/"nan": missing text, or text spelling a missing value."""
    found = []
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
            continue  # a number column shows a missing value as an empty cell
        for value in values:
            if value is None or (isinstance(value, float) and np.isnan(value)):
                found.append((str(column), value))
            elif isinstance(value, str) and value.strip().lower() in MISSING_TEXT:
                found.append((str(column), value))
    return found


def _is_image(column: dict) -> bool:
    """Whether a column's settings show its cells as images (an empty cell shows nothing)."""
    return column.get("type_config", {}).get("type") == "image"


def _column_config(at, column: str) -> dict:
    """The column settings (label, help) of the first table on the page that has ``column``."""
    for element in at.dataframe:
        config = json.loads(element.proto.columns or "{}")
        if column in config:
            return config
    raise AssertionError(f"no table has the column {column}")


def _frames(at) -> list[pd.DataFrame]:
    frames = []
    for element in at.dataframe:
        value = element.value
        frames.append(value.data if hasattr(value, "data") else value)  # a Styler's frame
    return frames


@pytest.fixture(scope="module")
def purchase_result(sample_shop) -> services.PurchaseResult:
    return services.train_purchase(sample_shop, services.PurchaseSettings(TINY, 30), None)


@pytest.fixture(scope="module")
def recommend_result(sample_shop) -> services.RecommendResult:
    config = recommend.RecommenderConfig(network=TINY)
    return services.train_recommender(sample_shop, services.RecommendSettings(config), None)


def test_feature_labels_are_plain_words_for_every_input(purchase_result):
    names = purchase_result.data.feature_names
    for name in names:
        label, hint = purchase.INPUT_LABELS[name]
        assert "_" not in label and label[0].isupper()
        assert hint.endswith(".") and "_" not in hint
    assert purchase.input_label("n_cart") == "Carts"
    assert purchase.input_label("bgnbd_expected_orders") == "BG/NBD expected purchase days"


def test_the_inputs_chart_shows_labels_never_raw_names(purchase_result):
    importance = purchase_result.evaluation.importance
    figure = charts.permutation_importance_bar(importance, top=len(importance))
    labels = [str(y).replace("<br>", " ") for y in figure.data[0].y]
    assert labels == [purchase.input_label(f) for f in importance["feature"]]
    for label, name in zip(labels, importance["feature"], strict=True):
        assert "_" not in label and label != name
    assert "Views" in labels or "Carts" in labels


@pytest.mark.slow
def test_purchase_page_tables_have_no_none_text_and_metrics_have_hovers(purchase_result):
    at = run_page(PURCHASE, session={state.PURCHASE_RESULT: purchase_result})
    assert not at.exception
    frames = _frames(at)
    assert len(frames) >= 4
    for frame in frames:
        assert _missing_text_cells(frame) == []
    # The Inputs chart, as the page sends it, names every input by its label.
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    importance = next(s for s in specs if "permutation importance" in json.dumps(s["layout"]))
    labels = importance["data"][0]["y"]
    assert labels and not any("_" in label for label in labels)
    # One hover per metric, from the metric's own definition.
    for metric in (m.MSE, m.ROC_AUC):
        name = m.METRICS[metric].name
        assert _column_config(at, name)[name]["help"] == m.METRICS[metric].help
    columns = _column_config(at, charts.probability_column(m.MLP))
    probability = columns[charts.probability_column(m.MLP)]
    assert "(0–1" in probability["label"]
    assert columns["n_view"]["label"] == "Views"


@pytest.mark.slow
def test_recommendations_page_tables_have_no_none_text_and_scores_say_their_scale(
    recommend_result,
):
    # Half the products have no category, as in shops without a product table.
    fitted = recommend_result.recommender
    inter = fitted.interactions
    uncategorised = np.where(np.arange(len(inter.item_ids)) % 2 == 0, -1, inter.item_category)
    result = dataclasses.replace(
        recommend_result,
        recommender=dataclasses.replace(
            fitted, interactions=dataclasses.replace(inter, item_category=uncategorised)
        ),
    )
    at = run_page(RECOMMENDATIONS, session={state.RECS_RESULT: result})
    assert not at.exception
    frames = _frames(at)
    assert len(frames) >= 4  # scoreboard, the user's list and history, the what-if list
    for element, frame in zip(at.dataframe, frames, strict=True):
        config = json.loads(element.proto.columns or "{}")
        images = [c for c in frame.columns if _is_image(config.get(str(c), {}))]
        assert _missing_text_cells(frame.drop(columns=images)) == []  # no photo: no image
    k = recommend_result.settings.k
    for metric in (m.NDCG, m.HIT_RATE, m.COVERAGE):
        header = m.METRICS[metric].header(k)
        assert _column_config(at, header)[header]["help"] == m.METRICS[metric].help
    scores = [
        json.loads(e.proto.columns)[m.SCORE]
        for e in at.dataframe
        if m.SCORE in json.loads(e.proto.columns or "{}")
    ]
    assert len(scores) >= 2  # the user's list and the what-if list
    for score in scores:
        assert "(0–1)" in score["label"] or "(0 or more)" in score["label"]


def test_every_metric_has_a_one_sentence_explanation():
    for key, metric in m.METRICS.items():
        assert metric.help.endswith("."), key
        assert metric.help[0].isupper() and "_" not in metric.help, key
