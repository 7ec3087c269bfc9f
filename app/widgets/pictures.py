"""Every picture a page shows, through one function that needs its alt text, and the phrases that
name what a picture is.

Streamlit draws `st.image` as an `<img>` without `alt` unless it is given one: a screen reader
then says nothing useful about it (WCAG 1.1.1; axe-core's `image-alt`). Pages call `picture`,
never `st.image`, so no picture is shown without words for it (tests/test_pictures.py checks).
The alt text says what the picture is (which test image, which model rebuilt it); the visible
caption, if any, stays as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import streamlit as st

Width = int | Literal["content", "stretch"]


def picture(image: Any, alt: str, caption: str | None = None, width: Width = "content") -> None:
    """`st.image(image, caption, width)` with `alt` as its text alternative (which must say something)."""
    if not alt.strip():
        raise ValueError("a picture needs alt text that says what it shows")
    st.image(image, caption=caption, width=width, alt=alt)


def a_digit(digit: int) -> str:
    """A digit with its article, as it is read aloud: "a 7", "an 8"."""
    return f"an {digit}" if digit == 8 else f"a {digit}"


def named_test_image(index: int, label: int) -> str:
    """How a test image is named: "test image #3, a 7"."""
    return f"test image #{index}, {a_digit(int(label))}"


def labels(values: Sequence[int]) -> str:
    """Digits as words for a list: "a 1, an 8 and a 4"."""
    named = [a_digit(int(value)) for value in values]
    return named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
