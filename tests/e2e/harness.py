"""Real-browser harness of every browser test (tests/e2e, tests/hostile): a Streamlit server on
a free port and Debian's Chromium via Playwright. Registered once, in tests/conftest.py, so that
one browser and one server serve the whole session."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect

# A cold server loads the sample shop on its first run: give assertions time on a busy machine.
expect.set_options(timeout=30_000)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = ROOT / "test-output" / "e2e"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("SHOPLENS_REQUIRE_BROWSER"):
        pytest.fail(
            "Browser tests are required here but /usr/bin/chromium is missing; "
            "install it with: apt-get install -y chromium"
        )
    pytest.skip(
        "No Chromium at /usr/bin/chromium: browser tests skipped "
        "(install it with apt-get install -y chromium)"
    )


@pytest.fixture(scope="session")
def e2e_runs_dir(tmp_path_factory) -> Path:
    """The runs folder of the app under test (a fresh one per test session)."""
    return tmp_path_factory.mktemp("e2e-runs")


@pytest.fixture(scope="session")
def e2e_import_dir(tmp_path_factory) -> Path:
    """The server folder the app under test may ingest files from (its datasets are kept in a
    fresh folder beside it)."""
    return tmp_path_factory.mktemp("e2e-imports")


@contextmanager
def running_app(runs_dir: Path, import_dir: Path | None = None) -> Iterator[str]:
    """A fresh Streamlit server of the app on a free port, saving runs in ``runs_dir``; with
    ``import_dir``, it may ingest files from there into datasets kept beside it."""
    port = _free_port()
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "SHOPLENS_RUNS_DIR": str(runs_dir)}
    if import_dir is not None:
        env["SHOPLENS_IMPORT_DIR"] = str(import_dir)
        env["SHOPLENS_DATA_DIR"] = str(import_dir.parent / f"{import_dir.name}-datasets")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.read() == b"ok":
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                output = server.stdout.read().decode() if server.stdout else ""
                pytest.fail(f"Streamlit did not become healthy:\n{output[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)  # a training still running is first saved as stopped
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="session")
def app_url(e2e_runs_dir, e2e_import_dir) -> Iterator[str]:
    _require_chromium()
    with running_app(e2e_runs_dir, e2e_import_dir) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        yield chromium
        chromium.close()


@contextmanager
def _window(browser, width: int, height: int) -> Iterator:
    """A page in a fresh browser context of this size."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser, app_url):
    with _window(browser, 1400, 2400) as opened:
        yield opened


@pytest.fixture
def narrow_page(browser, app_url):
    """The app in a window 800 px wide, the sidebar open."""
    with _window(browser, 800, 1000) as opened:
        yield opened


@pytest.fixture
def file_page(browser):
    """A page 1280 px wide, a common laptop screen, for files opened without the app (the
    report)."""
    with _window(browser, 1280, 900) as opened:
        yield opened


@pytest.fixture
def output_dir() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT
