"""Keeping every page inside the app shell (navigation + shared sidebar), and who a session is.

Streamlit treats a `pages/` folder beside the entry point as an old-style multipage app
until a run calls `st.navigation`: on a freshly started server, a first visit straight to
e.g. /interpolate (and every AppTest run after `switch_page`) runs that page alone, without
the entry point and its sidebar. A page that finds itself run that way switches Streamlit
to `st.navigation` mode and reruns, which runs the entry point with the same page selected.

Streamlit offers no public way to do this (tests/test_shell.py fails if the private flag
used here changes), and `pages/` stays where it is: it is part of this project's layout.
"""

from __future__ import annotations

import ipaddress
import re

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def ensure_shell() -> None:
    """Called at the top of every page: rerun through the entry point if it was skipped."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False  # what st.navigation itself sets on its first call
        st.rerun()


def session_id() -> str:
    """This browser session's id (a new one after every reload of the tab)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "no-session"


# Each tab keeps a random token in its sessionStorage, which survives a reload of the tab but is
# not part of a copied link; its training jobs belong to it. (crypto.getRandomValues works on a
# plain http page of a classroom's network, where crypto.randomUUID does not.)
_TOKEN_JS = """
export default function (component) {
  const key = "latent-explorer:tab";
  let token = null;
  try { token = sessionStorage.getItem(key); } catch { /* storage off */ }
  if (!/^[0-9a-f]{32}$/.test(token || "")) {
    token = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
    try { sessionStorage.setItem(key, token); } catch { /* this page keeps its own */ }
  }
  if (component.data.known !== token) component.setStateValue("token", token);
}
"""
_token = st.components.v2.component("latent_explorer.tab_token", js=_TOKEN_JS)
TOKEN_KEY = "tab_token"
TOKEN_PATTERN = re.compile(r"[0-9a-f]{32}")


def learn_tab_token() -> None:
    """Ask the browser for this tab's token (an invisible element at the top of every run)."""
    _token(data={"known": _tab_token()}, key=TOKEN_KEY, on_token_change=lambda: None)


def _tab_token() -> str | None:
    state = st.session_state.get(TOKEN_KEY)
    token = state.get("token") if isinstance(state, dict) else None
    return token if isinstance(token, str) and TOKEN_PATTERN.fullmatch(token) else None


def owner_id() -> str:
    """Who owns this tab's training jobs: its token, kept over reloads (this session's id until the
    browser has sent it)."""
    token = _tab_token()
    return f"tab-{token}" if token else session_id()


def client_id() -> str:
    """The device this session comes from: its address, or "this computer" for the server's own tabs."""
    address = st.context.ip_address
    if not address:
        return "this computer"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:  # not an address Python parses (a zone id, say): shown as it is
        return address
    parsed = getattr(parsed, "ipv4_mapped", None) or parsed  # a dual-stack server's ::ffff:127.0.0.1
    return "this computer" if parsed.is_loopback else str(parsed)
