"""bench_app's measurements inside the page: the JavaScript probes it puts into the latent plane
(hover draws, click timings), and the mouse sweeps, clicks, drags and model switches they time."""

from __future__ import annotations

import time

from tests.benchmarks.stats import percentile
from tools.browser import wait_for_plane, wait_idle

PLANE = "document.querySelector('.lp-root[data-ready=true]').parentElement.__latentPlane"
DOUBLE_CLICK_PAUSE_MS = 500  # clicks further apart than the plane's double click (400 ms)

# Records, for every decoded image drawn while hovering, the time from the mouse event to the
# end of drawing and to the next animation frame (when the browser shows it).
RECORD_HOVER_JS = f"""
() => {{
  const plane = {PLANE};
  window.__hover = [];
  if (plane.__benchPaint) return;
  const paint = plane.paint.bind(plane);
  plane.__benchPaint = true;
  plane.paint = (image, ...rest) => {{
    paint(image, ...rest);
    if (rest.length || !plane.hover) return;
    const stamp = plane.hover.stamp, drawn = performance.now();
    requestAnimationFrame(() => window.__hover.push([drawn - stamp, performance.now() - stamp, drawn]));
  }};
}}
"""


# Times one click: to the marker drawn and the image painted (the plane's own work), to the
# details showing the clicked coordinates with their decoded image painted (the browser's), and
# to the server's answer: the plane given that click back as its selection (the server's rerun
# recorded it). The script-state attribute cannot tell: a 5 ms fragment rerun often starts and
# ends within one render of the page, and the attribute never changes.
CLICK_WATCH_JS = f"""
() => {{
  const plane = {PLANE};
  window.__clicked = null;
  let details = null;
  const onClick = (event) => {{
    const start = event.timeStamp;
    requestAnimationFrame(() => {{
      const marker = performance.now() - start;
      const pick = plane.selected, wanted = `z = (${{pick.x.toFixed(3)}}, ${{pick.y.toFixed(3)}})`;
      const check = () => {{
        const box = document.querySelector('.lp-details');
        const shown = box && box.innerText.includes(wanted) && box.querySelector('[data-painted=true]');
        if (shown && details === null) details = performance.now() - start;
        if (shown && plane.data.mode.selected && plane.data.mode.selected.seq === pick.seq)
          window.__clicked = {{ marker, details, panel: performance.now() - start }};
        else setTimeout(check, 5);
      }};
      check();
    }});
  }};
  plane.gd.addEventListener('click', onClick, {{ once: true, capture: true }});
}}
"""


def plot_box(page: object) -> list[float]:
    wait_for_plane(page)
    return page.evaluate(f"() => {{ const b = {PLANE}.frame().box; return [b.left, b.top, b.width, b.height]; }}")


def count_frames(page: object) -> dict[str, list[int]]:
    frames: dict[str, list[int]] = {"sent": [], "received": []}

    def watch(ws: object) -> None:
        ws.on("framesent", lambda f: frames["sent"].append(len(f)))
        ws.on("framereceived", lambda f: frames["received"].append(len(f)))

    page.on("websocket", watch)
    return frames


def sweep(page: object, moves: int) -> dict:
    """Move the mouse across the plot and back; latencies, draws per second, messages sent."""
    x0, y0, w, h = plot_box(page)
    page.evaluate(RECORD_HOVER_JS)
    for i in range(moves):
        phase = i / (moves - 1)
        position = phase * 2 if phase <= 0.5 else 2 - phase * 2
        page.mouse.move(x0 + 3 + position * (w - 6), y0 + h * (0.2 + 0.6 * position))
    page.wait_for_timeout(300)
    records = page.evaluate("() => window.__hover")
    drawn, framed, stamps = zip(*records, strict=True)
    span = (stamps[-1] - stamps[0]) / 1e3
    return {
        "draw_ms_p50": round(percentile(drawn, 0.5), 2), "draw_ms_p95": round(percentile(drawn, 0.95), 2),
        "frame_ms_p50": round(percentile(framed, 0.5), 2), "frame_ms_p95": round(percentile(framed, 0.95), 2),
        "updates_per_s": round((len(stamps) - 1) / span, 1), "moves_drawn": round(len(records) / moves, 3),
    }  # fmt: skip


