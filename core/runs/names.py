"""Run names, tags and ids: what a user may type, and ids that are safe in a path."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from typing import Final, Literal

from core.data.exports import file_stem
from core.errors import RunNameError, RunNotFoundError

Task = Literal["purchase", "recommend", "images"]
TASKS: Final[tuple[Task, ...]] = ("purchase", "recommend", "images")
TASK_LABELS: Final = {
    "purchase": "Purchase prediction",
    "recommend": "Recommendations",
    "images": "Product photos",
}


MAX_NAME: Final = 60
NAME_PUNCTUATION: Final = " -_.,()+#·:"
MAX_TAGS: Final = 10


RUN_ID_PATTERN = re.compile(r"[0-9]{8}-[0-9]{6}-(purchase|recommend|images)-[0-9a-f]{8}")
TAG = re.compile(r"[a-z0-9][a-z0-9_\-]{0,29}")


# --- names, tags and ids ------------------------------------------------------------------


def clean_name(text: str) -> str:
    """A run name as typed, trimmed; letters, digits, spaces and ``- _ . , ( ) + # · :`` only.

    Raises:
        RunNameError: with a one-line message for anything else (slashes, dots at the start,
            control characters, more than 60 characters).
    """
    name = " ".join(unicodedata.normalize("NFC", str(text)).split())
    if not name:
        raise RunNameError("The run name is empty; type a short name such as 'wide net'.")
    if len(name) > MAX_NAME:
        raise RunNameError(f"The run name has {len(name)} characters; keep it to {MAX_NAME}.")
    odd = sorted({c for c in name if not _name_character(c)})
    if odd or name.startswith("."):
        shown = " ".join(odd) or "a leading dot"
        raise RunNameError(
            f"The run name '{name}' contains {shown}; "
            "use letters, digits, spaces and - _ . , ( ) + # · :."
        )
    return name


def _name_character(c: str) -> bool:
    return c.isalnum() or c in NAME_PUNCTUATION


def clean_tags(text: str | list[str]) -> tuple[str, ...]:
    """Tags from ``"baseline, wide-net"`` (or a list): lower case, ``a-z 0-9 _ -``, unique.

    Raises:
        RunNameError: for a tag with other characters, longer than 30, or more than 10 tags.
    """
    parts = text if isinstance(text, list) else re.split(r"[,;\s]+", str(text))
    tags: list[str] = []
    for part in parts:
        tag = str(part).strip().lower()
        if not tag:
            continue
        if not TAG.fullmatch(tag):
            raise RunNameError(
                f"The tag '{tag}' is not usable; tags are up to 30 letters a-z, digits, _ or -."
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise RunNameError(f"{len(tags)} tags given; keep it to {MAX_TAGS}.")
    return tuple(tags)


def check_run_id(run_id: str) -> str:
    """``run_id`` if it has the shape of a run id (so it is safe in a path), else an error."""
    text = str(run_id).strip()
    if not RUN_ID_PATTERN.fullmatch(text):
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise RunNotFoundError(
            f"'{shown}' is not a run id (they look like 20261128-101500-purchase-1a2b3c4d); "
            "pick a run from the list."
        )
    return text


def new_run_id(task: Task, now: dt.datetime | None = None) -> str:
    """A unique id: creation time, task and 32 random bits."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%d-%H%M%S}-{task}-{secrets.token_hex(4)}"


MAX_DATA_LABEL: Final = 20


def data_label(file_name: str) -> str:
    """A data file's name as a run-name part: without its folder and extensions, characters a
    name cannot hold turned to spaces, shortened (``Online Retail`` for
    ``exports/Online Retail.csv.gz``)."""
    stem = file_stem(file_name) or file_name
    kept = "".join(c if _name_character(c) else " " for c in stem)
    return " ".join(kept.split())[:MAX_DATA_LABEL].strip(" .")


def file_slug(text: str, *, fallback: str = "run") -> str:
    """``text`` as a safe ASCII file-name part (for download names): lower case letters and
    digits joined by ``-``, at most 40 characters; ``fallback`` when nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower()
    return slug[:40].strip("-") or fallback
