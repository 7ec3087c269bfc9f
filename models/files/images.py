"""Image tensors as 8-bit pictures: the one conversion to uint8, and tiling into one picture."""

from __future__ import annotations

import torch
from torch import Tensor

GAP_LEVEL = 40  # the grey of the gaps between tiles: visible between black MNIST backgrounds


def to_uint8(images: Tensor) -> Tensor:
    """Pixels in [0, 1] (any shape) as uint8 0..255, rounded; values outside [0, 1] are clipped."""
    return images.detach().mul(255).round_().clamp_(0, 255).to(torch.uint8)


def tile(images: Tensor, columns: int, gap: int = 0) -> Tensor:
    """Images (N, 1, H, W), uint8 or in [0, 1], as one uint8 (rows * H, columns * W) picture (plus gaps).

    Image i goes to row i // columns, column i % columns: read left to right, top to bottom.
    Cells without an image are black; `gap` grey pixels separate the cells (none around them).
    """
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"images must have shape (N, 1, H, W), got {tuple(images.shape)}")
    if columns < 1:
        raise ValueError(f"columns must be >= 1, got {columns}")
    pixels = images if images.dtype == torch.uint8 else to_uint8(images)
    count = len(pixels)
    if count == 0:
        raise ValueError("there are no images to tile")
    rows = -(-count // columns)
    height, width = pixels.shape[2:]
    picture = torch.full((rows * (height + gap) - gap, columns * (width + gap) - gap), GAP_LEVEL, dtype=torch.uint8)
    for cell in range(rows * columns):
        top, left = (cell // columns) * (height + gap), (cell % columns) * (width + gap)
        picture[top : top + height, left : left + width] = pixels[cell, 0] if cell < count else 0
    return picture
