"""End to end in headless Chromium against `streamlit run`: clicks, drags and drawing."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from models.checkpoint import load_checkpoint
from models.checkpoint_store import CHECKPOINT_DIR
from models.data import Split
from tools.browser import StreamlitServer, open_page, plot_point, screen_point, wait_idle

pytestmark = pytest.mark.e2e
DEFAULT_MODEL = CHECKPOINT_DIR / "dense_vae_2d.safetensors"
Z_TEXT = re.compile(r"z = \((-?\d+\.\d+), (-?\d+\.\d+)\)")


@pytest.fixture(scope="module")
def default_codes(mnist_test: Split) -> np.ndarray:
    model, _ = load_checkpoint(DEFAULT_MODEL)
    with torch.inference_mode():
        return model.encode(mnist_test.images).numpy()


def isolated_point(codes: np.ndarray, limit: float = 2.0) -> int:
    """A test image well inside the plot whose nearest neighbour is far away: easy to hit."""
    candidates = np.flatnonzero(np.abs(codes).max(1) < limit)[:3000]
    distances = ((codes[candidates, None, :] - codes[None, :, :]) ** 2).sum(-1)
    distances[np.arange(len(candidates)), candidates] = np.inf
    return int(candidates[np.argmax(distances.min(1))])


def click_at(page: object, x: float, y: float) -> None:
    """Move onto the point first, as a person does: Plotly picks the hovered point on click."""
    page.mouse.move(x - 6, y - 6)
    page.mouse.move(x, y, steps=3)
    page.wait_for_timeout(150)
    page.mouse.click(x, y)


def test_click_on_a_digit_shows_it_and_its_reconstruction(
    page: object, server: StreamlitServer, default_codes: np.ndarray, mnist_test: Split
) -> None:
    open_page(page, server.url)
    index = isolated_point(default_codes)
    click_at(page, *screen_point(page, *map(float, default_codes[index])))
    label = int(mnist_test.labels[index])
    page.get_by_text(f"Test image #{index}: a {label}").wait_for(timeout=30_000)
    wait_idle(page)
    page.get_by_text("reconstruction", exact=True).wait_for(timeout=30_000)
    images = page.locator("[data-testid='stImage'] img")
    assert images.count() >= 3  # original, reconstruction, neighbours
    page.wait_for_function(  # every picture arrives and decodes
        "() => [...document.querySelectorAll('[data-testid=\"stImage\"] img')]"
        ".every((img) => img.complete && img.naturalWidth > 0)",
        timeout=30_000,
    )


def test_click_on_empty_space_decodes_that_point(page: object, server: StreamlitServer) -> None:
    open_page(page, server.url)
    (x0, y0) = screen_point(page, 0.0, 0.0)
    # Far corner of the plot, away from every digit: only the invisible grid is there.
    target = screen_point(page, -3.0, 3.5)
    click_at(page, *target)
    page.get_by_text("Decoded point").wait_for(timeout=30_000)
    wait_idle(page)
    shown = Z_TEXT.search(page.get_by_text("Latent point").inner_text())
    assert shown, "the decoded point's coordinates are shown"
    clicked = plot_point(page, *target)
    spacing = abs(plot_point(page, x0 + 100, y0)[0] - plot_point(page, x0, y0)[0]) / 100  # latent units per pixel
    assert abs(float(shown.group(1)) - clicked[0]) < 4 * spacing + 0.05
    assert abs(float(shown.group(2)) - clicked[1]) < 4 * spacing + 0.05
    page.get_by_text(re.compile(r"decoded at \(")).wait_for(timeout=30_000)


def test_dragging_the_interpolation_slider_changes_the_image_during_the_drag(
    page: object, server: StreamlitServer
) -> None:
    open_page(page, f"{server.url}/interpolate")
    frame = page.locator("[data-testid='interp-frame']")
    frame.wait_for(timeout=60_000)
    slider = page.locator("[data-testid='interp-slider']")
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 2, y)
    page.mouse.down()
    seen = []
    for step in range(1, 21):
        page.mouse.move(box["x"] + 2 + step * (box["width"] - 4) / 20, y)
        seen.append((int(frame.get_attribute("data-frame")), frame.evaluate("c => c.toDataURL()")))
    page.mouse.up()
    frames = [f for f, _ in seen]
    pictures = {p for _, p in seen}
    assert frames == sorted(frames) and frames[-1] == 100 and len(set(frames)) >= 15, frames
    assert len(pictures) >= 10, "the drawn image changes while the mouse button is still down"


def test_drawing_a_stroke_places_it_on_the_scatter(page: object, server: StreamlitServer) -> None:
    open_page(page, f"{server.url}/draw")
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for(timeout=60_000)
    box = canvas.bounding_box()
    cx, top = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.15
    page.mouse.move(cx, top)
    page.mouse.down()
    for step in range(1, 25):  # a slightly slanted vertical stroke: a "1"
        page.mouse.move(cx + step * 1.2, top + step * box["height"] * 0.7 / 24)
    page.mouse.up()
    page.get_by_text("Encoded at").wait_for(timeout=60_000)
    wait_idle(page)
    encoded = Z_TEXT.search(page.get_by_text("Encoded at").inner_text())
    assert encoded
    page.get_by_text("what the model sees").wait_for(timeout=30_000)
    # The point is drawn on the scatter as the "you" marker at the encoded coordinates.
    marker = page.evaluate(
        """() => {
          const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
          const trace = gd.data.find((t) => t.text && t.text[0] === 'you');
          return trace ? [trace.x[0], trace.y[0]] : null;
        }"""
    )
    assert marker is not None
    assert marker[0] == pytest.approx(float(encoded.group(1)), abs=1e-3)
    assert marker[1] == pytest.approx(float(encoded.group(2)), abs=1e-3)


def test_a_first_visit_straight_to_a_page_gets_the_full_app(browser: object, mnist_test: Split) -> None:
    """A fresh server's first request for /sample must still run the entry point (sidebar, navigation)."""
    fresh = StreamlitServer()
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(f"{fresh.url}/sample")
        page.get_by_text("Sample new digits").first.wait_for(timeout=90_000)
        wait_idle(page)
        sidebar = page.locator("[data-testid='stSidebar']")
        assert sidebar.get_by_text("Model", exact=True).is_visible()
        assert sidebar.get_by_text("Interpolate").is_visible()
        context.close()
    finally:
        fresh.stop()
