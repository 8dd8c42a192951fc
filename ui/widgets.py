"""Widgets shared by pages: the mapping editor, the validation report and the data profile."""

from __future__ import annotations

import streamlit as st

from core import charts, schema
from core.exports import to_safe_csv
from core.loading import LoadResult
from core.profile import Profile
from ui import state

NOT_USED = "— not used —"


def mapping_editor(
    table: str,
    digest: str,
    columns: tuple[str, ...],
    detected: dict[str, str],
    fields: tuple[str, ...],
) -> dict[str, str | None]:
    """One select box per canonical field, preset to the detected column.

    Returns:
        the fields whose choice differs from the detected mapping (``None`` = not used).
    """
    overrides: dict[str, str | None] = {}
    options = [NOT_USED, *columns]
    grid = st.columns(3)
    for position, field in enumerate(fields):
        default = detected.get(field)
        choice = grid[position % 3].selectbox(
            field,
            options,
            index=options.index(default) if default in options else 0,
            key=state.mapping_key(table, digest, field),
            help=_FIELD_HELP.get(field),
        )
        chosen = None if choice == NOT_USED else choice
        if chosen != default:
            overrides[field] = chosen
    return overrides


_FIELD_HELP = {
    schema.USER_ID: "Required: who did it (customer, visitor or user id).",
    schema.TIMESTAMP: "Required: when (a date/time or unix seconds/milliseconds).",
    schema.ITEM_ID: "The product (needed for recommendations).",
    schema.EVENT_TYPE: "view / cart / fav / purchase / return; leave unused for an orders export "
    "(every row is then a purchase).",
    schema.PRICE: "Unit price.",
    schema.AMOUNT: "Line total (price × quantity); used for the price when no unit price exists.",
}


def load_report(result: LoadResult, *, key: str) -> None:
    """Recognised format, notes, kept/rejected counts by reason, and the rejected-rows download."""
    st.markdown(
        f"**{result.source_name}** — recognised as **{result.export_format.label}**  \n"
        f"Read as {result.read_as}."
    )
    for note in result.notes:
        st.caption(f"ℹ️ {note}")
    kept, read = result.rows_kept, result.rows_read
    cols = st.columns(4)
    cols[0].metric("Rows read", f"{read:,}")
    cols[1].metric("Rows kept", f"{kept:,}")
    cols[2].metric("Rows rejected", f"{len(result.rejected):,}")
    dup_label = "Duplicates dropped" if result.duplicates_dropped else "Duplicates (kept)"
    cols[3].metric(dup_label, f"{result.duplicates:,}")
    counts = result.rejected_counts
    if not counts:
        st.success("Every row passed validation.")
        return
    st.plotly_chart(charts.rejected_reasons_bar(counts), key=f"{key}.reasons")
    st.dataframe(
        result.rejected.groupby("reason", sort=False).head(3),
        hide_index=True,
        key=f"{key}.examples",
    )
    st.download_button(
        "Download rejected rows (CSV)",
        lambda: to_safe_csv(result.rejected),
        file_name=f"rejected_{result.source_name.replace('/', '_')}.csv",
        mime="text/csv",
        key=f"{key}.download",
        on_click="ignore",
    )


def profile(summary: Profile) -> None:
    """Size, time span, event mix, events per day, missing values, top items and categories."""
    cols = st.columns(4)
    cols[0].metric("Events", f"{summary.rows:,}")
    cols[1].metric("Users", f"{summary.users:,}")
    cols[2].metric("Items", "none" if summary.items is None else f"{summary.items:,}")
    days = (summary.end.normalize() - summary.start.normalize()).days + 1
    cols[3].metric("Days covered", f"{days:,}")
    st.caption(f"From {summary.start:%Y-%m-%d %H:%M} to {summary.end:%Y-%m-%d %H:%M} (UTC).")
    left, right = st.columns([1, 2])
    left.plotly_chart(charts.event_mix_bar(summary), key="data.chart.mix")
    right.plotly_chart(charts.daily_events_line(summary), key="data.chart.daily")
    left, middle, right = st.columns(3)
    left.markdown("**Missing values per column**")
    left.dataframe(
        summary.missing,
        hide_index=True,
        column_config={
            "missing share": st.column_config.ProgressColumn(
                format="percent", min_value=0.0, max_value=1.0
            )
        },
    )
    middle.markdown("**Top items**")
    if summary.top_items is None:
        middle.write("This data has no item ids.")
    else:
        middle.dataframe(summary.top_items, hide_index=True)
    right.markdown("**Top categories**")
    if summary.top_categories is None:
        right.write("This data has no categories.")
    else:
        right.dataframe(summary.top_categories, hide_index=True)
