"""Predict each customer's orders in the next H days and who will buy, with MLPs you tune."""

import streamlit as st

from core import schema
from core.purchase import CutoffError, PurchaseTraining, charts, default_cutoff
from ui import cache, runs, state, widgets

state.run_inside_app()
st.title("Purchase prediction")
st.caption(
    "How many orders will each customer place in the next H days, and who will buy at all? "
    "Two small neural networks (MLPs) learn it from earlier time windows and are scored on "
    "the H days after a cutoff, beside simple baselines."
)
current = state.purchase_result()
runs.follow_url("purchase", current.run_id if current is not None else None)
shop = state.shop()  # opening a run from the URL may have switched to its data
summary = cache.shop_profile(shop.fingerprint, shop)
if not summary.event_mix.get(schema.PURCHASE, 0):
    st.info(
        "This dataset has no purchases, so there is nothing to predict. Load events that "
        "include purchases, or an orders export, on the Data page."
    )
    st.page_link("pages/1_Data.py", label="Go to Data", icon="🗂️")
    st.stop()

st.subheader("Network")
with st.container(border=True):
    layers = widgets.hidden_layer_editor()
request = widgets.training_form(
    layers,
    first_day=summary.start.date(),
    last_day=summary.end.date(),
    latest=default_cutoff(shop.events.frame, widgets.DEFAULT_HORIZON).date(),
)

try:
    data = cache.purchase_data(shop.fingerprint, shop, request.cutoff, request.horizon_days)
except CutoffError as err:
    st.error(str(err))
    data = None
if data is not None:
    with st.expander("Time split", expanded=state.purchase_result() is None):
        timeline = charts.purchase_timeline(
            data.windows,
            data_start=summary.start,
            data_end=data.data_end,
            cutoff=data.cutoff,
            horizon_days=data.horizon_days,
        )
        st.plotly_chart(timeline, key="purchase.chart.timeline")
        st.caption(
            f"The data runs from {summary.start:%Y-%m-%d} to {summary.end:%Y-%m-%d}. Each "
            "training window learns from features before its start and the orders inside it; "
            "none reaches past the cutoff, so the evaluation window stays unseen. "
            f"{len(data.feature_names)} features per user, {len(data.train):,} training rows."
        )

pending = state.purchase_training()
if pending is not None:  # a training interrupted by Stop (or any other click) on the last run
    if pending.can_finish:
        pending.stop()
        with st.spinner("Scoring every model with the best epochs so far…"):
            state.finish_purchase_training()
    else:
        state.drop_purchase_training()
        st.warning("Training was stopped before its first epoch ended, so no model was kept.")

if request.submitted and data is not None and request.config is not None:
    training = PurchaseTraining(data, request.config)
    state.start_purchase_training(training)
    widgets.train_with_live_curves(training)
    with st.spinner("Scoring every model on the evaluation window…"):
        state.finish_purchase_training()

result = state.purchase_result()
if result is None:
    st.info("Choose the hidden layers and settings above, then press **Train**.")
    st.stop()

st.subheader("Results")
runs.show_run_badge(result.run_id)
widgets.purchase_summary(result)
days = result.data.horizon_days
names = ["Scoreboard", "Training curves", "Orders", "Buyers", "Inputs", "Users"]
tabs = st.tabs([*names, f"Next {days} days", "Runs on this data"])
with tabs[0]:
    widgets.purchase_scoreboard(result.evaluation.scores)
with tabs[1]:
    widgets.training_curves(result.models)
with tabs[2]:
    widgets.regression_charts(result.evaluation)
with tabs[3]:
    widgets.classification_charts(result.evaluation)
with tabs[4]:
    widgets.importance_chart(result.evaluation)
with tabs[5]:
    widgets.user_table(result.evaluation, result.data)
with tabs[6]:
    widgets.next_orders_table(result.next_orders, result.data)
with tabs[7]:
    widgets.training_history(runs.runs_on_this_data("purchase"))
