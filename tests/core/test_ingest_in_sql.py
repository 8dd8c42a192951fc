"""A big plain CSV read in DuckDB gives the dataset the whole-file loader gives (kept rows by
time, rejected rows under the same row numbers and reasons, counts and notes), and a file with
anything the SQL may read otherwise is read the pandas way, with the same result."""

from __future__ import annotations

from unittest import mock

import duckdb
import pandas as pd
import pytest

from core.data.loading import REASON, ROW, SHAPE_SAMPLE, read_events
from core.datasets import ingest as ingest_module
from core.datasets import sql_read
from core.datasets.ingest import (
    EVENTS,
    REJECTED,
    IngestCancelledError,
    IngestProgress,
    ingest,
)
from tests.reading import write

PIECE = 16_384  # bytes: every test file is bigger, so none is read whole as one piece
REGULAR = SHAPE_SAMPLE + 10  # plain rows at the top, which the loader judges the file by


@pytest.fixture
def paths_taken(monkeypatch):
    """Which way each ingest read its file: 'sql' or 'pieces'."""
    taken: list[str] = []
    stage = ingest_module.stage_in_sql

    def spied(*args, **kwargs):
        staged = stage(*args, **kwargs)
        taken.append("pieces" if staged is None else "sql")
        return staged

    monkeypatch.setattr(ingest_module, "stage_in_sql", spied)
    return taken


def _write(tmp_path, monkeypatch, name: str, lines: list[str], encoding: str = "utf-8"):
    """Write ``lines``; the sample the loader recognises is the top rows up to the
    ``REGULAR``-th (the rows it guesses the format from and a few more), not the whole file."""
    text = "\n".join(lines) + "\n"
    monkeypatch.setattr(sql_read, "SAMPLE_BYTES", len("\n".join(lines[: REGULAR + 1]).encode()))
    return write(tmp_path, name, text.encode(encoding))


def _taobao_rows() -> list[str]:
    """Taobao-shaped rows (no header, unix seconds) with every rejection SQL expresses, labels
    only seen further down, duplicates and rows out of time order."""
    start = 1_511_539_200
    labels = ["pv", "cart", "fav", "buy"]
    rows = [
        f"{1 + n % 7},{100 + n % 5},{n % 3},{labels[n % 4]},{start + n * 60}"
        for n in range(REGULAR)
    ]
    rows += [
        f",101,1,pv,{start}",  # missing user
        "3,102,1,pv,NA",  # missing time
        "4,103,1,pv,631152000",  # 1990-01-01: kept
        "5,104,1,pv,631151999",  # a second earlier: implausible
        "5,104,1,pv,4102444801",  # after 2100: implausible
        "5,104,1,pv,4000000000",  # past what nanoseconds hold: unparseable
        f"6,,1,cart,{start + 5}",  # missing item
        f'7,105,2,"",{start + 6}',  # missing event
        f"1,100,0,share,{start + 7}",  # an unknown label, kept as it is
        f"1,100,0,pv,{start}",  # a duplicate of the first row, out of time order
        f"5,104,1,Page View,{start + 240}",  # 'Page View' is a view: a duplicate of row 5
    ]
    return rows


