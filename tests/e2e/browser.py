"""Helpers shared by the browser tests."""

from playwright.sync_api import Page, expect


def wait_idle(page: Page) -> None:
    """Wait until the app has finished its current run.

    The status widget is hidden by toolbarMode = "minimal", so ask the app root instead.
    """
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("stApp")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=90_000
    )


def open_page(page: Page, app_url: str, title: str) -> None:
    """Open the app, go to one page through the sidebar and wait until it has run."""
    page.goto(app_url)
    expect(page.get_by_role("heading", name="Data")).to_be_visible()
    page.get_by_test_id("stSidebarNav").get_by_text(title).click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    wait_idle(page)


def set_layers(page: Page, text: str) -> None:
    """Type hidden-layer widths such as "16,8" into the layer editor."""
    widths = page.get_by_label("Or type the widths", exact=True)
    widths.fill(text)
    widths.press("Enter")
    wait_idle(page)


def set_number(page: Page, label: str, value: int) -> None:
    """Fill a number input and leave it, so Streamlit takes the value."""
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Tab")
