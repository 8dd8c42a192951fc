"""ShopLens: an analytics workbench for e-commerce teams."""

import streamlit as st

from ui import data, trainer

st.set_page_config(page_title="ShopLens", page_icon="🔎", layout="wide")
page = st.navigation(
    [
        st.Page("pages/0_Home.py", title="Home", icon="🏠", default=True),
        st.Page("pages/1_Data.py", title="Data", icon="🗂️"),
        st.Page("pages/3_Overview.py", title="Overview", icon="📊"),
        st.Page("pages/2_Purchase_prediction.py", title="Purchase prediction", icon="🛒"),
        st.Page("pages/4_Recommendations.py", title="Recommendations", icon="🎯"),
        st.Page("pages/5_Runs.py", title="Runs", icon="🗃️"),
    ]
)
dataset = st.sidebar.empty()
data.sidebar_dataset(dataset)  # before the page, so it shows even when the page stops early
trainer.sidebar_note()
page.run()
data.sidebar_dataset(dataset)  # and after it: the page may have loaded other data
