"""Ingesting an export a piece at a time gives the dataset the whole-file loader would give:
the same kept rows (sorted by time), the same rejected rows under the same row numbers and
reasons, the same counts; and an ingest that fails or is stopped leaves nothing behind."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from core.data.loading import REASON, ROW, read_events
from core.datasets import ingest as ingest_module
from core.datasets.ingest import (
    EVENTS,
    REJECTED,
    REPORT,
    IngestCancelledError,
    IngestProgress,
    ingest,
)
from core.errors import AllRowsRejectedError, DatasetError
from tests.cli import run_cli, run_json
from tests.reading import write

HEADER = "user_id,item_id,event_type,timestamp,price,description\n"
PIECE = 200  # bytes: a handful of rows per piece


def _messy_rows() -> str:
    """Rows with every kind of trouble, and day-first dates that only the first rows show."""
    rows = [HEADER, "u1,i1,view,25/01/2024 10:00,3.5,plain\n"]  # day 25: day first
    for n in range(2, 40):
        day = 1 + n % 12  # from here on every date could be either order
        rows.append(f"u{n % 7},i{n % 5},view,{day:02}/02/2024 10:{n:02},{n}.5,row {n}\n")
    rows += [
        ",i1,view,03/02/2024 11:00,1,no user\n",
        "u3,i2,view,not a date,1,bad time\n",
        'u4,i3,cart,04/02/2024 09:00,2,"a quoted\nline break, and a comma"\n',
        "u5,i4,purchase,05/02/2024 08:00\n",  # too few fields
        "u1,i1,view,25/01/2024 10:00,3.5,plain\n",  # a duplicate of row 1
    ]
    rows += [
        f"u{n % 3},i{n % 4},purchase,0{1 + n % 9}/03/2024 12:00,9,late {n}\n" for n in range(30)
    ]
    return "".join(rows)


def _dataset(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / EVENTS)


def _rejected(folder: Path) -> pd.DataFrame:
    parts = sorted((folder / REJECTED).glob("*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def test_pieces_give_what_the_whole_file_gives(tmp_path):
    source = write(tmp_path, "events.csv", _messy_rows())
    report = ingest([source], name="shop", data_dir=tmp_path / "data", piece_bytes=PIECE)
    whole = read_events(source)
    folder = tmp_path / "data" / "shop"
    events = _dataset(folder)
    assert events[whole.frame.columns].astype(str).equals(whole.frame.astype(str))
    assert (report.rows_read, report.rows_kept) == (whole.rows_read, whole.rows_kept)
    assert report.rejected == whole.rejected_counts and report.rejected  # something rejected
    assert report.duplicates == whole.duplicates == 1
    assert report.notes == whole.notes and "day/month" in " ".join(report.notes)
    rejected = _rejected(folder).sort_values(ROW, ignore_index=True)
    expected = whole.rejected.sort_values(ROW, ignore_index=True)
    assert rejected[ROW].tolist() == expected[ROW].tolist()
    assert rejected[REASON].tolist() == expected[REASON].tolist()
    assert report.users == whole.frame["user_id"].nunique()
    assert report.start == whole.frame["timestamp"].min().isoformat()
    assert (folder / REPORT).is_file()


@pytest.mark.parametrize("in_time_order", [True, False])
def test_rows_without_names_in_or_out_of_time_order_give_what_the_whole_file_gives(
    tmp_path, monkeypatch, in_time_order
):
    """Without item names: pieces that come in time order are copied unsorted, others sorted;
    duplicates (across pieces, with missing prices) and equal times keep the file's order."""
    rows = [
        f"u{n % 5},i{n % 3},view,2024-01-0{1 + n // 10} 10:00:00,{n % 4 or ''}\n" for n in range(60)
    ]
    rows = rows[:10] + rows[4:10] + rows[10:]  # 6 duplicates, still in time order
    if not in_time_order:
        rows = rows[30:] + rows[:30]
    header = "user_id,item_id,event_type,timestamp,price\n"
    source = write(tmp_path, "events.csv", header + "".join(rows))
    copied_in_order = []

    def spied(columns, *, in_time_order):
        copied_in_order.append(in_time_order)
        return sorted_and_named(columns, in_time_order=in_time_order)

    sorted_and_named = ingest_module._sorted_and_named
    monkeypatch.setattr(ingest_module, "_sorted_and_named", spied)
    report = ingest([source], name="plain", data_dir=tmp_path / "data", piece_bytes=PIECE)
    whole = read_events(source)
    events = _dataset(tmp_path / "data" / "plain")
    assert copied_in_order == [in_time_order]
    assert events[whole.frame.columns].astype(str).equals(whole.frame.astype(str))
    assert report.duplicates == whole.duplicates == 6
    assert (report.rows_read, report.rows_kept, report.users) == (66, 66, 5)


