"""The batch feature job: the one SQL definition gives the purchase model's own features
(``user_features``) on DuckDB and on Spark, on odd little shops and a 100k-event log, with
checksums that agree across pandas, DuckDB and Spark; the command ``features``."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core import schema
from core.batch import USER_ITEMS, USERS, run_feature_job, table_checksums, write_source
from core.batch.job import MANIFEST, default_features_cutoff
from core.batch.sql import LAST_TIMESTAMP
from core.data.loading import load_shop
from core.errors import CutoffError
from core.purchase import features as feat
from core.schema import CART, FAV, PURCHASE, RETURN, VIEW
from tests.cli import run_cli, run_json
from tests.frames import SHORT, make_events, make_products

AT = pd.Timestamp("2024-04-10")
FULL = (*SHORT, schema.QUANTITY, schema.PRICE, schema.ORDER_ID, schema.CATEGORY)
NAN = float("nan")

# fmt: off
ODD = [
    # a: orders with ids; o5 starts before the cutoff and has a line after it; a line without
    # a price, one without a quantity; the order id o1 is also another user's.
    ("a", "p1", VIEW,     "2024-01-01 00:00:00", 1,   10.0, None, "X"),
    ("a", "p1", PURCHASE, "2024-01-02 00:00:00", 2,   10.0, "o1", "X"),
    ("a", "p2", PURCHASE, "2024-01-02 08:00:00", 1,   NAN,  "o1", "Y"),
    ("a", "p2", PURCHASE, "2024-02-10 00:00:00", NAN, 5.0,  "o4", "Y"),
    ("a", "p3", CART,     "2024-03-20 00:00:00", 1,   20.0, None, None),
    ("a", "p3", PURCHASE, "2024-04-09 23:00:00", 1,   20.0, "o5", None),
    ("a", "p1", PURCHASE, "2024-04-11 00:00:00", 1,   10.0, "o5", "X"),
    # b: views only, one without an item and one without a category; never orders.
    ("b", "p1", VIEW,     "2024-03-31 00:00:00", 1,   10.0, None, "X"),
    ("b", None, VIEW,     "2024-04-01 00:00:00", 1,   NAN,  None, None),
    ("b", "p2", VIEW,     "2024-04-09 23:59:59", 1,   5.0,  None, None),
    # c: one order without an id (two lines of one day), and a return.
    ("c", "p1", CART,     "2024-03-01 10:00:00", 1,   10.0, None, "X"),
    ("c", "p1", PURCHASE, "2024-03-02 10:00:00", 1,   10.0, None, "X"),
    ("c", "p2", PURCHASE, "2024-03-02 18:00:00", 3,   5.0,  None, "Y"),
    ("c", "p1", RETURN,   "2024-03-05 00:00:00", 1,   10.0, "r1", "X"),
    # d: only after the cutoff (no row); at the cutoff itself counts as after.
    ("d", "p1", VIEW,     "2024-04-10 00:00:00", 1,   10.0, None, "X"),
    ("d", "p1", PURCHASE, "2024-04-12 00:00:00", 1,   10.0, "o9", "X"),
    # e: an event type that is none of ours, kept as the loader keeps it.
    ("e", "p3", "share",  "2024-02-01 00:00:00", 1,   20.0, None, "Y"),
    # f: two orders on one day without ids are one; one with an id that day is another;
    # a favourite; the first order id is user a's too.
    ("f", "p1", FAV,      "2024-01-15 00:00:00", 1,   10.0, None, "X"),
    ("f", "p1", PURCHASE, "2024-01-20 09:00:00", 1,   10.0, None, "X"),
    ("f", "p2", PURCHASE, "2024-01-20 21:00:00", 2,   5.0,  None, "Y"),
    ("f", "p3", PURCHASE, "2024-01-20 12:00:00", 1,   20.0, "o1", "Y"),
    ("f", "p3", PURCHASE, "2024-04-01 12:00:00", 1,   20.0, None, "Y"),
    # g: purchases without any price.
    ("g", "p2", PURCHASE, "2024-03-10 00:00:00", 1,   NAN,  "o7", "Y"),
    ("g", "p2", PURCHASE, "2024-03-12 00:00:00", 1,   NAN,  "o8", "Y"),
]
# fmt: on


def odd_shop():
    return make_events(ODD, FULL), None


def no_prices_shop():
    """Taobao-like: no prices, quantities or order ids; categories in the events."""
    rows = [(u, i, k, t, c) for u, i, k, t, _q, _p, _o, c in ODD]
    return make_events(rows, (*SHORT, schema.CATEGORY)), None


def orders_only_shop():
    """Only purchase lines (an orders export): no item ids, so no user x item table, and the
    inputs that need views or carts are left out."""
    rows = [(u, k, t, p, o) for u, _i, k, t, _q, p, o, _c in ODD if k == PURCHASE]
    columns = (schema.USER_ID, schema.EVENT_TYPE, schema.TIMESTAMP, schema.PRICE, schema.ORDER_ID)
    return make_events(rows, columns), None


def products_shop():
    """Category and list price from the product table (one list price missing; one item the
    table lacks)."""
    rows = [(u, i, k, t) for u, i, k, t, *_ in ODD]
    products = make_products(
        [("p1", "X", 10.0, "B1", "one"), ("p2", "Y", NAN, "B2", "two")],
        (schema.ITEM_ID, schema.CATEGORY, schema.PRICE, schema.BRAND, schema.NAME),
    )
    return make_events(rows), products


SHOPS = {
    "odd": odd_shop,
    "no_prices": no_prices_shop,
    "orders_only": orders_only_shop,
    "products": products_shop,
}


def pandas_features(events, products, at):
    prepared = feat.prepare_events(events, products)
    orders = feat.extract_orders(prepared)
    return feat.user_features(prepared, orders, at, event_types=feat.event_types_of(prepared))


def pandas_user_items(events, at):
    past = events[events[schema.TIMESTAMP] < at].dropna(subset=[schema.ITEM_ID])
    keys = [past[schema.USER_ID].astype("str"), past[schema.ITEM_ID].astype("str")]
    kinds = past[schema.EVENT_TYPE].astype("str")
    grouped = past.assign(**{k: kinds == k for k in schema.EVENT_TYPES}).groupby(keys)
    table = pd.DataFrame(
        {
            name: grouped[kind].sum().astype("int64")
            for kind, name in zip(schema.EVENT_TYPES, feat.COUNT_FEATURES, strict=True)
        }
    )
    table[LAST_TIMESTAMP] = grouped[schema.TIMESTAMP].max().astype("datetime64[us]")
    return table.rename_axis([schema.USER_ID, schema.ITEM_ID]).reset_index()


def write_pandas_tables(events, products, at, folder: Path) -> dict[str, dict[str, str]]:
    """The pandas features written in the job's layout; their checksums."""
    tables = {
        USERS: pandas_features(events, products, at).reset_index(),
        USER_ITEMS: pandas_user_items(events, at),
    }
    for name, table in tables.items():
        (folder / name).mkdir(parents=True)
        pq.write_table(
            pa.Table.from_pandas(table, preserve_index=False), folder / name / "p.parquet"
        )
    return {name: table_checksums(folder / name) for name in tables}


