"""A "copy link" button: the page's address, which holds the whole view (see app.classroom.url_state)."""

from __future__ import annotations

import streamlit as st

_HTML = """
<div class="cl-root">
  <button type="button" class="cl-button" data-testid="copy-link">Copy a link to this view</button>
  <input class="cl-url" readonly aria-label="link to this view" data-testid="copy-link-url">
</div>
"""

_CSS = """
.cl-root { display: flex; flex-direction: column; gap: 0.3rem; font-family: var(--st-font, sans-serif); }
.cl-button { padding: 0.3rem 0.7rem; border-radius: 0.5rem; border: 1px solid rgba(49, 51, 63, 0.2);
             background: var(--st-background-color, #fff); color: inherit; cursor: pointer; font-size: 0.9rem; }
.cl-url { display: none; font-size: 0.8rem; padding: 0.2rem; width: 100%; box-sizing: border-box; }
"""

# The clipboard needs a secure page (https or localhost); elsewhere the link is shown selected,
# ready for Ctrl+C, which works everywhere.
_JS = """
export default function (component) {
  const root = component.parentElement.querySelector(".cl-root");
  const button = root.querySelector(".cl-button"), field = root.querySelector(".cl-url");
  button.onclick = async () => {
    const link = window.location.href;
    field.value = link;
    try {
      await navigator.clipboard.writeText(link);
      button.textContent = "Link copied ✓";
      setTimeout(() => { button.textContent = "Copy a link to this view"; }, 2000);
    } catch {
      field.style.display = "block";
      field.focus();
      field.select();
      button.textContent = "Press Ctrl+C (or ⌘C) to copy";
    }
  };
}
"""

_component = st.components.v2.component("latent_explorer.copy_link", html=_HTML, css=_CSS, js=_JS)


def copy_link_button(key: str = "copy_link") -> None:
    _component(key=key)
