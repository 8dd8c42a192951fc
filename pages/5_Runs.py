"""Every trained model, kept as a run: compare configurations, reopen, share and present."""

import streamlit as st

from core import runs as rn
from core.errors import ShopLensError
from ui import runs, state

state.run_inside_app()
st.title("Runs")
st.caption(
    "Every training on the Purchase prediction and Recommendations pages is saved here as a "
    "run, with its settings, scores and curves. Select runs to compare them; select one to "
    "open, rename, share or delete it. Runs survive a refresh and a restart."
)
notice = st.session_state.pop(state.RUNS_NOTICE, None)
if notice:
    st.success(notice)
store = state.run_store()
with st.expander("Sweep: train several hidden-layer configurations at once"):
    runs.sweep_form(store)
with st.expander("Import a run bundle from another machine"):
    runs.import_bundle(store)
try:
    infos = store.runs()  # after the sweep, so its runs are listed at once
except ShopLensError as err:
    st.error(str(err))
    st.stop()

if not infos:
    st.info(
        "No runs yet. Train a model on the Purchase prediction or Recommendations page, or run "
        "a sweep above; each training is saved here."
    )
    st.stop()

table = runs.runs_filters(rn.runs_table(infos))
selected = runs.runs_table(table)
if not selected:
    st.caption(f"{len(table)} of {len(infos)} runs shown. Select rows to compare them.")
    st.stop()

chosen = [info for info in infos if info.run_id in selected]
st.subheader(f"{len(chosen)} run{'s' if len(chosen) > 1 else ''} selected")
if len(chosen) == 1:
    runs.run_actions(store, chosen[0])
ok = [info.run_id for info in chosen if info.ok]
if ok:
    runs.report_download(store, ok)
runs.comparison(chosen, table)
