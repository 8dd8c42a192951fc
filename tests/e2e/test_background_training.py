"""Both model pages train in the background alike: Stop keeps the best epoch so far, a training
survives a switch to another page and a browser refresh, and one cut short by Stop is kept as a
stopped run."""

import re

import pytest
from playwright.sync_api import Page, expect

from core.runs.store import RunStore
from tests.e2e import browser as web
from tests.e2e.harness import running_app

pytestmark = pytest.mark.e2e

PAGES = {
    "Purchase prediction": re.compile(r"Epoch \d+ of at most 2000"),
    "Recommendations": re.compile(r"Ranker epoch \d+ of at most 2000"),
}


# Per page: its progress line once past epoch 2 and how long that may take to show, what else it
# shows while it trains (None: nothing more to check), and the first word of its screenshots.
STOPPED = {
    "Purchase prediction": (
        re.compile(r"Epoch [3-9]\d* of at most 2000"),
        60_000,
        "Orders network: training curves",
        "purchase",
    ),
    "Recommendations": (re.compile(r"Ranker epoch [3-9]\d* of at most 2000"), 90_000, None, "recs"),
}


def _go(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()


@pytest.mark.parametrize("title", list(STOPPED))
def test_stop_keeps_the_best_epoch_so_far(page: Page, app_url, output_dir, title):
    progress, wait, live, shots = STOPPED[title]
    web.open_page(page, app_url, title)
    web.start_endless_training(page, "32,16")

    expect(page.get_by_text(progress)).to_be_visible(timeout=wait)
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_disabled()
    if live is not None:
        expect(page.get_by_text(live, exact=False)).to_be_visible()
    page.screenshot(path=str(output_dir / f"{shots}_training_live.png"))
    web.stop_training(page)

    expect(page.get_by_role("heading", name="Results")).to_be_visible()
    expect(page.get_by_role("button", name="Stop", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_enabled()
    expect(page.get_by_role("tab", name="Scoreboard")).to_be_visible()
    web.expect_no_exception(page)
    page.screenshot(path=str(output_dir / f"{shots}_stopped.png"))


@pytest.mark.parametrize("title", list(PAGES))
def test_a_training_survives_a_page_switch_and_a_refresh_and_stops_as_a_stopped_run(
    page: Page, app_url, output_dir, title
):
    progress = PAGES[title]
    web.open_page(page, app_url, title)
    web.start_endless_training(page, "16")
    expect(page.get_by_text(progress)).to_be_visible(timeout=90_000)
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_disabled()

    _go(page, "Data")  # the page's script stops; the training does not
    web.wait_idle(page)
    _go(page, title)
    expect(page.get_by_text(progress)).to_be_visible(timeout=60_000)
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_disabled()
    assert "training=" in page.url

    page.reload()  # a new session: the URL names the training, and the page re-attaches
    expect(page.get_by_text(progress)).to_be_visible(timeout=90_000)
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_disabled()
    page.screenshot(path=str(output_dir / f"background_{title.split()[0].lower()}.png"))
    web.stop_training(page, timeout=90_000)

    expect(page.get_by_text(re.compile(r"\(stopped at epoch \d+\)")).first).to_be_visible()
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_enabled()
    run = re.search(r"run=([\w-]+)", page.url)
    assert run and "training=" not in page.url, page.url

    _go(page, "Runs")
    web.wait_idle(page)
    grid = page.get_by_test_id("stDataFrame").first
    grid.click(position={"x": 20, "y": 35 + 35 // 2})  # the newest run: this one
    web.wait_idle(page)
    expect(page.get_by_role("heading", name="1 run selected")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"is stopped: its training was cut short at epoch \d+"))
    ).to_be_visible()
    web.expect_no_exception(page)


def test_a_training_cut_short_by_the_server_shutting_down_is_saved_as_stopped(browser, tmp_path):
    """A server stopped (SIGTERM) while a training runs stops it after the current epoch and
    saves it as a stopped run before exiting."""
    with running_app(tmp_path) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 2400})
        page = context.new_page()
        web.open_page(page, url, "Purchase prediction")
        web.start_endless_training(page, "16")
        expect(page.get_by_text(PAGES["Purchase prediction"])).to_be_visible(timeout=90_000)
        context.close()
    # running_app has sent SIGTERM and waited for the server to exit
    runs = RunStore(tmp_path).runs()
    assert len(runs) == 1, runs
    assert runs[0].ok and runs[0].manifest.status == "stopped", runs[0]
    assert "(stopped at epoch" in runs[0].name
