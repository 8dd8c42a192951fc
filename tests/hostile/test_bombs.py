"""Decompression bombs: a compressed table, a zipped table, a workbook, a Parquet file or a run
bundle (and the skops model inside it) that would expand far past what real exports reach is
refused with one line naming the limit and its setting, and reading it stays small."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from core.config import load_settings
from core.data.limits import Budget, inflate_gzip
from core.data.reading import read_table
from core.errors import ExpansionLimitError, RunIntegrityError
from core.runs import MANIFEST, RunStore, bundles
from core.runs.manifest import BUNDLE_MODEL
from tests.records import stub_record

ROOT = Path(__file__).resolve().parents[2]
HEADER = b"user_id,item_id,event_type,timestamp\n"


def _zeros(size: int) -> bytes:
    """A CSV of one header and ``size`` bytes of '0' characters: compresses about 1000:1."""
    return HEADER + b"0" * size


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _one_line_naming_the_settings(err: pytest.ExceptionInfo) -> None:
    text = str(err.value)
    assert "\n" not in text
    assert "SHOPLENS_MAX_EXPANSION" in text and "SHOPLENS_MAX_EXPANDED_MB" in text


def test_a_gzip_bomb_is_refused_with_one_line():
    bomb = gzip.compress(_zeros(50_000_000))
    assert len(bomb) < 100_000
    with pytest.raises(ExpansionLimitError, match=r"'zeros.csv.gz' expands to more than") as err:
        read_table(bomb, name="zeros.csv.gz")
    _one_line_naming_the_settings(err)


def test_a_zipped_table_bomb_is_refused():
    with pytest.raises(ExpansionLimitError, match=r"'orders.zip/orders.csv'") as err:
        read_table(_zip({"orders.csv": _zeros(50_000_000)}), name="orders.zip")
    _one_line_naming_the_settings(err)


def test_a_workbook_bomb_is_refused_before_it_is_opened():
    workbook = _zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/workbook.xml": b"<workbook/>",
            "xl/worksheets/sheet1.xml": b"<sheetData>" + b" " * 50_000_000 + b"</sheetData>",
        }
    )
    with pytest.raises(ExpansionLimitError, match=r"member 'xl/worksheets/sheet1.xml'") as err:
        read_table(workbook, name="shop.xlsx")
    _one_line_naming_the_settings(err)


def test_a_parquet_file_that_unpacks_far_past_its_size_is_refused():
    frame = pd.DataFrame({"user_id": ["u" + "0" * 1000] * 20_000, "timestamp": range(20_000)})
    buffer = io.BytesIO()
    frame.to_parquet(buffer, compression="zstd", use_dictionary=False)
    with pytest.raises(ExpansionLimitError) as err:
        read_table(buffer.getvalue(), name="events.parquet")
    _one_line_naming_the_settings(err)


def test_real_exports_stay_within_the_limits():
    rows = [
        f"u{i * 7919 % 5003},i{i * 104729 % 997},view,2024-03-{1 + i % 28:02d} "
        f"{i % 24:02d}:{i % 60:02d}:{i * 7 % 60:02d}\n"
        for i in range(200_000)
    ]
    events = HEADER + "".join(rows).encode()
    packed = gzip.compress(events)
    assert len(events) / len(packed) < 20  # what exports reach
    assert read_table(packed, name="events.csv.gz").rows_read == 200_000
    settings = load_settings({})
    assert settings.max_expansion_ratio == 100 and settings.max_expanded_mb == 2048


def test_the_limits_are_settings():
    env = {"SHOPLENS_MAX_EXPANSION": "5", "SHOPLENS_MAX_EXPANDED_MB": "2"}
    settings = load_settings(env)
    budget = Budget(settings.max_expansion_ratio, settings.max_expanded_mb * 1024 * 1024)
    assert budget.allowed(100_000) == 1024 * 1024  # the floor for small files
    assert budget.allowed(10_000_000) == 2 * 1024 * 1024  # the size cap
    assert load_settings({"SHOPLENS_MAX_EXPANSION": "lots"}).max_expansion_ratio == 100


def test_reading_a_bomb_stays_small_in_memory(tmp_path):
    """A 1 GB expansion from a 1 MB file: refused once past 100 times its size, so the
    process's peak memory grows by far less than the bomb's size."""
    path = tmp_path / "bomb.csv.gz"
    with gzip.open(path, "wb", compresslevel=9) as file:
        file.write(HEADER)
        block = b"0" * 8_000_000
        for _ in range(125):
            file.write(block)
    script = (
        "import sys\n"
        "from core.data.reading import read_table\n"
        "from core.errors import ExpansionLimitError\n"
        "def peak():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        "            return int(line.split()[1]) * 1024\n"
        "before = peak()\n"
        "try:\n"
        "    read_table(sys.argv[1])\n"
        "except ExpansionLimitError:\n"
        "    print(peak() - before)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    grown = int(done.stdout.strip())
    compressed = path.stat().st_size
    assert compressed < 2_000_000
    assert grown < 100 * compressed + 50_000_000, (grown, compressed)  # the limit, and slack


def test_inflating_stops_at_the_limit_not_after():
    budget = Budget(ratio=10, max_bytes=10 * 1024 * 1024)
    data = gzip.compress(b"0" * 20_000_000)
    with pytest.raises(ExpansionLimitError):
        inflate_gzip(data, "'x.gz'", budget)
    assert inflate_gzip(gzip.compress(b"ab" * 100), "'x.gz'", budget)[:] == b"ab" * 100


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "runs")


def test_a_bundle_whose_skops_model_is_a_bomb_is_refused(store, small_shop):
    """The attacker sets the bundle's hash to match the bomb; the skops payload's members are
    checked before skops unpacks them."""
    model = _zip({"schema.json": b" " * 50_000_000})
    run_id = store.save(stub_record(), small_shop, name="bomb")
    manifest = json.loads((store.path_of(run_id) / MANIFEST).read_text())
    store.delete(run_id)
    manifest["bundle_model_sha256"] = hashlib.sha256(model).hexdigest()
    bundle = _zip({MANIFEST: json.dumps(manifest).encode(), BUNDLE_MODEL: model})
    assert len(bundle) < 200_000
    with pytest.raises(RunIntegrityError, match="The bundle's model .member 'schema.json'") as err:
        bundles.import_bundle(store, bundle, small_shop)
    _one_line_naming_the_settings(err)
    assert store.runs() == []
