"""Turn drawings and uploaded pictures into MNIST-style inputs: (1, 1, 28, 28) float32 in [0, 1].

The pipeline is read_upload (bytes -> a safe, fully decoded Pillow image) -> to_grayscale_ink
(image -> ink coverage, 1 = ink) -> mnist_style (ink -> what MNIST's own preprocessing would
have produced: the digit scaled so its longer side is 20 px, centred by centre of mass in 28 x 28).

Anything wrong with the user's input surfaces as an `ImageInputError` whose message says what
is wrong and what to do, so the app can show it as is.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import Tensor

from models.families.base import IMAGE_SIDE

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_PIXELS = 40_000_000
MNIST_BOX = 20  # the digit's longer side after scaling, as in MNIST
MNIST_CENTRE = 14.0  # where MNIST puts the centre of mass, in pixel-index coordinates (measured: 13.5..14.5)
INK_FRACTION = 0.05  # ink below this fraction of the maximum is background for the bounding box
MIN_INK = 1.0 / 255.0  # a maximum below one 8-bit grey level counts as a blank picture
WORKING_SIDE = 1024  # uploads are shrunk to this first: the digit ends up 20 px, and photos can be 50 MP
HIGH_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
# Only common raster formats are parsed: no EPS (which runs Ghostscript) or other exotic decoders.
FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")  # JPEG also opens multi-picture (MPO) photos
SUPPORTED = "PNG, JPEG, GIF, WebP, BMP or TIFF"


class ImageInputError(ValueError):
    """An uploaded or drawn image that cannot be used; the message is meant for the user."""


def read_upload(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES, max_pixels: int = MAX_UPLOAD_PIXELS) -> Image.Image:
    """Decode uploaded bytes into a fully loaded image in mode "L", "LA", "RGB" or "RGBA".

    The pixel count is checked from the header before anything is decoded. Animated files give
    their first frame, EXIF orientation is applied, and 16-bit or float grayscale is rescaled to
    8 bits by the image's own minimum and maximum. The result does not refer to `data`.
    """
    if not data:
        raise ImageInputError("The file is empty; upload an image of a digit.")
    if len(data) > max_bytes:
        raise ImageInputError(
            f"The file is {len(data) / 2**20:.1f} MB, more than the {max_bytes / 2**20:.0f} MB limit; "
            "upload a smaller image or crop it to the digit."
        )
    Image.init()  # registers the WebP and TIFF plugins (cheap after the first call)
    try:
        # Turn Pillow's "possible decompression bomb" warning into an error we can report. (Not
        # thread-safe before Python 3.14, but a lost race at worst leaves this one filter on.)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as opened:
                _check_pixels(opened.size, max_pixels)  # header only: nothing decoded yet
                opened.seek(0)  # the first frame of an animation
                opened.load()  # force the full decode here, so a truncated file fails now
                return _normalise_mode(_upright(opened))
    except ImageInputError:
        raise
    except UnidentifiedImageError:
        raise ImageInputError(
            f"This file is not a supported image (perhaps a document or other file); upload a {SUPPORTED} file."
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageInputError(
            f"The image has too many pixels (the limit is {max_pixels:,}); resize or crop it and upload it again."
        ) from None
    except Exception as error:
        # Pillow's decoders report damaged data as OSError, SyntaxError, ValueError, EOFError,
        # struct.error, zlib.error, ... depending on the format: every one means the same here.
        raise ImageInputError(
            f"The image could not be decoded (it looks truncated or corrupt: {type(error).__name__}); "
            f"save it again as a {SUPPORTED} file and upload that."
        ) from None


def _upright(image: Image.Image) -> Image.Image:
    """A new image (detached from the file) with its EXIF orientation applied."""
    try:
        return ImageOps.exif_transpose(image)  # always a new image, even without a tag
    except Exception:
        return image.copy()  # a damaged EXIF block should not cost the user a good picture


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise ImageInputError(f"The image is {width} x {height} pixels, which is empty; upload a real picture.")
    if width * height > max_pixels:
        raise ImageInputError(
            f"The image is {width} x {height} pixels, more than the limit of {max_pixels:,} pixels; "
            "resize or crop it and upload it again."
        )


def _normalise_mode(image: Image.Image) -> Image.Image:
    """The same picture in "L", "LA", "RGB" or "RGBA" (8 bits per channel, straight alpha)."""
    mode = image.mode
    if mode in ("L", "LA", "RGB", "RGBA"):
        return image
    if mode in HIGH_BIT_MODES:
        return _rescale_to_8bit(image)
    if mode == "P":
        # Palette transparency (tRNS / GIF transparent index) must survive as an alpha channel.
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if mode == "1":
        return image.convert("L")
    if "A" in image.getbands():  # PA, La, RGBa (premultiplied), ...: straight alpha
        return image.convert("LA" if image.getbands()[0] == "L" else "RGBA")
    return image.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX, ...


def _rescale_to_8bit(image: Image.Image) -> Image.Image:
    # Pillow's own conversion clips 16-bit values at 255; the image's range is what matters.
    values = np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(values.min()), float(values.max())
    scaled = (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)
    return Image.fromarray(np.round(scaled).astype(np.uint8))


LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601, as Pillow's "L" conversion


def luminance(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma of RGB values (..., 3), in the same units."""
    return rgb[..., :3] @ LUMA_WEIGHTS