def test_files_of_a_folder_and_a_pattern_become_one_dataset_sorted_by_time(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    write(logs, "b.csv", "user_id,item_id,event_type,timestamp\nu1,i1,view,2024-01-01 10:00\n")
    (logs / "a.csv.gz").write_bytes(
        gzip.compress(b"user_id,item_id,event_type,timestamp\nu2,i2,cart,2024-02-01 10:00\n")
    )
    write(logs, ".hidden.csv", "not,a table\n")
    for sources in ([logs], [str(logs / "*.csv*")]):
        name = "folder" if sources[0] == logs else "pattern"
        report = ingest(sources, name=name, data_dir=tmp_path / "data")
        events = _dataset(tmp_path / "data" / name)
        assert events["user_id"].tolist() == ["u1", "u2"]  # by time, not by file name
        assert [Path(s).name for s in report.sources] == ["a.csv.gz", "b.csv"]


def test_a_failed_or_stopped_ingest_leaves_nothing_behind(tmp_path):
    source = write(tmp_path, "events.csv", _messy_rows())
    data = tmp_path / "data"
    with pytest.raises(IngestCancelledError, match="no dataset was kept"):
        ingest(
            [source], name="stopped", data_dir=data, piece_bytes=PIECE, on_progress=lambda n: False
        )
    bad = write(tmp_path, "bad.csv", "user_id,timestamp\n,2024-01-01\n,2024-01-02\n")
    with pytest.raises(AllRowsRejectedError, match="All 2 rows were rejected"):
        ingest([bad], name="bad", data_dir=data)
    assert list(data.iterdir()) == []


def test_progress_is_told_after_each_piece_and_before_sorting(tmp_path):
    first = write(tmp_path, "a.csv", _messy_rows())
    second = write(tmp_path, "b.csv", _messy_rows())
    told: list[IngestProgress] = []
    report = ingest(
        [first, second],
        name="told",
        data_dir=tmp_path / "data",
        piece_bytes=PIECE,
        on_progress=told.append,
    )
    assert len(told) > 3 and told[-1].sorting and not any(p.sorting for p in told[:-1])
    assert told[-1].rows_read == report.rows_read and told[-1].share == 1.0
    assert [p.rows_read for p in told] == sorted(p.rows_read for p in told)
    assert [p.share for p in told] == sorted(p.share for p in told)
    assert {p.file for p in told[:-1]} == {"a.csv", "b.csv"}
    assert all(p.files == 2 and 0 <= p.share <= 1 for p in told)
    data = tmp_path / "stopped"  # stopped once the reading is over, before the sorting
    with pytest.raises(IngestCancelledError):
        ingest([first], name="s", data_dir=data, on_progress=lambda p: not p.sorting)
    assert not any(data.iterdir())


def test_names_and_sources_are_checked_in_one_line(tmp_path):
    source = write(tmp_path, "events.csv", _messy_rows())
    ingest([source], name="shop", data_dir=tmp_path)
    with pytest.raises(DatasetError, match="exists already"):
        ingest([source], name="shop", data_dir=tmp_path)
    for name in ("../up", ".hidden", "", "a" * 65, "sp ace"):
        with pytest.raises(DatasetError, match="cannot name a dataset"):
            ingest([source], name=name, data_dir=tmp_path)
    with pytest.raises(DatasetError, match="names no CSV"):
        ingest([str(tmp_path / "none" / "*.csv")], name="none", data_dir=tmp_path)


def test_the_command_line_prints_the_report_and_exits_2_on_bad_input(tmp_path, capsys):
    source = write(tmp_path, "events.csv", _messy_rows())
    report = run_json(capsys, "ingest", source, "--name", "shop", "--data-dir", tmp_path, "--json")
    assert set(report) == {
        "dataset",
        "rows_read",
        "rows_kept",
        "rejected",
        "users",
        "items",
        "start",
        "end",
        "seconds",
    }
    assert report["rows_read"] == read_events(source).rows_read
    code, out, err = run_cli(capsys, "ingest", source, "--name", "shop", "--data-dir", tmp_path)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "exists already" in err
    code, _, err = run_cli(capsys, "ingest", tmp_path / "missing.csv", "--name", "m")
    assert code == 2 and "does not exist" in err and "Traceback" not in err


@pytest.mark.parametrize("kind", ["parquet", "zip", "gzip"])
def test_parquet_zip_and_gzip_sources_read_in_pieces_as_a_whole(tmp_path, kind):
    import zipfile

    text = _messy_rows()
    csv_path = write(tmp_path, "events.csv", text)
    if kind == "parquet":
        source = tmp_path / "events.parquet"
        read_events(csv_path).frame.to_parquet(source, index=False)
    elif kind == "zip":
        source = tmp_path / "events.zip"
        with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("events.csv", text)
    else:
        source = tmp_path / "events.csv.gz"
        source.write_bytes(gzip.compress(text.encode()))
    report = ingest([source], name=kind, data_dir=tmp_path / "data", piece_bytes=PIECE)
    whole = read_events(source)
    events = _dataset(tmp_path / "data" / kind)
    assert events[whole.frame.columns].astype(str).equals(whole.frame.astype(str))
    assert report.rejected == whole.rejected_counts
    assert report.read_as == whole.read_as


def test_every_command_reads_a_dataset_as_it_reads_the_file(tmp_path, capsys):
    source = write(tmp_path, "events.csv", _messy_rows())
    data = tmp_path / "data"
    ingest([source], name="shop", data_dir=data, piece_bytes=PIECE)
    for command in ("inspect", "overview"):
        from_file = run_json(capsys, command, source, "--json")
        from_dataset = run_json(capsys, command, "--dataset", "shop", "--data-dir", data, "--json")
        assert from_dataset == from_file, command


def test_datasets_are_listed_with_the_damaged_ones_named(tmp_path, capsys):
    from core.datasets.store import list_datasets, open_dataset

    source = write(tmp_path, "events.csv", _messy_rows())
    ingest([source], name="good", data_dir=tmp_path)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / REPORT).write_text("{not json")
    listed = {d.name: d for d in list_datasets(tmp_path)}
    assert listed["good"].report is not None and listed["good"].report.rows_kept > 0
    assert listed["broken"].report is None and "damaged" in listed["broken"].problem
    with pytest.raises(DatasetError, match="incomplete or damaged"):
        open_dataset(tmp_path, "broken")
    code, _, err = run_cli(capsys, "inspect", "--dataset", "missing", "--data-dir", tmp_path)
    assert code == 2 and "There is no dataset 'missing' (datasets: broken, good)" in err
    code, _, err = run_cli(capsys, "inspect", source, "--dataset", "good", "--data-dir", tmp_path)
    assert code == 2 and "not both" in err
    out = tmp_path / "features"
    code, _, err = run_cli(capsys, "features", "good", "--data-dir", tmp_path, "--out", out)
    assert code == 2 and "'good' is a dataset, not a file; give --dataset good." in err
    assert not out.exists()


