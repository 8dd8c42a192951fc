"""Shared fixtures."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The shared public datasets; tests that need them skip when they are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def runs_dir(tmp_path_factory, monkeypatch) -> Path:
    """Every test saves runs into its own temporary folder, never into the project's runs/."""
    folder = tmp_path_factory.mktemp("runs")
    monkeypatch.setenv("SHOPLENS_RUNS_DIR", str(folder))
    return folder
