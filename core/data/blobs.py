"""A file's content without holding it in memory: unpacked or re-encoded text goes to an
unnamed temporary file, a chunk at a time, and is read back through a read-only memory map.

The operating system then keeps only the pages being read in memory, and can drop them again,
so a large expanded file costs disk, not the server's memory. The temporary file has no name
from the start, so nothing is left behind, even when the process is killed.
"""

from __future__ import annotations

import codecs
import io
import mmap
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import BinaryIO, Final

Blob = bytes | mmap.mmap  # a file's content: bytes in memory, or a mapped file
CHUNK: Final = 1024 * 1024


class Spool:
    """Bytes written a chunk at a time to an unnamed temporary file, then mapped; used as a
    context manager, so the file is dropped however the writing ends.

    Args:
        limit: the most bytes it may hold (None: no limit).
        refuse: the error to raise once more than ``limit`` bytes are written.
    """

    def __init__(
        self, limit: int | None = None, refuse: Callable[[], Exception] | None = None
    ) -> None:
        self._file = tempfile.TemporaryFile()
        self._limit = limit
        self._refuse = refuse
        self.size = 0

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def write(self, part: bytes | memoryview) -> None:
        """Add ``part``, refusing it when it takes the content past the limit."""
        self.size += len(part)
        if self._limit is not None and self.size > self._limit:
            raise self._refuse() if self._refuse is not None else ValueError("spool is full")
        self._file.write(part)

    def mapped(self) -> Blob:
        """The content written, mapped read-only (empty content as ``b""``, which cannot be
        mapped); the map stays readable once the spool is closed."""
        self._file.flush()
        if self.size == 0:
            return b""
        return mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)

    def close(self) -> None:
        """Drop the temporary file (a map made from it stays readable)."""
        self._file.close()


def map_descriptor(handle: int) -> Blob:
    """The content of the open regular file ``handle``, mapped read-only (an empty file, or one
    that reports no size such as those under /proc, is read instead)."""
    if os.fstat(handle).st_size == 0:
        with os.fdopen(os.dup(handle), "rb") as file:
            return file.read()
    return mmap.mmap(handle, 0, access=mmap.ACCESS_READ)


def open_blob(data: Blob) -> BinaryIO:
    """``data`` as a seekable file read from its start, without copying it."""
    if isinstance(data, bytes):
        return io.BytesIO(data)
    return io.BufferedReader(_MapReader(data), CHUNK)


class _MapReader(io.RawIOBase):
    """A mapped file read as a raw stream (a map itself has no ``seekable``)."""

    def __init__(self, data: mmap.mmap) -> None:
        super().__init__()
        self._view = memoryview(data)
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: len(self._view)}
        self._position = max(0, base[whence] + offset)
        return self._position

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        part = self._view[self._position : self._position + len(buffer)]
        buffer[: len(part)] = part
        self._position += len(part)
        return len(part)


def chunks(data: Blob) -> Iterator[memoryview]:
    """``data`` in pieces of ``CHUNK`` bytes, without copying."""
    view = memoryview(data)
    size = CHUNK
    for offset in range(0, len(data), size):
        yield view[offset : offset + size]


def is_blank(data: Blob) -> bool:
    """Whether ``data`` holds nothing but whitespace."""
    return not any(bytes(piece).strip() for piece in chunks(data))


def transcode(data: Blob, encoding: str) -> Blob:
    """``data`` decoded from ``encoding`` (undecodable bytes replaced, a BOM dropped) and
    encoded as UTF-8, a chunk at a time."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with Spool() as spool:
        for piece in chunks(data):
            spool.write(decoder.decode(piece).encode("utf-8"))
        spool.write(decoder.decode(b"", final=True).encode("utf-8"))
        return spool.mapped()


def first_undecodable(data: Blob, encoding: str) -> int | None:
    """The offset of the first byte of ``data`` that ``encoding`` cannot decode, or None."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    for piece in [*chunks(data), memoryview(b"")]:
        # An unfinished character kept from the previous piece is decoded in front of this one.
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(piece, final=not piece)
        except UnicodeDecodeError as err:
            return max(0, offset - pending + err.start)
        offset += len(piece)
    return None
