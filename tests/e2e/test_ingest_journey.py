"""A log too big to upload, in a real browser: its files sit in a folder on the server; the Data
page ingests the folder into a dataset, opens it, and the Overview shows it."""

import gzip
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import browser as web

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def _split_sample(folder: Path) -> int:
    """The sample shop's events as two CSV files in ``folder`` (the second gzipped), and its
    products beside the folder; returns the number of events."""
    lines = gzip.decompress((ROOT / "data" / "sample_events.csv.gz").read_bytes()).splitlines()
    header, rows = lines[0], lines[1:]
    half = len(rows) // 2
    folder.mkdir()
    (folder / "part-1.csv").write_bytes(b"\n".join([header, *rows[:half]]) + b"\n")
    (folder / "part-2.csv.gz").write_bytes(gzip.compress(b"\n".join([header, *rows[half:]])))
    products = (ROOT / "data" / "sample_products.csv").read_bytes()
    (folder.parent / "products.csv").write_bytes(products)
    return len(rows)


def test_a_folder_on_the_server_becomes_a_dataset_and_its_overview(
    page: Page, app_url, e2e_import_dir, output_dir
):
    events = _split_sample(e2e_import_dir / "shop-logs")
    web.open_page(page, app_url, "Data")
    page.get_by_text("Dataset on the server", exact=True).click()
    web.wait_idle(page)
    page.get_by_label("Events: a file, a folder or a pattern").fill("shop-logs")
    page.get_by_label("Product table (optional)").fill("products.csv")
    page.get_by_role("textbox", name="Dataset name").fill("autumn-logs")
    page.get_by_role("button", name="Ingest").click()

    ready = page.get_by_text(re.compile(r"Dataset autumn-logs is ready"))
    expect(ready).to_be_visible(timeout=120_000)
    expect(ready).to_contain_text(f"{events:,} rows read, {events:,} kept, 0 rejected")
    web.wait_idle(page)
    web.expect_no_exception(page)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("autumn-logs")).to_be_visible()
    expect(sidebar.get_by_text(f"{events:,} events")).to_be_visible()
    page.screenshot(path=str(output_dir / "ingest_done.png"))

    page.get_by_test_id("stSidebarNav").get_by_text("Overview").click()
    expect(page.get_by_role("heading", name="Shop overview")).to_be_visible()
    web.wait_idle(page)
    web.expect_no_exception(page)
    expect(sidebar.get_by_text("autumn-logs")).to_be_visible()
    tile = page.get_by_test_id("stMetric").filter(has_text=re.compile("^Active users"))
    expect(tile.get_by_test_id("stMetricValue")).to_have_text(re.compile(r"^\d[\d,]*$"))
    expect(page.locator(".st-key-overview-chart-funnel g.funnellayer")).to_be_visible()
    page.screenshot(path=str(output_dir / "ingest_overview.png"))
