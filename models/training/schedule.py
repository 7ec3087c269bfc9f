"""What changes over a run, step by step: the learning rate and a VAE's KL weight."""

from __future__ import annotations

import math

from models.training.config import TrainConfig

ONECYCLE_WARMUP = 0.3  # one-cycle: share of the steps spent rising to the peak learning rate
ONECYCLE_START = 25.0  # one-cycle: starts at lr / this (as torch's OneCycleLR) ...
ONECYCLE_END = 1e4  # ... and ends at that start / this


def scheduled_lr(config: TrainConfig, step: int, total_steps: int) -> float:
    """The learning rate for 0-based optimiser step `step` of `total_steps`.

    "constant": lr throughout. "cosine": from lr down to 0 along half a cosine. "onecycle": from
    lr / 25 up to lr over the first 30% of the steps, then down to lr / 25 / 1e4, both along
    half a cosine (the shape of torch's OneCycleLR).
    """
    if config.schedule == "constant" or total_steps <= 1:
        return config.lr
    progress = min(max(step / (total_steps - 1), 0.0), 1.0)
    if config.schedule == "cosine":
        return config.lr * 0.5 * (1 + math.cos(math.pi * progress))
    start = config.lr / ONECYCLE_START
    end = start / ONECYCLE_END
    if progress < ONECYCLE_WARMUP:
        return _cosine_between(start, config.lr, progress / ONECYCLE_WARMUP)
    return _cosine_between(config.lr, end, (progress - ONECYCLE_WARMUP) / (1 - ONECYCLE_WARMUP))


def _cosine_between(first: float, last: float, fraction: float) -> float:
    return last + (first - last) * 0.5 * (1 + math.cos(math.pi * fraction))


def kl_weight(config: TrainConfig, beta: float, step: int, steps_per_epoch: int) -> float:
    """The KL weight for 0-based step `step`: beta, ramped linearly from 0 over `kl_warmup` epochs."""
    warmup_steps = config.kl_warmup * steps_per_epoch
    if warmup_steps <= 0 or step + 1 >= warmup_steps:
        return beta
    return beta * (step + 1) / warmup_steps
