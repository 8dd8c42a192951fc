"""Unpacked and re-encoded content goes through a temporary file a chunk at a time; these
check the chunk edges, where a character or a gzip member may be cut in two."""

from __future__ import annotations

import gzip
import io
import os
import zipfile

import pytest

from core.data import blobs
from core.data.blobs import Spool, first_undecodable, is_blank, map_descriptor, open_blob, transcode
from core.data.limits import Budget, inflate_gzip, read_member

TEXT = "用户,商品\n张三,苹果 🍎\nZoë,crème brûlée\n" * 5


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pieces of 7 bytes, so that multi-byte characters are cut between pieces."""
    monkeypatch.setattr(blobs, "CHUNK", 7)


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-16", "cp1252"])
def test_transcoding_across_pieces_gives_the_whole_text_in_utf8(small_chunks, encoding):
    text = TEXT if encoding != "cp1252" else "Zoë,crème brûlée\n" * 5
    data = text.encode(encoding)
    assert transcode(data, encoding)[:] == text.encode("utf-8")


def test_the_first_undecodable_byte_is_found_after_a_character_cut_between_pieces(small_chunks):
    good = "a€b€".encode()  # € is three bytes: the second one straddles the 7-byte pieces
    data = good + b"\xff" + b"tail"
    assert first_undecodable(data, "utf-8") == len(good)
    assert first_undecodable(good, "utf-8") is None
    assert first_undecodable(good[:-1], "utf-8") == len(good) - 3  # cut short at the end


def test_gzip_members_padded_with_zeros_are_all_unpacked(small_chunks):
    data = gzip.compress(b"user,item\n1,2\n") + b"\x00" * 20 + gzip.compress(b"3,4\n" * 50)
    inflated = inflate_gzip(data, "'x.gz'", Budget(ratio=100, max_bytes=1 << 20))
    assert inflated[:] == b"user,item\n1,2\n" + b"3,4\n" * 50


def test_a_zip_member_is_read_back_whole_and_a_mapped_zip_can_be_opened(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("events.csv", TEXT)
    path = tmp_path / "events.zip"
    path.write_bytes(buffer.getvalue())
    handle = os.open(path, os.O_RDONLY)
    try:
        mapped = map_descriptor(handle)
    finally:
        os.close(handle)
    with zipfile.ZipFile(open_blob(mapped)) as archive:
        member = read_member(archive, "events.csv", "'events.zip'", Budget(100, 1 << 20))
    assert member[:] == TEXT.encode()


def test_an_empty_file_is_read_not_mapped(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    handle = os.open(path, os.O_RDONLY)
    try:
        assert map_descriptor(handle) == b""
    finally:
        os.close(handle)


def test_a_spool_refuses_past_its_limit_and_blank_content_is_seen_across_pieces(small_chunks):
    spool = Spool(limit=10, refuse=lambda: OverflowError("too big"))
    spool.write(b"0123456789")
    with pytest.raises(OverflowError):
        spool.write(b"x")
    assert is_blank(b" \n\t" * 10)
    assert not is_blank(b" " * 20 + b"x")


def test_a_gzip_inside_a_zip_is_unpacked_and_named_in_order():
    from core.data.reading import read_table

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("events.csv.gz", gzip.compress(b"user_id,timestamp\nu1,2024-01-01\n"))
    raw = read_table(buffer.getvalue(), name="export.zip")
    assert raw.frame["user_id"].tolist() == ["u1"]
    assert raw.source_name == "export.zip/events.csv.gz"
    assert raw.describe().startswith("CSV in gzip in zip")
