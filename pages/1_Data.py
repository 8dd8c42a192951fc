"""Load a shop's events and products, check the column mapping, and see what was kept."""

import streamlit as st

from ui import data, state

state.run_inside_app()
st.title("Data")
st.caption(
    "Upload your shop's behaviour events (views, carts, purchases…) and, optionally, its "
    "product table — or explore the bundled sample shop."
)
shop = data.choose_shop()
st.subheader("Validation")
data.validation(shop)
st.subheader("Profile")
data.shop_profile(shop)
