"""Configuration dataclasses shared by every model family.

A model is fully described by its family name plus one of these configs, which is why a
checkpoint stores exactly that pair (see `models/checkpoint.py`).
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Any

ACTIVATIONS: tuple[str, ...] = ("relu", "leaky_relu", "tanh", "sigmoid")
RECONSTRUCTION_LOSSES: tuple[str, ...] = ("bce", "mse")
NOISE_KINDS: tuple[str, ...] = ("none", "gaussian", "masking")
SPARSITY_KINDS: tuple[str, ...] = ("none", "l1", "kl")
# Bounds on architectures, so a config (typed into the Train page or read from a checkpoint
# file) can never ask for an absurd model: the largest preset is far inside all of them.
MAX_LATENT_DIM = 256
MAX_LAYERS = 8  # hidden layers of a dense model, conv stages of a conv model
MAX_WIDTH = 8192  # units of a dense layer
MAX_CHANNELS = 1024  # channels of a conv stage
MAX_KERNEL = 9
MAX_CODE_NOISE = 10.0  # std of the noise on the code of a regularised AE
CODE_NOISE_ON_A_VAE = "noise on the code is for plain autoencoders: a VAE already samples its code"


@dataclass(frozen=True)
class Objective:
    """What the model is trained to do: reconstruction loss plus the training variant."""

    reconstruction: str = "bce"  # "bce" (pixels as Bernoulli) or "mse"; summed over pixels
    beta: float = 1.0  # weight of the KL term (VAEs only); beta > 1 gives a beta-VAE
    noise: str = "none"  # denoising: corrupt the input with "gaussian" or "masking" noise
    noise_level: float = 0.3  # Gaussian std, or the fraction of pixels masked to zero
    sparsity: str = "none"  # sparse AE: "l1" on the code, or "kl" to a target activation
    sparsity_weight: float = 1e-3  # weight of the sparsity penalty
    sparsity_target: float = 0.05  # target mean activation rho for the "kl" penalty
    contractive_weight: float = 0.0  # contractive AE: weight of ||d code / d input||_F^2
    # Regularised AE (plain autoencoders): Gaussian noise of this std on the code while training,
    # and a penalty of `code_penalty` times half the squared length of the code, which fixes the
    # scale the noise is measured against (a VAE with a fixed posterior spread, made deterministic).
    code_noise: float = 0.0
    code_penalty: float = 0.0

    def validate(self) -> None:
        names = ("beta", "noise_level", "sparsity_weight", "sparsity_target", "contractive_weight", "code_noise",
                 "code_penalty")  # fmt: skip
        for name in names:
            _check_number(name, getattr(self, name))
        _check_choice("reconstruction", self.reconstruction, RECONSTRUCTION_LOSSES)
        _check_choice("noise", self.noise, NOISE_KINDS)
        _check_choice("sparsity", self.sparsity, SPARSITY_KINDS)
        if self.beta < 0:
            raise ValueError(f"beta must be >= 0, got {self.beta}")
        if self.noise != "none" and not 0 < self.noise_level <= (1 if self.noise == "masking" else 10):
            raise ValueError(f"noise_level {self.noise_level} is out of range for {self.noise} noise")
        if min(self.sparsity_weight, self.contractive_weight, self.code_penalty) < 0:
            raise ValueError("penalty weights must be >= 0")
        if not 0 <= self.code_noise <= MAX_CODE_NOISE:
            raise ValueError(f"code_noise must be from 0 to {MAX_CODE_NOISE:g}, got {self.code_noise}")
        if self.sparsity == "kl" and not 0 < self.sparsity_target < 1:
            raise ValueError(f"sparsity_target must be in (0, 1), got {self.sparsity_target}")

    @property
    def variant(self) -> str:
        """A short human name for the training variant, e.g. "denoising + sparse"."""
        parts = []
        if self.noise != "none":
            parts.append(f"denoising ({self.noise} {self.noise_level:g})")
        if self.sparsity != "none":
            parts.append(f"sparse ({self.sparsity})")
        if self.contractive_weight > 0:
            parts.append("contractive")
        if self.code_noise > 0 or self.code_penalty > 0:
            parts.append(f"regularised (code noise {self.code_noise:g}, penalty {self.code_penalty:g})")
        return " + ".join(parts) or "plain"


@dataclass(frozen=True)
class DenseConfig:
    """A stacked fully connected encoder 784 -> hidden... -> latent and its mirror decoder."""

    latent_dim: int = 2  # size of the code z
    hidden: tuple[int, ...] = (512, 256)  # encoder layer widths; the decoder mirrors them
    activation: str = "relu"  # hidden-layer nonlinearity
    batch_norm: bool = False  # BatchNorm1d after each hidden linear layer
    objective: Objective = field(default_factory=Objective)

    def validate(self) -> None:
        _check_common(self.latent_dim, self.activation, self.batch_norm, self.objective)
        _check_sizes("hidden", self.hidden, MAX_WIDTH, allow_empty=True)


@dataclass(frozen=True)
class ConvConfig:
    """A convolutional encoder with a dense bottleneck, and its mirror decoder.

    The first two conv stages halve the resolution (28 -> 14 -> 7), either with stride 2
    ("strided", decoded with transposed convolutions) or with 2x2 max pooling ("pool",
    decoded with nearest upsampling + conv). Further stages keep the 7x7 resolution.
    """

    latent_dim: int = 2  # size of the code z
    channels: tuple[int, ...] = (32, 64)  # output channels of each conv stage
    style: str = "strided"  # "strided" or "pool"
    kernel_size: int = 3  # odd kernel size of every conv
    dense: int = 0  # width of the dense layers between the convs and the code (0: none)
    dense_layers: int = 1  # how many such layers, in the encoder and again in the decoder
    activation: str = "relu"  # nonlinearity after each conv / dense layer
    batch_norm: bool = False  # BatchNorm after each conv (and dense) layer
    objective: Objective = field(default_factory=Objective)

    def validate(self) -> None:
        _check_common(self.latent_dim, self.activation, self.batch_norm, self.objective)
        _check_choice("style", self.style, ("strided", "pool"))
        _check_sizes("channels", self.channels, MAX_CHANNELS, allow_empty=False)
        _check_int("kernel_size", self.kernel_size, 1, MAX_KERNEL)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {self.kernel_size}")
        _check_int("dense", self.dense, 0, MAX_WIDTH)
        _check_int("dense_layers", self.dense_layers, 1, MAX_LAYERS)


def parse_sizes(text: str, allow_empty: bool = True) -> tuple[int, ...]:
    """Layer sizes as typed: '512, 256' (commas or spaces) -> (512, 256); '' -> () (no hidden layer)
    where `allow_empty`. Raises ValueError naming the bad part; the sizes' range is `validate`'s to check."""
    parts = [part for part in re.split(r"[,\s]+", text.strip()) if part]
    if not parts and not allow_empty:
        raise ValueError("give at least one number, e.g. 32, 64")
    for part in parts:
        if not part.isdigit():
            raise ValueError(f"{part!r} is not a whole number: give whole numbers separated by commas, e.g. 512, 256")
    return tuple(int(part) for part in parts)


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}")


def _check_number(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


def _check_sizes(name: str, sizes: Any, high: int, allow_empty: bool) -> None:
    if not isinstance(sizes, tuple) or len(sizes) > MAX_LAYERS or (not sizes and not allow_empty):
        raise ValueError(f"{name} must be a list of 1 to {MAX_LAYERS} whole numbers, got {sizes!r}")
    for size in sizes:
        _check_int(f"each of {name}", size, 1, high)


def _check_common(latent_dim: int, activation: str, batch_norm: bool, objective: Objective) -> None:
    _check_int("latent_dim", latent_dim, 1, MAX_LATENT_DIM)
    _check_choice("activation", activation, ACTIVATIONS)
    if not isinstance(batch_norm, bool):
        raise ValueError(f"batch_norm must be true or false, got {batch_norm!r}")
    if not isinstance(objective, Objective):
        raise ValueError("objective must be an Objective")
    objective.validate()


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass (tuples become lists)."""
    return dataclasses.asdict(config)


def config_from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild a config dataclass from `config_to_dict` output, refusing unknown fields."""
    if not isinstance(data, dict):
        raise ValueError(f"config must be a mapping, got {type(data).__name__}")
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields: {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name == "objective":
            value = config_from_dict(Objective, value)
        elif isinstance(value, list):
            value = tuple(value)
        values[name] = value
    config = cls(**values)
    config.validate()
    return config
