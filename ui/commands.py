"""The command box in the sidebar of every page: a command typed, or spoken into its
microphone and recognised offline, goes through one function, :func:`hear`, from text to its
action.

``hear`` runs in a widget callback, before the page draws its widgets, so it can set them:
the Overview's filters, a model page's form, the Recommendations page's user browser, the Runs
page's selection. A command of another page switches there on the next draw. Train and Stop
wait for a Confirm; a filter change can be undone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import streamlit as st

from core import commands
from core.commands.spec import COMMANDS_BY_INTENT
from core.commands.users import find_user
from core.errors import AudioError, ShopLensError
from core.ml.layers import format_hidden_layers
from ui import (
    cache,
    home,
    jobs,
    navigation,
    overview,
    purchase,
    recommendations,
    runs,
    state,
    trainer,
    untrusted,
    widgets,
)

if TYPE_CHECKING:
    from core.voice.recognise import Recogniser

BOX: Final = "commands.text"  # the text input
MICROPHONE: Final = "commands.microphone"  # the audio input
OUTCOME: Final = "commands.outcome"  # what the last command did (an Outcome)
GO: Final = "commands.go"  # the page to open on the next draw
CONFIRM: Final = "commands.confirm"
CANCEL: Final = "commands.cancel"
UNDO: Final = "commands.undo"
HEARD_CHARS: Final = 120  # of what was heard, shown at most


@dataclass(frozen=True)
class Pending:
    """An action waiting for Confirm: ``train`` or ``stop``, on which page, which job."""

    intent: str
    page: str
    job_id: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What a command did, or why it did nothing, as the box shows it.

    Attributes:
        heard: the text, as typed or heard.
        said: what was done, asked or refused, in a few words.
        ok: it was understood and done (or waits for Confirm).
        lines: more to show: what can be said here, or user ids to try.
        pending: the action waiting for Confirm / Cancel.
        undo: session values that undo it (a filter change).
    """

    heard: str
    said: str
    ok: bool = True
    lines: tuple[str, ...] = ()
    pending: Pending | None = None
    undo: Mapping[str, Any] | None = field(default=None)

    def line(self) -> str:
        """``Heard: “…” → <action>``, on one line, as Markdown that shows what was heard and
        the names in what was done (the user's text, the data's names) literally."""
        heard = " ".join(self.heard.split())
        if not heard:  # nothing was heard: a recording unreadable or silent
            return untrusted.plain_md(self.said)
        if len(heard) > HEARD_CHARS:
            heard = heard[: HEARD_CHARS - 1] + "…"
        return f"Heard: “{untrusted.plain_md(heard)}” → {untrusted.plain_md(self.said)}"


# --- from text to an action -------------------------------------------------------------------


@dataclass(frozen=True)
class ModelForm:
    """A model page's form, as the commands set it."""

    editor: state.LayerEditorKeys
    epochs: str
    horizon: tuple[str, str]  # the horizon's and the cutoff's keys
    press_train: Callable[[], None]


MODEL_FORMS: Final = {
    "purchase": ModelForm(
        state.PURCHASE_LAYER_EDITOR,
        state.PURCHASE_EPOCHS,
        (state.PURCHASE_HORIZON, state.PURCHASE_CUTOFF),
        purchase.press_train,
    ),
    "recommendations": ModelForm(
        state.RECS_LAYER_EDITOR,
        state.RECS_EPOCHS,
        (state.RECS_HORIZON, state.RECS_CUTOFF),
        recommendations.press_train,
    ),
}
# The background trainer's name of the trainings of each page.
TRAINER_PAGES: Final = {
    "purchase": purchase.PAGE,
    "recommendations": recommendations.PAGE,
    "runs": trainer.SWEEP_PAGE,
}


def names() -> commands.Names:
    """The category and brand names of the current dataset (the sample shop's until one is
    loaded: a command does not load it unless it acts on data), for the filter command."""
    shop = state.current_shop()
    if shop is None:
        return commands.Names()
    options = cache.overview_options(shop.fingerprint, shop)
    return commands.Names(tuple(options.categories), tuple(options.brands))


