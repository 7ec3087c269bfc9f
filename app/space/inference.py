"""The model calls of the pages (decode, encode, reconstruct), run on long-lived threads.

Streamlit runs every script run on a new thread, and torch's first matrix product on a new thread
sets up its thread state, many times slower than the product itself (figures in
docs/performance.md). A click would pay that for every kind of operation it uses. So the app's
model calls run on a small pool of threads that live as long as the server (set up like the rest:
one torch thread each, denormals flushed).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

import numpy as np
import torch

from app.space.catalogue import ModelRef, load_model
from models.files.images import to_uint8
from models.training.runtime import configure_torch

THREAD_PREFIX = "inference"
WORKERS = 2  # two sessions can decode at once; more would only share the same two cores

P = ParamSpec("P")
R = TypeVar("R")

_pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix=THREAD_PREFIX,
                           initializer=configure_torch, initargs=(1,))  # fmt: skip


def on_inference_thread(function: Callable[P, R]) -> Callable[P, R]:
    """Run `function` on the pool (directly when already there). It must not call Streamlit:
    the pool's threads belong to no script run."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if threading.current_thread().name.startswith(THREAD_PREFIX):
            return function(*args, **kwargs)
        return _pool.submit(function, *args, **kwargs).result()

    return run


@on_inference_thread
@torch.inference_mode()
def decode_codes(ref: ModelRef, codes: torch.Tensor | np.ndarray) -> torch.Tensor:
    """uint8 images (N, 1, 28, 28) for latent codes (N, latent_dim)."""
    model = load_model(ref).model
    return to_uint8(model.decode(torch.as_tensor(np.asarray(codes), dtype=torch.float32)))


@on_inference_thread
@torch.inference_mode()
def encode_distribution(ref: ModelRef, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The posterior mean (N, latent_dim) of images (N, 1, 28, 28), and its log-variance for a VAE."""
    return load_model(ref).model.encode_distribution(images)


@on_inference_thread
@torch.inference_mode()
def reconstruct(ref: ModelRef, images: torch.Tensor) -> torch.Tensor:
    """uint8 reconstructions decode(encode(x)) of float images (N, 1, 28, 28)."""
    model = load_model(ref).model
    return to_uint8(model.decode(model.encode(images)))
