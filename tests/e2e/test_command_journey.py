"""The command box in a real browser: type a command in the sidebar, see what was heard, land
on the page it acts on with the filter set, undo it, and fill a model page's form."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import browser as web

pytestmark = pytest.mark.e2e


def _say(page: Page, text: str) -> None:
    box = page.get_by_test_id("stSidebar").get_by_label("Command", exact=True)
    box.fill(text)
    box.press("Enter")
    web.wait_idle(page)


def test_typed_commands_filter_the_overview_undo_and_fill_the_purchase_form(
    page: Page, app_url, output_dir
):
    web.open_home(page, app_url)
    sidebar = page.get_by_test_id("stSidebar")

    _say(page, "please filter category garden")
    expect(page.get_by_role("heading", name="Shop overview")).to_be_visible()
    expect(
        sidebar.get_by_text(
            "Heard: “please filter category garden” → filter the Overview to category Garden"
        )
    ).to_be_visible()
    category = page.get_by_test_id("stMultiSelect").filter(has_text="Category")
    expect(category.get_by_text("Garden", exact=True)).to_be_visible()
    expect(sidebar.get_by_label("Command", exact=True)).to_have_value("")
    page.screenshot(path=str(output_dir / "command_filter.png"))

    sidebar.get_by_role("button", name="Undo").click()
    web.wait_idle(page)
    expect(category.get_by_text("Garden", exact=True)).to_have_count(0)
    expect(sidebar.get_by_text("undone: the filters are as before.", exact=False)).to_be_visible()

    _say(page, "go to purchase prediction")
    expect(page.get_by_role("heading", name="Purchase prediction")).to_be_visible()
    _say(page, "set hidden layers to one twenty eight sixty four thirty two")
    expect(page.get_by_label("Or type the widths", exact=True)).to_have_value("128,64,32")
    expect(page.get_by_label("Layer 3 (units)", exact=True)).to_have_value("32")

    _say(page, "train the model")
    expect(sidebar.get_by_role("button", name="Confirm")).to_be_visible()
    sidebar.get_by_role("button", name="Cancel").click()
    web.wait_idle(page)
    expect(sidebar.get_by_text("cancelled; nothing was done.", exact=False)).to_be_visible()

    _say(page, "open the pod bay doors")
    expect(sidebar.get_by_text("Did you mean", exact=False)).to_be_visible()
    web.expect_no_exception(page)
    page.screenshot(path=str(output_dir / "command_purchase.png"))
