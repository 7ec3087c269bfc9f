"""Shared fixtures: real MNIST from the configured data directory, offline-download guard, and
training queues that shut down after the test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.error import URLError

import pytest

from app.jobs.queue import JobQueue
from models.files.data import DataUnavailableError, Split, load_split

QUEUE_SHUTDOWN_SECONDS = 120.0  # a job in a child process may be importing torch when the test ends


def _load_or_skip(train: bool) -> Split:
    try:
        return load_split("mnist", train=train)
    except DataUnavailableError as error:
        # Never silently skip in CI: there the data directory must be configured.
        if os.environ.get("CI"):
            pytest.fail(str(error))
        pytest.skip(str(error))


@pytest.fixture(scope="session")
def mnist_test() -> Split:
    return _load_or_skip(train=False)


@pytest.fixture(scope="session")
def mnist_train() -> Split:
    return _load_or_skip(train=True)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every dataset download fail as it does without a network."""
    from models.files import data

    def refuse(*args: object, **kwargs: object) -> bytes:
        raise URLError(OSError(101, "Network is unreachable"))

    monkeypatch.setattr(data, "_fetch", refuse)


class FakeClock:
    """Heartbeat time that only moves when a test moves it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def make_queue(tmp_path: Path, mnist_train: Split, mnist_test: Split) -> Iterator[Callable[..., JobQueue]]:
    """Queues saving into tmp_path, shut down after the test (MNIST loaded first, or skipped)."""
    queues: list[JobQueue] = []

    def make(**kwargs: object) -> JobQueue:
        kwargs.setdefault("clock", FakeClock())
        queue = JobQueue(tmp_path / "user", **kwargs)  # type: ignore[arg-type]
        queues.append(queue)
        return queue

    yield make
    for queue in queues:
        queue.shutdown(timeout=QUEUE_SHUTDOWN_SECONDS)
