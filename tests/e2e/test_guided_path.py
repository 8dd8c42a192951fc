"""A newcomer's first visit in a real browser: the Home page's guided path from nothing to one
customer's recommendations and their reasons, with the recommender's default settings, in
under 3 minutes. And the Home page on a narrow screen."""

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import browser as web

pytestmark = pytest.mark.e2e

BUDGET_SECONDS = 180


def _step(page: Page, number: int):
    return page.locator(f".st-key-home-step-{number}")


def _done(page: Page, number: int) -> None:
    expect(_step(page, number).get_by_text("✔ done")).to_be_visible()


def _home_from_sidebar(page: Page) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text("Home", exact=True).click()
    expect(page.get_by_role("heading", name="ShopLens")).to_be_visible()
    web.wait_idle(page)


def test_a_newcomer_follows_the_guided_path_to_one_customers_reasons(
    page: Page, app_url, output_dir
):
    started = time.monotonic()
    web.open_home(page, app_url)
    expect(page.get_by_text("0 of 4 done in this session", exact=False)).to_be_visible()
    for start in ("Explore the sample shop", "Load your own files", "Open a saved run"):
        expect(page.get_by_role("button", name=start)).to_be_visible()
    web.expect_no_exception(page)
    page.screenshot(path=str(output_dir / "guided_0_home.png"))

    # 1 · load the sample shop: ticked, and the sidebar names it.
    _step(page, 1).get_by_role("button", name="Load the sample shop").click()
    web.wait_idle(page)
    _done(page, 1)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("Sample shop")).to_be_visible()
    expect(
        sidebar.get_by_text(re.compile(r"208,865 events\s+1 May 2026 – 31 Oct 2026"))
    ).to_be_visible()
    page.screenshot(path=str(output_dir / "guided_1_sample_loaded.png"))

    # 2 · look at the overview.
    _step(page, 2).get_by_role("button", name="Open the Overview").click()
    expect(page.get_by_role("heading", name="Shop overview")).to_be_visible()
    web.wait_idle(page)
    web.expect_no_exception(page)
    page.screenshot(path=str(output_dir / "guided_2_overview.png"))
    _home_from_sidebar(page)
    _done(page, 2)

    # 3 · train the recommender with the default settings.
    _step(page, 3).get_by_role("button", name="Open Recommendations").click()
    expect(page.get_by_role("heading", name="Recommendations")).to_be_visible()
    web.wait_idle(page)
    trained_from = time.monotonic()
    page.get_by_role("button", name="Train", exact=True).click()
    web.wait_for_results(page)
    training = time.monotonic() - trained_from
    web.expect_no_exception(page)
    page.get_by_role("heading", name="Results").scroll_into_view_if_needed()
    page.screenshot(path=str(output_dir / "guided_3_trained.png"))

    # 4 · pick a customer (the second in the list) and read the reasons.
    web.pick_user(page, "in the test window", search="in the test window")
    heading = page.get_by_text("Top 10 recommendations", exact=True)
    expect(heading).to_be_visible()
    # The grid draws on a canvas; a hidden accessible copy holds the cells' text.
    why = page.locator("th", has_text=re.compile(r"^why$"))
    recs = page.locator("table[role=grid]").filter(has=why).first  # the user's, then what-if
    reasons = recs.locator("td").filter(
        has_text=re.compile(r"you viewed|your cart|chosen together|popular in")
    )
    expect(reasons.first).to_be_attached()
    web.expect_no_exception(page)
    heading.scroll_into_view_if_needed()
    page.screenshot(path=str(output_dir / "guided_4_reasons.png"))

    _home_from_sidebar(page)
    for number in (1, 2, 3, 4):
        _done(page, number)
    expect(page.get_by_text("4 of 4 done in this session", exact=False)).to_be_visible()
    page.screenshot(path=str(output_dir / "guided_5_all_done.png"))

    elapsed = time.monotonic() - started
    print(f"\nGuided path: {elapsed:.0f} s in all, of which {training:.0f} s training")
    assert elapsed < BUDGET_SECONDS


# The words of an element's text that the browser broke across two lines.
SPLIT_WORDS = """el => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const split = [];
    while (walker.nextNode()) {
        const node = walker.currentNode;
        for (const word of node.textContent.matchAll(/\\S+/g)) {
            const range = document.createRange();
            range.setStart(node, word.index);
            range.setEnd(node, word.index + word[0].length);
            const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
            if (tops.size > 1) split.push(word[0]);
        }
    }
    return split;
}"""
OVERFLOWS = "el => [el, ...el.querySelectorAll('*')].some((e) => e.scrollWidth > e.clientWidth + 1)"


def test_the_home_page_reads_fully_800_pixels_wide(browser, app_url, output_dir):
    context = browser.new_context(viewport={"width": 800, "height": 1400})
    page = context.new_page()
    try:
        web.open_home(page, app_url)
        main = page.get_by_test_id("stMain")
        buttons = main.get_by_role("button")
        expect(buttons).to_have_count(7)  # three starts and the guided path's four
        for element in [*buttons.all(), *main.get_by_test_id("stMarkdownContainer").all()]:
            text = element.inner_text()
            assert not element.evaluate(OVERFLOWS), f"cut: {text}"
            assert element.evaluate(SPLIT_WORDS) == [], f"a word broken in two: {text}"
        web.expect_no_exception(page)
        page.screenshot(path=str(output_dir / "home_800px.png"))
    finally:
        context.close()
