"""Helpers for the browser tests of the latent plane: the plane's JavaScript object, its plot's
box on the screen, the coordinates it shows, and the websocket frames a page sends."""

from __future__ import annotations

import re

from tools.browser import wait_for_plane

Z_TEXT = re.compile(r"z = \((-?\d+\.\d+), (-?\d+\.\d+)\)")
PLANE = "document.querySelector('.lp-root[data-ready=true]').parentElement.__latentPlane"


def count_sent_frames(page: object) -> list[int]:
    """Sizes of the websocket frames the page sends from now on (a list that grows)."""
    sent: list[int] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(len(frame))))
    return sent


def plot_box(page: object) -> dict:
    wait_for_plane(page)
    return page.evaluate(
        f"() => {{ const b = {PLANE}.frame().box; return {{x: b.left, y: b.top, w: b.width, h: b.height}}; }}"
    )
