"""A field longer than any row may hold (131,072 characters) or a line longer than a read block
rejects that row under its own reason; every other row loads, in the app and on the command
line, with no traceback."""

from __future__ import annotations

import tracemalloc

import pytest

from core.data.reading import FIELD_TOO_LONG, MAX_FIELD, REASON, ROW, read_table
from tests.cli import run_cli
from tests.reading import write

HEADER = "user_id,item_id,event_type,timestamp\n"


def _events(long_item: str) -> str:
    return (
        HEADER
        + "u1,i1,view,2024-01-01 10:00\n"
        + f"u2,{long_item},view,2024-01-02 10:00\n"
        + "u3,i3,view,2024-01-03 10:00\n"
    )


@pytest.mark.parametrize(
    "length",
    [MAX_FIELD + 1, 3_000_000],  # within a read block, and a line longer than a block
    ids=["long field", "long line"],
)
def test_the_row_with_a_field_too_long_is_rejected_and_the_others_load(tmp_path, length):
    raw = read_table(write(tmp_path, "events.csv", _events("x" * length)))
    assert raw.frame["user_id"].tolist() == ["u1", "u3"]
    assert raw.row_numbers.tolist() == [1, 3]
    [rejected] = raw.malformed.to_dict("records")
    assert rejected[ROW] == 2 and rejected[REASON] == FIELD_TOO_LONG
    assert len(rejected["raw text"]) < 200  # a preview, not the field


def test_a_field_at_the_limit_is_kept(tmp_path):
    raw = read_table(write(tmp_path, "events.csv", _events("x" * MAX_FIELD)))
    assert len(raw.frame) == 3 and raw.malformed.empty


def test_the_command_line_reports_the_row_and_exits_0(tmp_path, capsys):
    path = write(tmp_path, "events.csv", _events("y" * 500_000))
    code, out, err = run_cli(capsys, "inspect", path)
    assert code == 0, err
    assert "1 field too long (over 131,072 characters)" in out
    assert "Traceback" not in err


def test_a_line_of_a_hundred_megabytes_is_read_without_copying_it(tmp_path):
    """The long line is found and blanked in place: Python never holds a copy of it (traced
    allocations stay far below its size), and the rows around it load."""
    path = tmp_path / "events.csv"
    with path.open("w") as file:
        file.write(HEADER + "u1,i1,view,2024-01-01 10:00\nu2,")
        for _ in range(100):
            file.write("z" * 1_000_000)
        file.write(",view,2024-01-02 10:00\nu3,i3,view,2024-01-03 10:00\n")
    tracemalloc.start()
    try:
        raw = read_table(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert raw.frame["user_id"].tolist() == ["u1", "u3"]
    assert raw.malformed[REASON].tolist() == [FIELD_TOO_LONG]
    assert raw.malformed["raw text"].str.startswith("u2,zzz").all()
    assert peak < 20_000_000, peak  # the line is 100 MB
