"""Turning decoded tensors into pictures: crisp upscaled PNGs, strips, grids and GIFs.

Pure functions of their inputs (no Streamlit), so pages can cache them and tests can
check them without a browser.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import torch
from PIL import Image

# Nearest-neighbour upscaling keeps the 28x28 pixels crisp on a projector.
DISPLAY_SCALE = 8


def to_uint8(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """(N, 1, 28, 28) or (N, 28, 28) or (28, 28) floats in [0, 1] -> uint8 array without the channel."""
    array = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if array.ndim == 4:
        array = array[:, 0]
    return (np.clip(array, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def upscale(image: np.ndarray, scale: int = DISPLAY_SCALE) -> Image.Image:
    """A uint8 (H, W) array as a PIL image, scaled up with nearest-neighbour."""
    picture = Image.fromarray(image, mode="L")
    return picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)


def strip(images: np.ndarray, gap: int = 2) -> np.ndarray:
    """uint8 (N, H, W) side by side with a dark gap between them -> (H, N*W + (N-1)*gap)."""
    count, height, width = images.shape
    canvas = np.full((height, count * width + (count - 1) * gap), 40, dtype=np.uint8)
    for i, image in enumerate(images):
        canvas[:, i * (width + gap) : i * (width + gap) + width] = image
    return canvas


def grid(images: np.ndarray, columns: int, gap: int = 2) -> np.ndarray:
    """uint8 (N, H, W) in rows of `columns` -> one (rows*H..., columns*W...) image."""
    rows = -(-len(images) // columns)
    padded = np.zeros((rows * columns, *images.shape[1:]), dtype=np.uint8)
    padded[: len(images)] = images
    return np.concatenate([strip(padded[r * columns : (r + 1) * columns], gap) for r in range(rows)], axis=0)


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def data_uri(image: Image.Image) -> str:
    """A PNG data URI (for Plotly layout images and custom components)."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


def gif_bytes(frames: np.ndarray, scale: int = 4, frame_ms: int = 60, bounce: bool = True) -> bytes:
    """An endlessly looping animated GIF of uint8 (N, H, W) frames, played forward then back."""
    sequence = list(frames) + (list(frames[-2:0:-1]) if bounce else [])
    pictures = [upscale(frame, scale) for frame in sequence]
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=frame_ms, loop=0)
    return buffer.getvalue()


def favicon(colors: tuple[str, ...], size: int = 64) -> Image.Image:
    """The app's icon, drawn here rather than fetched from a font host, so it works offline:
    ten dots in the digits' colours, scattered like clusters in a latent plane."""
    from PIL import ImageDraw

    icon = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(icon)
    radius = size // 10
    for i, color in enumerate(colors):
        angle = 2 * np.pi * i / len(colors)
        x = size / 2 + size * 0.33 * np.cos(angle) * (0.6 + 0.4 * (i % 2))
        y = size / 2 + size * 0.33 * np.sin(angle) * (0.6 + 0.4 * (i % 2))
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=color)
    return icon
