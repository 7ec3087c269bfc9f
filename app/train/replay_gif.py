"""The epoch replay as an animated GIF, to download and show in slides.

Each frame draws the replay sample's codes (on the last epoch's plane, with the same axes in
every frame, as the Train page's replay) in the digit colours, the epoch, a legend, and the
fixed test digits above their reconstructions after that epoch. Between epochs the points
glide along straight lines (`tweens` in-between frames), so clusters are seen forming rather
than jumping. Pillow writes the GIF; nothing outside the stack is needed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from app.train.panels import replay_points
from app.widgets.palette import DIGIT_COLORS
from models.files.images import tile
from models.geometry.interpolation import lerp
from models.training.replay import Replay

BACKGROUND = (255, 255, 255)
INK = (40, 40, 40)
FRAME_COLOR = (200, 200, 200)


@dataclass(frozen=True)
class GifStyle:
    """Sizes and timing of the exported animation."""

    plot: int = 560  # side of the square scatter, in pixels
    legend: int = 70  # width of the legend column right of the scatter
    margin: int = 16
    dot_radius: int = 3
    title_size: int = 26
    digit_scale: int = 2  # the 28x28 digits drawn at this many pixels per pixel
    epoch_ms: int = 700  # how long each epoch is held
    tween_ms: int = 70  # each in-between frame
    tweens: int = 4  # in-between frames from one epoch to the next (0: jump), fewer for long runs
    max_frames: int = 80  # keeps a long run's file small: tweens are dropped first
    last_ms: int = 2500  # the final epoch is held longer before the loop starts again


def replay_gif(replay: Replay, style: GifStyle = GifStyle()) -> bytes:
    """The animation as GIF bytes: every epoch of `replay`, with in-between frames."""
    if not replay.frames:
        raise ValueError("the replay has no epochs to animate")
    points, bounds = replay_points(replay)
    labels = replay.labels.numpy()
    gaps = len(replay.frames) - 1
    tweens = min(style.tweens, max(0, (style.max_frames - 1) // max(gaps, 1) - 1))
    frames: list[Image.Image] = []
    durations: list[int] = []
    for index, frame in enumerate(replay.frames):
        strip = _digit_strip(replay, index, style)
        if index > 0:
            before, after = (torch.from_numpy(points[i]).flatten() for i in (index - 1, index))
            for step in range(1, tweens + 1):  # glide from the previous epoch's positions
                between = lerp(before, after, step / (tweens + 1)).numpy().reshape(points[index].shape)
                frames.append(_draw(between, labels, bounds, f"epoch {frame.epoch - 1} → {frame.epoch}", strip, style))
                durations.append(style.tween_ms)
        frames.append(_draw(points[index], labels, bounds, f"epoch {frame.epoch}", strip, style))
        durations.append(style.epoch_ms)
    durations[-1] = style.last_ms
    buffer = io.BytesIO()
    # One shared adaptive palette keeps the colours steady from frame to frame (and the file small).
    quantised = [image.quantize(colors=64, method=Image.Quantize.MEDIANCUT) for image in frames]
    quantised[0].save(buffer, format="GIF", save_all=True, append_images=quantised[1:], duration=durations,
                      loop=0, optimize=False, disposal=1)  # fmt: skip
    return buffer.getvalue()


def _digit_strip(replay: Replay, index: int, style: GifStyle) -> Image.Image:
    """The fixed test digits (top) over their reconstructions after epoch `index` (bottom)."""
    both = torch.cat([replay.digits, replay.frames[index].reconstructions])
    grid = tile(both, columns=len(replay.digits), gap=2)
    image = Image.fromarray(grid.numpy()).convert("RGB")
    return image.resize((image.width * style.digit_scale, image.height * style.digit_scale), Image.Resampling.NEAREST)


def _draw(points: np.ndarray, labels: np.ndarray, bounds: tuple, title: str, strip: Image.Image,
          style: GifStyle) -> Image.Image:  # fmt: skip
    (x0, x1), (y0, y1) = bounds
    m, side = style.margin, style.plot
    title_font = ImageFont.load_default(size=style.title_size)
    small_font = ImageFont.load_default(size=16)
    top = m + style.title_size + m // 2
    width = m + side + style.legend + m
    height = top + side + m + strip.height + m
    image = Image.new("RGB", (max(width, strip.width + 2 * m), height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((m, m), title, fill=INK, font=title_font)
    draw.rectangle((m, top, m + side, top + side), outline=FRAME_COLOR)
    px = m + (points[:, 0] - x0) / (x1 - x0) * side
    py = top + (y1 - points[:, 1]) / (y1 - y0) * side
    inside = (px >= m) & (px <= m + side) & (py >= top) & (py <= top + side)
    r = style.dot_radius
    for x, y, label in zip(px[inside], py[inside], labels[inside], strict=True):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=DIGIT_COLORS[int(label)])
    legend_x = m + side + 14
    for row, digit in enumerate(sorted(set(labels.tolist()))):
        y = top + 8 + row * 24
        draw.ellipse((legend_x, y + 4, legend_x + 10, y + 14), fill=DIGIT_COLORS[int(digit)])
        draw.text((legend_x + 18, y), str(digit), fill=INK, font=small_font)
    image.paste(strip, (m, top + side + m))
    return image
