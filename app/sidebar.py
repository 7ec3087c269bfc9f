"""The sidebar shared by every page: the model picker and the selected model's card."""

from __future__ import annotations

import streamlit as st

from app.loaders import CheckpointEntry, catalogue, test_data

MODEL_KEY = "model_path"  # session-state key of the picker (the checkpoint's path)
DEFAULT_MODEL = "dense_vae_2d"  # the shipped checkpoint the app opens on
FAMILY_NAMES = {
    "dense_ae": "dense autoencoder",
    "dense_vae": "dense VAE",
    "conv_ae": "convolutional autoencoder",
    "conv_vae": "convolutional VAE",
}


def entry_label(entry: CheckpointEntry) -> str:
    owner = "" if entry.shipped else " · yours"
    return f"{entry.info.title or entry.ref.name} ({entry.info.config.latent_dim}-D){owner}"


def model_picker() -> CheckpointEntry | None:
    """Draw the picker in the sidebar and return the chosen checkpoint (None if there is none)."""
    found = catalogue()
    st.sidebar.header("Model")
    for problem in found.problems:
        st.sidebar.warning(f"Skipped {problem}")
    if not found.entries:
        st.sidebar.error(
            "No checkpoints found in `checkpoints/`. Train one with "
            "`python -m models.train --preset dense_vae_2d` or on the Train page."
        )
        return None
    by_path = {entry.ref.path: entry for entry in found.entries}
    if st.session_state.get(MODEL_KEY) not in by_path:
        default = next((e for e in found.entries if e.shipped and e.ref.name == DEFAULT_MODEL), found.entries[0])
        st.session_state[MODEL_KEY] = default.ref.path
    path = st.sidebar.selectbox(
        "Checkpoint", list(by_path), key=MODEL_KEY, format_func=lambda p: entry_label(by_path[p]),
        label_visibility="collapsed",
    )  # fmt: skip
    entry = by_path[path]
    model_card(entry)
    return entry


def model_card(entry: CheckpointEntry) -> None:
    info = entry.info
    metrics = info.metrics
    lines = [
        f"**{FAMILY_NAMES.get(info.model, info.model)}**, {info.config.latent_dim}-D latent, "
        f"{info.config.objective.variant} training, {info.epochs} epochs on {info.dataset}",
    ]
    if metrics:
        parts = [f"k-NN accuracy **{metrics['knn_accuracy']:.1%}**", f"reconstruction {metrics['reconstruction']:.1f}"]
        if metrics.get("elbo") is not None:
            parts.append(f"ELBO {metrics['elbo']:.1f} nats")
        lines.append("Test set: " + ", ".join(parts))
    st.sidebar.markdown("  \n".join(lines))
    data = test_data(info.dataset)
    if data.error:
        st.sidebar.error(data.error, icon="⚠️")


def current_entry() -> CheckpointEntry | None:
    """The checkpoint chosen in the sidebar (the default one if the picker has not run)."""
    found = catalogue()
    by_path = {entry.ref.path: entry for entry in found.entries}
    chosen = by_path.get(st.session_state.get(MODEL_KEY, ""))
    if chosen is None and found.entries:
        chosen = next((e for e in found.entries if e.ref.name == DEFAULT_MODEL), found.entries[0])
    return chosen
