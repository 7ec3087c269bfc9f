"""A real `streamlit run` server, and helpers that drive its pages in headless Chromium.

Shared by the browser tests (tests/e2e), the benchmarks (tests/benchmarks) and the screenshot
tool. Chromium comes from the system (Debian's package; `LATENT_CHROMIUM` overrides the path).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
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

    def __init__(
        self, env: dict[str, str] | None = None, root: Path = REPO_ROOT, keep_output: bool = True,
        args: tuple[str, ...] = (),
    ) -> None:  # fmt: skip
        """Start it in `root` with `env` added and the app's own `args` (app.settings); `keep_output=False`
        discards its log (for long runs)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
            "--server.port", str(self.port), "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none", *(("--", *args) if args else ()),
        ]  # fmt: skip
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command, cwd=root, env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE if keep_output else subprocess.DEVNULL, stderr=subprocess.STDOUT, text=True,
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


PLANE_READY = ".lp-root[data-ready=true]"
# Converts between latent (plot) coordinates and page pixels on the latent plane component.
PLANE_POINT_JS = """
([a, b, toScreen]) => {
  const plane = document.querySelector('.lp-root[data-ready=true]').parentElement.__latentPlane;
  const f = plane.frame(), outer = plane.figure.getBoundingClientRect();
  if (!toScreen) return plane.toPlot(f, a, b);
  const [sx, sy] = plane.toScreen(f, a, b);
  return [outer.left + sx, outer.top + sy];
}
"""


def wait_for_plane(page: object, timeout_ms: int = 60_000) -> None:
    """Wait until the latent plane has drawn its plot and loaded its decoder."""
    page.wait_for_selector(PLANE_READY, timeout=timeout_ms)


def screen_point(page: object, x: float, y: float) -> tuple[float, float]:
    """Page pixel coordinates of the latent point (x, y) on the plane."""
    wait_for_plane(page)
    return tuple(page.evaluate(PLANE_POINT_JS, [x, y, True]))


PAD = ".dp-root[data-ready=true]"  # the drawing pad (app/plane/js/pad/), once it has mounted
PAD_CANVAS = f"{PAD} canvas.dp-canvas"


def draw_strokes(page: object, points: list[tuple[float, float]], steps: int = 24, by: str = "mouse") -> None:
    """Draw one stroke through `points` (fractions of the pad: 0, 0 top left) on the Draw page's
    drawing pad, in small moves as a hand would, with the mouse, a finger (`by="touch"`) or a pen
    (`by="pen"`), and wait until the drawing is encoded."""
    pad = page.locator(PAD).first
    pad.wait_for(timeout=60_000)
    canvas = pad.locator("canvas.dp-canvas")
    canvas.scroll_into_view_if_needed()
    before = int(pad.get_attribute("data-seq") or 0)
    box = canvas.bounding_box()
    path = [(points[0][0], points[0][1])]
    for (ax, ay), (bx, by_) in itertools.pairwise(points):
        path += [(ax + (bx - ax) * step / steps, ay + (by_ - ay) * step / steps) for step in range(1, steps + 1)]
    STROKES[by](page, [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in path])
    wait_for_drawing(page, before)
    page.get_by_text("Encoded at").wait_for(timeout=60_000)
    wait_idle(page)


def wait_for_drawing(page: object, before: int, timeout_ms: int = 60_000) -> None:
    """Wait until the pad has sent a change newer than its `before`-th and the server has run with it."""
    page.wait_for_function(
        "([selector, before]) => { const pad = document.querySelector(selector);"
        " return pad && Number(pad.dataset.seq) > before && pad.dataset.synced === 'true'; }",
        arg=[PAD, before],
        timeout=timeout_ms,
    )
    wait_idle(page, timeout_ms)


def _stroke_by_mouse(page: object, path: list[tuple[float, float]]) -> None:
    page.mouse.move(*path[0])
    page.mouse.down()
    for x, y in path[1:]:
        page.mouse.move(x, y)
    page.mouse.up()


def _stroke_by_touch(page: object, path: list[tuple[float, float]]) -> None:
    """One finger, through Chromium's DevTools protocol (Playwright's touchscreen can only tap); the
    page needs touch (a context with `has_touch`)."""
    cdp = page.context.new_cdp_session(page)
    try:
        for index, (x, y) in enumerate(path):
            kind = "touchStart" if index == 0 else "touchMove"
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        cdp.detach()


def _stroke_by_pen(page: object, path: list[tuple[float, float]]) -> None:
    """A stylus, through Chromium's DevTools protocol: pointer events with pointerType "pen"."""
    cdp = page.context.new_cdp_session(page)

    def send(kind: str, x: float, y: float, buttons: int) -> None:
        cdp.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "buttons": buttons,
                                              "clickCount": 1, "pointerType": "pen", "force": 0.5})  # fmt: skip

    try:
        send("mousePressed", *path[0], 1)
        for x, y in path[1:]:
            send("mouseMoved", x, y, 1)
        send("mouseReleased", *path[-1], 0)
    finally:
        cdp.detach()


STROKES = {"mouse": _stroke_by_mouse, "touch": _stroke_by_touch, "pen": _stroke_by_pen}


def hover_centre(page: object, selector: str, timeout_ms: int = 30_000) -> None:
    """Move the mouse to the middle of the first element matching `selector`, once it is there."""
    element = page.locator(selector).first
    element.wait_for(timeout=timeout_ms)
    box = element.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


ONE = [(0.5, 0.15), (0.55, 0.85)]  # a slightly slanted vertical stroke
SEVEN = [(0.25, 0.22), (0.75, 0.22), (0.45, 0.85)]  # a top bar, then a diagonal down to the left


def set_number(page: object, label: str, value: int) -> None:
    """Type a number into the labelled number input and wait for the rerun."""
    field = page.get_by_role("spinbutton", name=label)
    field.fill(str(value))
    field.press("Enter")
    wait_idle(page)


def set_text(page: object, label: str, value: str) -> None:
    """Type into the labelled text input and wait for the rerun."""
    field = page.get_by_role("textbox", name=label)
    field.fill(value)
    field.press("Enter")
    wait_idle(page)


@contextlib.contextmanager
def serving(server: socketserver.BaseServer) -> Iterator[str]:
    """Run a standard-library server in a thread; yields its base URL, shuts it down after."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
