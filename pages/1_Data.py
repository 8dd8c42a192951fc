"""Load a shop's events and products, check the column mapping, and see what was kept."""

import streamlit as st

from core import schema
from core.data.loading import detect_products_mapping
from core.errors import ShopLensError
from ui import cache, state, widgets

FILE_TYPES = ["csv", "tsv", "txt", "gz", "zip", "parquet", "xlsx"]
DATE_ORDERS = {"auto": "decide from the data", "dmy": "day/month/year", "mdy": "month/day/year"}

state.run_inside_app()
st.title("Data")
st.caption(
    "Upload your shop's behaviour events (views, carts, purchases…) and, optionally, its "
    "product table — or explore the bundled sample shop."
)
kept = state.kept_data()
sources = [state.SOURCE_SAMPLE, state.SOURCE_UPLOAD, *([state.SOURCE_KEPT] if kept else [])]
source = st.radio("Data source", sources, index=2 if kept else 0, horizontal=True, key=state.SOURCE)
if source == state.SOURCE_KEPT and kept is not None:
    shop = kept
    st.info(
        "This is the data an opened run was trained on, kept with the run: "
        f"{widgets.plain_md(kept.events.source_name)}. Pick another source to load other data."
    )
else:
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
        events = cache.source_file(events_file.name, events_file.getvalue())
        products = (
            cache.source_file(products_file.name, products_file.getvalue())
            if products_file
            else None
        )
    else:
        events, products = cache.sample_files()

    try:
        label, detected = cache.detected_events_mapping(events)
        with st.expander("Column mapping", expanded=source == state.SOURCE_UPLOAD):
            st.write(
                f"Events: recognised **{label}**. Change any field below and the file is "
                "read again at once."
            )
            events_overrides = widgets.mapping_editor(
                "events",
                events.digest,
                tuple(cache.raw_table(events).frame),
                detected,
                schema.EVENT_MAPPING_FIELDS,
            )
            date_order = st.radio(
                "Dates like 03/04/2024 are",
                list(DATE_ORDERS),
                horizontal=True,
                format_func=DATE_ORDERS.get,
                key=state.DATE_ORDER,
            )
            products_overrides: dict[str, str | None] = {}
            if products is not None:
                st.write("Product table:")
                products_raw = cache.raw_table(products)
                products_overrides = widgets.mapping_editor(
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
        shop = cache.load_shop(
            events,
            products,
            events_mapping=events_overrides,
            products_mapping=products_overrides,
            date_order=date_order,
            drop_duplicates=drop_duplicates,
        )
    except ShopLensError as err:
        st.error(str(err))
        st.stop()

    if state.set_shop(shop):
        st.warning("The dataset changed, so models trained on the previous data were cleared.")

st.subheader("Validation")
if shop.products is None:
    widgets.load_report(shop.events, key="data.events")
else:
    events_tab, products_tab = st.tabs(["Events", "Products"])
    with events_tab:
        widgets.load_report(shop.events, key="data.events")
    with products_tab:
        widgets.load_report(shop.products, key="data.products")

st.subheader("Profile")
widgets.profile(cache.shop_profile(shop.fingerprint, shop))
