"""Sample: decode random draws from a VAE's prior N(0, I) and see where they land."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from app.classroom import url_state
from app.plane.component import latent_plane
from app.plane.modes import SamplesMode
from app.shell import page
from app.space.catalogue import load_model
from app.space.latent_space import latent_space
from app.widgets.plane_help import plane_controls_caption

entry = page.require_model()
ref = entry.ref
space = latent_space(ref)
variational = load_model(ref).model.variational

st.title("Sample new digits")
page.data_notice(space, entry)
if variational:
    st.caption("A VAE is trained so that codes follow N(0, I): decoding draws from that prior gives new digits.")
    source = "prior N(0, I)"
    mean, scale = np.zeros(space.latent_dim, np.float32), np.ones(space.latent_dim, np.float32)
elif space.has_data:
    st.warning(
        "This is a plain autoencoder: it has no prior to sample from. The samples below come from a Gaussian "
        "fitted to the test codes; the blurry or odd ones show why plain autoencoders are poor generators."
    )
    source = "Gaussian fitted to the test codes"
    mean, scale = space.codes.mean(0), space.codes.std(0)
else:
    st.error("This plain autoencoder has no prior, and without MNIST there are no codes to fit one to.")
    source = None


def next_seed() -> None:
    st.session_state["sample_seed"] = int(st.session_state.get("sample_seed", 0)) + 1


def show_samples(mean: np.ndarray, scale: np.ndarray, source: str) -> None:
    """Samples from N(mean, scale²), decoded beside the plane and marked on it."""
    if (linked_seed := url_state.parse("seed", url_state.whole(0, 1_000_000))) is not None:
        st.session_state["sample_seed"] = linked_seed
    if (linked_count := url_state.parse("n", url_state.whole(4, 64))) is not None:
        st.session_state["sample_count"] = linked_count - linked_count % 4
    count_column, seed_column, button_column = st.columns([2, 1, 1])
    count = count_column.slider("Number of samples", 4, 64, 16, step=4, key="sample_count")
    seed = seed_column.number_input("Seed", 0, 1_000_000, key="sample_seed")
    button_column.button("New samples", key="sample_new", on_click=next_seed)
    url_state.write({"seed": str(int(seed)), "n": str(count)})

    rng = torch.Generator().manual_seed(int(seed))
    codes = torch.from_numpy(mean) + torch.from_numpy(scale) * torch.randn(count, space.latent_dim, generator=rng)

    st.subheader(f"{count} samples from the {source}")
    st.caption(
        "The diamonds on the plane are the samples: point at one or tap it, or its image, to see which is which."
    )
    plane_controls_caption(None)
    latent_plane(ref, SamplesMode(codes=tuple(map(tuple, codes.tolist()))), key=f"sample_plane_{ref.key}")


if source is not None:
    show_samples(mean, scale, source)
