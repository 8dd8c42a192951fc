"""The optional cluster packages (pyspark, distributed) in tests: skipped where they are not
installed, but required where ``SHOPLENS_REQUIRE_CLUSTER`` is set (CI), so a missing install
fails there instead of passing quietly."""

from __future__ import annotations

import importlib.util
import os

import pytest


def require_cluster_package(name: str) -> None:
    """Skip the test without the package, or fail it where cluster tests are required."""
    if importlib.util.find_spec(name) is not None:
        return
    message = f"{name} is not installed; install it with: pip install -r requirements-cluster.txt"
    if os.environ.get("SHOPLENS_REQUIRE_CLUSTER"):
        pytest.fail(f"Cluster tests are required here but {message}")
    pytest.skip(f"Cluster tests skipped: {message}")
