"""Model work on long-lived threads.

Streamlit runs every script run on a new thread, and torch's first matrix product on a new
thread sets up its thread state: measured here, a dense decoder's forward pass took 4.0 ms on
a fresh thread against 0.09 ms on one that had run it before. A click would pay that for every
kind of operation it uses. So the app's model calls run on a small pool of threads that live as
long as the server (set up like the rest: one torch thread each, denormals flushed).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from models.engine import configure_torch

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
