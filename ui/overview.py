"""Widgets of the Shop overview page: the filter bar, the KPI tiles, one function per tab, and
the user lists behind a selection."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import Final, TypeVar

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import overview as an
from core import schema
from core.data.exports import to_safe_csv
from core.data.loading import ShopData
from core.errors import ShopLensError
from core.overview import charts as oc
from ui import cache, state, untrusted, widgets
from ui.cache import Selection

DEFAULT_DAYS = 30
TOP_N = 15
USER_ROWS_SHOWN = 1000
WINDOWS = (1.0, 24.0, 72.0, 168.0, 720.0)
OptionT = TypeVar("OptionT", bound=str)
FREQS: dict[an.Freq, str] = {"D": "Day", "W": "Week", "M": "Month"}
RETENTION = {"active": "Any event", "buying": "A purchase"}

KPI_HELP = {
    an.ACTIVE_USERS: "Users with at least one event in the period.",
    an.NEW_USERS: "Active users whose first event ever (in all the data, whatever the filters) "
    "falls in the period.",
    an.SESSIONS: "Sessions with an event in the period: the data's session id where it has "
    "one, else a user's events split at gaps of more than 30 minutes.",
    an.VIEWS: "View events in the period.",
    an.CARTS: "Add-to-cart events in the period.",
    an.ORDERS: "Orders whose first line falls in the period: one per order id, else one per "
    "user and day with a purchase.",
    an.BUYERS: "Users with a purchase in the period.",
    an.REVENUE: "Price × quantity over the period's purchase lines, in the data's currency: "
    "gross, so returns and cancellations are not subtracted.",
    an.NET_REVENUE: "Gross revenue minus the value of the period's returned and cancelled lines.",
    an.NON_PRODUCT_REVENUE: "The part of the gross revenue from lines that sell no product: "
    "postage, carriage, fees, manual adjustments. They are never ranked or recommended as "
    "products.",
    an.AVERAGE_ORDER_VALUE: "Gross revenue ÷ orders.",
    an.CONVERSION_RATE: "Buyers ÷ active users: the share of the period's active users who "
    "bought. Not the funnel's view → purchase conversion, which follows users from a view.",
    an.REPEAT_BUYER_SHARE: "Share of the period's buyers with at least two orders from the "
    "start of the data to the end of the period.",
}


# --- filters -------------------------------------------------------------------------------


def default_period(options: an.FilterOptions) -> tuple[dt.date, dt.date]:
    """The last 30 days of the data (all of it when shorter)."""
    assert options.start is not None and options.end is not None
    last = options.end.date()
    return max(options.start.date(), last - dt.timedelta(days=DEFAULT_DAYS - 1)), last


def _reset_filters(fingerprint: str, options: an.FilterOptions, *, only_missing: bool) -> None:
    defaults = {
        state.OVERVIEW_DATES: default_period(options),
        state.OVERVIEW_CATEGORIES: [],
        state.OVERVIEW_BRANDS: [],
        state.OVERVIEW_EVENT_TYPES: [],
        state.OVERVIEW_SEGMENTS: [],
    }
    for name, value in defaults.items():
        key = state.overview_key(fingerprint, name)
        if not only_missing or key not in st.session_state:
            st.session_state[key] = value


# The filter bar's parts, by their name in ui.state (their key is per dataset).
FILTER_PARTS: Final = (
    state.OVERVIEW_DATES,
    state.OVERVIEW_CATEGORIES,
    state.OVERVIEW_BRANDS,
    state.OVERVIEW_EVENT_TYPES,
    state.OVERVIEW_SEGMENTS,
)


def filter_values(fingerprint: str, options: an.FilterOptions) -> dict[str, object]:
    """The filters of the page on this dataset, by session key (the defaults where not set
    yet): what an Undo puts back."""
    _reset_filters(fingerprint, options, only_missing=True)
    keys = [state.overview_key(fingerprint, name) for name in FILTER_PARTS]
    return {key: st.session_state[key] for key in keys}


def set_filters(fingerprint: str, options: an.FilterOptions, **values: object) -> None:
    """Set some filters of the page from elsewhere (a callback, before the page draws), by
    their name in ui.state (``categories=["Garden"]``); the others stay as they are."""
    _reset_filters(fingerprint, options, only_missing=True)
    for name, value in values.items():
        assert name in FILTER_PARTS, name
        st.session_state[state.overview_key(fingerprint, name)] = value


def clear_filters(fingerprint: str, options: an.FilterOptions) -> None:
    """What the Clear filters button does: every filter back to its default."""
    _reset_filters(fingerprint, options, only_missing=False)


def last_days(options: an.FilterOptions, days: int) -> tuple[dt.date, dt.date]:
    """The period of the data's last ``days`` days (all of it when shorter)."""
    assert options.start is not None and options.end is not None
    last = options.end.date()
    return max(options.start.date(), last - dt.timedelta(days=days - 1)), last


