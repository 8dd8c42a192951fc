"""Run a measurement in a fresh Python process, so its peak RSS is its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run_measurement(script: str, *args: str) -> dict[str, Any]:
    """Run ``script`` with ``args``; it must print one JSON object as its last line."""
    out = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])