def read_users(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / USERS).set_index(schema.USER_ID).sort_index()


def source_of(make, folder: Path) -> Path:
    events, products = make()
    path = folder / "source"
    path.mkdir(parents=True)
    pq.write_table(pa.Table.from_pandas(events, preserve_index=False), path / "events.parquet")
    if products is not None:
        pq.write_table(
            pa.Table.from_pandas(products, preserve_index=False), path / "products.parquet"
        )
    return path


def assert_same_features(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    expected = expected.sort_index()
    expected.index = expected.index.astype("str")
    assert list(got.columns) == list(expected.columns)
    assert list(got.index) == list(expected.index)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-12, atol=1e-12)


# --- DuckDB against the pandas features -------------------------------------------------------


@pytest.mark.parametrize("name", SHOPS)
def test_duckdb_features_are_the_purchase_models_own(name, tmp_path):
    events, products = SHOPS[name]()
    result = run_feature_job(source_of(SHOPS[name], tmp_path), tmp_path / "out", cutoff=AT)
    expected = pandas_features(events, products, AT)
    assert_same_features(read_users(tmp_path / "out"), expected)
    assert result.feature_names == tuple(expected.columns)
    assert result.users == len(expected)


def test_the_odd_shop_gives_the_hand_counted_values(tmp_path):
    run_feature_job(source_of(odd_shop, tmp_path), tmp_path / "out", cutoff=AT)
    users = read_users(tmp_path / "out")
    assert "d" not in users.index  # nothing before the cutoff
    assert users.loc["a", feat.ORDERS] == 3  # o1, o4, o5 (o5 began before the cutoff)
    assert users.loc["a", feat.SPEND] == pytest.approx(20 + 20)  # priced lines before it
    assert users.loc["b", feat.ORDERS] == 0
    assert users.loc["b", feat.DISTINCT_ITEMS] == 2  # the view without an item is no item
    assert users.loc["c", feat.ORDERS] == 1  # two lines of one day without an id
    assert users.loc["f", feat.ORDERS] == 3  # a day without ids, an id that day, a later day
    assert users.loc["g", feat.AVG_PRICE_PAID] == 0  # no price at all
    assert users.loc["e", feat.EVENTS_90] == 1  # the unknown type counts as an event