def _as_filter(values: Sequence[str]) -> tuple[str, ...] | None:
    return tuple(values) if values else None


# The filters after the period: the Selection's field (and FilterOptions'), label, widget key,
# what an empty choice keeps, and the tooltip.
CATEGORY_TIP: Final = (
    "Tip: click a bar of the Categories chart on the Products tab to filter by it."
)
FILTERS = (
    ("categories", "Category", state.OVERVIEW_CATEGORIES, "All categories", CATEGORY_TIP),
    ("brands", "Brand", state.OVERVIEW_BRANDS, "All brands", None),
    ("event_types", "Event types", state.OVERVIEW_EVENT_TYPES, "All event types", None),
)


FILTER_WIDTH = 200  # px: filters wrap onto another line on a narrow page rather than shrink
PERIOD_WIDTH = 250  # px: room for both dates


def _pick(
    label: str,
    options: Sequence[str],
    *,
    key: str,
    everything: str,
    help: str | None,
) -> list[str]:
    """A filter's multiselect: empty keeps ``everything``; disabled when there is nothing."""
    return st.multiselect(
        label,
        options,
        key=key,
        placeholder=everything if options else "None in this data",
        disabled=not options,
        help=help,
        persist_state="session",
        width=FILTER_WIDTH,
    )


def _choice(
    label: str, options: Iterable[OptionT], labels: Mapping[OptionT, str], *, key: str
) -> OptionT:
    """One of ``options`` as a row of radio buttons, each shown by its label."""
    choices = list(options)
    if st.session_state.get(key, choices[0]) not in choices:  # offered on other data
        del st.session_state[key]
    picked = st.radio(
        label, choices, format_func=lambda o: labels.get(o, str(o)), horizontal=True, key=key
    )
    return picked if picked is not None else choices[0]


def filter_bar(options: an.FilterOptions, fingerprint: str) -> Selection:
    """Period, category, brand and event-type filters for the whole page, and a reset button.

    An empty multiselect keeps everything; the period defaults to the data's last 30 days.
    """
    _reset_filters(fingerprint, options, only_missing=True)
    key = partial(state.overview_key, fingerprint)
    assert options.start is not None and options.end is not None
    with st.container(border=True, horizontal=True, vertical_alignment="bottom"):
        picked = st.date_input(
            "Period",
            min_value=options.start.date(),
            max_value=options.end.date(),
            format="YYYY-MM-DD",
            key=key(state.OVERVIEW_DATES),
            help="Every figure covers these days (the last one included). KPI changes compare "
            "with the same number of days just before.",
            persist_state="session",
            width=PERIOD_WIDTH,
        )
        chosen = {
            name: _pick(label, getattr(options, name), key=key(widget), everything=all_, help=tip)
            for name, label, widget, all_, tip in FILTERS
        }
        st.button(
            "Clear filters",
            key=state.OVERVIEW_CLEAR,
            on_click=_reset_filters,
            args=(fingerprint, options),
            kwargs={"only_missing": False},
        )
    days = tuple(picked) if isinstance(picked, tuple | list) else (picked,)
    first_day, last_day = (days[0], days[-1]) if days else default_period(options)
    if len(days) == 1:
        st.caption("Pick the period's last day too; meanwhile the page shows one day.")
    return Selection(
        first_day=first_day,
        last_day=last_day,
        **{name: _as_filter(values) for name, values in chosen.items()},
    )


