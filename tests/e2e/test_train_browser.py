"""End to end: train in the browser, watch it progress, stop it, find the result saved."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from tools.browser import StreamlitServer, open_page, set_number, wait_idle

pytestmark = pytest.mark.e2e


def test_start_watch_stop_and_find_it_saved(page: object, server: StreamlitServer, user_checkpoints: Path) -> None:
    open_page(page, f"{server.url}/train")
    set_number(page, "Training images", 6000)
    set_number(page, "Epochs", 20)
    name = page.get_by_role("textbox", name="Save as (file name)")
    name.fill("browser_run")
    name.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Start training").click()

    # The progress bar and its text appear and move on while the job trains in the background.
    progress = page.get_by_text(re.compile(r"Epoch \d+/20 · step \d+/46 · [\d,]+ images/s on the CPU"))
    progress.first.wait_for(timeout=60_000)
    # After the first epoch the latent scatter and the reconstructions are redrawn.
    page.get_by_text(re.compile(r"reconstructions after epoch [1-9]")).wait_for(timeout=120_000)
    # Plotly draws the chart a moment after the caption appears, and the poll may be at epoch 2 by then.
    page.locator(".js-plotly-plot .gtitle", has_text=re.compile(r"^epoch [1-9]")).first.wait_for(timeout=30_000)
    # On a 1920x1080 projector the live view is above the fold, the builder folded below it.
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.evaluate("window.scrollTo(0, 0); document.querySelector('[data-testid=stMain]')?.scrollTo(0, 0)")
    page.wait_for_timeout(500)
    # Measured in one script: the poll may redraw a chart between two Playwright calls.
    centres = page.evaluate(
        """[...document.querySelectorAll("[data-testid='stPlotlyChart']")]
            .filter((chart) => chart.offsetParent !== null)
            .map((chart) => { const r = chart.getBoundingClientRect(); return r.top + r.height / 2; })"""
    )
    assert centres and all(centre < 1080 for centre in centres), centres
    assert not page.get_by_role("button", name="Start training").is_visible()
    page.get_by_text("Set up another run").click()
    page.get_by_role("button", name="Start training").wait_for(timeout=10_000)
    page.get_by_role("button", name="Stop").click()

    page.get_by_text(re.compile(r"Stopped by request during epoch \d+\.")).wait_for(timeout=60_000)
    wait_idle(page)
    saved = page.get_by_text(re.compile(r"The checkpoint of epoch (\d+) is saved as browser_run"))
    saved.wait_for(timeout=30_000)
    assert (user_checkpoints / "browser_run.safetensors").is_file()
    assert (user_checkpoints / "browser_run.replay.npz").is_file()
    # The replay downloads as an animated GIF, one frame per epoch and glides between them.
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Download the replay as a GIF").click()
    assert download.value.suggested_filename == "browser_run_replay.gif"
    gif = Image.open(download.value.path())
    assert gif.format == "GIF" and gif.n_frames >= 2 and gif.size[0] >= 560
    # It is in the model picker at once, marked as the user's own.
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
    page.get_by_role("option", name=re.compile(r"\(mine\) \(2-D\) · yours")).wait_for(timeout=30_000)
    page.keyboard.press("Escape")

    # Save it again under a name typed after the run; the picker lists the copy at once.
    page.get_by_text("Save a copy under another name").click()
    page.get_by_role("textbox", name="New file name").fill("browser copy")
    page.get_by_role("textbox", name="New title in the model picker").fill("Copied in the browser")
    page.get_by_role("button", name="Save a copy").click()
    page.get_by_text("Saved a copy as browser_copy").wait_for(timeout=30_000)
    assert (user_checkpoints / "browser_copy.safetensors").is_file()
    page.screenshot(path=str(user_checkpoints / "train_after_copy.png"), full_page=True)
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
    page.get_by_role("option", name=re.compile(r"^Copied in the browser")).wait_for(timeout=30_000)
