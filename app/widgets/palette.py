"""Colours shared by every plot of the app, and the app's icon drawn in them."""

from __future__ import annotations

import functools
import math

from PIL import Image, ImageDraw

# One colour per digit: Paul Tol's "muted" qualitative scheme, made to stay distinct for readers
# with colour-vision deficiencies. Its tenth colour (pale grey, #DDDDDD) is darkened to #777777
# so that the 9s show on a white plot.
DIGIT_COLORS = (
    "#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE",
    "#882255", "#44AA99", "#999933", "#AA4499", "#777777",
)  # fmt: skip


@functools.cache  # drawn once: set_page_config asks for it on every full rerun
def favicon(colors: tuple[str, ...] = DIGIT_COLORS, size: int = 64) -> Image.Image:
    """The app's icon, drawn here rather than fetched from a font host, so it works offline:
    ten dots in the digits' colours, scattered like clusters in a latent plane."""
    icon = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(icon)
    radius = size // 10
    for i, color in enumerate(colors):
        angle = 2 * math.pi * i / len(colors)
        x = size / 2 + size * 0.33 * math.cos(angle) * (0.6 + 0.4 * (i % 2))
        y = size / 2 + size * 0.33 * math.sin(angle) * (0.6 + 0.4 * (i % 2))
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=color)
    return icon
