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


def ingested_with_features(
    capsys: pytest.CaptureFixture[str], folder: Path, files: tuple[Path, Path], horizon_days: int
) -> tuple[list[str | Path], Path, str]:
    """The shop ``files`` (events, products) ingested as the dataset ``small`` under ``folder``
    and its feature tables of this horizon written to ``folder / 'f'`` by the commands; returns
    the options naming the dataset, the tables' folder and what ``features`` printed."""
    events, products = files
    data_dir = folder / "datasets"
    code, _, err = run_cli(
        capsys, "ingest", events, "--products", products, "--name", "small", "--data-dir", data_dir
    )
    assert code == 0, err
    dataset: list[str | Path] = ["--dataset", "small", "--data-dir", data_dir]
    code, out, err = run_cli(
        capsys, "features", *dataset, "--horizon-days", str(horizon_days), "--out", folder / "f"
    )
    assert code == 0, err
    return dataset, folder / "f", out
