"""Helpers for AppTest tests: what a page sent to its latent planes."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest


def planes(app: AppTest) -> list[dict]:
    """The data each latent plane on the page was given, in page order."""
    return [json.loads(json.loads(e.proto.json)["json"]) for e in app.get("bidi_component")
            if e.proto.component_name == "latent_explorer.latent_plane"]  # fmt: skip


def plane_data(app: AppTest) -> dict:
    """The data of the page's one latent plane."""
    (plane,) = planes(app)
    return plane
