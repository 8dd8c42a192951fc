"""Page tests with Streamlit's AppTest: every page renders, uploads update the profile."""

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.config import load_settings
from core.data.loading import load_shop
from ui import state

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))
TIMEOUT = 60

EVENTS_CSV = (
    b"Kunde,Artikel,Aktion,Zeitpunkt,Betrag\n"
    b"k1,a1,view,2024-03-01 10:00:00,5.00\n"
    b"k1,a1,cart,2024-03-01 10:01:00,5.00\n"
    b"k1,a1,purchase,2024-03-01 10:02:00,5.00\n"
    b"k2,a2,view,2024-03-02 11:00:00,7.50\n"
    b",a2,view,2024-03-02 11:05:00,7.50\n"
)


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("script", ["app.py", *PAGES])
def test_every_page_renders_with_the_sample_shop(script):
    at = AppTest.from_file(str(ROOT / script), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert not at.error


def test_data_page_profile_matches_the_core_on_the_sample_shop():
    settings = load_settings()
    shop = load_shop(settings.sample_events, settings.sample_products)
    at = AppTest.from_file(str(ROOT / "pages/1_Data.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert _metric(at, "Events") == f"{shop.events.rows_kept:,}"
    assert _metric(at, "Users") == f"{shop.events.frame['user_id'].nunique():,}"
    assert at.session_state[state.SHOP].fingerprint == shop.fingerprint


def test_uploading_a_csv_replaces_the_sample_and_updates_the_profile():
    at = AppTest.from_file(str(ROOT / "pages/1_Data.py"), default_timeout=TIMEOUT).run()
    at.radio(key=state.SOURCE).set_value(state.SOURCE_UPLOAD).run()
    assert at.info  # asks for a file, keeps the sample meanwhile
    at.file_uploader(key=state.EVENTS_FILE).set_value(("shop.csv", EVENTS_CSV, "text/csv")).run()
    assert not at.exception
    assert _metric(at, "Rows read") == "5"
    assert _metric(at, "Rows kept") == "4"
    assert _metric(at, "Rows rejected") == "1"
    assert _metric(at, "Events") == "4"
    assert _metric(at, "Users") == "2"
    assert at.session_state[state.SHOP].events.source_name == "shop.csv"


def test_a_file_without_any_time_column_shows_one_line_error_and_no_exception():
    at = AppTest.from_file(str(ROOT / "pages/1_Data.py"), default_timeout=TIMEOUT).run()
    at.radio(key=state.SOURCE).set_value(state.SOURCE_UPLOAD).run()
    bad = b"customer,product\nc1,p1\nc2,p2\n"
    at.file_uploader(key=state.EVENTS_FILE).set_value(("bad.csv", bad, "text/csv")).run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "event time" in message and "bad.csv" in message and "\n" not in message


def test_changing_the_dataset_clears_models_trained_on_the_previous_one():
    at = AppTest.from_file(str(ROOT / "pages/1_Data.py"), default_timeout=TIMEOUT).run()
    at.session_state["purchase.model"] = "trained on the sample"
    at.radio(key=state.SOURCE).set_value(state.SOURCE_UPLOAD).run()
    at.file_uploader(key=state.EVENTS_FILE).set_value(("shop.csv", EVENTS_CSV, "text/csv")).run()
    assert "purchase.model" not in at.session_state
    assert any("cleared" in w.value for w in at.warning)
