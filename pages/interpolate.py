"""Interpolate: walk the straight (or spherical) path between two latent points."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from app.classroom import url_state
from app.plane.component import PlaneClick, latent_plane
from app.plane.endpoints import (
    DEFAULT_DIGITS,
    Endpoint,
    default_endpoints,
    endpoint_from_click,
    endpoint_from_index,
    endpoint_from_point,
    random_endpoint,
    walk_mode,
)
from app.shell import page
from app.space.catalogue import ModelRef
from app.space.inference import decode_codes
from app.space.latent_space import latent_space
from app.widgets.images import gif_bytes, png_bytes, upscale
from app.widgets.pictures import named_test_image, picture
from app.widgets.plane_help import plane_controls_caption
from models.files.images import tile
from models.geometry.interpolation import interpolation_path

GIF_FRAMES = 51  # t = 0.00, 0.02, ..., 1.00

entry = page.require_model()
ref = entry.ref
space = latent_space(ref)
ends_key, target_key, undo_key = f"interp_ends_{ref.path}", "interp_target", f"interp_undo_{ref.path}"
seq_key = f"interp_seq_{ref.path}"

if target_key not in st.session_state:
    st.session_state[target_key] = "A"
if ends_key not in st.session_state:
    st.session_state[ends_key] = default_endpoints(ref, space)
ends: dict[str, Endpoint] = st.session_state[ends_key]
for side in ("A", "B"):  # endpoints named in a shared link
    if (linked := url_state.parse(side.lower(), url_state.point(space.size))) is not None:
        ends[side] = (endpoint_from_index(space, linked.index) if linked.index is not None
                      else endpoint_from_point(space, linked.x, linked.y))  # fmt: skip
if (linked_slerp := url_state.parse("slerp", url_state.flag)) is not None:
    st.session_state["interp_slerp"] = linked_slerp


def set_endpoint(click: PlaneClick) -> None:
    """A click on the plane sets the endpoint chosen below, and the next click sets the other one.

    (Runs in the component's callback, before the page is drawn, so the radio can still move.)
    """
    st.session_state[seq_key] = click.seq
    if click.undo:  # the first click of a double click: put back what it replaced
        if undone := st.session_state.pop(undo_key, None):
            side, previous = undone
            ends[side] = previous
            st.session_state[target_key] = side
        return
    side = st.session_state[target_key]
    st.session_state[undo_key] = (side, ends[side])
    ends[side] = endpoint_from_click(space, click)
    st.session_state[target_key] = "B" if side == "A" else "A"


st.title("Interpolate between two points")
st.caption(
    "Z_t = Z_A (1 − t) + Z_B t. Click or tap the plane to set A and B; drag t (or press ▶): the marker walks the "
    "path and the digit is decoded in your browser at every step."
)
plane_controls_caption("set A or B")
page.data_notice(space, entry, needs="choosing endpoints from test images")
page.projection_notice(space)

target_column, mode_column, a_column, b_column = st.columns([1, 1, 2, 2])
target_column.radio("A click or tap on the plot sets", ["A", "B"], key=target_key, horizontal=True)
spherical = mode_column.toggle("Spherical (slerp)", key="interp_slerp")
a_column.markdown(f"**A**: {ends['A'].describe()}")
b_column.markdown(f"**B**: {ends['B'].describe()}")

url_state.write(
    {side.lower(): url_state.point_text(end.index, *end.point) for side, end in ends.items()}
    | {"slerp": "1" if spherical else None}
)
walk = walk_mode(ends, st.session_state[target_key], spherical, st.session_state.get(seq_key, 0))
latent_plane(ref, walk, key=f"interp_plane_{ref.key}", on_click=set_endpoint)


def use_index(side: str) -> None:
    ends[side] = endpoint_from_index(space, int(st.session_state[f"interp_index_{side}"]))


def use_random_digit(side: str) -> None:
    ends[side] = random_endpoint(space, int(st.session_state[f"interp_digit_{side}"]), np.random.default_rng())


if space.has_data:
    # Buttons act in callbacks, which run before the script: the whole page then shows the new endpoint.
    with st.expander("Choose A and B by test-set index, or pick a random digit"):
        # Each picker offers the digit of its end first (the defaults: the two digits farthest apart).
        firsts = [DEFAULT_DIGITS[i] if ends[side].label is None else ends[side].label for i, side in enumerate("AB")]
        for column, side, digit in zip(st.columns(2), ("A", "B"), firsts, strict=True):
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
def animated_gif(_ref: ModelRef, a: tuple[float, ...], b: tuple[float, ...], spherical: bool, key: str) -> bytes:
    """The path A -> B -> A as an animated GIF; cached per model (`key`), endpoints and path shape."""
    codes = interpolation_path(torch.tensor(a), torch.tensor(b), GIF_FRAMES, spherical=spherical)
    return gif_bytes(decode_codes(_ref, codes))


def end_name(end: Endpoint) -> str:
    """An endpoint in words, for alt text: "test image #3, a 7" or "the point (0.12, -1.30)"."""
    if end.index is not None:
        return named_test_image(end.index, end.label)
    return f"the point ({end.point[0]:.2f}, {end.point[1]:.2f})"


@st.fragment
def film_strip() -> None:
    steps = st.slider("Steps in the film strip", 3, 16, 8, key="interp_strip_steps")
    strip_codes = interpolation_path(
        torch.tensor(ends["A"].code), torch.tensor(ends["B"].code), steps, spherical=spherical
    )
    strip = upscale(tile(decode_codes(ref, strip_codes), columns=steps, gap=2), 4)
    alt = f"{steps} digits decoded at evenly spaced steps from A, {end_name(ends['A'])}, to B, {end_name(ends['B'])}"
    picture(strip, alt, caption=f"{steps} evenly spaced steps from A (t = 0) to B (t = 1)")
    png, gif = st.columns(2)
    png.download_button("Download strip (PNG)", png_bytes(strip), f"{ref.name}_interpolation.png", "image/png")
    animation = animated_gif(ref, ends["A"].code, ends["B"].code, spherical, ref.path + str(ref.mtime_ns))
    gif.download_button("Download animation (GIF)", animation, f"{ref.name}_interpolation.gif", "image/gif")


film_strip()
