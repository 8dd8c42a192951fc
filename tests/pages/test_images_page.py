"""The Product photos page with Streamlit's AppTest: the sample's photos trained on, hostile
zips reported entry by entry, and a label column that cannot be learnt from."""

from core.images import models
from core.images.sample import PHOTOS_DIR
from core.runs import RunStore
from tests.pages.apptest import DATA, metric, run_page, table
from tests.photos import huge_png_header, png, zip_of
from ui import images as images_page
from ui import state

IMAGES = "pages/6_Images.py"


def _upload(data: bytes, name: str = "photos.zip"):
    at = run_page(IMAGES, session={state.IMAGES_SOURCE: images_page.ZIP})
    return at.file_uploader(key=state.IMAGES_ZIP).set_value((name, data, "application/zip")).run()


def test_the_sample_photos_train_and_the_page_shows_the_scores_and_the_verdict(runs_dir):
    at = run_page(IMAGES)
    assert not at.exception
    assert metric(at, "Photos read") == "54"
    assert at.selectbox(key=state.IMAGES_LABEL).value == "kind (photo list)"
    at.text_input(key=state.IMAGES_LAYER_EDITOR.text).input("8").run()
    at.number_input(key=state.IMAGES_EPOCHS).set_value(5)
    at = at.button(key=state.IMAGES_TRAIN).click().run()
    assert not at.exception
    assert not at.error
    result = at.session_state[state.IMAGES_RESULT]
    assert result.models.classes.tolist() == [
        "apples", "bananas", "bell peppers", "fruit juice", "milk", "oranges", "tomatoes",
        "yoghurt",
    ]  # fmt: skip
    assert (result.train_photos, result.test_photos) == (43, 11)
    shown = table(at, "Macro-F1")
    assert shown["Accuracy"].tolist() == [result.scores[n].accuracy for n in models.MODEL_NAMES]
    assert any(images_page.verdict(result.scores) == md.value for md in at.markdown)
    [info] = RunStore(runs_dir).runs()
    assert info.run_id == result.run_id == at.query_params[state.RUN_QUERY]
    assert info.task == "images"


def test_a_hostile_zip_is_read_safely_and_every_skipped_entry_says_why():
    data = zip_of(
        {
            "p1.png": png((255, 0, 0)),
            "../../etc/escape.png": png((0, 255, 0)),
            "/abs/p2.png": png((0, 255, 0)),
            "bomb.png": huge_png_header(30_000, 30_000),
            "zeros.jpg": b"\0" * (8 * 1024 * 1024),
            "notes.png": b"not an image at all",
            "more/p1.png": png((250, 0, 0)),
        }
    )
    at = _upload(data)
    assert not at.exception
    assert not at.error
    assert metric(at, "Photos read") == "1"
    assert metric(at, "Entries skipped") == "6"
    assert metric(at, "Duplicate item ids") == "1"
    reasons = dict(zip(*table(at, "reason")[["entry", "reason"]].T.values, strict=True))
    assert reasons["../../etc/escape.png"].startswith("unsafe path")
    assert reasons["/abs/p2.png"].startswith("unsafe path: absolute")
    assert reasons["bomb.png"].startswith("too many pixels")
    assert reasons["zeros.jpg"].startswith("too large")
    assert reasons["notes.png"].startswith("not an image")
    assert reasons["more/p1.png"].startswith("duplicate item id")


def test_a_zip_without_any_usable_photo_shows_one_line_and_no_exception():
    at = _upload(zip_of({"readme.txt": b"hello"}), name="empty.zip")
    assert not at.exception
    assert len(at.error) == 1
    assert "holds no usable photo" in at.error[0].value
    at = _upload(b"not a zip", name="fake.zip")
    assert "not a zip file" in at.error[0].value


def test_a_label_column_with_one_category_disables_train_and_says_what_to_do():
    photos = {p.name: p.read_bytes() for p in sorted(PHOTOS_DIR.glob("*.jpg"))[:6]}
    at = _upload(zip_of(photos))  # labels from the sample's product table: all "Grocery"
    assert not at.exception
    assert at.selectbox(key=state.IMAGES_LABEL).value == "category"
    assert at.button(key=state.IMAGES_TRAIN).disabled
    assert any("choose another label column" in w.value for w in at.warning)


def test_uploaded_photos_become_the_loaded_datas_and_stay_with_its_tables():
    events = (
        b"user_id,item_id,event_type,timestamp\n"
        b"u1,p0045,view,2024-01-01 10:00:00\nu1,p0058,purchase,2024-01-02 10:00:00\n"
        b"u2,p0127,view,2024-01-03 10:00:00\n"
    )
    at = run_page(DATA, through_app=True)
    at.radio(key=state.SOURCE).set_value(state.SOURCE_UPLOAD).run()
    at.file_uploader(key=state.EVENTS_FILE).set_value(("shop.csv", events, "text/csv")).run()
    assert at.session_state[state.SHOP].photos is None
    photos = {
        f"{item}.jpg": (PHOTOS_DIR / f"{item}.jpg").read_bytes() for item in ("p0045", "p0058")
    }
    at.switch_page(IMAGES).run()
    at.radio(key=state.IMAGES_SOURCE).set_value(images_page.ZIP).run()
    zipped = zip_of({**photos, "stranger.jpg": photos["p0045.jpg"]})
    at.file_uploader(key=state.IMAGES_ZIP).set_value(("new.zip", zipped, "application/zip")).run()
    button = at.button(key="images.attach")
    assert "(2 of the loaded data's products)" in button.label
    at = button.click().run()
    assert not at.exception
    assert sorted(p.item_id for p in at.session_state[state.SHOP].photos.photos) == [
        "p0045",
        "p0058",
        "stranger",
    ]
    assert any("now has these photos" in s.value for s in at.success)
    at.switch_page(DATA).run()  # going to the data and back keeps the photos
    assert not at.exception
    assert at.session_state[state.SHOP].photos is not None
    at.switch_page(IMAGES).run()
    at.radio(key=state.IMAGES_SOURCE).set_value(images_page.ZIP).run()
    at.file_uploader(key=state.IMAGES_ZIP).set_value(("new.zip", zipped, "application/zip")).run()
    assert any("These are the loaded data's photos (2 of" in c.value for c in at.caption)
