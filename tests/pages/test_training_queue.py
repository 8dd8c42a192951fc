"""The server-wide line of trainings: its width is a setting, a waiting training says where it
stands, and Stop takes it out of the line at once, without training."""

import threading

from core.config import load_settings
from core.services import TrainingCancelledError
from ui import trainer


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
        trainer._JOBS[job.job_id] = job
        threading.Thread(target=job._run, args=(lambda _: called.set(),), daemon=True).start()
        assert not job.wait(0.5) and job.waiting
        assert trainer.waiting_text(job).startswith("Waiting in line: place 1 (0 trainings ahead")
        job.request_stop()
        assert job.wait(5)
    finally:
        trainer._JOBS.pop(job.job_id, None)
        for _ in range(taken):
            trainer._SLOTS.release()
    assert isinstance(job.error, TrainingCancelledError)
    assert "waited for a free slot; nothing was trained" in str(job.error)
    assert not called.is_set()
