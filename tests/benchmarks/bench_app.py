"""The latent plane as a person meets it, timed in headless Chromium against `streamlit run`.

    python -m tests.benchmarks.bench_app [--moves 300] [--clicks 12] [--json out.json] [--train]

Figures (targets from issue 8):
- start-up: seconds from launching the server to an interactive plane (cold: torch import,
  model load, encoding the test set, plotly.js and the decoder fetched), and a warm reload.
- hover: mouse move to decoded image drawn (handler done) and to the next frame painted,
  p50/p95 (<= 16 / 33 ms), for the shipped dense and conv models; image updates per second
  during a continuous sweep (>= 60) and the share of moves drawn; websocket messages sent
  during the sweep against the same time idle (0 more).
- click anywhere: to marker and image (p50 <= 50 ms); to the selection's details drawn by the
  browser (original, reconstruction, neighbours); to the end of the server's rerun that records
  the click, details shown (p50 < 300 ms), with the same point clicked again as reference.
- interpolation drag: marker moves and image updates per input event, per second (>= 60).
- bytes to the browser per model switch (first time, and again once cached); server CPU
  seconds per second of one session hovering, against the same session idle (about zero).
- the heavy `conv_ae_pool` decoder (untrained weights: only the cost matters) in its worker:
  decoded updates per second during a sweep.
- with --train: the default Train-page run, and click-to-panel of another session meanwhile.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from app.static_assets import CACHE_DIR
from models.checkpoint import CheckpointInfo, save_checkpoint
from models.presets import get_preset
from tests.benchmarks.report import report
from tools.browser import CHROMIUM_ARGS, StreamlitServer, chromium_path, open_page, wait_for_plane, wait_idle

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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


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
        if (shown && plane.data.selected && plane.data.selected.seq === pick.seq)
          window.__clicked = {{ marker, details, panel: performance.now() - start }};
        else setTimeout(check, 5);
      }};
      check();
    }});
  }};
  plane.gd.addEventListener('click', onClick, {{ once: true, capture: true }});
}}
"""


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
    received: list[int] = []

    def on_response(response: object) -> None:
        with contextlib.suppress(Exception):  # a response without a body (a redirect, say)
            received.append(len(response.body()))

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
    return sum(received) + sum(frames["received"]) - start


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_while_hovering(page: object, server: StreamlitServer, seconds: float = 8.0) -> tuple[float, float]:
    pid = server.process.pid
    start, began = cpu_seconds(pid), time.perf_counter()
    x0, y0, w, h = plot_box(page)
    i = 0
    while time.perf_counter() - began < seconds:
        phase = (i % 200) / 199
        page.mouse.move(x0 + 3 + phase * (w - 6), y0 + h * 0.5)
        page.wait_for_timeout(16)
        i += 1
    hovering = (cpu_seconds(pid) - start) / (time.perf_counter() - began)
    start, began = cpu_seconds(pid), time.perf_counter()
    page.wait_for_timeout(int(seconds * 1000))
    idle = (cpu_seconds(pid) - start) / (time.perf_counter() - began)
    return hovering, idle


