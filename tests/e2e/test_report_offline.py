"""The HTML report in a real browser with the network cut off: opened from a file, every chart
renders from the embedded plotly.js, and names from the data run no script."""

from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page, Route, expect

from core import purchase, recommend
from core.data.loading import load_shop
from core.data.sample import generate_sample_world
from core.ml.network import NetworkConfig
from core.report import build_report
from core.runs import RunStore
from core.runs.tasks import purchase_run_record, recommender_run_record

pytestmark = pytest.mark.e2e

CONFIG = NetworkConfig(hidden_layers=(8,), epochs=4, batch_size=64, random_state=0)
CUTOFF = pd.Timestamp("2026-10-02")
PAYLOAD = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> Path:
    """A report of one purchase run and one recommendations run, written to a file."""
    folder = tmp_path_factory.mktemp("report")
    events, products = generate_sample_world(n_users=300, n_items=60, random_state=1).frames
    products["name"] = PAYLOAD
    events.to_csv(folder / "events.csv", index=False)
    products.to_csv(folder / "products.csv", index=False)
    shop = load_shop(folder / "events.csv", folder / "products.csv")
    store = RunStore(folder / "runs")
    data = purchase.build_purchase_data(
        shop.events.frame, shop.products.frame, cutoff=CUTOFF, horizon_days=30
    )
    models = purchase.train_purchase_models(data, CONFIG)
    evaluation = purchase.evaluate_purchase_models(models, data, importance_rows=200)
    purchase_id = store.save(purchase_run_record(models, evaluation, data), shop)
    config = recommend.RecommenderConfig(network=CONFIG, candidates=20, negatives=10)
    fitted, scored = recommend.evaluate_recommender(
        shop.events.frame, shop.products.frame, cutoff=CUTOFF, horizon_days=30, k=5, config=config
    )
    recommend_id = store.save(
        recommender_run_record(fitted, scored, cutoff=CUTOFF, horizon_days=30, k=5, stopped=False),
        shop,
    )
    path = folder / "report.html"
    path.write_text(build_report(store, [purchase_id, recommend_id]), encoding="utf-8")
    return path


def test_the_report_renders_every_chart_offline(file_page: Page, report_file, output_dir):
    page = file_page
    blocked: list[str] = []
    problems: list[str] = []

    def only_files(route: Route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_files)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    page.on(
        "dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss())
    )

    page.goto(report_file.as_uri())
    expect(page.get_by_role("heading", name="ShopLens report", level=1)).to_be_visible()
    figures = report_file.read_text(encoding="utf-8").count('class="plotly-graph-div"')
    assert figures == 9
    plots = page.locator(".js-plotly-plot")
    expect(plots).to_have_count(figures)
    for index in range(figures):
        expect(plots.nth(index).locator("svg.main-svg").first).to_be_attached()
        assert plots.nth(index).bounding_box()["height"] > 100
    # The product names from the data are shown as text, not run as markup.
    expect(page.get_by_role("cell", name=PAYLOAD, exact=True).first).to_be_visible()
    assert page.locator("img").count() == 0
    page.screenshot(path=str(output_dir / "report_offline.png"), full_page=True)
    assert blocked == [], blocked
    assert problems == [], problems
