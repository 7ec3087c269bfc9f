"""The drawing pad: the app's own canvas, drawn on by mouse, finger or pen, with Undo and Clear.

The browser side (app/plane/js/pad/, published with the plane's code by app.plane.publish) keeps
the strokes for the tab and, each time a stroke ends or is undone or cleared, sends the drawing once
as the component's state "drawing":

    {"seq": 7, "strokes": 2, "png": "data:image/png;base64,..."}   (png null when the pad is empty)

`seq` numbers the changes (a new one is a new drawing); the PNG is the pad's PAD_SIDE x PAD_SIDE
bitmap, white ink on black. It reaches the server like any websocket message, so it is checked
here (`read_drawing`) before anything decodes it: a forged or broken value becomes a sentence for
the user, never an exception.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from typing import Any, NamedTuple

import numpy as np
import streamlit as st
from PIL import Image

from app.plane.preload import as_component_data
from app.plane.publish import browser_code_url
from models.files.preprocess import ImageInputError

PAD_SIDE = 280  # 10x MNIST, so the brush below makes a 2-pixel MNIST stroke
BRUSH_WIDTH = 20
PNG_PREFIX = "data:image/png;base64,"
# A drawn digit's PNG is a few kB (a page of scribbles some tens): far larger is not from the pad.
MAX_DATA_URL_CHARS = 200_000
MAX_SEQ = 2**53 - 1  # the largest whole number JavaScript counts exactly
STORAGE_PREFIX = "latent-drawing-pad:"  # the tab's sessionStorage key, with the component's key

_LOADER = """
export default function (component) {
  const data = JSON.parse(component.data.json);
  import(new URL(data.module, document.baseURI).href).then((module) => module.render({ ...component, data }));
}
"""

_component = st.components.v2.component("latent_explorer.drawing_pad", js=_LOADER, isolate_styles=False)


class PadDrawing(NamedTuple):
    """What the pad holds, as the browser last reported it (checked)."""

    seq: int | None  # the number of its last change; None before the first
    rgba: np.ndarray | None  # (PAD_SIDE, PAD_SIDE, 4) uint8; None while the pad is empty or unreadable
    problem: str | None = None  # why a value sent as a drawing could not be read (for the user)


def drawing_pad(key: str) -> PadDrawing:
    """Draw the pad (keyed by `key`, which also names the strokes the tab keeps) and return its drawing.

    Raises OSError when the pad's browser code cannot be published (the caller says so in words).
    """
    module = browser_code_url() + "pad/index.js"
    data = {"module": module, "side": PAD_SIDE, "brush": BRUSH_WIDTH, "seq": _seq_of(_state_value(key)),
            "storage_key": STORAGE_PREFIX + key}  # fmt: skip
    result = _component(data=as_component_data(data), key=key, on_drawing_change=lambda: None)
    return parse_drawing(result.get("drawing") if isinstance(result, dict) else None)


def _state_value(key: str) -> Any:
    """The drawing the browser sent for this run (its seq is echoed to the pad), if any."""
    state = st.session_state.get(key)
    return state.get("drawing") if isinstance(state, dict) else None


def _seq_of(value: Any) -> int | None:
    seq = value.get("seq") if isinstance(value, dict) else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq <= MAX_SEQ else None


def parse_drawing(value: Any) -> PadDrawing:
    """The drawing in a component state value; an empty one for anything that is not a drawing."""
    seq = _seq_of(value)
    if seq is None:
        return PadDrawing(None, None)
    png = value.get("png")
    if png is None:
        return PadDrawing(seq, None)
    try:
        return PadDrawing(seq, read_drawing(png))
    except ImageInputError as error:
        return PadDrawing(seq, None, str(error))


def read_drawing(data_url: Any) -> np.ndarray:
    """The RGBA pixels (PAD_SIDE x PAD_SIDE x 4, uint8) of a PNG data URL as the pad sends it.

    The URL's kind and length are checked before it is decoded, and the image's size from the PNG
    header before any pixel is: a bomb (a small file claiming millions of pixels) is refused unread.
    Raises ImageInputError with a sentence for the user.
    """
    if not isinstance(data_url, str) or not data_url.startswith(PNG_PREFIX):
        raise ImageInputError("The drawing did not arrive as a PNG picture; clear the pad and draw again.")
    if len(data_url) > MAX_DATA_URL_CHARS:
        raise ImageInputError(
            f"The drawing arrived as {len(data_url) / 1000:.0f} kB, more than a drawing of the pad can be "
            f"({MAX_DATA_URL_CHARS / 1000:.0f} kB); clear the pad and draw again."
        )
    try:
        payload = base64.b64decode(data_url[len(PNG_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ImageInputError("The drawing arrived damaged (not base64); clear the pad and draw again.") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(payload), formats=["PNG"]) as image:
                if image.size != (PAD_SIDE, PAD_SIDE):  # from the header: nothing decoded yet
                    width, height = image.size
                    raise ImageInputError(
                        f"The drawing is {width}x{height} pixels, not the pad's {PAD_SIDE}x{PAD_SIDE}; "
                        "clear the pad and draw again."
                    )
                image.load()
                return np.array(image.convert("RGBA"), dtype=np.uint8)
    except ImageInputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageInputError(
            f"The drawing claims far more pixels than the pad's {PAD_SIDE}x{PAD_SIDE}; clear the pad and draw again."
        ) from None
    except Exception as error:
        # Pillow reports damaged data as OSError, SyntaxError, ValueError, zlib.error, ... : all mean the same.
        raise ImageInputError(
            f"The drawing could not be decoded ({type(error).__name__}); clear the pad and draw again."
        ) from None
