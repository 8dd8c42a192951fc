"""The shop at a glance: KPIs, funnel, trends, products and customers for a period."""

import streamlit as st

from ui import home, overview, state

state.run_inside_app()
st.title("Shop overview")
st.caption(
    "What product-analytics tools show, computed from the loaded events and products: pick a "
    "period and filters, then click a category bar or a customer segment to drill in."
)
shop = state.shop()
options = overview.options(shop)
filters = overview.filter_bar(options, shop.fingerprint)
top = st.container()
funnel_tab, trends_tab, products_tab, customers_tab = st.tabs(
    ["Funnel", "Trends", "Products", "Customers"]
)
with funnel_tab:
    window = overview.window_picker(options)
with trends_tab:
    freq = overview.freq_picker()
data, base = overview.compute_both(shop, filters, freq=freq, window=window)
with top:
    overview.summary(data, options, filters, shop)
with funnel_tab:
    overview.funnel_tab(data, options)
with trends_tab:
    overview.trends_tab(data, freq)
with products_tab:
    overview.products_tab(data, base, filters, shop.fingerprint)
with customers_tab:
    overview.customers_tab(data, shop.fingerprint)
home.note_seen(state.HOME_SAW_OVERVIEW)  # a step of the Home page's guided path
