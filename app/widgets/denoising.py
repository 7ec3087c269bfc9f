"""Denoising, shown: noise on a denoising model's input, and what the model makes of it.

A denoising autoencoder is trained on corrupted inputs (Gaussian noise, or masked pixels) to
rebuild the clean image. Explore and Draw give such a model a noise control: the noisy input
is shown beside its reconstruction, so the cleaning can be watched as the noise grows.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
import torch

from models.families.config import Objective
from models.families.losses import corrupt
from models.files.checkpoint import CheckpointInfo

NOISE_SEED = 0  # the same noise pattern at every level, so moving the slider only scales it
LEVEL_STEP = 0.05


@dataclass(frozen=True)
class Noise:
    """Noise to put on an input: the kind the model was trained with, at some level."""

    kind: str  # "gaussian" (level = standard deviation) or "masking" (level = share of pixels zeroed)
    level: float

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        """`images` (N, 1, 28, 28) in [0, 1] with this noise (a fixed pattern; unchanged at level 0)."""
        if self.level <= 0:
            return images
        objective = Objective(noise=self.kind, noise_level=self.level)
        return corrupt(images.clone(), objective, torch.Generator().manual_seed(NOISE_SEED))

    @property
    def description(self) -> str:
        what = "Gaussian noise, standard deviation" if self.kind == "gaussian" else "masking, share of pixels zeroed"
        return f"{what} {self.level:g}"


def is_denoising(info: CheckpointInfo) -> bool:
    return info.config.objective.noise != "none"


def noise_control(info: CheckpointInfo, key: str) -> Noise | None:
    """A slider for the noise on the model's input, for a denoising model (None for any other)."""
    objective = info.config.objective
    if not is_denoising(info):
        return None
    trained = float(objective.noise_level)
    high = 0.9 if objective.noise == "masking" else max(1.0, round(2 * trained, 1))
    label = "Gaussian noise on the input (σ)" if objective.noise == "gaussian" else "Pixels masked (share)"
    level = st.slider(
        label, 0.0, high, value=min(trained, high), step=LEVEL_STEP, key=key,
        help=f"This model was trained to remove this kind of noise at {trained:g}: try more, or none.",
    )  # fmt: skip
    return Noise(objective.noise, float(level))
