"""The shop at a glance: KPIs, funnel, trends, products and customers for a period."""

import streamlit as st

from core import overview as an
from core.errors import ShopLensError
from ui import cache, overview, state

state.run_inside_app()
st.title("Shop overview")
st.caption(
    "What product-analytics tools show, computed from the loaded events and products: pick a "
    "period and filters, then click a category bar or a customer segment to drill in."
)
shop = state.shop()
options = cache.overview_options(shop.fingerprint, shop)
if options.start is None:
    st.info("This dataset has no events. Load a shop on the Data page.")
    st.page_link("pages/1_Data.py", label="Go to Data", icon="🗂️")
    st.stop()

filters = overview.filter_bar(options, shop.fingerprint)
summary = st.container()
funnel_tab, trends_tab, products_tab, customers_tab = st.tabs(
    ["Funnel", "Trends", "Products", "Customers"]
)
with funnel_tab:
    window = overview.window_picker(options)
with trends_tab:
    freq = overview.freq_picker()
try:
    data = overview.compute(shop, filters, freq=freq, window=window)
    # The category chart lists every category, so another one can be clicked.
    base = (
        overview.compute(shop, filters, freq=freq, window=window, categories=False)
        if filters.categories
        else data
    )
except ShopLensError as err:
    st.error(str(err))
    st.stop()

with summary:
    overview.notes(data, options)
    overview.kpi_tiles(data.kpis, filters, options)
    if not data.kpis.value(an.ACTIVE_USERS):
        st.warning("No events match these filters in this period: widen it or clear a filter.")
        st.stop()
    overview.selection_users(shop, filters)

with funnel_tab:
    overview.funnel_tab(data, options)
with trends_tab:
    overview.trends_tab(data, freq)
with products_tab:
    overview.products_tab(data, base, filters, shop.fingerprint)
with customers_tab:
    overview.customers_tab(data, shop.fingerprint)
