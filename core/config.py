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
# Real exports compress about 5-20x; far more is a decompression bomb.
MAX_EXPANSION_RATIO: Final = 100.0
MAX_EXPANDED_MB: Final = 2048  # as large as an upload may be


@dataclass(frozen=True)
class Settings:
    """Where things live.

    Attributes:
        sample_dir: folder of the bundled sample shop (``SHOPLENS_SAMPLE_DIR``).
        data_dir: folder where ingested datasets are kept (``SHOPLENS_DATA_DIR``).
        import_dir: the server folder whose files the Data page may ingest by path
            (``SHOPLENS_IMPORT_DIR``): nothing outside it can be read from the browser.
        runs_dir: folder where trained runs are kept.
        cache_dir: folder for rebuildable files: the image network's graph and the photo
            embeddings (``SHOPLENS_CACHE_DIR``).
        max_expansion_ratio: how many times its compressed size a compressed file or archive
            member may expand to (``SHOPLENS_MAX_EXPANSION``).
        max_expanded_mb: how large, in MB, it may expand to (``SHOPLENS_MAX_EXPANDED_MB``).
        training_slots: how many trainings the server runs at once, the others waiting in
            line (``SHOPLENS_TRAINING_SLOTS``; default: one fewer than the cores, at least 1).
        dataset_upload_mb: an uploaded events file of this many MB or more becomes a dataset
            on the server instead of being loaded into memory (``SHOPLENS_DATASET_UPLOAD_MB``).
    """

    sample_dir: Path = ROOT / "data"
    data_dir: Path = ROOT / "datasets"
    import_dir: Path = ROOT / "imports"
    runs_dir: Path = ROOT / "runs"
    cache_dir: Path = ROOT / ".cache"
    max_expansion_ratio: float = MAX_EXPANSION_RATIO
    max_expanded_mb: int = MAX_EXPANDED_MB
    # One core stays with the server's pages: on 2 cores, one training at a time finished 8
    # sessions' trainings as fast as two at once, and the first 1.7x sooner.
    training_slots: int = max(1, (os.cpu_count() or 2) - 1)
    # About 4 M events: loaded into memory, that is 1.5 GB; as a dataset it is read in pieces.
    dataset_upload_mb: int = 200

    @property
    def sample_events(self) -> Path:
        """The bundled sample shop's events file."""
        return self.sample_dir / "sample_events.csv.gz"

    @property
    def sample_products(self) -> Path:
        """The bundled sample shop's product table."""
        return self.sample_dir / "sample_products.csv"

    @property
    def sample_photos(self) -> Path:
        """The folder of the bundled sample shop's product photos and their list."""
        return self.sample_dir / "photos"


def load_settings(env: Mapping[str, str] = os.environ) -> Settings:
    """Settings from ``SHOPLENS_SAMPLE_DIR``, ``SHOPLENS_DATA_DIR``, ``SHOPLENS_IMPORT_DIR``,
    ``SHOPLENS_RUNS_DIR``, ``SHOPLENS_CACHE_DIR``, ``SHOPLENS_MAX_EXPANSION``,
    ``SHOPLENS_MAX_EXPANDED_MB``, ``SHOPLENS_TRAINING_SLOTS`` and ``SHOPLENS_DATASET_UPLOAD_MB``
    where set (a number that is not positive keeps its default)."""
    defaults = Settings()
    return Settings(
        sample_dir=Path(env.get("SHOPLENS_SAMPLE_DIR", defaults.sample_dir)),
        data_dir=Path(env.get("SHOPLENS_DATA_DIR", defaults.data_dir)),
        import_dir=Path(env.get("SHOPLENS_IMPORT_DIR", defaults.import_dir)),
        runs_dir=Path(env.get("SHOPLENS_RUNS_DIR", defaults.runs_dir)),
        cache_dir=Path(env.get("SHOPLENS_CACHE_DIR", defaults.cache_dir)),
        max_expansion_ratio=_positive(env, "SHOPLENS_MAX_EXPANSION", MAX_EXPANSION_RATIO),
        max_expanded_mb=int(_positive(env, "SHOPLENS_MAX_EXPANDED_MB", MAX_EXPANDED_MB)),
        training_slots=int(_positive(env, "SHOPLENS_TRAINING_SLOTS", defaults.training_slots)),
        dataset_upload_mb=int(
            _positive(env, "SHOPLENS_DATASET_UPLOAD_MB", defaults.dataset_upload_mb)
        ),
    )


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = float(env.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default
