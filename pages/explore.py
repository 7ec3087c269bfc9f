"""Explore: the test set in latent space; point anywhere to decode, click or tap to select."""

from __future__ import annotations

import streamlit as st

from app.classroom import url_state
from app.plane.component import PlaneClick, latent_plane
from app.plane.modes import Selection, SelectMode
from app.plane.published import errors_asset_url
from app.shell import page
from app.space.inference import reconstruct
from app.space.latent_space import latent_space, reconstruction_errors_of
from app.space.test_set import test_data
from app.widgets import digits
from app.widgets.anomalies import worst_reconstructions
from app.widgets.denoising import is_denoising, noise_control
from app.widgets.pictures import named_test_image
from app.widgets.plane_help import plane_controls_caption
from models.files.images import to_uint8

entry = page.require_model()
ref = entry.ref
space = latent_space(ref)
pick_key = f"explore_pick_{ref.path}"
ERRORS_KEY = "explore_colour_by_error"

st.title("Explore the latent space")
if space.has_data:
    st.caption("Each dot is one of the 10,000 MNIST test images, placed where the encoder puts it.")
plane_controls_caption("select it")
page.data_notice(space, entry)
page.projection_notice(space)
if (linked_errors := url_state.parse("err", url_state.flag)) is not None:
    st.session_state[ERRORS_KEY] = linked_errors
by_error = st.toggle("Colour by reconstruction error", key=ERRORS_KEY, disabled=not space.has_data,
                     help="Dark red points are test images this model reconstructs badly: the unusual ones "
                     "(anomaly detection). The worst are listed below the plot.") and space.has_data  # fmt: skip
url_state.write({"err": "1" if by_error else None})


def remember_click(click: PlaneClick) -> None:
    """The click's point becomes the selection (an undo restores what it replaced)."""
    st.session_state[pick_key] = None if click.x is None else click


if (linked := url_state.parse("sel", url_state.point(space.size))) is not None:  # a shared link's selection
    if linked.index is not None:
        x, y = map(float, space.points[linked.index])
        st.session_state[pick_key] = PlaneClick(x, y, linked.index, 0, False)
    else:
        st.session_state[pick_key] = PlaneClick(linked.x, linked.y, None, 0, False)


def denoising(index: int) -> None:
    """For a denoising model: the selected image with noise, beside what the model makes of it."""
    if not is_denoising(entry.info):
        return
    noisy_column, cleaned_column, control_column = st.columns([1, 1, 2], gap="medium")
    with control_column:
        noise = noise_control(entry.info, f"explore_noise_{ref.key}")
        # Columns stack on a phone: no "left" or "right" in the words.
        st.caption("This model was trained to remove noise: from the noisy input it rebuilds the clean digit.")
    noisy = noise.apply(test_data(entry.info.dataset).split.images[index : index + 1])
    name = named_test_image(index, int(space.labels[index]))
    with_noise = f"with {noise.description}" if noise.level > 0 else "with no noise"
    with noisy_column:
        caption = f"input {with_noise}" if noise.level > 0 else "input, no noise"
        digits.digit(to_uint8(noisy[0]), caption, f"the model's input: {name} {with_noise}")
    with cleaned_column:
        digits.digit(reconstruct(ref, noisy)[0], "its reconstruction", f"the model's reconstruction of {name}")


def details(pick: PlaneClick | None) -> None:
    """What needs the server: a denoising model's noisy input and its reconstruction. The rest of
    the selection's details (original, reconstruction, neighbours) the plane draws in the browser."""
    if pick is not None and pick.index is not None and space.has_data:
        denoising(pick.index)


# A click reruns only this part (not the sidebar, the model catalogue or the page set-up): the
# browser has drawn the marker, the decoded digit and the details already; the server records
# the selection (for the URL and later reruns) and adds what only it can draw.
@st.fragment
def plane_and_details() -> None:
    pick: PlaneClick | None = st.session_state.get(pick_key)
    url_state.write({"sel": None if pick is None else url_state.point_text(pick.index, pick.x, pick.y)})
    selected = None if pick is None else Selection(pick.x, pick.y, pick.index, pick.seq)
    try:
        errors = errors_asset_url(ref) if by_error else None
    except OSError:  # nothing can be published now: the plane below says why
        errors = None
    mode = SelectMode(selected=selected, errors=errors, neighbours=digits.NEIGHBOURS)
    latent_plane(ref, mode, key=f"explore_plane_{ref.key}", on_click=remember_click)
    details(pick)


plane_and_details()
if by_error and (measured := reconstruction_errors_of(ref)) is not None:
    worst_reconstructions(ref, space, measured, entry.info.dataset)
