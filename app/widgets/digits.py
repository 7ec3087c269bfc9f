"""Digits on a page: one decoded or test image, sent at its own 28x28 pixels, and the test images
nearest to a code."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from app.space.catalogue import CheckpointEntry, ModelRef
from app.space.inference import decode_codes
from app.space.latent_space import LatentSpace
from app.space.test_set import test_data
from app.widgets.images import data_uri, upscale
from app.widgets.pictures import labels, picture
from models.evaluation.neighbours import nearest
from models.files.images import tile

NEIGHBOURS = 8
NEIGHBOUR_COLUMNS = 4
NEIGHBOURS_WIDTH = 420  # CSS px for the grid of neighbours


def digit(image: torch.Tensor, caption: str, alt: str) -> None:
    """One uint8 image ((1, 28, 28) or (28, 28)) as wide as its column (so two side by side never
    overlap): sent at 28x28 and scaled up by the browser with square pixels (app.shell.style).
    `alt` says what it is (app.widgets.pictures).

    It goes inline, as a data URI of a few hundred bytes: Streamlit passes a URL through as it
    is, where bytes would be checked, stored and fetched again by the browser (server CPU per
    image per click, plus a request)."""
    picture(data_uri(upscale(image, 1)), alt, caption=caption, width="stretch")


def neighbours(
    entry: CheckpointEntry, space: LatentSpace, code: np.ndarray, exclude: int | None = None, of: str = "this point"
) -> None:
    """The test images nearest to `code` in the full latent space, with their labels (`of` names what
    `code` is, for the grid's alt text)."""
    split = test_data(entry.info.dataset).split
    if not space.has_data or split is None:
        return
    # 10,000 distances and a partial sort: cheaper here than a hop to the inference thread.
    found = nearest(torch.from_numpy(space.codes), torch.as_tensor(code, dtype=torch.float32), NEIGHBOURS + 1)
    indices = [int(i) for i in found.indices if int(i) != exclude][:NEIGHBOURS]
    found_labels = [int(space.labels[i]) for i in indices]
    st.markdown(f"**Nearest test images** (labels {', '.join(map(str, found_labels))})")
    # Sent at 28 px per digit and scaled up by the browser with square pixels (app.shell.style).
    grid = tile(split.images[indices], columns=NEIGHBOUR_COLUMNS, gap=2)
    alt = f"the {len(indices)} test images nearest to {of}, in rows of {NEIGHBOUR_COLUMNS}: {labels(found_labels)}"
    picture(data_uri(upscale(grid, 1)), alt, width=NEIGHBOURS_WIDTH)


def decoded(ref: ModelRef, code: np.ndarray) -> torch.Tensor:
    """The uint8 (1, 28, 28) decoding of one latent code."""
    return decode_codes(ref, np.asarray(code, dtype=np.float32)[None])[0]
