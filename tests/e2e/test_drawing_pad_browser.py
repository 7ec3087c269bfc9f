"""End to end in headless Chromium: the Draw page's drawing pad (app/plane/js/pad/) by mouse, by
finger on an emulated phone and by pen; Undo and Clear by tap; the whole pad on screen at phone,
tablet, laptop and projector sizes; and a drawing that survives a rerun and a reload."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.plane_helpers import Z_TEXT, count_sent_frames
from tools.browser import (
    ONE,
    PAD,
    PAD_CANVAS,
    SEVEN,
    StreamlitServer,
    draw_strokes,
    open_page,
    wait_for_drawing,
    wait_idle,
)

pytestmark = pytest.mark.e2e

MIN_TARGET_PX = 44  # touch targets, as WCAG 2.5.5 and the platforms' guidelines ask
SIDEBAR_OPEN = "[data-testid=stSidebar][data-collapsed=false]"


@pytest.fixture
def phone(browser: object, devices: dict[str, dict]) -> Iterator[object]:
    """A page on an emulated iPhone 13 (touch, mobile viewport), at 390x844."""
    device = {k: v for k, v in devices["iPhone 13"].items() if k != "default_browser_type"}
    context = browser.new_context(**{**device, "viewport": {"width": 390, "height": 844}})
    page = context.new_page()
    yield page
    context.close()


def _star_at_the_encoding(page: object) -> None:
    """The red star on the plane is where the page says the drawing was encoded."""
    encoded = Z_TEXT.search(page.get_by_text("Encoded at").inner_text())
    you = page.locator("[data-testid=plane-you]")
    you.wait_for(timeout=60_000)
    assert float(you.get_attribute("data-x")) == pytest.approx(float(encoded.group(1)), abs=1e-3)
    assert float(you.get_attribute("data-y")) == pytest.approx(float(encoded.group(2)), abs=1e-3)


def _pad_state(page: object) -> dict:
    return page.locator(PAD).first.evaluate(
        "p => ({ strokes: Number(p.dataset.strokes), seq: Number(p.dataset.seq), pointer: p.dataset.pointer,"
        " label: p.querySelector('canvas').getAttribute('aria-label'), ink: (() => {"
        "   const c = p.querySelector('canvas'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "   let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++; return n; })() })"
    )


def _pad_fits(page: object) -> None:
    """The canvas and its buttons are wholly inside the viewport's width, square, and not under the sidebar."""
    viewport = page.viewport_size
    canvas = page.locator(PAD_CANVAS).first.bounding_box()
    assert canvas["x"] >= 0 and canvas["x"] + canvas["width"] <= viewport["width"], (viewport, canvas)
    assert canvas["width"] >= 150 and abs(canvas["width"] - canvas["height"]) < 1, canvas
    sidebar = page.locator(SIDEBAR_OPEN)
    if sidebar.count():
        assert canvas["x"] >= sidebar.bounding_box()["x"] + sidebar.bounding_box()["width"], "under the sidebar"
    for name in ("Undo", "Clear"):
        button = page.locator(PAD).get_by_role("button", name=name).bounding_box()
        assert button["width"] >= MIN_TARGET_PX and button["height"] >= MIN_TARGET_PX, (name, button)
        assert button["x"] + button["width"] <= viewport["width"], (name, button)


def test_a_digit_drawn_by_mouse_is_encoded_and_survives_a_rerun_and_a_reload(
    page: object, server: StreamlitServer
) -> None:
    sent = count_sent_frames(page)
    open_page(page, f"{server.url}/draw")
    canvas = page.get_by_role("application", name="Drawing pad: empty")
    assert canvas.evaluate("c => c.tabIndex") == 0, "in the tab order: the keyboard draws there too"
    assert canvas.evaluate("c => getComputedStyle(c).touchAction") == "none"
    draw_strokes(page, SEVEN, steps=12)
    _star_at_the_encoding(page)
    drawn = _pad_state(page)
    assert drawn["pointer"] == "mouse" and drawn["strokes"] == 1 and drawn["ink"] > 500, drawn
    page.get_by_role("application", name="Drawing pad: 1 stroke").wait_for(timeout=5_000)
    encoded = page.get_by_text("Encoded at").inner_text()

    frames = len(sent)
    page.locator("body").press("r")  # Streamlit's own key for a rerun
    for _ in range(100):
        if len(sent) > frames:
            break
        page.wait_for_timeout(100)
    assert len(sent) > frames, "the rerun was asked for"
    wait_idle(page)
    assert _pad_state(page) == drawn, "a rerun keeps the drawing as it was"
    assert page.get_by_text("Encoded at").inner_text() == encoded

    page.reload()
    page.locator(PAD).first.wait_for(timeout=60_000)
    restored = _pad_state(page)
    assert restored["strokes"] == 1 and restored["ink"] == drawn["ink"], "a reload keeps it too"
    wait_for_drawing(page, drawn["seq"])  # sent again: the new session knew nothing of it
    page.get_by_text("Encoded at").wait_for(timeout=60_000)
    assert page.get_by_text("Encoded at").inner_text() == encoded
    _star_at_the_encoding(page)