def window_picker(options: an.FilterOptions) -> float:
    """The funnel's conversion window, in hours (no widget when the data has no funnel)."""
    steps = {schema.VIEW, schema.CART, schema.PURCHASE} & set(options.event_types)
    if len(steps) < 2:
        return an.DEFAULT_WINDOW_HOURS
    return st.select_slider(
        "Conversion window: steps count when they happen within this time of the first view",
        WINDOWS,
        value=an.DEFAULT_WINDOW_HOURS,
        format_func=oc.format_hours,
        key=state.OVERVIEW_WINDOW,
    )


def freq_picker() -> an.Freq:
    """The trend charts' period."""
    return _choice("Show per", FREQS, FREQS, key=state.OVERVIEW_FREQ)


def compute(
    shop: ShopData, filters: Selection, *, freq: an.Freq, window: float, categories: bool = True
) -> an.Overview:
    """The cached overview for these filters (``categories=False`` ignores the category
    filter, for the chart the categories are picked on)."""
    selection = filters if categories else dataclasses.replace(filters, categories=None)
    if (on_disk := state.dataset_folder(shop)) is not None:
        folder, stamp = on_disk
        return cache.dataset_overview(str(folder), stamp, selection, freq, window, TOP_N)
    return cache.overview(shop.fingerprint, shop, selection, freq, window, TOP_N)


# --- KPIs ----------------------------------------------------------------------------------


def kpi_tiles(kpis: an.KpiTable, filters: Selection, options: an.FilterOptions) -> None:
    """One tile per KPI with its change against the previous period of equal length."""
    event_types, data_start = options.event_types, options.start
    shown = kpis.answerable(event_types)
    tiles = widgets.row()
    for kpi in shown:
        row = kpis.table.loc[kpi]
        tiles.metric(
            str(row[an.LABEL]),
            an.format_kpi(kpis.value(kpi), str(row[an.UNIT])),
            delta=an.format_change(row),
            help=KPI_HELP.get(kpi),
            border=True,
            width=widgets.TILE_WIDTH,
        )
    before_first = kpis.previous_start.date()
    before_last = kpis.start.date() - dt.timedelta(days=1)
    text = (
        f"{filters.first_day:%Y-%m-%d} to {filters.last_day:%Y-%m-%d} ({filters.days} days), "
        f"compared with the {filters.days} days before: {before_first:%Y-%m-%d} to "
        f"{before_last:%Y-%m-%d}. Shares change in percentage points (pp)."
    )
    if kpis.table[an.PREVIOUS].isna().all():
        text += " The data starts inside this period, so there is nothing to compare with."
    elif not kpis.previous_complete:
        text += (
            f" ⚠️ The data starts on {data_start:%Y-%m-%d}, inside that previous period, so "
            "its figures are undercounted and the changes are too high."
        )
    missing = [  # postage and fees are not unanswerable when there are none: they are left out
        str(kpis.table.loc[k, an.LABEL])
        for k in kpis.table.index
        if k not in shown and k != an.NON_PRODUCT_REVENUE
    ]
    if missing:
        text += f" Not shown, as this data cannot answer them: {', '.join(missing).lower()}."
    st.caption(text)


def _missing_steps(funnel: an.Funnel, options: an.FilterOptions) -> tuple[list[str], list[str]]:
    """The funnel steps missing because the data has none, and because of the filter."""
    absent = [step for step in funnel.missing_steps if step not in options.event_types]
    hidden = [step for step in funnel.missing_steps if step in options.event_types]
    return absent, hidden


def notes(data: an.Overview, options: an.FilterOptions) -> None:
    """What this data cannot show, and why (from the analytics), in one box."""
    lines = list(data.notes)
    absent, hidden = _missing_steps(data.funnel, options)
    if absent and not hidden and data.funnel.message:
        lines.insert(0, data.funnel.message)
    if lines:
        st.info("\n".join(f"- {untrusted.plain_md(line)}" for line in lines))


# --- user lists ----------------------------------------------------------------------------


