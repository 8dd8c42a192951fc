"""Saved runs in the app: reopening one on its page (also from the URL), and the widgets of
the Runs page — the registry table, comparison, actions, sweeps, bundles and the report."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass
from typing import Final, Protocol, TypeVar

import pandas as pd
import streamlit as st
from streamlit.elements.arrow import DataframeStateInput

from core import runs as rn
from core import services, sweep
from core.data.exports import sanitise_cell
from core.data.loading import ShopData
from core.errors import ShopLensError
from core.ml import metrics as m
from core.ml.layers import format_hidden_layers, parse_hidden_layers
from core.ml.network import PRESETS, NetworkConfig, TrainingProgress
from core.report import build_report
from core.runs import RunInfo, RunStore, bundles
from core.runs import charts as rch
from ui import cache, jobs, recommendations, state, trainer, untrusted, widgets
from ui import purchase as purchase_page

PAGES = {"purchase": "pages/2_Purchase_prediction.py", "recommend": "pages/4_Recommendations.py"}

TABLE = "runs.table"  # + ".<digest of the rows>": a new table (no stale selection) per rows
SELECTED = "runs.selected"  # the run ids selected last, kept across changes of the rows
FILTER_TASK = "runs.filter_task"
FILTER_DATA = "runs.filter_data"
FILTER_TAG = "runs.filter_tag"
ALL_SETTINGS = "runs.all_settings"
CURVES_NETWORK = "runs.curves_network"
OPEN = "runs.open"
RENAME_FORM = "runs.rename_form"
RENAME_NAME = "runs.rename_name"
RENAME_TAGS = "runs.rename_tags"
DELETE = "runs.delete"
DELETE_CONFIRM = "runs.delete_confirm"
DELETE_CANCEL = "runs.delete_cancel"
DELETE_PENDING = "runs.delete_pending"
BUNDLE = "runs.bundle"
REPORT = "runs.report"
IMPORT = "runs.import"
SWEEP_FORM = "runs.sweep_form"
SWEEP_TASK = "runs.sweep_task"
SWEEP_LAYERS = "runs.sweep_layers"
SWEEP_EXTRA = "runs.sweep_extra"
SWEEP_SEEDS = "runs.sweep_seeds"
SWEEP_EPOCHS = "runs.sweep_epochs"
SWEEP_RESULT = "runs.sweep_result"
SWEEP_STOP = "runs.sweep_stop"
OPEN_WARNINGS = "runs.open_warnings"  # {run id: warnings from loading it}, shown on its page


# --- opening a run ---------------------------------------------------------------------------


def open_run(run_id: str) -> str:
    """Make a saved run the current result of its page (switching to the data it was
    trained on when another dataset is loaded); returns its task.

    Raises:
        ShopLensError: one line, when the run cannot be opened.
    """
    store = state.run_store()
    loaded = store.load(run_id)
    manifest = loaded.manifest
    fingerprint = manifest.dataset.fingerprint
    shop = state.shop()
    if shop.fingerprint != fingerprint:
        with st.spinner("Loading the data this run was trained on…"):
            shop = store.load_dataset(fingerprint)
        state.use_kept_data(shop)
    with st.spinner("Opening the run and scoring it on its test window…"):
        if loaded.task == "purchase":
            settings = services.PurchaseSettings.of_run(manifest.config)
            data = cache.purchase_data(shop.fingerprint, shop, settings)
            purchase_page.set_result(services.open_purchase_run(loaded, shop, data=data))
            purchase_page.show_settings(settings)
        else:
            result = services.open_recommend_run(loaded, shop)
            recommendations.set_result(result)
            recommendations.show_settings(result.settings)
    st.session_state[OPEN_WARNINGS] = {run_id: loaded.warnings}
    return loaded.task


def shop_after_url(task: str, current_run: str | None) -> ShopData:
    """The data a model page works on, after opening the run named in the URL (``?run=``)
    when it is not the page's current result (so a refresh or a shared link shows the same
    run, on the data it was trained on). A bad id shows one line and is dropped."""
    _follow_url(task, current_run)
    return state.shop()


def _follow_url(task: str, current_run: str | None) -> None:
    wanted = st.query_params.get(state.RUN_QUERY)
    if not wanted or wanted == current_run:
        return
    try:
        info = state.run_store().info(wanted)
        if info.task != task:
            raise ShopLensError(
                f"Run {wanted} is a {rn.TASK_LABELS.get(info.task, info.task)} run; open it "
                "from the Runs page."
            )
        open_run(wanted)
    except ShopLensError as err:
        st.error(untrusted.error_text(err))  # it may quote the URL, which anyone can write
        del st.query_params[state.RUN_QUERY]
        return
    st.query_params[state.RUN_QUERY] = wanted


class _Trained(Protocol):
    @property
    def run_id(self) -> str | None: ...


TrainedT = TypeVar("TrainedT", bound=_Trained)


def results_heading(result: TrainedT | None) -> TrainedT:
    """A model page's Results heading and which saved run its ``result`` is, returned; before
    any training (no result) a hint to train instead, and the page stops there."""
    if result is None:
        st.info("Choose the hidden layers and settings above, then press **Train**.")
        st.stop()
    st.subheader("Results")
    _run_badge(result.run_id)
    return result


def _run_badge(run_id: str | None) -> None:
    """Which saved run the page shows, with a link to compare it with others."""
    if run_id is None:
        return
    info = _info_or_none(run_id)
    name = info.name if info is not None else run_id
    st.caption(
        f"Saved as run **{untrusted.plain_md(name)}** (`{run_id}`); compare it on the Runs page."
    )
    for warning in st.session_state.get(OPEN_WARNINGS, {}).get(run_id, ()):
        st.warning(untrusted.plain_md(warning))  # an imported bundle's manifest wrote them


def _info_or_none(run_id: str) -> RunInfo | None:
    try:
        return state.run_store().info(run_id)
    except ShopLensError:
        return None


# --- the registry table ----------------------------------------------------------------------


def runs_filters(table: pd.DataFrame) -> pd.DataFrame:
    """Task, data and tag filters above the table; returns the rows that pass."""
    cols = st.columns(3)
    tasks = cols[0].multiselect("Task", sorted(table["task"].unique()), key=FILTER_TASK)
    data_labels = {
        fp: f"{name} ({fp[:8]})"
        for fp, name in table.dropna(subset=["fingerprint"])
        .groupby("fingerprint")["data"]
        .first()
        .items()
    }
    chosen_data = cols[1].multiselect(
        "Data",
        list(data_labels),
        format_func=lambda fp: data_labels[fp],
        key=FILTER_DATA,
        help="Runs are comparable only on the same data (same fingerprint).",
    )
    tags = sorted({t for text in table["tags"] for t in text.split(", ") if t})
    chosen_tags = cols[2].multiselect("Tag", tags, key=FILTER_TAG)
    keep = pd.Series(True, index=table.index)
    if tasks:
        keep &= table["task"].isin(tasks)
    if chosen_data:
        keep &= table["fingerprint"].isin(chosen_data)
    if chosen_tags:
        keep &= table["tags"].map(lambda text: bool(set(text.split(", ")) & set(chosen_tags)))
    return table[keep]


def _headline_names(task: str) -> str:
    metrics = [m.METRICS[key] for key in m.HEADLINES[task]]
    return ", ".join(f"{c.name}@k" if c.at_k else c.name for c in metrics)


BEATS_HELP = (
    "Ticked only when the MLP beats the best baseline on every headline score of its task: "
    f"{_headline_names('purchase')} for purchase prediction, {_headline_names('recommend')} "
    "for recommendations. A tie is not a win."
)


def select_runs(run_ids: list[str], notice: str | None = None) -> None:
    """Select these runs in the Runs page's table from elsewhere (a callback, before the page
    draws), with its filters cleared so they are listed, and a notice shown above it."""
    session = st.session_state
    session[SELECTED] = list(run_ids)
    for key in [k for k in session if str(k).startswith(f"{TABLE}.")]:
        del session[key]  # the table is drawn anew, with these runs selected
    for key in (FILTER_TASK, FILTER_DATA, FILTER_TAG):
        session.pop(key, None)
    if notice:
        session[state.RUNS_NOTICE] = notice


def selected_runs() -> list[str]:
    """The run ids selected on the Runs page last."""
    return list(st.session_state.get(SELECTED) or [])


def runs_table(table: pd.DataFrame) -> list[str]:
    """The runs as a table to pick from; returns the selected run ids.

    A selection is kept by run id: when the rows change (a filter, a delete, new runs), the
    table is drawn anew with the same runs selected, never with whatever run moved into a
    selected row's position. The run in the URL is selected at first.
    """
    ids = [str(r) for r in table[rn.RUN_ID]]
    remembered = st.session_state.get(SELECTED)
    wanted = set(remembered if remembered is not None else [st.query_params.get(state.RUN_QUERY)])
    positions = [row for row, run_id in enumerate(ids) if run_id in wanted]
    default: DataframeStateInput | None = {"selection": {"rows": positions}} if positions else None
    digest = hashlib.sha256(" ".join(ids).encode()).hexdigest()[:16]
    # The table's own CSV download must not carry formulas from names or file names.
    shown = table.assign(**{c: table[c].map(sanitise_cell) for c in ("name", "data", "tags")})
    event = widgets.table(
        shown,
        hide_index=True,
        on_select="rerun",
        selection_mode="multi-row",
        selection_default=default,
        key=f"{TABLE}.{digest}",
        column_order=[
            "name",
            "task",
            "created",
            "hidden_layers",
            "seed",
            "data",
            "mse",
            "accuracy",
            "ndcg",
            "baseline_mse",
            "baseline_ndcg",
            "beats_baselines",
            "versus_baselines",
            "train_seconds",
            "tags",
            "status",
        ],  # fmt: skip
        column_config={
            "name": "name",
            "created": st.column_config.DatetimeColumn("created (UTC)", format="YYYY-MM-DD HH:mm"),
            "hidden_layers": "hidden layers",
            "data": "data file",
            "mse": st.column_config.NumberColumn("MSE", format="%.4f", help="Purchase runs."),
            "accuracy": st.column_config.NumberColumn("accuracy", format="%.3f"),
            "ndcg": st.column_config.NumberColumn(
                "NDCG@k", format="%.4f", help="Recommendation runs, at their k."
            ),
            "baseline_mse": st.column_config.NumberColumn(
                "best baseline MSE", format="%.4f", help="The best baseline on the same split."
            ),
            "baseline_ndcg": st.column_config.NumberColumn(
                "best baseline NDCG@k", format="%.4f", help="The best baseline on the same split."
            ),
            "beats_baselines": st.column_config.CheckboxColumn(
                "MLP beats baselines", help=BEATS_HELP
            ),
            "versus_baselines": st.column_config.TextColumn(
                "against the baselines",
                help="The headline scores the MLP wins, and those it ties or loses, with the "
                "baseline that beats it.",
            ),
            "train_seconds": st.column_config.NumberColumn("training (s)", format="%.1f"),
        },
    )
    rows = event.selection.rows if event is not None else []
    selected = [ids[r] for r in rows if 0 <= r < len(ids)]
    st.session_state[SELECTED] = selected
    return selected


# --- comparing the selected runs ---------------------------------------------------------------


def comparison(infos: list[RunInfo], table: pd.DataFrame) -> None:
    """Settings that differ, the MLP's scores side by side, scores by configuration and the
    overlaid training curves of the selected runs."""
    broken = [i for i in infos if not i.ok]
    for info in broken:
        reason = untrusted.error_text(str(info.problem))
        st.warning(f"Run {info.run_id} is broken: {reason}. It can only be deleted.")
    manifests = [i.manifest for i in infos if i.manifest is not None]
    for manifest in manifests:
        if manifest.stopped_at_epoch is not None:
            st.info(
                f"Run {untrusted.plain_md(manifest.name)} is stopped: its training was cut "
                f"short at epoch {manifest.stopped_at_epoch} and keeps its best epoch so far."
            )
    if not manifests:
        return
    left, right = st.columns(2)
    with left:
        st.markdown("**Settings**")
        show_all = len(manifests) == 1 or st.toggle("Show every setting", key=ALL_SETTINGS)
        diff = rn.config_diff(manifests, only_different=not show_all)
        if diff.empty:
            st.caption("The selected runs have the same settings (the seed included).")
        else:
            # Mixed types per row: shown as text, a setting a run does not have as a dash.
            shown = diff.astype(object).where(diff.notna(), widgets.MISSING).astype(str)
            widgets.table(shown, key="runs.settings_table")
    with right:
        st.markdown("**Scores of the MLP**")
        widgets.table(rn.metrics_side_by_side(manifests), key="runs.metrics_table")
        for manifest in manifests:
            verdict = rn.versus_baselines(manifest)
            if verdict:
                st.caption(
                    f"{untrusted.plain_md(rn.run_label(manifest))}: the MLP "
                    f"{untrusted.plain_md(verdict)}."
                )
    chosen = table[table[rn.RUN_ID].isin([mf.run_id for mf in manifests])]
    for task, metrics in (("purchase", ("mse", "accuracy")), ("recommend", ("ndcg",))):
        rows = chosen[chosen["task"] == rn.TASK_LABELS[task]]
        if rows.empty:
            continue
        columns = st.columns(len(metrics))
        for column, metric in zip(columns, metrics, strict=True):
            values = rows[metric]
            if values.isna().all():  # e.g. recommenders trained without a test window
                column.caption(f"No {metric} scores: these runs were not scored.")
                continue
            best = rows.loc[m.best_of(values.to_dict(), metric), rn.RUN_ID]
            column.plotly_chart(
                rch.configuration_scores(rows, metric, best_run=str(best)),
                key=f"runs.chart.{task}.{metric}",
            )
        st.caption(
            "One red dot per run at its hidden layers; the grey bar is the mean over seeds with "
            "± one standard deviation, the star the best run, the open diamond the best "
            "baseline on that run's split. Compare runs only on the same data, cutoff and H."
        )
    with_curves = {
        mf.run_id: {n for n, frame in mf.curves.items() if not frame.empty} for mf in manifests
    }
    networks = [n for n in rch.CURVE_TITLES if any(n in c for c in with_curves.values())]
    if not networks:
        st.caption("The selected runs have no training curves.")
        return
    network = st.radio(
        "Curves of",
        networks,
        format_func=lambda n: rch.CURVE_TITLES[n],
        horizontal=True,
        key=CURVES_NETWORK,
    )
    curves = {
        rn.run_label(mf): mf.curves[network]
        for mf in manifests
        if network in with_curves[mf.run_id]
    }
    st.plotly_chart(rch.overlaid_curves(curves, network), key="runs.chart.curves")
    st.caption(
        "A validation curve that rises while the training curve keeps falling is overfitting; "
        "each run kept the weights of its best validation epoch."
    )


# --- actions on one run ----------------------------------------------------------------------


def run_actions(store: RunStore, info: RunInfo) -> None:
    """Open, rename and tag, download the bundle, or delete (after a confirmation)."""
    run_id = info.run_id
    buttons = widgets.row()
    if info.ok and info.task not in PAGES:
        st.caption(
            "Product-photo runs keep their scores, curves and confusion matrix here and in the "
            "report; the photos are not kept, so train again on the Product photos page to see "
            "mistakes and similar products."
        )
    if info.ok:
        page = rn.TASK_LABELS.get(info.task, info.task)
        if info.task in PAGES and buttons.button(
            "Open", key=OPEN, type="primary", help=f"Make this run the model on the {page} page."
        ):
            try:
                task = open_run(run_id)
            except ShopLensError as err:
                st.error(untrusted.error_text(err))
                return
            st.switch_page(PAGES[task], query_params={state.RUN_QUERY: run_id})
        buttons.download_button(
            "Bundle (.zip)",
            data=lambda: bundles.export_bundle(store, run_id),
            file_name=f"shoplens-run-{rn.file_slug(info.name)}-{run_id[-8:]}.zip",
            mime="application/zip",
            key=BUNDLE,
            on_click="ignore",
            help="The model and its manifest, to import on another machine with the same data.",
        )
    if buttons.button("Delete…", key=DELETE):
        st.session_state[DELETE_PENDING] = run_id
    if st.session_state.get(DELETE_PENDING) == run_id:
        shown = untrusted.plain_md(info.name or run_id)
        st.warning(f"Delete run '{shown}'? Its model and scores are removed for good.")
        answer = widgets.row()
        if answer.button("Yes, delete", key=DELETE_CONFIRM, type="primary"):
            st.session_state.pop(DELETE_PENDING, None)
            try:
                store.delete(run_id)
            except ShopLensError as err:
                st.error(untrusted.error_text(err))
                return
            if st.query_params.get(state.RUN_QUERY) == run_id:
                del st.query_params[state.RUN_QUERY]
            st.session_state[state.RUNS_NOTICE] = f"Run '{shown}' was deleted."
            st.rerun()
        if answer.button("Cancel", key=DELETE_CANCEL):
            st.session_state.pop(DELETE_PENDING, None)
            st.rerun()
    if info.ok:
        with st.form(f"{RENAME_FORM}.{run_id}", border=False):
            left, right, button = st.columns([3, 3, 1], vertical_alignment="bottom")
            name = left.text_input("Name", value=info.name, key=f"{RENAME_NAME}.{run_id}")
            tags = right.text_input(
                "Tags",
                value=", ".join(info.tags),
                key=f"{RENAME_TAGS}.{run_id}",
                help="Comma-separated; letters a-z, digits, _ and -.",
            )
            if button.form_submit_button("Save"):
                try:
                    store.update(run_id, name=name, tags=tags)
                except ShopLensError as err:
                    st.error(untrusted.error_text(err))
                else:
                    st.rerun()


def report_download(store: RunStore, run_ids: list[str]) -> None:
    """A self-contained HTML report of the selected runs, for people without the app."""
    st.download_button(
        f"Report of {len(run_ids)} run{'s' if len(run_ids) > 1 else ''} (HTML)",
        data=lambda: build_report(store, run_ids).encode("utf-8"),
        file_name="shoplens-report.html",
        mime="text/html",
        key=REPORT,
        on_click="ignore",
        icon="📄",
        help="Scoreboards against the baselines, curves, importance and example users; opens "
        "in any browser without internet.",
    )


def import_bundle(store: RunStore) -> None:
    """Upload a bundle exported on another machine; it becomes a new run here."""
    upload = st.file_uploader(
        "Import a run bundle (.zip)",
        type=["zip"],
        key=IMPORT,
        help="Bundles are checked: only ShopLens models with an intact hash are accepted, and "
        "nothing in them is unpickled.",
    )
    if upload is None:
        return
    done_key = f"{IMPORT}.done.{upload.file_id}"
    if done_key in st.session_state:  # already imported on an earlier run of the page
        st.success(st.session_state[done_key])
        return
    try:
        run_id = bundles.import_bundle(store, upload.getvalue(), state.shop())
    except ShopLensError as err:
        st.error(f"{untrusted.plain_md(upload.name)}: {untrusted.error_text(err)}")
        return
    st.session_state[done_key] = f"Imported {untrusted.plain_md(upload.name)} as run {run_id}."
    st.rerun()


# --- sweeps ----------------------------------------------------------------------------------

DEFAULT_SWEEP = ("16", "64,32", "128,64,32")
TASK_CHOICES = ("purchase", "recommend")
SWEEP_DEFAULTS: Final = {SWEEP_LAYERS: list(DEFAULT_SWEEP), SWEEP_SEEDS: "0,1", SWEEP_EPOCHS: 200}


@dataclass(frozen=True)
class SweepRequest:
    """What a sweep was asked for (kept with its job, shown again after a refresh)."""

    task: str
    hidden: tuple[tuple[int, ...], ...]
    seeds: tuple[int, ...]
    epochs: int

    @property
    def points(self) -> int:
        """How many trainings the sweep has."""
        return len(self.hidden) * len(self.seeds)


@dataclass(frozen=True)
class SweepProgress(TrainingProgress):
    """A sweep's progress in the trainer's terms: ``epoch`` of ``epochs`` are the trainings
    done of all, ``seconds`` the time since the sweep started (so the time left is estimated
    as for epochs).

    Attributes:
        last: the training that finished last, e.g. ``64,32 seed 1`` (empty before the first).
        at_once: how many trainings the sweep runs at once.
    """

    last: str = ""
    at_once: int = 1


@dataclass(frozen=True)
class SweepShown:
    """The outcome of this session's last sweep, shown under the form until the next one."""

    task: str
    run_ids: tuple[str, ...]
    best_run_id: str | None
    stopped: bool
    points: int


