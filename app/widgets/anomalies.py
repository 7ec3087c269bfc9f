"""Anomaly detection with the bottleneck: the test images a model reconstructs worst.

An autoencoder learns to rebuild what is typical; an image it rebuilds badly is unusual to
it (a rare way of writing a digit, a mislabelled or damaged scan). Explore colours its
scatter by this error (see app.plane.published) and lists the worst images here.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from app.space.catalogue import ModelRef
from app.space.inference import decode_codes
from app.space.latent_space import LatentSpace
from app.space.test_set import test_data
from app.widgets.images import upscale
from app.widgets.pictures import named_test_image, picture
from models.files.images import tile, to_uint8

WORST_SHOWN = 12
COLUMNS = 6


def worst_reconstructions(ref: ModelRef, space: LatentSpace, errors: np.ndarray, dataset: str) -> None:
    """The WORST_SHOWN test images with the highest error: each original beside its reconstruction."""
    split = test_data(dataset).split
    if split is None or not space.has_data:
        return
    worst = np.argsort(errors)[::-1][:WORST_SHOWN].copy()
    typical = float(np.median(errors))
    st.subheader("The test images it reconstructs worst")
    st.caption(
        f"Original (left) and reconstruction (right), with the error (mean squared error per pixel; the median "
        f"test image has {typical:.3f}). A high error marks an image unusual to this model: anomaly detection "
        "with an autoencoder works this way."
    )
    originals = to_uint8(split.images[torch.from_numpy(worst)])
    rebuilt = decode_codes(ref, space.codes[worst])
    columns = st.columns(COLUMNS, gap="small")
    for rank, index in enumerate(worst):
        pair = tile(torch.stack([originals[rank], rebuilt[rank]]), columns=2, gap=2)
        label = int(space.labels[index])
        with columns[rank % COLUMNS]:
            picture(upscale(pair, 3), f"{named_test_image(index, label)}, and its reconstruction", width="stretch",
                    caption=f"#{index}: a {label} · {errors[index]:.3f}")  # fmt: skip
