"""Draw: draw or upload a digit, see the 28x28 input and where the encoder puts it."""

from __future__ import annotations

import streamlit as st
import torch

from app.plane.component import latent_plane
from app.plane.digit_input import digit_input
from app.plane.modes import Ellipse, EncodeMode
from app.shell import page
from app.space.inference import decode_codes, encode_distribution
from app.space.latent_space import latent_space
from app.widgets import digits
from app.widgets.denoising import noise_control
from app.widgets.images import upscale
from app.widgets.pictures import picture
from app.widgets.plane_help import plane_controls_caption
from models.files.images import tile, to_uint8

POSTERIOR_SAMPLES = 6

entry = page.require_model()
ref = entry.ref
space = latent_space(ref)

st.title("Draw a digit")
st.caption(
    "Draw a digit with your finger, a pen or the mouse (or upload a picture). It is prepared the way MNIST was "
    "made: cropped to the ink, scaled to fit 20x20, and centred by its centre of mass in a 28x28 image. Then it is "
    "encoded."
)
plane_controls_caption(None)
page.data_notice(space, entry, needs="the test-set scatter")

left, right = st.columns([1, 2], gap="large")
with left:
    drawn = digit_input("draw")
    if drawn.message:
        (st.error if drawn.is_error else st.info)(drawn.message)

plane_key = f"draw_plane_{ref.key}"


def show_encoding(image: torch.Tensor) -> None:
    """The input the model sees, its reconstruction, where it lands on the plane and its neighbours."""
    with left:  # a denoising model gets noise on the drawing, as it was trained
        noise = noise_control(entry.info, f"draw_noise_{ref.key}")
    seen = image if noise is None else noise.apply(image)
    mu, logvar = encode_distribution(ref, seen)
    code = mu[0].numpy()
    point = tuple(float(v) for v in space.plane.project(mu)[0])
    ellipse, samples = None, None
    if logvar is not None:
        std = torch.exp(0.5 * logvar[0])
        ellipse = Ellipse.of(point, space.plane.project_covariance(std.square()))
        generator = torch.Generator().manual_seed(0)
        sample_codes = mu + std * torch.randn(POSTERIOR_SAMPLES, mu.shape[1], generator=generator)
        samples = (sample_codes, tuple(tuple(p) for p in space.plane.project(sample_codes).tolist()))

    with left:
        model_input, reconstruction = st.columns(2)
        with model_input:
            noisy = noise is not None and noise.level > 0
            seen_caption = f"what the model sees: with {noise.description}" if noisy else "what the model sees (28x28)"
            seen_alt = "your digit as the 28x28 input the model sees" + (f", with {noise.description}" if noisy else "")
            digits.digit(to_uint8(seen[0]), seen_caption, seen_alt)
        with reconstruction:
            digits.digit(digits.decoded(ref, code), "reconstruction", "the model's reconstruction of your digit")
        st.markdown(f"Encoded at **z = ({point[0]:.3f}, {point[1]:.3f})**")
        if samples is not None:
            st.markdown(f"**{POSTERIOR_SAMPLES} samples from the posterior q(z|x)** (white dots; red: its 1σ ellipse)")
            strip = upscale(tile(decode_codes(ref, samples[0]), columns=POSTERIOR_SAMPLES, gap=2), 3)
            picture(strip, f"{POSTERIOR_SAMPLES} digits decoded from samples of the posterior of your digit")

    with right:
        mode = EncodeMode(point=point, ellipse=ellipse, posterior_samples=() if samples is None else samples[1])
        latent_plane(ref, mode, key=plane_key)
        digits.neighbours(entry, space, code, of="your digit")


if drawn.image is None:
    with right:
        latent_plane(ref, EncodeMode(), key=plane_key)
else:
    show_encoding(drawn.image)