def sweep_job() -> trainer.TrainingJob | None:
    """The sweep this session follows: the one it started, or the one named in the URL after a
    refresh (whose settings then fill the form)."""
    return trainer.current(trainer.SWEEP_PAGE, on_reattach=_show_sweep_request)


def sweep_open(job: trainer.TrainingJob | None) -> bool:
    """The sweep's section starts open: a sweep runs, or its outcome is shown."""
    return job is not None or SWEEP_RESULT in st.session_state


def sweep_form(store: RunStore, job: trainer.TrainingJob | None) -> None:
    """Train several hidden-layer configurations × seeds in the server's line of trainings,
    each saved as a run; follow the sweep under way (progress, Stop) and show the last one's
    outcome."""
    shop = state.shop()
    running = job is not None and job.running
    for key, value in SWEEP_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    with st.form(SWEEP_FORM):
        cols = st.columns([2, 3, 2, 1, 1])
        choices = [t for t in TASK_CHOICES if t == "purchase" or shop.has_items]
        task = cols[0].radio(
            "Model", choices, format_func=rn.TASK_LABELS.get, key=SWEEP_TASK, horizontal=True
        )
        presets = cols[1].multiselect("Hidden layers", PRESETS, key=SWEEP_LAYERS)
        extra = cols[2].text_input(
            "More configurations",
            key=SWEEP_EXTRA,
            placeholder="e.g. 48,24; 200",
            help="Other widths, configurations separated by ';'.",
        )
        seeds = cols[3].text_input("Seeds", key=SWEEP_SEEDS)
        epochs = cols[4].number_input(
            "Epochs (max)", 1, 1000, key=SWEEP_EPOCHS, help="Early stopping may end sooner."
        )
        submitted = st.form_submit_button(
            "Run sweep",
            type="primary",
            disabled=running,
            help="A sweep is under way; Stop it or wait for it." if running else None,
        )
    st.caption(
        "The other settings are each page's defaults (H = 30 days, the latest cutoff, k = 10, "
        f"purchase prediction on at most {purchase_page.PAGE_MAX_USERS:,} users drawn at random). "
        f"{_at_once_text()} Each run is saved as it finishes."
    )
    if submitted and not running:
        try:
            hidden = _sweep_layers(presets, extra)
            request = SweepRequest(
                str(task), tuple(hidden), tuple(sweep.parse_seeds(seeds)), int(epochs)
            )
            sweep.sweep_points(request.hidden, request.seeds)
        except ShopLensError as err:
            st.error(untrusted.error_text(err))
        else:
            st.session_state.pop(SWEEP_RESULT, None)
            trainer.start(
                trainer.SWEEP_PAGE,
                f"of {request.points} training{'s' * (request.points != 1)}",
                request,
                sweep_work(shop, store, request),
                width=request.points,
            )
    if job is not None:
        trainer.follow(
            job,
            drawn_running=running,
            stop_key=SWEEP_STOP,
            epoch_text=sweep_text,
            stop_help="Start no more trainings; those under way finish and are saved as runs.",
            stopping_text="Stopping: no more trainings start; those under way finish and are "
            "saved…",
        )
        _keep_sweep_result(jobs.collect(job), job.settings)
    _sweep_result(store)


