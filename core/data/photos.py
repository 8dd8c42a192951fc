"""A shop's product photos as read: each photo's item id, bytes and digest, and the entries
left out with their reason (``core.images.reading`` reads them safely)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Photo:
    """One readable photo: its id, label (from a list), file bytes and their SHA-256."""

    item_id: str
    data: bytes
    digest: str
    label: str | None = None
    name: str = ""


@dataclass(frozen=True)
class Skipped:
    """An entry that was not read, and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class PhotoSet:
    """The photos read and what was left out.

    Attributes:
        photos: the usable photos, one per item id (the first of duplicates).
        skipped: entries left out with their reason (duplicate ids among them).
        listed: the label columns of a list inside a zip (``path,item_id,...``): column ->
            item id -> value (empty without a list).
    """

    photos: tuple[Photo, ...]
    skipped: tuple[Skipped, ...] = ()
    listed: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def duplicates(self) -> int:
        """Entries left out because an earlier one had the same item id."""
        return sum(s.reason.startswith("duplicate") for s in self.skipped)

    def reasons(self) -> dict[str, int]:
        """How many entries were skipped for each kind of reason (the text before ':')."""
        counts: dict[str, int] = {}
        for entry in self.skipped:
            kind = entry.reason.split(":")[0]
            counts[kind] = counts.get(kind, 0) + 1
        return counts
