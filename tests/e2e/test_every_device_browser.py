"""The plane (and the drawing pad) by finger, pen and keyboard: Playwright's device emulation (a phone, a touch tablet)
with taps through `page.touchscreen` and drags and pinches through CDP `Input.dispatchTouchEvent`,
and a keyboard-only user who reaches the plane with Tab. Each state is waited for, never a time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tools.browser import (
    PAD,
    PAD_CANVAS,
    StreamlitServer,
    open_page,
    screen_point,
    wait_for_drawing,
    wait_for_plane,
    wait_idle,
)

SELECTED = 200  # a test image, tapped through the plane's own coordinates
PLANE = "document.querySelector('.lp-root[data-ready=true]').parentElement.__latentPlane"
RANGES_JS = f"() => {{ const l = {PLANE}.gd._fullLayout; return [l.xaxis.range.slice(), l.yaxis.range.slice()]; }}"
RENDERS_JS = "() => Number(document.querySelector('[data-testid=plane-decoded]').dataset.renders)"
TEST_POINT_JS = f"(i) => Array.from({PLANE}.points.subarray(2 * i, 2 * i + 2))"
PLANE_TOP_JS = "() => document.querySelector('.lp-figure').getBoundingClientRect().top"


@pytest.fixture
def phone(browser: object, server: StreamlitServer, devices: dict) -> Iterator[object]:
    context = browser.new_context(**devices["iPhone 13"])
    page = context.new_page()
    yield page
    context.close()


def tab_until(page: object, focused_js: str, what: str) -> None:
    """Press Tab until `focused_js` (on document.activeElement) holds: `what` is in the tab order."""
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => document.activeElement.{focused_js}"):
            return
    pytest.fail(f"Tab never reached {what}")


def caption(page: object) -> str:
    return page.get_by_test_id("plane-caption").inner_text()


def width(ranges: list[list[float]]) -> float:
    return ranges[0][1] - ranges[0][0]


def wait_for_view_width(page: object, test: str) -> None:
    """Wait until the shown x range's width passes `test` (JS, e.g. "< 3" or "=== 5")."""
    page.wait_for_function(f"() => {{ const r = ({RANGES_JS})(); return r[0][1] - r[0][0] {test}; }}")


def wait_for_home(page: object, home: list[list[float]]) -> None:
    """Wait until the view is as wide as it opened (Plotly widens the home ranges to the plot's shape)."""
    wait_for_view_width(page, f"> {width(home)} - 1e-6 && r[0][1] - r[0][0] < {width(home)} + 1e-6")


def wait_for_caption(page: object, text: str) -> None:
    page.wait_for_function(
        "(text) => document.querySelector('[data-testid=plane-caption]').textContent.includes(text)", arg=text
    )


class Fingers:
    """Touches as a touch screen sends them (CDP), in page pixels."""

    def __init__(self, page: object) -> None:
        self.cdp = page.context.new_cdp_session(page)

    def send(self, kind: str, points: list[tuple[float, float]]) -> None:
        touch_points = [{"x": x, "y": y, "id": i, "radiusX": 4, "radiusY": 4, "force": 1}
                        for i, (x, y) in enumerate(points)]  # fmt: skip
        self.cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": touch_points})

    def drag(self, start: list[tuple[float, float]], end: list[tuple[float, float]], steps: int = 20) -> None:
        """Put the fingers down at `start`, move them to `end` in `steps`, and lift them."""
        self.send("touchStart", start)
        for step in range(1, steps + 1):
            f = step / steps
            pairs = zip(start, end, strict=True)
            self.send("touchMove", [(ax + (bx - ax) * f, ay + (by - ay) * f) for (ax, ay), (bx, by) in pairs])
        self.send("touchEnd", [])


