"""The load test's check against headless Chromium: hovering sends the server nothing, and the
client's click rerun has the shape of the one Chromium sends."""

from __future__ import annotations

import asyncio
import json
import random
import time

import numpy as np
from streamlit.proto.BackMsg_pb2 import BackMsg

from tests.benchmarks.load_students import Plane
from tools.browser import CHROMIUM_ARGS, StreamlitServer, chromium_path, open_page, screen_point, wait_for_plane
from tools.streamlit_client import BrowserSession
from tools.streamlit_messages import message_shape, user_key


def chromium_click(server: StreamlitServer, plane: Plane, moves: int) -> tuple[int, int, BackMsg | None]:
    """In headless Chromium: messages sent while the mouse sweeps the plane, then the messages a
    click on a test point sends, and the first of them."""
    from playwright.sync_api import sync_playwright

    sent: list[bytes] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(f if isinstance(f, bytes) else b"")))
        open_page(page, server.url)
        wait_for_plane(page)
        (x0, x1), (y0, y1) = plane.bounds
        start = len(sent)
        for i in range(moves):
            t = i / (moves - 1)
            page.mouse.move(*screen_point(page, x0 + (x1 - x0) * (0.05 + 0.9 * t), y0 + (y1 - y0) * (0.2 + 0.6 * t)))
        page.wait_for_timeout(500)
        hover_sent = len(sent) - start
        centre = plane.points.mean(axis=0)
        index = int(np.argmin(np.abs(plane.points - centre).sum(axis=1)))
        start = len(sent)
        point = screen_point(page, float(plane.points[index, 0]), float(plane.points[index, 1]))
        page.mouse.move(*point)
        page.mouse.click(*point)
        deadline = time.monotonic() + 10
        while len(sent) == start and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        page.wait_for_timeout(1000)
        browser.close()
    clicked = None
    if len(sent) > start:
        clicked = BackMsg()
        clicked.ParseFromString(sent[start])
    return hover_sent, len(sent) - start, clicked


async def browser_check(server: StreamlitServer, plane: Plane, moves: int = 300) -> dict:
    """Hovering in Chromium sends nothing; the client's click rerun has the shape of Chromium's."""
    hover_sent, click_sent, clicked = await asyncio.to_thread(chromium_click, server, plane, moves)
    session = BrowserSession(server.url)
    await session.open()
    value = (clicked_value(clicked, plane.key) if clicked else None) or plane.click(random.Random(0), 1)
    ours = session.component_state_message(plane.key, "click", value)
    await session.close()
    browser_shape = message_shape(clicked) if clicked else None
    client_shape = message_shape(ours)
    return {"hover_moves": moves, "hover_messages_sent": hover_sent, "click_messages_sent": click_sent,
            "click_rerun_same_shape": browser_shape == client_shape,
            "browser_click_shape": browser_shape, "client_click_shape": client_shape}  # fmt: skip


def clicked_value(message: BackMsg, key: str) -> dict | None:
    for widget in message.rerun_script.widget_states.widgets:
        if user_key(widget.id) == key and widget.json_value:
            return json.loads(widget.json_value).get("click")
    return None
