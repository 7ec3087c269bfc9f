"""The training engine shared by the CLI and the app (pure PyTorch: it knows no file format).

`train(...)` is a generator: it yields a `StepProgress` after every optimiser step, an
`EpochResult` (with test metrics) after every epoch, and finally one `TrainingFinished`
saying whether the run finished, was stopped, or diverged. The caller decides what to do
with them (a tqdm bar, a Streamlit page, a checkpoint per epoch).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal, NamedTuple

import torch
from torch import Tensor

from models.base import Autoencoder
from models.data import Split
from models.losses import corrupt
from models.metrics import EvalMetrics, compute_metrics
from models.text import count_of

# A healthy run never climbs far above its first loss; one that does has diverged even if
# the numbers are still finite (e.g. saturated tanh units with a huge learning rate).
EXPLOSION_FACTOR = 1000.0


@dataclass(frozen=True)
class TrainConfig:
    """How to train (the model itself is described by its own config)."""

    epochs: int = 10  # full passes over the (subset of the) training set
    batch_size: int = 128  # images per optimiser step; the last partial batch is dropped
    lr: float = 1e-3  # Adam learning rate
    seed: int = 0  # seeds shuffling, noise, VAE sampling and the k-NN reference sample
    subset: int | None = None  # train on this many randomly chosen images (None: all)
    threads: int = 1  # torch CPU threads; 1 was fastest and steadiest on 2 shared cores
    knn_k: int = 5  # neighbours for the k-NN accuracy of test latents
    knn_reference: int = 10_000  # training images encoded as the k-NN reference set

    def validate(self, train_size: int) -> None:
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


class EpochResult(NamedTuple):
    """Yielded after every epoch, once the test set has been evaluated."""

    epoch: int
    train: dict[str, float]  # mean loss terms over the epoch's steps
    test: EvalMetrics
    elapsed: float
    test_codes: Tensor  # (N, latent_dim) posterior means of the test images after this epoch


class TrainingFinished(NamedTuple):
    """Always the last event. On "diverged" the model holds the last good weights."""

    status: Literal["finished", "stopped", "diverged"]
    epochs_completed: int
    message: str


TrainingEvent = StepProgress | EpochResult | TrainingFinished


def configure_torch(threads: int) -> None:
    """Process-wide CPU settings for training and inference.

    Flushing denormals matters: Adam's second-moment estimates drift into denormal floats
    after a few epochs, and the CPU then slowed a dense-VAE step from 13 ms to 21 ms here.
    """
    torch.set_flush_denormal(True)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def train(
    model: Autoencoder,
    train_split: Split,
    test_split: Split,
    config: TrainConfig,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[TrainingEvent]:
    """Train `model` in place with Adam, yielding progress events (see module docstring)."""
    config.validate(len(train_split))
    configure_torch(config.threads)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    images = train_split.images
    if config.subset is not None:
        images = images[torch.randperm(len(images), generator=generator)[: config.subset]]
    reference = train_split.sample(config.knn_reference, seed=config.seed)
    objective = model.config.objective
    optimizer = make_optimizer(model, config.lr)

    steps_per_epoch = len(images) // config.batch_size
    total_steps = steps_per_epoch * config.epochs
    last_good = copy.deepcopy(model.state_dict())
    start = time.perf_counter()
    train_seconds = 0.0
    global_step = 0
    first_loss: float | None = None

    for epoch in range(1, config.epochs + 1):
        model.train()
        sums = dict.fromkeys(("total", "reconstruction", "kl", "penalty"), 0.0)
        order = torch.randperm(len(images), generator=generator)
        epoch_start = time.perf_counter()
        for step in range(1, steps_per_epoch + 1):
            if should_stop is not None and should_stop():
                yield TrainingFinished("stopped", epoch - 1, f"Stopped by request during epoch {epoch}.")
                return
            x = images[order[(step - 1) * config.batch_size : step * config.batch_size]]
            out = model(corrupt(x, objective, generator), generator=generator)
            terms = model.loss(x, out)
            losses = dict(zip(terms._fields, torch.stack(terms).detach().tolist(), strict=True))
            first_loss = losses["total"] if first_loss is None else first_loss
            if _diverged(losses["total"], first_loss):
                model.load_state_dict(last_good)
                yield TrainingFinished("diverged", epoch - 1, _divergence_message(epoch, step, config))
                return
            optimizer.zero_grad(set_to_none=True)
            terms.total.backward()
            optimizer.step()

            global_step += 1
            for name, value in losses.items():
                sums[name] += value
            seen = train_seconds + time.perf_counter() - epoch_start
            yield StepProgress(
                epoch, step, steps_per_epoch, global_step, total_steps, losses,
                time.perf_counter() - start, global_step * config.batch_size / max(seen, 1e-9),
            )  # fmt: skip
        train_seconds += time.perf_counter() - epoch_start

        test, test_codes = compute_metrics(model, test_split, reference, k=config.knn_k, seed=config.seed)
        if _diverged(test.total, first_loss):
            model.load_state_dict(last_good)
            yield TrainingFinished("diverged", epoch - 1, _divergence_message(epoch, None, config))
            return
        last_good = copy.deepcopy(model.state_dict())
        train_means = {name: value / steps_per_epoch for name, value in sums.items()}
        yield EpochResult(epoch, train_means, test, time.perf_counter() - start, test_codes)

    yield TrainingFinished("finished", config.epochs, f"Trained {count_of(config.epochs, 'epoch')}.")


def make_optimizer(model: Autoencoder, lr: float) -> torch.optim.Optimizer:
    """Adam; the fused kernel (one pass over all parameters) where torch supports it.

    Measured here: fused Adam made a dense-VAE step 1.6x faster on one CPU thread.
    """
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(model.parameters(), lr=lr)


def _diverged(loss: float, first_loss: float | None) -> bool:
    reference = abs(first_loss) if first_loss is not None and math.isfinite(first_loss) else 1.0
    return not math.isfinite(loss) or loss > EXPLOSION_FACTOR * max(reference, 1.0)


def _divergence_message(epoch: int, step: int | None, config: TrainConfig) -> str:
    """What happened and what to try; what was saved is for the caller to say."""
    where = f"step {step} of epoch {epoch}" if step is not None else f"the evaluation after epoch {epoch}"
    rolled_back = f" The model was rolled back to the end of epoch {epoch - 1}." if epoch > 1 else ""
    return (
        f"Training diverged: the loss became NaN, infinite or exploded (over {EXPLOSION_FACTOR:g}x "
        f"its starting value) at {where}.{rolled_back} "
        f"Try a smaller learning rate than {config.lr:g} (1e-3 is a safe start)."
    )
