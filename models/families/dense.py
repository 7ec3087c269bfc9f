"""Dense (stacked, fully connected) autoencoder and VAE."""

from __future__ import annotations

import itertools

from torch import nn

from models.families.base import IMAGE_PIXELS, IMAGE_SHAPE, Autoencoder, make_activation
from models.families.config import DenseConfig
from models.families.registry import register_model


def _dense_stack(sizes: list[int], activation: str, batch_norm: bool) -> list[nn.Module]:
    """Linear (+ BatchNorm) + activation for each consecutive pair of sizes."""
    layers: list[nn.Module] = []
    for n_in, n_out in itertools.pairwise(sizes):
        layers.append(nn.Linear(n_in, n_out))
        if batch_norm:
            layers.append(nn.BatchNorm1d(n_out))
        layers.append(make_activation(activation))
    return layers


@register_model("dense_ae", DenseConfig)
class DenseAutoencoder(Autoencoder):
    """784 -> hidden... -> latent -> reversed(hidden)... -> 784, sigmoid output."""

    title = "dense autoencoder"

    def __init__(self, config: DenseConfig) -> None:
        super().__init__(config)
        hidden = list(config.hidden)
        encoder_sizes = [IMAGE_PIXELS, *hidden]
        decoder_sizes = [config.latent_dim, *reversed(hidden)]
        self.encoder = nn.Sequential(
            nn.Flatten(),
            *_dense_stack(encoder_sizes, config.activation, config.batch_norm),
            nn.Linear(encoder_sizes[-1], self.code_outputs),
        )
        self.decoder = nn.Sequential(
            *_dense_stack(decoder_sizes, config.activation, config.batch_norm),
            nn.Linear(decoder_sizes[-1], IMAGE_PIXELS),
            nn.Unflatten(1, IMAGE_SHAPE),
        )


@register_model("dense_vae", DenseConfig)
class DenseVAE(DenseAutoencoder):
    """The dense autoencoder with a Gaussian posterior and the reparameterisation trick."""

    variational = True
    title = "dense VAE"
