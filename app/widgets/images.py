"""Turning uint8 image tensors (see models.files.images) into pictures: crisp upscaled PNGs, data URIs, GIFs.

Pure functions of their inputs (no Streamlit), so pages can cache them and tests can
check them without a browser.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import torch
from PIL import Image


def upscale(image: torch.Tensor | np.ndarray, scale: int) -> Image.Image:
    """A uint8 picture ((H, W), or (1, H, W) as a model makes it) as a PIL image, scaled up `scale`
    times with nearest-neighbour, which keeps the pixels crisp on a projector."""
    pixels = image.numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    picture = Image.fromarray(pixels.reshape(pixels.shape[-2:]), mode="L")
    return picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")  # optimize=True costs far more time than the bytes it saves
    return buffer.getvalue()


def data_uri(image: Image.Image) -> str:
    """A PNG data URI (for Plotly layout images and custom components)."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


def gif_bytes(frames: torch.Tensor, scale: int = 4, frame_ms: int = 60, bounce: bool = True) -> bytes:
    """An endlessly looping animated GIF of uint8 frames (N, 1, H, W), played forward then back."""
    sequence = list(frames) + (list(frames[1:-1].flip(0)) if bounce else [])
    pictures = [upscale(frame, scale) for frame in sequence]
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=frame_ms, loop=0)
    return buffer.getvalue()
