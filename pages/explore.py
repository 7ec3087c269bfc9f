"""Explore: the test set in latent space; hover anywhere to decode, click to select."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app import sections, url_state
from app.latent_space import decode_plane, latent_space
from app.plane import PlaneClick, latent_plane
from app.test_set import test_data
from models.images import to_uint8

entry = sections.require_model()
ref = entry.ref
space = latent_space(ref)
pick_key = f"explore_pick_{ref.path}"

st.title("Explore the latent space")
if space.has_data:
    st.caption(
        "Each dot is one of the 10,000 MNIST test images, placed where the encoder puts it. Move the mouse anywhere "
        "to see what the decoder makes of that point; click to select it. Click legend entries to hide digits; "
        "drag to zoom, double-click to reset."
    )
else:
    st.caption("Move the mouse anywhere to decode that point; click to select it; drag to zoom, double-click to reset.")
sections.data_notice(space, entry)
sections.projection_notice(space)


def remember_click(click: PlaneClick) -> None:
    """The click's point becomes the selection (an undo restores what it replaced)."""
    st.session_state[pick_key] = None if click.x is None else click


if (linked := url_state.parse("sel", url_state.point(space.size))) is not None:  # a shared link's selection
    if linked.index is not None:
        x, y = map(float, space.points[linked.index])
        st.session_state[pick_key] = PlaneClick(x, y, linked.index, 0, False)
    else:
        st.session_state[pick_key] = PlaneClick(linked.x, linked.y, None, 0, False)
pick: PlaneClick | None = st.session_state.get(pick_key)
url_state.write({"sel": None if pick is None else url_state.point_text(pick.index, pick.x, pick.y)})
selected = None if pick is None else {"x": pick.x, "y": pick.y, "index": pick.index, "seq": pick.seq}
latent_plane(ref, "explore", key=f"explore_plane_{ref.name}", on_click=remember_click, selected=selected)


def details(pick: PlaneClick | None) -> None:
    """What needs the server: the original and its reconstruction side by side, and the neighbours."""
    if pick is None:
        st.info("Click a digit, or anywhere on the plane, to select it: its details appear here.")
        return
    if pick.index is not None and space.has_data:
        code = space.codes[pick.index]
        st.subheader(f"Test image #{pick.index}: a {int(space.labels[pick.index])}")
        original, reconstruction, neighbours = st.columns([1, 1, 2], gap="medium")
        with original:
            sections.digit(to_uint8(test_data(entry.info.dataset).split.images[pick.index]), "original")
        with reconstruction:
            sections.digit(sections.decoded(ref, code), "reconstruction")
        with neighbours:
            st.markdown(f"Latent point **z = ({pick.x:.3f}, {pick.y:.3f})**")
            sections.neighbours(entry, space, code, exclude=pick.index)
        return
    st.subheader("Selected point")
    decoded, neighbours = st.columns([1, 3], gap="medium")
    with decoded:
        sections.digit(decode_plane(ref, np.array([[pick.x, pick.y]]))[0], f"decoded at ({pick.x:.3f}, {pick.y:.3f})")
    with neighbours:
        st.markdown(f"Latent point **z = ({pick.x:.3f}, {pick.y:.3f})**")
        sections.neighbours(entry, space, space.code_at(pick.x, pick.y))


details(pick)
