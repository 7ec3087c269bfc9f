"""What every page starts with: the selected model (or a message), and notices about missing data or
a projected plane."""

from __future__ import annotations

import streamlit as st

from app.shell.session import ensure_shell
from app.shell.sidebar import current_entry
from app.space.catalogue import CheckpointEntry
from app.space.latent_space import LatentSpace
from app.space.test_set import DataStatus, test_data

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
            "a point of the plot is decoded on that plane through the mean (the inverse projection)."
        )
