"""Small page sections shared by several pages (digits, neighbours, notices)."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from app.images import grid, to_uint8, upscale
from app.loaders import CheckpointEntry, LatentSpace, ModelRef, decode_codes, test_data
from app.shell import ensure_shell
from app.sidebar import current_entry
from models.latent import nearest

DIGIT_WIDTH = 196  # pixels: 7x the 28x28 image, readable on a projector
NEIGHBOURS = 8


def require_model() -> CheckpointEntry:
    """The selected checkpoint; stops the page with a message when there is none.

    Every page starts here, so this is also where a page run outside the shell is redirected.
    """
    ensure_shell()
    entry = current_entry()
    if entry is None:
        st.error("No model is available. Train one on the Train page or with `python -m models.train`.")
        st.stop()
    return entry


def data_notice(space: LatentSpace, entry: CheckpointEntry, needs: str = "the test-set scatter") -> None:
    """Explain, when MNIST is missing, what is unavailable and how to fix it."""
    if not space.has_data:
        error = test_data(entry.info.dataset).error or "The test set is not available."
        st.warning(
            f"{error}\n\nWithout it, {needs} is not shown. Decoding points of the latent plane, "
            "the manifold, drawing and encoding still work."
        )


def projection_notice(space: LatentSpace) -> None:
    if space.projected:
        share = float(space.plane.explained_variance_ratio.sum())
        # Without data the plane comes from the checkpoint; very old ones have none (share 0).
        how = f"its top two principal components ({share:.0%} of the variance)" if share > 0 else "its first two axes"
        st.info(
            f"This model has a {space.latent_dim}-D latent space. The plot shows its projection onto {how}; "
            "a click is decoded on that plane through the mean (the inverse projection)."
        )


def digit(image: np.ndarray, caption: str, width: int = DIGIT_WIDTH) -> None:
    """One uint8 28x28 image, upscaled crisply."""
    st.image(upscale(image, max(1, width // 28)), caption=caption, width=width)


def neighbours(entry: CheckpointEntry, space: LatentSpace, code: np.ndarray, exclude: int | None = None) -> None:
    """The test images nearest to `code` in the full latent space, with their labels."""
    split = test_data(entry.info.dataset).split
    if not space.has_data or split is None:
        return
    found = nearest(torch.from_numpy(space.codes), torch.as_tensor(code, dtype=torch.float32), NEIGHBOURS + 1)
    indices = [int(i) for i in found.indices if int(i) != exclude][:NEIGHBOURS]
    images = to_uint8(split.images[indices])
    labels = ", ".join(str(int(space.labels[i])) for i in indices)
    st.markdown(f"**Nearest test images** (labels {labels})")
    st.image(upscale(grid(images, columns=4), 3), width=min(4 * 28 * 3, 420))


def decoded(ref: ModelRef, code: np.ndarray) -> np.ndarray:
    """The uint8 28x28 decoding of one latent code."""
    return decode_codes(ref, np.asarray(code, dtype=np.float32)[None])[0]