def _at_once_text() -> str:
    """How many trainings a sweep runs at once: the server's training slots free when it
    starts (it waits in line for the first like any training)."""
    if trainer.SLOT_COUNT == 1:
        return "Runs train one at a time: the server has one training slot, shared by everyone."
    return (
        f"Runs train up to {trainer.SLOT_COUNT} at a time: the sweep waits in line for one of "
        f"the server's {trainer.SLOT_COUNT} training slots, then also takes any others free "
        "at that moment."
    )


def sweep_work(shop: ShopData, store: RunStore, request: SweepRequest) -> trainer.Work:
    """The sweep run by the trainer: as many trainings at once as its job holds slots, its
    progress reported as trainings done, and Stop starting no more of them."""
    network = dataclasses.replace(NetworkConfig(), epochs=request.epochs)
    base: sweep.Settings
    if request.task == "purchase":
        base = services.PurchaseSettings(network, max_users=purchase_page.PAGE_MAX_USERS)
    else:
        config = dataclasses.replace(services.RecommendSettings().config, network=network)
        base = services.RecommendSettings(config)

    def work(job: trainer.TrainingJob) -> sweep.SweepResult:
        started = time.monotonic()
        at_once = job.slots  # never more than its trainings: the job is that wide
        job.report(SweepProgress("training", 0, request.points, at_once=at_once))

        def on_done(done: int, total: int, run: sweep.SweepRun) -> None:
            seconds = time.monotonic() - started
            job.report(
                SweepProgress("training", done, total, seconds, last=run.label, at_once=at_once)
            )

        return sweep.sweep(
            shop,
            store,
            base=base,
            hidden=request.hidden,
            seeds=request.seeds,
            jobs=at_once,
            on_done=on_done,
            should_stop=lambda: job.stopping,
        )

    return work


