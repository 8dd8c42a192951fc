"""The Shop overview in a real browser: narrow the period, click a category bar, see the page
filtered, download the users behind it, and clear the selection."""

import csv
import io
import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e import browser as web

pytestmark = pytest.mark.e2e


def _tile_value(page: Page, label: str) -> Locator:
    tile = page.get_by_test_id("stMetric").filter(has_text=re.compile(f"^{label}"))
    return tile.get_by_test_id("stMetricValue")


def _type_date_part(page: Page, name: str, digits: str) -> None:
    page.get_by_role("spinbutton", name=name, exact=True).click()
    page.keyboard.type(digits)


def _bar_and_label(chart: Locator, position: int) -> tuple[dict, str]:
    """The on-screen box of a horizontal bar and the axis label beside it."""
    box = chart.locator("g.point path").nth(position).bounding_box()
    centre = box["y"] + box["height"] / 2
    ticks = chart.locator("g.ytick text")
    for index in range(ticks.count()):
        tick = ticks.nth(index).bounding_box()
        if abs(tick["y"] + tick["height"] / 2 - centre) < box["height"] / 2:
            return box, ticks.nth(index).text_content()
    raise AssertionError("no axis label beside the bar")


def test_filter_by_date_click_a_category_and_download_its_users(page: Page, app_url, output_dir):
    web.open_page(page, app_url, "Overview")
    expect(page.get_by_role("heading", name="Shop overview")).to_be_visible()
    active = _tile_value(page, "Active users")
    expect(active).to_have_text(re.compile(r"^\d[\d,]*$"))
    last_30_days = active.inner_text()

    # The period: from 1 September to the end of the data (31 October).
    _type_date_part(page, "month, Period start date", "09")
    _type_date_part(page, "day, Period start date", "01")
    page.keyboard.press("Escape")  # closes the calendar, which commits the typed date
    expect(page.get_by_text("2026-09-01 to 2026-10-31 (61 days)", exact=False)).to_be_visible()
    web.wait_idle(page)
    expect(active).not_to_have_text(last_30_days)
    two_months = active.inner_text()
    expect(page.locator(".st-key-overview-chart-funnel g.funnellayer")).to_be_visible()
    page.screenshot(path=str(output_dir / "overview_period.png"))

    page.get_by_role("tab", name="Products").click()
    chart = page.locator(".st-key-overview-chart-categories")
    expect(chart.locator("g.point path")).to_have_count(15)
    box, category = _bar_and_label(chart, 2)
    # A real click on the bar: Plotly listens on the layer above it, so click its position.
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    web.wait_idle(page)
    category_filter = page.get_by_test_id("stMultiSelect").filter(has_text="Category")
    expect(category_filter).to_contain_text(category)
    expect(active).not_to_have_text(two_months)  # the KPIs follow the click
    expect(page.get_by_role("button", name="Clear the category filter")).to_be_visible()
    # The rest of the tab follows too: one category left in the conversion chart.
    conversion = page.locator(".st-key-overview-chart-category_conversion")
    expect(conversion.locator("g.point path")).to_have_count(1)
    expect(conversion.locator("g.ytick text")).to_have_text(category)
    web.expect_no_exception(page)
    page.screenshot(path=str(output_dir / "overview_category_clicked.png"))
    buyers_of_category = active.inner_text()

    page.get_by_text("Show these users").click()
    web.wait_idle(page)
    download = page.get_by_role("button", name=re.compile(r"Download these [\d,]+ users"))
    expect(download).to_be_visible()
    with page.expect_download() as info:
        download.click()
    text = info.value.path().read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:6] == ["user_id", "events", "views", "carts", "orders", "revenue"]
    users = rows[1:]
    assert users and all(row[0] for row in users)
    # Everyone active in the category in the period, as the tile counts them.
    assert f"{len(users):,}" == buyers_of_category
    page.screenshot(path=str(output_dir / "overview_users.png"))

    page.get_by_role("button", name="Clear the category filter").click()
    web.wait_idle(page)
    expect(category_filter).not_to_contain_text(category)
    expect(active).to_have_text(two_months)
    web.expect_no_exception(page)
