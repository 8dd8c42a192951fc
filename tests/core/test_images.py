"""Product photos: hostile zips, the checkpoint reader, the network graph, models and the CLI."""

from __future__ import annotations

import collections
import io
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core import cli
from core.images import effnet, embed, models, reading, weights
from core.images.weights import CheckpointError, read_legacy_checkpoint
from core.runs import RunStore
from tests.pages.apptest import RUNS, run_page
from tests.photos import huge_png_header, png, zip_of


def test_hostile_zip_entries_are_skipped_each_with_its_reason() -> None:
    data = zip_of(
        {
            "red.png": png((255, 0, 0)),
            "../escape.png": png((0, 255, 0)),
            "/etc/absolute.png": png((0, 255, 0)),
            "__MACOSX/._red.png": b"junk",
            "bomb.png": huge_png_header(30_000, 30_000),
            "notes.png": b"this is not an image",
            "folder/red.png": png((250, 0, 0)),
            "readme.txt": b"hello",
        }
    )
    photos = reading.read_photo_zip(data)
    assert [photo.item_id for photo in photos.photos] == ["red"]
    reasons = {entry.name: entry.reason for entry in photos.skipped}
    assert reasons["../escape.png"].startswith("unsafe path: contains '..'")
    assert reasons["/etc/absolute.png"].startswith("unsafe path: absolute")
    assert reasons["__MACOSX/._red.png"].startswith("hidden file or folder")
    assert reasons["bomb.png"].startswith("too many pixels")
    assert reasons["notes.png"].startswith("not an image")
    assert reasons["folder/red.png"].startswith("duplicate item id")
    assert reasons["readme.txt"].startswith("not an image")
    assert photos.duplicates == 1


def test_zip_entry_expanding_far_past_its_packed_size_is_skipped_unread() -> None:
    data = zip_of({"bomb.jpg": b"\0" * (8 * 1024 * 1024), "blue.png": png((0, 0, 255))})
    photos = reading.read_photo_zip(data)
    assert [photo.item_id for photo in photos.photos] == ["blue"]
    assert photos.skipped[0].reason.startswith("too large")


def test_zip_without_any_usable_photo_is_refused_with_one_line() -> None:
    with pytest.raises(reading.ImageInputError, match="no usable photo .*1 not an image"):
        reading.read_photo_zip(zip_of({"a.png": b"nope"}))
    with pytest.raises(reading.ImageInputError, match="not a zip file"):
        reading.read_photo_zip(b"plain bytes")


