"""Explore: the test set in latent space; click a digit or empty space to decode it."""

from __future__ import annotations

import streamlit as st
import torch

from app import sections
from app.figures import explore_figure
from app.latent_space import decode_plane, latent_space
from app.picks import Pick, fresh_pick, remember
from app.test_set import test_data
from models.images import to_uint8

entry = sections.require_model()
ref = entry.ref
space = latent_space(ref)

st.title("Explore the latent space")
if space.has_data:
    st.caption(
        "Each dot is one of the 10,000 MNIST test images, placed where the encoder puts it. "
        "Click a dot to see it and its reconstruction; click empty space to decode that exact point. "
        "Click legend entries to hide digits; drag to zoom, double-click to reset."
    )
else:
    st.caption("Click anywhere on the plane to decode that point; drag to zoom, double-click to reset.")
sections.data_notice(space, entry)
sections.projection_notice(space)


@st.fragment
def explorer() -> None:
    """The scatter and the clicked point's details: a click reruns only this block."""
    chart_key = f"explore_chart_{ref.name}"
    left, right = st.columns([3, 2], gap="large")
    with left:
        backdrop = st.toggle("Show the decoded manifold behind the points", key="explore_backdrop")
        event = st.plotly_chart(
            explore_figure(ref, backdrop), key=chart_key, on_select="rerun", selection_mode="points", width="stretch"
        )
    pick = remember(f"explore_pick_{ref.path}", fresh_pick(event, chart_key, space.size))
    with right:
        details(pick)


def details(pick: Pick | None) -> None:
    """The clicked digit (original, reconstruction) or the decoded point, and its neighbours."""
    if pick is None:
        st.info("Click a digit, or anywhere on the plane, to decode it.")
    elif pick.index is not None and space.has_data:
        code = space.codes[pick.index]
        label = int(space.labels[pick.index])
        st.subheader(f"Test image #{pick.index}: a {label}")
        original, reconstruction = st.columns(2)
        with original:
            sections.digit(to_uint8(test_data(entry.info.dataset).split.images[pick.index]), "original")
        with reconstruction:
            sections.digit(sections.decoded(ref, code), "reconstruction")
        st.markdown(f"Latent point **z = ({pick.x:.3f}, {pick.y:.3f})**")
        sections.neighbours(entry, space, code, exclude=pick.index)
    else:
        st.subheader("Decoded point")
        sections.digit(decode_plane(ref, [[pick.x, pick.y]])[0], f"decoded at ({pick.x:.3f}, {pick.y:.3f})")
        st.markdown(f"Latent point **z = ({pick.x:.3f}, {pick.y:.3f})**")
        code = space.plane.lift(torch.tensor([[pick.x, pick.y]], dtype=torch.float32))[0].numpy()
        sections.neighbours(entry, space, code)


explorer()
