"""Widgets every page shares: form values seeded through session
state, charts with their how-to-read caption, and the hidden-layer editor of the model pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, NoReturn, TypeVar

import plotly.graph_objects as go
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core import plotting
from core.data.loading import ShopData
from core.ml.layers import (
    MAX_LAYERS,
    MAX_UNITS,
    HiddenLayersError,
    format_hidden_layers,
    parse_hidden_layers,
)
from core.ml.network import PRESETS, NetworkConfig
from core.ml.timesplit import default_cutoff
from core.params import HORIZON, Constraint, Whole
from ui import cache, state, untrusted

SettingsT = TypeVar("SettingsT")


@dataclass(frozen=True)
class TrainingRequest(Generic[SettingsT]):
    """A model form's values: ``settings`` is None while the hidden layers are invalid, and
    ``running`` says Train was drawn disabled because a training was under way."""

    submitted: bool
    settings: SettingsT | None
    running: bool = False


def seed_widgets(values: Mapping[str, object]) -> None:
    """First values of widgets, given through session state (so that opening a saved run can
    set them too); widgets seeded this way take no default of their own."""
    for key, value in values.items():
        st.session_state.setdefault(key, value)


def show_in_form(
    values: Mapping[str, object], editor: state.LayerEditorKeys, layers: tuple[int, ...]
) -> None:
    """Put settings in a model page's form (``values``, by widget key) and ``layers`` in its
    layer editor: an opened run's, or those of a training re-attached after a refresh, ready
    to tune from there."""
    st.session_state.update(values)
    st.session_state[editor.layers] = layers
    st.session_state.pop(editor.text, None)  # redrawn from the layers on the next draw


def stop_for_data(message: str) -> NoReturn:
    """A prerequisite the data lacks: say what and where to fix it, link the Data page, and
    stop the page (not an error: the user loads other data)."""
    st.info(message)
    st.page_link("pages/1_Data.py", label="Go to Data", icon="🗂️")
    st.stop()


MISSING = plotting.MISSING  # a table's missing value (Streamlit's own is a literal "None")


def table(data: Any, *, where: DeltaGenerator | None = None, **options: Any) -> Any:
    """``st.dataframe`` with missing values shown as a dash; every table of the app goes
    through it. ``where`` is a column or container to draw in (default: the page)."""
    if where is None:
        return st.dataframe(data, placeholder=MISSING, **options)
    return where.dataframe(data, placeholder=MISSING, **options)


FIELD_WIDTH: Final = 180  # px: a date or number field in a row that wraps
TILE_WIDTH: Final = "content"  # a KPI tile is as wide as its value: never cut short


def row() -> DeltaGenerator:
    """Tiles or buttons side by side that wrap onto another line when the page is narrow, so
    values and labels are never cut short."""
    return st.container(horizontal=True, gap="small")


def tiles(values: Mapping[str, str], help: Mapping[str, str] | None = None) -> None:
    """A row of figures, label -> value (with an optional hover per label), that wraps on a
    narrow page."""
    shown = row()
    for label, value in values.items():
        shown.metric(label, value, help=(help or {}).get(label), width=TILE_WIDTH)


def chart(figure: go.Figure, how_to_read: str, *, key: str, half: bool = False) -> None:
    """A figure and, under it, how to read it; ``half`` puts the legend below the plot, for
    half-width columns."""
    st.plotly_chart(plotting.legend_below(figure) if half else figure, key=key)
    st.caption(how_to_read)


def with_default(options: Sequence[float], default: float) -> list[float]:
    """A slider's options plus the setting's default (or an opened run's value), in order."""
    return sorted({*options, default})


# --- the settings of a network, as form widgets ----------------------------------------------

ALPHAS = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0)
LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1)


def whole_input(
    column: DeltaGenerator,
    label: str,
    constraint: Constraint,
    *,
    key: str,
    help: str | None = None,
    on_change: Callable[[], None] | None = None,
    width: int | None = None,
) -> int:
    """A number input whose limits are its setting's own constraint (``width`` in px: a
    fixed width, in a row that wraps)."""
    assert isinstance(constraint, Whole)
    value = column.number_input(
        label,
        constraint.low,
        constraint.high,
        key=key,
        help=help,
        on_change=on_change,
        width=width or "stretch",
    )
    return int(value)


def time_split(
    shop: ShopData,
    *,
    keys: tuple[str, str],
    horizon_help: str,
    cutoff_help: str,
    cutoff_used: bool = True,
) -> None:
    """The horizon H and the cutoff date of a model page, outside its form so that a cutoff the
    data cannot take is refused at once. The cutoff always shows the date in use: an empty one
    becomes the latest date that leaves H days of data, and it follows H while it is that date.

    Args:
        shop: the data.
        keys: the horizon's and the cutoff's widget keys.
        horizon_help: what the horizon means on this page.
        cutoff_help: what the cutoff means on this page.
        cutoff_used: False draws the cutoff disabled (a training that scores nothing).
    """
    horizon_key, cutoff_key = keys
    session = st.session_state
    summary = cache.shop_profile(shop.fingerprint, shop)
    first, last = summary.start.date(), summary.end.date()
    shown = _shown_horizon(horizon_key)

    def latest(horizon: int) -> dt.date:
        return _latest_cutoff(shop, horizon)

    def follow_horizon() -> None:
        before = session.get(shown)
        if before is not None and session.get(cutoff_key) == latest(before):
            session[cutoff_key] = latest(session[horizon_key])

    if session.get(cutoff_key) is None:
        session[cutoff_key] = latest(session[horizon_key])
    split = row()
    whole_input(
        split,
        "Horizon H (days)",
        HORIZON,
        key=horizon_key,
        help=horizon_help,
        on_change=follow_horizon,
        width=FIELD_WIDTH,
    )
    session[shown] = session[horizon_key]
    split.date_input(
        "Cutoff date",
        min_value=first,
        max_value=last,
        format="YYYY-MM-DD",
        key=cutoff_key,
        disabled=not cutoff_used,
        width=FIELD_WIDTH,
        help=f"{cutoff_help} The latest date that leaves H days of data is "
        f"{latest(session[horizon_key]):%Y-%m-%d}; clearing the field picks it.",
    )


def _shown_horizon(horizon_key: str) -> str:
    """Key of the horizon the cutoff was last drawn with."""
    return f"{horizon_key}.shown"


def _latest_cutoff(shop: ShopData, horizon: int) -> dt.date:
    """The latest cutoff that leaves ``horizon`` days of data, within the data's days."""
    summary = cache.shop_profile(shop.fingerprint, shop)
    day = default_cutoff(shop.events.frame, horizon).date()
    return min(max(day, summary.start.date()), summary.end.date())


def set_horizon(shop: ShopData, keys: tuple[str, str], days: int) -> None:
    """Set a model page's horizon from elsewhere (a callback, before the page draws): the
    cutoff follows it while it is the latest date, as when the horizon is typed."""
    horizon_key, cutoff_key = keys
    session = st.session_state
    before = session.get(_shown_horizon(horizon_key))
    if before is not None and session.get(cutoff_key) == _latest_cutoff(shop, before):
        session[cutoff_key] = _latest_cutoff(shop, days)
    session[horizon_key] = days


def pressed_elsewhere(key: str, submitted: bool, *, disabled: bool, why: str | None) -> bool:
    """A form's Train, pressed on its own or from elsewhere (``key`` set by the command box
    after its confirmation). When it was disabled, it says why it was not pressed."""
    if not st.session_state.pop(key, False):
        return submitted
    if disabled:
        st.warning(f"Train was not pressed: {why or 'the settings above are not valid.'}")
        return submitted
    return True


def train_help(*, running: bool, problem: str | None) -> str | None:
    """Why Train is disabled: a training under way, or the settings' problem."""
    if running:
        return "A training is running: press Stop below to end it."
    return f"Fix the settings first: {problem}" if problem else None


def alpha_slider(column: DeltaGenerator, *, key: str) -> float:
    """The L2 penalty α, from a few orders of magnitude (and the current value)."""
    help_text = "Larger values keep the weights small (smoother fit)."
    return _slider(column, "L2 penalty α", ALPHAS, key=key, help=help_text)


def learning_rate_slider(column: DeltaGenerator, *, key: str) -> float:
    """The initial learning rate, from a few steps (and the current value)."""
    return _slider(column, "Learning rate", LEARNING_RATES, key=key)


def _slider(
    column: DeltaGenerator,
    label: str,
    options: Sequence[float],
    *,
    key: str,
    help: str | None = None,
) -> float:
    choices = with_default(options, st.session_state[key])
    picked = column.select_slider(label, choices, format_func="{:g}".format, key=key, help=help)
    return float(picked)


