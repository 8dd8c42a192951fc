"""Small product thumbnails as ``data:`` URLs, for tables and the standalone report (nothing
is fetched: the picture is in the URL)."""

from __future__ import annotations

import base64
import io
from typing import Final

from core.images.reading import PhotoError, decode_photo

THUMBNAIL_PX: Final = 64  # pixels on the longer side
QUALITY: Final = 80


def thumbnail_url(data: bytes, *, size: int = THUMBNAIL_PX) -> str | None:
    """A photo's JPEG thumbnail no larger than ``size`` pixels, as a ``data:image/jpeg`` URL;
    ``None`` when the photo cannot be decoded."""
    try:
        image = decode_photo(data, shrink_to=size)
    except PhotoError:
        return None
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")