def sweep_text(progress: TrainingProgress) -> str:
    """``2 of 6 trainings done · last: 64,32 seed 1`` (before the first: how many at once)."""
    done = f"{progress.epoch} of {progress.epochs} trainings done"
    if not isinstance(progress, SweepProgress):
        return done
    if progress.last:
        return f"{done} · last: {progress.last}"
    return f"{done} · {progress.at_once} at a time"


def _keep_sweep_result(outcome: sweep.SweepResult | None, request: SweepRequest) -> None:
    if outcome is None:  # its error was shown
        return
    st.session_state[SWEEP_RESULT] = SweepShown(
        request.task,
        tuple(run.run_id for run in outcome.runs),
        outcome.best_run_id,
        outcome.stopped,
        outcome.points,
    )


def _show_sweep_request(request: SweepRequest) -> None:
    """Put a re-attached sweep's settings in the form."""
    texts = [format_hidden_layers(h) for h in request.hidden]
    st.session_state[SWEEP_TASK] = request.task
    st.session_state[SWEEP_LAYERS] = [t for t in texts if t in PRESETS]
    st.session_state[SWEEP_EXTRA] = "; ".join(t for t in texts if t not in PRESETS)
    st.session_state[SWEEP_SEEDS] = ",".join(str(seed) for seed in request.seeds)
    st.session_state[SWEEP_EPOCHS] = request.epochs