# Every websocket frame the page sends, by time (performance.now()).
RECORD_SENT = """
window.__sent = [];
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (...args) { window.__sent.push(performance.now()); return send.apply(this, args); };
"""
# Follow the pad's ink as the issue "Draw live" will: onInk, from the pad's own module.
FOLLOW_INK = """async () => {
  const url = performance.getEntriesByType("resource").map((e) => e.name).find((n) => n.endsWith("/pad/index.js"));
  const module = await import(url);
  window.__inks = [];
  module.onInk(({ image, ended }) => {
    const ink = image.data.filter((v, i) => i % 4 === 0 && v > 128).length;
    window.__inks.push({ at: performance.now(), side: image.width, ended, ink });
  });
}"""


def test_a_pen_draws_a_digit_and_its_ink_can_be_followed_with_nothing_sent_meanwhile(
    page: object, server: StreamlitServer
) -> None:
    page.add_init_script(RECORD_SENT)
    open_page(page, f"{server.url}/draw")
    page.locator(PAD).first.wait_for(timeout=60_000)
    page.evaluate(FOLLOW_INK)
    draw_strokes(page, ONE, by="pen")
    assert _pad_state(page)["pointer"] == "pen"
    _star_at_the_encoding(page)

    inks, sent = page.evaluate("() => window.__inks"), page.evaluate("() => window.__sent")
    moving = [ink for ink in inks if not ink["ended"]]
    assert len(moving) >= 5 and all(ink["side"] == 280 for ink in inks), "the ink, while the pen moves"
    assert [ink["ink"] for ink in moving] == sorted(ink["ink"] for ink in moving), "a growing stroke"
    assert [ink["ended"] for ink in inks][-1], "and once more when it ends"
    during = [t for t in sent if moving[0]["at"] <= t <= moving[-1]["at"]]
    assert during == [] and any(t > moving[-1]["at"] for t in sent), "nothing sent while drawing, then the drawing"


def test_a_finger_draws_undoes_and_clears_on_a_phone(phone: object, server: StreamlitServer) -> None:
    open_page(phone, f"{server.url}/draw")
    phone.locator(PAD).first.wait_for(timeout=60_000)
    _pad_fits(phone)
    draw_strokes(phone, ONE, by="touch")
    first = _pad_state(phone)
    assert first["pointer"] == "touch" and first["strokes"] == 1, first
    _star_at_the_encoding(phone)
    draw_strokes(phone, [(0.3, 0.3), (0.7, 0.3)], by="touch")  # a bar: now a 7-ish, two strokes
    assert _pad_state(phone)["strokes"] == 2

    phone.locator(PAD).get_by_role("button", name="Undo").tap()
    wait_for_drawing(phone, first["seq"] + 1)
    undone = _pad_state(phone)
    assert undone["strokes"] == 1 and undone["ink"] == first["ink"], "undo takes the last stroke back exactly"
    phone.get_by_text("Encoded at").wait_for(timeout=30_000)

    phone.locator(PAD).get_by_role("button", name="Clear").tap()
    wait_for_drawing(phone, undone["seq"])
    cleared = _pad_state(phone)
    assert cleared["strokes"] == 0 and cleared["ink"] == 0 and cleared["label"] == "Drawing pad: empty", cleared
    phone.get_by_text("Draw a digit on the black square.").wait_for(timeout=30_000)
    assert phone.get_by_text("Encoded at").count() == 0, "a cleared pad is no drawing"
    assert phone.locator(PAD).get_by_role("button", name="Undo").is_disabled()

    phone.set_viewport_size({"width": 412, "height": 915})
    _pad_fits(phone)


def test_the_pad_is_whole_on_a_tablet_with_the_sidebar_a_laptop_and_a_projector(
    browser: object, server: StreamlitServer
) -> None:
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    try:
        open_page(page, f"{server.url}/draw")
        page.locator(PAD).first.wait_for(timeout=60_000)
        page.locator(SIDEBAR_OPEN).wait_for(timeout=5_000)  # open by default at this width
        _pad_fits(page)
        for width, height in ((1280, 800), (1920, 1080)):
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(300)
            _pad_fits(page)
    finally:
        context.close()
