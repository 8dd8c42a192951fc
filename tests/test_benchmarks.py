"""The benchmarks stay runnable: every one imports and has its ``main`` (``make bench`` runs
them; their figures are not checked here)."""

import importlib
import pkgutil
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
NAMES = sorted(
    m.name for m in pkgutil.iter_modules([str(BENCHMARKS)]) if m.name.startswith("bench_")
)


def test_there_are_benchmarks():
    assert len(NAMES) >= 5


@pytest.mark.parametrize("name", NAMES)
def test_a_benchmark_imports_and_has_a_main(name):
    module = importlib.import_module(f"benchmarks.{name}")
    assert callable(module.main)