def open_plane(page: object, url: str) -> tuple[float, float, float, float]:
    """Open a plane page, scroll its plot into view; returns the plot area's box (x, y, width, height)."""
    open_page(page, url)
    wait_for_plane(page)
    page.locator(".lp-figure").scroll_into_view_if_needed()
    box = page.locator(".lp-figure .nsewdrag").bounding_box()
    return box["x"], box["y"], box["width"], box["height"]


def test_on_a_phone_a_tap_selects_and_a_finger_drag_decodes_without_zooming(
    phone: object, server: StreamlitServer
) -> None:
    x, y, w, h = open_plane(phone, server.url)
    # The image and the plot are both on screen.
    viewport = phone.viewport_size
    for test_id in ("plane-decoded",):
        box = phone.get_by_test_id(test_id).bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], (test_id, box)
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]

    tx, ty = screen_point(phone, *phone.evaluate(TEST_POINT_JS, SELECTED))
    phone.touchscreen.tap(tx, ty)
    phone.get_by_test_id("plane-selection").wait_for()
    wait_for_caption(phone, f"#{SELECTED}")
    assert "Selected test image #200" in phone.get_by_test_id("plane-live").inner_text()
    wait_idle(phone)

    before, renders, top = phone.evaluate(RANGES_JS), phone.evaluate(RENDERS_JS), phone.evaluate(PLANE_TOP_JS)
    fingers = Fingers(phone)
    fingers.send("touchStart", [(x + 0.2 * w, y + 0.5 * h)])
    for step in range(1, 21):
        fingers.send("touchMove", [(x + (0.2 + 0.03 * step) * w, y + 0.5 * h)])
    phone.wait_for_function(f"() => ({RENDERS_JS})() >= {renders + 15}")
    assert caption(phone) == "decoded under your finger" or caption(phone).startswith("test image #")
    fingers.send("touchEnd", [])
    assert phone.evaluate(RANGES_JS) == before, "a finger drag zoomed"
    assert phone.evaluate(PLANE_TOP_JS) == top, "a finger drag on the plot scrolled the page"
    wait_for_caption(phone, f"#{SELECTED}")


def test_on_a_phone_pinch_and_buttons_zoom_and_a_double_tap_resets(phone: object, server: StreamlitServer) -> None:
    x, y, w, h = open_plane(phone, server.url)
    home = phone.evaluate(RANGES_JS)  # the view as it opens
    cx, cy = x + w / 2, y + h / 2
    Fingers(phone).drag([(cx - 20, cy), (cx + 20, cy)], [(cx - 0.4 * w, cy), (cx + 0.4 * w, cy)])
    wait_for_view_width(phone, f"< {0.5 * width(home)}")

    phone.touchscreen.tap(cx, cy)
    phone.touchscreen.tap(cx, cy)  # a double tap: back to the home view
    wait_for_home(phone, home)

    zoom_in = phone.get_by_role("button", name="Zoom in")
    zoom_in.tap()
    wait_for_view_width(phone, f"< {0.9 * width(home)}")
    phone.get_by_role("button", name="Reset the view").tap()
    wait_for_home(phone, home)

    chip = phone.get_by_role("button", name="digit 3")
    assert chip.get_attribute("aria-pressed") == "true"
    chip.tap()
    phone.wait_for_function(f"() => {PLANE}.gd.data[3].visible === 'legendonly'")
    assert chip.get_attribute("aria-pressed") == "false"
    box = chip.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44, box


def test_a_swipe_beside_the_plot_scrolls_the_page(phone: object, server: StreamlitServer) -> None:
    open_plane(phone, server.url)
    phone.evaluate("() => document.querySelector('[data-testid=stMain]').scrollTo(0, 0)")
    top = phone.evaluate(PLANE_TOP_JS)
    start = (8, phone.viewport_size["height"] / 2)  # the page's margin: never the plot
    Fingers(phone).drag([start], [(start[0], start[1] - 250)])
    phone.wait_for_function(f"() => ({PLANE_TOP_JS})() < {top - 50}")


