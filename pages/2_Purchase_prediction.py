"""Predict each customer's orders in the next H days and who will buy, with MLPs you tune."""

import streamlit as st

from ui import purchase, runs, state, widgets

state.run_inside_app()
st.title("Purchase prediction")
st.caption(
    "How many orders will each customer place in the next H days, and who will buy at all? "
    "Two small neural networks (MLPs) learn it from earlier time windows and are scored on "
    "the H days after a cutoff, beside simple baselines."
)
current = purchase.result()
shop = runs.shop_after_url("purchase", current.run_id if current is not None else None)
if not purchase.has_purchases(shop):
    widgets.stop_for_data(
        "This dataset has no purchases, so there is nothing to predict. Load events that "
        "include purchases, or an orders export, on the Data page."
    )

job, request = purchase.settings_form(shop)
data = purchase.time_split(shop)
purchase.train(shop, request, data, job)

result = runs.results_heading(purchase.result())
purchase.summary(result)
days = result.data.horizon_days
names = ["Scoreboard", "Training curves", "Orders", "Buyers", "Inputs", "Users"]
tabs = st.tabs([*names, f"Next {days} days", "Runs on this data"])
with tabs[0]:
    purchase.scoreboard(result.evaluation.scores)
with tabs[1]:
    purchase.training_curves(result.models)
with tabs[2]:
    purchase.regression_charts(result.evaluation)
with tabs[3]:
    purchase.classification_charts(result.evaluation)
with tabs[4]:
    purchase.importance_chart(result.evaluation)
with tabs[5]:
    purchase.user_table(result.evaluation, result.data)
with tabs[6]:
    purchase.next_orders_table(result.next_orders, result.data)
with tabs[7]:
    purchase.training_history(runs.runs_on_this_data("purchase"))
