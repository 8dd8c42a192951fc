"""The command line: `python -m core inspect EVENTS [--products P] [--json] [--map F=COLUMN]`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.__main__ import main
from tests.cli import run_json
from tests.reading import write

ROOT = Path(__file__).resolve().parents[2]

EVENTS = (
    "user_id,item_id,event_type,timestamp,price\n"
    "u1,i1,view,2024-03-01 10:00:00,2.50\n"
    "u1,i1,addtocart,2024-03-01 10:05:00,2.50\n"
    "u2,i2,view,2024-03-02 09:00:00,4.00\n"
    ",i2,view,2024-03-02 09:30:00,4.00\n"
    "u2,i2,buy,2024-03-03 18:45:00,4.00\n"
)


def inspect_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    return run_json(capsys, "inspect", *args, "--json")


def test_json_summary_is_one_object_with_the_loaded_figures(tmp_path, capsys):
    summary = inspect_json(capsys, str(write(tmp_path, "events.csv", EVENTS)))

    assert {
        "format",
        "mapping",
        "rows_read",
        "rows_kept",
        "rejected",
        "users",
        "items",
        "event_types",
        "start",
        "end",
    } <= set(summary)
    assert summary["format"] == "canonical"
    assert summary["mapping"] == {
        "user_id": "user_id",
        "item_id": "item_id",
        "event_type": "event_type",
        "timestamp": "timestamp",
        "price": "price",
    }
    assert summary["rows_read"] == 5
    assert summary["rows_kept"] == 4
    assert summary["rejected"] == {"missing user id": 1}
    assert summary["users"] == 2
    assert summary["items"] == 2
    assert summary["event_types"] == {"view": 2, "cart": 1, "purchase": 1}
    assert summary["start"] == "2024-03-01T10:00:00"
    assert summary["end"] == "2024-03-03T18:45:00"


def test_json_summary_reports_products_and_items_missing_from_them(tmp_path, capsys):
    events = write(tmp_path, "events.csv", EVENTS)
    products = write(tmp_path, "products.csv", "item_id,name\ni1,Mug\ni1,Mug again\n")

    summary = inspect_json(capsys, str(events), "--products", str(products))

    # Rows 3 and 5 have item i2; row 4 is counted under its first reason, the missing user.
    assert summary["rejected"] == {"item not in the product table": 2, "missing user id": 1}
    assert summary["rows_kept"] == 2
    assert summary["products"] == {
        "rows_read": 2,
        "rows_kept": 1,
        "rejected": {"item listed twice (first kept)": 1},
        "mapping": {"item_id": "item_id", "name": "name"},
    }


def test_map_option_maps_a_column_by_hand(tmp_path, capsys):
    path = write(
        tmp_path,
        "export.csv",
        "Kunde;Artikel;Aktion;Zeitpunkt\n"
        "anna@example.de;A-17;Ansicht;03.01.2024 10:00\n"
        "bernd@example.de;B-22;Kauf;15.01.2024 11:30\n",
    )

    summary = inspect_json(
        capsys,
        str(path),
        "--map",
        "user_id=Kunde",
        "--map",
        "item_id=Artikel",
        "--map",
        "event_type=Aktion",
    )

    assert summary["mapping"] == {
        "timestamp": "Zeitpunkt",
        "user_id": "Kunde",
        "item_id": "Artikel",
        "event_type": "Aktion",
    }
    assert summary["event_types"] == {"view": 1, "purchase": 1}
    assert summary["start"] == "2024-01-03T10:00:00"


def test_text_report_exits_0_and_lists_rejected_rows(tmp_path, capsys):
    code = main(["inspect", str(write(tmp_path, "events.csv", EVENTS))])
    out, err = capsys.readouterr()

    assert code == 0
    assert err == ""
    assert "Rows:       5 read, 4 kept, 0 duplicates" in out
    assert "  rejected: 1 missing user id" in out
    assert "Time span:  2024-03-01T10:00:00 .. 2024-03-03T18:45:00" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{missing}"], r"^error: File '.*no_such\.csv' does not exist"),
        (["{empty}"], r"^error: 'empty\.csv' is empty"),
        (
            ["{events}", "--map", "user_id=Kundennummer"],
            r"^error: Column 'Kundennummer' chosen for user_id is not in 'events\.csv'",
        ),
        (["{events}", "--map", "user_id"], r"^error: --map 'user_id' is not FIELD=COLUMN"),
    ],
)
def test_fatal_error_exits_2_with_one_line_on_stderr(tmp_path, capsys, args, message):
    files = {
        "missing": str(tmp_path / "no_such.csv"),
        "empty": str(write(tmp_path, "empty.csv", "")),
        "events": str(write(tmp_path, "events.csv", EVENTS)),
    }

    code = main(["inspect", *[a.format(**files) for a in args], "--json"])
    out, err = capsys.readouterr()

    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err
    assert err.endswith("\n")
    assert re.match(message, err)


@pytest.mark.slow
def test_module_run_as_a_program_returns_the_real_exit_codes(tmp_path):
    good = write(tmp_path, "events.csv", EVENTS)
    broken = write(tmp_path, "broken.csv", "user_id\nu1\n")

    ok = subprocess.run(
        [sys.executable, "-m", "core", "inspect", str(good), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    failed = subprocess.run(
        [sys.executable, "-m", "core", "inspect", str(broken)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["rows_kept"] == 4
    assert failed.returncode == 2
    assert failed.stdout == ""
    assert failed.stderr.startswith("error: 'broken.csv' has a single column")
    assert len(failed.stderr.splitlines()) == 1
