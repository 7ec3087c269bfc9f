"""Keeping every page inside the app shell (navigation + shared sidebar).

Streamlit treats a `pages/` folder beside the entry point as an old-style multipage app
until some run calls `st.navigation`. On a freshly started server, a first visit straight
to e.g. /interpolate would therefore run that page alone, without the sidebar. The entry
point marks each session; a page that finds no mark switches Streamlit to `st.navigation`
mode and reruns, which runs the entry point with the same page selected.
"""

from __future__ import annotations

import streamlit as st

SHELL_KEY = "_latent_shell"


def mark_shell() -> None:
    """Called by streamlit_app.py on every run, before the page runs."""
    st.session_state[SHELL_KEY] = True


def ensure_shell() -> None:
    """Called at the top of every page: rerun through the entry point if it was skipped."""
    if st.session_state.get(SHELL_KEY):
        return
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False  # what st.navigation itself sets on its first call
    st.rerun()
