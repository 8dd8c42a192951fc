"""Ingesting from the Data page: files on the server by path, and an upload too large to
load into memory, each becoming a dataset that then opens."""

from __future__ import annotations

import gzip

from tests.pages.apptest import DATA, metric, run_page
from ui import state

EVENTS = (
    "user_id,item_id,event_type,timestamp\n"
    "u1,p1,view,2024-01-01 10:00:00\n"
    "u1,p1,purchase,2024-01-02 10:00:00\n"
    "u2,p2,view,2024-01-03 10:00:00\n"
    ",p2,view,2024-01-04 10:00:00\n"
)
MORE = "user_id,item_id,event_type,timestamp\nu3,p1,cart,2023-12-31 09:00:00\n"


def _on_datasets(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPLENS_DATA_DIR", str(tmp_path / "datasets"))
    monkeypatch.setenv("SHOPLENS_IMPORT_DIR", str(tmp_path / "imports"))
    logs = tmp_path / "imports" / "logs"
    logs.mkdir(parents=True)
    (logs / "a.csv").write_text(EVENTS, encoding="utf-8")
    (logs / "b.csv.gz").write_bytes(gzip.compress(MORE.encode()))
    at = run_page(DATA)
    return at.radio(key=state.SOURCE).set_value(state.SOURCE_DATASET).run()


def test_a_folder_on_the_server_is_ingested_and_opened(tmp_path, monkeypatch):
    at = _on_datasets(tmp_path, monkeypatch)
    assert not at.exception and any("Ingest files" in e.label for e in at.expander)
    at.text_input(key="data.ingest.source").input("logs")
    at.text_input(key="data.ingest.name").input("march")
    at.button[0].click()
    at.run()  # the ingest runs on its own thread; the page follows it, then draws again
    assert not at.exception, at.exception
    assert any("Dataset **march** is ready" in s.value for s in at.success)
    assert "5 rows read, 4 kept, 1 rejected" in at.success[0].value
    assert at.selectbox(key=state.DATASET_CHOICE).value == "march"
    assert metric(at, "Events") == "4"
    assert (tmp_path / "datasets" / "march" / "dataset.json").is_file()


def test_a_path_outside_the_import_folder_is_refused_in_one_line(tmp_path, monkeypatch):
    (tmp_path / "secret.csv").write_text(EVENTS, encoding="utf-8")
    at = _on_datasets(tmp_path, monkeypatch)
    for outside in ("../secret.csv", str(tmp_path / "secret.csv")):
        at.text_input(key="data.ingest.source").input(outside)
        at.button[0].click()
        at.run()
        assert not at.exception
        assert (
            len(at.error) == 1 and "outside the folder the app may read from" in at.error[0].value
        )
        assert str(tmp_path) not in at.error[0].value
    assert not (tmp_path / "datasets").exists() or not any((tmp_path / "datasets").iterdir())


def test_an_upload_over_the_threshold_becomes_a_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPLENS_DATA_DIR", str(tmp_path / "datasets"))
    monkeypatch.setenv("SHOPLENS_DATASET_UPLOAD_MB", "1")
    rows = "".join(
        f"u{i % 97},p{i % 31},view,2024-01-01 10:{i % 60:02}:00\n" for i in range(40_000)
    )
    big = ("user_id,item_id,event_type,timestamp\n" + rows).encode()
    assert len(big) > 1024 * 1024
    at = run_page(DATA)
    at.radio(key=state.SOURCE).set_value(state.SOURCE_UPLOAD).run()
    # The page switches to the datasets on the server and follows the ingest.
    at.file_uploader(key=state.EVENTS_FILE).set_value(("Big export.csv", big, "text/csv")).run()
    assert not at.exception, at.exception
    assert at.radio(key=state.SOURCE).value == state.SOURCE_DATASET
    assert any("Dataset **Big-export** is ready" in s.value for s in at.success)
    assert "40,000 rows read, 40,000 kept" in at.success[0].value
    assert at.selectbox(key=state.DATASET_CHOICE).value == "Big-export"
    assert [p.name for p in (tmp_path / "datasets").iterdir()] == ["Big-export"]
