"""Runs in a real browser: train two configurations, refresh, find both runs, compare them."""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e import browser as web

pytestmark = pytest.mark.e2e

ROW = 35  # st.dataframe's header and row height, in pixels


def _train(page: Page, layers: str) -> None:
    web.set_layers(page, layers)
    web.set_number(page, "Epochs (at most)", 3)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(f"Hidden layers {layers} relu", exact=False)).to_be_visible(
        timeout=90_000
    )
    web.wait_idle(page)


def _select_row(grid: Locator, row: int) -> None:
    """Tick a row's selection box (the grid is a canvas: click its row-marker column)."""
    grid.click(position={"x": 20, "y": ROW + ROW * row + ROW // 2})
    web.wait_idle(grid.page)


def test_two_trainings_survive_a_refresh_and_can_be_compared(page: Page, app_url, output_dir):
    web.open_page(page, app_url, "Purchase prediction")
    _train(page, "8")
    first = re.search(r"run=([\w-]+)", page.url)
    assert first, page.url
    _train(page, "16,8")
    second = re.search(r"run=([\w-]+)", page.url)
    assert second and second.group(1) != first.group(1)

    page.reload()  # the URL names the run: the page reopens it instead of starting empty
    web.wait_for_results(page)
    expect(page.get_by_text(second.group(1), exact=False)).to_be_visible()
    expect(page.get_by_text("Hidden layers 16,8 relu", exact=False)).to_be_visible()
    web.expect_no_exception(page)

    page.get_by_test_id("stSidebarNav").get_by_text("Runs").click()
    expect(page.get_by_role("heading", name="Runs", exact=True)).to_be_visible()
    web.wait_idle(page)
    page.reload()  # and the registry itself survives a refresh
    expect(page.get_by_role("heading", name="Runs", exact=True)).to_be_visible()
    web.wait_idle(page)
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid).to_be_visible()
    page.screenshot(path=str(output_dir / "runs_table.png"))
    _select_row(grid, 0)  # newest first: 16,8 then 8
    _select_row(grid, 1)
    expect(page.get_by_role("heading", name="2 runs selected")).to_be_visible()
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("network.hidden_layers").first).to_be_attached()  # settings diff
    expect(
        main.get_by_text("MSE (orders²) of the MLP on each run", exact=False).first
    ).to_be_visible()
    expect(
        main.get_by_text(
            "Orders network: training (dotted) and validation (solid)", exact=False
        ).first
    ).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"Report of 2 runs"))).to_be_visible()
    web.expect_no_exception(page)
    page.screenshot(path=str(output_dir / "runs_compare.png"))
    _select_row(grid, 0)  # leave only the older run (8) selected, then open it
    expect(page.get_by_role("heading", name="1 run selected")).to_be_visible()
    page.screenshot(path=str(output_dir / "runs_one_selected.png"))
    page.get_by_role("button", name="Open", exact=True).filter(visible=True).last.click()
    expect(page.get_by_role("heading", name="Purchase prediction")).to_be_visible()
    expect(page.get_by_text("Hidden layers 8 relu", exact=False)).to_be_visible(timeout=90_000)
    web.wait_idle(page)
    assert f"run={first.group(1)}" in page.url
    web.expect_no_exception(page)


def test_a_sweep_trains_every_configuration_and_seed_and_stars_the_best(
    page: Page, app_url, output_dir
):
    web.open_page(page, app_url, "Runs")
    page.get_by_text("Sweep: train several hidden-layer configurations at once").click()
    sweep = page.get_by_test_id("stForm")
    layers = sweep.get_by_test_id("stMultiSelect")
    for _ in range(3):  # clear the default configurations
        layers.get_by_role("button", name=re.compile("Delete|Remove")).first.click()
    page.keyboard.press("Escape")
    more = sweep.get_by_label("More configurations", exact=True)
    more.fill("4; 8,4")
    sweep.get_by_label("Seeds", exact=True).fill("0,1")
    web.set_number(page, "Epochs (max)", 3)
    sweep.get_by_role("button", name="Run sweep").click()
    expect(page.get_by_text(re.compile(r"Best of 4 runs"))).to_be_visible(timeout=120_000)
    web.wait_idle(page)
    expect(
        page.get_by_text("MSE (orders²) of the MLP on each run", exact=False).first
    ).to_be_visible()
    web.expect_no_exception(page)
    page.screenshot(path=str(output_dir / "runs_sweep.png"))
