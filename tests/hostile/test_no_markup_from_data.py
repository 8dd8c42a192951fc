"""A shop whose file name, ids, names, categories and brands are Markdown, KaTeX, links, images,
colour directives and HTML: every page shows them as plain text, in a real browser."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import browser as web
from tests.hostile import strings

pytestmark = pytest.mark.e2e

ROW = 35  # st.dataframe's header and row height, in pixels
EVIL = '[data-testid="stMain"], [data-testid="stSidebar"]'
# What text from data must never become: a link to the attacker, a fetched image, math, HTML.
FORBIDDEN = (
    'a[href*="evil"]',
    'a[href^="mailto:"]',
    'img[src*="127.0.0.1:9"]',
    'img[src="x"]',
    ".katex",
    "b",
    '[data-testid="stMarkdownColoredText"]',
    'span[class*="colored"]',
)


def _markup_from_data(page: Page) -> list[str]:
    """Every forbidden node in the main area and the sidebar, as selector: outer HTML."""
    found: list[str] = []
    for selector in FORBIDDEN:
        for root in page.locator(EVIL).all():
            for node in root.locator(selector).all():
                found.append(f"{selector}: {node.evaluate('n => n.outerHTML')[:200]}")
    return found


def _check(page: Page, output_dir, name: str, fetched: list[str]) -> None:
    web.wait_idle(page)
    web.expect_no_exception(page)
    page.screenshot(path=str(output_dir / f"hostile_{name}.png"))
    assert _markup_from_data(page) == [], name
    assert fetched == [], name


def _go(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    expect(page.get_by_role("heading", name=title if title != "Overview" else "Shop overview"))
    web.wait_idle(page)


def _train(page: Page) -> None:
    web.set_layers(page, "8")
    web.set_number(page, "Epochs (at most)", 3)
    page.get_by_role("button", name="Train", exact=True).click()
    web.wait_for_results(page)


def test_text_from_data_is_never_markup_on_any_page(page: Page, app_url, output_dir):
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if "127.0.0.1:9/" in r.url else None)

    web.open_page(page, app_url, "Data")
    page.get_by_text("Upload files").click()
    uploads = page.locator("[data-testid='stFileUploader'] input[type='file']")
    expect(uploads).to_have_count(2)
    uploads.nth(0).set_input_files(
        files=[
            {"name": strings.EVENTS_NAME, "mimeType": "text/csv", "buffer": strings.events_csv()}
        ]
    )
    web.wait_idle(page)
    uploads.nth(1).set_input_files(
        files=[
            {
                "name": strings.PRODUCTS_NAME,
                "mimeType": "text/csv",
                "buffer": strings.products_csv(),
            }
        ]
    )
    web.wait_idle(page)
    main = page.get_by_test_id("stMain")
    # The file name reads as typed (an invisible word joiner keeps "https:" off "//").
    expect(main.get_by_text("[Sign in again](https:", exact=False).first).to_be_visible()
    expect(main.get_by_text("$e^x$.csv", exact=False).first).to_be_visible()
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("[Sign in again](https:", exact=False)).to_be_visible()
    _check(page, output_dir, "data", fetched)
    page.get_by_role("tab", name="Products").click()
    _check(page, output_dir, "data_products", fetched)

    _go(page, "Overview")
    for tab in ("Funnel", "Trends", "Products", "Customers"):
        page.get_by_role("tab", name=tab, exact=True).click()
        _check(page, output_dir, f"overview_{tab.lower()}", fetched)

    _go(page, "Purchase prediction")
    _train(page)
    purchase_run = re.search(r"run=([\w-]+)", page.url)
    assert purchase_run, page.url
    _check(page, output_dir, "purchase", fetched)
    for tab in ("Users", "Runs on this data"):
        page.get_by_role("tab", name=tab, exact=True).click()
        _check(page, output_dir, f"purchase_{tab.split()[0].lower()}", fetched)

    _go(page, "Recommendations")
    _train(page)
    page.get_by_role("heading", name="Browse users").scroll_into_view_if_needed()
    _check(page, output_dir, "recommendations", fetched)
    clicked = main.get_by_test_id("stMultiSelect").filter(has_text="Products the visitor clicked")
    clicked.scroll_into_view_if_needed()
    clicked.click()
    page.get_by_role("option").first.click()
    page.keyboard.press("Escape")
    _check(page, output_dir, "recommendations_what_if", fetched)

    _go(page, "Runs")
    grid = main.get_by_test_id("stDataFrame").first
    expect(grid).to_be_visible()
    for row in (0, 1):  # newest first: this test's recommender, then its purchase model
        grid.click(position={"x": 20, "y": ROW + ROW * row + ROW // 2})
        web.wait_idle(page)
    expect(page.get_by_role("heading", name="2 runs selected")).to_be_visible()
    _check(page, output_dir, "runs", fetched)

    _go(page, "Home")
    _check(page, output_dir, "home", fetched)

    # A shared link reopens the run on the data it was trained on, file name included.
    page.goto(f"{app_url}/Purchase_prediction?run={purchase_run.group(1)}")
    web.wait_for_results(page)
    expect(sidebar.get_by_text("[Sign in again](https:", exact=False)).to_be_visible()
    _check(page, output_dir, "purchase_reopened", fetched)

    # Anyone can write a URL: the error quoting it links nowhere.
    for where in ("Purchase_prediction", "Recommendations", "Runs"):
        page.goto(f"{app_url}/{where}?run=https://evil.example/login")
        expect(page.get_by_test_id("stApp")).to_be_visible()
        web.wait_idle(page)
        if where != "Runs":
            expect(main.get_by_test_id("stAlert").first).to_contain_text("evil")
        _check(page, output_dir, f"url_{where.lower()}", fetched)
