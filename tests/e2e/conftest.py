"""Browser fixtures: a real `streamlit run` server and headless Chromium driven by Playwright.

Chromium comes from the system (Debian's package; `LATENT_CHROMIUM` overrides the path).
Where it is missing the browser tests skip, except in CI, where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]


def chromium_path() -> str | None:
    return os.environ.get("LATENT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StreamlitServer:
    """`streamlit run streamlit_app.py` on a free port, as Streamlit's own e2e suite starts it."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
            "--server.port", str(self.port), "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none",
        ]  # fmt: skip
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command, cwd=REPO_ROOT, env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{self.process.stdout.read()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.read().decode().strip() == "ok":
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("streamlit did not become healthy in time")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def require_chromium() -> str:
    path = chromium_path()
    if path is None:
        message = "Chromium is not installed (apt-get install chromium, or set LATENT_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def user_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the test server saves models trained in the browser (never the repository)."""
    return tmp_path_factory.mktemp("user_checkpoints")


@pytest.fixture(scope="session")
def server(mnist_test: object, user_checkpoints: Path) -> Iterator[StreamlitServer]:
    require_chromium()
    instance = StreamlitServer(env={"LATENT_USER_CHECKPOINTS": str(user_checkpoints)})
    yield instance
    instance.stop()


@pytest.fixture
def page(browser: object, server: StreamlitServer) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


def open_page(page: object, url: str, timeout_ms: int = 90_000) -> None:
    """Go to a page and wait until the script has finished running and nothing is stale."""
    page.goto(url)
    wait_idle(page, timeout_ms)


def wait_idle(page: object, timeout_ms: int = 60_000) -> None:
    page.wait_for_selector(APP_READY, timeout=timeout_ms)
    page.wait_for_function(
        '() => !document.querySelector(\'[data-testid="stApp"][data-test-script-state="running"]\')',
        timeout=timeout_ms,
    )


PLOT_TO_SCREEN_JS = """
([x, y, index]) => {
  const plots = document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot');
  const gd = plots[index ?? 0];
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const rect = gd.querySelector('.nsewdrag').getBoundingClientRect();
  return [rect.left + xa.l2p(x), rect.top + ya.l2p(y)];
}
"""

SCREEN_TO_PLOT_JS = """
([px, py, index]) => {
  const plots = document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot');
  const gd = plots[index ?? 0];
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const rect = gd.querySelector('.nsewdrag').getBoundingClientRect();
  return [xa.p2l(px - rect.left), ya.p2l(py - rect.top)];
}
"""


def screen_point(page: object, x: float, y: float, plot: int = 0) -> tuple[float, float]:
    """Page pixel coordinates of the latent point (x, y) on the n-th Plotly chart."""
    page.wait_for_function(
        "(i) => { const p = document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .js-plotly-plot')[i];"
        " return p && p._fullLayout && p.querySelector('.nsewdrag'); }",
        arg=plot,
        timeout=60_000,
    )
    return tuple(page.evaluate(PLOT_TO_SCREEN_JS, [x, y, plot]))


def plot_point(page: object, px: float, py: float, plot: int = 0) -> tuple[float, float]:
    return tuple(page.evaluate(SCREEN_TO_PLOT_JS, [px, py, plot]))