# --- the hidden-layer editor of every model page ----------------------------------------

CUSTOM = "custom"


def set_layers(keys: state.LayerEditorKeys, widths: tuple[int, ...]) -> None:
    """Make ``widths`` the layers and show them in every part of the editor (callbacks only,
    or before the editor is drawn)."""
    _set_layers(keys, widths)


def _set_layers(keys: state.LayerEditorKeys, widths: tuple[int, ...]) -> None:
    """Make ``widths`` the layers and show them in every part of the editor (callbacks only)."""
    session = st.session_state
    text = format_hidden_layers(widths)
    session[keys.layers] = widths
    session[keys.text] = text
    session[keys.preset] = text if text in PRESETS else CUSTOM
    for position, width in enumerate(widths):
        session[keys.layer(position)] = width


def _on_preset(keys: state.LayerEditorKeys) -> None:
    choice = st.session_state[keys.preset]
    if choice != CUSTOM:
        _set_layers(keys, parse_hidden_layers(choice))


def _on_width(keys: state.LayerEditorKeys) -> None:
    count = len(st.session_state[keys.layers])
    _set_layers(keys, tuple(int(st.session_state[keys.layer(i)]) for i in range(count)))


def _on_add_layer(keys: state.LayerEditorKeys) -> None:
    widths = st.session_state[keys.layers]
    if len(widths) < MAX_LAYERS:
        _set_layers(keys, (*widths, max(1, widths[-1] // 2)))


def _on_remove_layer(keys: state.LayerEditorKeys) -> None:
    widths = st.session_state[keys.layers]
    if len(widths) > 1:
        _set_layers(keys, widths[:-1])


def _on_text(keys: state.LayerEditorKeys) -> None:
    try:
        _set_layers(keys, parse_hidden_layers(st.session_state[keys.text]))
    except HiddenLayersError:
        pass  # the editor shows the message on this run


def hidden_layer_editor(
    keys: state.LayerEditorKeys,
    *,
    default: tuple[int, ...] = NetworkConfig().hidden_layers,
    inputs: str,
    outputs: str,
) -> tuple[int, ...] | None:
    """Hidden layers, TensorFlow-Playground style: a preset, one width per layer with Add /
    Remove layer buttons (1 to 6 layers of 1 to 1024 units), or the widths typed as "64,32".

    Args:
        keys: the page's widget keys, so each page keeps its own layers.
        default: the layers on a first visit.
        inputs: what enters the network, for the caption.
        outputs: what leaves it, for the caption.

    Returns:
        the widths, or ``None`` while the typed text is not valid (its message is shown).
    """
    session = st.session_state
    widths = session.setdefault(keys.layers, default)
    needed = [keys.text, keys.preset, *map(keys.layer, range(len(widths)))]
    if any(k not in session for k in needed):
        _set_layers(keys, widths)  # first visit, or the widgets were cleaned up on another page
    top = st.columns([1, 1, 2], vertical_alignment="bottom")
    top[0].selectbox(
        "Preset",
        [*PRESETS, CUSTOM],
        key=keys.preset,
        on_change=_on_preset,
        args=(keys,),
        help="Widths of the hidden layers, first layer first.",
    )
    top[1].text_input(
        "Or type the widths",
        key=keys.text,
        on_change=_on_text,
        args=(keys,),
        help=f"1 to {MAX_LAYERS} whole numbers of 1 to {MAX_UNITS} units, e.g. 64,32; "
        "press Enter to apply.",
    )
    cells = st.columns(MAX_LAYERS)
    for position in range(len(widths)):
        cells[position].number_input(
            f"Layer {position + 1} (units)",
            min_value=1,
            max_value=MAX_UNITS,
            step=1,
            key=keys.layer(position),
            on_change=_on_width,
            args=(keys,),
        )
    buttons = row()
    for label, key, change, disabled in (
        ("Add layer", keys.add, _on_add_layer, len(widths) >= MAX_LAYERS),
        ("Remove layer", keys.remove, _on_remove_layer, len(widths) <= 1),
    ):
        buttons.button(label, key=key, on_click=change, args=(keys,), disabled=disabled)
    try:
        parsed = parse_hidden_layers(session[keys.text])
    except HiddenLayersError as err:
        st.error(untrusted.plain_md(err))
        return None
    arrows = " → ".join(str(w) for w in parsed)
    top[2].caption(f"{inputs} → **{arrows}** → {outputs}")
    return parsed
