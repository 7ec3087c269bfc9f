"""What a run or an encoding will cost before it starts: time on this machine, and memory.

A model's shape is measured on the meta device (nothing is allocated): its weights, its
multiply-adds per image and the activations a forward pass produces per image. The machine's rate
is measured once per process, by a few real training steps of a small model, so an estimate is in
this machine's seconds. Estimates are meant to tell a run of minutes from one of days, and a model
that fits from one that would exhaust the memory; they are not timings.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from models.evaluation.metrics import EVAL_BATCH
from models.families.base import IMAGE_PIXELS, IMAGE_SHAPE
from models.families.config import DenseConfig
from models.families.registry import get_model
from models.files.data import TEST_SIZES, TRAIN_SIZES
from models.training.config import DIGITS, TrainConfig

FLOAT_BYTES = 4
TRAINING_PASSES = 3  # a training step: the forward pass, and a backward pass of about twice its work
STATE_PER_WEIGHT = 4  # the weight, its gradient and Adam's two moments
KEPT_IN_TRAINING = 1.5  # of a step's activations alive at once: those kept for the backward pass, and gradients
ALIVE_IN_INFERENCE = 4  # of the widest layer's output alive at once: its input, output and temporaries
RUNTIME_BYTES = 200_000_000  # torch's own working memory in a process that trains
EVALUATION_PASSES = 2  # the test set's forward pass, and the decoder again on the means
RATE_PROBE = ("dense_ae", DenseConfig(hidden=(512, 256)), 128, 8)  # family, config, batch, steps


@dataclass(frozen=True)
class ModelShape:
    """How big a model is, per image."""

    parameters: int  # numbers in its state (weights and batch-norm statistics)
    multiply_adds: int  # of one forward pass of one image
    activations: int  # numbers all its layers produce in that pass
    widest: int  # the most numbers one layer produces (with its input: the peak of inference)


@functools.lru_cache(maxsize=64)
def model_shape(family: str, config: Any) -> ModelShape:
    """The shape of a model of `family` with `config`, measured without allocating it."""
    sizes: list[int] = []
    with torch.device("meta"):
        model = get_model(family, config).eval()  # batch norm takes a batch of one in eval mode
        leaves = [module for module in model.modules() if not list(module.children())]
        hooks = [leaf.register_forward_hook(lambda _m, _i, out: sizes.append(out.numel())) for leaf in leaves]
        with FlopCounterMode(display=False) as counter:
            model(torch.empty(1, *IMAGE_SHAPE), sample=False)
    for hook in hooks:
        hook.remove()
    parameters = sum(value.numel() for value in model.state_dict().values())
    return ModelShape(parameters, counter.get_total_flops() // 2, sum(sizes), max(sizes, default=IMAGE_PIXELS))


def run_images(dataset: str, config: TrainConfig) -> tuple[int, int]:
    """About how many training and test images a run of `config` on `dataset` has (its digits are
    about equally common; known without loading the data)."""
    share = len(config.digits or DIGITS) / len(DIGITS)
    return round(TRAIN_SIZES[dataset] * share), round(TEST_SIZES[dataset] * share)


def training_seconds(shape: ModelShape, config: TrainConfig, train_images: int, test_images: int, rate: float) -> float:
    """How long a run of `config` takes at `rate` multiply-adds per second, its subset and digits
    already applied to `train_images` and `test_images`: its steps and its evaluations."""
    trained = (config.subset or train_images) // config.batch_size * config.batch_size
    evaluated = EVALUATION_PASSES * test_images + min(config.knn_reference, train_images)
    return shape.multiply_adds * (TRAINING_PASSES * trained + evaluated) * config.epochs / rate


def training_memory(shape: ModelShape, config: TrainConfig, train_images: int, test_images: int) -> int:
    """Bytes at the peak of a run of `config`: the data sets, the weights with their gradients and
    Adam's state, and the activations of a training step or of an evaluation batch."""
    data = (train_images + test_images) * IMAGE_PIXELS * FLOAT_BYTES
    step = KEPT_IN_TRAINING * shape.activations * config.batch_size
    evaluation = ALIVE_IN_INFERENCE * shape.widest * EVAL_BATCH
    return int(RUNTIME_BYTES + data + (STATE_PER_WEIGHT * shape.parameters + max(step, evaluation)) * FLOAT_BYTES)


def encoding_batch(shape: ModelShape, budget_bytes: int, largest: int = EVAL_BATCH) -> int:
    """How many images to encode at once so that what a forward pass keeps alive fits `budget_bytes`
    (at least 1, at most `largest`)."""
    per_image = ALIVE_IN_INFERENCE * shape.widest * FLOAT_BYTES
    return max(1, min(largest, budget_bytes // per_image))


def memory_available() -> int:
    """Bytes of memory this machine can give a new task now (Linux's MemAvailable, else all of it)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


@functools.cache
def machine_rate() -> float:
    """Multiply-adds per second this machine trains at on one thread, from a few real training steps
    of a small dense model (measured once per process, in a fraction of a second)."""
    family, config, batch, steps = RATE_PROBE
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        generator = torch.Generator().manual_seed(0)
        model = get_model(family, config)
        optimizer = torch.optim.Adam(model.parameters())
        images = torch.rand(batch, *IMAGE_SHAPE, generator=generator)
        timings = []
        for _ in range(steps):
            start = time.perf_counter()
            loss = model.loss(images, model(images)).total
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            timings.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
    best = sorted(timings)[len(timings) // 4]  # the first steps set up the kernels; noise only slows
    return TRAINING_PASSES * model_shape(family, config).multiply_adds * batch / best


def describe_seconds(seconds: float) -> str:
    """A duration for people: "45 s", "12 min 05 s", "3 h 20 min" past 90 minutes, "2 d 4 h" past 48 hours."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 90 * 60:
        return f"{whole // 60} min {whole % 60:02d} s"
    if whole < 48 * 3600:
        return f"{whole // 3600} h {whole % 3600 // 60:02d} min"
    return f"{whole // 86400} d {whole % 86400 // 3600} h"


def describe_bytes(count: int) -> str:
    """A size for people: "850 MB", "13.2 GB", "1.4 TB"."""
    for unit, size in (("TB", 1e12), ("GB", 1e9)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count / 1e6:.0f} MB"
