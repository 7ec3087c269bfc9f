"""End to end, the seeds' demonstrations: anomalies (Explore coloured by reconstruction error) and
denoising (noise on a drawing for a denoising model)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from models.evaluation.metrics import encode_all, reconstruction_errors
from models.files.checkpoint import load_checkpoint
from models.files.data import Split
from models.files.store import CHECKPOINT_DIR
from tests.test_denoising import _denoising_model
from tools.browser import ONE, StreamlitServer, draw_strokes, open_page, screen_point, wait_for_plane, wait_idle

pytestmark = pytest.mark.e2e
PLANE = "document.querySelector('.lp-root[data-ready=true]').parentElement.__latentPlane"


def test_points_take_their_error_and_the_hover_names_it(page: object, server: StreamlitServer,
                                                          mnist_test: Split) -> None:  # fmt: skip
    model = load_checkpoint(CHECKPOINT_DIR / "dense_vae_2d.safetensors").model
    errors = reconstruction_errors(model, mnist_test.images, "mse").numpy()
    codes = encode_all(model, mnist_test.images).numpy()  # a 2-D model: the plot shows the codes as they are
    open_page(page, f"{server.url}/?err=1")
    wait_for_plane(page)
    page.wait_for_selector(".lp-root[data-coloured=error]", timeout=60_000)
    traces = page.evaluate(
        f"() => {PLANE}.gd.data.map((t) => ({{ name: t.name, colors: Array.from(t.marker.color || []),"
        " scale: Boolean(t.marker.showscale), cmin: t.marker.cmin, cmax: t.marker.cmax }))"
    )
    digits, bars = traces[:10], [t for t in traces if t["name"] == "error"]
    assert len(bars) == 1 and bars[0]["scale"]  # one colour bar, on its own trace
    for digit, trace in enumerate(digits):
        # Each digit's points carry their own errors, worst drawn last (on top).
        np.testing.assert_allclose(trace["colors"], np.sort(errors[mnist_test.labels.numpy() == digit]), rtol=1e-5)
    assert bars[0]["cmax"] == pytest.approx(float(np.sort(errors)[int(0.99 * (len(errors) - 1))]), rel=1e-5)

    # Hovering the worst-reconstructed image names it and its error.
    worst = int(np.argmax(errors))
    page.mouse.move(*screen_point(page, *map(float, codes[worst])))
    page.get_by_test_id("plane-caption").filter(has_text="test image #").wait_for(timeout=10_000)
    caption = page.get_by_test_id("plane-caption").inner_text()
    readout = page.get_by_test_id("plane-readout").inner_text()
    index = int(re.search(r"test image #(\d+)", caption)[1])
    assert float(re.search(r"error (\d\.\d{3})", readout)[1]) == pytest.approx(float(errors[index]), abs=6e-4)

    # Off again: digit colours, no colour bar, and the URL forgets it.
    page.get_by_text("Colour by reconstruction error").click()
    wait_idle(page)
    page.wait_for_selector(".lp-root[data-coloured=digit]", timeout=30_000)
    names = page.evaluate(f"() => {PLANE}.gd.data.map((t) => t.name)")
    assert names == [str(d) for d in range(10)]
    assert "err=" not in page.url


def test_a_denoising_model_puts_noise_on_the_drawing(page: object, server: StreamlitServer, user_checkpoints: Path,
                                                     mnist_test: Split) -> None:  # fmt: skip
    _denoising_model(user_checkpoints, "gaussian")
    open_page(page, f"{server.url}/draw?model=denoising_gaussian")
    draw_strokes(page, ONE)
    page.get_by_text("what the model sees: with Gaussian noise, standard deviation 0.4").wait_for(timeout=10_000)
    before = page.get_by_text("Encoded at").inner_text()
    # No noise: the drawing as it is, encoded elsewhere.
    slider = page.get_by_role("slider", name="Gaussian noise on the input (σ)")
    slider.focus()
    page.keyboard.press("Home")
    wait_idle(page)
    page.get_by_text("what the model sees (28x28)").wait_for(timeout=10_000)
    assert page.get_by_text("Encoded at").inner_text() != before
