"""Turning Plotly selection events on the latent scatter into picks, remembered per session.

A click selects either a digit (its trace carries the test-set index in customdata) or a
point of the invisible grid (customdata -1): the decoded point is then the grid point,
which Plotly draws as the selection marker. Clicking a selected point again deselects it
and re-mounting a changed figure clears the selection, so the last pick is kept in
session state and only a *changed* selection counts as a new click.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import streamlit as st

from app.figures import EMPTY_SPACE


class Pick(NamedTuple):
    """A clicked location on the latent plot."""

    x: float
    y: float
    index: int | None  # test-set index when a digit was clicked; None for empty space


def pick_from_event(event: Any, count: int) -> Pick | None:
    """The first selected point of a `st.plotly_chart(..., on_select="rerun")` result, or None.

    The event comes from the browser, so it is checked like any other input: finite
    coordinates, and a test-set index in [0, count) when it names a digit. Anything else
    (a forged or garbled message) is ignored.
    """
    try:
        point = event.selection.points[0]
        x, y = float(point["x"]), float(point["y"])
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    custom = point.get("customdata")
    if isinstance(custom, list):  # Plotly sends customdata as a list for some trace types
        custom = custom[0] if custom else None
    if custom is None or custom == EMPTY_SPACE:
        return Pick(x, y, None)
    if isinstance(custom, bool) or not isinstance(custom, (int, float)) or not math.isfinite(custom):
        return None
    if custom != int(custom):
        return None
    index = int(custom)
    return Pick(x, y, index) if 0 <= index < count else None


def fresh_pick(event: Any, key: str, count: int) -> Pick | None:
    """The pick if the selection changed since the last rerun for this chart key, else None."""
    pick = pick_from_event(event, count)
    seen_key = f"_seen_{key}"
    if pick is None or st.session_state.get(seen_key) == pick:
        if pick is None:
            st.session_state.pop(seen_key, None)
        return None
    st.session_state[seen_key] = pick
    return pick


def remember(key: str, pick: Pick | None) -> Pick | None:
    """Store a new pick under `key` and return the latest one (kept across deselection)."""
    if pick is not None:
        st.session_state[key] = pick
    return st.session_state.get(key)