def hear(text: str, page: str) -> Outcome:
    """Carry out the command in ``text``, typed or heard on ``page`` (a key of
    ``core.commands.PAGES``), and keep what it did for the box to show. Call it from a widget
    callback: it sets other widgets' values."""
    heard = commands.interpret(text, names())
    command = heard.command
    if heard.problem is not None:
        outcome = Outcome(text, heard.problem, ok=False)
    elif command is None:
        outcome = Outcome(text, f"not a command. Did you mean: “{heard.suggestion}”?", ok=False)
    else:
        target = commands.where(command["intent"], page)
        if target is None:
            outcome = _somewhere_else(text, command)
        else:
            try:
                outcome = ACTIONS[command["intent"]](text, command, target)
            except ShopLensError as err:  # e.g. an unreadable runs folder
                outcome = Outcome(text, untrusted.public_message(err), ok=False)
            if target != page and outcome.ok and outcome.pending is None:
                go(target)
    st.session_state[OUTCOME] = outcome
    return outcome


def go(page: str) -> None:
    """Open ``page`` on the next draw (``box`` switches to it before the page runs)."""
    st.session_state[GO] = page


def _somewhere_else(text: str, command: dict[str, Any]) -> Outcome:
    spec = COMMANDS_BY_INTENT[command["intent"]]
    titles = " or ".join(commands.page_title(p) for p in spec.pages)
    first = commands.page_title(spec.pages[0]).lower()
    return Outcome(
        text,
        f"{commands.describe(command)} works on the {titles} page: say “open {first}” first.",
        ok=False,
    )


def _go(text: str, command: dict[str, Any], page: str) -> Outcome:
    go(command["page"])
    return Outcome(text, commands.describe(command))


def _help(text: str, command: dict[str, Any], page: str) -> Outcome:
    return Outcome(
        text,
        f"what you can say on the {commands.page_title(page)} page:",
        lines=tuple(commands.help_lines(page)),
    )


def _load_sample(text: str, command: dict[str, Any], page: str) -> Outcome:
    cleared = home.load_sample()
    note = " (models trained on the previous data were cleared)" if cleared else ""
    return Outcome(text, f"loaded the sample shop{note}")


def _overview_filters(
    text: str, said: str, change: Callable[[str, Any], None], *, data_note: str = ""
) -> Outcome:
    """Change the Overview's filters on the current dataset, keeping what undoes it."""
    shop = state.shop()
    options = cache.overview_options(shop.fingerprint, shop)
    if options.start is None:
        return Outcome(text, "this dataset has no events to filter.", ok=False)
    before = overview.filter_values(shop.fingerprint, options)
    change(shop.fingerprint, options)
    return Outcome(text, said + data_note, undo=before)


def _filter(text: str, command: dict[str, Any], page: str) -> Outcome:
    part = "category" if "category" in command else "brand"
    shop = state.shop()
    options = cache.overview_options(shop.fingerprint, shop)
    known = options.categories if part == "category" else options.brands
    name = next((n for n in known if " ".join(str(n).split()).lower() == command[part]), None)
    if name is None:
        return Outcome(text, f"this data has no {part} {command[part]}.", ok=False)
    key = state.OVERVIEW_CATEGORIES if part == "category" else state.OVERVIEW_BRANDS
    return _overview_filters(
        text,
        f"filter the Overview to {part} {name}",
        lambda fingerprint, opts: overview.set_filters(fingerprint, opts, **{key: [name]}),
    )


def _clear_filters(text: str, command: dict[str, Any], page: str) -> Outcome:
    return _overview_filters(text, commands.describe(command), overview.clear_filters)


def _period(text: str, command: dict[str, Any], page: str) -> Outcome:
    shop = state.shop()
    options = cache.overview_options(shop.fingerprint, shop)
    if options.start is None or options.end is None:
        return Outcome(text, "this dataset has no events to show.", ok=False)
    first, last = overview.last_days(options, command["days"])
    span = (last - first).days + 1
    note = f" (the data has only {span:,} days)" if span < command["days"] else ""
    return _overview_filters(
        text,
        f"show the Overview from {first:%Y-%m-%d} to {last:%Y-%m-%d}",
        lambda fingerprint, opts: overview.set_filters(
            fingerprint, opts, **{state.OVERVIEW_DATES: (first, last)}
        ),
        data_note=note,
    )


def _on_page(page: str) -> str:
    return f" on {commands.page_title(page)}"


def _layers(text: str, command: dict[str, Any], page: str) -> Outcome:
    widths = tuple(command["hidden"])
    widgets.set_layers(MODEL_FORMS[page].editor, widths)
    return Outcome(text, f"set the hidden layers to {format_hidden_layers(widths)}{_on_page(page)}")


