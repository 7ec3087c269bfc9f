"""Compare: two models side by side, their planes linked (a test image, the same walk, the same samples)."""

from __future__ import annotations

import streamlit as st
import torch

from app.classroom import url_state
from app.plane.component import PlaneClick, latent_plane
from app.plane.endpoints import endpoint_from_index, walk_mode
from app.plane.modes import SamplesMode, Selection, SelectMode
from app.shell import page
from app.shell.sidebar import entry_label
from app.space.catalogue import CheckpointEntry, catalogue, named
from app.space.inference import decode_codes
from app.space.latent_space import LatentSpace, clear_example_index, latent_space
from app.space.test_set import test_data
from app.widgets import digits
from app.widgets.images import upscale
from app.widgets.pictures import named_test_image, picture
from app.widgets.plane_help import plane_controls_caption
from models.evaluation.neighbours import share_in_holes
from models.files.images import tile, to_uint8
from models.geometry.interpolation import interpolation_path

page.require_model()  # the app shell (and a message when there is no model at all)
DEFAULTS = {"left": "dense_ae_2d", "right": "dense_vae_2d"}  # the lesson: holes in an AE, continuity in a VAE
VIEWS = ("Test images", "A → B", "Samples from N(0, I)")
LINK = "compare"
pick_key, ends_key, target_key = "compare_pick", "compare_ends", "compare_target"

st.title("Compare two models")
st.caption(
    "The same test images, the same walk and the same random codes in two latent spaces. Point at a test image in "
    "one plane, or tap it, and it lights up in the other; t moves both walks."
)
plane_controls_caption("select it")
entries = {entry.ref.path: entry for entry in catalogue().entries}  # by file: names need not be unique


def by_name(name: str) -> str | None:
    """The path of the model a link names (see `named`), or None."""
    entry = named(list(entries.values()), name)
    return None if entry is None else entry.ref.path


def choose(side: str, column: object) -> CheckpointEntry:
    key = f"compare_{side}"
    if (linked := url_state.incoming(side)) is not None:
        if (path := by_name(linked)) is not None:
            st.session_state[key] = path
        else:
            url_state.notice(side, linked)
    if st.session_state.get(key) not in entries:
        st.session_state[key] = by_name(DEFAULTS[side]) or next(iter(entries))
    path = column.selectbox(f"{side.title()} model", list(entries), key=key,
                            format_func=lambda p: entry_label(entries[p]))  # fmt: skip
    url_state.write({side: entries[path].ref.name})
    return entries[path]


SHOW = {"images": VIEWS[0], "walk": VIEWS[1], "samples": VIEWS[2]}  # the view's name in a link
if (shown := url_state.incoming("show")) is not None:
    if shown in SHOW:
        st.session_state["compare_view"] = SHOW[shown]
    else:
        url_state.notice("show", shown)
view = st.radio("Show", VIEWS, horizontal=True, key="compare_view", label_visibility="collapsed")
url_state.write({"show": next(name for name, label in SHOW.items() if label == view)})
columns = st.columns(2, gap="medium")
chosen = {side: choose(side, column) for side, column in zip(("left", "right"), columns, strict=True)}
spaces = {side: latent_space(entry.ref) for side, entry in chosen.items()}
linked = all(space.has_data for space in spaces.values()) and len({e.info.dataset for e in chosen.values()}) == 1
if not linked:
    st.info("The planes are linked through the test set: both models need it, and the same dataset.")


def point_of(space: LatentSpace, index: int) -> tuple[float, float]:
    return float(space.points[index, 0]), float(space.points[index, 1])


def shared_pick(click: PlaneClick) -> None:
    """A test image clicked in either plane is selected in both (empty space means different things)."""
    if click.undo and click.x is None:
        st.session_state[pick_key] = None
    elif click.index is not None:
        st.session_state[pick_key] = click.index


