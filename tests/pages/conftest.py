"""Fixtures of the page tests."""

import pytest
import streamlit as st


@pytest.fixture(autouse=True)
def fresh_caches() -> None:
    """Every page test starts with Streamlit's caches empty, as on a freshly started server."""
    st.cache_data.clear()
    st.cache_resource.clear()
