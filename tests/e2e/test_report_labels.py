"""The HTML report as a stakeholder reads it on a 1280 px screen: every axis label of every chart
is drawn whole and inside its chart, the bars carry the full model and input names, data of
orders alone says why it has no funnel, and a stopped run says it stopped.

The report is made as the app makes it for download, with Streamlit's Plotly template as the
process's default."""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from core import purchase, recommend, schema
from core.data.loading import ShopData, load_shop
from core.data.sample import generate_sample_world
from core.ml import metrics as m
from core.ml.network import NetworkConfig
from core.overview.charts import STEP_LABELS
from core.report import build_report
from core.runs import RunStore
from core.runs.manifest import PurchaseDetails
from core.runs.tasks import purchase_run_record, recommender_run_record
from tests.report_figures import as_in_the_app, category_labels, figures_in

pytestmark = pytest.mark.e2e

CONFIG = NetworkConfig(hidden_layers=(8,), epochs=4, batch_size=64, random_state=0)
CUTOFF = pd.Timestamp("2026-10-02")
ORDERS_ONLY_RUN = "Orders only, cut short"
# Each tick label's box against its chart's: a pixel of slack for anti-aliasing.
SLACK_PX = 1

# Per chart: its outer box and each axis tick label's box and text (the lines of a wrapped
# label joined by a space).
_DRAWN_TICKS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(plot => {
  const box = plot.querySelector('svg.main-svg').getBoundingClientRect();
  const read = (selector, axis) => [...plot.querySelectorAll(selector)].map(text => {
    const lines = text.querySelectorAll('tspan.line');
    const r = text.getBoundingClientRect();
    return {
      axis,
      text: lines.length ? [...lines].map(line => line.textContent).join(' ') : text.textContent,
      left: r.left, right: r.right, top: r.top, bottom: r.bottom,
    };
  }).filter(tick => tick.text.trim() !== '');
  return {
    box: {left: box.left, right: box.right, top: box.top, bottom: box.bottom},
    ticks: [...read('g.xtick text', 'x'), ...read('g.ytick text', 'y')],
  };
})"""


@dataclass(frozen=True)
class _Report:
    path: Path
    store: RunStore
    purchase_id: str
    recommend_id: str
    stopped_id: str


def _purchase_run(store: RunStore, shop: ShopData, *, stop: bool, name: str = "") -> str:
    """A purchase run on ``shop``; with ``stop``, cut short by Stop after its first epoch."""
    data = purchase.build_purchase_data(
        shop.events.frame, shop.products.frame, cutoff=CUTOFF, horizon_days=30
    )
    models = purchase.train_purchase_models(
        data, CONFIG, on_epoch=(lambda progress: False) if stop else None
    )
    evaluation = purchase.evaluate_purchase_models(models, data, importance_rows=200)
    return store.save(purchase_run_record(models, evaluation, data), shop, name=name)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> _Report:
    """A purchase run and a recommendations run on a full shop, and a purchase run cut short
    after its first epoch on the same shop's orders alone."""
    folder = tmp_path_factory.mktemp("report-labels")
    events, products = generate_sample_world(n_users=300, n_items=60, random_state=1).frames
    products.to_csv(folder / "products.csv", index=False)
    events.to_csv(folder / "events.csv", index=False)
    events[events[schema.EVENT_TYPE] == schema.PURCHASE].to_csv(folder / "orders.csv", index=False)
    shop = load_shop(folder / "events.csv", folder / "products.csv")
    orders_only = load_shop(folder / "orders.csv", folder / "products.csv")
    store = RunStore(folder / "runs")
    purchase_id = _purchase_run(store, shop, stop=False)
    config = recommend.RecommenderConfig(network=CONFIG, candidates=20, negatives=10)
    fitted, scored = recommend.evaluate_recommender(
        shop.events.frame, shop.products.frame, cutoff=CUTOFF, horizon_days=30, k=5, config=config
    )
    record = recommender_run_record(
        fitted, scored, cutoff=CUTOFF, horizon_days=30, k=5, stopped=False
    )
    recommend_id = store.save(record, shop)
    stopped_id = _purchase_run(store, orders_only, stop=True, name=ORDERS_ONLY_RUN)
    with as_in_the_app():
        document = build_report(store, [purchase_id, recommend_id, stopped_id])
    path = folder / "report.html"
    path.write_text(document, encoding="utf-8")
    return _Report(path, store, purchase_id, recommend_id, stopped_id)


