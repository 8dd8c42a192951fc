"""A stakeholder's path on a raw UCI "Online Retail" export in a real browser: products are
shown by name, postage lines are counted apart and never recommended, and net revenue sits
beside gross."""

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import browser as web
from tests.uci import raw_uci_export

pytestmark = pytest.mark.e2e

NON_PRODUCTS = {"POST", "DOT"}


def _go(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(title, re.IGNORECASE)).first).to_be_visible()
    web.wait_idle(page)


def test_a_raw_uci_export_names_products_and_never_recommends_postage(
    page: Page, app_url, output_dir
):
    page.goto(app_url)
    web.wait_idle(page)
    _go(page, "Data")
    page.get_by_text("Upload files").click()
    uploads = page.locator("[data-testid='stFileUploader'] input[type='file']")
    uploads.nth(0).set_input_files(
        files=[{"name": "Online Retail.csv", "mimeType": "text/csv", "buffer": raw_uci_export()}]
    )
    web.wait_idle(page)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("UCI Online Retail").first).to_be_visible()
    expect(main.get_by_text("Postage, fees and other lines that sell no product")).to_be_visible()
    web.expect_no_exception(page)
    page.screenshot(path=str(output_dir / "uci_data.png"), full_page=True)

    _go(page, "Overview")
    for label in ("Gross revenue", "Net revenue", "Postage and fees"):
        expect(web.metric(page, label)).to_be_visible()
    page.get_by_role("tab", name="Products").click()
    products = page.get_by_role("tabpanel", name="Products")
    items_chart = products.get_by_test_id("stPlotlyChart").filter(has_text="Items by orders")
    expect(items_chart).to_be_visible()
    labels = items_chart.locator("g.ytick text").all_text_contents()
    assert labels and all(" · " in label for label in labels)  # name · item id
    assert not NON_PRODUCTS & {label.rsplit(" · ", 1)[-1] for label in labels}
    web.expect_no_exception(page)
    page.screenshot(path=str(output_dir / "uci_products.png"), full_page=True)

    _go(page, "Recommendations")
    web.set_layers(page, "16")
    web.set_number(page, "Epochs (at most)", 10)
    page.get_by_role("button", name="Train", exact=True).click()
    web.wait_for_results(page)
    web.expect_no_exception(page)
    page.get_by_role("heading", name="Browse users").scroll_into_view_if_needed()
    page.screenshot(path=str(output_dir / "uci_user.png"))
    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile(r"Download every user's top \d+")).click()
    rows = list(csv.DictReader(io.StringIO(info.value.path().read_text(encoding="utf-8-sig"))))
    assert rows and "name" in rows[0]
    assert not NON_PRODUCTS & {row["item_id"] for row in rows}
    assert all(row["name"] for row in rows)
    assert not any("POSTAGE" in row["reason"] for row in rows)
