"""End to end: a shared link opens the same view in another browser, and the view follows the URL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from tools.browser import StreamlitServer, open_page, wait_for_plane, wait_idle

pytestmark = pytest.mark.e2e
PLANE = "document.querySelector('.lp-root[data-ready=true]').parentElement.__latentPlane"
LINK = "/interpolate?model=dense_ae_2d&a=i5&b=1.0,1.0&t=0.3&slerp=1&view=-20,20,-15,25&hide=1,7&bd=1&op=0.3"


def _state(page: object) -> dict:
    return page.evaluate(
        f"() => {{ const p = {PLANE}; return {{ x: p.frame().x, y: p.frame().y, hidden: [...p.hidden].sort(),"
        " backdrop: p.backdropOn.checked, opacity: Number(p.opacity.value), t: p.mode.t,"
        " model: p.data.model.url, a: p.data.mode.a.index, b: p.data.mode.b.code, spherical: p.data.mode.spherical }; }"
    )


def test_a_link_opens_the_whole_view_in_a_fresh_browser(browser: object, server: StreamlitServer) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # nothing remembered
    try:
        page = context.new_page()
        open_page(page, server.url + LINK)
        wait_for_plane(page)
        page.wait_for_timeout(500)
        state = _state(page)
        assert "/dense_ae_2d-" in state["model"] and state["a"] == 5 and state["b"] == [1.0, 1.0]
        assert state["spherical"] is True and state["t"] == pytest.approx(0.3)
        assert state["hidden"] == [1, 7] and state["backdrop"] is True and state["opacity"] == pytest.approx(0.3)
        # The plot keeps equal axis scales, so one range may widen to fit; the link's view is inside it.
        assert state["x"][0] <= -20 + 1e-6 and state["x"][1] >= 20 - 1e-6
        assert state["y"][0] <= -15 + 1e-6 and state["y"][1] >= 25 - 1e-6
    finally:
        context.close()


def test_the_url_follows_the_view_and_a_reload_keeps_it(page: object, server: StreamlitServer) -> None:
    open_page(page, f"{server.url}/interpolate")
    wait_for_plane(page)
    page.locator("[data-testid=plane-t]").fill("0.62")
    page.get_by_role("button", name="digit 3").click()  # hide the 3s
    page.get_by_text("Spherical (slerp)").click()  # a server-side change: a rerun that rewrites the URL
    wait_idle(page)
    page.wait_for_timeout(800)
    query = parse_qs(urlparse(page.url).query)
    assert query["t"] == ["0.620"] and query["hide"] == ["3"] and query["slerp"] == ["1"]
    assert query["model"] == ["dense_vae_2d"] and query["a"][0].startswith("i")
    page.reload()
    wait_for_plane(page)
    page.wait_for_timeout(500)
    state = _state(page)
    assert state["t"] == pytest.approx(0.62) and state["hidden"] == [3] and state["spherical"] is True


def test_copy_link_gives_the_address_of_this_view(browser: object, server: StreamlitServer) -> None:
    permissions = ["clipboard-read", "clipboard-write"]
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, permissions=permissions)
    try:
        page = context.new_page()
        open_page(page, f"{server.url}/sample?seed=7")
        page.get_by_test_id("copy-link").click()
        page.get_by_text("Link copied").wait_for(timeout=5_000)
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert copied == page.url and parse_qs(urlparse(copied).query)["seed"] == ["7"]
    finally:
        context.close()


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)])
def test_presenter_mode_fills_the_window_with_large_digits(
    browser: object, server: StreamlitServer, size: tuple
) -> None:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    try:
        page = context.new_page()
        open_page(page, f"{server.url}/?present=1")
        wait_for_plane(page)
        assert not page.locator("[data-testid=stSidebar]").is_visible()
        figure = page.locator(".lp-figure").bounding_box()
        assert figure["y"] + figure["height"] >= size[1] - 20, "the plot reaches the bottom of the window"
        assert figure["y"] + figure["height"] <= size[1] + 1, "and stops there"
        assert page.locator("[data-testid=plane-decoded]").bounding_box()["width"] >= 280
        page.get_by_role("button", name="Exit presenter mode").click()
        wait_idle(page)
        page.locator("[data-testid=stSidebar]").wait_for(timeout=10_000)
    finally:
        context.close()
