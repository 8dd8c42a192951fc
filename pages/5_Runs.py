"""Every trained model, kept as a run: compare configurations, reopen, share and present."""

import streamlit as st

from ui import runs, state

state.run_inside_app()
st.title("Runs")
st.caption(
    "Every training on the Purchase prediction, Recommendations and Product photos pages is "
    "saved here as a "
    "run, with its settings, scores and curves. Select runs to compare them; select one to "
    "open, rename, share or delete it. Runs survive a refresh and a restart."
)
notice = st.session_state.pop(state.RUNS_NOTICE, None)
if notice:
    st.success(notice)
store = state.run_store()
sweep = runs.sweep_job()
with st.expander(
    "Sweep: train several hidden-layer configurations at once", expanded=runs.sweep_open(sweep)
):
    runs.sweep_form(store, sweep)
with st.expander("Import a run bundle from another machine"):
    runs.import_bundle(store)
infos = runs.listed(store)  # after the sweep, so its runs are listed at once
chosen, table = runs.registry(infos)
runs.selection(store, chosen, table)
