"""Helpers shared by the browser tests."""

import re

from playwright.sync_api import Locator, Page, expect


def wait_idle(page: Page) -> None:
    """Wait until the app has finished its current run.

    The status widget is hidden by toolbarMode = "minimal", so ask the app root instead.
    """
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("stApp")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=90_000
    )


def open_home(page: Page, app_url: str) -> None:
    """Open the app on its first page, Home, and wait until it has run."""
    page.goto(app_url)
    expect(page.get_by_role("heading", name="ShopLens")).to_be_visible()
    wait_idle(page)


def open_page(page: Page, app_url: str, title: str) -> None:
    """Open the app, go to one page through the sidebar and wait until it has run."""
    open_home(page, app_url)
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


def expect_no_exception(page: Page) -> None:
    """The page shows no Python exception."""
    expect(page.get_by_test_id("stException")).to_have_count(0)


def start_endless_training(page: Page, layers: str) -> None:
    """On a model page: train ``layers`` for up to 2000 epochs without early stopping, so that
    only Stop ends the training."""
    set_layers(page, layers)
    set_number(page, "Epochs (at most)", 2000)
    page.get_by_text("Early stopping").click()  # off
    page.get_by_role("button", name="Train", exact=True).click()


def stop_training(page: Page, timeout: int = 60_000) -> None:
    """Press Stop, then wait until the page says so and has finished its run."""
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text("Training was stopped at epoch", exact=False)).to_be_visible(
        timeout=timeout
    )
    wait_idle(page)


def wait_for_results(page: Page) -> None:
    """Wait until a model page shows the results of a training or of a reopened run, and has
    finished its run."""
    expect(page.get_by_role("heading", name="Results")).to_be_visible(timeout=90_000)
    wait_idle(page)


def metric(page: Page, label: str) -> Locator:
    """The metric tile called ``label`` in the page's main area."""
    return page.get_by_test_id("stMain").get_by_test_id("stMetric").filter(has_text=label)


def pick_user(page: Page, shown: str, *, search: str | None = None) -> str:
    """In the Recommendations page's user browser, pick the second user listed (the first is
    shown already), after typing ``search``; the option must contain ``shown``. Returns the
    user id, once that user's recommendations are shown."""
    page.get_by_role("heading", name="Browse users").scroll_into_view_if_needed()
    picker = page.get_by_role("combobox", name="User")
    picker.click()
    if search:
        picker.press_sequentially(search)
    options = page.get_by_role("option")
    expect(options.nth(1)).to_contain_text(shown)
    user = options.nth(1).inner_text().split(" · ")[0]
    options.nth(1).click()
    wait_idle(page)
    expect(page.get_by_role("combobox", name="User")).to_have_value(re.compile(user))
    return user
