"""A shared link to a run, opened on a freshly started server (no page visited before)."""

import pytest
from playwright.sync_api import Page, expect

from core import purchase
from core.commands.spec import PAGES
from core.config import load_settings
from core.data.loading import load_shop
from core.ml.network import NetworkConfig
from core.runs import RunStore
from core.runs.tasks import purchase_run_record
from tests.e2e import browser as web
from tests.e2e.harness import running_app

pytestmark = pytest.mark.e2e


def test_a_link_to_a_run_reopens_it_on_a_fresh_server(page: Page, tmp_path, output_dir):
    settings = load_settings()
    shop = load_shop(settings.sample_events, settings.sample_products)
    data = purchase.build_purchase_data(shop.events.frame, shop.products.frame, horizon_days=30)
    models = purchase.train_purchase_models(data, NetworkConfig(hidden_layers=(12,), epochs=2))
    evaluation = purchase.evaluate_purchase_models(models, data, importance_rows=200)
    record = purchase_run_record(models, evaluation, data)
    run_id = RunStore(tmp_path / "runs").save(record, shop, name="shared link")

    with running_app(tmp_path / "runs") as url:
        page.goto(f"{url}/Purchase_prediction?run={run_id}")
        web.wait_for_results(page)
        expect(page.get_by_text(run_id, exact=False)).to_be_visible()
        expect(page.get_by_text("Hidden layers 12 relu", exact=False)).to_be_visible()
        nav = page.get_by_test_id("stSidebarNav")
        titles = tuple(p.title for p in PAGES)
        assert "Runs" in titles and "Product photos" in titles
        for title in titles:
            expect(nav.get_by_text(title, exact=True)).to_be_visible()
        expect(nav.get_by_role("link")).to_have_count(len(titles))  # the app's pages, not files
        assert f"run={run_id}" in page.url
        web.expect_no_exception(page)
        page.screenshot(path=str(output_dir / "deep_link_run.png"))