def _sweep_layers(presets: list[str], extra: str) -> list[tuple[int, ...]]:
    texts = [*presets, *[t for t in extra.split(";") if t.strip()]]
    layers = [parse_hidden_layers(t) for t in texts]
    return list(dict.fromkeys(layers))


def _sweep_result(store: RunStore) -> None:
    shown: SweepShown | None = st.session_state.get(SWEEP_RESULT)
    if shown is None:
        return
    if not shown.run_ids:
        st.info("The sweep was stopped before any training finished; no run was saved.")
        return
    try:
        infos = [i for i in store.runs() if i.run_id in set(shown.run_ids) and i.ok]
    except ShopLensError:
        return  # the page itself reports an unreadable runs folder
    if shown.stopped:
        st.info(
            f"The sweep was stopped: {len(shown.run_ids)} of {shown.points} trainings finished "
            "and were saved; the others did not start."
        )
    if not infos:
        return
    table = rn.runs_table(infos)
    metric = m.HEADLINE[shown.task]
    best = shown.best_run_id
    best_info = next((i for i in infos if i.run_id == best), None)
    if best_info is not None:
        st.success(
            f"Best of {len(infos)} run{'s' * (len(infos) != 1)}: "
            f"{untrusted.plain_md(best_info.name)} ({metric} "
            f"{table.set_index(rn.RUN_ID).loc[best, metric]:.4f})."
        )
    st.plotly_chart(rch.configuration_scores(table, metric, best_run=best), key="runs.chart.sweep")
    st.caption(
        "Each configuration's dots are its seeds; a wide spread means the difference between "
        "configurations may be luck. Select the runs in the table above to compare them."
    )


