"""Widgets of the Home page: what ShopLens is, three ways to start, and the guided path that
takes a newcomer from nothing to one customer's recommendations and their reasons."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.errors import ShopLensError
from ui import cache, recommendations, state, untrusted

DATA_PAGE = "pages/1_Data.py"
OVERVIEW_PAGE = "pages/3_Overview.py"
RECOMMENDATIONS_PAGE = "pages/4_Recommendations.py"
RUNS_PAGE = "pages/5_Runs.py"


def intro() -> None:
    """The title and, in two sentences, what ShopLens is for."""
    st.title("ShopLens")
    st.markdown(
        "A workbench in your browser for e-commerce teams: load your shop's events and "
        "products, and see the funnel, trends, products and customers at a glance. Train "
        "purchase-prediction and recommendation models you can tune, then compare the runs and "
        "present them."
    )


# --- three ways to start ----------------------------------------------------------------------


def starts() -> None:
    """Three cards side by side, their buttons lined up at the bottom: the sample shop, your own
    files, a saved run."""
    sample, upload, runs = st.columns(3)
    if _card(
        sample,
        "🛍️ Sample shop",
        "Six months of a made-up shop's views, carts and purchases, with its product table.",
        "Explore the sample shop",
        state.HOME_SAMPLE,
        primary=True,
    ):
        load_sample()
        st.switch_page(OVERVIEW_PAGE)
    if _card(
        upload,
        "📂 Your shop",
        "Events as CSV, Excel, Parquet or zipped, and a product table if you have one. Common "
        "exports are recognised; you can fix any column.",
        "Load your own files",
        state.HOME_UPLOAD,
    ):
        if state.kept_data() is None:  # the Data page then opens on its uploaders
            st.session_state[state.SOURCE] = state.SOURCE_UPLOAD
        st.switch_page(DATA_PAGE)
    if _card(runs, "🗃️ Saved runs", saved_runs_text(), "Open a saved run", state.HOME_RUNS):
        st.switch_page(RUNS_PAGE)


def _card(
    column: DeltaGenerator, title: str, text: str, action: str, key: str, *, primary: bool = False
) -> bool:
    """A bordered card: a title, a sentence or two, and a button; returns whether it was
    pressed."""
    card = column.container(border=True, height="stretch", vertical_alignment="distribute")
    with card.container():
        st.markdown(f"**{title}**")
        st.write(text)
    return card.button(
        action, type="primary" if primary else "secondary", key=key, width="stretch", wrap=True
    )


def load_sample() -> bool:
    """Make the sample shop the current dataset, and the Data page's source; returns True
    when models trained on other data had to be cleared."""
    cleared = state.set_shop(cache.sample_shop())
    st.session_state.pop(state.SOURCE, None)  # the Data page picks the current dataset's
    return cleared


def saved_runs_text() -> str:
    """How many runs are saved, in a sentence."""
    try:
        count = state.run_store().count()
    except ShopLensError as err:
        return untrusted.error_text(err)
    if count == 0:
        return "No saved runs yet: every model you train is saved as a run, to reopen later."
    runs = "1 saved run" if count == 1 else f"{count:,} saved runs"
    return f"{runs}: reopen a trained model, compare runs, or make a report to present."


# --- the guided path ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One step of the guided path: what to do and how, whether it is done in this session,
    its button and the page that opens (``None``: the button loads the sample shop)."""

    title: str
    how: str
    done: bool
    button: str
    page: str | None = None


def steps() -> list[Step]:
    """The guided path's four steps, each ticked once done in this session."""
    shop = state.current_shop()
    trained = recommendations.result() is not None
    return [
        Step(
            "Load the sample shop",
            "A made-up shop with six months of events and a product table.",
            shop is not None and state.is_sample(shop),
            "Load the sample shop",
        ),
        Step(
            "Look at the overview",
            "The funnel from view to purchase, trends, top products and customer segments.",
            bool(st.session_state.get(state.HOME_SAW_OVERVIEW)),
            "Open the Overview",
            OVERVIEW_PAGE,
        ),
        Step(
            "Train the recommender",
            "On the Recommendations page, press **Train**: with the default settings it takes "
            "about 20 seconds on the sample shop.",
            trained,
            "Open Recommendations",
            RECOMMENDATIONS_PAGE,
        ),
        Step(
            "Pick a customer and read the reasons",
            "Under **Browse users** on the same page, pick a customer: the **why** column says "
            "why each product is recommended, from the customer's own events.",
            trained and bool(st.session_state.get(state.HOME_SAW_REASONS)),
            "Browse users",
            RECOMMENDATIONS_PAGE,
        ),
    ]


def guided_path() -> None:
    """The four steps, numbered, each with its button and a tick once done."""
    path = steps()
    done = sum(step.done for step in path)
    st.subheader("New here? Four steps to a customer's recommendations")
    st.caption(
        "About 3 minutes from nothing to one customer's recommendations with their reasons. "
        f"{done} of {len(path)} done in this session."
    )
    if done == len(path):
        st.success(
            "Done! Next: change the ranker's hidden layers on the Recommendations page and "
            "train again, then compare both runs on the Runs page."
        )
    for number, step in enumerate(path, start=1):
        with st.container(border=True, key=f"{state.HOME_STEP}.{number}"):
            text, action = st.columns([3, 2], vertical_alignment="center")
            mark = " :green[**✔ done**]" if step.done else ""
            text.markdown(f"**{number} · {step.title}**{mark}")
            text.caption(step.how)
            loaded = step.page is None and step.done  # nothing left to press
            if action.button(
                "Sample loaded" if loaded else step.button,
                key=f"{state.HOME_STEP}.{number}.go",
                disabled=loaded,
                width="stretch",
                wrap=True,
            ):
                if step.page is None:
                    load_sample()
                    st.rerun()
                st.switch_page(step.page)


def note_seen(key: str) -> None:
    """Tick a guided step that is done by looking at a page (``state.HOME_SAW_*``)."""
    st.session_state[key] = True
