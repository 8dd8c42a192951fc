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
