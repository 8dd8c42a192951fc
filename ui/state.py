"""Session-state keys and accessors shared by the pages."""

from __future__ import annotations

import streamlit as st

from core.loading import ShopData
from ui import cache

SHOP = "data.shop"
SOURCE = "data.source"
EVENTS_FILE = "data.events_file"
PRODUCTS_FILE = "data.products_file"
DATE_ORDER = "data.date_order"
DROP_DUPLICATES = "data.drop_duplicates"
MAPPING_PREFIX = "data.map"
SOURCE_SAMPLE = "Sample shop"
SOURCE_UPLOAD = "Upload files"

# Session-state prefixes of anything trained on a dataset; cleared when the dataset changes.
MODEL_PREFIXES = ("purchase.", "recs.", "runs.")


def mapping_key(table: str, digest: str, field: str) -> str:
    """Widget key of one mapping choice, unique per file so stale choices never carry over."""
    return f"{MAPPING_PREFIX}.{table}.{digest}.{field}"


def shop() -> ShopData:
    """The dataset every page works on: the last one loaded, or the bundled sample shop."""
    current = st.session_state.get(SHOP)
    if current is None:
        current = cache.sample_shop()
        st.session_state[SHOP] = current
    return current


def set_shop(new: ShopData) -> bool:
    """Make ``new`` the active dataset; returns True when trained models had to be cleared."""
    old = st.session_state.get(SHOP)
    st.session_state[SHOP] = new
    if old is None or old.fingerprint == new.fingerprint:
        return False
    stale = [k for k in st.session_state if str(k).startswith(MODEL_PREFIXES)]
    for key in stale:
        del st.session_state[key]
    return bool(stale)
