"""Paths that are not readable files end the command line in one line, never a traceback."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from core.data.reading import read_table
from core.errors import NotAFileError, UnreadableFileError
from tests.cli import run_cli

PROC_MEM = Path("/proc/1/mem")


def proc_mem_is_unreadable() -> bool:
    try:
        with PROC_MEM.open("rb") as file:
            file.read(1)
    except PermissionError:
        return True
    except OSError:
        return False
    return False


def assert_one_line_error(code: int, out: str, err: str, message: str) -> None:
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    assert message in err


@pytest.fixture
def fifo(tmp_path):
    """A named pipe that no one writes to; a watchdog unblocks a reader stuck on it."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this system")
    path = tmp_path / "events.csv"
    os.mkfifo(path)
    stuck = threading.Event()

    def unblock() -> None:
        stuck.set()
        with open(os.open(path, os.O_WRONLY | os.O_NONBLOCK), "wb"):
            pass

    watchdog = threading.Timer(20, unblock)
    watchdog.start()
    yield path
    watchdog.cancel()
    assert not stuck.is_set(), "the reader waited for a writer on the named pipe"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_a_file_with_mode_000_gives_one_line(tmp_path, capsys):
    locked = tmp_path / "locked.csv"
    locked.write_text("user_id,item_id,timestamp\n1,2,2024-01-01\n")
    locked.chmod(0)
    code, out, err = run_cli(capsys, "inspect", locked)
    assert_one_line_error(code, out, err, "locked.csv' cannot be read: permission denied")


def test_paths_that_are_not_readable_files_give_one_line_each(tmp_path, capsys):
    """A folder, a device, an input/output error (/proc/self/mem fails from its first page)
    and a file without read permission (/proc/1/mem, unreadable even for root here)."""
    cases = {str(tmp_path): f"error: '{tmp_path}' is a folder, not a file; give "}
    if Path("/dev/null").exists():
        cases["/dev/null"] = "error: '/dev/null' is a device, not a file"
    if Path("/proc/self/mem").exists():
        cases["/proc/self/mem"] = "'/proc/self/mem' cannot be read ("
    if proc_mem_is_unreadable():
        cases[PROC_MEM] = "error: '/proc/1/mem' cannot be read: permission denied"
    for path, expected in cases.items():
        code, out, err = run_cli(capsys, "inspect", path)
        assert_one_line_error(code, out, err, expected)


def test_a_named_pipe_is_named_and_never_waited_on(fifo, capsys):
    code, out, err = run_cli(capsys, "inspect", fifo)
    assert_one_line_error(code, out, err, "events.csv' is a named pipe, not a file")


def test_a_path_with_a_nul_or_a_loop_gives_one_line(tmp_path, capsys):
    code, out, err = run_cli(capsys, "inspect", "events\0.csv")
    assert_one_line_error(code, out, err, "does not exist")
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    code, out, err = run_cli(capsys, "inspect", loop)
    assert_one_line_error(code, out, err, "loop.csv' cannot be read (")


def test_the_path_is_shown_as_given(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exports").mkdir()
    code, out, err = run_cli(capsys, "inspect", "exports")
    assert_one_line_error(code, out, err, "error: 'exports' is a folder, not a file")


def test_a_products_folder_gives_one_line(small_shop_files, tmp_path, capsys):
    events, _ = small_shop_files
    code, out, err = run_cli(capsys, "inspect", events, "--products", tmp_path)
    assert_one_line_error(code, out, err, f"'{tmp_path}' is a folder, not a file")


def test_a_products_named_pipe_is_never_waited_on(small_shop_files, fifo, capsys):
    events, _ = small_shop_files
    code, out, err = run_cli(capsys, "inspect", events, "--products", fifo)
    assert_one_line_error(code, out, err, "events.csv' is a named pipe, not a file")


@pytest.mark.skipif(not proc_mem_is_unreadable(), reason="/proc/1/mem is absent or readable")
def test_an_unreadable_products_file_gives_one_line(small_shop_files, capsys):
    events, _ = small_shop_files
    code, out, err = run_cli(capsys, "inspect", events, "--products", PROC_MEM)
    assert_one_line_error(code, out, err, "'/proc/1/mem' cannot be read: permission denied")


def test_reading_raises_errors_named_after_the_problem(tmp_path, fifo):
    with pytest.raises(NotAFileError, match="is a folder"):
        read_table(tmp_path)
    with pytest.raises(NotAFileError, match="is a named pipe"):
        read_table(fifo)
    if Path("/proc/self/mem").exists():
        with pytest.raises(UnreadableFileError, match="cannot be read"):
            read_table("/proc/self/mem")
