"""Turning Plotly selection events on the latent scatter into picks, remembered per session.

A click selects either a digit (its trace carries the test-set index in customdata) or a
point of the invisible grid (customdata -1): the decoded point is then the grid point,
which Plotly draws as the selection marker. Clicking a selected point again deselects it
and re-mounting a changed figure clears the selection, so the last pick is kept in
session state and only a *changed* selection counts as a new click.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import streamlit as st

from app.figures import GRID_CUSTOMDATA


class Pick(NamedTuple):
    """A clicked location on the latent plot."""

    x: float
    y: float
    index: int | None  # test-set index when a digit was clicked; None for empty space

    @property
    def point(self) -> tuple[float, float]:
        return (self.x, self.y)


def pick_from_event(event: Any) -> Pick | None:
    """The first selected point of a `st.plotly_chart(..., on_select="rerun")` result."""
    try:
        points = event.selection.points
    except AttributeError:
        return None
    if not points:
        return None
    point = points[0]
    custom = point.get("customdata")
    if isinstance(custom, list):  # Plotly sends customdata as a list for some trace types
        custom = custom[0] if custom else None
    index = None if custom is None or int(custom) == GRID_CUSTOMDATA else int(custom)
    return Pick(float(point["x"]), float(point["y"]), index)


def fresh_pick(event: Any, key: str) -> Pick | None:
    """The pick if the selection changed since the last rerun for this chart key, else None."""
    pick = pick_from_event(event)
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
