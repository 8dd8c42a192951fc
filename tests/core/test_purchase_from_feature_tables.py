"""Purchase prediction on the feature job's tables: a job asked for a horizon writes the per-user
table at every date purchase prediction reads, and purchase built on them equals purchase that
computes its own features; tables of other data, dates or a job without a horizon are refused
in one line."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from core import purchase, schema
from core.batch import (
    USERS,
    USERS_BY_DATE,
    FeatureTables,
    FeatureTablesError,
    run_feature_job,
    write_source,
)
from core.batch.job import MANIFEST
from core.purchase import features as feat
from tests.cli import ingested_with_features, run_cli, run_json

H = 21
CUTOFF = pd.Timestamp("2026-09-15")


@pytest.fixture(scope="module")
def tables_folder(small_shop, tmp_path_factory):
    folder = tmp_path_factory.mktemp("feature-tables")
    source = write_source(small_shop, folder / "source")
    run_feature_job(source, folder / "out", cutoff=CUTOFF, horizon_days=H)
    return folder / "out"


def built(shop, cutoff=CUTOFF, **options):
    return purchase.build_purchase_data(
        shop.events.frame, shop.product_frame, cutoff=cutoff, horizon_days=H, **options
    )


def assert_same_tables(got: purchase.PurchaseData, expected: purchase.PurchaseData) -> None:
    assert got.feature_names == expected.feature_names
    assert got.windows == expected.windows
    for name in ("train", "evaluation", "deployment"):
        a, b = getattr(got, name), getattr(expected, name)
        assert list(a.columns) == list(b.columns), name
        assert list(a.index) == list(b.index), name  # the same users, in the same order
        numbers = [c for c in a.columns if c != purchase.WINDOW_START]
        np.testing.assert_allclose(
            a[numbers].to_numpy(float), b[numbers].to_numpy(float), rtol=1e-9, atol=1e-9
        )


def test_the_job_writes_every_date_purchase_reads(small_shop, tables_folder):
    data = built(small_shop)
    wanted = {data.cutoff, data.data_end, *(at for at, _ in data.windows)}
    written = {
        pd.Timestamp(path.name.removeprefix("at="))
        for path in (tables_folder / USERS_BY_DATE).iterdir()
    }
    assert written == wanted
    manifest = json.loads((tables_folder / MANIFEST).read_text())
    assert manifest["horizon_days"] == H
    assert manifest["source"]["n_events"] == len(small_shop.events.frame)
    # The cutoff's own table is the job's users table.
    at_cutoff = pd.read_parquet(tables_folder / USERS_BY_DATE / f"at={CUTOFF:%Y-%m-%d}")
    pd.testing.assert_frame_equal(at_cutoff, pd.read_parquet(tables_folder / USERS))


@pytest.mark.parametrize("max_users", [None, 120])
def test_purchase_on_the_tables_equals_purchase_computing_its_features(
    small_shop, tables_folder, max_users
):
    tables = FeatureTables.open(tables_folder)
    tables.check_source(small_shop.events.frame)
    expected = built(small_shop, max_users=max_users)
    got = built(small_shop, max_users=max_users, features_at=tables.users_at)
    assert got.user_sample == expected.user_sample
    assert_same_tables(got, expected)


def test_spend_enters_the_windows_after_the_first_priced_purchase(small_shop, tmp_path):
    events = small_shop.events.frame.copy()
    late = CUTOFF - pd.Timedelta(days=10)  # between the training windows' dates
    events.loc[events[schema.TIMESTAMP] < late, schema.PRICE] = np.nan
    shop = dataclasses.replace(
        small_shop, events=dataclasses.replace(small_shop.events, frame=events)
    )
    run_feature_job(
        write_source(shop, tmp_path / "source"), tmp_path / "out", cutoff=CUTOFF, horizon_days=H
    )
    expected = built(shop)
    early = expected.train[expected.train[purchase.WINDOW_START] < late]
    assert (early[feat.SPEND] == 0).all() and (expected.evaluation[feat.SPEND] > 0).any()
    assert not expected.train.isna().any().any()  # the networks take no missing input
    assert_same_tables(
        built(shop, features_at=FeatureTables.open(tmp_path / "out").users_at), expected
    )


def test_a_date_the_job_did_not_write_is_refused_in_one_line(small_shop, tables_folder):
    tables = FeatureTables.open(tables_folder)
    with pytest.raises(
        FeatureTablesError, match="no per-user table at .* cutoff 2026-09-15 and horizon 21"
    ) as caught:
        built(small_shop, features_at=tables.users_at, cutoff=CUTOFF + pd.Timedelta(days=7))
    assert "\n" not in str(caught.value)


def test_tables_of_other_events_are_refused(small_shop, tables_folder):
    tables = FeatureTables.open(tables_folder)
    with pytest.raises(FeatureTablesError, match="made from other events"):
        tables.check_source(small_shop.events.frame.iloc[1:])


def test_a_job_without_a_horizon_cannot_feed_purchase(small_shop, tmp_path):
    source = write_source(small_shop, tmp_path / "source")
    run_feature_job(source, tmp_path / "out", cutoff=CUTOFF)
    assert not (tmp_path / "out" / USERS_BY_DATE).exists()
    with pytest.raises(FeatureTablesError, match="--horizon-days"):
        FeatureTables.open(tmp_path / "out")
    with pytest.raises(FeatureTablesError, match="not a feature job's folder"):
        FeatureTables.open(tmp_path / "nothing")


def test_the_commands_train_purchase_on_a_datasets_feature_tables(
    capsys, tmp_path, small_shop_files
):
    events, products = small_shop_files
    dataset, _, out = ingested_with_features(capsys, tmp_path, small_shop_files, H)
    assert "the per-user table at the" in out
    window = ["--horizon-days", str(H)]
    runs = tmp_path / "runs"
    training = [*dataset, *window, "--hidden", "8", "--epochs", "2", "--runs-dir", runs, "--json"]
    got = run_json(capsys, "purchase", *training, "--features", tmp_path / "f")
    expected = run_json(capsys, "purchase", *training)
    assert got["cutoff"] == expected["cutoff"] and got["users"] == expected["users"]
    for model in ("bgnbd", "past_rate", "zero"):  # no network: equal to the last digits
        for score, value in expected["models"][model].items():
            assert got["models"][model][score] == pytest.approx(value, rel=1e-9, abs=1e-12)
    code, out, err = run_cli(
        capsys, "purchase", events, "--products", products, *training[4:],
        "--cutoff", "2026-09-01", "--features", tmp_path / "f",
    )  # fmt: skip
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "no per-user table at" in err


def test_spark_writes_duckdbs_tables_at_every_date(small_shop, spark_session, tmp_path):
    source = write_source(small_shop, tmp_path / "source")
    start = small_shop.events.frame[schema.TIMESTAMP].min().normalize()
    cutoff = start + pd.Timedelta(days=17)  # one training window: three dates
    written = {}
    for engine in ("duckdb", "spark"):
        result = run_feature_job(
            source, tmp_path / engine, engine=engine, cutoff=cutoff, horizon_days=H
        )
        written[engine] = (result.dates, FeatureTables.open(tmp_path / engine))
    (duck_dates, duck), (spark_dates, spark) = written["duckdb"], written["spark"]
    assert spark_dates == duck_dates and len(duck_dates) == 3
    for at in duck_dates:
        pd.testing.assert_frame_equal(
            spark.users_at(at).sort_index(), duck.users_at(at).sort_index(), rtol=1e-12
        )
    # The recommender's user x item tables too (its dates need no training window's history).
    assert spark.interaction_dates == duck.interaction_dates
    assert len(duck.interaction_dates) >= 3
    for at in duck.interaction_dates:
        got, expected = (
            tables.interactions_at(at)
            .sort_values([schema.USER_ID, schema.ITEM_ID])
            .reset_index(drop=True)
            for tables in (spark, duck)
        )
        pd.testing.assert_frame_equal(got, expected, rtol=1e-12)