def default_training_run(browser: object, server: StreamlitServer) -> dict:
    """Start the Train page's default job in one session; time clicks of another meanwhile."""
    trainer = browser.new_page(viewport={"width": 1400, "height": 1600})
    open_page(trainer, f"{server.url}/train")
    name = trainer.get_by_role("textbox", name="Save as (file name)")
    name.fill(f"bench_{int(time.time())}")
    name.press("Enter")
    wait_idle(trainer)
    trainer.get_by_role("button", name="Start training").click()
    start = time.perf_counter()
    trainer.get_by_text(" images/s").first.wait_for(timeout=120_000)
    explorer = browser.new_page(viewport={"width": 1400, "height": 1000})
    open_page(explorer, server.url)
    _, _, during, _, _ = clicks(explorer, 5)
    trainer.get_by_text("Trained 5 epochs.").wait_for(timeout=900_000)
    duration = time.perf_counter() - start
    shown = trainer.get_by_text(" images/s").first.inner_text()
    rate = float(shown.split(" images/s")[0].split("·")[-1].replace(",", "").strip())
    trainer.close()
    explorer.close()
    return {"train_run_s": round(duration, 1), "train_images_per_s": rate,
            "click_to_panel_while_training_ms_p50": round(statistics.median(during), 1)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--moves", type=int, default=300, help="mouse moves per sweep (default 300)")
    parser.add_argument("--clicks", type=int, default=12, help="clicks to time (default 12)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--train", action="store_true", help="also time the default Train-page run (minutes)")
    args = parser.parse_args()
    executable = chromium_path()
    if executable is None:
        print("Chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    user = Path(tempfile.mkdtemp(prefix="bench_app_"))
    pool = get_preset("conv_ae_pool")
    save_checkpoint(user / "pool", pool.build(), CheckpointInfo(pool.family, pool.config, title="Heavy pool AE"))
    figures: dict = {"startup_static_files_published": CACHE_DIR.is_dir() and any(CACHE_DIR.iterdir())}
    server = None
    try:
        with sync_playwright() as playwright:
            # The browser is up before the server starts, as a user's is: its launch is not start-up.
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            frames = count_frames(page)
            server = StreamlitServer(env={"LATENT_USER_CHECKPOINTS": str(user)})
            open_page(page, server.url)
            wait_for_plane(page)
            figures["startup_to_interactive_s"] = round(time.perf_counter() - server.started, 2)
            began = time.perf_counter()
            open_page(page, server.url)
            wait_for_plane(page)
            figures["warm_reload_to_interactive_s"] = round(time.perf_counter() - began, 2)
            page.wait_for_function(f"() => {PLANE}.images", timeout=60_000)

            figures["hover_dense_vae"] = sweep(page, args.moves)
            sent, idle = hover_messages(page, frames, args.moves)
            figures["hover_messages_sent"], figures["idle_messages_sent"] = sent, idle
            local, details, panel, reference, figures["clicks_missed"] = clicks(page, args.clicks)
            figures["click_to_marker_ms_p50"] = round(statistics.median(local), 1)
            figures["click_to_details_ms_p50"] = round(statistics.median(details), 1)
            figures["click_to_panel_ms_p50"] = round(statistics.median(panel), 1)
            figures["click_to_panel_ms_p95"] = round(percentile(panel, 0.95), 1)
            figures["reference_round_trip_ms_p50"] = round(statistics.median(reference), 1)
            hovering, idle_cpu = server_cpu_while_hovering(page, server)
            figures["server_cpu_hovering_s_per_s"] = round(hovering, 4)
            figures["server_cpu_idle_s_per_s"] = round(idle_cpu, 4)
            figures["model_switch_bytes_first"] = switch_bytes(page, frames, "Conv VAE")
            figures["hover_conv_vae"] = sweep(page, args.moves)
            switch_bytes(page, frames, "Dense VAE")
            figures["model_switch_bytes_again"] = switch_bytes(page, frames, "Conv VAE")
            switch_bytes(page, frames, "Heavy pool AE")
            figures["hover_heavy_pool_worker"] = sweep(page, args.moves // 2)
            open_page(page, f"{server.url}/interpolate")
            wait_for_plane(page)
            figures["interpolation_drag"] = interpolation_drag(page, args.moves)
            if args.train:
                figures.update(default_training_run(browser, server))
            browser.close()
    finally:
        if server is not None:
            server.stop()

    dense, conv, heavy = figures["hover_dense_vae"], figures["hover_conv_vae"], figures["hover_heavy_pool_worker"]
    print(
        f"start-up to an interactive plane: {figures['startup_to_interactive_s']} s, static files "
        f"{'published already' if figures['startup_static_files_published'] else 'published afresh'} "
        f"(warm reload {figures['warm_reload_to_interactive_s']} s)"
    )
    for name, h in (("dense VAE", dense), ("conv VAE", conv), ("conv_ae_pool (worker)", heavy)):
        print(
            f"hover, {name}: move to image drawn p50 {h['draw_ms_p50']} ms p95 {h['draw_ms_p95']} ms; "
            f"to the next frame p50 {h['frame_ms_p50']} ms p95 {h['frame_ms_p95']} ms; {h['updates_per_s']} updates/s, "
            f"{h['moves_drawn']:.0%} of moves drawn"
        )
    print(
        f"websocket messages sent during a {args.moves}-move sweep: {figures['hover_messages_sent']} "
        f"(idle for as long: {figures['idle_messages_sent']})"
    )
    print(
        f"click to marker and image p50 {figures['click_to_marker_ms_p50']} ms; to the details p50 "
        f"{figures['click_to_details_ms_p50']} ms; to the server's answer p50 "
        f"{figures['click_to_panel_ms_p50']} ms p95 {figures['click_to_panel_ms_p95']} ms (reference round trip p50 "
        f"{figures['reference_round_trip_ms_p50']} ms); clicks missed (no panel within 30 s): "
        f"{figures['clicks_missed']}"
    )
    drag = figures["interpolation_drag"]
    print(
        f"interpolation drag: {drag['updates_per_s']} input events/s, marker moves per input "
        f"{drag['marker_moves_per_input']}, images per input {drag['images_per_input']}"
    )
    print(
        f"bytes to the browser per model switch: first {figures['model_switch_bytes_first']:,}, "
        f"again {figures['model_switch_bytes_again']:,}"
    )
    print(f"server CPU while one session hovers: {figures['server_cpu_hovering_s_per_s']} s/s "
          f"(idle {figures['server_cpu_idle_s_per_s']} s/s)")  # fmt: skip
    if args.train:
        print(
            f"default training run: {figures['train_run_s']} s at {figures['train_images_per_s']} images/s; "
            f"another session's click-to-panel p50 meanwhile {figures['click_to_panel_while_training_ms_p50']} ms"
        )
    return report(figures, args.json)


if __name__ == "__main__":
    sys.exit(main())
