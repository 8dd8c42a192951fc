"""The app's pages: the script and icon of each page the command spec names, and the
navigation built from them (a page added later is a line here and one in the spec)."""

from __future__ import annotations

from typing import Final

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from core.commands import PAGES

# Each page of core.commands.PAGES: its script and icon.
SCRIPTS: Final = {
    "home": ("pages/0_Home.py", "🏠"),
    "data": ("pages/1_Data.py", "🗂️"),
    "overview": ("pages/3_Overview.py", "📊"),
    "purchase": ("pages/2_Purchase_prediction.py", "🛒"),
    "recommendations": ("pages/4_Recommendations.py", "🎯"),
    "images": ("pages/6_Images.py", "🖼️"),
    "runs": ("pages/5_Runs.py", "🗃️"),
}
HOME: Final = PAGES[0].key  # the page "/" opens


def pages() -> list[StreamlitPage]:
    """The navigation's pages, in the spec's order; the first is the default."""
    return [
        st.Page(
            SCRIPTS[page.key][0],
            title=page.title,
            icon=SCRIPTS[page.key][1],
            default=page.key == HOME,
        )
        for page in PAGES
    ]


def script(key: str) -> str:
    """A page's script, for ``st.switch_page``."""
    return SCRIPTS[key][0]


def key_of(page: StreamlitPage) -> str:
    """The spec's key of a navigation page (by its title)."""
    return next(p.key for p in PAGES if p.title == page.title)
