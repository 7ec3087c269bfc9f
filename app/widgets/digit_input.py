"""A digit from the user: drawn on a canvas or uploaded as a picture, as the 28x28 input the model sees.

Both inputs live in tabs and stay mounted, so switching tabs never clears a drawing. The one
used is the one the user touched last: a new stroke makes the drawing current, a new upload
the picture.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, NamedTuple

import streamlit as st
import torch

from app.widgets import markdown
from models.files.preprocess import ImageInputError, from_canvas, from_upload

CANVAS_SIDE = 280  # 10x MNIST, so a 20-pixel brush is a 2-pixel MNIST stroke
BRUSH_WIDTH = 20
UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]
# The canvas shows its toolbar 2.65rem above itself on hover: leave that room, so it never
# covers (or blocks clicks on) what is above the canvas.
TOOLBAR_ROOM_PX = 48
DRAW_HINT = "Draw a digit on the black square."


class DrawnInput(NamedTuple):
    image: torch.Tensor | None  # (1, 1, 28, 28) in [0, 1], or None if nothing usable yet
    message: str | None  # why there is no image (an error or a hint)
    is_error: bool = False


def digit_input(key: str) -> DrawnInput:
    """Tabs "Draw" and "Upload an image"; returns the input the user touched last."""
    active_key = f"{key}_active"
    draw_tab, upload_tab = st.tabs(["Draw", "Upload an image"])
    with draw_tab:
        st.space(TOOLBAR_ROOM_PX)
        drawn, fingerprint = _drawing(f"{key}_canvas")
    with upload_tab:
        uploaded = _upload(f"{key}_upload", on_change=lambda: st.session_state.update({active_key: "upload"}))
    seen_key = f"{key}_drawing_seen"
    if fingerprint != st.session_state.get(seen_key):  # a stroke was added, undone or cleared
        st.session_state[seen_key] = fingerprint
        if fingerprint is not None:
            st.session_state[active_key] = "draw"
    if st.session_state.get(active_key) == "upload" and uploaded is not None:
        return uploaded
    if drawn.image is None and uploaded is not None:
        return uploaded
    return drawn


def _drawing(key: str) -> tuple[DrawnInput, str | None]:
    """The canvas, as an input, and a fingerprint of its strokes (None while it is empty)."""
    from streamlit_drawable_canvas import st_canvas  # importable only inside a Streamlit run

    result = st_canvas(
        stroke_width=BRUSH_WIDTH, stroke_color="#FFFFFF", background_color="#000000",
        height=CANVAS_SIDE, width=CANVAS_SIDE, drawing_mode="freedraw", return_image_data=True, key=key,
    )  # fmt: skip
    fingerprint = _fingerprint(getattr(result, "json_data", None))
    try:
        rgba = result.image_data
    except (AttributeError, RuntimeError, ValueError):
        rgba = None
    if rgba is None:
        return DrawnInput(None, DRAW_HINT), fingerprint
    try:
        return DrawnInput(from_canvas(rgba), None), fingerprint
    except ImageInputError:
        return DrawnInput(None, DRAW_HINT), fingerprint


def _fingerprint(json_data: Any) -> str | None:
    objects = json_data.get("objects") if isinstance(json_data, dict) else None
    if not objects:
        return None
    return hashlib.sha1(json.dumps(objects, sort_keys=True, default=str).encode()).hexdigest()


def _upload(key: str, on_change: Any) -> DrawnInput | None:
    """An uploaded picture of a digit (any common format, ink of any colour); None if there is none."""
    upload = st.file_uploader("A picture of one digit", type=UPLOAD_TYPES, key=key, on_change=on_change)
    if upload is None:
        st.caption("Dark ink on light paper or light on dark both work.")
        return None
    try:
        return DrawnInput(from_upload(upload.getvalue()), None)
    except ImageInputError as error:
        return DrawnInput(None, f"{markdown.escape(upload.name)}: {markdown.escape(error)}", is_error=True)
