"""Tests for the run registry: saving, listing, loading back to the same predictions, broken
and tampered runs, atomic and concurrent saves, safe names, the data snapshot and bundles."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from core import purchase, recommend
from core.data.loading import ShopData
from core.ml.network import NetworkConfig
from core.runs import (
    BUNDLE_MODEL,
    MANIFEST,
    MODEL,
    RunError,
    RunIntegrityError,
    RunNameError,
    RunNotFoundError,
    RunStore,
    RunWriteError,
    bundles,
    check_run_id,
    clean_name,
    clean_tags,
    file_slug,
    runs_table,
)
from core.runs.tasks import (
    check_run_inputs,
    purchase_models_from_run,
    purchase_run_record,
    recommender_from_run,
    recommender_run_record,
)
from tests.records import stub_record

ROOT = Path(__file__).resolve().parents[2]
CONFIG = NetworkConfig(hidden_layers=(8,), epochs=4, batch_size=64, random_state=0)
NOW = dt.datetime(2026, 11, 28, 10, 15, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def shop(small_shop) -> ShopData:
    """The small generated shop, which every run here is trained on or saved with."""
    return small_shop


@pytest.fixture(scope="module")
def trained(shop):
    data = purchase.build_purchase_data(shop.events.frame, shop.products.frame, horizon_days=30)
    models = purchase.train_purchase_models(data, CONFIG)
    evaluation = purchase.evaluate_purchase_models(models, data, importance_rows=200)
    return data, models, evaluation


@pytest.fixture(scope="module")
def purchase_record(trained):
    data, models, evaluation = trained
    return purchase_run_record(models, evaluation, data)


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "runs")


def test_a_saved_run_is_listed_with_its_manifest(store, shop, purchase_record):
    run_id = store.save(purchase_record, shop, now=NOW)
    [info] = store.runs()
    assert info.ok and info.run_id == run_id and info.task == "purchase"
    assert run_id.startswith("20261128-101500-purchase-")
    manifest = info.manifest
    assert manifest.name == "8 · seed 0 · events · 2026-11-28 10:15"
    assert manifest.status == "complete"
    assert manifest.config.network.hidden_layers == (8,)
    assert manifest.config.horizon_days == 30
    assert manifest.dataset.fingerprint == shop.fingerprint
    assert manifest.dataset.events_file == "events.csv"
    assert set(manifest.metrics) == set(purchase.MODEL_NAMES)
    assert manifest.metrics["mlp"]["mse"] > 0
    assert len(manifest.curves["regressor"]["epoch"]) == 4
    assert manifest.versions["scikit-learn"]
    # The manifest is strict JSON: no NaN anywhere.
    json.loads((info.path / MANIFEST).read_text(), parse_constant=pytest.fail)


def test_a_loaded_purchase_run_predicts_exactly_as_before(store, shop, trained, purchase_record):
    data, models, evaluation = trained
    loaded = store.load(store.save(purchase_record, shop))
    again = purchase_models_from_run(loaded)
    table = data.evaluation
    pd.testing.assert_frame_equal(
        purchase.predict_all(again, table, 30), purchase.predict_all(models, table, 30)
    )
    rescored = purchase.evaluate_purchase_models(again, data, importance_rows=200)
    pd.testing.assert_frame_equal(rescored.scores, evaluation.scores)
    pd.testing.assert_frame_equal(again.regressor_curves, models.regressor_curves)
    assert again.best_epochs == models.best_epochs and again.config == models.config


@pytest.mark.slow
def test_a_loaded_recommender_run_recommends_and_scores_as_before(store, shop):
    events, products = shop.events.frame, shop.products.frame
    cutoff = pd.Timestamp("2026-10-02")
    config = recommend.RecommenderConfig(network=CONFIG, candidates=20, negatives=10)
    fitted, evaluation = recommend.evaluate_recommender(
        events, products, cutoff=cutoff, horizon_days=30, k=5, config=config
    )
    record = recommender_run_record(
        fitted, evaluation, cutoff=cutoff, horizon_days=30, k=5, stopped=False
    )
    loaded = store.load(store.save(record, shop))
    again = recommender_from_run(loaded, events, products)
    assert again.config == config and again.best_epoch == fitted.best_epoch > 0
    user = str(evaluation.relevant["user_id"].iloc[0])
    pd.testing.assert_frame_equal(
        recommend.recommend_for_user(again, user, k=5),
        recommend.recommend_for_user(fitted, user, k=5),
    )
    rescored = recommend.score_recommender(again, events, cutoff=cutoff, horizon_days=30, k=5)
    pd.testing.assert_frame_equal(rescored.scores, evaluation.scores)
    assert loaded.manifest.metrics["mlp"]["ndcg"] == pytest.approx(
        evaluation.scores.loc["mlp", "ndcg"]
    )


def test_a_tampered_model_file_is_listed_as_broken_and_refused(store, shop, purchase_record):
    run_id = store.save(purchase_record, shop)
    model = store.path_of(run_id) / MODEL
    model.write_bytes(model.read_bytes() + b"tampered")
    [info] = store.runs()
    assert not info.ok and "SHA-256" in info.problem
    with pytest.raises(RunIntegrityError, match="SHA-256"):
        store.load(run_id)


def test_broken_runs_are_listed_with_the_reason(store, shop, purchase_record):
    good = store.save(purchase_record, shop)
    missing = store.root / "20260101-000000-purchase-00000000"
    missing.mkdir()
    garbled = store.root / "20260101-000001-recommend-00000001"
    garbled.mkdir()
    (garbled / MANIFEST).write_text("{not json", encoding="utf-8")
    listed = {info.run_id: info for info in store.runs()}
    assert listed[good].ok
    assert listed[missing.name].problem == "manifest.json is missing"
    assert "cannot be read" in listed[garbled.name].problem
    assert listed[garbled.name].task == "recommend"
    with pytest.raises(RunIntegrityError, match="manifest.json is missing"):
        store.load(missing.name)


@pytest.mark.slow
def test_a_save_killed_between_model_and_manifest_leaves_no_run(tmp_path):
    """A real process is killed (os._exit) right after the model file is written."""
    script = textwrap.dedent(
        f"""
        import os
        from core.runs import store as runs
        from core.data.loading import load_shop
        from core.runs import RunStore
        from tests.records import stub_record
        shop = load_shop({str(ROOT / "data" / "sample_events.csv.gz")!r})
        store = RunStore({str(tmp_path / "runs")!r})
        store.save_dataset(shop)
        runs.write_json = lambda *a, **k: os._exit(9)   # dies before the manifest exists
        store.save(stub_record(), shop)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True)
    assert done.returncode == 9, done.stderr.decode()
    store = RunStore(tmp_path / "runs")
    leftovers = [p for p in store.root.iterdir() if p.name.startswith(".staging-")]
    assert len(leftovers) == 1 and (leftovers[0] / MODEL).is_file()
    # Its writer is gone, so the leftover is cleaned up as soon as the runs are listed.
    assert store.runs() == []
    assert not leftovers[0].exists()


