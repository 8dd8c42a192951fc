"""Photo files built inside a test: a small PNG of one colour, a PNG whose header claims more
pixels than it holds (a decompression bomb), and a zip of named entries."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import Image


def png(colour: tuple[int, int, int], size: int = 32) -> bytes:
    """A ``size``×``size`` PNG of one colour."""
    out = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(out, "PNG")
    return out.getvalue()


def huge_png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width``×``height`` pixels (its data is a stub)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")


def zip_of(entries: dict[str, bytes]) -> bytes:
    """A deflated zip of these entries, by name (names are written as given, unsafe ones too)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()