def _user_list(users: pd.DataFrame, *, file_name: str, key: str, what: str) -> None:
    if users.empty:
        st.write(f"No users {what}.")
        return
    widgets.table(users.head(USER_ROWS_SHOWN), hide_index=True, key=f"{key}.table")
    more = f"the first {USER_ROWS_SHOWN:,} of " if len(users) > USER_ROWS_SHOWN else ""
    st.caption(f"Showing {more}{len(users):,} users {what}; the download has all of them.")
    st.download_button(
        f"Download these {len(users):,} users (CSV)",
        lambda: to_safe_csv(users),
        file_name=file_name,
        mime="text/csv",
        key=f"{key}.download",
        on_click="ignore",
    )


def selection_users(shop: ShopData, filters: Selection) -> None:
    """The users behind the current filters ("show these users"), with a CSV download."""
    if not st.toggle(
        "Show these users",
        key=state.OVERVIEW_SHOW_USERS,
        help="List the users with an event in this selection (period and filters), biggest "
        "spenders first.",
    ):
        return
    if (on_disk := state.dataset_folder(shop)) is not None:
        users = cache.dataset_overview_users(str(on_disk[0]), on_disk[1], filters)
    else:
        users = cache.overview_users(shop.fingerprint, shop, filters)
    _user_list(
        users,
        file_name=f"users_{filters.first_day:%Y%m%d}_{filters.last_day:%Y%m%d}.csv",
        key="overview.users",
        what="with an event in this selection",
    )


# --- charts and clicks ---------------------------------------------------------------------


def _chart(figure: go.Figure, how_to_read: str, *, key: str) -> None:
    st.plotly_chart(figure, key=key)
    st.caption(how_to_read)


def _clicked(chart_key: str) -> list[str]:
    """The raw keys (``customdata``) of the points selected on a chart, in click order."""
    points = st.session_state[chart_key]["selection"]["points"]
    keys = []
    for point in points:
        value = point.get("customdata")
        if isinstance(value, list):
            value = value[0] if value else None
        if value is not None:
            keys.append(str(value))
    return list(dict.fromkeys(keys))


def _on_click(chart_key: str, target_key: str) -> None:
    """Copy a chart's clicked bars into ``target_key`` (a filter or a selection).

    The chart is drawn with the kept selection highlighted, so it is drawn anew after a click
    and Streamlit sends nothing for a click on the highlighted bar: clearing is a button.
    """
    st.session_state[target_key] = _clicked(chart_key)


def _clear(target_key: str) -> None:
    st.session_state[target_key] = []


# --- tabs ----------------------------------------------------------------------------------


