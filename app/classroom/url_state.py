"""The view in the page's URL, so a teacher can prepare a view and share it.

Each page reads its state from `st.query_params` when a session starts on it, and writes it
back as it changes; the plane writes what lives in the browser (zoom, hidden digits, t, the
backdrop) itself. Every value is parsed like any other input: a malformed, out-of-range or
unknown one is ignored and named in a short notice, never an error, and never a file path
(models are looked up by name among the listed ones).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, NamedTuple

import streamlit as st

from app.widgets import markdown

NOTICES_KEY = "_url_notices"
WRITTEN_KEY = "_url_written"  # what this session last wrote, per parameter
MAX_VALUE_LENGTH = 200
NOTICES_SHOWN = 6  # parameters a notice names; it counts the rest
NOTICE_LENGTH = 24  # characters of a name or value it shows

# Every parameter of the app's links, and what it holds: the one table of their names. Reading or
# writing a name not here is a programming error (KeyError); a link's unknown name gets a notice.
PARAMETERS: dict[str, str] = {
    "model": "the model, by file name (never a path)",
    "sel": "Explore's selection: a test image (i123) or a point (x,y)",
    "a": "Interpolate's A: a test image or a point",
    "b": "Interpolate's B: a test image or a point",
    "slerp": "Interpolate: 1 for spherical interpolation",
    "t": "where the walk is, from 0 to 1 (kept by the plane)",
    "view": "the zoom, x0,x1,y0,y1 (kept by the plane)",
    "hide": "the digits hidden, e.g. 3,5 (kept by the plane)",
    "bd": "1: the decoded manifold behind the points (kept by the plane)",
    "op": "the manifold's opacity, 0 to 1 (kept by the plane)",
    "err": "Explore: 1 to colour the points by reconstruction error",
    "seed": "Sample's seed",
    "n": "Sample's number of samples",
    "left": "Compare's left model, by file name",
    "right": "Compare's right model, by file name",
    "show": "Compare's view: images, walk or samples",
    "present": "1 for presenter mode",
    "step": "the lesson's step",
}
# The parameters the plane writes itself (in the browser), by what they hold.
BROWSER_KEPT: dict[str, str] = {"view": "view", "hide": "hide", "backdrop": "bd", "opacity": "op", "t": "t"}


def _known(name: str) -> str:
    if name not in PARAMETERS:
        raise KeyError(f"{name!r} is not a parameter of the app's links (see url_state.PARAMETERS)")
    return name


class PlanePoint(NamedTuple):
    """A point named in the URL: a test image (index) or a point of the plane (x, y)."""

    index: int | None
    x: float | None
    y: float | None


def get(name: str) -> str | None:
    """The raw value of a parameter (None if absent; values too long to be real are ignored)."""
    value = st.query_params.get(_known(name))
    if value is None:
        return None
    if len(value) > MAX_VALUE_LENGTH:
        notice(name, value)
        return None
    return value


def incoming(name: str) -> str | None:
    """The parameter's value if it came from outside: a link just opened, or an address edited.

    A value this session wrote itself is not news (the widgets already show it), so a user's
    change of a widget is never undone by the URL of the run before.
    """
    raw = get(name)
    return raw if raw is not None and raw != st.session_state.get(WRITTEN_KEY, {}).get(name) else None


def parse(name: str, parser: Callable[[str], Any]) -> Any:
    """The incoming parameter parsed by `parser` (which raises ValueError), or None (with a
    notice if it was malformed)."""
    raw = incoming(name)
    if raw is None:
        return None
    try:
        return parser(raw)
    except (ValueError, TypeError, OverflowError):
        notice(name, raw)
        return None


def number(low: float, high: float) -> Callable[[str], float]:
    def parser(raw: str) -> float:
        value = float(raw)
        if not math.isfinite(value) or not low <= value <= high:
            raise ValueError(raw)
        return value

    return parser


def whole(low: int, high: int) -> Callable[[str], int]:
    def parser(raw: str) -> int:
        if not re.fullmatch(r"-?\d{1,9}", raw) or not low <= int(raw) <= high:
            raise ValueError(raw)
        return int(raw)

    return parser


def flag(raw: str) -> bool:
    if raw not in ("0", "1"):
        raise ValueError(raw)
    return raw == "1"


def point(count: int) -> Callable[[str], PlanePoint]:
    """ "i123" (test image 123, if the data has it) or "x,y" (finite plot coordinates)."""

    def parser(raw: str) -> PlanePoint:
        if raw.startswith("i"):
            return PlanePoint(whole(0, count - 1)(raw[1:]), None, None)
        x, y = (number(-1e6, 1e6)(part) for part in raw.split(","))
        return PlanePoint(None, x, y)

    return parser


def point_text(index: int | None, x: float, y: float) -> str:
    return f"i{index}" if index is not None else f"{x:.4f},{y:.4f}"


def write(values: dict[str, str | None]) -> None:
    """Set (or, with None, remove) parameters, only where they change (each change is a message)."""
    written = st.session_state.setdefault(WRITTEN_KEY, {})
    for name, value in values.items():
        written[_known(name)] = value
        if value is None:
            if name in st.query_params:
                del st.query_params[name]
        elif st.query_params.get(name) != value:
            st.query_params[name] = value


def notice(name: str, value: str) -> None:
    """Remember that a parameter was ignored; `show_notices` says so once on the page."""
    st.session_state.setdefault(NOTICES_KEY, {})[name] = value


def check_unknown() -> None:
    """Note every parameter of the link that the app does not know."""
    for name in st.query_params:
        if name not in PARAMETERS:
            notice(name, st.query_params.get(name, ""))


def show_notices() -> None:
    """One short line about what in the link was ignored (then forgotten): a few parameters, each
    shortened, however long or many they were."""
    ignored = st.session_state.pop(NOTICES_KEY, {})
    if ignored:
        shown = [f"{markdown.escape(_short(name))}={markdown.escape(_short(value))}"
                 for name, value in list(ignored.items())[:NOTICES_SHOWN]]  # fmt: skip
        more = f" and {len(ignored) - NOTICES_SHOWN} more" if len(ignored) > NOTICES_SHOWN else ""
        parts = ", ".join(shown) + more
        st.caption(f":material/link_off: Ignored in the link (not valid here): {parts}")


def _short(text: str) -> str:
    return text if len(text) <= NOTICE_LENGTH else text[: NOTICE_LENGTH - 1] + "…"