def _epochs(text: str, command: dict[str, Any], page: str) -> Outcome:
    st.session_state[MODEL_FORMS[page].epochs] = command["epochs"]
    return Outcome(text, commands.describe(command) + _on_page(page))


def _horizon(text: str, command: dict[str, Any], page: str) -> Outcome:
    widgets.set_horizon(state.shop(), MODEL_FORMS[page].horizon, command["days"])
    return Outcome(text, commands.describe(command) + _on_page(page))


def _top_k(text: str, command: dict[str, Any], page: str) -> Outcome:
    choices = recommendations.K_CHOICES
    if command["k"] not in choices:
        offered = ", ".join(str(k) for k in choices[:-1]) + f" or {choices[-1]}"
        return Outcome(
            text, f"k on the Recommendations page is {offered} (got {command['k']}).", ok=False
        )
    st.session_state[state.RECS_K] = command["k"]
    return Outcome(text, commands.describe(command))


def _train(text: str, command: dict[str, Any], page: str) -> Outcome:
    if trainer.running(TRAINER_PAGES[page]) is not None:
        return Outcome(
            text,
            f"a training is already running{_on_page(page)}: say “stop training” to end it.",
            ok=False,
        )
    return Outcome(
        text, f"press Train{_on_page(page)}? Confirm or Cancel.", pending=Pending("train", page)
    )


def _stop(text: str, command: dict[str, Any], page: str) -> Outcome:
    jobs = trainer.running_jobs()
    here = jobs.get(TRAINER_PAGES.get(page, ""))
    if here is None and len(jobs) > 1:
        titles = " and ".join(trainer.PAGE_TITLES[p] for p in jobs)
        return Outcome(
            text, f"trainings run on {titles}: say it on the page of the one to stop.", ok=False
        )
    job = here or next(iter(jobs.values()), None)
    if job is None:
        return Outcome(text, "no training of yours is running.", ok=False)
    where = trainer.PAGE_TITLES[job.page]
    return Outcome(
        text,
        f"stop the {job.noun} on {where} ({trainer.note(job)})? Confirm or Cancel.",
        pending=Pending("stop", page, job.job_id),
    )


def _show_user(text: str, command: dict[str, Any], page: str) -> Outcome:
    shop = state.shop()
    said = command["user"]
    found = find_user(said, cache.user_ids(shop.fingerprint, shop))
    if found.user is None:
        what = f"several users match {said}" if found.several else f"no user {said} in this data"
        more = "; try one of these:" if found.candidates else "."
        return Outcome(text, what + more, ok=False, lines=found.candidates)
    recommendations.select_user(found.user)
    trained = recommendations.result() is not None
    note = "" if trained else " (train the recommender to see their recommendations)"
    return Outcome(text, f"show the recommendations for user {found.user}{note}")


def _ok_runs() -> list[str]:
    """The saved runs that can be compared, newest first."""
    return [info.run_id for info in state.run_store().runs() if info.ok]


def _compare_runs(text: str, command: dict[str, Any], page: str) -> Outcome:
    saved = _ok_runs()
    if not saved:
        return Outcome(text, "no runs are saved yet: train a model first.", ok=False)
    chosen = saved[: command["count"]]
    runs.select_runs(chosen)
    note = f" (only {len(saved)} saved)" if len(chosen) < command["count"] else ""
    return Outcome(text, f"compare the newest {len(chosen)} runs on the Runs page{note}")


def _report(text: str, command: dict[str, Any], page: str) -> Outcome:
    saved = _ok_runs()
    chosen = [r for r in runs.selected_runs() if r in saved] or saved[:1]
    if not chosen:
        return Outcome(text, "no runs are saved yet: train a model first.", ok=False)
    count = f"{len(chosen)} run{'s' * (len(chosen) != 1)}"
    runs.select_runs(
        chosen,
        notice=f"The report of the {count} selected is ready: press “Report of {count} "
        "(HTML)” below to download it.",
    )
    return Outcome(text, f"make the report of {count} on the Runs page")


Action = Callable[[str, dict[str, Any], str], Outcome]
# Each intent's action: given the text, the command and the page it acts on.
ACTIONS: Final[Mapping[str, Action]] = {
    "help": _help,
    "go": _go,
    "load_sample": _load_sample,
    "filter": _filter,
    "clear_filters": _clear_filters,
    "period": _period,
    "layers": _layers,
    "epochs": _epochs,
    "horizon": _horizon,
    "top_k": _top_k,
    "train": _train,
    "stop": _stop,
    "show_user": _show_user,
    "compare_runs": _compare_runs,
    "report": _report,
}