def test_user_items_count_each_event_type_before_the_cutoff(tmp_path):
    events, _ = odd_shop()
    run_feature_job(source_of(odd_shop, tmp_path), tmp_path / "out", cutoff=AT)
    got = pd.read_parquet(tmp_path / "out" / USER_ITEMS)
    key = [schema.USER_ID, schema.ITEM_ID]
    got = got.sort_values(key, ignore_index=True)
    expected = pandas_user_items(events, AT).sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    row = got[(got[schema.USER_ID] == "a") & (got[schema.ITEM_ID] == "p1")].iloc[0]
    assert (row["n_view"], row["n_purchase"]) == (1, 1)  # the line after the cutoff is not
    assert row[LAST_TIMESTAMP] == pd.Timestamp("2024-01-02")


def test_a_shop_without_item_ids_has_no_user_item_table(tmp_path):
    result = run_feature_job(source_of(orders_only_shop, tmp_path), tmp_path / "out", cutoff=AT)
    assert result.user_items == 0 and USER_ITEMS not in result.checksums
    assert not (tmp_path / "out" / USER_ITEMS).exists()
    assert feat.SINCE_VIEW not in result.feature_names  # orders-only data has no views


def test_events_at_or_after_the_cutoff_change_nothing(tmp_path):
    events, _ = odd_shop()
    later = make_events([("a", "p9", PURCHASE, "2024-04-10 00:00:00", 1, 99.0, "o1", "Z")], FULL)
    first = run_feature_job(source_of(odd_shop, tmp_path / "1"), tmp_path / "o1", cutoff=AT)
    more = pd.concat([events, later], ignore_index=True)
    second = run_feature_job(
        source_of(lambda: (more, None), tmp_path / "2"), tmp_path / "o2", cutoff=AT
    )
    assert first.checksums == second.checksums


def test_the_default_cutoff_is_the_purchase_pages(tmp_path):
    events, _ = odd_shop()
    result = run_feature_job(source_of(odd_shop, tmp_path), tmp_path / "out")
    assert result.cutoff == pd.Timestamp("2024-03-14")  # the day after 2024-04-12, less 30
    assert result.cutoff == default_features_cutoff(events[schema.TIMESTAMP].max())


def test_a_cutoff_before_the_data_is_refused_in_one_line(tmp_path):
    with pytest.raises(CutoffError, match=r"^Cutoff 2023-12-01 is not after the data starts"):
        run_feature_job(
            source_of(odd_shop, tmp_path), tmp_path / "out", cutoff=pd.Timestamp("2023-12-01")
        )
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["source"]  # no staging left behind


# --- checksums ----------------------------------------------------------------------------------


def test_checksums_ignore_row_order_and_file_split_but_not_values(tmp_path):
    table = pd.DataFrame(
        {
            "user_id": ["a", "b", "c"],
            "x": [0.1, 0.2, 0.3],
            "n": [1, 2, 3],
            "t": pd.to_datetime(["2024-01-01", "2024-01-02", None]),
        }
    )
    for folder, parts in (("one", [table]), ("two", [table.iloc[[2]], table.iloc[[1, 0]]])):
        (tmp_path / folder).mkdir()
        for number, part in enumerate(parts):
            part.to_parquet(tmp_path / folder / f"part-{number}.parquet", index=False)
    one, two = table_checksums(tmp_path / "one"), table_checksums(tmp_path / "two")
    assert one == two
    assert one["n"] == "sum=6;nulls=0" and one["x"] == "sum=0.6;nulls=0"
    assert one["t"].endswith(";nulls=1") and one["user_id"].startswith("distinct=3;")
    (tmp_path / "three").mkdir()
    table.assign(user_id=["a", "b", "d"]).to_parquet(tmp_path / "three" / "p.parquet")
    assert table_checksums(tmp_path / "three")["user_id"] != one["user_id"]