def hover_messages(page: object, frames: dict, moves: int) -> tuple[int, int]:
    """Websocket messages the page sent during a sweep, and during the same time idle."""
    start, began = len(frames["sent"]), time.perf_counter()
    sweep(page, moves)
    during, elapsed = len(frames["sent"]) - start, time.perf_counter() - began
    start = len(frames["sent"])
    page.wait_for_timeout(int(elapsed * 1000))
    return during, len(frames["sent"]) - start


def clicks(page: object, count: int) -> tuple[list[float], list[float], list[float], list[float], int]:
    """Click points across the plot: ms to marker and image, to the details, to the end of the
    server's rerun (the panel); and a reference round trip (the same point clicked again). Also how
    many clicks were missed: no details with that point within 30 s (reported, not fatal)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    x0, y0, w, h = plot_box(page)
    local, details, panel, reference, missed = [], [], [], [], 0
    for i in range(count):
        x, y = x0 + w * (0.15 + 0.7 * ((i * 0.37) % 1)), y0 + h * (0.15 + 0.7 * ((i * 0.61) % 1))
        for times in (panel, reference):
            page.wait_for_timeout(DOUBLE_CLICK_PAUSE_MS)
            wait_idle(page)
            page.evaluate(CLICK_WATCH_JS)
            page.mouse.move(x, y)
            page.mouse.click(x, y)
            try:
                page.wait_for_function("() => window.__clicked && window.__clicked.panel", timeout=30_000)
            except PlaywrightTimeout:
                missed += 1
                continue
            result = page.evaluate("() => window.__clicked")
            times.append(result["panel"])
            if times is panel:
                local.append(result["marker"])
                details.append(result["details"])
    return local, details, panel, reference, missed


def interpolation_drag(page: object, moves: int) -> dict:
    page.wait_for_selector("[data-testid=plane-t-marker]", timeout=60_000)
    page.evaluate(
        "() => { window.__t = []; document.querySelector('[data-testid=plane-t]').addEventListener('input',"
        " () => requestAnimationFrame(() => window.__t.push(performance.now()))); }"
    )
    box = page.locator("[data-testid=plane-t]").bounding_box()
    y = box["y"] + box["height"] / 2
    renders_before = int(page.locator("[data-testid=plane-decoded]").get_attribute("data-renders"))
    moves_before = int(page.locator("[data-testid=plane-t-marker]").get_attribute("data-moves") or 0)
    page.mouse.move(box["x"] + 2, y)
    page.mouse.down()
    for i in range(moves):
        phase = i / (moves - 1)
        position = phase * 2 if phase <= 0.5 else 2 - phase * 2
        page.mouse.move(box["x"] + 2 + position * (box["width"] - 4), y)
    page.mouse.up()
    page.wait_for_timeout(200)
    inputs = page.evaluate("() => window.__t")
    renders = int(page.locator("[data-testid=plane-decoded]").get_attribute("data-renders")) - renders_before
    marker_moves = int(page.locator("[data-testid=plane-t-marker]").get_attribute("data-moves")) - moves_before
    span = (inputs[-1] - inputs[0]) / 1e3
    return {"input_events": len(inputs), "updates_per_s": round((len(inputs) - 1) / span, 1),
            "marker_moves_per_input": round(marker_moves / len(inputs), 3),
            "images_per_input": round(renders / len(inputs), 3)}  # fmt: skip


def switch_bytes(page: object, frames: dict, title: str) -> int:
    """Bytes the browser received (HTTP bodies and websocket) while switching to `title`."""
    responses: list[object] = []

    def on_response(response: object) -> None:
        responses.append(response)

    before = page.evaluate(f"() => {PLANE}.data.model.url")
    page.on("response", on_response)
    start = sum(frames["received"])
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
    page.get_by_role("option", name=title).first.click()
    wait_idle(page)
    page.wait_for_function(  # the new model's plane is drawn (the old one is gone) with its test images
        "(before) => { const roots = [...document.querySelectorAll('.lp-root[data-ready=true]')];"
        " return roots.length === 1 && roots[0].parentElement.__latentPlane.data.model.url !== before"
        " && roots[0].parentElement.__latentPlane.images; }",
        arg=before,
        timeout=60_000,
    )
    page.remove_listener("response", on_response)
    return sum(_body_size(response) for response in responses) + sum(frames["received"]) - start


def _body_size(response: object) -> int:
    """The bytes of a response's body, once it has all arrived (read after the events, not in them:
    a body read inside the event handler can miss the largest files)."""
    try:
        return len(response.body())
    except Exception:  # a response without a body (a redirect, say)
        return 0
