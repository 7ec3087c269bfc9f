"""The drawing canvas and the image upload, both turned into the 28x28 input the model sees."""

from __future__ import annotations

from typing import NamedTuple

import streamlit as st
import torch

from models.preprocess import ImageInputError, from_canvas, from_upload

CANVAS_SIDE = 280  # 10x MNIST, so a 20-pixel brush is a 2-pixel MNIST stroke
BRUSH_WIDTH = 20
UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]


class DrawnInput(NamedTuple):
    image: torch.Tensor | None  # (1, 1, 28, 28) in [0, 1], or None if nothing usable yet
    message: str | None  # why there is no image (an error or a hint)
    is_error: bool = False


def drawing_canvas(key: str) -> DrawnInput:
    """A black canvas with a white brush, like MNIST's white digits on black."""
    from streamlit_drawable_canvas import st_canvas  # importable only inside a Streamlit run

    result = st_canvas(
        stroke_width=BRUSH_WIDTH, stroke_color="#FFFFFF", background_color="#000000",
        height=CANVAS_SIDE, width=CANVAS_SIDE, drawing_mode="freedraw", return_image_data=True, key=key,
    )  # fmt: skip
    try:
        rgba = result.image_data
    except (AttributeError, RuntimeError, ValueError):
        rgba = None
    if rgba is None:
        return DrawnInput(None, "Draw a digit on the black square.")
    try:
        return DrawnInput(from_canvas(rgba), None)
    except ImageInputError:
        return DrawnInput(None, "Draw a digit on the black square.")


def image_upload(key: str) -> DrawnInput:
    """An uploaded picture of a digit (any common format, ink of any colour)."""
    upload = st.file_uploader("A picture of one digit", type=UPLOAD_TYPES, key=key)
    if upload is None:
        return DrawnInput(None, "Upload a picture of a single digit: dark on light or light on dark both work.")
    try:
        return DrawnInput(from_upload(upload.getvalue()), None)
    except ImageInputError as error:
        return DrawnInput(None, f"{upload.name}: {error}", is_error=True)
