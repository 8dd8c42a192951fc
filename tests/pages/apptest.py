"""Running the app's pages with Streamlit's AppTest, and reading what they show."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from streamlit.testing.v1 import AppTest

from ui import jobs, state, trainer

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120  # seconds a script run may take: a cold run loads the sample shop
APP = "app.py"
HOME = "pages/0_Home.py"
DATA = "pages/1_Data.py"
PURCHASE = "pages/2_Purchase_prediction.py"
OVERVIEW = "pages/3_Overview.py"
RECOMMENDATIONS = "pages/4_Recommendations.py"
RUNS = "pages/5_Runs.py"


def page_test(
    script: str,
    *,
    query: Mapping[str, str] | None = None,
    session: Mapping[str, Any] | None = None,
    through_app: bool = False,
) -> AppTest:
    """An AppTest of ``script`` (relative to the project), not run yet, with these query
    parameters and session state. ``through_app`` starts at app.py and switches to the page, so
    that page links resolve as in the running app."""
    at = AppTest.from_file(str(ROOT / (APP if through_app else script)), default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    for key, value in (session or {}).items():
        at.session_state[key] = value
    return at.switch_page(script) if through_app else at


def run_page(script: str, **options: Any) -> AppTest:
    """``page_test`` run once."""
    return page_test(script, **options).run()


def inside_app(at: AppTest) -> AppTest:
    """Make the next run go through app.py (and its sidebar) again. AppTest resets Streamlit's
    ``pages/`` discovery before every run, so after a page switch it runs the page script on
    its own; ``ui.state.run_inside_app`` corrects that once per session, as on a freshly started
    server, and is let to do it again."""
    if state.INSIDE_APP in at.session_state:
        del at.session_state[state.INSIDE_APP]
    return at


def metric(at: AppTest, label: str) -> str:
    """The value shown by the metric tile called ``label``."""
    return next(m.value for m in at.metric if m.label == label)


def table(at: AppTest, column: str) -> pd.DataFrame:
    """The first dataframe on the page that has ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def train_purchase(at: AppTest, layers: str, epochs: int) -> AppTest:
    """On the Purchase prediction page: type the hidden layers (a run of its own), set the
    epochs and press Train."""
    at.text_input(key=state.PURCHASE_LAYERS_TEXT).input(layers).run()
    at.number_input(key=state.PURCHASE_EPOCHS).set_value(epochs)
    return at.button(key=state.PURCHASE_TRAIN).click().run()


def train_recommender(
    at: AppTest,
    *,
    layers: str = "8",
    epochs: int = 5,
    k: int | None = None,
    mode: str | None = None,
) -> AppTest:
    """On the Recommendations page: type the layers (a run of its own), then set the form's
    fields and press Train."""
    at.text_input(key=state.RECS_LAYERS_TEXT).input(layers).run()
    at.number_input(key=state.RECS_EPOCHS).set_value(epochs)
    if k is not None:
        at.radio(key=state.RECS_K).set_value(k)
    if mode is not None:
        at.radio(key=state.RECS_MODE).set_value(mode)
    return at.button(key=state.RECS_TRAIN).click().run()


def finished_training(
    page: str,
    train: Callable[..., Any],
    *,
    stop_at: int | None = None,
    stop_first: bool = False,
) -> trainer.TrainingJob:
    """A training of ``page`` run to its end here, as the background trainer runs it, and left
    for the page to pick up. ``train(on_progress=...)`` trains; Stop is pressed at epoch
    ``stop_at``, as the Stop button's callback does, or before the training starts."""
    job = trainer.TrainingJob(f"test-{page}-{stop_at}", page, "test")
    if stop_first:
        job.request_stop()

    def work(job):
        def stop_at_epoch(progress):
            if progress.epoch == stop_at:
                job.request_stop()
            return job.report(progress)

        return train(on_progress=stop_at_epoch)

    job._run(work)
    jobs._JOBS[job.job_id] = job
    return job


def open_dataset_with_feature_tables(
    page: str, folder: Path, files: tuple[Path, Path], monkeypatch: Any, reader: str
) -> tuple[AppTest, Any, list[pd.Timestamp]]:
    """The shop ``files`` (events, products) ingested as a server dataset under ``folder``, with
    its feature tables (H = 30) in its own ``features/`` folder, opened from the Data page and
    shown on ``page``; returns the app, the feature job's result and the dates read so far
    through ``FeatureTables.<reader>`` (a list that keeps growing)."""
    from core.batch import IN_DATASET, FeatureTables, run_feature_job
    from core.datasets.ingest import ingest

    read: list[pd.Timestamp] = []
    original = getattr(FeatureTables, reader)
    monkeypatch.setattr(
        FeatureTables, reader, lambda self, at: read.append(at) or original(self, at)
    )
    events, products = files
    data_dir = folder / "datasets"
    ingest([events], name="shop", data_dir=data_dir, products=products)
    job = run_feature_job(data_dir / "shop", data_dir / "shop" / IN_DATASET, horizon_days=30)
    monkeypatch.setenv("SHOPLENS_DATA_DIR", str(data_dir))
    at = run_page(DATA, through_app=True)
    at.radio(key=state.SOURCE).set_value(state.SOURCE_DATASET).run()
    at.switch_page(page).run()
    return at, job, read
