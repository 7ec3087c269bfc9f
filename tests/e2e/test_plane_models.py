"""The browser plane for every kind of model in the picker: >2-D ones through their plane, heavy ones in a worker."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from app.widgets.digits import NEIGHBOURS
from models.evaluation.metrics import encode_all
from models.evaluation.neighbours import nearest
from models.families.config import DenseConfig
from models.families.registry import get_model
from models.files.checkpoint import CheckpointInfo, load_checkpoint, save_checkpoint
from models.files.data import Split
from models.geometry.plane import plot_view
from models.training.presets import get_preset
from tools.browser import StreamlitServer, open_page, screen_point, wait_for_plane, wait_idle

pytestmark = pytest.mark.e2e
PLANE = "document.querySelector('.lp-root[data-ready=true]').parentElement.__latentPlane"
DECODED_PIXELS_JS = """
(testid) => { const c = document.querySelector(`[data-testid=${testid}]`);
        const d = c.getContext('2d').getImageData(0, 0, 28, 28).data;
        const grey = new Uint8Array(784); for (let i = 0; i < 784; i++) grey[i] = d[4 * i];
        let s = ''; for (const v of grey) s += String.fromCharCode(v); return btoa(s); }
"""


@pytest.fixture(scope="module")
def models_server(
    tmp_path_factory: pytest.TempPathFactory, mnist_test: Split
) -> Iterator[tuple[StreamlitServer, Path]]:
    folder = tmp_path_factory.mktemp("plane_models")
    torch.manual_seed(0)
    eight = DenseConfig(latent_dim=8, hidden=(64,))
    save_checkpoint(
        folder / "eight_d", get_model("dense_ae", eight), CheckpointInfo("dense_ae", eight, title="Eight-D")
    )
    pool = get_preset("conv_ae_pool")  # untrained: only its decoding cost matters here
    save_checkpoint(folder / "pool", pool.build(), CheckpointInfo(pool.family, pool.config, title="Pool AE"))
    server = StreamlitServer(env={"LATENT_USER_CHECKPOINTS": str(folder)})
    yield server, folder
    server.stop()


def choose_model(page: object, title: str, stem: str) -> None:
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
    page.get_by_role("option", name=title).first.click()
    wait_idle(page)
    page.wait_for_function(  # the plane of the chosen model is drawn
        f"() => {{ try {{ return {PLANE}.data.model.url.includes('/{stem}-'); }} catch (e) {{ return false; }} }}",
        timeout=60_000,
    )


def decoded_pixels(page: object, testid: str = "plane-decoded") -> np.ndarray:
    return np.frombuffer(base64.b64decode(page.evaluate(DECODED_PIXELS_JS, testid)), dtype=np.uint8).astype(int)


def open_eight_d(
    page: object, models_server: tuple[StreamlitServer, Path], mnist_test: Split
) -> tuple[torch.nn.Module, torch.Tensor]:
    """Explore on the 8-D model, its plane drawn; the model and its test codes."""
    server, folder = models_server
    open_page(page, server.url)
    choose_model(page, "Eight-D", "eight_d")
    wait_for_plane(page)
    model = load_checkpoint(folder / "eight_d.safetensors").model
    return model, encode_all(model, mnist_test.images)


def test_a_model_with_eight_latent_dimensions_decodes_through_its_plane(
    page: object, models_server: tuple[StreamlitServer, Path], mnist_test: Split
) -> None:
    model, codes = open_eight_d(page, models_server, mnist_test)
    plane = plot_view(codes).plane  # the PCA plane the page shows
    box = page.evaluate(f"() => {{ const b = {PLANE}.frame().box; return [b.left, b.top, b.width, b.height]; }}")
    page.mouse.move(box[0] + box[2] * 0.7, box[1] + box[3] * 0.3)
    hover = page.evaluate(f"() => {PLANE}.hover")
    code = plane.lift(torch.tensor([hover["x"], hover["y"]], dtype=torch.float32))
    with torch.inference_mode():
        expected = (model.decode(code[None])[0, 0].flatten() * 255).round().int().numpy()
    assert np.abs(decoded_pixels(page) - expected).max() <= 1  # the browser lifted the point to 8-D and decoded it


def test_a_click_shows_the_neighbours_and_reconstruction_of_the_full_code(
    page: object, models_server: tuple[StreamlitServer, Path], mnist_test: Split
) -> None:
    model, codes = open_eight_d(page, models_server, mnist_test)
    x, y = screen_point(page, *page.evaluate(f"() => Array.from({PLANE}.points.subarray(200, 202))"))
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.wait_for_selector("[data-testid=details-decoded][data-painted=true]", timeout=10_000)
    index = page.evaluate(f"() => {PLANE}.selected.index")
    assert index is not None
    shown = [int(i) for i in page.locator(".lp-neighbours figure").evaluate_all("fs => fs.map((f) => f.dataset.index)")]
    found = [int(i) for i in nearest(codes, codes[index], NEIGHBOURS + 1).indices if int(i) != index][:NEIGHBOURS]
    assert shown == found, "the nearest in 8-D, not on the plot's plane"
    with torch.inference_mode():
        expected = (model.decode(codes[index : index + 1])[0, 0].flatten() * 255).round().int().numpy()
    assert np.abs(decoded_pixels(page, "details-decoded") - expected).max() <= 1  # its own 8-D code decoded


def test_a_heavy_decoder_decodes_in_a_worker_and_keeps_up(
    page: object, models_server: tuple[StreamlitServer, Path]
) -> None:
    server, _ = models_server
    open_page(page, server.url)
    choose_model(page, "Pool AE", "pool")
    wait_for_plane(page)
    assert page.locator(".lp-root").get_attribute("data-decoder") == "worker"
    box = page.evaluate(f"() => {{ const b = {PLANE}.frame().box; return [b.left, b.top, b.width, b.height]; }}")
    before = int(page.locator("[data-testid=plane-decoded]").get_attribute("data-renders"))
    for i in range(30):
        page.mouse.move(box[0] + box[2] * (0.1 + i / 40), box[1] + box[3] * 0.5)
        page.wait_for_timeout(16)
    page.wait_for_timeout(500)
    after = int(page.locator("[data-testid=plane-decoded]").get_attribute("data-renders"))
    assert after > before, "the image follows the mouse"
    # The newest point is always drawn last: the readout and the image agree with the last move.
    last = page.evaluate(f"() => {PLANE}.hover")
    assert last["x"] == pytest.approx(page.evaluate(f"() => {PLANE}.hover.x"))