def runs_on_this_data(task: str) -> pd.DataFrame:
    """The saved runs of ``task`` on the current dataset, oldest first (for a page's history)."""
    fingerprint = state.shop().fingerprint
    try:
        infos = [i for i in state.run_store().runs() if i.ok and i.task == task]
    except ShopLensError as err:
        st.warning(untrusted.error_text(err))
        infos = []
    table = rn.runs_table(infos)
    table = table[table["fingerprint"] == fingerprint]
    return table.sort_values("created", ignore_index=True)


def listed(store: RunStore) -> list[RunInfo]:
    """Every run of the store; stops the page with one line when the folder cannot be read,
    and with a pointer to the model pages when there is none."""
    try:
        infos = store.runs()
    except ShopLensError as err:
        st.error(untrusted.error_text(err))
        st.stop()
    if not infos:
        st.info(
            "No runs yet. Train a model on the Purchase prediction or Recommendations page, or "
            "run a sweep above; each training is saved here."
        )
        st.stop()
    return infos


def registry(infos: list[RunInfo]) -> tuple[list[RunInfo], pd.DataFrame]:
    """The filters and the table of runs; returns the selected runs and the rows shown (stops
    when no run is selected)."""
    table = runs_filters(rn.runs_table(infos))
    selected = runs_table(table)
    if not selected:
        st.caption(f"{len(table)} of {len(infos)} runs shown. Select rows to compare them.")
        st.stop()
    return [info for info in infos if info.run_id in selected], table


def selection(store: RunStore, chosen: list[RunInfo], table: pd.DataFrame) -> None:
    """Actions on one selected run, the report of the selected runs and their comparison."""
    st.subheader(f"{len(chosen)} run{'s' if len(chosen) > 1 else ''} selected")
    if len(chosen) == 1:
        run_actions(store, chosen[0])
    ok = [info.run_id for info in chosen if info.ok]
    if ok:
        report_download(store, ok)
    comparison(chosen, table)
