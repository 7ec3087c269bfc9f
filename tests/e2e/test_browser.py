"""End to end in headless Chromium against `streamlit run`: the latent plane as a person uses it."""

from __future__ import annotations

import gzip
import urllib.request

import numpy as np
import pytest
import torch

from app.widgets.digits import NEIGHBOURS
from models.evaluation.neighbours import nearest
from models.files.checkpoint import load_checkpoint
from models.files.data import Split
from models.files.store import CHECKPOINT_DIR
from tests.e2e.plane_helpers import PLANE, Z_TEXT, count_sent_frames, plot_box
from tools.browser import StreamlitServer, open_page, screen_point, wait_for_plane, wait_idle

pytestmark = pytest.mark.e2e
DEFAULT_MODEL = CHECKPOINT_DIR / "dense_vae_2d.safetensors"


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


def renders(page: object) -> int:
    return int(page.locator("[data-testid=plane-decoded]").get_attribute("data-renders"))


def test_hovering_anywhere_decodes_in_the_browser_without_a_message(page: object, server: StreamlitServer) -> None:
    sent = count_sent_frames(page)
    open_page(page, server.url)
    box = plot_box(page)
    page.wait_for_timeout(1000)
    before, frames_before = renders(page), len(sent)
    pictures = set()
    for i in range(40):  # a sweep across the plot, corners included
        page.mouse.move(box["x"] + 2 + i * (box["w"] - 4) / 39, box["y"] + 2 + i * (box["h"] - 4) / 39)
        pictures.add(page.locator("[data-testid=plane-decoded]").evaluate("c => c.toDataURL()"))
    assert renders(page) - before == 40, "every mouse move drew a decoded image"
    assert len(pictures) >= 20, "and the image changed along the way"
    assert len(sent) == frames_before, "no message went to the server while hovering"
    readout = page.locator("[data-testid=plane-readout]").inner_text()
    assert Z_TEXT.search(readout)


def test_hovering_a_digit_shows_that_test_image(
    page: object, server: StreamlitServer, default_codes: np.ndarray, mnist_test: Split
) -> None:
    open_page(page, server.url)
    index = isolated_point(default_codes)
    page.mouse.move(*screen_point(page, *map(float, default_codes[index])))
    label = int(mnist_test.labels[index])
    page.get_by_text(f"test image #{index}: a {label}").first.wait_for(timeout=10_000)
    page.wait_for_function(  # the test images arrive once (7.8 MB, cached), then show at once
        "() => getComputedStyle(document.querySelector('.lp-original')).visibility === 'visible'", timeout=30_000
    )


def test_a_click_on_a_digit_shows_it_and_its_reconstruction(
    page: object, server: StreamlitServer, default_codes: np.ndarray, mnist_test: Split
) -> None:
    open_page(page, server.url)
    index = isolated_point(default_codes)
    x, y = screen_point(page, *map(float, default_codes[index]))
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    assert page.locator("[data-testid=plane-selection]").count() == 1  # the marker, at once
    label = int(mnist_test.labels[index])
    page.get_by_text(f"Test image #{index}: a {label}", exact=True).wait_for(timeout=10_000)  # the details, drawn here
    page.get_by_text("reconstruction", exact=True).wait_for(timeout=10_000)
    page.wait_for_selector("[data-testid=details-decoded][data-painted=true]", timeout=10_000)
    shown = [int(i) for i in page.locator(".lp-neighbours figure").evaluate_all("fs => fs.map((f) => f.dataset.index)")]
    found = nearest(torch.from_numpy(default_codes), torch.from_numpy(default_codes[index]), NEIGHBOURS + 1).indices
    assert shown == [int(i) for i in found if int(i) != index][:NEIGHBOURS], "the same neighbours as the server finds"
    wait_idle(page)  # the server has recorded the click, and drawn none of this itself
    assert page.locator("[data-testid=stImage]").count() == 0
    assert page.locator("[data-testid=plane-details]").count() == 1


