"""The training loop shared by the CLI and the app (pure PyTorch: it knows no file format).

`train(...)` is a generator: it yields a `StepProgress` after every optimiser step, an
`EpochResult` (with test metrics) after every epoch, and finally one `TrainingFinished`
saying whether the run finished, was stopped, or diverged. The caller decides what to do
with them (a tqdm bar, a Streamlit page, a checkpoint per epoch: see `models.training.run`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import torch
from torch import Tensor

from models.evaluation.metrics import compute_metrics
from models.families.base import Autoencoder, LossTerms, ModelOutput
from models.families.losses import corrupt
from models.files.data import Split
from models.text import count_of
from models.training.config import TrainConfig
from models.training.divergence import diverged, divergence_message
from models.training.events import EpochResult, StepProgress, TrainingEvent, TrainingFinished
from models.training.optimiser import FusedAdamStep, make_optimizer
from models.training.runtime import (
    bfloat16_method,
    configure_torch,
    low_precision_products,
    resolve_device,
    resolve_precision,
)
from models.training.schedule import kl_weight, scheduled_lr


def evaluation_splits(train_split: Split, test_split: Split, config: TrainConfig) -> tuple[Split, Split]:
    """The test set and the k-NN reference set a run with `config` is evaluated on (on the CPU).

    Both hold only `config.digits`; the reference is a seeded sample of the training split
    (never limited by `config.subset`).
    """
    train_split, test_split = train_split.with_digits(config.digits), test_split.with_digits(config.digits)
    return test_split, train_split.sample(config.knn_reference, seed=config.seed)


def train(
    model: Autoencoder,
    train_split: Split,
    test_split: Split,
    config: TrainConfig,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[TrainingEvent]:
    """Train `model` in place with Adam, yielding progress events (see module docstring).

    The model is moved to the configured device and stays there. With `config.digits`, the
    training images, the k-NN reference and the test set are those digits only, in their order
    (`test_split.with_digits(config.digits)`): that is what `EpochResult.test_codes` encodes.
    """
    # Set-up: check the settings, choose the device and precision, seed everything.
    config.validate(len(train_split))
    test_split, reference = evaluation_splits(train_split, test_split, config)
    if config.digits is not None:
        train_split = train_split.with_digits(config.digits)
        config.validate(len(train_split))  # the subset and batch size must fit the chosen digits
    device = resolve_device(config.device)
    configure_torch(config.threads, device)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)  # shuffling and subsets, on the CPU
    noise = torch.Generator(device=device).manual_seed(config.seed)  # noise and VAE samples, where the model runs
    images = train_split.images
    if config.subset is not None:
        images = images[torch.randperm(len(images), generator=generator)[: config.subset]]
    images = images.to(device)
    reference, test_split = reference.to(device), test_split.to(device)
    model.to(device)
    objective = model.config.objective
    beta = objective.beta if model.variational else 0.0
    optimizer = make_optimizer(model, config.lr, config.weight_decay)
    optimizer_step = FusedAdamStep(optimizer)  # optimizer.step(), less its per-step bookkeeping
    precision = resolve_precision(config.precision, device, sum(p.numel() for p in model.parameters()))
    bfloat16 = bfloat16_method(model, device) if precision == "bfloat16" else None

    steps_per_epoch = len(images) // config.batch_size
    total_steps = steps_per_epoch * config.epochs
    last_good = _copy_state(model)
    start = time.perf_counter()
    train_seconds = 0.0
    global_step = 0
    first_loss: float | None = None

    for epoch in range(1, config.epochs + 1):
        # One epoch: shuffled batches, a step each.
        model.train()
        sums = torch.zeros(4, dtype=torch.float64)
        order = torch.randperm(len(images), generator=generator).to(device)
        epoch_start = time.perf_counter()
        for step in range(1, steps_per_epoch + 1):
            if should_stop is not None and should_stop():
                yield TrainingFinished("stopped", epoch - 1, f"Stopped by request during epoch {epoch}.")
                return
            lr = scheduled_lr(config, global_step, total_steps)
            for group in optimizer.param_groups:
                group["lr"] = lr
            x = images[order[(step - 1) * config.batch_size : step * config.batch_size]]
            with low_precision_products(bfloat16 == "products"):
                out = _forward(model, corrupt(x, objective, noise), noise, autocast=bfloat16 == "autocast")
                terms = model.loss(x, out, kl_weight(config, beta, global_step, steps_per_epoch) if beta else None)
            values = torch.stack(terms).detach().to("cpu", torch.float64)
            losses = dict(zip(terms._fields, values.tolist(), strict=True))
            first_loss = losses["total"] if first_loss is None else first_loss
            if diverged(losses["total"], first_loss):
                model.load_state_dict(last_good)
                yield TrainingFinished("diverged", epoch - 1, divergence_message(epoch, step, config.lr))
                return
            optimizer.zero_grad(set_to_none=True)
            with low_precision_products(bfloat16 == "products"):
                terms.total.backward()
            optimizer_step()

            global_step += 1
            sums += values
            seen = train_seconds + time.perf_counter() - epoch_start
            yield StepProgress(
                epoch, step, steps_per_epoch, global_step, total_steps, losses, time.perf_counter() - start,
                global_step * config.batch_size / max(seen, 1e-9), device.type, lr, precision,
            )  # fmt: skip
        train_seconds += time.perf_counter() - epoch_start

        # The epoch's evaluation on the test set; the weights it passes are the new rollback point.
        test, test_codes = compute_metrics(model, test_split, reference, k=config.knn_k, seed=config.seed)
        if diverged(test.total, first_loss):
            model.load_state_dict(last_good)
            yield TrainingFinished("diverged", epoch - 1, divergence_message(epoch, None, config.lr))
            return
        last_good = _copy_state(model)
        train_means = dict(zip(LossTerms._fields, (sums / steps_per_epoch).tolist(), strict=True))
        yield EpochResult(epoch, train_means, test, time.perf_counter() - start, test_codes, device.type)

    yield TrainingFinished("finished", config.epochs, f"Trained {count_of(config.epochs, 'epoch')}.")


def _forward(model: Autoencoder, x: Tensor, noise: torch.Generator, autocast: bool) -> ModelOutput:
    """The model's output for a training step. Under autocast the forward pass runs in bfloat16
    and its outputs come back as float32, so the loss (and its sums over the pixels) is float32."""
    if not autocast:
        return model(x, generator=noise)
    with torch.autocast(x.device.type, dtype=torch.bfloat16):
        out = model(x, generator=noise)
    return ModelOutput(*(None if t is None else t.float() for t in out))


def _copy_state(model: Autoencoder) -> dict[str, Tensor]:
    """A copy of the weights, to roll back to (on the model's device)."""
    return {name: value.detach().clone() for name, value in model.state_dict().items()}
