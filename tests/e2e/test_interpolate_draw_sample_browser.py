"""End to end in headless Chromium against `streamlit run`: the plane on the Interpolate, Draw and Sample pages."""

from __future__ import annotations

import re

import pytest

from tests.e2e.plane_helpers import Z_TEXT, count_sent_frames, plot_box
from tools.browser import ONE, StreamlitServer, draw_strokes, hover_centre, open_page, wait_for_plane, wait_idle

pytestmark = pytest.mark.e2e


def test_dragging_t_moves_the_marker_and_the_image_on_every_step(page: object, server: StreamlitServer) -> None:
    sent = count_sent_frames(page)
    open_page(page, f"{server.url}/interpolate")
    wait_for_plane(page)
    page.wait_for_selector("[data-testid=plane-t-marker]", timeout=30_000)
    slider = page.locator("[data-testid=plane-t]")
    marker = page.locator("[data-testid=plane-t-marker]")
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 2, y)
    page.mouse.down()
    positions, pictures, frames_before = [], set(), len(sent)
    for step in range(1, 31):
        page.mouse.move(box["x"] + 2 + step * (box["width"] - 4) / 30, y)
        positions.append((float(marker.get_attribute("data-x")), float(marker.get_attribute("data-y"))))
        pictures.add(page.locator("[data-testid=plane-decoded]").evaluate("c => c.toDataURL()"))
    page.mouse.up()
    assert len(set(positions)) >= 28, "the marker moved on (almost) every input event"
    assert len(pictures) >= 20, "and so did the decoded image, while the button was still down"
    assert len(sent) == frames_before, "all of it in the browser"
    assert float(slider.input_value()) == pytest.approx(1.0, abs=0.01)


def test_t_survives_a_rerun(page: object, server: StreamlitServer) -> None:
    open_page(page, f"{server.url}/interpolate")
    wait_for_plane(page)
    page.locator("[data-testid=plane-t]").fill("0.37")
    page.get_by_text("Spherical (slerp)").click()  # a rerun, with new data for the plane
    wait_idle(page)
    page.wait_for_timeout(500)
    assert float(page.locator("[data-testid=plane-t]").input_value()) == pytest.approx(0.37)


def test_clicks_set_a_then_b_and_the_path_follows(page: object, server: StreamlitServer) -> None:
    open_page(page, f"{server.url}/interpolate")
    box = plot_box(page)
    for side, (fx, fy) in (("A", (0.1, 0.1)), ("B", (0.9, 0.9))):
        x, y = box["x"] + box["w"] * fx, box["y"] + box["h"] * fy
        page.mouse.move(x, y)
        page.mouse.click(x, y)
        page.wait_for_function(  # the endpoint's marker moves to the click at once, before any rerun
            "([side, x, y]) => { const r = document.querySelector(`[data-testid=plane-end-${side}]`)"
            ".getBoundingClientRect();"
            " return Math.abs(r.x + r.width / 2 - x) < 2 && Math.abs(r.y + r.height / 2 - y) < 2; }",
            arg=[side, x, y],
            timeout=1_000,
        )
        page.get_by_text(re.compile(rf"{side}: z = \(")).wait_for(timeout=30_000)  # the server agrees
        wait_idle(page)
        page.wait_for_timeout(700)  # never two clicks within a double click's time


def test_drawing_a_stroke_places_it_on_the_plane(page: object, server: StreamlitServer) -> None:
    open_page(page, f"{server.url}/draw")
    draw_strokes(page, ONE)
    encoded = Z_TEXT.search(page.get_by_text("Encoded at").inner_text())
    you = page.locator("[data-testid=plane-you]")
    you.wait_for(timeout=30_000)
    assert float(you.get_attribute("data-x")) == pytest.approx(float(encoded.group(1)), abs=1e-3)
    assert float(you.get_attribute("data-y")) == pytest.approx(float(encoded.group(2)), abs=1e-3)
    # The posterior's 1-sigma ellipse is drawn large enough to see, and says when it is enlarged.
    ellipse = page.locator("[data-testid=plane-ellipse]").bounding_box()
    # At least 26 px along its long axis (enlarged if need be); across, the default model's is
    # about 18 px at its true size.
    assert max(ellipse["width"], ellipse["height"]) >= 25 and min(ellipse["width"], ellipse["height"]) >= 10, ellipse
    if float(page.locator("[data-testid=plane-ellipse]").get_attribute("data-scale")) > 1:
        note = re.compile(r"1σ ellipse, drawn ×\d+ larger to be seen \(true half-axes")
        page.get_by_text(note).wait_for(timeout=5_000)


def test_hovering_a_sample_diamond_highlights_its_image(page: object, server: StreamlitServer) -> None:
    open_page(page, f"{server.url}/sample")
    wait_for_plane(page)
    hover_centre(page, ".lp-overlay [data-sample='0']")
    page.wait_for_selector(".lp-samples canvas[data-sample='0'].lp-highlight", timeout=5_000)
    page.locator(".lp-samples canvas[data-sample='3']").hover()
    page.wait_for_function(
        "() => document.querySelector(\".lp-overlay [data-sample='3']\").getAttribute('fill') === '#ff7f0e'",
        timeout=5_000,
    )
