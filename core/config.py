"""Settings with defaults, overridable from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

ROOT = Path(__file__).resolve().parent.parent

# Defaults every training starts from, whichever page, command or sweep starts it.
SEED: Final = 0
MAX_SEED: Final = 2**32 - 1  # numpy's seeds are 32-bit
HORIZON_DAYS: Final = 30
MAX_HORIZON_DAYS: Final = 365
TOP_K: Final = 10
MAX_K: Final = 100


@dataclass(frozen=True)
class Settings:
    """Where things live.

    Attributes:
        data_dir: folder of the bundled sample shop.
        runs_dir: folder where trained runs are kept.
    """

    data_dir: Path = ROOT / "data"
    runs_dir: Path = ROOT / "runs"

    @property
    def sample_events(self) -> Path:
        """The bundled sample shop's events file."""
        return self.data_dir / "sample_events.csv.gz"

    @property
    def sample_products(self) -> Path:
        """The bundled sample shop's product table."""
        return self.data_dir / "sample_products.csv"


def load_settings(env: Mapping[str, str] = os.environ) -> Settings:
    """Settings from ``SHOPLENS_DATA_DIR`` and ``SHOPLENS_RUNS_DIR`` where set."""
    defaults = Settings()
    return Settings(
        data_dir=Path(env.get("SHOPLENS_DATA_DIR", defaults.data_dir)),
        runs_dir=Path(env.get("SHOPLENS_RUNS_DIR", defaults.runs_dir)),
    )