def _expected_labels(report: _Report) -> list[list[str]]:
    """The category labels the report's bar and funnel charts must show, from the core's own
    label dictionaries and the runs' manifests, in any order of charts."""
    purchase_models = [purchase.MODEL_LABELS[n] for n in purchase.MODEL_NAMES]
    recommend_models = [recommend.MODEL_LABELS[n] for n in (m.MLP, *recommend.BASELINES)]
    expected = [[STEP_LABELS[s] for s in (schema.VIEW, schema.CART, schema.PURCHASE)]]
    expected.append(recommend_models)
    for run_id in (report.purchase_id, report.stopped_id):
        details = report.store.info(run_id).manifest.details
        assert isinstance(details, PurchaseDetails)
        features = [purchase.input_label(str(f)) for f in details.importance["feature"].head(15)]
        expected += [purchase_models, purchase_models, features]
    return expected


def test_every_axis_label_of_the_report_is_whole_at_1280_px(file_page: Page, report, output_dir):
    page = file_page
    page.goto(report.path.as_uri())
    expect(page.get_by_role("heading", name="ShopLens report", level=1)).to_be_visible()
    figures = figures_in(report.path.read_text(encoding="utf-8"))
    # The full shop's funnel, five charts per purchase run and three for the recommender;
    # the orders-only data has no funnel.
    assert len(figures) == 1 + 5 + 3 + 5
    expect(page.locator(".js-plotly-plot")).to_have_count(len(figures))
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot')]"
        ".every(plot => plot.querySelector('svg.main-svg g.xtick, svg.main-svg g.ytick'))"
    )
    page.screenshot(path=str(output_dir / "report_labels.png"), full_page=True)

    drawn = page.evaluate(_DRAWN_TICKS)
    assert len(drawn) == len(figures)
    clipped, wrong = [], []
    for index, (figure, chart) in enumerate(zip(figures, drawn, strict=True)):
        title = figure["layout"].get("title", {}).get("text", f"chart {index + 1}")
        box = chart["box"]
        assert chart["ticks"], title
        for tick in chart["ticks"]:
            inside = (
                tick["left"] >= box["left"] - SLACK_PX
                and tick["right"] <= box["right"] + SLACK_PX
                and tick["top"] >= box["top"] - SLACK_PX
                and tick["bottom"] <= box["bottom"] + SLACK_PX
            )
            if not inside:
                clipped.append((title, tick["text"], {k: round(v) for k, v in box.items()}))
        expected = category_labels(figure)
        shown = [tick["text"] for tick in chart["ticks"] if tick["axis"] == "y"]
        if expected and sorted(shown) != sorted(expected):
            wrong.append((title, shown, expected))
    assert clipped == [], clipped
    assert wrong == [], wrong
    # Those labels are the whole names the core gives the models, steps and inputs.
    shown_labels = sorted(category_labels(f) for f in figures if category_labels(f))
    assert shown_labels == sorted(_expected_labels(report))


def test_the_report_explains_a_missing_funnel_and_marks_a_stopped_run(file_page: Page, report):
    page = file_page
    page.goto(report.path.as_uri())
    stopped_id = report.stopped_id
    fingerprint = report.store.info(stopped_id).manifest.dataset.fingerprint
    orders_data = page.locator(f"#data-{fingerprint}")
    expect(orders_data.locator(".note", has_text="funnel")).to_have_text(
        "No funnel: this data has no view or cart events, and a funnel needs at least two of "
        "the view, cart and purchase steps."
    )
    expect(orders_data.locator(".note", has_text="funnel")).to_be_visible()
    expect(orders_data.locator(".js-plotly-plot")).to_have_count(0)
    contents = page.locator("nav li").filter(has_text=ORDERS_ONLY_RUN)
    expect(contents.locator(".tag.stopped")).to_have_text("stopped")
    expect(contents.locator(".tag.stopped")).to_be_visible()
    heading = page.locator(f"#run-{stopped_id} h2")
    expect(heading).to_have_text(f"{ORDERS_ONLY_RUN} stopped")
    expect(page.locator(f"#run-{stopped_id} .note").first).to_contain_text(
        "Stopped: training was cut short at epoch 1"
    )
    expect(page.locator(".tag.stopped")).to_have_count(2)  # the contents and the heading
