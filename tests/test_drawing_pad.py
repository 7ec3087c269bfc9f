"""The drawing pad's message, read on the server (app.plane.pad): a drawing becomes the same model
input as before, and anything else a sentence for the user, never an exception, and never a
decoded bomb."""

from __future__ import annotations

import base64
import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.plane.pad import MAX_DATA_URL_CHARS, PAD_SIDE, PNG_PREFIX, parse_drawing, read_drawing
from models.files.preprocess import ImageInputError, from_canvas


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _url(payload: bytes) -> str:
    return PNG_PREFIX + base64.b64encode(payload).decode()


def _seven() -> Image.Image:
    """A 7 as the pad draws it: white round strokes 20 px wide on opaque black."""
    image = Image.new("RGBA", (PAD_SIDE, PAD_SIDE), (0, 0, 0, 255))
    ImageDraw.Draw(image).line([(70, 60), (210, 60), (120, 240)], fill=(255, 255, 255, 255), width=20, joint="curve")
    return image


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _claimed_size_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels (a decompression bomb's shape)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    rows = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", rows) + _chunk(b"IEND", b"")


def test_a_drawing_reads_back_as_its_pixels_and_the_same_model_input() -> None:
    seven = _seven()
    rgba = read_drawing(_url(_png(seven)))
    assert rgba.shape == (PAD_SIDE, PAD_SIDE, 4) and rgba.dtype == np.uint8
    assert np.array_equal(rgba, np.asarray(seven))
    assert np.array_equal(from_canvas(rgba).numpy(), from_canvas(np.asarray(seven)).numpy())


@pytest.mark.parametrize("mode", ["RGB", "L", "P", "LA", "I;16"])
def test_other_png_modes_of_the_right_size_are_read_as_rgba(mode: str) -> None:
    image = _seven().convert("L").convert(mode) if mode != "I;16" else Image.new("I;16", (PAD_SIDE, PAD_SIDE))
    assert read_drawing(_url(_png(image))).shape == (PAD_SIDE, PAD_SIDE, 4)


HOSTILE_IDS = ["none", "number", "javascript", "svg", "huge", "not-base64", "not-ascii", "not-png", "wrong-size",
               "truncated", "bomb", "giant-bomb"]  # fmt: skip


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (None, "did not arrive as a PNG picture"),
        (12, "did not arrive as a PNG picture"),
        ("javascript:alert(1)", "did not arrive as a PNG picture"),
        ("data:image/svg+xml;base64,PHN2Zy8+", "did not arrive as a PNG picture"),
        (PNG_PREFIX + "A" * MAX_DATA_URL_CHARS, "more than a drawing of the pad can be"),
        (PNG_PREFIX + "not base64!", "arrived damaged"),
        (PNG_PREFIX + "ÿÿÿÿ", "arrived damaged"),
        (_url(b"GIF89a not a png at all"), "could not be decoded"),
        (_url(_png(Image.new("RGBA", (100, 100)))), "is 100x100 pixels, not the pad's 280x280"),
        (_url(_png(_seven())[:300]), "could not be decoded"),  # truncated
        (_url(_claimed_size_png(5_000, 5_000)), "is 5000x5000 pixels"),
        (_url(_claimed_size_png(200_000, 200_000)), "claims far more pixels"),
    ],
    ids=HOSTILE_IDS,
)
def test_a_hostile_value_is_refused_in_words(value: object, says: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ImageInputError, match=says) as refused:
        read_drawing(value)
    assert "clear the pad and draw again" in str(refused.value)
    assert time.perf_counter() - started < 0.5, "nothing big was decoded"


@pytest.mark.parametrize(
    "value",
    ["[[[", 3, [], {}, {"seq": True, "png": None}, {"seq": -1}, {"seq": 1.5}, {"seq": 2**60}, {"seq": "1"}],
)
def test_a_value_that_is_no_drawing_is_an_empty_pad(value: object) -> None:
    assert parse_drawing(value) == (None, None, None)


def test_a_cleared_pad_and_a_broken_picture_keep_their_number() -> None:
    assert parse_drawing({"seq": 4, "strokes": 0, "png": None}) == (4, None, None)
    broken = parse_drawing({"seq": 5, "strokes": 1, "png": "data:text/plain,hello"})
    assert broken.seq == 5 and broken.rgba is None and "PNG picture" in broken.problem
    drawn = parse_drawing({"seq": 6, "strokes": 2, "png": _url(_png(_seven()))})
    assert drawn.seq == 6 and drawn.rgba is not None and drawn.problem is None
