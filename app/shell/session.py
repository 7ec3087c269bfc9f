"""Keeping every page inside the app shell (navigation + shared sidebar).

Streamlit treats a `pages/` folder beside the entry point as an old-style multipage app
until a run calls `st.navigation`: on a freshly started server, a first visit straight to
e.g. /interpolate (and every AppTest run after `switch_page`) runs that page alone, without
the entry point and its sidebar. A page that finds itself run that way switches Streamlit
to `st.navigation` mode and reruns, which runs the entry point with the same page selected.

Streamlit offers no public way to do this (tests/test_shell.py fails if the private flag
used here changes), and `pages/` stays where it is: it is part of this project's layout.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def ensure_shell() -> None:
    """Called at the top of every page: rerun through the entry point if it was skipped."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False  # what st.navigation itself sets on its first call
        st.rerun()


def session_id() -> str:
    """This browser session's id: training jobs belong to it."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "no-session"