def _rejected(folder) -> pd.DataFrame:
    parts = sorted((folder / REJECTED).glob("*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def _assert_same_as_the_loader(tmp_path, source, name: str) -> None:
    report = ingest([source], name=name, data_dir=tmp_path / "data", piece_bytes=PIECE)
    whole = read_events(source)
    folder = tmp_path / "data" / name
    events = pd.read_parquet(folder / EVENTS)
    assert list(events.columns) == list(whole.frame.columns)
    assert events.astype(str).equals(whole.frame.astype(str))
    assert str(events["timestamp"].dtype) == "datetime64[ns]"
    assert (report.rows_read, report.rows_kept) == (whole.rows_read, whole.rows_kept)
    assert report.rejected == whole.rejected_counts
    assert report.duplicates == whole.duplicates
    assert report.notes == whole.notes
    assert report.mapping == whole.mapping and report.read_as == whole.read_as
    assert report.users == whole.frame["user_id"].nunique()
    items = whole.frame["item_id"].nunique() if "item_id" in whole.frame else 0
    assert report.items == items
    assert report.start == whole.frame["timestamp"].min().isoformat()
    assert report.end == whole.frame["timestamp"].max().isoformat()
    if whole.rejected_counts:
        rejected = _rejected(folder).sort_values(ROW, ignore_index=True)
        expected = whole.rejected.sort_values(ROW, ignore_index=True)
        assert rejected[ROW].tolist() == expected[ROW].tolist()
        assert rejected[REASON].tolist() == expected[REASON].tolist()


def test_a_taobao_log_read_in_sql_gives_what_the_loader_gives(tmp_path, monkeypatch, paths_taken):
    source = _write(tmp_path, monkeypatch, "UserBehavior.csv", _taobao_rows())
    _assert_same_as_the_loader(tmp_path, source, "taobao")
    assert paths_taken == ["sql"]
    whole = read_events(source)
    assert set(whole.rejected_counts) == {
        "missing user id",
        "missing time",
        "unparseable time",
        "time before 1990 or after 2100",
        "missing item id",
        "missing event type",
    }
    assert whole.duplicates == 2 and "'share' (1 rows)" in " ".join(whole.notes)


def test_a_rejected_row_keeps_its_values_as_the_file_gives_them(tmp_path, monkeypatch, paths_taken):
    rows = ["user,item,event,ts,note"]
    rows += [f"u{n},i{n},view,{1_700_000_000_000 + n},note {n}" for n in range(REGULAR)]
    rows.append("u9,i9,view,3000000000000,far future")  # 2065: kept
    rows.append("u9,i9,view,4102444800001,2100")  # implausible
    rows.append("u9,i9,view,5000000000000,2128")  # past what nanoseconds hold: unparseable
    source = _write(tmp_path, monkeypatch, "events.csv", rows)
    _assert_same_as_the_loader(tmp_path, source, "notes")
    assert paths_taken == ["sql"]
    rejected = _rejected(tmp_path / "data" / "notes")
    assert rejected.to_dict("records")[-1] == {
        ROW: REGULAR + 3,
        REASON: "unparseable time",
        "user": "u9",
        "item": "i9",
        "event": "view",
        "ts": "5000000000000",
        "note": "2128",
        "file": "events.csv",
    }


def test_text_ids_milliseconds_and_label_synonyms_read_in_sql(tmp_path, monkeypatch, paths_taken):
    labels = ["page_view", "add_to_cart", "Purchase", "wishlist"]
    rows = ["customer_id,product_id,event_name,event_ms,session,comment"]
    rows += [
        f'C-{n % 6},SKU{n % 4}x,{labels[n % 4]},{1_700_000_000_000 + n * 1000},s{n % 3},"hi, {n}"'
        for n in range(REGULAR)
    ]
    rows.append("C-1,SKU1x,refund_request,1700000099000,s1,x")  # a label no synonym names
    source = _write(tmp_path, monkeypatch, "events.csv", rows)
    _assert_same_as_the_loader(tmp_path, source, "text")
    assert paths_taken == ["sql"]


@pytest.mark.parametrize(("separator", "line_end"), [(";", "\r\n"), ("\t", "\n")])
def test_other_separators_and_line_ends_read_in_sql(
    tmp_path, monkeypatch, paths_taken, separator, line_end
):
    rows = [separator.join(["visitor", "product", "action", "time"])]
    rows += [
        separator.join([f"v{n % 9}", f'"p {n % 4}"', "view", str(1_600_000_000 + n)])
        for n in range(REGULAR)
    ]
    rows.append(separator.join(["v1", "NULL", "view", "1600009999"]))  # missing item
    lines = [row + line_end.removesuffix("\n") for row in rows]
    source = _write(tmp_path, monkeypatch, "events.txt", lines)
    _assert_same_as_the_loader(tmp_path, source, "layout")
    assert paths_taken == ["sql"]


def test_event_codes_are_read_as_codes_over_the_whole_file(tmp_path, monkeypatch, paths_taken):
    rows = ["user_id,item_id,event_type,timestamp"]
    rows += [f"{n % 5},{n % 3},{1 + n % 4},{1_511_539_200 + n}" for n in range(REGULAR)]
    source = _write(tmp_path, monkeypatch, "codes.csv", rows + ["1,1,1,1511549200"])
    _assert_same_as_the_loader(tmp_path, source, "codes")
    assert paths_taken == ["sql"]
    assert any("Event codes 1-4" in note for note in read_events(source).notes)


@pytest.mark.parametrize(
    "odd_row",
    [
        "007,101,1,pv,1511539300",  # an id the loader may read as 7 or as '007'
        " 8,101,1,pv,1511539300",  # spaces around an id
        "8,101,1,pv,1511539300.5",  # a time that is not an integer
        "8,101,1,pv,15115393",  # a time of another unit than the sample's
        "8,101,1,pv,yesterday",  # a time that is no number
        "8,101,1,pv",  # too few fields
        "8,101,1,pv,1511539300,extra",  # too many fields
        "8,101,1,01,1511539300",  # a label that may be read as the number 1
    ],
)
def test_a_file_with_a_value_sql_may_read_otherwise_is_read_in_pieces(
    tmp_path, monkeypatch, paths_taken, odd_row
):
    rows = _taobao_rows()[:REGULAR]
    rows.insert(REGULAR - 5, odd_row)  # below the sample
    source = _write(tmp_path, monkeypatch, "UserBehavior.csv", rows)
    _assert_same_as_the_loader(tmp_path, source, "odd")
    assert paths_taken == ["pieces"]


def test_a_decimal_id_further_down_is_read_in_pieces(tmp_path, monkeypatch, paths_taken):
    """The whole-file loader reads that id column as decimals ('100.0'), a piece at a time only
    the piece that holds it: SQL reads neither way, and leaves the file to the pieces."""
    rows = _taobao_rows()[:REGULAR]
    rows.insert(REGULAR - 5, "8,101.5,1,pv,1511539300")
    source = _write(tmp_path, monkeypatch, "UserBehavior.csv", rows)
    ingest([source], name="decimal", data_dir=tmp_path / "data", piece_bytes=PIECE)
    assert paths_taken == ["pieces"]


def test_latin_1_text_further_down_is_read_in_pieces(tmp_path, monkeypatch, paths_taken):
    rows = ["user,item,event,ts"]
    rows += [f"u{n},i{n},view,{1_511_539_200 + n}" for n in range(REGULAR)]
    rows.append("Jos\xe9,i1,view,1511539300")
    source = _write(tmp_path, monkeypatch, "events.csv", rows, encoding="latin-1")
    _assert_same_as_the_loader(tmp_path, source, "latin")
    assert paths_taken == ["pieces"]


def test_a_file_of_one_piece_is_read_by_the_loader_itself(tmp_path, monkeypatch, paths_taken):
    source = _write(tmp_path, monkeypatch, "UserBehavior.csv", _taobao_rows())
    ingest([source], name="small", data_dir=tmp_path / "data")  # the default piece: 64 MB
    assert paths_taken == ["pieces"]


def test_progress_is_told_while_sql_reads_and_a_stop_interrupts_it(tmp_path, monkeypatch):
    told: list[tuple[float, int]] = []

    def stop(share: float, rows: int) -> None:
        told.append((share, rows))
        raise KeyboardInterrupt  # any error the watcher raises stops the reading

    monkeypatch.setattr(sql_read, "POLL_SECONDS", 0.05)
    plan = mock.Mock(estimated_rows=1000)
    with duckdb.connect() as con:
        slow = "CREATE TEMP TABLE staged AS SELECT sum(i) FROM range(100000000000) AS r(i)"
        with pytest.raises(KeyboardInterrupt):
            sql_read._execute_watched(con, slow, plan, stop)
        assert len(told) == 1 and 0 <= told[0][0] < 1
        assert con.execute("SELECT 1").fetchone() == (1,)  # stopped, and usable again


def test_an_ingest_in_sql_tells_its_progress_and_stops_when_asked(
    tmp_path, monkeypatch, paths_taken
):
    source = _write(tmp_path, monkeypatch, "UserBehavior.csv", _taobao_rows())
    told: list[IngestProgress] = []
    report = ingest(
        [source],
        name="told",
        data_dir=tmp_path / "data",
        piece_bytes=PIECE,
        on_progress=told.append,
    )
    assert told[0].share == 0 and told[-1].sorting and told[-1].rows_read == report.rows_read
    data = tmp_path / "stopped"
    with pytest.raises(IngestCancelledError):
        ingest([source], name="s", data_dir=data, piece_bytes=PIECE, on_progress=lambda p: False)
    assert not any(data.iterdir()) and paths_taken == ["sql"]


@pytest.mark.parametrize(("dropped", "in_order"), [(None, True), (1, True), (0, False)])
def test_a_kept_time_going_down_deep_in_a_long_table_is_seen(tmp_path, dropped, in_order):
    """Over many of DuckDB's row groups (read on both threads), a kept row's time going down
    is seen, and a rejected row's is not."""
    with ingest_module._connect(tmp_path) as con:
        con.execute(
            "CREATE TEMP TABLE staged AS SELECT i AS time_number, CAST(0 AS TINYINT) AS "
            "reason_code FROM range(1000000) AS r(i)"
        )
        if dropped is not None:
            con.execute(
                f"UPDATE staged SET time_number = 0, reason_code = {dropped} WHERE rowid = 900000"
            )
        assert sql_read._in_time_order(con) is in_order
