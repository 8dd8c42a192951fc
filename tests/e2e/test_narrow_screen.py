"""Readable on an 800 px wide window (the sidebar open): no KPI value, tile or button label on
any page is cut short with an ellipsis."""

import pytest
from playwright.sync_api import Page

from tests.e2e import browser as web

pytestmark = pytest.mark.e2e

PAGES = ("Overview", "Purchase prediction", "Recommendations", "Runs", "Data")
# Every element of the page whose text the browser cuts short: CSS ellipsis with more text
# than room. Form labels wrap instead, so anything found here is really clipped.
CLIPPED = """() => [...document.querySelectorAll('[data-testid="stMain"] *')]
    .filter(e => getComputedStyle(e).textOverflow === 'ellipsis'
                 && e.scrollWidth > e.clientWidth + 1 && e.innerText.trim())
    .map(e => e.innerText.trim())"""


def test_no_value_or_button_is_cut_short_at_800_px(narrow_page: Page, app_url, output_dir):
    page = narrow_page
    clipped = {}
    for title in PAGES:
        web.open_page(page, app_url, title)
        page.screenshot(path=output_dir / f"narrow-{title.replace(' ', '-')}.png", full_page=True)
        found = page.evaluate(CLIPPED)
        if found:
            clipped[title] = found
    # The results of a short training, with a user's tiles and tables.
    web.open_page(page, app_url, "Recommendations")
    web.set_layers(page, "8")
    web.set_number(page, "Epochs (at most)", 3)
    page.get_by_role("button", name="Train", exact=True).click()
    web.wait_for_results(page)
    page.get_by_role("heading", name="Browse users").scroll_into_view_if_needed()
    page.screenshot(path=output_dir / "narrow-Recommendations-results.png")
    found = page.evaluate(CLIPPED)
    if found:
        clipped["Recommendations results"] = found
    assert not clipped, f"cut short at 800 px: {clipped}"
