"""Convolutional autoencoder and VAE (strided / transposed convs, or pooling / upsampling)."""

from __future__ import annotations

from torch import nn

from models.families.base import IMAGE_SHAPE, Autoencoder, make_activation
from models.families.config import ConvConfig
from models.families.registry import register_model

# The first stages halve the resolution 28 -> 14 -> 7; 7 is odd, so no further halving.
DOWNSAMPLING_STAGES = 2


def feature_side(config: ConvConfig) -> int:
    """Side length of the last feature map (14 or 7)."""
    return IMAGE_SHAPE[1] >> min(len(config.channels), DOWNSAMPLING_STAGES)


def _norm_act(channels: int, config: ConvConfig, dims: int = 2) -> list[nn.Module]:
    norm: list[nn.Module] = []
    if config.batch_norm:
        norm.append(nn.BatchNorm2d(channels) if dims == 2 else nn.BatchNorm1d(channels))
    return [*norm, make_activation(config.activation)]


def _encoder_stage(index: int, n_in: int, n_out: int, config: ConvConfig) -> list[nn.Module]:
    k, pad = config.kernel_size, config.kernel_size // 2
    halves = index < DOWNSAMPLING_STAGES
    if config.style == "strided":
        return [nn.Conv2d(n_in, n_out, k, stride=2 if halves else 1, padding=pad), *_norm_act(n_out, config)]
    pool: list[nn.Module] = [nn.MaxPool2d(2)] if halves else []
    return [nn.Conv2d(n_in, n_out, k, padding=pad), *_norm_act(n_out, config), *pool]


def _decoder_stage(index: int, n_in: int, n_out: int, config: ConvConfig, last: bool) -> list[nn.Module]:
    k, pad = config.kernel_size, config.kernel_size // 2
    doubles = index < DOWNSAMPLING_STAGES
    if doubles and config.style == "strided":
        layers: list[nn.Module] = [nn.ConvTranspose2d(n_in, n_out, k, stride=2, padding=pad, output_padding=1)]
    elif doubles:
        layers = [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(n_in, n_out, k, padding=pad)]
    else:
        layers = [nn.Conv2d(n_in, n_out, k, padding=pad)]
    return layers if last else [*layers, *_norm_act(n_out, config)]


@register_model("conv_ae", ConvConfig)
class ConvAutoencoder(Autoencoder):
    """Conv stages -> flatten -> [dense] -> code, mirrored by the decoder (logits out)."""

    title = "convolutional autoencoder"

    def __init__(self, config: ConvConfig) -> None:
        super().__init__(config)
        channels = [IMAGE_SHAPE[0], *config.channels]
        side = feature_side(config)
        flat = channels[-1] * side * side
        bottleneck = config.dense or flat

        encoder: list[nn.Module] = []
        for i in range(len(config.channels)):
            encoder += _encoder_stage(i, channels[i], channels[i + 1], config)
        encoder.append(nn.Flatten())
        dense_widths = [config.dense] * config.dense_layers if config.dense else []
        for n_in, n_out in zip([flat, *dense_widths], dense_widths, strict=False):
            encoder += [nn.Linear(n_in, n_out), *_norm_act(n_out, config, dims=1)]
        encoder.append(nn.Linear(bottleneck, self.code_outputs))
        self.encoder = nn.Sequential(*encoder)

        decoder: list[nn.Module] = []
        # A 2-D code is unfolded into an image by these dense layers alone: depth here lets the
        # decoder bend the plane, as a dense VAE's three layers do.
        for n_in, n_out in zip([config.latent_dim, *dense_widths], dense_widths, strict=False):
            decoder += [nn.Linear(n_in, n_out), *_norm_act(n_out, config, dims=1)]
        decoder += [nn.Linear(config.dense or config.latent_dim, flat), make_activation(config.activation)]
        decoder.append(nn.Unflatten(1, (channels[-1], side, side)))
        for i in reversed(range(len(config.channels))):
            decoder += _decoder_stage(i, channels[i + 1], channels[i], config, last=i == 0)
        self.decoder = nn.Sequential(*decoder)


@register_model("conv_vae", ConvConfig)
class ConvVAE(ConvAutoencoder):
    """The convolutional autoencoder with a Gaussian posterior."""

    variational = True
    title = "convolutional VAE"