def test_a_click_in_a_corner_outside_the_data_decodes_that_exact_point(page: object, server: StreamlitServer) -> None:
    open_page(page, server.url)
    box = plot_box(page)
    corner = (round(box["x"]) + 5, round(box["y"]) + 5)  # the axes' top left corner, no digit near; whole pixels
    page.mouse.move(*corner)
    page.mouse.click(*corner)
    clicked = page.evaluate(f"([px, py]) => {{ const p = {PLANE}; return p.toPlot(p.frame(), px, py); }}", list(corner))
    page.get_by_text("Selected point", exact=True).wait_for(timeout=30_000)
    wait_idle(page)
    shown = Z_TEXT.search(page.get_by_text("Latent point").inner_text())
    assert shown, "the decoded point's coordinates are shown"
    assert float(shown.group(1)) == pytest.approx(clicked[0], abs=1e-3)
    assert float(shown.group(2)) == pytest.approx(clicked[1], abs=1e-3)
    marker = page.locator("[data-testid=plane-selection]").bounding_box()
    assert (
        abs(marker["x"] + marker["width"] / 2 - corner[0]) < 2
        and abs(marker["y"] + marker["height"] / 2 - corner[1]) < 2
    )


def test_a_double_click_resets_the_zoom_and_keeps_the_selection(page: object, server: StreamlitServer) -> None:
    open_page(page, server.url)
    box = plot_box(page)
    home = page.evaluate(f"() => {PLANE}.frame().x")
    centre = (box["x"] + box["w"] * 0.3, box["y"] + box["h"] * 0.7)
    page.mouse.move(*centre)
    page.mouse.click(*centre)
    page.get_by_text("Latent point").wait_for(timeout=30_000)  # a test image or empty space: either will do
    wait_idle(page)
    selected = page.evaluate(f"() => {PLANE}.selected")
    page.mouse.move(box["x"] + box["w"] * 0.4, box["y"] + box["h"] * 0.4)  # zoom into a box
    page.mouse.down()
    page.mouse.move(box["x"] + box["w"] * 0.6, box["y"] + box["h"] * 0.6, steps=8)
    page.mouse.up()
    page.wait_for_function(f"(home) => {PLANE}.frame().x[0] > home[0] + 0.1", arg=home, timeout=10_000)
    page.mouse.dblclick(box["x"] + box["w"] * 0.8, box["y"] + box["h"] * 0.2)
    page.wait_for_function(f"(home) => Math.abs({PLANE}.frame().x[0] - home[0]) < 1e-6", arg=home, timeout=10_000)
    page.wait_for_timeout(1500)
    wait_idle(page)
    after = page.evaluate(f"() => {PLANE}.selected")
    assert (after["x"], after["y"]) == (selected["x"], selected["y"]), "the double click did not move the selection"
    latent = Z_TEXT.search(page.get_by_text("Latent point").inner_text())
    assert float(latent.group(1)) == pytest.approx(selected["x"], abs=1e-3), "and the panel still shows it"


