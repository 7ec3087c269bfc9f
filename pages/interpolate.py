"""Interpolate: walk the straight (or spherical) path between two latent points."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from app import sections
from app.figures import Mark, latent_figure
from app.images import gif_bytes, png_bytes, upscale
from app.interpolation_ends import (
    DEFAULT_DIGITS,
    Endpoint,
    default_endpoints,
    endpoint_from_index,
    endpoint_from_pick,
    random_endpoint,
)
from app.latent_space import decode_codes, latent_space
from app.picks import fresh_pick
from app.player import interpolation_player
from models.images import tile
from models.latent import interpolation_path

PLAYER_FRAMES = 101  # t = 0.00, 0.01, ..., 1.00

entry = sections.require_model()
ref = entry.ref
space = latent_space(ref)
ends_key, target_key, chart_key = f"interp_ends_{ref.path}", "interp_target", f"interp_chart_{ref.name}"

# A click on the chart arrives in its widget state before the widgets below are drawn, so
# it can set an endpoint and move the "next click sets" choice on to the other one.
if target_key not in st.session_state:
    st.session_state[target_key] = "A"
if ends_key not in st.session_state:
    st.session_state[ends_key] = default_endpoints(ref, space)
ends: dict[str, Endpoint] = st.session_state[ends_key]
clicked = fresh_pick(st.session_state.get(chart_key), chart_key, space.size)
if clicked is not None:
    side = st.session_state[target_key]
    ends[side] = endpoint_from_pick(space, clicked)
    st.session_state[target_key] = "B" if side == "A" else "A"

st.title("Interpolate between two points")
st.caption("Z_t = Z_A (1 − t) + Z_B t. Drag the slider under the image: it is decoded live in your browser.")
sections.data_notice(space, entry, needs="choosing endpoints from test images")
sections.projection_notice(space)

target_column, mode_column, a_column, b_column = st.columns([1, 1, 2, 2])
target_column.radio("A click on the plot sets", ["A", "B"], key=target_key, horizontal=True)
spherical = mode_column.toggle("Spherical (slerp)", key="interp_slerp")
a_column.markdown(f"**A**: {ends['A'].describe()}")
b_column.markdown(f"**B**: {ends['B'].describe()}")

codes = interpolation_path(
    torch.tensor(ends["A"].code), torch.tensor(ends["B"].code), PLAYER_FRAMES, spherical=spherical
)
points = space.plane.project(codes).numpy()
frames = decode_codes(ref, codes)

left, right = st.columns([3, 2], gap="large")
with left:
    marks = [Mark(*ends["A"].point, "A", "#d62728", "circle"), Mark(*ends["B"].point, "B", "#1f77b4", "circle")]
    figure = latent_figure(space, path=points, marks=marks, revision=ref.path)
    st.plotly_chart(figure, key=chart_key, on_select="rerun", selection_mode="points", width="stretch")
with right:
    st.subheader("Decoded along the path")
    interpolation_player(frames, np.linspace(0, 1, PLAYER_FRAMES), points, key=f"interp_player_{ref.name}")


def use_index(side: str) -> None:
    ends[side] = endpoint_from_index(space, int(st.session_state[f"interp_index_{side}"]))


def use_random_digit(side: str) -> None:
    ends[side] = random_endpoint(space, int(st.session_state[f"interp_digit_{side}"]), np.random.default_rng())


if space.has_data:
    # Buttons act in callbacks, which run before the script: the whole page then shows the new endpoint.
    with st.expander("Choose A and B by test-set index, or pick a random digit"):
        for column, side, digit in zip(st.columns(2), ("A", "B"), DEFAULT_DIGITS, strict=True):
            pick_index, pick_digit = column.columns(2)
            with pick_index:
                index = st.number_input(
                    f"Test image # for {side}", 0, len(space.labels) - 1, key=f"interp_index_{side}"
                )
                st.button(f"Use image #{index} as {side}", key=f"interp_use_{side}", on_click=use_index, args=(side,))
            with pick_digit:
                wanted = st.selectbox(f"Digit for {side}", range(10), index=digit, key=f"interp_digit_{side}")
                st.button(
                    f"A random {wanted} as {side}", key=f"interp_random_{side}",
                    on_click=use_random_digit, args=(side,),
                )  # fmt: skip


@st.cache_data(max_entries=8, show_spinner=False)
def animated_gif(_frames: torch.Tensor, path_key: tuple) -> bytes:
    """The GIF of every other frame; cached per model, endpoints and path shape (`path_key`)."""
    return gif_bytes(_frames[::2])


@st.fragment
def film_strip() -> None:
    steps = st.slider("Steps in the film strip", 3, 16, 8, key="interp_strip_steps")
    strip_codes = interpolation_path(
        torch.tensor(ends["A"].code), torch.tensor(ends["B"].code), steps, spherical=spherical
    )
    picture = upscale(tile(decode_codes(ref, strip_codes), columns=steps, gap=2), 4)
    st.image(picture, caption=f"{steps} evenly spaced steps from A (t = 0) to B (t = 1)")
    png, gif = st.columns(2)
    png.download_button("Download strip (PNG)", png_bytes(picture), f"{ref.name}_interpolation.png", "image/png")
    animation = animated_gif(frames, (ref, ends["A"].code, ends["B"].code, spherical))
    gif.download_button("Download animation (GIF)", animation, f"{ref.name}_interpolation.gif", "image/gif")


film_strip()