def test_notes_that_count_rows_count_them_over_every_piece(tmp_path):
    """An orders export (returns counted in a note) and unknown event labels spread over many
    pieces: the dataset's notes are the whole file's, each said once."""
    orders = ["InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n"]
    for n in range(60):
        invoice = f"C{5000 + n}" if n % 4 == 0 else str(5000 + n)
        quantity = -1 if n % 4 == 0 else 2
        orders.append(
            f"{invoice},A{n % 9},{quantity},12/{1 + n % 28}/2010 10:00,2.5,{1000 + n % 7}\n"
        )
    source = write(tmp_path, "orders.csv", "".join(orders))
    report = ingest([source], name="orders", data_dir=tmp_path / "data", piece_bytes=PIECE)
    whole = read_events(source)
    assert report.notes == whole.notes
    assert "15 rows with a negative quantity" in " ".join(report.notes)

    labels = ["view", "share", "purchase", "compare"]
    rows = [HEADER] + [
        f"u{n % 5},i{n % 3},{labels[n % 4]},2024-01-{1 + n % 28:02} 10:00,1,x\n" for n in range(80)
    ]
    source = write(tmp_path, "events.csv", "".join(rows))
    report = ingest([source], name="labels", data_dir=tmp_path / "data", piece_bytes=PIECE)
    assert report.notes == read_events(source).notes
    assert "'share' (20 rows), 'compare' (20 rows)" in " ".join(report.notes)


def test_a_day_month_order_shown_only_further_down_is_used_for_the_whole_dataset(tmp_path):
    """The first pieces' dates fit both orders (month/day would be assumed); later rows show
    day/month: the dataset reads every date as day/month, as the whole file does."""
    rows = ["user_id,item_id,event_type,timestamp\n"]
    rows += [f"u{n},i1,view,{1 + n % 12:02}/01/2024 10:00\n" for n in range(40)]  # ambiguous
    rows += [f"u{n},i2,view,{13 + n % 15}/01/2024 10:00\n" for n in range(40)]  # day first
    source = write(tmp_path, "events.csv", "".join(rows))
    report = ingest([source], name="shop", data_dir=tmp_path / "data", piece_bytes=PIECE)
    whole = read_events(source)
    events = _dataset(tmp_path / "data" / "shop")
    assert whole.date_order == "dmy"
    assert events[whole.frame.columns].astype(str).equals(whole.frame.astype(str))
    assert events["timestamp"].dt.month.eq(1).all()  # 02/01 is the 2nd of January
    assert report.notes == whole.notes
