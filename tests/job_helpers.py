"""Helpers for the training-queue tests: small jobs, and waiting for a job to reach a state."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from app.jobs.queue import JobQueue
from app.jobs.snapshot import JobSnapshot, JobState
from app.jobs.spec import JobSpec
from models.families.config import DenseConfig
from models.training.config import TrainConfig

SMALL = DenseConfig(hidden=(32,))
TINY = TrainConfig(epochs=2, batch_size=64, subset=256, knn_reference=200)  # 4 steps per epoch
ENDLESS = replace(TINY, epochs=10_000)  # stopped by the test after an epoch or more
LONG_EPOCH = TrainConfig(epochs=1, batch_size=2, subset=20_000, knn_reference=200)  # ~10_000 steps: stopped mid-epoch
TIMEOUT = 60.0


def job_spec(name: str, training: TrainConfig = TINY, **changes: object) -> JobSpec:
    fields: dict = {"title": f"Job {name}", **changes}
    return JobSpec("dense_vae", SMALL, training, save_name=name, **fields)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)


def wait_state(queue: JobQueue, job_id: str, *states: JobState) -> JobSnapshot:
    def reached() -> bool:
        view = queue.get(job_id)
        return view is not None and view.state in states

    wait_until(reached, f"job {job_id} to become {'/'.join(s.value for s in states)} (is {queue.get(job_id)})")
    view = queue.get(job_id)
    assert view is not None
    return view


def wait_epochs(queue: JobQueue, job_id: str, count: int) -> None:
    wait_until(lambda: len(queue.get(job_id).epochs) >= count, f"{count} epochs of job {job_id}")  # type: ignore[union-attr]
