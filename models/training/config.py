"""How to train: `TrainConfig`, its checks, and its form in a checkpoint's metadata.

The model itself is described by its own config (`models.families.config`); this is everything
else a run needs: epochs, batches, the optimiser's settings, the schedule, the digits, the device
and the precision.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from models.training.runtime import DEVICES, PRECISIONS, resolve_device, resolve_precision

SCHEDULES: tuple[str, ...] = ("constant", "cosine", "onecycle")
DIGITS = range(10)


@dataclass(frozen=True)
class TrainConfig:
    """How to train (the model itself is described by its own config)."""

    epochs: int = 10  # full passes over the (subset of the) training set
    batch_size: int = 128  # images per optimiser step; the last partial batch is dropped
    lr: float = 1e-3  # Adam learning rate (the peak of a schedule)
    seed: int = 0  # seeds shuffling, noise, VAE sampling and the k-NN reference sample
    subset: int | None = None  # train on this many randomly chosen images (None: all)
    threads: int = 1  # torch CPU threads; 1 is the fastest and steadiest on a small shared machine
    knn_k: int = 5  # neighbours for the k-NN accuracy of test latents
    knn_reference: int = 10_000  # training images encoded as the k-NN reference set
    schedule: str = "constant"  # learning rate per step: "constant", "cosine" (decays to 0) or "onecycle"
    weight_decay: float = 0.0  # decoupled weight decay (AdamW); 0 is plain Adam
    kl_warmup: int = 0  # VAEs: epochs over which the KL weight ramps linearly from 0 to beta (0: none)
    digits: tuple[int, ...] | None = None  # train and evaluate on these digits only (None: all ten)
    device: str = "auto"  # "auto" (cuda, then mps, then cpu), "cpu", "cuda" or "mps"
    # "bfloat16": the products of training in bfloat16 (see `runtime.bfloat16_method`), the loss,
    # weights, Adam and evaluation in float32; "auto": bfloat16 where the hardware does it natively
    # and the model is big enough to gain (see `runtime.select_precision`).
    precision: str = "float32"

    def validate(self, train_size: int) -> None:
        """Raise ValueError naming the first bad setting (`train_size`: images before any subset)."""
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        if not self.lr > 0 or not math.isfinite(self.lr):
            raise ValueError(f"learning rate must be a positive number, got {self.lr}")
        if self.subset is not None and not 1 <= self.subset <= train_size:
            raise ValueError(f"subset must be between 1 and {train_size}, got {self.subset}")
        available = self.subset or train_size
        if not 2 <= self.batch_size <= available:
            raise ValueError(f"batch size must be between 2 and the {available} training images, got {self.batch_size}")
        if self.threads < 1 or self.knn_k < 1 or self.knn_reference < self.knn_k:
            raise ValueError("threads, knn_k and knn_reference must be positive (knn_reference >= knn_k)")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        if not 0 <= self.weight_decay < 1 or not math.isfinite(self.weight_decay):
            raise ValueError(f"weight decay must be a number in [0, 1), got {self.weight_decay}")
        if isinstance(self.kl_warmup, bool) or not isinstance(self.kl_warmup, int) or self.kl_warmup < 0:
            raise ValueError(f"KL warm-up must be a whole number of epochs >= 0, got {self.kl_warmup!r}")
        if self.digits is not None and (
            not isinstance(self.digits, tuple)
            or not self.digits
            or any(isinstance(d, bool) or d not in DIGITS for d in self.digits)
            or len(set(self.digits)) != len(self.digits)
        ):
            raise ValueError(f"digits must be distinct whole numbers from 0 to 9, got {self.digits!r}")
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")

    def resolved(self, parameters: int) -> TrainConfig:
        """This config with each "auto" replaced by what this machine gives a model of `parameters`
        weights (the device, then the precision), as a checkpoint records it. Raises ValueError for
        a device that is not here."""
        device = resolve_device(self.device)
        return replace(self, device=device.type, precision=resolve_precision(self.precision, device, parameters))

    def to_dict(self) -> dict[str, Any]:
        """Plain values for a checkpoint's metadata (digits as a list)."""
        data = asdict(self)
        data["digits"] = list(self.digits) if self.digits is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """The inverse of `to_dict`; settings this version does not know are ignored, missing ones
        (older checkpoints) take their defaults."""
        known = {f.name for f in fields(cls)}
        values = {name: value for name, value in data.items() if name in known}
        if isinstance(values.get("digits"), list):
            values["digits"] = tuple(values["digits"])
        return cls(**values)
