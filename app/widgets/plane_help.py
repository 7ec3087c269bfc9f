"""How to use the latent plane, in words for every device: mouse, pen, touch and keyboard.

One text, folded under the caption of each page with a plane, so that every page says the same
and none tells a student on a phone to "move the mouse". The controls are the plane's own
(app/plane); when they change, this text changes with them.
"""

from __future__ import annotations

import streamlit as st


def plane_controls(action: str | None = "select it") -> str:
    """The plane's controls in three short sentences; `action` is what a click, a tap or Enter does
    ("select it", "set A or B"), or None where they do nothing."""
    click = f"; click or tap to {action}" if action else ""
    enter = f", Enter to {action}" if action else ""
    return (
        f"Point at any place of the plane, or drag a finger over it, to decode it{click}. Zoom by dragging a box, "
        "by pinching or with − / +; double-click, double-tap or ⟲ resets the view. The digit chips above the plot "
        f"show or hide a digit. Keyboard: Tab to the plane, then arrow keys to move and decode{enter}, + and − to "
        "zoom, Home or R to reset, 0-9 to show or hide a digit."
    )


def plane_controls_caption(action: str | None = "select it") -> None:
    """The controls, folded: one line above the plane, so the plot stays above the fold."""
    with st.expander("How to point, select and zoom: by mouse, finger, pen or keyboard", icon=":material/touch_app:"):
        st.caption(plane_controls(action))