@pytest.mark.slow
def test_two_processes_saving_at_the_same_second_keep_both_runs(tmp_path, shop, purchase_record):
    store = RunStore(tmp_path / "runs")
    store.save_dataset(shop)
    script = textwrap.dedent(
        f"""
        import datetime as dt, sys
        from core.runs import RunStore
        from sklearn.linear_model import Ridge
        from tests.records import stub_record
        store = RunStore({str(tmp_path / "runs")!r})
        shop = store.load_dataset({shop.fingerprint!r})
        now = dt.datetime(2026, 11, 28, 10, 15, tzinfo=dt.UTC)
        record = stub_record(estimators={{"model": Ridge(alpha=float(sys.argv[1]))}})
        print(store.save(record, shop, name="run " + sys.argv[1], now=now))
        """
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(alpha)], cwd=ROOT, stdout=subprocess.PIPE
        )
        for alpha in (1, 2)
    ]
    ids = [p.communicate()[0].decode().strip() for p in processes]
    assert all(p.returncode == 0 for p in processes)
    listed = store.runs()
    assert len(set(ids)) == 2 and {info.run_id for info in listed} == set(ids)
    alphas = sorted(store.load(i).estimators["model"].alpha for i in ids)
    assert alphas == [1.0, 2.0]


def test_the_kept_data_comes_back_with_the_same_fingerprint(store, shop):
    store.save_dataset(shop)
    again = store.load_dataset(shop.fingerprint)
    assert again.fingerprint == shop.fingerprint
    pd.testing.assert_frame_equal(again.events.frame, shop.events.frame)
    pd.testing.assert_frame_equal(again.products.frame, shop.products.frame)
    assert again.events.source_name == "events.csv"
    assert again.events.rejected_counts == shop.events.rejected_counts


