"""One training job: its state, the snapshot pages see, the record the queue keeps, and how it ended.

`JobSnapshot` is the one definition of what a job is: frozen, replaced (never mutated) by the
queue on every change, so a page always reads a consistent job.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from types import MappingProxyType

from app.jobs.loss_history import LossCurve, LossHistory
from app.jobs.spec import JobSpec
from models.text import describe_error, sentence
from models.training.events import EpochResult, StepProgress, TrainingFinished
from models.training.replay import Replay

EMPTY_CURVE = LossCurve((), MappingProxyType({}), 1)


class JobState(Enum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    DIVERGED = "diverged"
    FAILED = "failed"
    ABANDONED = "abandoned"

    @property
    def active(self) -> bool:
        """Still waiting or training (every other state is final)."""
        return self in (JobState.QUEUED, JobState.RUNNING)


@dataclass(frozen=True)
class JobSnapshot:
    """A consistent, read-only picture of a job (tensors inside are never mutated).

    The queue keeps the current snapshot of every job and replaces it on each change, so this
    is the one definition of what a job is.
    """

    id: str
    owner: str  # the tab that submitted it (its token: see app.shell.session)
    spec: JobSpec
    client: str = ""  # the device it came from: all its tabs share the queue's per-client limit
    state: JobState = JobState.QUEUED
    created: float = field(default_factory=time.time)  # wall-clock times; started/finished None until then
    started: float | None = None
    finished: float | None = None
    position: int | None = None  # 1-based place among waiting jobs; None unless queued
    progress: StepProgress | None = None  # the latest step
    epochs: tuple[EpochResult, ...] = ()  # completed epochs, in order
    curve: LossCurve = EMPTY_CURVE
    replay: Replay | None = None  # None before the job starts, or once dropped from memory (see replay_path)
    message: str = ""  # how it ended (the training loop's message, or the error); "" while active
    checkpoint: Path | None = None  # the saved checkpoint, once an epoch has completed
    replay_path: Path | None = None  # the saved replay (models.training.replay.load_replay), next to the checkpoint
    stopping: bool = False  # a stop was requested; the job ends after the current step

    @property
    def took(self) -> float | None:
        """Seconds from its start to its end (loading the data and saving included); None until it ends."""
        return None if self.started is None or self.finished is None else max(self.finished - self.started, 0.0)

    @property
    def active(self) -> bool:
        return self.state.active

    @property
    def eta(self) -> float | None:
        """Seconds until a running job finishes, if known."""
        return eta_seconds(self.progress) if self.state is JobState.RUNNING else None


class JobRecord:
    """The queue's record of a job: its current snapshot plus what only the queue uses."""

    def __init__(self, snapshot: JobSnapshot) -> None:
        self.now = snapshot
        self.history = LossHistory()
        self.stop_reason: JobState | None = None  # STOPPED or ABANDONED once a stop is requested
        self.stopped_by_teacher = False

    def update(self, **changes: object) -> None:
        self.now = replace(self.now, **changes)

    def snapshot(self, position: int | None = None) -> JobSnapshot:
        stopping = self.stop_reason is not None and self.now.state.active
        return replace(self.now, position=position, curve=self.history.curve(), stopping=stopping)


def eta_seconds(progress: StepProgress | None) -> float | None:
    """Seconds left, extrapolating the run's pace so far (test evaluation included); None if unknown."""
    if progress is None or progress.global_step < 1 or progress.elapsed <= 0:
        return None
    return progress.elapsed / progress.global_step * max(progress.total_steps - progress.global_step, 0)


def saved_note(job: JobSnapshot) -> str:
    """What a job that ended early left behind, as a sentence to append to its message."""
    if job.checkpoint is None:
        progress = job.progress
        completed = 0 if progress is None else progress.epoch - (progress.step < progress.steps_per_epoch)
        return " Nothing was saved." if completed else " Nothing was saved (no epoch was completed)."
    return f" The checkpoint of epoch {len(job.epochs)} is saved as {job.checkpoint.stem}."


def ending(job: JobRecord, end: TrainingFinished, abandon_after: float) -> tuple[JobState, str]:
    """A job's final state and message, from the training loop's last event."""
    if end.status == "finished":
        return JobState.FINISHED, f"{end.message} Saved as {job.now.spec.save_name}."
    if end.status == "diverged":
        return JobState.DIVERGED, end.message + saved_note(job.now)
    if job.stop_reason is JobState.ABANDONED:
        quiet = f"its page sent no heartbeat for {abandon_after:g} s"
        return JobState.ABANDONED, f"Abandoned: {quiet}. {end.message}{saved_note(job.now)}"
    by_teacher = " (by the teacher)" if job.stopped_by_teacher else ""
    return JobState.STOPPED, end.message.replace(" by request", f" by request{by_teacher}") + saved_note(job.now)


def failure(error: Exception, job: JobSnapshot) -> str:
    """The message of a job that failed with `error`."""
    return f"Training failed: {sentence(describe_error(error))}{saved_note(job)}"