def funnel_tab(data: an.Overview, options: an.FilterOptions) -> None:
    """Funnel steps and drop-off, split by segment, and the weekly conversion trend."""
    funnel = data.funnel
    absent, hidden = _missing_steps(funnel, options)
    if hidden:
        st.info(
            f"The event-type filter leaves out {' and '.join(hidden)} events"
            + (f" and the data has no {' or '.join(absent)} events" if absent else "")
            + (
                f", so the funnel shows {' → '.join(funnel.step_names)} only."
                if funnel.step_names
                else "."
            )
        )
    elif funnel.message and not funnel.missing_steps:  # missing steps are in the box on top
        st.info(untrusted.plain_md(funnel.message))
    if len(funnel.step_names) < 2:
        st.write(
            "A funnel needs at least two of the view, cart and purchase steps; "
            + (
                "widen the event-type filter to see one."
                if hidden
                else "load events that include views or add-to-carts on the Data page to see one."
            )
        )
        return
    if funnel.steps[an.USERS].iloc[0] == 0:
        return
    first, last = funnel.step_names[0], funnel.step_names[-1]
    st.metric(
        f"{first.capitalize()} → {last} within {oc.format_hours(funnel.window_hours)}",
        f"{funnel.steps[an.CONVERSION_FROM_FIRST].iloc[-1]:.1%}",
        help=f"Of the users whose first {first} falls in the period, the share who reached "
        f"{last} within the conversion window. Not the KPI “Buyers ÷ active users”, which "
        "divides by every active user, whether they viewed or not.",
    )
    left, right = st.columns(2)
    with left:
        _chart(
            oc.funnel_chart(funnel),
            "Each bar is the users who reached the step, in order and within the window of "
            "their first view in the period; the text gives the share kept from the step "
            "before and from the first step.",
            key="overview.chart.funnel",
        )
    with right:
        st.markdown("**Steps and drop-off**")
        widgets.table(
            funnel.steps,
            hide_index=True,
            column_order=[
                an.STEP,
                an.USERS,
                an.CONVERSION_FROM_PREVIOUS,
                an.CONVERSION_FROM_FIRST,
                an.DROP_OFF,
                an.MEDIAN_HOURS,
            ],
            column_config={
                an.STEP: "step",
                an.USERS: st.column_config.NumberColumn("users", format="localized"),
                an.CONVERSION_FROM_PREVIOUS: st.column_config.NumberColumn(
                    "of previous", format="percent"
                ),
                an.CONVERSION_FROM_FIRST: st.column_config.NumberColumn(
                    "of first", format="percent"
                ),
                an.DROP_OFF: st.column_config.NumberColumn("dropped off", format="localized"),
                an.MEDIAN_HOURS: st.column_config.NumberColumn("median hours", format="%.2f"),
            },
            key="overview.funnel_table",
        )
        st.caption(
            "Of previous / of first: the step's users as a share of the step before and of the "
            "first step. Dropped off: users who reached the step before but not this one. "
            "Median hours: how long those who went on took from the step before."
        )
    splits = {k: v for k, v in data.funnel_splits.items() if not v.steps.empty}
    if splits:
        by = _choice("Split the funnel by", splits, oc.SPLIT_LABELS, key=state.OVERVIEW_SPLIT)
        _chart(
            oc.funnel_split_chart(splits[by]),
            "One row per group, the most users entering first (at most 15 rows): each dot is "
            "the share of the group's users who went from one step to the next; the black star "
            "is the whole way. Groups far left of the others convert worse.",
            key="overview.chart.funnel_split",
        )
    _chart(
        oc.funnel_trend_chart(data.funnel_trend),
        "Users are grouped by the week of their first view; each line is the share who went "
        "on to the next step within the window. Open circles mark weeks whose window had not "
        "closed when the data ends, so their conversion is still too low; a week cut by the "
        "period's first day has fewer users.",
        key="overview.chart.funnel_trend",
    )


def trends_tab(data: an.Overview, freq: an.Freq) -> None:
    """Events by type, revenue and orders, active users, and the weekday × hour heatmap."""
    unit = oc.FREQ_LABELS[freq]
    _chart(
        oc.events_trend_chart(data.trends, freq),
        f"Events per {unit}, one panel per event type with its own scale, so small types "
        "stay readable; compare shapes, not heights. A first or last period cut by the "
        "date range looks low.",
        key="overview.chart.events",
    )
    left, right = st.columns(2)
    with left:
        _chart(
            oc.revenue_trend_chart(data.trends, freq, has_revenue=data.kpis.has_revenue),
            f"Bars: revenue per {unit} (price × quantity of purchase lines); line: orders per "
            f"{unit}, each counted on the day of its first line.",
            key="overview.chart.revenue",
        )
    with right:
        _chart(
            oc.active_users_chart(data.trends, freq),
            f"Distinct users with any event (active) and with a purchase (buyers) per {unit}; "
            "the gap between the lines is the users who did not buy.",
            key="overview.chart.active",
        )
    _chart(
        oc.hour_weekday_heatmap(data.heatmap),
        "Darker cells are busier hours, counted over the whole period in the data's time "
        "zone: plan campaigns and maintenance by them.",
        key="overview.chart.heatmap",
    )


