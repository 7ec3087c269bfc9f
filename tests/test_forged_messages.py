"""Forged websocket messages (what a student's own script could send instead of the browser) never
show an exception to anyone, never cost the server memory that stays, and never reach another
session. A real `streamlit run` server; the messages are sent as a browser's are
(tools/streamlit_client.py), then changed."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import Iterator

import pytest
from PIL import Image, ImageDraw
from streamlit.proto.WidgetStates_pb2 import WidgetState

from models.files.data import Split
from tests.benchmarks.load_server import rss_mib
from tools.browser import StreamlitServer
from tools.streamlit_client import BrowserSession, run_to_end

PLANE = "explore_plane_dense_vae_2d"


@pytest.fixture(scope="module")
def server(mnist_test: Split) -> Iterator[StreamlitServer]:
    instance = StreamlitServer()
    yield instance
    instance.stop()


async def _forge(server: StreamlitServer, key: str, state: WidgetState) -> BrowserSession:
    """A session whose next rerun carries `state` for the widget `key` in place of the browser's."""
    session = BrowserSession(server.url)
    assert (await session.open()).status == "FINISHED_SUCCESSFULLY"
    state.id = session.widget_id(key)
    session.widgets[state.id] = state
    await session.rerun()
    return session


@pytest.mark.parametrize(
    ("key", "state"),
    [
        (PLANE, WidgetState(json_value="{not json")),
        (PLANE, WidgetState(json_value="[" * 100_000 + "]" * 100_000)),
        (PLANE, WidgetState(json_value=json.dumps({"click": "[" * 100_000}))),
        (PLANE, WidgetState(int_value=3)),
        ("model_path", WidgetState(int_value=5)),
        ("model_path", WidgetState(string_value="/etc/passwd")),
        ("presenter_mode", WidgetState(string_value="yes")),
    ],
    ids=[
        "invalid-json",
        "deep-nesting",
        "deep-string",
        "int-for-plane",
        "int-for-picker",
        "path-for-picker",
        "text-for-toggle",
    ],
)
def test_a_forged_value_shows_no_exception_now_or_later(server: StreamlitServer, key: str, state: WidgetState) -> None:
    async def run() -> list[str]:
        session = await _forge(server, key, state)
        await session.rerun()  # and the runs after it
        await session.close()
        return session.exceptions

    assert run_to_end(run()) == []


def test_an_oversized_state_is_refused_and_leaves_no_memory_behind(server: StreamlitServer) -> None:
    async def run() -> tuple[str, str, float]:
        before = rss_mib(server.process.pid)
        huge = WidgetState(json_value=json.dumps({"click": {"x": 0.5, "y": 0.5, "seq": 1, "pad": "z" * 10_000_000}}))
        session = await _forge(server, PLANE, huge)
        other = BrowserSession(server.url)
        status = (await other.open()).status
        await asyncio.sleep(0.5)
        grown = rss_mib(server.process.pid) - before
        await other.close()
        await session.close()
        return session.closed_reason or "", status, grown

    closed, other_status, grown = run_to_end(run())
    assert closed and other_status == "FINISHED_SUCCESSFULLY", (closed, other_status)
    assert grown < 20, f"the server grew {grown:.0f} MiB"


def test_every_value_a_browser_sends_is_kept(server: StreamlitServer) -> None:
    """An integer number input is registered with a float field and sent as an int by the browser:
    the guard must keep it (it once dropped it, so Train reset its numbers on every rerun)."""

    def estimate(run: object) -> str:
        return next(body for body in run.markdown if "should train for about" in body)

    async def run() -> tuple[str, str, str]:
        session = BrowserSession(server.url, page="train")
        default = estimate(await session.open())
        changed = estimate(await session.set_values({"train_epochs": 20, "train_subset": 6000}))
        after = estimate(await session.rerun())
        await session.close()
        return default, changed, after

    default, changed, after = run_to_end(run())
    assert changed != default, "the new epochs and image count were dropped"
    assert after == changed, "the next run forgot them"


PAD = "draw_pad"  # the Draw page's drawing pad (app.plane.pad)
PNG_URL = "data:image/png;base64,"
# A PNG of 70 bytes whose header says 200,000 x 200,000 pixels.
BOMB = PNG_URL + "iVBORw0KGgoAAAANSUhEUgADDUAAAw1ACAYAAAD5O4gKAAAAC0lEQVR4nGNgAAIAAAUAAXpeqz8AAAAASUVORK5CYII="


@pytest.mark.parametrize(
    "drawing",
    [
        {"seq": 1, "strokes": 1, "png": "javascript:alert(1)"},
        {"seq": 1, "strokes": 1, "png": PNG_URL + "A" * 300_000},
        {"seq": 1, "strokes": 1, "png": PNG_URL + "%%%"},
        {"seq": 1, "strokes": 1, "png": BOMB},
        {"seq": 1, "strokes": 1, "png": ["not", "a", "string"]},
        {"seq": 10**40, "png": None},
        "[" * 10_000,
    ],
    ids=["not-a-data-url", "huge", "not-base64", "png-bomb", "list", "huge-seq", "deep-string"],
)
def test_a_forged_drawing_shows_no_exception_and_no_encoding(server: StreamlitServer, drawing: object) -> None:
    async def run() -> tuple[object, object]:
        session = BrowserSession(server.url, page="draw")
        assert (await session.open()).ok
        forged = await session.set_component_state(PAD, "drawing", drawing)
        after = await session.rerun()
        await session.close()
        return forged, after

    forged, after = run_to_end(run())
    assert forged.exceptions == [] and after.exceptions == [], (forged.exceptions, after.exceptions)
    assert not forged.shows("Encoded at") and not after.shows("Encoded at")


def test_a_drawing_as_the_pad_sends_it_is_encoded(server: StreamlitServer) -> None:
    """The same path with a real drawing (white strokes on black, 280x280): the refusals above are
    the checks, not a broken path."""
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    ImageDraw.Draw(image).line([(140, 40), (150, 240)], fill=(255, 255, 255, 255), width=20)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    drawing = {"seq": 1, "strokes": 1, "png": PNG_URL + base64.b64encode(buffer.getvalue()).decode()}

    async def run() -> object:
        session = BrowserSession(server.url, page="draw")
        assert (await session.open()).ok
        drawn = await session.set_component_state(PAD, "drawing", drawing)
        await session.close()
        return drawn

    drawn = run_to_end(run())
    assert drawn.ok and drawn.shows("Encoded at"), drawn
