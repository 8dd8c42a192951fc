"""Running the command line (``python -m core``) inside a test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.__main__ import main


def run_cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Run the command with these arguments; returns its exit code, its stdout and its stderr."""
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *args: str | Path) -> dict:
    """Run the command, which must succeed quietly and print one line of JSON; returns it parsed."""
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    assert err == ""
    assert len(out.strip().splitlines()) == 1
    return json.loads(out)
