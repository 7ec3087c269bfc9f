"""A guided lesson: prepared views a teacher steps through in front of a class.

Each step opens a page with its view in the URL (see app.classroom.url_state) and `step=N`; while a
step is open, a banner at the top of the page explains it and leads on. No step needs typing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from app.classroom import url_state

# Test images that are typical of their digit (the nearest to their class's mean image).
TYPICAL = {"7": "i6586", "3": "i6365", "8": "i3588"}


@dataclass(frozen=True)
class Step:
    title: str
    text: str  # two or three sentences for first-year students (markdown)
    page: str  # the page script that shows it
    params: dict[str, str] = field(default_factory=dict)  # its view, as URL parameters


STEPS: tuple[Step, ...] = (
    Step(
        "What a latent space is",
        "An autoencoder squeezes each 28×28 picture (784 numbers) through a bottleneck of just **2 numbers**, its "
        "code, and then rebuilds the picture from the code alone. Each dot is one test image placed at its code; the "
        "colours are the true digits, which the model never saw. Point at any place of the plane, or drag a finger "
        "over it, and the decoder draws the digit it builds from that point.",
        "pages/explore.py",
        {"model": "dense_vae_2d"},
    ),
    Step(
        "Select a digit",
        "Here a 7 is selected (click or tap a dot to select another). Below the plane: the original picture, what "
        "the model rebuilds from its two numbers, and its nearest neighbours in the latent space. The rebuilt 7 is "
        "blurrier: two numbers cannot hold every detail, so the model keeps what 7s have in common.",
        "pages/explore.py",
        {"model": "dense_vae_2d", "sel": TYPICAL["7"]},
    ),
    Step(
        "Walk from a 3 to an 8",
        "Drag **t** from 0 to 1, or press ▶. The code moves in a straight line from the 3 to the 8, and the decoder "
        "draws every step in between. Where the walk crosses other clusters, other digits appear on the way.",
        "pages/interpolate.py",
        {"model": "dense_vae_2d", "a": TYPICAL["3"], "b": TYPICAL["8"], "t": "0.5"},
    ),
    Step(
        "Draw your own",
        "Draw a digit with your finger, a pen or the mouse. It is shrunk to 28×28 like the MNIST pictures, encoded, "
        "and shown as a red star among the test images: does it land among its own kind?",
        "pages/draw.py",
        {"model": "dense_vae_2d"},
    ),
    Step(
        "Invent new digits",
        "A VAE is trained so that its codes spread like a standard normal distribution. So we can make up codes by "
        "drawing them from that distribution, and decode them into digits that are in no data set.",
        "pages/sample.py",
        {"model": "dense_vae_2d", "seed": "1", "n": "16"},
    ),
    Step(
        "Autoencoder or VAE?",
        "The same made-up codes, decoded by a plain autoencoder (left) and a VAE (right). The autoencoder was never "
        "asked to put its codes anywhere in particular: they spread far wider, so every sample falls into one small "
        "patch of it. The VAE's codes fill exactly the region the samples come from.",
        "pages/compare.py",
        {"left": "dense_ae_2d", "right": "dense_vae_2d", "show": "samples"},
    ),
    Step(
        "Watch a model learn",
        "Press **Start training**: a small VAE trains for about a minute on this computer. After every epoch the "
        "scatter shows where the test images land: watch one blob split into clusters, then press ▶ to replay.",
        "pages/train.py",
    ),
)


def step_params(number: int) -> dict[str, str]:
    """The URL parameters of step `number` (1-based), the step included."""
    return {**STEPS[number - 1].params, "step": str(number)}


def open_step(number: int) -> None:
    st.switch_page(STEPS[number - 1].page, query_params=step_params(number))


def lesson_banner() -> None:
    """While a step of the lesson is open: what it shows, and the way on (call before the page runs)."""
    number = url_state.parse("step", url_state.whole(1, len(STEPS)))
    if number is not None:
        st.session_state["lesson_step"] = number
    number = st.session_state.get("lesson_step")
    if number is None:
        return
    step = STEPS[number - 1]
    url_state.write({"step": str(number)})
    with st.container(border=True, key="lesson_banner"):
        st.markdown(f"**Lesson, step {number} of {len(STEPS)}: {step.title}**  \n{step.text}")
        back, forward, leave = st.columns([1, 1, 4])
        if back.button("◀ Previous", key="lesson_previous", disabled=number == 1):
            open_step(number - 1)
        if forward.button("Next ▶", key="lesson_next", disabled=number == len(STEPS), type="primary"):
            open_step(number + 1)
        leave.button("End the lesson", key="lesson_end", on_click=_end)


def _end() -> None:
    st.session_state.pop("lesson_step", None)
    url_state.write({"step": None})
