"""Page tests with Streamlit's AppTest: every page renders, uploads update the profile."""

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

from core.datasets.coded import CODED
from tests.pages.apptest import APP, DATA, OVERVIEW, ROOT, metric, run_page
from ui import commands, data, state

PAGES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))

EVENTS_CSV = (
    b"Kunde,Artikel,Aktion,Zeitpunkt,Betrag\n"
    b"k1,a1,view,2024-03-01 10:00:00,5.00\n"
    b"k1,a1,cart,2024-03-01 10:01:00,5.00\n"
    b"k1,a1,purchase,2024-03-01 10:02:00,5.00\n"
    b"k2,a2,view,2024-03-02 11:00:00,7.50\n"
    b",a2,view,2024-03-02 11:05:00,7.50\n"
)


@pytest.mark.slow
@pytest.mark.parametrize("script", [APP, *PAGES])
def test_every_page_renders_with_the_sample_shop(script):
    # Pages through app.py, as the app runs them: their page links resolve only there.
    at = run_page(script, through_app=script != APP)
    assert not at.exception
    assert not at.error
    assert at.sidebar.text_input(key=commands.BOX).label == "Command"  # the command box


def test_data_page_profile_matches_the_core_on_the_sample_shop(sample_shop):
    at = run_page(DATA)
    assert not at.exception
    assert metric(at, "Events") == f"{sample_shop.events.rows_kept:,}"
    assert metric(at, "Users") == f"{sample_shop.events.frame['user_id'].nunique():,}"
    assert at.session_state[state.SHOP].fingerprint == sample_shop.fingerprint


def test_uploading_a_csv_replaces_the_sample_and_updates_the_profile():
    at = run_page(DATA)
    at.radio(key=state.SOURCE).set_value(state.SOURCE_UPLOAD).run()
    assert at.info  # asks for a file, keeps the sample meanwhile
    at.file_uploader(key=state.EVENTS_FILE).set_value(("shop.csv", EVENTS_CSV, "text/csv")).run()
    assert not at.exception
    assert metric(at, "Rows read") == "5"
    assert metric(at, "Rows kept") == "4"
    assert metric(at, "Rows rejected") == "1"
    assert metric(at, "Events") == "4"
    assert metric(at, "Users") == "2"
    assert at.session_state[state.SHOP].events.source_name == "shop.csv"


def test_a_file_without_any_time_column_shows_one_line_error_and_no_exception():
    at = run_page(DATA)
    at.radio(key=state.SOURCE).set_value(state.SOURCE_UPLOAD).run()
    bad = b"customer,product\nc1,p1\nc2,p2\n"
    at.file_uploader(key=state.EVENTS_FILE).set_value(("bad.csv", bad, "text/csv")).run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "event time" in message and "bad.csv" in message and "\n" not in message


def test_changing_the_dataset_clears_models_trained_on_the_previous_one():
    at = run_page(DATA)
    at.session_state["purchase.model"] = "trained on the sample"
    at.radio(key=state.SOURCE).set_value(state.SOURCE_UPLOAD).run()
    at.file_uploader(key=state.EVENTS_FILE).set_value(("shop.csv", EVENTS_CSV, "text/csv")).run()
    assert "purchase.model" not in at.session_state
    assert any("cleared" in w.value for w in at.warning)


@pytest.mark.parametrize(
    ("upload", "download"),
    [
        ("Online Retail.csv.csv", "rejected-online-retail.csv"),
        ("orders 2024.CSV.gz", "rejected-orders-2024.csv"),
        ("Bestellungen-Ü.xlsx", "rejected-bestellungen-u.csv"),
        ("../x/shop.zip", "rejected-shop.csv"),
        ("商店.parquet", "rejected-rows.csv"),
    ],
)
def test_rejected_rows_download_is_named_after_the_file_without_its_endings(upload, download):
    assert data.rejected_file_name(upload) == download


def test_the_data_page_offers_the_rejected_rows_under_a_clean_name(monkeypatch):
    offered = []
    add_deferred = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **options):
        offered.append(file_name)
        return add_deferred(self, data_callable, mimetype, coordinates, file_name, **options)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    at = run_page(DATA)
    at.radio(key=state.SOURCE).set_value(state.SOURCE_UPLOAD).run()
    upload = ("Online Retail.csv.csv", EVENTS_CSV, "text/csv")
    at.file_uploader(key=state.EVENTS_FILE).set_value(upload).run()
    assert not at.exception
    assert metric(at, "Rows rejected") == "1"
    assert offered == ["rejected-online-retail.csv"]


def test_a_dataset_ingested_on_the_server_opens_on_the_data_page(tmp_path, monkeypatch):
    from core.datasets.ingest import ingest

    source = tmp_path / "shop.csv"
    source.write_bytes(EVENTS_CSV)
    ingest([source], name="big-shop", data_dir=tmp_path / "datasets")
    monkeypatch.setenv("SHOPLENS_DATA_DIR", str(tmp_path / "datasets"))
    at = run_page(DATA)
    at.radio(key=state.SOURCE).set_value(state.SOURCE_DATASET).run()
    assert not at.exception
    assert at.selectbox(key=state.DATASET_CHOICE).value == "big-shop"
    assert metric(at, "Rows read") == "5"
    assert metric(at, "Rows kept") == "4"
    assert metric(at, "Events") == "4"
    assert at.session_state[state.SHOP].events.source_name == "big-shop"


def test_a_datasets_overview_is_computed_over_its_files(tmp_path, monkeypatch):
    from core.datasets.ingest import ingest

    source = tmp_path / "shop.csv"
    source.write_bytes(EVENTS_CSV)
    ingest([source], name="big-shop", data_dir=tmp_path / "datasets")
    monkeypatch.setenv("SHOPLENS_DATA_DIR", str(tmp_path / "datasets"))
    at = run_page(DATA, through_app=True)
    at.radio(key=state.SOURCE).set_value(state.SOURCE_DATASET).run()
    at.switch_page(OVERVIEW).run()
    assert not at.exception
    assert (tmp_path / "datasets" / "big-shop" / CODED / "events.parquet").is_file()
    assert metric(at, "Active users") == "2"
    assert metric(at, "Orders") == "1"
    at.toggle(key=state.OVERVIEW_SHOW_USERS).set_value(True).run()
    assert not at.exception
    assert list(at.dataframe[0].value["user_id"]) == ["k1", "k2"]


def test_without_datasets_the_page_says_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPLENS_DATA_DIR", str(tmp_path / "none"))
    at = run_page(DATA)
    at.radio(key=state.SOURCE).set_value(state.SOURCE_DATASET).run()
    assert not at.exception
    assert any("python -m core ingest" in i.value for i in at.info)
