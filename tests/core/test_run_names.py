"""Default run names: layers · seed · data · time, distinct across data and times, and always
a name the runs folder accepts back."""

from __future__ import annotations

import datetime as dt

from core.runs.names import MAX_NAME, clean_name, data_label
from tests.records import stub_record

MORNING = dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC)


# A data file's name -> its part of a run name.
DATA_LABELS = {
    "Online Retail.csv": "Online Retail",
    "exports/Online Retail.csv.gz": "Online Retail",
    "C:\\shop\\orders.XLSX": "orders",
    "淘宝 用户行为.csv": "淘宝 用户行为",
    "a&b <x> [y].parquet": "a b x y",
    "a very long export name of a shop.csv": "a very long export n",
}


def test_a_data_file_is_named_by_its_stem():
    assert {name: data_label(name) for name in DATA_LABELS} == DATA_LABELS


def test_default_names_differ_by_data_and_time_and_say_layers_and_seed():
    record = stub_record(hidden=(64, 32), seed=3)
    name = record.default_name("Online Retail.csv", MORNING)
    assert name == "64,32 · seed 3 · Online Retail · 2026-12-04 09:30"
    later = record.default_name("Online Retail.csv", MORNING + dt.timedelta(minutes=1))
    other = record.default_name("sample_events.csv.gz", MORNING)
    assert len({name, later, other}) == 3
    # A time in another zone is shown in UTC, like the run's creation time.
    paris = dt.timezone(dt.timedelta(hours=1))
    assert record.default_name("x.csv", MORNING.astimezone(paris)).endswith("2026-12-04 09:30")
    stopped = stub_record(stopped_at_epoch=12).default_name(None, MORNING)
    assert stopped == "8 · seed 0 · 2026-12-04 09:30 (stopped at epoch 12)"


def test_a_default_name_is_always_a_valid_name_even_for_wide_networks():
    record = stub_record(hidden=(1024,) * 6, seed=2**31 - 1, stopped_at_epoch=999)
    name = record.default_name("an export with a rather long name.csv", MORNING)
    assert len(name) <= MAX_NAME
    assert clean_name(name) == name
    assert name.startswith("1024,1024,1024,1024,1024,1024 · seed 2147483647")
