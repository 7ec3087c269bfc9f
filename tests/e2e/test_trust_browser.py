"""End to end: what must never happen to a user's work or browser, checked in headless Chromium."""

from __future__ import annotations

import http.server
import io
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from models.files.checkpoint import load_checkpoint
from tools.browser import (
    PAD_CANVAS,
    StreamlitServer,
    draw_strokes,
    open_page,
    serving,
    set_number,
    set_text,
    wait_for_plane,
    wait_idle,
)

pytestmark = pytest.mark.e2e


def start_job(
    page: object, url: str, name: str, title: str | None = None, images: int = 6000, epochs: int = 20
) -> None:
    open_page(page, f"{url}/train")
    set_number(page, "Training images", images)
    set_number(page, "Epochs", epochs)
    set_text(page, "Save as (file name)", name)
    if title is not None:
        set_text(page, "Title in the model picker", title)
    page.get_by_role("button", name="Start training").click()


@pytest.fixture
def counting_host() -> Iterator[tuple[str, list[str]]]:
    """A web server that records every request it gets: a stand-in for a remote image host."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    with serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as url:
        yield url, requests


def test_a_title_is_shown_as_text_to_everyone_and_loads_nothing(
    browser: object, server: StreamlitServer, counting_host: tuple[str, list[str]]
) -> None:
    host, requests = counting_host
    title = f"![x]({host}/tracker.png) :red[big] **bold**"
    owner = browser.new_context(viewport={"width": 1400, "height": 1000})
    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = owner.new_page()
        start_job(page, server.url, "injection_test", title=title)
        page.get_by_text(re.compile(r"Epoch \d+/20")).first.wait_for(timeout=60_000)
        page.get_by_role("heading", name=title).wait_for(timeout=30_000)  # the page's subheader, verbatim

        watcher = other.new_page()
        open_page(watcher, f"{server.url}/train")
        watcher.get_by_text(f"Now training: {title}").wait_for(timeout=30_000)  # another student's view
        watcher.wait_for_timeout(1000)
        assert requests == [], "a title made a browser fetch a remote image"
        page.get_by_role("button", name="Stop").click()
        page.get_by_text(re.compile(r"Stopped by request")).wait_for(timeout=60_000)
    finally:
        owner.close()
        other.close()


def test_the_app_loads_nothing_from_other_hosts_and_stays_light_in_dark_mode(
    browser: object, server: StreamlitServer
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme="dark")
    requested: list[str] = []
    try:
        page = context.new_page()
        page.on("request", lambda request: requested.append(request.url))
        open_page(page, server.url)
        wait_for_plane(page)
        page.wait_for_function(  # the test images too: every file the page fetches comes from the app
            "() => document.querySelector('.lp-root').parentElement.__latentPlane.images", timeout=60_000
        )
        foreign = [url for url in requested if not url.startswith((server.url, "data:", "blob:"))]
        assert foreign == [], foreign
        icon = page.evaluate("() => document.querySelector('link[rel~=\"icon\"]')?.href")
        assert icon and icon.startswith(server.url), icon
        assert page.get_by_role("button", name="Deploy").count() == 0
        background = page.evaluate(
            "() => getComputedStyle(document.querySelector('[data-testid=\"stApp\"]')).backgroundColor"
        )
        assert [int(v) for v in re.findall(r"\d+", background)[:3]] == [255, 255, 255], background
    finally:
        context.close()


def _encoded(page: object) -> str:
    page.get_by_text("Encoded at").wait_for(timeout=60_000)
    wait_idle(page)
    return page.get_by_text("Encoded at").inner_text()


def _encoded_after(page: object, before: str) -> str:
    """The "Encoded at" line once it differs from `before` (the rerun that changes it has run)."""
    page.wait_for_function(
        "(before) => { const e = [...document.querySelectorAll('p')].find(p => p.innerText.startsWith('Encoded at'));"
        " return e && e.innerText !== before; }",
        arg=before,
        timeout=60_000,
    )
    wait_idle(page)
    return page.get_by_text("Encoded at").inner_text()


def test_switching_between_drawing_and_upload_keeps_the_drawing(page: object, server: StreamlitServer) -> None:
    open_page(page, f"{server.url}/draw")
    draw_strokes(page, [(0.5, 0.15), (0.52, 0.85)], steps=12)  # a "1"
    canvas = page.locator(PAD_CANVAS).first
    drawn = _encoded(page)

    page.get_by_role("tab", name="Upload an image").click()
    picture = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(picture).ellipse((50, 30, 150, 170), outline=0, width=14)  # a "0", dark on light
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        {"name": "zero.png", "mimeType": "image/png", "buffer": buffer.getvalue()}
    )
    page.get_by_text("zero.png").wait_for(timeout=30_000)
    uploaded = _encoded_after(page, drawn)  # the picture just uploaded is the input now

    page.get_by_role("tab", name="Draw").click()
    strokes = canvas.evaluate(
        "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;"
        " for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++; return n; }"
    )
    assert strokes > 500, "the drawing is still on the canvas after switching tabs"
    draw_strokes(page, [(0.3, 0.5), (0.7, 0.5)], steps=12)  # a new stroke makes the drawing the input again
    _encoded_after(page, uploaded)


def test_a_bad_upload_names_its_file_as_text_and_loads_nothing(
    page: object, server: StreamlitServer, counting_host: tuple[str, list[str]]
) -> None:
    host, requests = counting_host
    name = f"**bold** ![x]({host}/tracker.png) :red[big].png"
    open_page(page, f"{server.url}/draw")
    page.get_by_role("tab", name="Upload an image").click()
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        {"name": name, "mimeType": "image/png", "buffer": b"not a picture at all"}
    )
    page.get_by_text(f"{name}: ", exact=False).first.wait_for(timeout=30_000)  # the name verbatim, not markdown
    page.wait_for_timeout(1000)
    assert requests == [], "a file name made the browser fetch a remote image"


def test_a_server_killed_mid_epoch_keeps_the_last_epoch_and_leaves_no_litter(
    browser: object, tmp_path: Path, mnist_test: object
) -> None:
    folder = tmp_path / "user"
    env = {"LATENT_USER_CHECKPOINTS": str(folder)}
    server = StreamlitServer(env=env)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        start_job(page, server.url, "killed_run", images=20_000, epochs=30)
        page.get_by_text(re.compile(r"reconstructions after epoch [1-9]")).wait_for(timeout=120_000)
        page.get_by_text(re.compile(r"Epoch [2-9]\d*/30 · step \d+/156")).first.wait_for(timeout=60_000)
        server.process.kill()  # kill -9, in the middle of an epoch
        server.process.wait(timeout=10)
    finally:
        context.close()
    saved = folder / "killed_run.safetensors"
    time.sleep(1.0)  # the training process notices at its next step that its server is gone
    written = saved.stat().st_mtime_ns
    epochs = load_checkpoint(saved).info.epochs
    assert epochs >= 1
    time.sleep(6.0)  # an epoch here takes about two seconds: an orphaned trainer would have saved again
    assert saved.stat().st_mtime_ns == written and load_checkpoint(saved).info.epochs == epochs
    # What a kill during the write itself leaves (simulated: the moment is too short to hit).
    litter = folder / ".killed_run.safetensors.x1y2z3.tmp"
    litter.write_bytes(os.urandom(4096))
    old = time.time() - 3600
    os.utime(litter, (old, old))

    restarted = StreamlitServer(env=env)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        open_page(page, restarted.url)
        page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
        page.get_by_role("option", name=re.compile(r"\(mine\) \(2-D\) · trained by a user")).click()
        wait_idle(page)
        page.get_by_text(f"{epochs} epoch").first.wait_for(timeout=30_000)  # the model card of the saved epoch
        assert sorted(path.name for path in folder.iterdir()) == ["killed_run.replay.npz", "killed_run.safetensors"]
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        context.close()
        restarted.stop()
