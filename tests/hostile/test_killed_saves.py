"""A save that was killed leaves no staging folder behind past the next save."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from core.runs import RunStore, datasets
from core.runs.manifest import DATASETS
from tests.records import stub_record

ROOT = Path(__file__).resolve().parents[2]
RUN_STAGING = f"{datasets.STAGING}20261128-101500-purchase-0123abcd-"


def staging_of_a_dead_process(root: Path) -> list[Path]:
    """Staging folders for a run and a dataset, made by a process that has ended since."""
    script = textwrap.dedent(
        f"""
        import tempfile
        from core.runs import datasets
        root = {str(root)!r}
        print(tempfile.mkdtemp(dir=root, prefix=datasets.writer_prefix({RUN_STAGING!r})))
        print(tempfile.mkdtemp(dir=root + "/{DATASETS}", prefix=datasets.writer_prefix(
            datasets.STAGING)))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return [Path(line) for line in done.stdout.splitlines()]


@pytest.fixture
def root(tmp_path) -> Path:
    folder = tmp_path / "runs"
    (folder / DATASETS).mkdir(parents=True)
    return folder


@pytest.mark.skipif(os.name != "posix", reason="process ids are checked with POSIX signals")
def test_staging_folders_of_a_dead_writer_are_removed_at_the_next_save(root, small_shop):
    dead = staging_of_a_dead_process(root)
    assert len(dead) == 2 and all(folder.is_dir() for folder in dead)
    RunStore(root).save(stub_record(), small_shop)
    assert [folder for folder in dead if folder.exists()] == []


def test_a_staging_folder_of_a_live_writer_stays(root, small_shop):
    live = Path(tempfile.mkdtemp(dir=root, prefix=datasets.writer_prefix(RUN_STAGING)))
    assert str(os.getpid()) in live.name
    RunStore(root).save(stub_record(), small_shop)
    assert live.is_dir()


def test_a_staging_folder_without_a_writer_id_waits_a_day(root, small_shop):
    fresh = Path(tempfile.mkdtemp(dir=root, prefix=RUN_STAGING))
    old = Path(tempfile.mkdtemp(dir=root, prefix=RUN_STAGING))
    day_ago = old.stat().st_mtime - 25 * 3600
    os.utime(old, (day_ago, day_ago))
    RunStore(root).save(stub_record(), small_shop)
    assert fresh.is_dir()
    assert not old.exists()


def test_a_writer_on_another_machine_is_never_taken_for_dead():
    assert not datasets.writer_is_gone(f"{datasets.STAGING}pid999999@elsewhere.example-ab12")
    assert not datasets.writer_is_gone(f"{datasets.STAGING}no-writer-id")
