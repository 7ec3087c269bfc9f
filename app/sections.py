"""Small page sections shared by several pages (digits, neighbours, notices)."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from app.catalogue import CheckpointEntry, ModelRef
from app.images import data_uri, upscale
from app.latent_space import LatentSpace, decode_codes
from app.shell import ensure_shell
from app.sidebar import current_entry
from app.test_set import DataStatus, test_data
from models.images import tile
from models.latent import nearest

NEIGHBOURS = 8
DOWNLOAD_POLL_SECONDS = 2.0


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
    """Explain, when MNIST is missing, what is unavailable and how to fix it (one message per page)."""
    if not space.has_data:
        data_unavailable_notice(
            test_data(entry.info.dataset),
            f"Without it, {needs} is not shown. Decoding points of the latent plane, the manifold, "
            "drawing and encoding still work.",
        )


def data_unavailable_notice(status: DataStatus, consequence: str) -> None:
    """Why the data is missing (or that it is on its way) and what that means on this page."""
    if status.downloading:
        st.info(f"The dataset is being downloaded (about 11 MB). {consequence} The page updates when it arrives.")
        _reload_when_data_arrives()
    else:
        st.warning(f"{status.error or 'The test set is not available.'}\n\n{consequence}")


@st.fragment(run_every=DOWNLOAD_POLL_SECONDS)
def _reload_when_data_arrives() -> None:
    if test_data().split is not None:
        st.rerun(scope="app")


def projection_notice(space: LatentSpace) -> None:
    if space.projected:
        share = float(space.plane.explained_variance_ratio.sum())
        # Without data the plane comes from the checkpoint; very old ones have none (share 0).
        how = f"its top two principal components ({share:.0%} of the variance)" if share > 0 else "its first two axes"
        st.info(
            f"This model has a {space.latent_dim}-D latent space. The plot shows its projection onto {how}; "
            "a click is decoded on that plane through the mean (the inverse projection)."
        )


def digit(image: torch.Tensor, caption: str) -> None:
    """One uint8 image ((1, 28, 28) or (28, 28)) as wide as its column (so two side by side never
    overlap): sent at 28x28 and scaled up by the browser with square pixels (app.style).

    It goes inline, as a data URI of a few hundred bytes: Streamlit passes a URL through as it
    is, where bytes would be checked, stored and fetched again by the browser (about 1 ms of
    server CPU per image per click, plus a request)."""
    st.image(data_uri(upscale(image, 1)), caption=caption, width="stretch")


def neighbours(entry: CheckpointEntry, space: LatentSpace, code: np.ndarray, exclude: int | None = None) -> None:
    """The test images nearest to `code` in the full latent space, with their labels."""
    split = test_data(entry.info.dataset).split
    if not space.has_data or split is None:
        return
    # 10,000 distances and a partial sort (0.15 ms): cheaper here than a hop to the inference thread.
    found = nearest(torch.from_numpy(space.codes), torch.as_tensor(code, dtype=torch.float32), NEIGHBOURS + 1)
    indices = [int(i) for i in found.indices if int(i) != exclude][:NEIGHBOURS]
    labels = ", ".join(str(int(space.labels[i])) for i in indices)
    st.markdown(f"**Nearest test images** (labels {labels})")
    # Sent at 28 px per digit and scaled up by the browser with square pixels (app.style).
    st.image(data_uri(upscale(tile(split.images[indices], columns=4, gap=2), 1)), width=min(4 * 28 * 3, 420))


def decoded(ref: ModelRef, code: np.ndarray) -> torch.Tensor:
    """The uint8 (1, 28, 28) decoding of one latent code."""
    return decode_codes(ref, np.asarray(code, dtype=np.float32)[None])[0]