def test_a_key_checksum_counts_distinct_values_and_sums_every_rows_md5(tmp_path):
    def lower_md5(text: str) -> int:  # the last 8 bytes of the digest, little-endian
        return int.from_bytes(hashlib.md5(text.encode()).digest()[8:], "little")

    (tmp_path / "keys").mkdir()
    keys = pd.DataFrame({"item_id": ["a", "b", "a", None, "a"]})
    keys.to_parquet(tmp_path / "keys" / "part-0.parquet", index=False)
    expected = (3 * lower_md5("a") + lower_md5("b")) % 2**64
    assert table_checksums(tmp_path / "keys")["item_id"] == f"distinct=2;hash={expected:016x}"


# --- Spark: the same text, the same tables ------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", SHOPS)
def test_spark_gives_duckdbs_tables(name, spark_session, tmp_path):
    source = source_of(SHOPS[name], tmp_path)
    duck = run_feature_job(source, tmp_path / "duck", cutoff=AT)
    spark = run_feature_job(source, tmp_path / "spark", cutoff=AT, engine="spark")
    assert spark.checksums == duck.checksums
    assert_same_features(read_users(tmp_path / "spark"), read_users(tmp_path / "duck"))
    assert spark_session.getActiveSession() is not None  # the shared session is left running


@pytest.fixture(scope="module")
def taobao_100k(tmp_path_factory):
    """A Taobao-shaped log of 100k events, loaded as the app loads it."""
    from benchmarks.taobao import write_taobao

    folder = tmp_path_factory.mktemp("taobao")
    write_taobao(folder / "UserBehavior.csv", 100_000, seed=3)
    shop = load_shop(folder / "UserBehavior.csv")
    return shop, write_source(shop, folder / "source")


@pytest.mark.slow
def test_pandas_duckdb_and_spark_agree_on_100k_events(taobao_100k, spark_session, tmp_path):
    shop, source = taobao_100k
    events = shop.events.frame
    at = default_features_cutoff(events[schema.TIMESTAMP].max())
    duck = run_feature_job(source, tmp_path / "duck")
    spark = run_feature_job(source, tmp_path / "spark", engine="spark")
    expected = write_pandas_tables(events, None, at, tmp_path / "pandas")
    assert duck.cutoff == spark.cutoff == at
    assert duck.checksums == expected
    assert spark.checksums == expected
    assert duck.users == 1000 and duck.user_items > 30_000


# --- the command ----------------------------------------------------------------------------


def test_the_features_command_writes_a_datasets_tables(capsys, tmp_path, small_shop_files):
    events, products = small_shop_files
    data_dir = tmp_path / "datasets"
    code, _, err = run_cli(
        capsys, "ingest", events, "--products", products, "--name", "small", "--data-dir", data_dir
    )
    assert code == 0, err
    out = tmp_path / "features"
    summary = run_json(
        capsys, "features", "--dataset", "small", "--data-dir", data_dir, "--out", out, "--json"
    )
    assert set(summary) == {"engine", "users", "user_items", "checksums", "seconds"}
    assert summary["engine"] == "duckdb" and summary["users"] > 0
    assert summary["checksums"][USERS] == table_checksums(out / USERS)
    assert (out / MANIFEST).is_file()
    from_file = run_json(capsys, "features", events, "--products", products, "--out", out, "--json")
    assert from_file["checksums"] == summary["checksums"]  # the folder is replaced


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "nope"], "There is no dataset 'nope'"),
        (["--engine", "spark", "--spark-master", "nowhere"], "is not a Spark master URL"),
        (["--engine", "spark", "--spark-master", "spark://127.0.0.1:9"], "does not answer"),
        (["--spark-master", "local[2]"], "--spark-master is for --engine spark"),
        (["--cutoff", "2020-01-01"], "is not after the data starts"),
    ],
)
def test_the_features_command_refuses_bad_input_in_one_line(
    args, message, capsys, tmp_path, small_shop_files
):
    events, _ = small_shop_files
    data = [] if "--dataset" in args else [events]
    code, out, err = run_cli(
        capsys, "features", *data, *args, "--data-dir", tmp_path, "--out", tmp_path / "f"
    )
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_the_features_command_never_overwrites_other_files(capsys, tmp_path, small_shop_files):
    events, _ = small_shop_files
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    code, _, err = run_cli(capsys, "features", events, "--out", tmp_path / "mine")
    assert code == 2 and "is a folder of other files" in err
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_the_app_and_the_commands_never_import_pyspark():
    script = (
        "import sys, core.cli, core.services, core.batch; "
        "print(any(m.split('.')[0] == 'pyspark' for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
