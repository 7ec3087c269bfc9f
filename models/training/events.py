"""What a training run reports: an event after every step, after every epoch, and at its end."""

from __future__ import annotations

from typing import Literal, NamedTuple

from torch import Tensor

from models.evaluation.metrics import EvalMetrics


class StepProgress(NamedTuple):
    """Yielded after every optimiser step."""

    epoch: int  # 1-based epoch in progress
    step: int  # 1-based step within the epoch
    steps_per_epoch: int
    global_step: int  # 1-based step over the whole run
    total_steps: int
    losses: dict[str, float]  # this step's loss terms (total, reconstruction, kl, penalty)
    elapsed: float  # seconds since training started (evaluation included)
    images_per_s: float  # training throughput so far (evaluation excluded)
    device: str = "cpu"  # where the model trains: "cpu", "cuda" or "mps"
    lr: float = 0.0  # the learning rate of this step (see `schedule.scheduled_lr`)
    precision: str = "float32"  # of the training products: "float32" or "bfloat16"


class EpochResult(NamedTuple):
    """Yielded after every epoch, once the test set has been evaluated."""

    epoch: int
    train: dict[str, float]  # mean loss terms over the epoch's steps
    test: EvalMetrics
    elapsed: float
    test_codes: Tensor  # (N, latent_dim) posterior means of the test images (of the chosen digits), on the CPU
    device: str = "cpu"  # where the model trains: "cpu", "cuda" or "mps"


class TrainingFinished(NamedTuple):
    """Always the last event. On "diverged" the model holds the last good weights."""

    status: Literal["finished", "stopped", "diverged"]
    epochs_completed: int
    message: str


TrainingEvent = StepProgress | EpochResult | TrainingFinished
