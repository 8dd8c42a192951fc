"""Run a measurement in a fresh Python process, so its peak RSS is its own.

The peak is the process's own high-water mark (``VmHWM``): ``ru_maxrss`` is not, since Linux
keeps it across fork and exec, so a child would report its parent's peak when that is higher.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run_measurement(measurement: Callable[..., None], *args: str) -> dict[str, Any]:
    """Call the module-level function ``measurement(*args)`` in a fresh process; it prints one
    JSON object as its last line, which is returned."""
    module = measurement.__module__
    if module == "__main__":  # run as ``python -m benchmarks.bench_x``: name it as imported
        spec = getattr(sys.modules["__main__"], "__spec__", None)
        module = spec.name if spec is not None else module
    script = f"import sys; from {module} import {measurement.__name__} as run; run(*sys.argv[1:])"
    out = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (its own ``VmHWM``)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("/proc/self/status has no VmHWM line")