def test_on_a_touch_tablet_taps_set_a_and_b(browser: object, server: StreamlitServer) -> None:
    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True, is_mobile=True)
    page = context.new_page()
    try:
        open_plane(page, f"{server.url}/interpolate")
        for side, index in (("A", 10), ("B", 4000)):
            wait_for_plane(page)
            sx, sy = screen_point(page, *page.evaluate(TEST_POINT_JS, index))
            page.touchscreen.tap(sx, sy)
            page.wait_for_function(
                f"() => {{ const e = document.querySelector('[data-testid=plane-end-{side}]');"
                f" const b = e && e.getBoundingClientRect();"
                f" return b && Math.hypot(b.x + b.width / 2 - {sx}, b.y + b.height / 2 - {sy}) < 3; }}"
            )
            wait_idle(page)
        t = page.get_by_test_id("plane-t")
        box = t.bounding_box()
        page.touchscreen.tap(box["x"] + 0.75 * box["width"], box["y"] + box["height"] / 2)
        page.wait_for_function("() => Math.abs(document.querySelector('[data-testid=plane-t]').value - 0.75) < 0.05")
    finally:
        context.close()


def test_by_keyboard_alone_the_plane_decodes_selects_zooms_and_hides_digits(
    page: object, server: StreamlitServer
) -> None:
    open_plane(page, server.url)
    home = page.evaluate(RANGES_JS)  # the view as it opens
    tab_until(page, "classList.contains('lp-figure')", "the plane")
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none"
    renders = page.evaluate(RENDERS_JS)
    for key in ("ArrowRight", "ArrowRight", "ArrowUp", "Shift+ArrowLeft"):
        page.keyboard.press(key)
    page.wait_for_function(f"() => ({RENDERS_JS})() >= {renders + 4}")
    page.get_by_test_id("plane-cursor").wait_for()
    assert caption(page) == "decoded at the cursor" or caption(page).startswith("test image #")
    assert "decoded at z = (" in page.get_by_test_id("plane-decoded").get_attribute("aria-label")

    page.keyboard.press("Enter")
    page.get_by_test_id("plane-selection").wait_for()
    page.get_by_test_id("plane-live").filter(has_text="Selected").wait_for()
    page.keyboard.press("+")
    wait_for_view_width(page, f"< {0.9 * width(home)}")
    page.keyboard.press("Home")
    wait_for_home(page, home)
    page.keyboard.press("7")
    page.wait_for_function(f"() => {PLANE}.gd.data[7].visible === 'legendonly'")
    assert page.get_by_role("button", name="digit 7").get_attribute("aria-pressed") == "false"


def test_by_keyboard_t_moves_in_hundredths_and_tenths(page: object, server: StreamlitServer) -> None:
    open_plane(page, f"{server.url}/interpolate")
    t = page.get_by_test_id("plane-t")
    t.focus()
    start = float(t.input_value())
    page.keyboard.press("ArrowRight")
    assert float(t.input_value()) == pytest.approx(min(1.0, start + 0.01))
    page.keyboard.press("Home")
    page.keyboard.press("PageUp")
    assert float(t.input_value()) == pytest.approx(0.1)


def test_by_keyboard_alone_a_digit_is_drawn_and_encoded(page: object, server: StreamlitServer) -> None:
    open_page(page, f"{server.url}/draw")
    pad = page.locator(PAD)
    pad.wait_for(timeout=60_000)
    before = int(pad.get_attribute("data-seq") or 0)
    tab_until(page, "classList.contains('dp-canvas')", "the drawing pad")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Shift+ArrowUp")
    page.keyboard.press("Space")  # the pen goes down
    for _ in range(10):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")  # and up: the stroke is sent
    wait_for_drawing(page, before)
    page.get_by_text("Encoded at").wait_for(timeout=60_000)
    assert pad.get_attribute("data-strokes") == "1" and pad.get_attribute("data-pointer") == "keyboard"
    assert page.locator(PAD_CANVAS).get_attribute("aria-label") == "Drawing pad: 1 stroke"
