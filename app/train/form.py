"""The Train page's model builder: widgets in, a `JobSpec` out.

Choosing a preset fills every field (in a callback, before the widgets are drawn); the
fields can then be edited freely. Nothing here trains: the page submits the spec to the
server-wide queue in `app.jobs.queue`.
"""

from __future__ import annotations

import streamlit as st

from app.jobs.queue import JobQueue
from app.jobs.snapshot import JobSnapshot
from app.jobs.spec import MAX_TITLE_LENGTH, JobSpec
from app.train.fields import ALL_DIGITS, CUSTOM, KINDS, VARIANTS, TrainFields, field_key
from models.families.config import ACTIVATIONS, MAX_CODE_NOISE, MAX_LATENT_DIM, MAX_LAYERS
from models.files.store import first_free_name
from models.training.presets import DEFAULT_PRESET, PRESETS

# Longer than a checkpoint name may be, so a long pasted name is shortened visibly (the page
# shows the name that will be used) rather than refused by the browser without a word.
MAX_TYPED_NAME = 200
key = field_key


def apply_preset() -> None:
    """Callback of the preset selectbox: copy the preset into every field."""
    name = st.session_state[key("preset")]
    if name != CUSTOM:
        TrainFields.from_preset(PRESETS[name]).write(st.session_state)


def model_form() -> None:
    """Draw the builder (read what it describes with `spec_from_state`)."""
    if key("kind") not in st.session_state:
        TrainFields.from_preset(PRESETS[DEFAULT_PRESET]).write(st.session_state)
    TrainFields.keep(st.session_state)
    choices = [*PRESETS, CUSTOM]
    preset = st.selectbox("Start from", choices, key=key("preset"), on_change=apply_preset,
                          format_func=lambda n: "Custom" if n == CUSTOM else PRESETS[n].title,
                          help="A preset fills in every field below; change any of them afterwards.")  # fmt: skip
    if preset != CUSTOM:
        st.caption(PRESETS[preset].description)

    model_column, variant_column, training_column = st.columns(3, gap="medium")
    with model_column:
        st.markdown("**Model**")
        kind = st.radio("Family", KINDS, key=key("kind"), horizontal=True)
        st.toggle("Variational (VAE)", key=key("variational"))
        st.number_input("Latent size", 1, MAX_LATENT_DIM, key=key("latent"), help="2 is plotted as is; more via PCA.")
        if kind == KINDS[0]:
            st.text_input("Hidden layer sizes", key=key("hidden"), help="Encoder widths; the decoder mirrors them.")
        else:
            st.text_input("Conv channels", key=key("channels"), help="The first two stages halve 28 → 14 → 7.")
            st.radio("Down/upsampling", ["strided", "pool"], key=key("style"), horizontal=True)
            width, depth = st.columns(2)
            width.number_input("Dense width", 0, 4096, key=key("dense"),
                               help="Width of the dense layers between the convs and the code (0: none).")  # fmt: skip
            depth.number_input("Dense layers", 1, MAX_LAYERS, key=key("dense_layers"),
                               disabled=not st.session_state[key("dense")],
                               help="How many of them, in the encoder and in the decoder each.")  # fmt: skip
        st.selectbox("Activation", ACTIVATIONS, key=key("activation"))
        st.checkbox("Batch norm", key=key("batch_norm"))
    with variant_column:
        st.markdown("**Objective**")
        st.radio("Reconstruction loss", ["bce", "mse"], key=key("reconstruction"), horizontal=True,
                 format_func=str.upper)  # fmt: skip
        if st.session_state[key("variational")]:
            st.number_input("β (KL weight)", 0.0, 100.0, step=0.5, key=key("beta"))
        variant = st.selectbox("Training variant", VARIANTS, key=key("variant"))
        if variant == "denoising":
            st.radio("Noise", ["gaussian", "masking"], key=key("noise"), horizontal=True)
            st.slider("Noise level", 0.05, 1.0, step=0.05, key=key("noise_level"))
        elif variant == "sparse":
            st.radio("Sparsity penalty", ["l1", "kl"], key=key("sparsity"), horizontal=True)
            st.number_input("Sparsity weight", 0.0, 10.0, step=1e-3, format="%g", key=key("sparsity_weight"))
        elif variant == "contractive":
            st.number_input("Contractive weight", 0.0, 10.0, step=1e-3, format="%g", key=key("contractive_weight"))
        elif variant == "regularised":
            st.number_input("Noise on the code (σ)", 0.0, MAX_CODE_NOISE, step=0.05, format="%g", key=key("code_noise"),
                            help="Gaussian noise on the code while training (plain autoencoders only).")  # fmt: skip
            st.number_input("Code penalty", 0.0, 100.0, step=0.1, format="%g", key=key("code_penalty"),
                            help="Weight of half the squared length of the code: it keeps the codes near the "
                                 "origin, so the noise means the same at every scale.")  # fmt: skip
    with training_column:
        st.markdown("**Training**")
        st.number_input("Epochs", 1, 200, key=key("epochs"))
        st.number_input("Batch size", 2, 4096, key=key("batch"))
        st.number_input("Learning rate", 1e-6, 100.0, format="%g", step=1e-4, key=key("lr"))
        st.number_input("Training images (0: all 60,000)", 0, 60_000, step=1000, key=key("subset"),
                        help="A subset makes a quick demo.")  # fmt: skip
        st.multiselect("Digits to train on", ALL_DIGITS, key=key("digits"),
                       help="Train on a few digits only, e.g. 0, 1, 4 and 7, and watch the classes separate "
                            "epoch by epoch. The test metrics then use those digits too.")  # fmt: skip
        st.text_input("Save as (file name)", key=key("name"), max_chars=MAX_TYPED_NAME)
        st.text_input("Title in the model picker", key=key("title"), max_chars=MAX_TITLE_LENGTH)


def spec_from_state() -> JobSpec:
    """The spec the fields describe now; ValueError saying what is wrong with them.

    It reads `st.session_state`, not values returned by the widgets, so a button callback
    gets the fields as they were when the button was clicked (a name typed just before
    the click included), not as they were when the button was last drawn.
    """
    return TrainFields.read(st.session_state).spec()


def save_copy_form(queue: JobQueue, job: JobSnapshot, owner: str, keys: str) -> None:
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
            suggestion = first_free_name(queue.checkpoint_dir, job.spec.save_name, after=True)
            name_column.text_input("New file name", value=suggestion, key=f"{prefix}_name", max_chars=MAX_TYPED_NAME)
            title_column.text_input("New title in the model picker", value=job.spec.title, key=f"{prefix}_title",
                                    max_chars=100)  # fmt: skip
            st.checkbox("Replace my saved model if one has that name", key=f"{prefix}_overwrite")
            st.form_submit_button("Save a copy", on_click=save, key=f"{prefix}_save")
        if result := st.session_state.get(result_key):
            saved, message = result
            (st.success if saved else st.error)(message)