def _luminance(image: Image.Image) -> np.ndarray:
    """Luma in [0, 1] of a picture, float32 H x W."""
    if image.mode in ("L", "LA"):
        return np.asarray(image.getchannel("L"), dtype=np.float32) / 255.0
    return luminance(np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0)


def to_grayscale_ink(image: Image.Image) -> np.ndarray:
    """Ink coverage of a picture, float32 H x W in [0, 1], 1 = ink.

    - With transparent pixels: ink = alpha * |luminance - background|, where the background is
      black or white, whichever contrasts more with the visible (alpha-weighted) pixels. That is
      the image composited over that background, measured as distance from it: a single-colour
      stroke of any colour gives ink proportional to alpha, and the colour of fully transparent
      pixels (often black or white garbage) never matters.
    - Opaque: luminance, inverted when the border is light (dark ink on paper). The border's
      level (median plus 3 robust standard deviations, to absorb paper grain) is then
      subtracted and the rest stretched, so paper that is grey rather than white is no ink.
    """
    image = _normalise_mode(image)
    if image.mode in ("LA", "RGBA"):
        alpha = np.asarray(image.getchannel("A"), dtype=np.float32) / 255.0
        if alpha.min() < 1.0:
            return _ink_over_transparency(_luminance(image), alpha)
    return _ink_on_opaque(_luminance(image))


