"""Load: eight browser sessions press Train on the Purchase prediction page at once.

The server runs as many trainings as it has slots (``SHOPLENS_TRAINING_SLOTS``, default the
number of cores); the others wait in line. Printed: one session alone, then for the eight
sessions the total time, each one's wait and training time, and the server's peak memory.
Targets: the eight stay under 2 GB, and the first session's training (it starts at once) is
slowed no more than 2x by the others.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from benchmarks.targets import check
from tests.e2e import browser as web
from tests.e2e.harness import CHROMIUM, CHROMIUM_FLAGS, running_app

SESSIONS = 8
LAYERS = "64,32"  # the page's default network
# What the page shows once its training has left the line (the trainer's status lines).
STARTED = re.compile(r"Preparing the training data|Epoch \d+ of|Scoring every model|Saving the run")


def _server_peak_mb(port: str) -> float:
    """The peak resident memory of the Streamlit server listening on ``port``, in MB."""
    for status in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = status.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in b" ".join(command) and port.encode() in command:
            for line in (status.parent / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return float("nan")


def _ready(page: Page, url: str) -> None:
    web.open_page(page, url, "Purchase prediction")
    web.set_layers(page, LAYERS)


def _train(pages: list[Page]) -> list[tuple[float, float]]:
    """Press Train on every page, then watch them all: each page's wait in line and training
    time, in seconds."""
    started = time.perf_counter()
    for page in pages:
        page.get_by_role("button", name="Train", exact=True).click()
    waited: dict[int, float] = {}
    done: dict[int, float] = {}
    while len(done) < len(pages):
        for number, page in enumerate(pages):
            if number in done:
                continue
            now = time.perf_counter() - started
            if number not in waited and page.get_by_text(STARTED).count():
                waited[number] = now
            if page.get_by_role("heading", name="Results").count():
                done[number] = now
                waited.setdefault(number, now)
        time.sleep(0.2)
    return [(waited[n], done[n] - waited[n]) for n in range(len(pages))]


def main() -> int:
    if not CHROMIUM.exists():
        print("No Chromium at /usr/bin/chromium: the load benchmark is skipped.")
        return 0
    with tempfile.TemporaryDirectory() as runs, running_app(Path(runs)) as url:
        port = url.rsplit(":", 1)[1]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
            )
            pages = []
            for _ in range(SESSIONS):
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                page.set_default_timeout(600_000)
                pages.append(page)
            _ready(pages[0], url)
            [(_, alone)] = _train(pages[:1])
            print(f"one session alone: trained in {alone:.1f} s")
            for page in pages:
                _ready(page, url)
            started = time.perf_counter()
            timings = _train(pages)
            total = time.perf_counter() - started
            browser.close()
        peak = _server_peak_mb(port)
    print(f"{SESSIONS} sessions at once ({os.cpu_count()} cores): all done in {total:.1f} s")
    for number, (wait, train) in enumerate(timings, start=1):
        print(f"  session {number}: waited {wait:5.1f} s, trained {train:5.1f} s")
    print(f"server peak RSS {peak:,.0f} MB")
    first = min(train for wait, train in timings if wait == min(w for w, _ in timings))
    missed = check(
        {
            f"server peak RSS {peak:,.0f} MB <= 2,048 MB": peak <= 2048,
            f"first session trained in {first:.1f} s <= 2x alone ({2 * alone:.1f} s)": first
            <= 2 * alone,
        }
    )
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