def products_tab(
    data: an.Overview, base: an.Overview, filters: Selection, fingerprint: str
) -> None:
    """Top categories (click to filter), brands and items, conversion per category, prices
    and the long tail."""
    tops = data.top_categories or data.top_items
    if tops is None:
        st.info(
            "This data has no item ids and no categories, so there are no product figures. "
            "Map an item column (and load a product table for categories, brands and names) "
            "on the Data page."
        )
        return
    measure = _choice("Rank by", tops, oc.MEASURE_LABELS, key=state.OVERVIEW_MEASURE)
    label = oc.MEASURE_LABELS[measure]
    left, right = st.columns(2)
    if base.top_categories is not None:
        target = state.overview_key(fingerprint, state.OVERVIEW_CATEGORIES)
        with left:
            st.plotly_chart(
                oc.top_bar(
                    base.top_categories[measure],
                    key=schema.CATEGORY,
                    measure=measure,
                    title=f"Categories by {label} (click a bar to filter the page)",
                    selected=filters.categories or (),
                ),
                key=state.OVERVIEW_CATEGORY_CHART,
                on_select=partial(_on_click, state.OVERVIEW_CATEGORY_CHART, target),
                selection_mode="points",
            )
            st.caption(
                f"The top {TOP_N} categories by {label} in the period, under every filter but "
                "the category one. Click a bar to filter the whole page to it (it turns "
                "orange) and another to switch; undo with the button below or the × of the "
                "Category filter."
            )
            if filters.categories:
                st.button(
                    "Clear the category filter",
                    key="overview.clear_categories",
                    on_click=_clear,
                    args=(target,),
                )
    if data.top_brands is not None:
        with right:
            _chart(
                oc.top_bar(
                    data.top_brands[measure],
                    key=schema.BRAND,
                    measure=measure,
                    title=f"Brands by {label}",
                ),
                f"The top {TOP_N} brands by {label} under all the filters; brands come from the "
                "product table.",
                key="overview.chart.brands",
            )
    if data.top_items is not None:
        items = data.top_items[measure]
        names = schema.NAME if schema.NAME in items.columns else None
        _chart(
            oc.top_bar(
                items, key=schema.ITEM_ID, measure=measure, title=f"Items by {label}", label=names
            ),
            f"The top {TOP_N} items by {label}"
            + (", shown as name · item id" if names else "")
            + "; orders count the distinct orders containing the item.",
            key="overview.chart.items",
        )
        with st.expander("Top items as a table"):
            widgets.table(items, hide_index=True, key="overview.items_table")
    else:
        st.info(
            "This data has no item ids, so there are no item, price or long-tail figures; map "
            "an item column on the Data page."
        )
    for column, frame, draw, caption, key in zip(
        st.columns(2),
        (data.category_conversion, data.price_distribution),
        (oc.category_conversion_chart, oc.price_box_chart),
        (
            "Of the users who viewed a category in the period, the share who bought in it at "
            "or after their first view; hover for the counts. Small categories swing more.",
            "Each item with an event in the period counts once at its list price (else its last "
            "price seen). The box holds the middle half of the prices, the line is the median "
            "and the whiskers reach the 10th and 90th percentiles; the scale is logarithmic.",
        ),
        ("overview.chart.category_conversion", "overview.chart.prices"),
        strict=True,
    ):
        if frame is not None and not frame.empty:
            with column:
                _chart(draw(frame), caption, key=key)
    if data.long_tail is not None and data.long_tail.items:
        _chart(
            oc.long_tail_chart(data.long_tail),
            oc.describe_long_tail(data.long_tail)
            + " Items are sorted from best to worst seller; the further the curve bows above "
            "the dotted diagonal, the more sales depend on a few items.",
            key="overview.chart.long_tail",
        )