def test_list_refuses_paths_outside_its_folder(tmp_path: Path) -> None:
    (tmp_path / "inside").mkdir()
    (tmp_path / "inside" / "a.png").write_bytes(png((255, 0, 0)))
    (tmp_path / "outside.png").write_bytes(png((255, 0, 0)))
    listing = tmp_path / "inside" / "list.csv"
    listing.write_text("path,label\na.png,red\n../outside.png,red\n/etc/passwd.png,red\n")
    photos = reading.read_photo_list(listing, label="label")
    assert [(p.item_id, p.label) for p in photos.photos] == [("a", "red")]
    assert [s.reason for s in photos.skipped] == ["unsafe path: outside the list's folder"] * 2


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
def test_list_skips_a_named_pipe_instead_of_waiting_on_it(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(png((255, 0, 0)))
    os.mkfifo(tmp_path / "pipe.png")
    listing = tmp_path / "list.csv"
    listing.write_text("path,label\na.png,red\npipe.png,red\nmissing.png,red\n")
    photos = reading.read_photo_list(listing, label="label")
    assert [p.item_id for p in photos.photos] == ["a"]
    assert [s.reason.split(":")[0] for s in photos.skipped] == ["not a file", "missing file"]


def test_exif_rotation_is_applied_and_images_are_shrunk() -> None:
    image = Image.new("RGB", (1000, 400), (255, 0, 0))
    exif = image.getexif()
    exif[0x0112] = 6  # rotated 90 degrees
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    decoded = reading.decode_photo(out.getvalue())
    assert decoded.size == (reading.SHRINK_TO * 400 // 1000, reading.SHRINK_TO)
    assert decoded.mode == "RGB"


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return os.system, ("echo pwned",)


def _legacy_file(state: object) -> bytes:
    out = io.BytesIO()
    for header in (weights.LEGACY_MAGIC, 1001, {"little_endian": True}):
        pickle.dump(header, out, protocol=2)
    pickle.dump(state, out, protocol=2)
    pickle.dump([], out, protocol=2)
    return out.getvalue()


def test_checkpoint_reader_refuses_a_forbidden_global() -> None:
    data = _legacy_file(collections.OrderedDict(weight=_Evil()))
    with pytest.raises(CheckpointError, match="'posix.system'|'os.system'|'nt.system'"):
        read_legacy_checkpoint(io.BytesIO(data))


def test_checkpoint_reader_refuses_a_file_that_is_not_a_checkpoint() -> None:
    with pytest.raises(CheckpointError):
        read_legacy_checkpoint(io.BytesIO(pickle.dumps(42, protocol=2) + b"rest"))


def _tiny_network(seed: int = 0) -> effnet.EffNetLite0:
    """A network of Lite0's shape with few channels and random weights."""
    rng = np.random.default_rng(seed)

    def conv(
        out: int, inputs: int, kernel: int, stride: int, groups: int, relu: bool
    ) -> effnet.Conv:
        weight = rng.normal(0, 0.3, (out, inputs // groups, kernel, kernel)).astype(np.float32)
        return effnet.Conv(weight, rng.normal(0, 0.1, out).astype(np.float32), stride, groups, relu)

    blocks = (
        effnet.Block((conv(4, 4, 3, 1, 4, True), conv(4, 4, 1, 1, 1, False)), True),
        effnet.Block(
            (conv(8, 4, 1, 1, 1, True), conv(8, 8, 5, 2, 8, True), conv(6, 8, 1, 1, 1, False)),
            False,
        ),
    )
    return effnet.EffNetLite0(
        conv(4, 3, 3, 2, 1, True),
        blocks,
        conv(10, 6, 1, 1, 1, True),
        rng.normal(size=(1000, 10)).astype(np.float32),
        np.zeros(1000, np.float32),
    )


def test_onnx_graph_matches_the_numpy_forward_pass() -> None:
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    network = _tiny_network()
    session = embed.open_session(effnet.build_graph(network))
    image = np.random.default_rng(1).normal(size=(1, 3, 23, 17)).astype(np.float32)
    features, logits = session.run(None, {effnet.INPUT: image})
    expected_features, expected_logits = effnet.forward_numpy(network, image[0])
    assert features.shape == (1, 10)
    np.testing.assert_allclose(features[0], expected_features, atol=1e-4)
    np.testing.assert_allclose(logits[0], expected_logits, atol=1e-3)


def test_installed_network_graph_matches_numpy(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    path = embed.weights_path()
    if path is None:
        pytest.skip("the weights package is not installed")
    network = embed.load_network(path)
    session = embed.open_session(embed.graph_file(tmp_path, path))
    assert embed.check_graph(session, network, size=48) < 1e-4


def test_embedder_without_a_cache_folder_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    if embed.weights_path() is None:
        pytest.skip("the weights package is not installed")
    monkeypatch.chdir(tmp_path)
    assert embed.load_embedder(None).kind == embed.CNN
    assert list(tmp_path.iterdir()) == []


def _blob_photos(count: int, seed: int) -> list[reading.Photo]:
    rng = np.random.default_rng(seed)
    photos = []
    for index in range(count):
        label = "red" if index % 2 else "blue"
        base = (200, 30, 30) if label == "red" else (30, 30, 200)
        pixels = np.clip(rng.normal(base, 25, (24, 24, 3)), 0, 255).astype(np.uint8)
        out = io.BytesIO()
        Image.fromarray(pixels).save(out, "PNG")
        data = out.getvalue()
        photos.append(reading.Photo(f"{seed}-{index}", data, str(hash(data)), label))
    return photos


def test_colour_blob_categories_are_learnt_perfectly_with_colour_features(tmp_path: Path) -> None:
    train, test = _blob_photos(40, 0), _blob_photos(20, 1)
    embedder = embed.ColourEmbedder()
    fitted = embed.embed_photos(train, embedder, cache_dir=tmp_path, mirrored=True)
    scored = embed.embed_photos(test, embedder, cache_dir=tmp_path, mirrored=True)
    assert fitted.kind == embed.COLOUR and fitted.computed == 40
    again = embed.embed_photos(train, embedder, cache_dir=tmp_path, mirrored=True)
    assert again.computed == 0
    np.testing.assert_array_equal(again.vectors, fitted.vectors)
    labels = np.array([p.label for p in train])
    test_labels = np.array([p.label for p in test])
    config = models.DEFAULT_NETWORK.__class__(hidden_layers=(8,), epochs=30, learning_rate=1e-2)
    fitted_models = models.train_image_models(
        fitted.vectors, labels, mirrored=fitted.mirrored, config=config
    )
    scores = models.score_image_models(
        fitted_models, scored.vectors, test_labels, mirrored=scored.mirrored
    )
    assert scores[models.MLP].accuracy == 1.0
    assert scores[models.MLP].macro_f1 == 1.0
    assert scores[models.MAJORITY].accuracy == 0.5
    assert scores[models.MLP].confusion.tolist() == [[10, 0], [0, 10]]
    assert models.similar_precision_at_k(fitted.vectors, labels, scored.vectors, test_labels) == 1.0


def test_similarity_space_is_the_last_hidden_layer_averaged_with_the_mirror_image() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.random((24, 5))
    mirrored = vectors + rng.normal(0, 0.05, vectors.shape)
    labels = np.array(["a", "b", "c"] * 8)
    config = models.DEFAULT_NETWORK.__class__(
        hidden_layers=(6, 3), activation="tanh", epochs=3, validation_fraction=0.0
    )
    fitted = models.train_image_models(vectors, labels, config=config)
    network = fitted.mlp[-1]

    def by_hand(rows: np.ndarray) -> np.ndarray:
        prepared = fitted.mlp[:-1].transform(rows)
        first = np.tanh(prepared @ network.coefs_[0] + network.intercepts_[0])
        return np.tanh(first @ network.coefs_[1] + network.intercepts_[1])

    space = fitted.similarity_space(vectors)
    assert space.shape == (24, 3)
    np.testing.assert_allclose(space, by_hand(vectors))
    np.testing.assert_allclose(
        fitted.similarity_space(vectors, mirrored), (by_hand(vectors) + by_hand(mirrored)) / 2
    )


def test_scores_count_top3_and_unseen_labels_by_hand() -> None:
    probabilities = np.array([[0.5, 0.3, 0.2, 0.0], [0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]])
    scores = models.score_probabilities(probabilities, np.array([0, 0, 3]))
    assert scores.accuracy == pytest.approx(1 / 3)
    assert scores.top3_accuracy == pytest.approx(1 / 3)


def _photo_list(folder: Path, photos: list[reading.Photo]) -> Path:
    rows = ["path,category"]
    for photo in photos:
        (folder / f"{photo.item_id}.png").write_bytes(photo.data)
        rows.append(f"{photo.item_id}.png,{photo.label}")
    listing = folder / "list.csv"
    listing.write_text("\n".join(rows) + "\n")
    return listing


def test_cli_images_train_prints_the_json_keys_and_saves_a_run(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    runs_dir: Path,
) -> None:
    monkeypatch.setenv("SHOPLENS_CACHE_DIR", str(tmp_path / "cache"))
    listing = _photo_list(tmp_path, _blob_photos(40, 0))
    code = cli.main(
        [
            "images",
            "train",
            str(listing),
            "--label",
            "category",
            "--colour-features",
            "--hidden",
            "8",
            "--epochs",
            "20",
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert {
        "images",
        "test_images",
        "classes",
        "models",
        "similar_precision_at_5",
        "embed_seconds_per_image",
        "train_seconds",
    } <= set(summary)
    assert summary["images"] + summary["test_images"] == 40
    assert summary["classes"] == 2
    assert set(summary["models"]) == {"mlp", "logistic", "knn", "majority"}
    assert set(summary["models"]["mlp"]) == {"accuracy", "top3_accuracy", "macro_f1"}
    saved = RunStore(runs_dir).load(summary["run_id"])
    assert saved.task == "images"
    assert saved.manifest.dataset.events_file == listing.name
    assert len(saved.manifest.details.classes) == 2
    at = run_page(RUNS)  # the Runs page lists it beside the others, without its photos
    assert not at.exception and not at.error
    assert summary["run_id"] in set(at.dataframe[0].value["run_id"])


def test_cli_images_train_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = _photo_list(tmp_path, _blob_photos(6, 0))
    assert cli.main(["images", "train", str(listing), "--label", "missing"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "no column 'missing'" in error
    assert cli.main(["images", "train", str(tmp_path / "none.csv"), "--label", "x"]) == 2
    assert "does not exist" in capsys.readouterr().err
