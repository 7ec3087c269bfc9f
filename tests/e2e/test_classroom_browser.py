"""End to end: Compare's linked planes and the lesson's Next button, in Chromium."""

from __future__ import annotations

import pytest

from tools.browser import StreamlitServer, open_page, wait_idle

pytestmark = pytest.mark.e2e
PLANES = "[...document.querySelectorAll('.lp-root[data-ready=true]')].map((r) => r.parentElement.__latentPlane)"


def test_hovering_a_test_image_in_one_plane_lights_it_up_in_the_other(page: object, server: StreamlitServer) -> None:
    open_page(page, f"{server.url}/compare")
    page.wait_for_function(f"() => {PLANES}.length === 2 && {PLANES}.every((p) => p.images)", timeout=60_000)
    index = 904
    x, y = page.evaluate(
        f"(i) => {{ const p = {PLANES}[0], f = p.frame(), o = p.figure.getBoundingClientRect();"
        " const [sx, sy] = p.toScreen(f, p.points[2 * i], p.points[2 * i + 1]); return [o.left + sx, o.top + sy]; }",
        index,
    )
    page.mouse.move(x, y)
    hovered = page.evaluate(f"() => {PLANES}[0].hover.index")
    page.wait_for_function(f"(i) => {PLANES}[1].linked === i", arg=hovered, timeout=5_000)
    ring = page.locator("[data-testid=plane-linked]")
    assert ring.count() == 1
    caption = page.locator("[data-testid=plane-caption]").nth(1).inner_text()
    assert caption.startswith(f"test image #{hovered}")
    page.mouse.move(x, y - 400)  # off the plot: the link goes
    page.wait_for_function(f"() => {PLANES}[1].linked === null", timeout=5_000)


def test_the_walks_follow_one_t(page: object, server: StreamlitServer) -> None:
    open_page(page, f"{server.url}/compare?show=walk")
    page.wait_for_function(f"() => {PLANES}.length === 2", timeout=60_000)
    page.locator("[data-testid=plane-t]").first.fill("0.7")
    page.wait_for_function(f"() => {PLANES}.every((p) => Math.abs(p.mode.t - 0.7) < 1e-9)", timeout=5_000)


def test_next_leads_through_the_lesson(page: object, server: StreamlitServer) -> None:
    open_page(page, f"{server.url}/lesson")
    page.get_by_role("button", name="Start the lesson").click()
    page.get_by_text("Lesson, step 1 of 7").wait_for(timeout=60_000)
    wait_idle(page)
    page.get_by_role("button", name="Next ▶").click()
    page.get_by_text("Lesson, step 2 of 7: Select a digit").wait_for(timeout=60_000)
    wait_idle(page)
    assert "sel=i6586" in page.url and "step=2" in page.url
    page.get_by_role("button", name="Next ▶").click()
    page.get_by_text("Lesson, step 3 of 7").wait_for(timeout=60_000)
    wait_idle(page)
    page.wait_for_selector(".lp-root[data-ready=true]", timeout=60_000)
    t = page.evaluate("() => document.querySelector('.lp-root[data-ready=true]').parentElement.__latentPlane.mode.t")
    assert t == pytest.approx(0.5)
