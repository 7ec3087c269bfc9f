"""The plane by finger and by keyboard against the mouse, timed in headless Chromium in one run.

    python -m tests.benchmarks.bench_touch [--moves 200] [--taps 10] [--json out.json]

Figures (the mouse measured in the same run is the reference, as the machine is shared):
- a finger dragged across the plot (iPhone 13 emulation, CDP touch events): decoded images drawn
  per second and per move, and the time from the move to the image drawn; the mouse's sweep
  (bench_app's) beside it;
- a tap on the plot: from the finger's touch to the image under it drawn, and to the selection's
  marker after it lifts, p50; a mouse move's image (the sweep's) is the reference;
- an arrow key on the focused plane: from the key to the image drawn, p50.

The watches listen on the window in the capture phase, so they run before the plane's own
handlers: the image drawn in response is never counted as already there.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.benchmarks.plane_probes import PLANE, RECORD_HOVER_JS, plot_box, sweep
from tests.benchmarks.report import report
from tests.benchmarks.stats import percentile
from tools.browser import CHROMIUM_ARGS, StreamlitServer, chromium_path, open_page, wait_for_plane, wait_idle

# Times the next tap on the plot: from the touch to the image under it drawn, and to the selection
# (the marker on the overlay) once the finger has lifted.
TAP_WATCH_JS = f"""
() => {{
  const plane = {PLANE}, big = plane.big, seq = plane.seq;
  window.__tapped = null;
  window.addEventListener('pointerdown', (event) => {{
    const start = event.timeStamp, renders = Number(big.dataset.renders);
    let image = null;
    const check = () => {{
      if (image === null && Number(big.dataset.renders) > renders) image = Number(big.dataset.paintedAt) - start;
      const marked = plane.seq > seq && document.querySelector('[data-testid=plane-selection]');
      if (image !== null && marked) window.__tapped = {{ image, selection: performance.now() - start }};
      else requestAnimationFrame(check);
    }};
    requestAnimationFrame(check);
  }}, {{ once: true, capture: true }});
}}
"""
KEY_WATCH_JS = f"""
() => {{
  const plane = {PLANE}, big = plane.big;
  window.__keyed = null;
  window.addEventListener('keydown', (event) => {{
    const start = event.timeStamp, renders = Number(big.dataset.renders);
    const check = () => {{
      if (Number(big.dataset.renders) > renders) window.__keyed = Number(big.dataset.paintedAt) - start;
      else requestAnimationFrame(check);
    }};
    requestAnimationFrame(check);
  }}, {{ once: true, capture: true }});
}}
"""


def touch(cdp: object, kind: str, points: list[tuple[float, float]]) -> None:
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y, "id": i} for i, (x, y) in
                                                                          enumerate(points)]})  # fmt: skip


def finger_sweep(page: object, moves: int) -> dict:
    """A finger pressed on the plot and dragged across it and back (the mouse's `sweep` by touch)."""
    x0, y0, w, h = plot_box(page)
    page.evaluate(RECORD_HOVER_JS)
    cdp = page.context.new_cdp_session(page)
    path = []
    for i in range(moves):
        phase = i / (moves - 1)
        position = phase * 2 if phase <= 0.5 else 2 - phase * 2
        path.append((x0 + 3 + position * (w - 6), y0 + h * (0.2 + 0.6 * position)))
    touch(cdp, "touchStart", [path[0]])
    for point in path[1:]:
        touch(cdp, "touchMove", [point])
    touch(cdp, "touchEnd", [])
    page.wait_for_timeout(300)
    drawn, _, stamps = zip(*page.evaluate("() => window.__hover"), strict=True)
    span = (stamps[-1] - stamps[0]) / 1e3
    return {
        "draw_ms_p50": round(percentile(drawn, 0.5), 2), "draw_ms_p95": round(percentile(drawn, 0.95), 2),
        "updates_per_s": round((len(stamps) - 1) / span, 1), "moves_drawn": round(len(stamps) / moves, 3),
    }  # fmt: skip


def taps(page: object, count: int) -> tuple[list[float], list[float]]:
    """Tap points across the plot: ms from the touch to its image, and to the selection marked."""
    x0, y0, w, h = plot_box(page)
    images, selections = [], []
    for i in range(count):
        x, y = x0 + w * (0.15 + 0.7 * ((i * 0.37) % 1)), y0 + h * (0.15 + 0.7 * ((i * 0.61) % 1))
        page.wait_for_timeout(500)  # apart from the last: not a double tap
        wait_idle(page)
        page.evaluate(TAP_WATCH_JS)
        page.touchscreen.tap(x, y)
        page.wait_for_function("() => window.__tapped !== null", timeout=30_000)
        tapped = page.evaluate("() => window.__tapped")
        images.append(tapped["image"])
        selections.append(tapped["selection"])
    return images, selections


def keys(page: object, count: int) -> list[float]:
    page.mouse.move(0, 0)  # the pointer off the plot: the keys alone decode
    page.locator(".lp-figure").focus()
    times = []
    for i in range(count):
        page.evaluate(KEY_WATCH_JS)
        page.keyboard.press("ArrowRight" if i % 2 else "ArrowUp")
        page.wait_for_function("() => window.__keyed !== null", timeout=30_000)
        times.append(page.evaluate("() => window.__keyed"))
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--taps", type=int, default=10)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    figures: dict = {}
    with tempfile.TemporaryDirectory() as user, sync_playwright() as playwright:
        server = StreamlitServer(env={"LATENT_USER_CHECKPOINTS": user}, keep_output=False)
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            for name, options in (("phone", playwright.devices["iPhone 13"]),
                                  ("desktop", {"viewport": {"width": 1280, "height": 800}})):  # fmt: skip
                context = browser.new_context(**options)
                page = context.new_page()
                open_page(page, server.url)
                wait_for_plane(page)
                page.locator(".lp-figure").scroll_into_view_if_needed()
                if name == "phone":
                    figures["finger_drag"] = finger_sweep(page, args.moves)
                    images, selections = taps(page, args.taps)
                    figures["tap_to_image_ms_p50"] = round(percentile(images, 0.5), 1)
                    figures["tap_to_selection_ms_p50"] = round(percentile(selections, 0.5), 1)
                else:
                    figures["mouse_sweep"] = sweep(page, args.moves)
                    figures["key_to_image_ms_p50"] = round(percentile(keys(page, args.taps), 0.5), 1)
                context.close()
        finally:
            browser.close()
            server.stop()
    figures["finger_vs_mouse_updates"] = round(
        figures["finger_drag"]["updates_per_s"] / figures["mouse_sweep"]["updates_per_s"], 2
    )
    figures["tap_vs_mouse_image"] = round(figures["tap_to_image_ms_p50"] / figures["mouse_sweep"]["draw_ms_p50"], 2)
    return report(figures, args.json)


if __name__ == "__main__":
    sys.exit(main())
