"""Both model pages train in the background alike: a training survives a switch to another page
and a browser refresh, and one cut short by Stop is kept as a stopped run."""

import re

import pytest
from playwright.sync_api import Page, expect

from core.runs.store import RunStore
from tests.e2e.browser import open_page, set_layers, set_number, wait_idle
from tests.e2e.conftest import running_app

pytestmark = pytest.mark.e2e

PAGES = {
    "Purchase prediction": re.compile(r"Epoch \d+ of at most 2000"),
    "Recommendations": re.compile(r"Ranker epoch \d+ of at most 2000"),
}


def _go(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()


@pytest.mark.parametrize("title", list(PAGES))
def test_a_training_survives_a_page_switch_and_a_refresh_and_stops_as_a_stopped_run(
    page: Page, app_url, output_dir, title
):
    progress = PAGES[title]
    open_page(page, app_url, title)
    set_layers(page, "16")
    set_number(page, "Epochs (at most)", 2000)
    page.get_by_text("Early stopping").click()  # off: only Stop ends this training
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(progress)).to_be_visible(timeout=90_000)
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_disabled()

    _go(page, "Data")  # the page's script stops; the training does not
    wait_idle(page)
    _go(page, title)
    expect(page.get_by_text(progress)).to_be_visible(timeout=60_000)
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_disabled()
    assert "training=" in page.url

    page.reload()  # a new session: the URL names the training, and the page re-attaches
    expect(page.get_by_text(progress)).to_be_visible(timeout=90_000)
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_disabled()
    page.screenshot(path=str(output_dir / f"background_{title.split()[0].lower()}.png"))
    page.get_by_role("button", name="Stop", exact=True).click()

    expect(page.get_by_text("Training was stopped at epoch", exact=False)).to_be_visible(
        timeout=90_000
    )
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"\(stopped at epoch \d+\)")).first).to_be_visible()
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_enabled()
    run = re.search(r"run=([\w-]+)", page.url)
    assert run and "training=" not in page.url, page.url

    _go(page, "Runs")
    wait_idle(page)
    grid = page.get_by_test_id("stDataFrame").first
    grid.click(position={"x": 20, "y": 35 + 35 // 2})  # the newest run: this one
    wait_idle(page)
    expect(page.get_by_role("heading", name="1 run selected")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"is stopped: its training was cut short at epoch \d+"))
    ).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_a_training_cut_short_by_the_server_shutting_down_is_saved_as_stopped(browser, tmp_path):
    """A server stopped (SIGTERM) while a training runs stops it after the current epoch and
    saves it as a stopped run before exiting."""
    with running_app(tmp_path) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 2400})
        page = context.new_page()
        open_page(page, url, "Purchase prediction")
        set_layers(page, "16")
        set_number(page, "Epochs (at most)", 2000)
        page.get_by_text("Early stopping").click()
        page.get_by_role("button", name="Train", exact=True).click()
        expect(page.get_by_text(PAGES["Purchase prediction"])).to_be_visible(timeout=90_000)
        context.close()
    # running_app has sent SIGTERM and waited for the server to exit
    runs = RunStore(tmp_path).runs()
    assert len(runs) == 1, runs
    assert runs[0].ok and runs[0].manifest.status == "stopped", runs[0]
    assert "(stopped at epoch" in runs[0].name
