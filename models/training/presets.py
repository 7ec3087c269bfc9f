"""Named presets reproducing the architectures of the source material.

A preset is a model family + config + sensible training defaults. The app and the CLI offer
exactly these (`PRESETS`, in `list_presets()` order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models.families.base import Autoencoder
from models.families.config import ConvConfig, DenseConfig, Objective
from models.families.registry import get_model
from models.training.config import TrainConfig


@dataclass(frozen=True)
class Preset:
    """A ready-made model recipe."""

    name: str  # identifier used by the CLI (--preset) and the app
    title: str  # short human-readable name
    family: str  # registered model name (see models.families.registry)
    config: Any  # DenseConfig or ConvConfig
    description: str  # one or two sentences: what it is and where it comes from
    training: TrainConfig = field(default_factory=TrainConfig)

    def build(self) -> Autoencoder:
        return get_model(self.family, self.config)


_PRESETS: tuple[Preset, ...] = (
    Preset(
        "dense_ae_2d",
        "Dense AE 784-512-256-64-2",
        "dense_ae",
        DenseConfig(latent_dim=2, hidden=(512, 256, 64)),
        "Stacked fully connected autoencoder with ReLU and a sigmoid output, as in the Keras tutorials.",
        TrainConfig(epochs=20, batch_size=128),
    ),
    Preset(
        "dense_vae_2d",
        "Dense VAE 784-512-256-2",
        "dense_vae",
        DenseConfig(latent_dim=2, hidden=(512, 256)),
        "Variational autoencoder: Gaussian posterior, reparameterisation, BCE + KL.",
        TrainConfig(epochs=20, batch_size=128),
    ),
    Preset(
        "dense_ae_denoising_64d",
        "Denoising dense AE 784-512-256-64",
        "dense_ae",
        DenseConfig(latent_dim=64, hidden=(512, 256), objective=Objective(noise="gaussian", noise_level=0.5)),
        "Denoising autoencoder with a 64-D code: Gaussian noise (std 0.5) on the input, clean target.",
        TrainConfig(epochs=10, batch_size=128),
    ),
    Preset(
        "dense_ae_pytorch",
        "Dense AE 784-392-196 (MSE)",
        "dense_ae",
        DenseConfig(latent_dim=196, hidden=(392,), objective=Objective(reconstruction="mse")),
        "The PyTorch-tutorial autoencoder: 784-392-196, ReLU, MSE loss, Adam 1e-3.",
        TrainConfig(epochs=10, batch_size=128, lr=1e-3),
    ),
    Preset(
        "dense_ae_sparse_32d",
        "Sparse dense AE 784-256-32",
        "dense_ae",
        DenseConfig(latent_dim=32, hidden=(256,), objective=Objective(sparsity="l1", sparsity_weight=1e-2)),
        "Sparse autoencoder: an L1 penalty on a 32-D code keeps most units near zero.",
        TrainConfig(epochs=10, batch_size=128),
    ),
    Preset(
        "dense_ae_contractive_2d",
        "Contractive dense AE 784-512-256-2",
        "dense_ae",
        DenseConfig(latent_dim=2, hidden=(512, 256), objective=Objective(contractive_weight=1e-2)),
        "Contractive autoencoder: penalises the Frobenius norm of the encoder's Jacobian.",
        TrainConfig(epochs=10, batch_size=128),
    ),
    Preset(
        "conv_ae_pool",
        "Conv AE 64-128-256 (pool / upsample)",
        "conv_ae",
        ConvConfig(latent_dim=2, channels=(64, 128, 256), style="pool"),
        "Conv2D 64 + pool, 128 + pool, 256 at 7x7, dense 2-D code; an upsampling decoder. "
        "Heavy on a CPU (several minutes per epoch).",
        TrainConfig(epochs=5, batch_size=128),
    ),
    Preset(
        "conv_vae_2d",
        "Conv VAE 32-64 strided + batch norm",
        "conv_vae",
        ConvConfig(latent_dim=2, channels=(32, 64), style="strided", dense=16, batch_norm=True),
        "Strided convolutions 32/64 with batch norm, a dense bottleneck, a transposed-conv decoder, BCE + KL.",
        TrainConfig(epochs=10, batch_size=128),
    ),
    Preset(
        "conv_ae_tiny",
        "Tiny conv AE 8-16 (tanh)",
        "conv_ae",
        ConvConfig(latent_dim=2, channels=(8, 16), style="strided", activation="tanh"),
        "A tiny strided convolutional autoencoder with tanh activations; trains fast on a CPU.",
        TrainConfig(epochs=10, batch_size=128, lr=1e-2),
    ),
)
PRESETS: dict[str, Preset] = {preset.name: preset for preset in _PRESETS}
DEFAULT_PRESET = "dense_vae_2d"  # what the CLI and the Train page start from; its trained checkpoint opens the app


def list_presets() -> list[str]:
    """Preset names in the order the app offers them."""
    return list(PRESETS)


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}")
    return PRESETS[name]
