"""Purchase prediction in a real browser: tune the hidden layers, train, read the results (Stop:
see test_background_training.py)."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import browser as web

pytestmark = pytest.mark.e2e


def test_tune_layers_train_and_read_the_results(page: Page, app_url, output_dir):
    web.open_page(page, app_url, "Purchase prediction")
    web.set_layers(page, "16,8")
    expect(page.get_by_label("Layer 1 (units)", exact=True)).to_have_value("16")
    expect(page.get_by_label("Layer 2 (units)", exact=True)).to_have_value("8")
    expect(page.get_by_text("User features → 16 → 8 → output", exact=False)).to_be_visible()
    web.set_number(page, "Epochs (at most)", 8)
    page.get_by_role("button", name="Train", exact=True).click()

    web.wait_for_results(page)
    expect(web.metric(page, "MSE · MLP")).to_contain_text(re.compile(r"\d\.\d{4}"))
    expect(page.get_by_text("Hidden layers 16,8 relu", exact=False)).to_be_visible()
    scoreboard = page.get_by_role("tabpanel").first
    expect(scoreboard.get_by_test_id("stDataFrame")).to_have_count(2)
    web.expect_no_exception(page)
    page.screenshot(path=str(output_dir / "purchase_scoreboard.png"))

    page.get_by_role("tab", name="Training curves").click()
    curves = page.get_by_role("tabpanel", name="Training curves")
    expect(curves.get_by_test_id("stPlotlyChart")).to_have_count(2)
    expect(curves.get_by_text("Orders network: training curves", exact=False)).to_be_visible()
    expect(curves.get_by_text("Buyer network: training curves", exact=False)).to_be_visible()
    page.screenshot(path=str(output_dir / "purchase_curves.png"))

    page.get_by_role("tab", name="Buyers").click()
    buyers = page.get_by_role("tabpanel", name="Buyers")
    expect(buyers.get_by_text("Who the MLP predicted to buy", exact=False)).to_be_visible()
    expect(
        buyers.get_by_text(re.compile(r"The top 10% of users .* hold \d+% of next-period"))
    ).to_be_visible()
    web.expect_no_exception(page)
    page.screenshot(path=str(output_dir / "purchase_buyers.png"))
