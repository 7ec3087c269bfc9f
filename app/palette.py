"""Colours shared by every plot of the app."""

from __future__ import annotations

# One colour per digit: Paul Tol's "muted" qualitative scheme, made to stay distinct for readers
# with colour-vision deficiencies. Its tenth colour (pale grey, #DDDDDD) is darkened to #777777
# so that the 9s show on a white plot.
DIGIT_COLORS = (
    "#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE",
    "#882255", "#44AA99", "#999933", "#AA4499", "#777777",
)  # fmt: skip
