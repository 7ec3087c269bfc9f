"""Style every page shares.

Digits are sent at their own 28x28 pixels (a few hundred bytes, no server-side upscaling on
every click) and the browser scales them to their column with square pixels, so they stay crisp
at any size, on a projector too.
"""

from __future__ import annotations

import streamlit as st

_STYLE = "<style>[data-testid='stImage'] img { image-rendering: pixelated; }</style>"


def shared_style() -> None:
    st.html(_STYLE)