def customers_tab(data: an.Overview, fingerprint: str) -> None:
    """RFM segments (click to list their buyers), new vs returning users and cohorts."""
    target = state.overview_key(fingerprint, state.OVERVIEW_SEGMENTS)
    selected = st.session_state.get(target, [])
    if data.rfm.empty:
        st.write("No purchases up to the end of the period, so there are no RFM segments.")
    else:
        left, right = st.columns(2)
        with left:
            st.plotly_chart(
                oc.segment_bar(data.segments, selected=selected),
                key=state.OVERVIEW_SEGMENT_CHART,
                on_select=partial(_on_click, state.OVERVIEW_SEGMENT_CHART, target),
                selection_mode="points",
            )
            st.caption(
                "Every buyer up to the end of the period, scored 1–5 on recency and frequency "
                "of orders (quintiles) and named by the usual R × F map. Click a bar to list "
                "its buyers below."
            )
        with right:
            _chart(
                oc.segment_treemap(data.segments),
                "Each area is a segment's share of the buyers; compare it with the revenue "
                "share in the label to see which segments carry the shop.",
                key="overview.chart.treemap",
            )
        if selected:
            st.markdown(f"**Buyers in {untrusted.plain_md(', '.join(selected))}**")
            st.button(
                "Clear the segment selection",
                key=state.OVERVIEW_CLEAR_SEGMENTS,
                on_click=_clear,
                args=(target,),
            )
            _user_list(
                an.users_in_segment(data.rfm, selected),
                file_name=f"segment_users_{data.end:%Y%m%d}.csv",
                key="overview.segment_users",
                what="in the selected segments",
            )
        with st.expander("Segments as a table"):
            widgets.table(
                data.segments,
                hide_index=True,
                column_config={
                    an.USER_SHARE: st.column_config.NumberColumn("user share", format="percent"),
                    an.REVENUE_SHARE: st.column_config.NumberColumn(
                        "revenue share", format="percent"
                    ),
                    an.REVENUE: st.column_config.NumberColumn(format="%.2f"),
                    an.RECENCY_DAYS: st.column_config.NumberColumn(
                        "mean recency (days)", format="%.1f"
                    ),
                    an.FREQUENCY: st.column_config.NumberColumn("mean orders", format="%.2f"),
                    an.MONETARY: st.column_config.NumberColumn("mean spend", format="%.2f"),
                },
                key="overview.segments_table",
            )
    _chart(
        oc.new_vs_returning_chart(data.new_vs_returning),
        "Active users per week, split into new (their first event ever that week) and "
        "returning; a growing orange share means growth comes from acquisition. Weeks cut by "
        "the period's first or last day look low.",
        key="overview.chart.new_vs_returning",
    )
    metric = _choice(
        "Cohort retention counts users with", RETENTION, RETENTION, key=state.OVERVIEW_RETENTION
    )
    cohorts = data.retention[metric]
    if cohorts.shares.empty:
        st.write("No users before the end of the period, so there are no cohorts.")
        return
    _chart(
        oc.retention_heatmap(cohorts),
        (
            "Rows are users grouped by the month of their first event; each cell is the share "
            "of the row with an event that many months later."
            if metric == "active"
            else "Rows are buyers grouped by the month of their first purchase; each cell is "
            "the share of the row with a purchase that many months later."
        )
        + " Read across a row for how a cohort fades, down a column to compare cohorts; blank "
        "cells are still to come. The colour scale stops at the highest later month, so +0 "
        "(always 100%) is dark. Uses every event before the period end.",
        key="overview.chart.retention",
    )


def options(shop: ShopData) -> an.FilterOptions:
    """What the data can be filtered by; stops the page (pointing to the Data page) when the
    dataset has no events."""
    on_disk = state.dataset_folder(shop)
    found = (
        cache.dataset_overview_options(str(on_disk[0]), on_disk[1])
        if on_disk is not None
        else cache.overview_options(shop.fingerprint, shop)
    )
    if found.start is None:
        widgets.stop_for_data("This dataset has no events. Load a shop on the Data page.")
    return found


def compute_both(
    shop: ShopData, filters: Selection, *, freq: an.Freq, window: float
) -> tuple[an.Overview, an.Overview]:
    """The overview under the filters, and the one the category chart is drawn from (every
    category, so another one can be clicked); stops the page with one line on an error."""
    try:
        data = compute(shop, filters, freq=freq, window=window)
        base = (
            compute(shop, filters, freq=freq, window=window, categories=False)
            if filters.categories
            else data
        )
    except ShopLensError as err:
        st.error(untrusted.error_text(err))
        st.stop()
    return data, base


def summary(
    data: an.Overview, options: an.FilterOptions, filters: Selection, shop: ShopData
) -> None:
    """Notes, the KPI tiles and the users behind the selection; stops the page when nothing
    matches the filters."""
    notes(data, options)
    kpi_tiles(data.kpis, filters, options)
    if not data.kpis.value(an.ACTIVE_USERS):
        st.warning("No events match these filters in this period: widen it or clear a filter.")
        st.stop()
    selection_users(shop, filters)