# --- the buttons under the box -------------------------------------------------------------------


def _confirm() -> None:
    outcome: Outcome = st.session_state[OUTCOME]
    pending = outcome.pending
    assert pending is not None
    if pending.intent == "train":
        MODEL_FORMS[pending.page].press_train()
        go(pending.page)
        said = f"pressed Train{_on_page(pending.page)}."
    else:
        job = jobs.find(trainer.TrainingJob, pending.job_id)
        if job is not None and job.running:
            job.request_stop()
            said = f"asked the {job.noun} to stop: it ends after the work under way."
        else:
            said = "the training had already ended."
    st.session_state[OUTCOME] = Outcome(outcome.heard, said)


def _cancel() -> None:
    outcome: Outcome = st.session_state[OUTCOME]
    st.session_state[OUTCOME] = Outcome(outcome.heard, "cancelled; nothing was done.")


def _undo() -> None:
    outcome: Outcome = st.session_state[OUTCOME]
    assert outcome.undo is not None
    st.session_state.update(outcome.undo)
    st.session_state[OUTCOME] = Outcome(outcome.heard, "undone: the filters are as before.")
    go("overview")


def _typed(page: str) -> None:
    text = st.session_state.get(BOX) or ""
    st.session_state[BOX] = ""  # ready for the next command, the same one included
    if text.strip():
        hear(text, page)


@st.cache_resource(show_spinner="Loading the speech recogniser…", max_entries=4)
def recogniser(categories: tuple[str, ...], brands: tuple[str, ...]) -> Recogniser:
    """The recogniser of every command, knowing these category and brand names: built once
    per set of names (about a second) and shared by every session."""
    from core.commands.voice import recogniser as build  # loads pocketsphinx, on first use

    return build(commands.Names(categories, brands))


def _spoken(page: str) -> None:
    recording = st.session_state.get(MICROPHONE)
    if recording is None:  # the recording was deleted
        return
    known = names()
    try:
        text = recogniser(known.categories, known.brands).recognise(
            recording.getvalue(), name="The recording"
        )
    except AudioError as err:
        st.session_state[OUTCOME] = Outcome("", untrusted.public_message(err), ok=False)
        return
    if text.text:
        hear(text.text, page)
    else:
        st.session_state[OUTCOME] = Outcome(
            "", "Nothing was heard: say the command again, close to the microphone.", ok=False
        )


def box(page: str) -> None:
    """The command box in the sidebar, for ``page`` (a key of ``core.commands.PAGES``): first
    opens the page a command asked for, then the text input and what the last command did,
    with Confirm / Cancel or Undo when it asks for them. Drawn before the page runs."""
    wanted = st.session_state.pop(GO, None)
    if wanted is not None and wanted != page:
        st.switch_page(navigation.script(wanted))
    with st.sidebar.container(border=True):
        st.text_input(
            "Command",
            key=BOX,
            on_change=_typed,
            args=(page,),
            placeholder="e.g. go to runs",
            help="Type what to do and press Enter: “filter category shoes”, “set epochs to "
            "fifty”, “show user 329”, “train the model”… “help” lists what this page "
            "understands.",
        )
        st.audio_input(
            "Or say it",
            key=MICROPHONE,
            sample_rate=16_000,
            on_change=_spoken,
            args=(page,),
            help="Record a command, e.g. “go to runs”; it is recognised on this server, "
            "offline, and done as if typed.",
        )
        outcome: Outcome | None = st.session_state.get(OUTCOME)
        if outcome is not None:
            _show(outcome)


def _show(outcome: Outcome) -> None:
    line = outcome.line()
    if outcome.pending is not None:
        st.info(line)
        buttons = widgets.row()
        buttons.button("Confirm", key=CONFIRM, type="primary", on_click=_confirm)
        buttons.button("Cancel", key=CANCEL, on_click=_cancel)
    elif outcome.ok:
        st.success(line)
    else:
        st.warning(line)
    for text in outcome.lines:
        st.caption(untrusted.plain_md(text))
    if outcome.undo is not None:
        st.button("Undo", key=UNDO, on_click=_undo, help="Put the Overview's filters back.")
