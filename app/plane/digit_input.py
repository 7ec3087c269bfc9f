"""A digit from the user: drawn on the drawing pad or uploaded as a picture, as the 28x28 input the
model sees.

Both inputs live in tabs and stay mounted, so switching tabs never clears a drawing (nor does a
rerun or a remount: the pad keeps its strokes for the tab, see app.plane.pad). The one used is the
one the user touched last: a new stroke, an undo or a clear makes the drawing current, a new upload
the picture; a cleared pad means no drawing.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import streamlit as st
import torch

from app.plane.pad import drawing_pad
from app.widgets import markdown
from models.files.preprocess import ImageInputError, from_canvas, from_upload
from models.text import describe_error

UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]
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
        drawn, fingerprint = _drawing(f"{key}_pad")
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


def _drawing(key: str) -> tuple[DrawnInput, int | None]:
    """The pad, as an input, and the number of its drawing (None while it is empty)."""
    try:
        drawing = drawing_pad(key)
    except OSError as error:
        st.warning(f"The drawing pad cannot be shown: the server could not write the files browsers fetch "
                   f"({describe_error(error)}). Upload a picture of a digit instead.")  # fmt: skip
        return DrawnInput(None, None), None
    if drawing.problem is not None:
        return DrawnInput(None, drawing.problem, is_error=True), drawing.seq
    if drawing.rgba is None:
        return DrawnInput(None, DRAW_HINT), None
    try:
        return DrawnInput(from_canvas(drawing.rgba), None), drawing.seq
    except ImageInputError:  # strokes too faint to count as ink
        return DrawnInput(None, DRAW_HINT), drawing.seq


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
