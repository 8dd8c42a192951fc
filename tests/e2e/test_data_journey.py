"""The first journey in a real browser: upload a shop, fix a mapping, read the report."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import browser as web

pytestmark = pytest.mark.e2e

EVENTS_CSV = (
    "Kunde;Artikel;Aktion;Zeitpunkt;Betrag\n"
    "k1;a1;view;13/03/2024 10:00;5,00\n"
    "k1;a1;cart;13/03/2024 10:01;5,00\n"
    "k1;a1;purchase;13/03/2024 10:02;5,00\n"
    "k2;a2;view;14/03/2024 11:00;7,50\n"
    "k2;a3;view;not a date;7,50\n"
    "k3;a2;purchase;15/03/2024 09:30;7,50\n"
).encode("cp1252")
PRODUCTS_CSV = (
    "item_id,name,category,price\n"
    "a1,Crème brûlée set,Kitchen,5.00\n"
    "a2,Garden hose,Garden,7.50\n"
    "a3,Tent,Outdoor,90.00\n"
).encode()


def test_upload_fix_a_mapping_and_see_the_report(page: Page, app_url, output_dir):
    web.open_page(page, app_url, "Data")
    expect(page.get_by_text("recognised as", exact=False).first).to_be_visible()
    page.get_by_text("Upload files").click()
    uploads = page.locator("[data-testid='stFileUploader'] input[type='file']")
    expect(uploads).to_have_count(2)
    uploads.nth(0).set_input_files(
        files=[{"name": "kunden.csv", "mimeType": "text/csv", "buffer": EVENTS_CSV}]
    )
    expect(page.get_by_text("kunden.csv").first).to_be_visible()
    web.wait_idle(page)
    uploads.nth(1).set_input_files(
        files=[{"name": "produkte.csv", "mimeType": "text/csv", "buffer": PRODUCTS_CSV}]
    )
    web.wait_idle(page)
    expect(page.get_by_text("Unrecognised export (best guess)").first).to_be_visible()

    # Betrag is a line amount the guess left unmapped: map it to price by hand.
    price_box = page.get_by_test_id("stSelectbox").filter(has_text="price").first
    price_box.click()
    page.get_by_role("option", name="Betrag").click()
    web.wait_idle(page)
    expect(page.get_by_text("price: Decimal commas read", exact=False).first).to_be_visible()

    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("Rows rejected").first).to_be_visible()
    events_tab = page.get_by_role("tabpanel").first
    expect(events_tab.get_by_test_id("stMetric").filter(has_text="Rows kept")).to_contain_text("5")
    expect(events_tab.get_by_test_id("stMetric").filter(has_text="Rows rejected")).to_contain_text(
        "1"
    )
    expect(page.get_by_text("unparseable time").first).to_be_visible()
    download = page.get_by_role("button", name="Download rejected rows (CSV)")
    expect(download).to_be_visible()
    with page.expect_download() as info:
        download.click()
    assert info.value.suggested_filename == "rejected-kunden.csv"
    expect(page.get_by_test_id("stMetric").filter(has_text="Users")).to_contain_text("3")
    expect(page.get_by_role("heading", name="Profile")).to_be_visible()
    web.expect_no_exception(page)
    page.screenshot(path=str(output_dir / "data_journey.png"))