def _ink_over_transparency(luminance: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    weight = float(alpha.sum())
    if weight == 0.0:
        return np.zeros_like(alpha)  # fully transparent: blank
    visible = float((luminance * alpha).sum()) / weight
    background = 0.0 if visible > 0.5 else 1.0
    return (alpha * np.abs(luminance - background)).astype(np.float32)


def _ink_on_opaque(luminance: np.ndarray) -> np.ndarray:
    border = np.concatenate([luminance[0], luminance[-1], luminance[:, 0], luminance[:, -1]])
    if np.median(border) > 0.5:
        luminance, border = 1.0 - luminance, 1.0 - border
    centre = float(np.median(border))
    spread = 1.4826 * float(np.median(np.abs(border - centre)))  # MAD, scaled to a standard deviation
    level = min(centre + 3.0 * spread, 0.9)  # keep room for the ink itself
    return np.clip((luminance - level) / (1.0 - level), 0.0, 1.0).astype(np.float32)


def mnist_style(ink: np.ndarray) -> Tensor:
    """Preprocess ink coverage (H x W in [0, 1]) the way MNIST was made: (1, 1, 28, 28) float32.

    Ink below 5% of the maximum is dropped; the rest is cropped to its bounding box, scaled with
    antialiasing (BOX when shrinking, i.e. exact area averaging; LANCZOS when enlarging) so the
    longer side is 20 px with the aspect ratio kept, and pasted into a black 28 x 28 field with
    its centre of mass at pixel (14, 14) (integer shift, kept inside the field). The maximum is
    rescaled to 1. Raises ImageInputError if there is no ink.
    """
    ink = np.asarray(ink, dtype=np.float32)
    if ink.ndim != 2 or ink.size == 0:
        raise ValueError(f"ink must be a non-empty H x W array, got shape {ink.shape}")
    ink = np.clip(np.nan_to_num(ink, nan=0.0, posinf=0.0, neginf=0.0), 0.0, 1.0)
    peak = float(ink.max())
    if peak < MIN_INK:
        raise ImageInputError("The image is blank (no ink found); draw or upload a digit.")
    ink = np.where(ink > INK_FRACTION * peak, ink, 0.0).astype(np.float32)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    digit = _scale_longer_side(crop, MNIST_BOX)
    field = _paste_centred(digit, IMAGE_SIDE, MNIST_CENTRE)
    top = float(field.max())
    if top <= 0.0:  # cannot happen for a non-empty crop, but never divide by zero
        raise ImageInputError("The image is blank (no ink found); draw or upload a digit.")
    return torch.from_numpy(field / top).reshape(1, 1, IMAGE_SIDE, IMAGE_SIDE)


def _scale_longer_side(crop: np.ndarray, side: int) -> np.ndarray:
    height, width = crop.shape
    scale = side / max(height, width)
    # The longer side becomes exactly `side`; the shorter one at least 1 px (a 1000 x 1 line).
    size = (max(1, min(side, round(width * scale))), max(1, min(side, round(height * scale))))
    resample = Image.Resampling.BOX if scale <= 1 else Image.Resampling.LANCZOS
    scaled = np.asarray(Image.fromarray(np.ascontiguousarray(crop)).resize(size, resample), dtype=np.float32)
    return np.clip(scaled, 0.0, None)  # LANCZOS rings slightly below zero next to strokes


def _paste_centred(digit: np.ndarray, size: int, centre: float) -> np.ndarray:
    height, width = digit.shape
    total = float(digit.sum())
    if total > 0:
        centre_y = float((digit.sum(axis=1) * np.arange(height)).sum()) / total
        centre_x = float((digit.sum(axis=0) * np.arange(width)).sum()) / total
    else:
        centre_y, centre_x = (height - 1) / 2, (width - 1) / 2
    top = int(np.clip(round(centre - centre_y), 0, size - height))
    left = int(np.clip(round(centre - centre_x), 0, size - width))
    field = np.zeros((size, size), dtype=np.float32)
    field[top : top + height, left : left + width] = digit
    return field


def from_canvas(rgba: np.ndarray) -> Tensor:
    """MNIST-style input from a drawing canvas: RGBA H x W x 4 with values 0..255.

    Expects a light stroke on a dark or transparent background (the drawing pad's is opaque black;
    other canvases give theirs alpha 0), so ink = luminance * alpha / 255: an opaque black
    background and a transparent one both count as no ink.
    """
    pixels = np.asarray(rgba)
    if pixels.ndim != 3 or pixels.shape[2] != 4 or pixels.shape[0] < 1 or pixels.shape[1] < 1:
        raise ValueError(f"a canvas image must be H x W x 4 (RGBA), got shape {pixels.shape}")
    pixels = np.clip(np.nan_to_num(pixels.astype(np.float32)), 0.0, 255.0) / 255.0
    try:
        return mnist_style(luminance(pixels) * pixels[..., 3])
    except ImageInputError:
        raise ImageInputError("The canvas is blank; draw a digit first.") from None


def from_upload(data: bytes) -> Tensor:
    """MNIST-style input (1, 1, 28, 28) from an uploaded image file's bytes.

    Pictures larger than 1024 px on a side are first shrunk to that (area averaging), which keeps
    time and memory small; a digit still gets 20 px as long as it spans 1/50 of the picture.
    """
    image = read_upload(data)
    if max(image.size) > WORKING_SIDE:
        image.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.BOX)
    return mnist_style(to_grayscale_ink(image))
