"""Spoken commands made at test time with espeak-ng, for the recogniser's tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def require_espeak() -> None:
    """Skip the test without espeak-ng, but fail it where it is required (CI)."""
    if shutil.which("espeak-ng") is not None:
        return
    message = "espeak-ng is missing; install it with: apt-get install -y espeak-ng"
    if os.environ.get("SHOPLENS_REQUIRE_BROWSER"):
        pytest.fail(f"Speech tests are required here but {message}")
    pytest.skip(f"No espeak-ng: speech tests skipped ({message})")


def say(text: str, folder: Path, *, voice: str = "en-us", speed: int = 160) -> Path:
    """A WAV of ``text`` as espeak-ng says it (22,050 Hz mono 16-bit, as espeak-ng writes)."""
    require_espeak()
    path = folder / f"{'_'.join(text.split())}.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text],
        check=True,
        capture_output=True,
    )
    return path