def test_the_manifold_backdrop_is_decoded_for_the_view_and_again_after_a_zoom(
    page: object, server: StreamlitServer
) -> None:
    open_page(page, server.url)
    box = plot_box(page)
    page.get_by_text("decoded manifold behind the points").click()
    backdrop = page.locator(".lp-backdrop")
    page.wait_for_function("() => document.querySelector('.lp-backdrop').dataset.view", timeout=30_000)
    first = backdrop.get_attribute("data-view")
    columns, rows = map(int, backdrop.get_attribute("data-tiles").split("x"))
    assert rows == 20 and backdrop.evaluate("c => [c.width, c.height]") == [columns * 28, rows * 28]
    size = backdrop.bounding_box()
    assert size["width"] / columns == pytest.approx(size["height"] / rows, rel=0.1), "square tiles: digits undistorted"
    page.locator(".lp-opacity").fill("0.3")
    assert backdrop.evaluate("c => getComputedStyle(c).opacity") == "0.3"
    page.mouse.move(box["x"] + box["w"] * 0.3, box["y"] + box["h"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["w"] * 0.5, box["y"] + box["h"] * 0.5, steps=8)
    page.mouse.up()
    page.wait_for_function(
        "(v) => document.querySelector('.lp-backdrop').dataset.view !== v", arg=first, timeout=30_000
    )
    view = [float(v) for v in backdrop.get_attribute("data-view").strip("[]").split(",")]
    assert view[1] - view[0] < 0.5 * (float(first.strip("[]").split(",")[1]) - float(first.strip("[]").split(",")[0]))


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


def test_zoom_and_hidden_digits_survive_reruns(page: object, server: StreamlitServer) -> None:
    open_page(page, server.url)
    box = plot_box(page)
    page.get_by_role("button", name="digit 1").click()  # hide the 1s
    page.mouse.move(box["x"] + box["w"] * 0.3, box["y"] + box["h"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["w"] * 0.7, box["y"] + box["h"] * 0.7, steps=8)
    page.mouse.up()
    page.wait_for_timeout(300)
    view = page.evaluate(f"() => {PLANE}.frame().x")
    for fx in (0.4, 0.6):  # two clicks, each a rerun of the page with new data for the plane
        box = plot_box(page)
        page.mouse.move(box["x"] + box["w"] * fx, box["y"] + box["h"] * 0.5)
        page.mouse.click(box["x"] + box["w"] * fx, box["y"] + box["h"] * 0.5)
        page.wait_for_function(  # the server has seen the click and sent the plane its new data
            f"() => {PLANE}.data.mode.selected && {PLANE}.data.mode.selected.seq === {PLANE}.seq", timeout=30_000
        )
        wait_idle(page)
        page.wait_for_timeout(600)
    assert page.evaluate(f"() => {PLANE}.frame().x") == pytest.approx(view)
    assert page.evaluate(f"() => {PLANE}.gd.data[1].visible") == "legendonly"
    page.reload()  # a remount (the same tab) restores them too
    wait_for_plane(page)
    page.wait_for_timeout(500)
    assert page.evaluate(f"() => {PLANE}.frame().x") == pytest.approx(view, abs=1e-3)  # 4 decimals in the URL
    assert page.evaluate(f"() => {PLANE}.gd.data[1].visible") == "legendonly"


def test_the_large_files_are_served_as_gzip_and_never_compressed_again(page: object, server: StreamlitServer) -> None:
    open_page(page, server.url)
    wait_for_plane(page)
    urls = page.evaluate("() => performance.getEntriesByType('resource').map((r) => r.name)")
    published = [url for url in urls if "/app/static/cache/" in url and url.endswith(".gz")]
    assert any("plotly" in url for url in published) and any(".bin.gz" in url for url in published), urls
    for url in published:
        request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.headers.get("Content-Type") == "application/gzip", url
            assert response.headers.get("Content-Encoding") is None, url  # sent as stored: no gzip per request
            gzip.decompress(response.read())  # and it is a whole gzip file


@pytest.mark.parametrize("dim", [2, 3, 8])
def test_the_browsers_nearest_neighbours_are_the_servers_ties_included(
    page: object, server: StreamlitServer, dim: int
) -> None:
    from app.plane.publish import browser_code_url

    rng = np.random.default_rng(dim)
    codes = rng.integers(-3, 4, size=(500, dim)).astype(np.float32)  # whole numbers: many exact ties
    trials = [(rng.integers(-3, 4, size=dim).astype(np.float32), k, None if t % 2 else int(rng.integers(500)))
              for t, k in enumerate([1, 5, 8, 30] * 5)]  # fmt: skip
    page.goto(f"{server.url}/_stcore/health")
    got = page.evaluate(
        """async ([url, codes, dim, trials]) => {
             const { nearest } = await import(url), all = Float32Array.from(codes);
             return trials.map(([point, k, exclude]) => nearest(all, dim, Float32Array.from(point), k, exclude));
           }""",
        [f"{server.url}/{browser_code_url()}view/details.js", codes.flatten().tolist(), dim,
         [[point.tolist(), k, exclude] for point, k, exclude in trials]],
    )  # fmt: skip
    for (point, k, exclude), shown in zip(trials, got, strict=True):
        found = nearest(torch.from_numpy(codes), torch.from_numpy(point), k + 1).indices.tolist()
        assert shown == [i for i in found if i != exclude][:k], (point, k, exclude)
