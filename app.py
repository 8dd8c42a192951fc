"""ShopLens: an analytics workbench for e-commerce teams."""

import streamlit as st

from ui import commands, data, navigation, trainer

st.set_page_config(page_title="ShopLens", page_icon="🔎", layout="wide")
page = st.navigation(navigation.pages())
dataset = st.sidebar.empty()
data.sidebar_dataset(dataset)  # before the page, so it shows even when the page stops early
trainer.sidebar_note()
commands.box(navigation.key_of(page))  # the command box; opens the page a command asked for
page.run()
data.sidebar_dataset(dataset)  # and after it: the page may have loaded other data
