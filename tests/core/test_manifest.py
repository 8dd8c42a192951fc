"""The typed run manifest: parsed and checked once, so a crafted one whose hashes match is
refused at import with one line and a damaged one never crashes a reader; a run cut short is
kept, listed and reported as stopped."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from core.data.loading import ShopData, load_shop
from core.data.sample import generate_sample_world
from core.report import build_report
from core.runs import MANIFEST, RunIntegrityError, RunStore, bundles, runs_table
from core.runs.compare import flat_config
from core.runs.manifest import BUNDLE_MODEL, parse_manifest
from tests.records import stub_record

MARKDOWN = "[Sign in again](https://evil.example/login) ![t](http://127.0.0.1:9/fn.png) $e^x$"


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> ShopData:
    events, products = generate_sample_world(n_users=120, n_items=30, random_state=3).frames
    folder = tmp_path_factory.mktemp("shop")
    events.to_csv(folder / "events.csv", index=False)
    products.to_csv(folder / "products.csv", index=False)
    return load_shop(folder / "events.csv", folder / "products.csv")


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "runs")


def _crafted_bundle(store: RunStore, shop: ShopData, change) -> bytes:
    """A real bundle whose manifest was edited; its model, and so its hash, is untouched."""
    record = stub_record(metrics={"mlp": {"mse": 1.0}, "mean": {"mse": 2.0}})
    bundle = bundles.export_bundle(store, store.save(record, shop))
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        manifest = json.loads(archive.read(MANIFEST))
        model = archive.read(BUNDLE_MODEL)
    change(manifest)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(MANIFEST, json.dumps(manifest))
        archive.writestr(BUNDLE_MODEL, model)
    return buffer.getvalue()


def _set(*path, value):
    def change(manifest):
        target = manifest
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _stopped_without_epoch(manifest):
    manifest.update(status="stopped", stopped_at_epoch=None)


CRAFTED = {
    "a cutoff that is no date": (_set("config", "cutoff", value="garbage"), "'config'"),
    "a cutoff in year 9999": (_set("config", "cutoff", value="9999-01-01"), "'config'"),
    "a cutoff with a script": (_set("config", "cutoff", value="<script>"), "'config'"),
    "a horizon of 0": (_set("config", "horizon_days", value=0), "'config'"),
    "a negative horizon": (_set("config", "horizon_days", value=-5), "'config'"),
    "a horizon of 100,000 days": (_set("config", "horizon_days", value=100_000), "'config'"),
    "a horizon as text": (_set("config", "horizon_days", value="30"), "'config'"),
    "epochs of 0": (_set("config", "network", "epochs", value=0), "'config'"),
    "a warning carrying Markdown": (_set("details", "warnings", value=[MARKDOWN]), "'details'"),
    "a warning carrying HTML": (_set("details", "warnings", value=["<b>x</b>"]), "'details'"),
    "a metric named with markup": (_set("metrics", "mlp", value={"<img>": 1.0}), "'metrics'"),
    "a model named with a link": (_set("metrics", value={"[x](https://a.b)": {}}), "'metrics'"),
    "an unknown status": (_set("status", value="done"), "'status'"),
    "a stopped run without its epoch": (_stopped_without_epoch, "'status'"),
    "curves of another network": (_set("curves", value={"ranker": {}}), "'curves'"),
    "users to train on of 5": (_set("config", "max_users", value=5), "'config'"),
    "users to train on as text": (_set("config", "max_users", value="1000"), "'config'"),
    "a negative sample seed": (_set("config", "sample_seed", value=-1), "'config'"),
}


@pytest.mark.parametrize(("change", "part"), CRAFTED.values(), ids=list(CRAFTED))
def test_a_crafted_manifest_whose_hashes_match_is_refused_at_import_with_one_line(
    store, shop, tmp_path, change, part
):
    bundle = _crafted_bundle(store, shop, change)
    other = RunStore(tmp_path / "other")
    with pytest.raises(RunIntegrityError, match=f"manifest.json has no valid {part}") as err:
        bundles.import_bundle(other, bundle, shop)
    message = str(err.value)
    assert "\n" not in message and "evil.example" not in message and "<" not in message
    assert other.runs() == []


@pytest.mark.parametrize(("change", "part"), CRAFTED.values(), ids=list(CRAFTED))
def test_a_crafted_manifest_in_the_runs_folder_is_listed_as_broken_and_never_crashes(
    store, shop, change, part
):
    run_id = store.save(stub_record(), shop)
    path = store.path_of(run_id) / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")
    [info] = store.runs()
    assert not info.ok and info.manifest is None
    assert info.problem == f"manifest.json has no valid {part}"
    assert runs_table([info])["status"].iloc[0] == f"broken: {info.problem}"
    with pytest.raises(RunIntegrityError, match=f"Run {run_id} cannot be opened") as err:
        store.load(run_id)
    assert "\n" not in str(err.value)


def test_a_run_cut_short_is_kept_listed_and_reported_as_stopped(store, shop):
    run_id = store.save(stub_record(stopped_at_epoch=12), shop)
    [info] = store.runs()
    assert info.manifest.status == "stopped" and info.manifest.stopped_at_epoch == 12
    assert re.fullmatch(
        r"8 · seed 0 · \w+ · [-0-9]{10} [:0-9]{5} \(stopped at epoch 12\)", info.name
    )
    assert runs_table([info])["status"].iloc[0] == "stopped at epoch 12"
    complete = store.save(stub_record(hidden=(4,)), shop)
    assert store.info(complete).manifest.status == "complete"
    assert runs_table([store.info(complete)])["status"].iloc[0] == "ok"
    saved = json.loads((store.path_of(run_id) / MANIFEST).read_text(encoding="utf-8"))
    assert saved["status"] == "stopped" and saved["stopped_at_epoch"] == 12


def test_a_stopped_run_is_marked_in_the_report(store, shop):
    from core import services
    from core.ml.network import NetworkConfig

    settings = services.PurchaseSettings(
        NetworkConfig(hidden_layers=(4,), epochs=20, early_stopping=False)
    )
    result = services.train_purchase(
        shop, settings, store, on_progress=lambda p: False if p.epoch >= 2 else None
    )
    assert result.stopped and max(result.models.epochs_run) == 2
    document = build_report(store, [result.run_id])
    assert "Stopped: training was cut short at epoch 2" in document


def test_a_manifest_of_the_first_version_reads_with_its_stopped_flag(store, shop):
    run_id = store.save(stub_record(), shop)
    manifest = json.loads((store.path_of(run_id) / MANIFEST).read_text(encoding="utf-8"))
    for key in ("status", "stopped_at_epoch"):
        del manifest[key]
    manifest["manifest_version"] = 1
    manifest["details"]["epochs_run"] = [7, 9]
    manifest["details"]["stopped"] = True
    parsed = parse_manifest(manifest, run_id=run_id)
    assert parsed.status == "stopped" and parsed.stopped_at_epoch == 9
    manifest["details"]["stopped"] = False
    assert parse_manifest(manifest, run_id=run_id).status == "complete"


def test_the_parsed_manifest_types_every_field(store, shop):
    run_id = store.save(stub_record("recommend", evaluate=False, k=5), shop, tags=("a", "b"))
    manifest = store.info(run_id).manifest
    assert manifest.task == "recommend" and manifest.tags == ("a", "b")
    assert manifest.config.k == 5 and manifest.config.evaluate is False
    assert manifest.config.recommender is not None
    assert manifest.config.recommender.network == manifest.config.network
    assert isinstance(manifest.config.cutoff, pd.Timestamp)
    assert manifest.created.tzinfo is not None
    assert manifest.dataset.fingerprint == shop.fingerprint
    assert Path(store.path_of(run_id) / MANIFEST).is_file()


def test_users_to_train_on_is_kept_with_the_run_and_read_back(store, shop):
    run_id = store.save(stub_record(max_users=100_000, seed=7), shop)
    saved = json.loads((store.path_of(run_id) / MANIFEST).read_text(encoding="utf-8"))
    assert (saved["config"]["max_users"], saved["config"]["sample_seed"]) == (100_000, 7)
    manifest = store.info(run_id).manifest
    assert (manifest.config.max_users, manifest.config.sample_seed) == (100_000, 7)
    assert parse_manifest(manifest.to_json(), run_id=run_id).config == manifest.config
    assert flat_config(manifest)["max_users"] == 100_000


def test_a_run_without_users_to_train_on_used_every_user(store, shop):
    run_id = store.save(stub_record(), shop)
    path = store.path_of(run_id) / MANIFEST
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert "max_users" not in saved["config"]  # every user
    del saved["config"]["sample_seed"]  # as runs saved before users were drawn
    path.write_text(json.dumps(saved), encoding="utf-8")
    manifest = store.info(run_id).manifest
    assert manifest.config.max_users is None and manifest.config.sample_seed is None
    assert parse_manifest(manifest.to_json(), run_id=run_id).config == manifest.config
    assert flat_config(manifest)["max_users"] == "every user"
