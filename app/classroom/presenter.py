"""Presenter mode, for a projector: the plot fills the window, digits and fonts are large,
markers stand out, and the sidebar, captions and Streamlit's chrome step aside.

Turned on by the sidebar toggle or a link with `present=1`; an "Exit presenter mode" button
stays at the top of the page while it is on.
"""

from __future__ import annotations

import streamlit as st

from app.classroom import url_state

PRESENT_KEY = "presenter_mode"
FONT_SIZE = 20  # on the plane (the default is 14)
MARKER_SIZE = 7  # test-image dots (the default is 5)

_STYLE = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"],
[data-testid="stCaptionContainer"], [data-testid="stToolbar"], [data-testid="stDecoration"] {
  display: none !important;
}
[data-testid="stMainBlockContainer"], .block-container { padding-top: 0.8rem !important; max-width: 100% !important; }
[data-testid="stMain"] { font-size: 1.25rem; }
h1 { font-size: 2.2rem !important; padding-top: 0 !important; }
</style>
"""


def presenting() -> bool:
    """Whether presenter mode is on for this session (a link's `present` is applied first)."""
    if (linked := url_state.parse("present", url_state.flag)) is not None:
        st.session_state[PRESENT_KEY] = linked
    return bool(st.session_state.get(PRESENT_KEY, False))


def presenter_controls() -> None:
    """The toggle in the sidebar; when on, the page's style and a way back out."""
    on = presenting()
    st.sidebar.toggle("Presenter mode", key=PRESENT_KEY, help="For a projector: large plot, large digits, no sidebar.")
    url_state.write({"present": "1" if on else None})
    if on:
        st.html(_STYLE)
        st.button("Exit presenter mode", key="presenter_exit", on_click=_leave, icon=":material/close_fullscreen:")


def _leave() -> None:
    st.session_state[PRESENT_KEY] = False
