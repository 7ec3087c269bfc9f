"""The latent plane's browser code and plotly.js: their URLs, and a preloader for the top of every page.

Light on purpose (no torch): the entry point sends the preloader before it imports the rest of
the app, so on a fresh server the browser fetches and compiles plotly.js (megabytes of JavaScript)
while the server imports torch and encodes the test set, instead of after.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from app.plane.publish import browser_code_url, plotly_url

_PRELOAD = """
export default function (component) {
  const data = component.data;
  import(new URL(data.plane, document.baseURI).href).then((module) => module.preload(data));
}
"""
_preloader = st.components.v2.component("latent_explorer.plane_preload", js=_PRELOAD)


def asset_urls() -> dict[str, str]:
    """plotly.js and the plane's entry module, as published (see app.plane.publish); the module
    finds the rest of the plane's code beside itself."""
    return {"plotly": plotly_url(), "plane": browser_code_url() + "index.js"}


def preload_plane_assets() -> None:
    """Start fetching plotly.js and the plane's code at the top of the page, while the server
    still prepares the page (a hidden element; the plane finds them loaded)."""
    try:
        urls = asset_urls()
    except OSError:  # nothing can be published: the plane says why where it would be drawn
        return
    _preloader(data=urls, key="plane_preload")  # only strings: sent as is (see as_component_data)


def as_component_data(data: dict[str, Any]) -> dict[str, str]:
    """A component's data as one JSON string in a dict (the page reads `JSON.parse(data.json)`).

    Streamlit sends a dict of plain values (strings, numbers) as JSON at once; any other value,
    a string or a nested list or dict included, it first checks for data frames, importing pandas
    and pyarrow to do so: 0.4 s of the first page of a fresh server."""
    return {"json": json.dumps(data, separators=(",", ":"))}
