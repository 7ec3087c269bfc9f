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
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from app.plane.publish import CACHE_DIR
from models.files.checkpoint import CheckpointInfo, save_checkpoint
from models.training.presets import get_preset
from tests.benchmarks.plane_probes import (
    PLANE,
    clicks,
    count_frames,
    hover_messages,
    interpolation_drag,
    plot_box,
    sweep,
    switch_bytes,
)
from tests.benchmarks.report import report
from tests.benchmarks.stats import percentile
from tools.browser import CHROMIUM_ARGS, StreamlitServer, chromium_path, open_page, wait_for_plane, wait_idle


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
