"""Product photos: learn each product's category from its photo, and find similar products."""

import streamlit as st

from ui import images, runs, state

state.run_inside_app()
st.title("Product photos")
st.caption(
    "A small neural network (MLP) learns each product's category from its photo, beside simple "
    "baselines, and is scored on photos held out of training. It suggests a category for "
    "products that have none, and finds products that look alike."
)
shop = state.shop()
images.keep_settings()
found = images.photo_source(shop)
if found is None:
    st.stop()
photos, source = found
images.reading_report(photos)
images.use_for_recommendations(shop, photos)
labelled = images.label_choice(photos, shop)
if labelled is None:
    st.stop()

st.subheader("Network")
job, request = images.settings_form(labelled)
images.train(shop, labelled, source, request, job)

result = runs.results_heading(images.result())
images.summary(result)
tabs = st.tabs(
    ["Scoreboard", "Training curves", "Confusion matrix", "Suggest a category", "Similar products"]
)
with tabs[0]:
    images.scoreboard(result)
with tabs[1]:
    images.training_curves(result)
with tabs[2]:
    images.confusion(result)
with tabs[3]:
    images.suggestions(result)
with tabs[4]:
    images.similar(result)
