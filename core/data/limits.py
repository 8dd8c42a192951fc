"""Bounded decompression: a compressed file or archive member may expand only so far.

Real exports compress about 5-20 times; a file that expands far more (a decompression bomb) is
refused with one line before it can fill the server's memory. The limits are settings: how many
times its compressed size it may expand (``SHOPLENS_MAX_EXPANSION``) and to how many MB
(``SHOPLENS_MAX_EXPANDED_MB``). Small files get a floor, since a tiny table can compress far
better than a large one.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from typing import Final

from core.config import load_settings
from core.data.blobs import Blob, Spool
from core.errors import CorruptFileError, ExpansionLimitError

RATIO_FLOOR_BYTES: Final = 1024 * 1024  # anything may expand to 1 MB, whatever its ratio
_MB: Final = 1024 * 1024
_GZIP_MAGIC: Final = b"\x1f\x8b"
_NOT_ZERO: Final = re.compile(rb"[^\x00]")
_CHUNK: Final = 1024 * 1024
TABLE_ADVICE: Final = "upload the table uncompressed, or raise the setting if the file is genuine"


@dataclass(frozen=True)
class Budget:
    """How far compressed input may expand: ``ratio`` times its size, at most ``max_bytes``."""

    ratio: float
    max_bytes: int

    @classmethod
    def from_settings(cls) -> Budget:
        """The limits of the current settings."""
        settings = load_settings()
        return cls(settings.max_expansion_ratio, settings.max_expanded_mb * _MB)

    @classmethod
    def for_disk(cls) -> Budget:
        """The limits for content unpacked to disk, a piece at a time (datasets): the ratio
        of the settings, without their size cap, which keeps the server's memory."""
        return cls(load_settings().max_expansion_ratio, 2**62)

    def allowed(self, compressed: int) -> int:
        """The most bytes ``compressed`` bytes may expand to."""
        return min(self.max_bytes, max(int(self.ratio * compressed), RATIO_FLOOR_BYTES))

    def refusal(
        self, what: str, compressed: int, advice: str = TABLE_ADVICE
    ) -> ExpansionLimitError:
        """The one-line error for ``what`` (a quoted name) expanding past its allowance, ending
        in ``advice`` (what to do)."""
        limit = self.allowed(compressed)
        return ExpansionLimitError(
            f"{what} expands to more than {limit / _MB:,.0f} MB from {compressed / 1024:,.0f} KB "
            f"compressed; ShopLens unpacks at most {self.ratio:g} times a file's size (setting "
            f"SHOPLENS_MAX_EXPANSION) and {self.max_bytes / _MB:,.0f} MB (setting "
            f"SHOPLENS_MAX_EXPANDED_MB): {advice}."
        )


def inflate_gzip(data: Blob, what: str, budget: Budget) -> Blob:
    """The content of gzip ``data`` (every member), unpacked a chunk at a time into a spool
    and refused once past the budget.

    Raises:
        ExpansionLimitError: it expands past ``budget.allowed(len(data))``.
        CorruptFileError: it is damaged or cut short.
    """
    view = memoryview(data)
    position = 0
    with Spool(budget.allowed(len(data)), lambda: budget.refusal(what, len(data))) as spool:
        try:
            while view[position : position + 2] == _GZIP_MAGIC:
                inflater = zlib.decompressobj(wbits=31)
                while not inflater.eof and position < len(data):
                    pending: bytes | memoryview = view[position : position + _CHUNK]
                    position += len(pending)
                    while pending or not inflater.eof:
                        part = inflater.decompress(pending, _CHUNK)
                        spool.write(part)
                        pending = inflater.unconsumed_tail
                        if not pending and len(part) < _CHUNK:
                            break  # this piece is used up and nothing more is held back
                if not inflater.eof:
                    raise CorruptFileError(
                        f"{what} looks gzip-compressed but cannot be unpacked (it is cut "
                        "short); compress it again or upload the plain CSV."
                    )
                position -= len(inflater.unused_data)
                padding = _NOT_ZERO.search(data, position)  # members may be padded with zeros
                position = padding.start() if padding else len(data)
        except zlib.error as err:
            raise CorruptFileError(
                f"{what} looks gzip-compressed but cannot be unpacked "
                f"({' '.join(str(err).split())}); compress it again or upload the plain CSV."
            ) from None
        return spool.mapped()


def check_members(
    archive: zipfile.ZipFile, what: str, budget: Budget, advice: str = TABLE_ADVICE
) -> None:
    """Refuse a zip (a bundle, a workbook, a zipped table) any of whose members, or all of them
    together, would expand past the budget, before a reader unpacks it whole.

    The declared sizes are checked first; then every member is unpacked a chunk at a time and
    thrown away, which proves the declared sizes true (``zipfile`` stops at a member's declared
    size, and a member that holds more fails its CRC check) with bounded memory.

    Raises:
        ExpansionLimitError: naming the first member past its allowance.
        zipfile.BadZipFile: a member holds more or other bytes than declared (the caller says
            the file is damaged).
    """
    infos = [info for info in archive.infolist() if not info.is_dir()]
    for info in infos:
        if info.file_size > budget.allowed(info.compress_size):
            raise budget.refusal(f"{what} (member '{info.filename}')", info.compress_size, advice)
    packed = sum(info.compress_size for info in infos)
    if sum(info.file_size for info in infos) > budget.allowed(packed):
        raise budget.refusal(what, packed, advice)
    for info in infos:
        with archive.open(info) as member:
            while member.read(_CHUNK):
                pass


def read_member(archive: zipfile.ZipFile, name: str, what: str, budget: Budget) -> Blob:
    """One member's content, unpacked a chunk at a time into a spool and refused once past the
    budget."""
    info = archive.getinfo(name)
    limit = budget.allowed(info.compress_size)
    if info.file_size > limit:
        raise budget.refusal(what, info.compress_size)
    with (
        Spool(limit, lambda: budget.refusal(what, info.compress_size)) as spool,
        archive.open(info) as member,
    ):
        while chunk := member.read(_CHUNK):
            spool.write(chunk)
        return spool.mapped()
