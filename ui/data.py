"""Widgets of the Data page: picking the source, the column mapping, the validation report and
the data profile."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.runtime.uploaded_file_manager import UploadedFile

from core import schema
from core.config import load_settings
from core.data import charts as data_charts
from core.data.exports import file_stem, to_safe_csv
from core.data.loading import LoadResult, ShopData, detect_products_mapping
from core.data.parsing import DateOrder
from core.data.profile import Profile
from core.datasets.ingest import REPORT, IngestReport
from core.datasets.store import list_datasets
from core.errors import ShopLensError
from core.runs.names import file_slug
from ui import cache, ingest, state, untrusted, widgets

FILE_TYPES = ["csv", "tsv", "txt", "gz", "zip", "parquet", "xlsx"]
DATE_ORDERS: dict[DateOrder, str] = {
    "auto": "decide from the data",
    "dmy": "day/month/year",
    "mdy": "month/day/year",
}
NOT_USED = "— not used —"


def choose_shop() -> ShopData:
    """The source picker (sample shop, uploads, or the data of an opened run), the column
    mapping and the loaded shop, which becomes the current dataset. Stops the page while an
    upload is awaited or the files cannot be loaded (with one line saying why)."""
    kept = state.kept_data()
    sources = [
        state.SOURCE_SAMPLE,
        state.SOURCE_UPLOAD,
        state.SOURCE_DATASET,
        *([state.SOURCE_KEPT] if kept else []),
    ]
    # Coming back to the page, the source is the current dataset's: an earlier upload stays
    # the current dataset (its file is not kept) instead of being replaced by the sample.
    current = state.current_shop()
    uploaded = current is not None and kept is None and not state.is_sample(current)
    if pending := st.session_state.pop(state.PENDING_SOURCE, None):
        st.session_state[state.SOURCE] = pending
    st.session_state.setdefault(
        state.SOURCE,
        state.SOURCE_KEPT if kept else state.SOURCE_UPLOAD if uploaded else state.SOURCE_SAMPLE,
    )
    source = st.radio("Data source", sources, horizontal=True, key=state.SOURCE)
    if source == state.SOURCE_KEPT and kept is not None:
        st.info(
            "This is the data an opened run was trained on, kept with the run: "
            f"{untrusted.plain_md(kept.events.source_name)}. Pick another source to load "
            "other data."
        )
        return kept
    if source == state.SOURCE_DATASET:
        return _server_dataset()
    if source == state.SOURCE_UPLOAD:
        events_file = st.file_uploader("Events file", type=FILE_TYPES, key=state.EVENTS_FILE)
        products_file = st.file_uploader(
            "Product table (optional)", type=FILE_TYPES, key=state.PRODUCTS_FILE
        )
        if events_file is None:
            st.info(
                "Upload an events file: CSV in any common encoding and separator, .csv.gz, "
                "a .zip holding one CSV, Parquet or .xlsx. The other pages keep using the "
                "current dataset until then."
            )
            st.stop()
        if events_file.size >= load_settings().dataset_upload_mb * 1024 * 1024:
            _big_upload(events_file, products_file)
        events = cache.source_file(events_file.name, events_file.getvalue())
        products = (
            cache.source_file(products_file.name, products_file.getvalue())
            if products_file
            else None
        )
    else:
        events, products = cache.sample_files()
    try:
        shop = _mapped_shop(events, products, expanded=source == state.SOURCE_UPLOAD)
    except ShopLensError as err:
        st.error(untrusted.error_text(err))
        st.stop()
    if source == state.SOURCE_SAMPLE:
        shop = cache.with_sample_photos(shop.fingerprint, shop)
    if state.set_shop(shop):
        st.warning("The dataset changed, so models trained on the previous data were cleared.")
    return shop


def _big_upload(events: UploadedFile, products: UploadedFile | None) -> None:
    """An events upload too large to load into memory becomes a dataset (once: coming back to
    it, its dataset is shown); stops the page."""
    if st.session_state.get(state.INGESTED_UPLOAD) != events.file_id:
        st.session_state[state.INGESTED_UPLOAD] = events.file_id
        ingest.ingest_upload(events, products)
    st.info(
        f"{untrusted.plain_md(events.name)} is {events.size / 1024**2:,.0f} MB: too large to "
        "load into memory, so it was made into a dataset on the server. Pick "
        f"**{state.SOURCE_DATASET}** to open it."
    )
    st.stop()


def _server_dataset() -> ShopData:
    """A dataset ingested on the server, picked by name, as the current dataset, with the
    form that ingests files on the server and the progress of an ingest under way; stops the
    page while there is no dataset."""
    data_dir = load_settings().data_dir
    job = ingest.current()
    if job is not None and (made := ingest.follow(job)) is not None:
        st.session_state[state.DATASET_CHOICE] = made
    listed = list_datasets(data_dir)
    usable = {d.name: d.report for d in listed if d.report is not None}
    for damaged in (d for d in listed if d.report is None):
        st.warning(untrusted.plain_md(damaged.problem))
    ingest.server_form(data_dir, expanded=not usable)
    if not usable:
        st.info(
            "No dataset on the server yet. Ingest files on the server above, or an export of "
            "any size with `python -m core ingest FILES --name NAME`; it then opens here in "
            "seconds."
        )
        st.stop()
    name = st.selectbox(
        "Dataset",
        list(usable),
        key=state.DATASET_CHOICE,
        format_func=lambda n: _dataset_label(n, usable[n]),
    )
    try:
        stamp = (data_dir / name / REPORT).stat().st_mtime
        shop = cache.dataset_shop(name, stamp)
    except (ShopLensError, OSError) as err:
        st.error(untrusted.error_text(err))
        st.stop()
    state.set_dataset_folder(shop, data_dir / name, stamp)
    if state.set_shop(shop):
        st.warning("The dataset changed, so models trained on the previous data were cleared.")
    return shop


def _dataset_label(name: str, report: IngestReport) -> str:
    return f"{name} · {report.rows_kept:,} events · {report.start[:10]} – {report.end[:10]}"


def sidebar_dataset(where: DeltaGenerator) -> None:
    """The current dataset in ``where`` (a place in the sidebar, drawn over on each call): its
    name, events and first and last day."""
    shop = state.current_shop()
    if shop is None:
        where.caption("No dataset loaded yet: every page starts with the sample shop.")
        return
    times = shop.events.frame[schema.TIMESTAMP]
    span = f"{_day(times.min())} – {_day(times.max())}" if len(times) else "no dates"
    with where.container(border=True):
        st.markdown(f"**Dataset** · {untrusted.plain_md(state.dataset_name(shop))}")
        st.caption(f"{len(times):,} events  \n{span}")


def _day(moment: pd.Timestamp) -> str:
    return f"{moment.day} {moment:%b %Y}"


def _mapped_shop(
    events: cache.SourceFile, products: cache.SourceFile | None, *, expanded: bool
) -> ShopData:
    label, detected = cache.detected_events_mapping(events)
    with st.expander("Column mapping", expanded=expanded):
        st.write(
            f"Events: recognised **{label}**. Change any field below and the file is "
            "read again at once."
        )
        events_overrides = mapping_editor(
            "events",
            events.digest,
            tuple(cache.raw_table(events).frame),
            detected,
            schema.EVENT_MAPPING_FIELDS,
        )
        orders: list[DateOrder] = list(DATE_ORDERS)
        date_order = (
            st.radio(
                "Dates like 03/04/2024 are",
                orders,
                horizontal=True,
                format_func=DATE_ORDERS.__getitem__,
                key=state.DATE_ORDER,
            )
            or orders[0]
        )
        products_overrides: dict[str, str | None] = {}
        if products is not None:
            st.write("Product table:")
            products_raw = cache.raw_table(products)
            products_overrides = mapping_editor(
                "products",
                products.digest,
                tuple(products_raw.frame),
                detect_products_mapping(products_raw),
                schema.PRODUCT_FIELDS,
            )
    drop_duplicates = st.checkbox(
        "Drop duplicate events (rows that repeat an earlier row exactly)",
        key=state.DROP_DUPLICATES,
    )
    return cache.load_shop(
        events,
        products,
        events_mapping=events_overrides,
        products_mapping=products_overrides,
        date_order=date_order,
        drop_duplicates=drop_duplicates,
    )


def validation(shop: ShopData) -> None:
    """The load report of the events and, in a second tab, of the product table."""
    if shop.products is None:
        load_report(shop.events, key="data.events")
        return
    events_tab, products_tab = st.tabs(["Events", "Products"])
    with events_tab:
        load_report(shop.events, key="data.events")
    with products_tab:
        load_report(shop.products, key="data.products")


def shop_profile(shop: ShopData) -> None:
    """The profile of the current dataset."""
    profile(cache.shop_profile(shop.fingerprint, shop))


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
    schema.NAME: "Product name (e.g. a Description column), shown wherever the item appears; "
    "an item named differently across rows takes its most frequent name. A product table's "
    "names come first.",
}


def load_report(result: LoadResult, *, key: str) -> None:
    """Recognised format, notes, kept/rejected counts by reason, and the rejected-rows download."""
    st.markdown(
        f"**{untrusted.plain_md(result.source_name)}** — recognised as "
        f"**{result.export_format.label}**  \nRead as {untrusted.plain_md(result.read_as)}."
    )
    for note in result.notes:
        st.caption(f"ℹ️ {untrusted.plain_md(note)}")
    kept, read = result.rows_kept, result.rows_read
    dup_label = "Duplicates dropped" if result.duplicates_dropped else "Duplicates (kept)"
    widgets.tiles(
        {
            "Rows read": f"{read:,}",
            "Rows kept": f"{kept:,}",
            "Rows rejected": f"{len(result.rejected):,}",
            dup_label: f"{result.duplicates:,}",
        }
    )
    counts = result.rejected_counts
    if not counts:
        st.success("Every row passed validation.")
        return
    st.plotly_chart(data_charts.rejected_reasons_bar(counts), key=f"{key}.reasons")
    widgets.table(
        result.rejected.groupby("reason", sort=False).head(3),
        hide_index=True,
        key=f"{key}.examples",
    )
    st.download_button(
        "Download rejected rows (CSV)",
        lambda: to_safe_csv(result.rejected),
        file_name=rejected_file_name(result.source_name),
        mime="text/csv",
        key=f"{key}.download",
        on_click="ignore",
    )


def rejected_file_name(source_name: str) -> str:
    """The rejected rows' download name: ``Online Retail.csv.gz`` gives
    ``rejected-online-retail.csv`` (no table endings, safe characters only)."""
    return f"rejected-{file_slug(file_stem(source_name), fallback='rows')}.csv"


def profile(summary: Profile) -> None:
    """Size, time span, event mix, events per day, missing values, top items and categories."""
    days = (summary.end.normalize() - summary.start.normalize()).days + 1
    widgets.tiles(
        {
            "Events": f"{summary.rows:,}",
            "Users": f"{summary.users:,}",
            "Items": "none" if summary.items is None else f"{summary.items:,}",
            "Days covered": f"{days:,}",
        }
    )
    st.caption(f"From {summary.start:%Y-%m-%d %H:%M} to {summary.end:%Y-%m-%d %H:%M} (UTC).")
    left, right = st.columns([1, 2])
    left.plotly_chart(data_charts.event_mix_bar(summary), key="data.chart.mix")
    right.plotly_chart(data_charts.daily_events_line(summary), key="data.chart.daily")
    left, middle, right = st.columns(3)
    left.markdown("**Missing values per column**")
    widgets.table(
        summary.missing,
        where=left,
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
        widgets.table(summary.top_items, where=middle, hide_index=True)
    right.markdown("**Top categories**")
    if summary.top_categories is None:
        right.write("This data has no categories.")
    else:
        widgets.table(summary.top_categories, where=right, hide_index=True)
    lines = summary.non_product
    if len(lines):
        st.markdown("**Postage, fees and other lines that sell no product**")
        st.caption(
            f"{int(lines['lines'].sum()):,} purchase lines of {len(lines):,} items are not "
            "products (postage, carriage, fees, manual adjustments). They stay in the data and "
            "their revenue shows as its own line on the Overview, but they are never ranked or "
            "recommended as products."
        )
        widgets.table(
            lines,
            hide_index=True,
            column_config={
                "item_id": "item id",
                "name": "name",
                "lines": st.column_config.NumberColumn("purchase lines", format="%d"),
                "revenue": st.column_config.NumberColumn("revenue", format="%.2f"),
            },
            key="data.non_product",
        )
