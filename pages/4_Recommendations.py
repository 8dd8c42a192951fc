"""Recommend products to each customer with a two-stage MLP ranker, scored beside baselines."""

import streamlit as st

from ui import home, recommendations, runs, state, widgets

state.run_inside_app()
st.title("Recommendations")
st.caption(
    "Which products should each customer see next? Candidates from item-to-item neighbours, the "
    "customer's categories and overall popularity are ranked by a small neural network (MLP) "
    "that learns from earlier time windows, and every model is scored on the H days after a "
    "cutoff."
)
current = recommendations.result()
shop = runs.shop_after_url("recommend", current.run_id if current is not None else None)
if not shop.has_items:
    widgets.stop_for_data(
        "Recommendations need item ids: this dataset has no product column, so there is "
        "nothing to recommend. Load events with a product (item id) column on the Data page."
    )

job, request = recommendations.settings_form(shop)
if request.settings is not None:
    with st.expander("Time split", expanded=recommendations.result() is None):
        recommendations.time_split(request.settings, shop)
recommendations.train(shop, request, job)

result = runs.results_heading(recommendations.result())
recommendations.summary(result)
evaluation = result.evaluation
if evaluation is None:
    st.info(
        "Scores need a held-out window: train in **Evaluate** mode to compare the ranker with "
        "the baselines. The browser, what-if panel and export below use all the data."
    )
    with st.expander("Training curves"):
        recommendations.training_curves(result)
else:
    recommendations.evaluation_tabs(result, evaluation)

st.subheader("Browse users")
recommendations.user_browser(result, shop, recommendations.predicted_buyers())
home.note_seen(state.HOME_SAW_REASONS)  # a step of the Home page's guided path
st.subheader("What if: a new visitor")
recommendations.what_if(result)
st.subheader("Export")
recommendations.export(result)
