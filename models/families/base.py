"""The interface every autoencoder in the zoo shares, and the layers they are built from.

Subclasses only build `self.encoder` (image -> code statistics) and `self.decoder`
(code -> logits); encoding, decoding, sampling and the loss are implemented once here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, ClassVar, NamedTuple

import torch
from torch import Tensor, nn

from models.families import losses
from models.families.config import CODE_NOISE_ON_A_VAE

IMAGE_SIDE = 28  # every supported dataset is 28x28 grayscale
IMAGE_SHAPE = (1, IMAGE_SIDE, IMAGE_SIDE)
IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE


class ModelOutput(NamedTuple):
    """What `forward` returns."""

    logits: Tensor  # decoder output before the sigmoid, (B, 1, 28, 28)
    z: Tensor  # the code fed to the decoder: a posterior sample while training a VAE
    mu: Tensor  # the deterministic code (the posterior mean for a VAE)
    logvar: Tensor | None  # posterior log-variance; None for plain autoencoders


class LossTerms(NamedTuple):
    """Named loss terms, each a scalar tensor averaged over the batch."""

    total: Tensor  # what is minimised: reconstruction + beta * kl + penalty
    reconstruction: Tensor  # per-image reconstruction loss (BCE or MSE, summed over pixels)
    kl: Tensor  # per-image KL to the prior (0 for plain autoencoders)
    penalty: Tensor  # sparse and contractive penalties, already weighted


def make_activation(name: str) -> nn.Module:
    """The nn.Module for an activation name from `models.families.config.ACTIVATIONS`."""
    factories = {
        "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(0.2),
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
    }
    if name not in factories:
        raise ValueError(f"unknown activation {name!r}; choose from {', '.join(factories)}")
    return factories[name]()


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Run a block in eval mode (batch norm uses its running statistics), then restore the mode."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


class Autoencoder(nn.Module):
    """Base class: a deterministic autoencoder, or a VAE when `variational` is True."""

    variational: ClassVar[bool] = False
    title: ClassVar[str] = "autoencoder"  # what the family is called in the app, e.g. "dense VAE"
    encoder: nn.Module  # image -> (B, latent_dim) or (B, 2 * latent_dim) for a VAE
    decoder: nn.Module  # (B, latent_dim) -> logits (B, 1, 28, 28)

    def __init__(self, config: Any) -> None:
        super().__init__()
        config.validate()
        if self.variational and config.objective.code_noise > 0:
            raise ValueError(CODE_NOISE_ON_A_VAE)
        self.config = config

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def code_outputs(self) -> int:
        """How many numbers the encoder head emits: mu, plus logvar for a VAE."""
        return self.latent_dim * (2 if self.variational else 1)

    def encode_distribution(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """(mu, logvar) of q(z|x) for a VAE; (code, None) for a plain autoencoder."""
        h = self.encoder(x)
        if self.variational:
            mu, logvar = h.chunk(2, dim=1)
            return mu, logvar
        return h, None

    def encode(self, x: Tensor) -> Tensor:
        """The code of each image (the posterior mean for a VAE), shape (B, latent_dim)."""
        return self.encode_distribution(x)[0]

    def decode(self, z: Tensor) -> Tensor:
        """Images in [0, 1], shape (B, 1, 28, 28), for codes z of shape (B, latent_dim)."""
        return torch.sigmoid(self.decoder(z))

    def forward(self, x: Tensor, sample: bool | None = None, generator: torch.Generator | None = None) -> ModelOutput:
        """Encode and decode x. While training (or when sample=True), a VAE samples z from its
        posterior, and a regularised AE adds its fixed code noise."""
        mu, logvar = self.encode_distribution(x)
        z = mu
        spread = torch.exp(0.5 * logvar) if logvar is not None else self.config.objective.code_noise
        if (self.training if sample is None else sample) and (logvar is not None or spread > 0):
            eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
            z = mu + eps * spread
        return ModelOutput(self.decoder(z), z, mu, logvar)

    def loss(self, x: Tensor, out: ModelOutput, kl_weight: float | None = None) -> LossTerms:
        """Loss terms for clean images x and the model's output (from a possibly noisy input).

        `kl_weight` replaces the objective's beta in the total (the training loop's KL warm-up ramps it).
        """
        objective = self.config.objective
        reconstruction = losses.reconstruction_loss(out.logits, x, objective.reconstruction)
        kl = losses.kl_divergence(out.mu, out.logvar) if out.logvar is not None else reconstruction.new_zeros(())
        penalty = reconstruction.new_zeros(())
        if objective.sparsity != "none":
            penalty = penalty + objective.sparsity_weight * losses.sparsity_penalty(out.mu, objective)
        if objective.code_penalty > 0:
            penalty = penalty + objective.code_penalty * losses.code_penalty(out.mu)
        if objective.contractive_weight > 0 and self.training:
            penalty = penalty + objective.contractive_weight * losses.contractive_penalty(self.encode, x)
        total = reconstruction + (objective.beta if kl_weight is None else kl_weight) * kl + penalty
        return LossTerms(total, reconstruction, kl, penalty)