if view == VIEWS[0]:
    index = st.session_state.get(pick_key)
    for (side, entry), column in zip(chosen.items(), columns, strict=True):
        space = spaces[side]
        selected = None
        if index is not None and space.has_data:
            selected = Selection(*point_of(space, index), index)
        with column:
            latent_plane(entry.ref, SelectMode(selected=selected), key=f"compare_{side}_{entry.ref.key}",
                         on_click=shared_pick, link_group=LINK if linked else None)  # fmt: skip
    if index is not None and linked:
        split = test_data(chosen["left"].info.dataset).split
        name = named_test_image(index, int(split.labels[index]))
        st.subheader(f"Test image #{index}: a {int(split.labels[index])}")
        original, *rebuilt = st.columns(3)
        with original:
            digits.digit(to_uint8(split.images[index]), "original", name)
        for (side, entry), column in zip(chosen.items(), rebuilt, strict=True):
            with column:
                digits.digit(digits.decoded(entry.ref, spaces[side].codes[index]), f"{side}: {entry.info.title}",
                             f"the reconstruction of {name} by the {side} model, {entry.info.title}")  # fmt: skip
    else:
        st.info("Point at a test image to see it in both planes; click or tap one to compare the two reconstructions.")

elif view == VIEWS[1] and not linked:
    pass  # the walk goes between test images: the notice above says what is missing
elif view == VIEWS[1]:
    if ends_key not in st.session_state:
        left = chosen["left"].ref
        st.session_state[ends_key] = {"A": clear_example_index(left, 3), "B": clear_example_index(left, 8)}
    ends = st.session_state[ends_key]
    st.session_state.setdefault(target_key, "A")

    def set_end(click: PlaneClick) -> None:
        if click.index is not None and not click.undo:
            side = st.session_state[target_key]
            ends[side] = click.index
            st.session_state[target_key] = "B" if side == "A" else "A"

    st.radio("A click or tap on a test image sets", ["A", "B"], key=target_key, horizontal=True)
    for (side, entry), column in zip(chosen.items(), columns, strict=True):
        space = spaces[side]
        code = {end: space.codes[i] for end, i in ends.items()}
        model_ends = {end: endpoint_from_index(space, i) for end, i in ends.items()}
        with column:
            latent_plane(entry.ref, walk_mode(model_ends, st.session_state[target_key]),
                         key=f"compare_walk_{side}_{entry.ref.key}", on_click=set_end, link_group=LINK)  # fmt: skip
            path = interpolation_path(torch.from_numpy(code["A"]), torch.from_numpy(code["B"]), 10)
            caption = f"{entry.info.title}: A (test #{ends['A']}) to B (test #{ends['B']}) in 10 steps"
            alt = (f"10 digits decoded by {entry.info.title} along the walk from A, "
                   f"{named_test_image(ends['A'], int(space.labels[ends['A']]))}, to B, "
                   f"{named_test_image(ends['B'], int(space.labels[ends['B']]))}")  # fmt: skip
            picture(upscale(tile(decode_codes(entry.ref, path), columns=10, gap=2), 3), alt, caption=caption)

else:
    count = st.slider("Number of samples", 4, 32, 12, step=4, key="compare_count")
    seed = int(st.number_input("Seed", 0, 1_000_000, key="compare_seed"))
    for (side, entry), column in zip(chosen.items(), columns, strict=True):
        space = spaces[side]
        generator = torch.Generator().manual_seed(seed)
        codes = torch.randn(count, space.latent_dim, generator=generator)
        with column:
            mode = SamplesMode(codes=tuple(map(tuple, codes.tolist())))
            latent_plane(
                entry.ref, mode, key=f"compare_samples_{side}_{entry.ref.key}", link_group=LINK if linked else None
            )
            if space.has_data:
                holes = share_in_holes(torch.from_numpy(space.codes), codes)
                spread = float(space.codes.std(axis=0).mean())
                st.markdown(
                    f"Its test codes spread **{spread:.1f}×** as wide as these samples (a standard deviation of "
                    f"{spread:.2f} against 1). **{holes:.0%}** of the samples land in a hole of its code space "
                    f"(farther from every test code than 95% of test codes are from their nearest one)."
                )
    st.caption(
        "Codes drawn from N(0, I), the prior a VAE is trained to fill. A plain autoencoder never learned to put "
        "its codes there, so many of the same codes fall between its clusters and decode to blurs."
    )
