"""The recommender on the feature job's tables: a job asked for a horizon writes the recommender's
per-(user, item) table at every date it reads, and the interactions built from them equal those
added up from the events; a date the job did not write is refused in one line."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from core import recommend, schema
from core.batch import FeatureTables, FeatureTablesError, run_feature_job, write_source
from core.batch.job import INTERACTIONS_BY_DATE
from core.ml.timesplit import data_end_of
from core.recommend.interactions import Interactions
from tests.cli import ingested_with_features, run_cli, run_json

H = 21
CUTOFF = pd.Timestamp("2026-09-15")
CONFIG = recommend.RecommenderConfig(
    network=recommend.RecommenderConfig().network.__class__(hidden_layers=(8,), epochs=2)
)


@pytest.fixture(scope="module")
def tables(small_shop, tmp_path_factory) -> FeatureTables:
    folder = tmp_path_factory.mktemp("feature-tables")
    source = write_source(small_shop, folder / "source")
    run_feature_job(source, folder / "out", cutoff=CUTOFF, horizon_days=H)
    return FeatureTables.open(folder / "out")


def asked_dates(shop, tables: FeatureTables, cutoff: pd.Timestamp) -> list[pd.Timestamp]:
    """The dates the recommender fitted at ``cutoff`` asks the tables for."""
    asked: list[pd.Timestamp] = []

    def pairs_at(at: pd.Timestamp) -> pd.DataFrame:
        asked.append(at)
        return tables.interactions_at(at)

    recommend.fit_recommender(
        shop.events.frame,
        shop.product_frame,
        cutoff=cutoff,
        horizon_days=H,
        config=CONFIG,
        pairs_at=pairs_at,
    )
    return asked


def test_the_job_writes_every_date_the_recommender_reads(small_shop, tables):
    end = data_end_of(small_shop.events.frame)
    evaluated, now = asked_dates(small_shop, tables, CUTOFF), asked_dates(small_shop, tables, end)
    assert evaluated[0] == CUTOFF and now[0] == end
    assert len(evaluated) == len(now) == 1 + CONFIG.train_windows
    assert tables.interaction_dates == {*evaluated, *now}
    written = {
        pd.Timestamp(path.name.removeprefix("at="))
        for path in (tables.folder / INTERACTIONS_BY_DATE).iterdir()
    }
    assert written == tables.interaction_dates


def assert_same_interactions(got: Interactions, expected: Interactions) -> None:
    for field in dataclasses.fields(Interactions):
        a, b = getattr(got, field.name), getattr(expected, field.name)
        if hasattr(a, "toarray"):
            assert (a != 0).nnz == (b != 0).nnz, field.name  # the same stored pairs
            a, b = a.toarray(), b.toarray()
        if field.name == "category_top":
            assert [list(x) for x in a] == [list(x) for x in b]
        elif isinstance(a, np.ndarray) and a.dtype != object:
            # Only the decayed sums may differ, in their last bits (another order of addition).
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15, err_msg=field.name)
        elif isinstance(a, np.ndarray | pd.Index):
            assert list(a) == list(b), field.name
        else:
            assert a == b, field.name


def test_interactions_from_the_tables_equal_those_added_up_from_the_events(small_shop, tables):
    events, products = small_shop.events.frame, small_shop.product_frame
    for at in sorted(tables.interaction_dates):
        assert_same_interactions(
            recommend.build_interactions(
                events, products, at, max_items=300, pairs=tables.interactions_at(at)
            ),
            recommend.build_interactions(events, products, at, max_items=300),
        )


def test_non_product_lines_are_left_out_of_the_tables_interactions(small_shop, tmp_path):
    frame = small_shop.events.frame
    postage = frame[frame[schema.EVENT_TYPE] == schema.PURCHASE].copy()
    postage[schema.ITEM_ID] = "POST"
    events = pd.concat([frame, postage]).sort_values(schema.TIMESTAMP, kind="stable")
    for column in (schema.USER_ID, schema.ITEM_ID, schema.EVENT_TYPE):
        events[column] = events[column].astype("str").astype("category")
    shop = dataclasses.replace(
        small_shop, events=dataclasses.replace(small_shop.events, frame=events)
    )
    run_feature_job(
        write_source(shop, tmp_path / "source"), tmp_path / "out", cutoff=CUTOFF, horizon_days=H
    )
    got = recommend.build_interactions(
        events,
        shop.product_frame,
        CUTOFF,
        pairs=FeatureTables.open(tmp_path / "out").interactions_at(CUTOFF),
    )
    expected = recommend.build_interactions(events, shop.product_frame, CUTOFF)
    assert got.non_product.sum() == 1 and got.non_product_lines > 0
    assert_same_interactions(got, expected)


def test_a_date_the_job_did_not_write_is_refused_in_one_line(small_shop, tables):
    with pytest.raises(
        FeatureTablesError, match="no user x item table at .* cutoff 2026-09-15 and horizon 21"
    ) as caught:
        asked_dates(small_shop, tables, CUTOFF + pd.Timedelta(days=7))
    assert "\n" not in str(caught.value)


def test_the_recommend_command_reads_a_datasets_feature_tables(capsys, tmp_path, small_shop_files):
    dataset, _, out = ingested_with_features(capsys, tmp_path, small_shop_files, H)
    assert "user x item table at the 5 dates it reads" in out
    window = ["--horizon-days", str(H)]
    training = [*dataset, *window, "--hidden", "8", "--epochs", "2", "--runs-dir", tmp_path / "r"]
    got = run_json(capsys, "recommend", *training, "--features", tmp_path / "f", "--json")
    expected = run_json(capsys, "recommend", *training, "--json")
    assert got["cutoff"] == expected["cutoff"]
    assert got["users_evaluated"] == expected["users_evaluated"]
    for model, scores in expected["models"].items():
        for score, value in scores.items():
            assert got["models"][model][score] == pytest.approx(value, rel=1e-9, abs=1e-12)
    code, out, err = run_cli(
        capsys, "recommend", *training, "--features", tmp_path / "f",
        "--out", tmp_path / "lists.parquet",
    )  # fmt: skip
    assert code == 0, err
    assert "User x item tables read from" in out
    assert len(pd.read_parquet(tmp_path / "lists.parquet"))
    code, out, err = run_cli(
        capsys, "recommend", *training, "--cutoff", "2026-09-01", "--features", tmp_path / "f"
    )
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "no user x item table at" in err


def test_tables_without_user_x_item_tables_or_with_a_lost_file_say_so(small_shop, tmp_path):
    from core import services
    from core.batch import IN_DATASET
    from core.batch.job import MANIFEST

    dataset = tmp_path / "shop"
    write_source(small_shop, dataset)
    run_feature_job(dataset, dataset / IN_DATASET, horizon_days=H)
    settings = services.RecommendSettings(CONFIG, horizon_days=H)
    found = services.dataset_interactions(dataset, small_shop, settings)
    assert found.tables is not None and "read from the dataset's feature tables" in found.note
    # A file lost (e.g. while a new job replaces the folder): one line, not a traceback.
    at = max(found.tables.interaction_dates)
    for part in (dataset / IN_DATASET / INTERACTIONS_BY_DATE / f"at={at:%Y-%m-%d}").iterdir():
        part.unlink()
    with pytest.raises(FeatureTablesError, match="cannot be read") as caught:
        found.tables.interactions_at(at)
    assert "\n" not in str(caught.value)
    # Tables of a job that wrote no user x item tables by date.
    manifest = dataset / IN_DATASET / MANIFEST
    record = json.loads(manifest.read_text())
    del record["interaction_dates"]
    manifest.write_text(json.dumps(record))
    found = services.dataset_interactions(dataset, small_shop, settings)
    assert found.tables is None
    assert "hold no user x item tables by date" in found.note
    with pytest.raises(FeatureTablesError, match="hold no user x item tables by date"):
        FeatureTables.open(dataset / IN_DATASET).interactions_at(at)
