"""Purchase prediction in a real browser: tune the hidden layers, train, read the results, stop."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import open_page, set_layers, set_number, wait_idle

pytestmark = pytest.mark.e2e


def test_tune_layers_train_and_read_the_results(page: Page, app_url, output_dir):
    open_page(page, app_url, "Purchase prediction")
    set_layers(page, "16,8")
    expect(page.get_by_label("Layer 1 (units)", exact=True)).to_have_value("16")
    expect(page.get_by_label("Layer 2 (units)", exact=True)).to_have_value("8")
    expect(page.get_by_text("User features → 16 → 8 → output", exact=False)).to_be_visible()
    set_number(page, "Epochs (at most)", 8)
    page.get_by_role("button", name="Train", exact=True).click()

    expect(page.get_by_role("heading", name="Results")).to_be_visible(timeout=90_000)
    wait_idle(page)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_test_id("stMetric").filter(has_text="MSE · MLP")).to_contain_text(
        re.compile(r"\d\.\d{4}")
    )
    expect(page.get_by_text("Hidden layers 16,8 relu", exact=False)).to_be_visible()
    scoreboard = page.get_by_role("tabpanel").first
    expect(scoreboard.get_by_test_id("stDataFrame")).to_have_count(2)
    expect(page.get_by_test_id("stException")).to_have_count(0)
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
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.screenshot(path=str(output_dir / "purchase_buyers.png"))


def test_stop_keeps_the_best_epoch_so_far(page: Page, app_url, output_dir):
    open_page(page, app_url, "Purchase prediction")
    set_layers(page, "32,16")
    set_number(page, "Epochs (at most)", 2000)
    page.get_by_text("Early stopping").click()  # off: only Stop ends this training
    page.get_by_role("button", name="Train", exact=True).click()

    expect(page.get_by_text(re.compile(r"Epoch [3-9]\d* of at most 2000"))).to_be_visible(
        timeout=60_000
    )
    expect(page.get_by_text("Orders network: training curves", exact=False)).to_be_visible()
    page.screenshot(path=str(output_dir / "purchase_training_live.png"))
    page.get_by_role("button", name="Stop", exact=True).click()

    expect(page.get_by_text("Training was stopped at epoch", exact=False)).to_be_visible(
        timeout=60_000
    )
    wait_idle(page)
    expect(page.get_by_role("heading", name="Results")).to_be_visible()
    expect(page.get_by_role("button", name="Stop", exact=True)).to_have_count(0)
    expect(page.get_by_role("tab", name="Scoreboard")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.screenshot(path=str(output_dir / "purchase_stopped.png"))