def test_unknown_data_is_refused_with_one_line(store):
    with pytest.raises(Exception, match="load the same files on the Data page") as err:
        store.load_dataset("0123456789abcdef")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "name",
    ["../evil", "a/b", "a\\b", ".hidden", "tab\x00zero", "x" * 61, "   ", "<script>"],
)
def test_path_unsafe_or_odd_names_are_rejected(name):
    with pytest.raises(RunNameError):
        clean_name(name)


def test_names_keep_letters_of_any_language_and_collapse_spaces():
    assert clean_name("  Größe  64,32 (seed 1) ") == "Größe 64,32 (seed 1)"
    assert clean_name("宽网络 #2") == "宽网络 #2"


def test_tags_are_lower_case_unique_and_checked():
    assert clean_tags("Baseline, wide-net baseline") == ("baseline", "wide-net")
    for bad in ("../x", "a/b", "é", "x" * 31):
        with pytest.raises(RunNameError):
            clean_tags(bad)


@pytest.mark.parametrize(
    "run_id", ["../../etc", "20261128-101500-purchase-1a2b3c4d/../x", "", "runs", "x" * 200]
)
def test_anything_but_a_run_id_is_refused_before_touching_a_path(store, run_id):
    with pytest.raises(RunNotFoundError):
        store.path_of(run_id)
    with pytest.raises(RunNotFoundError):
        check_run_id(run_id)


def test_a_run_can_be_renamed_retagged_and_deleted(store, shop, purchase_record):
    run_id = store.save(purchase_record, shop, name="first", tags=("a",))
    store.update(run_id, name="better name", tags="keep, b")
    info = store.info(run_id)
    assert (info.name, info.tags) == ("better name", ("keep", "b")) and info.ok
    with pytest.raises(RunNameError):
        store.update(run_id, name="../x")
    store.delete(run_id)
    assert store.runs() == []
    with pytest.raises(RunNotFoundError):
        store.load(run_id)


def test_an_older_scikit_learn_version_gives_a_warning(store, shop):
    run_id = store.save(stub_record(), shop)
    manifest = store.info(run_id).manifest
    assert manifest.version_warnings() == ()
    older = dataclasses.replace(manifest, versions={"scikit-learn": "0.1"})
    [warning] = older.version_warnings()
    assert "0.1" in warning


def test_file_slug_is_ascii_and_safe():
    assert file_slug("../Café 64,32") == "cafe-64-32"
    assert file_slug("宽") == "run"
    assert file_slug("宽", fallback="rows") == "rows"
    assert not file_slug("a" * 39 + " b").endswith("-")  # cut at 40 without a dangling dash


# --- bundles --------------------------------------------------------------------------------


def test_a_bundle_imports_as_a_new_run_with_the_same_predictions(
    tmp_path, store, shop, trained, purchase_record
):
    data, models, _ = trained
    run_id = store.save(purchase_record, shop, name="hand-off", tags=("share",))
    bundle = bundles.export_bundle(store, run_id)
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        assert sorted(archive.namelist()) == [MANIFEST, BUNDLE_MODEL]
    other = RunStore(tmp_path / "elsewhere")
    new_id = bundles.import_bundle(other, bundle, shop)
    assert new_id != run_id
    info = other.info(new_id)
    assert info.ok and info.name == "hand-off" and info.tags == ("share",)
    assert info.manifest.imported_from == run_id
    again = purchase_models_from_run(other.load(new_id))
    np.testing.assert_array_equal(
        purchase.predict_all(again, data.evaluation, 30).to_numpy(),
        purchase.predict_all(models, data.evaluation, 30).to_numpy(),
    )


