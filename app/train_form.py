"""The Train page's model builder: widgets in, a `JobSpec` out.

Choosing a preset fills every field (in a callback, before the widgets are drawn); the
fields can then be edited freely. Nothing here trains: the page submits the spec to the
server-wide queue in `app.jobs`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import streamlit as st

from app.jobs import JobQueue, JobSpec, JobView
from models.checkpoint import SUFFIX
from models.config import ACTIVATIONS, ConvConfig, DenseConfig, Objective
from models.data import DEFAULT_DATASET
from models.presets import PRESETS, Preset
from models.training import TrainConfig

CUSTOM = "custom"
DEFAULT_PRESET = "dense_vae_2d"
# 5 epochs of the dense 2-D VAE: about a minute on a laptop CPU, and the clusters are clear.
DEFAULT_EPOCHS = 5
# Longer than a checkpoint name may be, so a long pasted name is shortened visibly (the page
# shows the name that will be used) rather than refused by the browser without a word.
MAX_TYPED_NAME = 200
VARIANTS = ("plain", "denoising", "sparse", "contractive")
FAMILIES = {("Dense", False): "dense_ae", ("Dense", True): "dense_vae", ("Convolutional", False): "conv_ae",
            ("Convolutional", True): "conv_vae"}  # fmt: skip


def apply_preset() -> None:
    """Callback of the preset selectbox: copy the preset into every field."""
    name = st.session_state["train_preset"]
    if name != CUSTOM:
        _fill(PRESETS[name])


def _fill(preset: Preset) -> None:
    config, objective, training = preset.config, preset.config.objective, preset.training
    state = st.session_state
    state["train_kind"] = "Convolutional" if isinstance(config, ConvConfig) else "Dense"
    state["train_variational"] = preset.family.endswith("vae")
    state["train_latent"] = config.latent_dim
    state["train_activation"] = config.activation
    state["train_batch_norm"] = config.batch_norm
    if isinstance(config, ConvConfig):
        state["train_channels"] = ", ".join(map(str, config.channels))
        state["train_style"] = config.style
        state["train_dense"] = config.dense
    else:
        state["train_hidden"] = ", ".join(map(str, config.hidden))
    state["train_reconstruction"] = objective.reconstruction
    state["train_beta"] = objective.beta
    state["train_variant"] = _variant(objective)
    state["train_noise"] = objective.noise if objective.noise != "none" else "gaussian"
    state["train_noise_level"] = objective.noise_level
    state["train_sparsity"] = objective.sparsity if objective.sparsity != "none" else "l1"
    state["train_sparsity_weight"] = objective.sparsity_weight
    state["train_contractive_weight"] = objective.contractive_weight or 1e-2
    state["train_epochs"] = DEFAULT_EPOCHS if preset.name == DEFAULT_PRESET else training.epochs
    state["train_batch"] = training.batch_size
    state["train_lr"] = training.lr
    state["train_name"] = f"my_{preset.name}"
    state["train_title"] = f"{preset.title} (mine)"


def _variant(objective: Objective) -> str:
    if objective.noise != "none":
        return "denoising"
    if objective.sparsity != "none":
        return "sparse"
    return "contractive" if objective.contractive_weight > 0 else "plain"


def model_form() -> JobSpec | str:
    """Draw the builder; return the spec to train, or a message saying what is wrong."""
    if "train_kind" not in st.session_state:
        st.session_state["train_preset"] = DEFAULT_PRESET
        _fill(PRESETS[DEFAULT_PRESET])
    choices = [*PRESETS, CUSTOM]
    st.selectbox("Start from", choices, key="train_preset", on_change=apply_preset,
                 format_func=lambda n: "Custom" if n == CUSTOM else PRESETS[n].title,
                 help="A preset fills in every field below; change any of them afterwards.")  # fmt: skip

    model_column, variant_column, training_column = st.columns(3, gap="medium")
    with model_column:
        st.markdown("**Model**")
        kind = st.radio("Family", ["Dense", "Convolutional"], key="train_kind", horizontal=True)
        st.toggle("Variational (VAE)", key="train_variational")
        st.number_input("Latent size", 1, 256, key="train_latent", help="2 is plotted as is; more via PCA.")
        if kind == "Dense":
            st.text_input("Hidden layer sizes", key="train_hidden", help="Encoder widths; the decoder mirrors them.")
        else:
            st.text_input("Conv channels", key="train_channels", help="The first two stages halve 28 → 14 → 7.")
            st.radio("Down/upsampling", ["strided", "pool"], key="train_style", horizontal=True)
            st.number_input("Dense layer before the code (0: none)", 0, 4096, key="train_dense")
        st.selectbox("Activation", ACTIVATIONS, key="train_activation")
        st.checkbox("Batch norm", key="train_batch_norm")
    with variant_column:
        st.markdown("**Objective**")
        st.radio("Reconstruction loss", ["bce", "mse"], key="train_reconstruction", horizontal=True,
                 format_func=str.upper)  # fmt: skip
        if st.session_state["train_variational"]:
            st.number_input("β (KL weight)", 0.0, 100.0, step=0.5, key="train_beta")
        variant = st.selectbox("Training variant", VARIANTS, key="train_variant")
        if variant == "denoising":
            st.radio("Noise", ["gaussian", "masking"], key="train_noise", horizontal=True)
            st.slider("Noise level", 0.05, 1.0, step=0.05, key="train_noise_level")
        elif variant == "sparse":
            st.radio("Sparsity penalty", ["l1", "kl"], key="train_sparsity", horizontal=True)
            st.number_input("Sparsity weight", 0.0, 10.0, step=1e-3, format="%g", key="train_sparsity_weight")
        elif variant == "contractive":
            st.number_input("Contractive weight", 0.0, 10.0, step=1e-3, format="%g", key="train_contractive_weight")
    with training_column:
        st.markdown("**Training**")
        st.number_input("Epochs", 1, 200, key="train_epochs")
        st.number_input("Batch size", 2, 4096, key="train_batch")
        st.number_input("Learning rate", 1e-6, 100.0, format="%g", step=1e-4, key="train_lr")
        st.number_input("Training images (0: all 60,000)", 0, 60_000, step=1000, key="train_subset",
                        help="A subset makes a quick demo.")  # fmt: skip
        st.text_input("Save as (file name)", key="train_name", max_chars=MAX_TYPED_NAME)
        st.text_input("Title in the model picker", key="train_title", max_chars=100)
    return spec_from_state()


def spec_from_state() -> JobSpec | str:
    """The spec the fields describe now, or a message saying what is wrong.

    It reads `st.session_state`, not values returned by the widgets, so a button callback
    gets the fields as they were when the button was clicked (a name typed just before
    the click included), not as they were when the button was last drawn.
    """
    state = st.session_state
    kind, variational, latent, variant = (
        state["train_kind"], state["train_variational"], int(state["train_latent"]), state["train_variant"]
    )  # fmt: skip
    default = Objective()
    denoising, sparse = variant == "denoising", variant == "sparse"
    objective = Objective(
        reconstruction=state["train_reconstruction"],
        beta=float(state["train_beta"]) if variational else 1.0,
        noise=state["train_noise"] if denoising else "none",
        noise_level=float(state["train_noise_level"]) if denoising else default.noise_level,
        sparsity=state["train_sparsity"] if sparse else "none",
        sparsity_weight=float(state["train_sparsity_weight"]) if sparse else default.sparsity_weight,
        contractive_weight=float(state["train_contractive_weight"]) if variant == "contractive" else 0.0,
    )
    common = {"latent_dim": latent, "activation": state["train_activation"], "batch_norm": state["train_batch_norm"]}
    try:
        if kind == "Dense":
            config = DenseConfig(hidden=parse_sizes(state["train_hidden"], "hidden layer sizes"), objective=objective,
                                 **common)  # fmt: skip
        else:
            config = ConvConfig(channels=parse_sizes(state["train_channels"], "conv channels", allow_empty=False),
                                style=state["train_style"], dense=int(state["train_dense"]), objective=objective,
                                **common)  # fmt: skip
    except ValueError as error:
        return str(error)
    subset = int(state["train_subset"]) or None
    training = TrainConfig(epochs=int(state["train_epochs"]), batch_size=int(state["train_batch"]),
                           lr=float(state["train_lr"]), subset=subset)  # fmt: skip
    preset = state["train_preset"] if state["train_preset"] != CUSTOM else None
    spec = JobSpec(FAMILIES[(kind, variational)], config, training, state["train_name"], state["train_title"],
                   dataset=DEFAULT_DATASET, preset=preset)  # fmt: skip
    return replace(spec, overwrite=bool(state.get("train_overwrite", False)))


def save_copy_form(queue: JobQueue, job: JobView, owner: str, keys: str) -> None:
    """After a run: save its checkpoint again under a name (and title) typed now.

    The copy is made in the submit button's callback, before the script runs, so the
    sidebar's model picker already lists it when the page is drawn.
    """
    prefix = f"{keys}_copy_{job.id}"
    result_key = f"{prefix}_result"

    def save() -> None:
        state = st.session_state
        try:
            path = queue.save_copy(job.id, owner, state[f"{prefix}_name"], state[f"{prefix}_title"],
                                   overwrite=state[f"{prefix}_overwrite"])  # fmt: skip
        except (ValueError, PermissionError, OSError) as error:
            state[result_key] = (False, f"Not saved: {error}")
        else:
            # The stem is a sanitised name (letters, digits, - and _): safe as markdown.
            state[result_key] = (True, f"Saved a copy as **{path.stem}**: it is in the model picker on every page.")

    with st.expander("Save a copy under another name"):
        with st.form(prefix, border=False):
            name_column, title_column = st.columns(2)
            name_column.text_input("New file name", value=next_free_name(job.spec.save_name, queue.checkpoint_dir),
                                   key=f"{prefix}_name", max_chars=MAX_TYPED_NAME)  # fmt: skip
            title_column.text_input("New title in the model picker", value=job.spec.title, key=f"{prefix}_title",
                                    max_chars=100)  # fmt: skip
            st.checkbox("Replace my saved model if one has that name", key=f"{prefix}_overwrite")
            st.form_submit_button("Save a copy", on_click=save, key=f"{prefix}_save")
        if result := st.session_state.get(result_key):
            saved, message = result
            (st.success if saved else st.error)(message)


def next_free_name(name: str, folder: Path) -> str:
    """`name` with the first free numeric suffix (`name_2`, `name_3`, ...) in `folder`."""
    base = re.sub(r"_\d+$", "", name)
    number = 2
    while (folder / f"{base}_{number}{SUFFIX}").exists() or f"{base}_{number}" == name:
        number += 1
    return f"{base}_{number}"


def parse_sizes(text: str, what: str, allow_empty: bool = True) -> tuple[int, ...]:
    """'512, 256' -> (512, 256); a ValueError names the field and the bad part."""
    parts = [part for part in re.split(r"[,\s]+", text.strip()) if part]
    if not parts and not allow_empty:
        raise ValueError(f"{what}: give at least one number, e.g. 32, 64")
    sizes = []
    for part in parts:
        if not part.isdigit() or not 1 <= int(part) <= 8192:
            raise ValueError(f"{what}: {part!r} is not a whole number between 1 and 8192")
        sizes.append(int(part))
    return tuple(sizes)
