"""The server-wide line of trainings: its width is a setting, a waiting training says where it
stands, and Stop takes it out of the line at once, without training; a sweep takes the slots
free when it starts, and speaks of trainings done, never of epochs. Big loads (ingests among
them) wait in a line of their own."""

import threading

import pytest
from streamlit.testing.v1 import AppTest

from core.config import load_settings
from core.services import TrainingCancelledError
from ui import jobs, runs, trainer


def test_the_number_of_slots_is_a_setting():
    assert load_settings({"SHOPLENS_TRAINING_SLOTS": "3"}).training_slots == 3
    default = load_settings({}).training_slots
    assert default >= 1
    assert load_settings({"SHOPLENS_TRAINING_SLOTS": "none"}).training_slots == default


def test_a_waiting_training_says_its_place_and_leaves_the_line_on_stop():
    taken = 0
    while trainer._SLOTS.acquire(blocking=False):  # every slot busy
        taken += 1
    called = threading.Event()
    job = trainer.TrainingJob("queued-job", "purchase", "8 seed 0")
    try:
        jobs._JOBS[job.job_id] = job
        threading.Thread(target=job._run, args=(lambda _: called.set(),), daemon=True).start()
        assert not job.wait(0.5) and job.waiting
        assert trainer.waiting_text(job).startswith("Waiting in line: place 1 (0 trainings ahead")
        job.request_stop()
        assert job.wait(5)
    finally:
        jobs._JOBS.pop(job.job_id, None)
        for _ in range(taken):
            trainer._SLOTS.release()
    assert isinstance(job.error, TrainingCancelledError)
    assert "waited for a free slot; nothing was trained" in str(job.error)
    assert not called.is_set()


def test_a_wide_job_takes_the_slots_free_when_it_starts_and_gives_every_one_back(monkeypatch):
    monkeypatch.setattr(trainer, "_SLOTS", threading.BoundedSemaphore(3))
    assert trainer._SLOTS.acquire(blocking=False)  # another training holds one of the three
    held = []
    job = trainer.TrainingJob("wide-job", "sweep", "of 6 trainings", width=6)
    job._run(lambda running: held.append(running.slots))
    assert held == [2] and job.slots == 0 and job.error is None
    trainer._SLOTS.release()
    assert all(trainer._SLOTS.acquire(blocking=False) for _ in range(3))  # all free again


def _sweep_job(**progress) -> trainer.TrainingJob:
    job = trainer.TrainingJob("sweep-job", trainer.SWEEP_PAGE, "of 6 trainings")
    job.waiting = False
    job.progress = runs.SweepProgress("training", **progress)
    return job


def test_a_sweep_shows_trainings_done_the_last_one_and_the_time_left_never_epochs():
    job = _sweep_job(epoch=2, epochs=6, seconds=10.0, last="64,32 seed 1", at_once=2)
    fraction, text = trainer._status(job, runs.sweep_text)
    assert fraction == pytest.approx(1 / 3)
    assert text == "2 of 6 trainings done · last: 64,32 seed 1 · about 20 s left"
    assert trainer.note(job) == "sweep of 6 trainings, 2 done"
    first = _sweep_job(epoch=0, epochs=6, at_once=2)
    assert trainer._status(first, runs.sweep_text)[1] == "0 of 6 trainings done · 2 at a time"
    job.request_stop()
    _, stopping = trainer._status(job, runs.sweep_text, "Stopping: no more trainings start")
    assert stopping == "Stopping: no more trainings start"
    job.waiting = True
    _, cancelling = trainer._status(job, runs.sweep_text)
    assert cancelling == "Cancelling: this sweep leaves the line without training."
    assert "epoch" not in f"{text} {stopping} {cancelling} {trainer.note(job)}".lower()


def _sidebar_app():
    from ui import trainer

    trainer.sidebar_note()


def test_the_sidebar_names_a_running_sweep():
    job = _sweep_job(epoch=2, epochs=6, seconds=10.0, last="4 seed 0")
    jobs._JOBS[job.job_id] = job
    try:
        at = AppTest.from_function(_sidebar_app)
        at.session_state[jobs.session_key(trainer.SWEEP_PAGE)] = job.job_id
        at.run()
    finally:
        jobs._JOBS.pop(job.job_id, None)
    assert not at.exception
    assert [c.value for c in at.sidebar.caption] == ["⏳ Runs: sweep of 6 trainings, 2 done."]


def test_big_loads_wait_in_their_own_line_and_small_ones_never_do(monkeypatch):
    from ui import cache

    monkeypatch.setattr(cache, "BIG_LOADS", threading.BoundedSemaphore(1))
    big = cache.source_file("big.csv", b"x" * cache.BIG_LOAD_BYTES)
    small = cache.source_file("small.csv", b"user,time\n1,2\n")
    entered = threading.Event()

    def load() -> None:
        with cache.load_line(big):
            entered.set()

    with cache.load_line(big):  # another session's big load under way
        with cache.load_line(small, None):
            pass  # a small file goes straight through
        waiting = threading.Thread(target=load, daemon=True)
        waiting.start()
        assert not entered.wait(0.3)
    assert entered.wait(5)  # and goes once the first load is done
    waiting.join(5)


def test_an_ingest_waits_among_the_big_loads_not_the_trainings_and_cancel_removes_its_upload(
    monkeypatch, tmp_path
):
    from ui import cache, ingest

    monkeypatch.setattr(cache, "BIG_LOADS", threading.BoundedSemaphore(1))
    assert cache.BIG_LOADS.acquire(blocking=False)  # another session's big load under way
    staging = tmp_path / "upload"
    staging.mkdir()
    (staging / "0-events.csv").write_text("user_id,timestamp\n", encoding="utf-8")
    called = threading.Event()
    loading = ingest.IngestJob("queued-ingest", ingest.PAGE, "big", staging=staging)
    training = trainer.TrainingJob("training-after-it", "purchase", "8 seed 0")
    try:
        jobs._JOBS[loading.job_id] = loading
        jobs._JOBS[training.job_id] = training
        threading.Thread(target=loading._run, args=(lambda _: called.set(),), daemon=True).start()
        assert not loading.wait(0.5) and loading.waiting
        assert ingest.progress_text(loading)[1].startswith("Waiting for a place")
        assert trainer.waiting_text(training).startswith("Waiting in line: place 1 (0 trainings")
        loading.request_stop()
        assert loading.wait(5)
    finally:
        jobs._JOBS.pop(loading.job_id, None)
        jobs._JOBS.pop(training.job_id, None)
        cache.BIG_LOADS.release()
    assert str(loading.error) == "The ingest was cancelled while it waited; nothing was read."
    assert not called.is_set() and not staging.exists()
