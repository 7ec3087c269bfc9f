"""Who may queue what: the limits that keep one student from holding the class's training queue.

A job's cost is estimated before it is queued (`models.training.budget`: its multiply-adds against
this machine's measured rate, and its memory at the peak of a step), so nobody can queue a run of
days or one that would exhaust the machine's memory; a client (a device: all its tabs together) may
have only a few jobs in the queue, and the queue only so many waiting.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.jobs.snapshot import JobSnapshot
from app.jobs.spec import JobSpec
from models.families.base import IMAGE_PIXELS
from models.files.store import check_writable
from models.text import describe_error
from models.training.budget import (
    FLOAT_BYTES,
    describe_bytes,
    describe_seconds,
    memory_available,
    model_shape,
    run_images,
    training_memory,
    training_seconds,
)
from models.training.replay import REPLAY_DIGITS, REPLAY_SAMPLE


@dataclass(frozen=True)
class JobLimits:
    """The queue's limits (the server's owner sets them: see app.settings)."""

    max_seconds: float = 30 * 60  # the longest a job may be estimated to train on this machine
    max_waiting: int = 12  # jobs waiting to train, everyone's together
    per_client: int = 3  # jobs waiting or training of one client (a device: all its tabs together)
    memory_share: float = 0.5  # of the memory available when a job is checked, that it may need
    folder_bytes: int = 2_000_000_000  # what the folder of models trained here may hold


DEFAULT_LIMITS = JobLimits()
METADATA_BYTES = 64_000  # a checkpoint's metadata: its view of the plane, metrics, command


@dataclass(frozen=True)
class JobCost:
    """What a job is estimated to take on this machine."""

    seconds: float
    memory_bytes: int


def job_cost(spec: JobSpec, rate: float) -> JobCost:
    """The estimated time and peak memory of `spec`, at `rate` multiply-adds per second."""
    train, test = run_images(spec.dataset, spec.training)
    shape = model_shape(spec.family, spec.config)
    return JobCost(training_seconds(shape, spec.training, train, test, rate),
                   training_memory(shape, spec.training, train, test))  # fmt: skip


def check_cost(
    spec: JobSpec, limits: JobLimits, rate: float, available: Callable[[], int] = memory_available
) -> JobCost:
    """The cost of `spec`, or ValueError saying which limit it is over and what to change."""
    cost = job_cost(spec, rate)
    if cost.seconds > limits.max_seconds:
        raise ValueError(
            f"this run would train for about {describe_seconds(cost.seconds)} on this server, longer than the "
            f"{describe_seconds(limits.max_seconds)} a job may take here: train fewer epochs, on a subset of the "
            f"images, or a smaller model"
        )
    budget = int(limits.memory_share * available())
    if cost.memory_bytes > budget:
        raise ValueError(
            f"this run would need about {describe_bytes(cost.memory_bytes)} of memory, and a job may use "
            f"{describe_bytes(budget)} on this server now: use a smaller batch size or a smaller model"
        )
    return cost


def saved_bytes(spec: JobSpec) -> int:
    """About what a job leaves in the user folder: its checkpoint (float32 weights and metadata) and its
    replay (the codes of the replay sample and the reconstructions, every epoch and the untrained one)."""
    frames = spec.training.epochs + 1
    replay = REPLAY_SAMPLE * spec.config.latent_dim * FLOAT_BYTES + REPLAY_DIGITS * IMAGE_PIXELS
    return model_shape(spec.family, spec.config).parameters * FLOAT_BYTES + METADATA_BYTES + frames * replay


def check_room(spec: JobSpec, folder: Path, limits: JobLimits) -> None:
    """ValueError if the user folder has no room for what `spec` would save."""
    used, adding = folder_bytes(folder), saved_bytes(spec)
    if used + adding > limits.folder_bytes:
        raise ValueError(
            f"the models trained here take {describe_bytes(used)} of the {describe_bytes(limits.folder_bytes)} this "
            f"server allows, and this run would add about {describe_bytes(adding)}; the teacher can remove old models"
        )


def folder_bytes(folder: Path) -> int:
    """The bytes the files directly in `folder` take (0 if it is not there)."""
    try:
        return sum(entry.stat().st_size for entry in os.scandir(folder) if entry.is_file(follow_symlinks=False))
    except OSError:
        return 0


def check_share(active: Sequence[JobSnapshot], waiting: int, client: str, limits: JobLimits) -> None:
    """ValueError if `client` has its share of the `active` jobs already, or the queue is full."""
    own = sum(job.client == client for job in active)
    if own >= limits.per_client:
        raise ValueError(
            f"this device already has {own} training jobs waiting or running (the limit is {limits.per_client}, "
            f"for all its tabs together); wait for one to finish or stop one first"
        )
    if waiting >= limits.max_waiting:
        raise ValueError(
            f"{waiting} training jobs are waiting already, as many as this server takes; try again when some "
            f"have trained"
        )


def check_folder(folder: Path) -> None:
    """ValueError unless the models trained here can be written into `folder`: found before a job is
    queued, not after its first epoch."""
    try:
        check_writable(folder)
    except OSError as error:
        raise ValueError(f"the folder for models trained here cannot be written ({describe_error(error)}), so "
                         f"nothing could be saved; the teacher can check it") from None  # fmt: skip