def test_a_bundle_for_other_data_is_refused_unless_that_data_is_kept(
    tmp_path, store, shop, purchase_record
):
    bundle = bundles.export_bundle(store, store.save(purchase_record, shop))
    with pytest.raises(RunIntegrityError, match="other data"):
        bundles.import_bundle(RunStore(tmp_path / "fresh"), bundle, None)
    assert bundles.import_bundle(store, bundle, None)  # this store keeps the data


class Foreign:
    """A type no bundle of ours contains."""


def _bundle(manifest: dict, model: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(MANIFEST, json.dumps(manifest))
        archive.writestr(BUNDLE_MODEL, model)
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _manifest_for(model: bytes, store: RunStore, shop: ShopData) -> dict:
    """A valid manifest (of a stub run) that names ``model`` as its bundle's model."""
    import hashlib

    run_id = store.save(stub_record(), shop, name="foreign")
    manifest = json.loads((store.path_of(run_id) / MANIFEST).read_text())
    store.delete(run_id)
    return {**manifest, "bundle_model_sha256": hashlib.sha256(model).hexdigest()}


def test_a_bundle_with_foreign_types_is_refused_without_running_them(store, shop):
    model = sio.dumps({"model": Foreign()})
    with pytest.raises(RunIntegrityError, match="types this app does not load"):
        bundles.import_bundle(store, _bundle(_manifest_for(model, store, shop), model), shop)
    assert store.runs() == []


@pytest.mark.parametrize(
    "content",
    [
        b"not a zip at all",
        b"\x80\x04\x95pickle-looking bytes",
    ],
)
def test_files_that_are_not_bundles_are_refused_with_one_line(store, shop, content):
    with pytest.raises(RunIntegrityError, match="not a run bundle") as err:
        bundles.import_bundle(store, content, shop)
    assert "\n" not in str(err.value)


def test_a_zip_holding_a_pickle_is_refused(store, shop):
    model = sio.dumps({})
    bundle = _bundle(_manifest_for(model, store, shop), model, {"model.joblib": b"\x80\x04pickle"})
    with pytest.raises(RunIntegrityError, match="not a run bundle"):
        bundles.import_bundle(store, bundle, shop)


def test_a_bundle_whose_model_was_changed_is_refused(store, shop, purchase_record):
    bundle = bundles.export_bundle(store, store.save(purchase_record, shop))
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        manifest = json.loads(archive.read(MANIFEST))
        model = archive.read(BUNDLE_MODEL)
    tampered = _bundle(manifest, model[:-10] + b"0123456789")
    with pytest.raises(RunIntegrityError, match="SHA-256"):
        bundles.import_bundle(store, tampered, shop)


def test_no_staging_folder_is_left_after_a_save(store, shop, purchase_record):
    store.save(purchase_record, shop)
    hidden = [p.name for p in store.root.iterdir() if p.name.startswith(".")]
    assert hidden == []
    assert os.listdir(store.root / "_datasets") == [shop.fingerprint]


# --- odd manifests, kept data and folders ------------------------------------------------


def _edit_manifest(store: RunStore, run_id: str, change) -> None:
    path = store.path_of(run_id) / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


WRONG_TYPES = {
    "tags that are not text": lambda m: m.update(tags=[1, None]),
    "a tag with markup": lambda m: m.update(tags=["<b>x</b>"]),
    "a name with markup": lambda m: m.update(name="<a href='x'>click</a>"),
    "a creation time that is no date": lambda m: m.update(created="yesterday"),
    "a creation time without a zone": lambda m: m.update(created="2026-01-01T00:00:00"),
    "curves as a list": lambda m: m.update(curves=[1]),
    "curves of unequal length": lambda m: m["curves"]["regressor"].update(epoch=[1]),
    "scores as a list": lambda m: m.update(metrics={"mlp": [1]}),
    "a score as text": lambda m: m["metrics"]["mlp"].update(mse="low"),
    "the network as text": lambda m: m["config"].update(network="64,32"),
    "hidden layers as text": lambda m: m["config"]["network"].update(hidden_layers="64"),
    "a numeric fingerprint": lambda m: m["dataset"].update(fingerprint=5),
    "a file name as a number": lambda m: m["dataset"].update(events_file=5),
    "details as a list": lambda m: m.update(details=[]),
    "training time as text": lambda m: m.update(train_seconds="fast"),
}


@pytest.mark.parametrize("change", WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
def test_a_manifest_with_wrong_types_is_listed_as_broken_and_the_table_still_builds(
    store, shop, purchase_record, change
):
    run_id = store.save(purchase_record, shop)
    _edit_manifest(store, run_id, change)
    [info] = store.runs()
    assert not info.ok and info.manifest is None
    assert "manifest.json" in info.problem and "\n" not in info.problem
    table = runs_table(store.runs())
    assert table["status"].iloc[0].startswith("broken: ")
    with pytest.raises(RunIntegrityError):
        store.load(run_id)


def test_a_run_folder_named_with_an_impossible_date_is_listed_as_broken(store, shop):
    store.save_dataset(shop)
    (store.root / "20261399-999999-purchase-00000000").mkdir()
    [info] = store.runs()
    assert info.problem == "manifest.json is missing"
    assert runs_table([info])["status"].iloc[0] == "broken: manifest.json is missing"


def test_run_ids_are_ascii_digits_only():
    with pytest.raises(RunNotFoundError):
        check_run_id("٢٠٢٦١١٢٨-101500-purchase-1a2b3c4d")


def test_a_deeply_nested_manifest_is_listed_as_broken(store, shop, purchase_record):
    run_id = store.save(purchase_record, shop)
    (store.path_of(run_id) / MANIFEST).write_text("[" * 100_000 + "]" * 100_000)
    [info] = store.runs()
    assert not info.ok and "cannot be read" in info.problem


def test_scores_of_runs_without_any_are_numbers_in_the_table(store, shop):
    from sklearn.linear_model import Ridge

    record = stub_record("recommend", estimators={"ranker": Ridge()}, evaluate=False)
    store.save(record, shop)
    table = runs_table(store.runs())
    for column in ("mse", "accuracy", "ndcg", "baseline_mse", "baseline_ndcg"):
        assert table[column].dtype == float, column


@pytest.mark.parametrize("part", ["events.parquet", "events_rejected.parquet", "dataset.json"])
def test_kept_data_with_a_deleted_or_damaged_file_is_refused_with_one_line(store, shop, part):
    folder = store.save_dataset(shop)
    if part == "dataset.json":
        (folder / part).write_text("{half", encoding="utf-8")
    else:
        (folder / part).unlink()
    with pytest.raises(RunIntegrityError, match="load the same files on the Data page") as err:
        store.load_dataset(shop.fingerprint)
    assert "\n" not in str(err.value)


def test_data_that_parquet_cannot_hold_still_saves_the_run(store, shop):
    from sklearn.linear_model import Ridge

    products = shop.products.frame.copy()
    products["notes"] = [1 if i % 2 else "text" for i in range(len(products))]  # as from Excel
    odd = ShopData(shop.events, dataclasses.replace(shop.products, frame=products), "0" * 16)
    run_id = store.save(stub_record(estimators={"model": Ridge()}), odd)
    assert store.info(run_id).ok
    assert not store.has_dataset(odd.fingerprint)
    assert [p.name for p in (store.root / "_datasets").iterdir()] == []


def test_an_unwritable_runs_folder_gives_a_one_line_run_error(tmp_path, shop, purchase_record):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    store = RunStore(blocker / "runs")
    with pytest.raises(RunWriteError, match="cannot be written") as err:
        store.save(purchase_record, shop)
    assert "\n" not in str(err.value) and "SHOPLENS_RUNS_DIR" in str(err.value)
    assert store.runs() == []


def test_renaming_or_deleting_in_a_folder_that_cannot_be_written_gives_a_run_error(
    store, shop, purchase_record, monkeypatch
):
    run_id = store.save(purchase_record, shop)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("core.runs.serial.atomic_write_bytes", refuse)
    with pytest.raises(RunWriteError, match="cannot be written"):
        store.update(run_id, name="new")
    monkeypatch.setattr("core.runs.store.os.rename", refuse)
    with pytest.raises(RunWriteError, match="cannot be written"):
        store.delete(run_id)
    assert store.info(run_id).name != "new"


def test_a_model_file_swapped_right_after_its_hash_check_is_never_unpickled(
    store, shop, purchase_record, monkeypatch
):
    import core.runs.store as store_module

    run_id = store.save(purchase_record, shop)
    model_file = store.path_of(run_id) / MODEL
    original = model_file.read_bytes()
    swaps, real_sha256 = [], hashlib.sha256

    def hash_then_swap(data=b""):
        digest = real_sha256(data)
        if data == original:  # the moment the bytes were checked, an attacker swaps the file
            model_file.write_bytes(b"\x80\x04K\x01.")
            swaps.append(len(data))
        return digest

    monkeypatch.setattr(store_module.hashlib, "sha256", hash_then_swap)
    loaded = store.load(run_id)
    assert swaps == [len(original)]  # the check ran on the model's bytes and the swap happened
    assert model_file.read_bytes() != original
    assert isinstance(loaded.estimators, dict) and "regressor" in loaded.estimators
    monkeypatch.undo()
    with pytest.raises(RunIntegrityError, match="SHA-256 differs"):  # the swapped file itself
        store.load(run_id)


def _zip_with(entries: dict[str, bytes], *, encrypted: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    data = bytearray(buffer.getvalue())
    if encrypted:  # mark every entry as encrypted, in its local and its central header
        for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            start = data.find(signature)
            while start != -1:
                data[start + offset] |= 0x1
                start = data.find(signature, start + 4)
    return bytes(data)


def test_a_damaged_encrypted_or_nested_bundle_is_refused_with_one_line(
    store, shop, purchase_record
):
    bundle = bundles.export_bundle(store, store.save(purchase_record, shop))
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    stored = _zip_with(parts)
    start = stored.index(parts[BUNDLE_MODEL][:64]) + 100
    damaged = stored[:start] + bytes([stored[start] ^ 0xFF]) + stored[start + 1 :]  # bad CRC
    nested = _zip_with({MANIFEST: b"[" * 100_000 + b"]" * 100_000, BUNDLE_MODEL: b"x"})
    for data in (damaged, _zip_with(parts, encrypted=True), nested):
        with pytest.raises(RunIntegrityError) as err:
            bundles.import_bundle(store, data, shop)
        assert "\n" not in str(err.value)
    assert len(store.runs()) == 1


def test_a_save_given_a_time_without_a_zone_is_kept_in_utc(store, shop, purchase_record):
    run_id = store.save(purchase_record, shop, now=dt.datetime(2026, 11, 28, 10, 15))
    info = store.info(run_id)
    assert info.ok and info.created == pd.Timestamp("2026-11-28 10:15", tz="UTC")


@pytest.mark.slow
def test_a_recommender_run_with_other_ranker_inputs_is_refused_with_one_line(store, shop):
    events, products = shop.events.frame, shop.products.frame
    cutoff = pd.Timestamp("2026-10-02")
    config = recommend.RecommenderConfig(network=CONFIG, candidates=10, negatives=5)
    fitted = recommend.fit_recommender(
        events, products, cutoff=cutoff, horizon_days=30, config=config
    )
    record = recommender_run_record(
        fitted, None, cutoff=cutoff, horizon_days=30, k=5, stopped=False
    )
    run_id = store.save(record, shop)
    manifest_path = store.path_of(run_id) / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["details"]["pair_features"] = manifest["details"]["pair_features"][:-1]
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(RunIntegrityError, match="other ranker inputs") as err:
        recommender_from_run(store.load(run_id), events, products)
    assert "\n" not in str(err.value)


def test_a_purchase_run_with_other_inputs_is_refused_with_one_line(store, shop, trained):
    data, models, _ = trained
    fewer = dataclasses.replace(data, feature_names=data.feature_names[:-1])
    check_run_inputs("x", models, data)  # the same inputs pass
    with pytest.raises(RunIntegrityError, match="other inputs") as err:
        check_run_inputs("x", models, fewer)
    assert "\n" not in str(err.value)


def test_a_runs_folder_that_cannot_be_read_gives_one_line(tmp_path, monkeypatch):
    folder = tmp_path / "runs"
    folder.mkdir()

    def refuse(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "iterdir", refuse)
    with pytest.raises(RunError, match="cannot be read") as err:
        RunStore(folder).runs()
    assert "\n" not in str(err.value) and "Permission denied" in str(err.value)
