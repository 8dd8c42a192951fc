"""Recommendations in a real browser: train, read the scoreboard, browse a user (Stop: see
test_background_training.py)."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import browser as web

pytestmark = pytest.mark.e2e


def test_train_then_browse_a_user_with_history_reasons_and_hits(page: Page, app_url, output_dir):
    web.open_page(page, app_url, "Recommendations")
    web.set_layers(page, "16")
    web.set_number(page, "Epochs (at most)", 30)
    expect(page.get_by_text("Time split: 3 training windows of 30 days")).to_be_visible()
    page.get_by_role("button", name="Train", exact=True).click()

    web.wait_for_results(page)
    expect(web.metric(page, "NDCG@10 · MLP ranker")).to_contain_text(re.compile(r"\d\.\d{3}"))
    scoreboard = page.get_by_role("tabpanel", name="Scoreboard")
    expect(scoreboard.get_by_test_id("stDataFrame")).to_have_count(1)
    web.expect_no_exception(page)
    page.get_by_role("heading", name="Results").scroll_into_view_if_needed()
    page.screenshot(path=str(output_dir / "recs_scoreboard.png"))

    page.get_by_role("tab", name="Long tail").click()
    long_tail = page.get_by_role("tabpanel", name="Long tail")
    expect(long_tail.get_by_test_id("stPlotlyChart")).to_have_count(1)
    expect(long_tail.get_by_text("Long tail: where the recommendations land")).to_be_visible()
    page.screenshot(path=str(output_dir / "recs_long_tail.png"))

    # Search the list by its labels: the second of the users who bought 10 products after the
    # cutoff (the first one is shown already).
    web.pick_user(page, "bought 10 products in the test window", search="bought 10 products")
    heading = page.get_by_text("Top 10 recommendations", exact=True)
    expect(heading).to_be_visible()
    expect(web.metric(page, "Hits in the top 10")).to_contain_text(
        re.compile(r"[1-9]\d* of 10")  # this seed and these settings find hits for this user
    )
    expect(page.get_by_text("Green rows (✔) were bought in the test window")).to_be_visible()
    expect(page.get_by_text("History", exact=True)).to_be_visible()  # the history chart's title
    expect(page.get_by_text(re.compile(r"History table \(\d+ newest events"))).to_be_visible()
    web.expect_no_exception(page)
    heading.scroll_into_view_if_needed()
    page.screenshot(path=str(output_dir / "recs_user.png"))

    # A user whose top 10 are grocery products (these settings and seed) sees their photos.
    page.get_by_text("Type a user id", exact=True).click()
    web.wait_idle(page)
    typed = page.get_by_label("User id", exact=True)
    typed.fill("u00053")
    typed.press("Enter")
    web.wait_idle(page)
    heading.scroll_into_view_if_needed()
    # The grid draws on a canvas; its accessible table (filled once in view) holds the values.
    photo_header = page.locator("th", has_text=re.compile(r"^photo$"))
    recommended = (
        page.get_by_test_id("stDataFrame")
        .filter(has=photo_header)
        .filter(has=page.locator("th", has_text=re.compile(r"^why$")))
    )
    expect(recommended).to_have_count(1)
    for row in range(10):  # every recommended product is a grocery product with a photo
        expect(recommended.get_by_test_id(f"glide-cell-1-{row}")).to_contain_text(
            "data:image/jpeg;base64,"
        )
    web.expect_no_exception(page)
    page.screenshot(path=str(output_dir / "recs_user_photos.png"))
