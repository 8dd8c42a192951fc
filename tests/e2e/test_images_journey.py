"""Product photos in a real browser: upload a zip of the sample's photos, train the category
model, read the confusion matrix and find similar products."""

import re
import zipfile

import pytest
from playwright.sync_api import Page, expect

from core.images.sample import PHOTOS_DIR
from tests.e2e import browser as web

pytestmark = pytest.mark.e2e


def test_upload_a_zip_train_read_the_confusion_matrix_and_find_similar(
    page: Page, app_url, output_dir, tmp_path
):
    zipped = tmp_path / "grocery photos.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        for photo in sorted(PHOTOS_DIR.iterdir()):  # the photos, their list and the licence
            archive.write(photo, f"grocery/{photo.name}")
    web.open_page(page, app_url, "Product photos")
    page.get_by_text("Upload a zip", exact=True).click()
    web.wait_idle(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(zipped))
    web.wait_idle(page)
    expect(web.metric(page, "Photos read")).to_contain_text("54")
    expect(web.metric(page, "Entries skipped")).to_contain_text("1")  # the licence file
    expect(page.get_by_text("54 photos with a category (8 categories)")).to_be_visible()
    page.screenshot(path=str(output_dir / "images_uploaded.png"))

    web.set_layers(page, "32")
    web.set_number(page, "Epochs (at most)", 20)
    page.get_by_role("button", name="Train", exact=True).click()
    web.wait_for_results(page)
    expect(
        page.get_by_text(re.compile(r"held out \(20%, each category keeping its share\)"))
    ).to_be_visible()
    expect(
        page.get_by_text(
            re.compile(r"^(A baseline wins|The MLP beats every baseline|The MLP only ties)")
        )
    ).to_be_visible()
    web.expect_no_exception(page)
    page.screenshot(path=str(output_dir / "images_scoreboard.png"))

    page.get_by_role("tab", name="Confusion matrix").click()
    panel = page.get_by_role("tabpanel", name="Confusion matrix")
    expect(panel.get_by_test_id("stPlotlyChart")).to_have_count(1)
    expect(panel.get_by_text("true category (rows) against predicted", exact=False)).to_be_visible()
    page.screenshot(path=str(output_dir / "images_confusion.png"))

    page.get_by_role("tab", name="Similar products").click()
    panel = page.get_by_role("tabpanel", name="Similar products")
    expect(panel.get_by_text("Most similar products", exact=True)).to_be_visible()
    expect(panel.get_by_test_id("stImage")).to_have_count(6)  # the product and 5 like it
    expect(panel.get_by_text(re.compile(r"similarity 0\.\d\d")).first).to_be_visible()
    web.expect_no_exception(page)
    page.screenshot(path=str(output_dir / "images_similar.png"))
