"""A server-wide training queue for the app: one job at a time, first in first out.

Students submit `JobSpec`s from their browser sessions. A single daemon worker thread, owned
by the `JobQueue` and started with the first job, trains them one after another with the
shared engine (`models.training.train`), because the server may have only two cores. Pages
never train: they poll `JobView`s, frozen copies taken under the queue's lock, so a page
never sees a half-updated job.

Every completed epoch is saved atomically: the checkpoint, and next to it `<name>.replay.npz`
with the latent codes of a fixed test sample after every epoch (epoch 0 = untrained), so the
page can replay how the clusters formed. A stopped, abandoned or diverged job keeps its last
completed epoch; a job that completes no epoch writes nothing.

A job belongs to the session that submitted it: only that session may stop it, and a session
must call `heartbeat(owner)` on every poll. Jobs of a session that stayed quiet for
`abandon_after` seconds are stopped (running) or dropped (queued).

Nothing here imports Streamlit: the page wraps `get_queue()` in `st.cache_resource`.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

from models.base import Autoencoder, eval_mode
from models.checkpoint import (
    CHECKPOINT_DIR,
    SUFFIX,
    CheckpointInfo,
    atomic_write,
    list_checkpoints,
    load_checkpoint,
    safe_checkpoint_name,
    save_checkpoint,
    user_checkpoint_dir,
)
from models.data import TRAIN_SIZES, DataUnavailableError, Split, load_split
from models.registry import MAX_PARAMETERS, config_class, get_model, parameter_count
from models.training import EpochResult, StepProgress, TrainConfig, TrainingFinished, epoch_info, train

logger = logging.getLogger(__name__)

REPLAY_SUFFIX = ".replay.npz"
REPLAY_SAMPLE = 2000  # test images whose codes are recorded after every epoch
REPLAY_SEED = 0  # fixed, so every job replays the same test images
REPLAY_DIGITS = 10  # test digits reconstructed after every epoch (one per class)
ENCODE_BATCH = 500  # keeps a big conv model's activations small while snapshotting
MAX_CURVE_POINTS = 2000
MAX_TITLE_LENGTH = 100
ABANDON_AFTER = 120.0
APP_COMMAND = "trained in the latent space explorer app (training queue, job {job_id})"


class NameTakenError(ValueError):
    """The chosen checkpoint name is in use; `replaceable` if this session may replace that model."""

    def __init__(self, message: str, replaceable: bool = False) -> None:
        super().__init__(message)
        self.replaceable = replaceable


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
class JobSpec:
    """What to train; everything a job needs besides its owner."""

    family: str  # registered model family, e.g. "dense_vae"
    config: Any  # the family's DenseConfig / ConvConfig
    training: TrainConfig
    save_name: str  # checkpoint file stem, from safe_checkpoint_name (sanitised again on submit)
    title: str = ""  # name shown in the app; defaults to save_name
    dataset: str = "mnist"
    preset: str | None = None  # preset it was made from, if any
    overwrite: bool = False  # replace an existing user checkpoint of the same name


class ReplayFrame(NamedTuple):
    """The model's view of the replay sample after one epoch."""

    epoch: int  # 0 = before training
    codes: Tensor  # float32 (S, latent_dim): posterior means of the replay sample
    reconstructions: Tensor  # uint8 (R, 1, 28, 28): reconstructions of the replay digits


class Replay(NamedTuple):
    """How the latent space formed: a fixed test sample, encoded after every epoch."""

    index: Tensor  # int64 (S,): positions of the sample in the test split
    labels: Tensor  # int64 (S,): its labels (stored once)
    digits: Tensor  # uint8 (R, 1, 28, 28): the originals that the frames reconstruct
    digit_labels: Tensor  # int64 (R,)
    frames: tuple[ReplayFrame, ...]  # epoch 0, 1, ... in order


class LossCurve(NamedTuple):
    """Per-step losses, thinned: each point is the mean of `width` consecutive steps."""

    steps: tuple[float, ...]  # x: the mean global step of each point
    losses: Mapping[str, tuple[float, ...]]  # y per loss term (total, reconstruction, kl, penalty)
    width: int


class LossHistory:
    """Accumulates every step's losses into at most `max_points` averaged points.

    When the curve fills up, neighbouring points merge pairwise and the width doubles, so
    every point always averages the same number of steps (the last, partial one aside).
    """

    def __init__(self, max_points: int = MAX_CURVE_POINTS) -> None:
        self.max_points = max(2, max_points - max_points % 2)  # even, so pairs always merge
        self.width = 1
        self._steps: list[float] = []
        self._values: dict[str, list[float]] = {}
        self._pending: list[tuple[int, dict[str, float]]] = []
        self._cached: LossCurve | None = None

    def add(self, step: int, losses: Mapping[str, float]) -> None:
        self._cached = None
        self._pending.append((step, dict(losses)))
        if len(self._pending) == self.width:
            x, values = _mean_point(self._pending)
            self._pending = []
            self._steps.append(x)
            for name, value in values.items():
                self._values.setdefault(name, []).append(value)
            if len(self._steps) >= self.max_points:
                self._merge_pairs()

    def curve(self) -> LossCurve:
        """An immutable copy (cached until the next `add`)."""
        if self._cached is None:
            steps = list(self._steps)
            values = {name: list(series) for name, series in self._values.items()}
            if self._pending:
                x, partial = _mean_point(self._pending)
                steps.append(x)
                for name, value in partial.items():
                    values.setdefault(name, []).append(value)
            frozen = MappingProxyType({name: tuple(series) for name, series in values.items()})
            self._cached = LossCurve(tuple(steps), frozen, self.width)
        return self._cached

    def _merge_pairs(self) -> None:
        self._steps = _pair_means(self._steps)
        self._values = {name: _pair_means(series) for name, series in self._values.items()}
        self.width *= 2


@dataclass(frozen=True)
class JobView:
    """A consistent, read-only snapshot of a job for a page (tensors inside are never mutated)."""

    id: str
    owner: str  # the session that submitted it
    spec: JobSpec
    state: JobState
    created: float  # wall-clock times (time.time()); started/finished are None until then
    started: float | None
    finished: float | None
    position: int | None  # 1-based place among waiting jobs; None unless queued
    progress: StepProgress | None  # the latest step
    epochs: tuple[EpochResult, ...]  # completed epochs, in order
    curve: LossCurve
    replay: Replay | None  # None before the job starts, or once dropped from memory (see replay_path)
    message: str  # how it ended (the engine's message, or the error); "" while active
    checkpoint: Path | None  # the saved checkpoint, once an epoch has completed
    replay_path: Path | None  # the saved replay (load_replay), next to the checkpoint
    stopping: bool  # a stop was requested; the job ends after the current step

    @property
    def active(self) -> bool:
        return self.state.active

    @property
    def eta(self) -> float | None:
        """Seconds until a running job finishes, if known."""
        return eta_seconds(self.progress) if self.state is JobState.RUNNING else None


class Job:
    """One training job. The worker mutates it under the queue's lock; pages read `view()`s."""

    def __init__(self, job_id: str, owner: str, spec: JobSpec) -> None:
        self.id = job_id
        self.owner = owner
        self.spec = spec
        self.state = JobState.QUEUED
        self.created = time.time()
        self.started: float | None = None
        self.finished: float | None = None
        self.progress: StepProgress | None = None
        self.epochs: tuple[EpochResult, ...] = ()
        self.history = LossHistory()
        self.replay: Replay | None = None
        self.message = ""
        self.checkpoint: Path | None = None
        self.replay_path: Path | None = None
        self.stop_reason: JobState | None = None  # STOPPED or ABANDONED once a stop is requested

    def view(self, position: int | None = None) -> JobView:
        """Call with the queue's lock held."""
        return JobView(
            id=self.id,
            owner=self.owner,
            spec=self.spec,
            state=self.state,
            created=self.created,
            started=self.started,
            finished=self.finished,
            position=position,
            progress=self.progress,
            epochs=self.epochs,
            curve=self.history.curve(),
            replay=self.replay,
            message=self.message,
            checkpoint=self.checkpoint,
            replay_path=self.replay_path,
            stopping=self.stop_reason is not None and self.state.active,
        )


class JobQueue:
    """A FIFO of training jobs run one at a time by a daemon worker thread (see module docstring).

    `clock` times heartbeats only (injectable so tests need not sleep); job times are wall-clock.
    `data_dir` is the dataset directory (None: the models.data default). Finished jobs are kept
    for `keep_finished` jobs, their replays in memory for the last `keep_replays` (older ones
    stay on disk, see `replay_path`).
    """

    def __init__(
        self,
        checkpoint_dir: str | os.PathLike[str] | None = None,
        *,
        abandon_after: float = ABANDON_AFTER,
        clock: Callable[[], float] = time.monotonic,
        data_dir: str | os.PathLike[str] | None = None,
        shipped_dir: str | os.PathLike[str] = CHECKPOINT_DIR,
        keep_finished: int = 50,
        keep_replays: int = 10,
        max_active_per_owner: int = 3,
        replay_size: int = REPLAY_SAMPLE,
    ) -> None:
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else user_checkpoint_dir()
        self.shipped_dir = Path(shipped_dir)
        self.data_dir = data_dir
        self.abandon_after = abandon_after
        self.keep_finished = keep_finished
        self.keep_replays = keep_replays
        self.max_active_per_owner = max_active_per_owner
        self.replay_size = replay_size
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._jobs: dict[str, Job] = {}  # every job still kept, oldest first
        self._waiting: deque[Job] = deque()
        self._running: Job | None = None
        self._done: deque[Job] = deque()  # final jobs, oldest first
        self._last_seen: dict[str, float] = {}  # owner -> clock() of its last heartbeat
        self._saved_by: dict[str, str] = {}  # lower-case checkpoint name -> the session that saved it
        self._worker: threading.Thread | None = None
        self._closed = False

    # --- sessions ---------------------------------------------------------------------------

    def validate(self, spec: JobSpec, owner: str) -> JobSpec:
        """The spec with its name and title normalised, or ValueError with a message for the user."""
        spec = normalise_spec(spec)
        with self._lock:
            self._check_target_locked(spec, owner)
        return spec

    def saved_by(self, owner: str) -> set[str]:
        """Lower-case names of the checkpoints this session saved (the only ones it may replace)."""
        with self._lock:
            return {name for name, saver in self._saved_by.items() if saver == owner}

    def submit(self, spec: JobSpec, owner: str) -> JobView:
        """Validate and queue a job for `owner` (a session id); raises ValueError if it cannot run."""
        if not owner:
            raise ValueError("a job needs an owner (the session id)")
        spec = normalise_spec(spec)
        with self._lock:
            if self._closed:
                raise RuntimeError("the training queue has been shut down")
            self._check_target_locked(spec, owner)
            active = sum(job.owner == owner for job in self._active_locked())
            if active >= self.max_active_per_owner:
                raise ValueError(
                    f"you already have {active} training jobs waiting or running; "
                    f"wait for one to finish or stop one first"
                )
            job = Job(self._new_id_locked(), owner, spec)
            self._jobs[job.id] = job
            self._waiting.append(job)
            self._last_seen[owner] = self._clock()
            self._start_worker_locked()
            self._wake.notify_all()
            return job.view(len(self._waiting))

    def heartbeat(self, owner: str) -> None:
        """Record that `owner`'s page is still open (call on every poll)."""
        with self._lock:
            self._last_seen[owner] = self._clock()

    def stop(self, job_id: str, by_owner: str) -> bool:
        """Stop a job: a running one after its current step, a queued one at once (never runs).

        Returns True if a stop was requested, False for an unknown or already ended job.
        Raises PermissionError if `by_owner` did not submit the job.
        """
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return False
            if job.owner != by_owner:
                raise PermissionError("only the session that submitted a training job can stop it")
            if job.state is JobState.QUEUED:
                self._waiting.remove(job)
                self._close_locked(job, JobState.STOPPED, "Removed from the queue before it started.")
                return True
            if job.state is JobState.RUNNING:
                job.stop_reason = job.stop_reason or JobState.STOPPED
                return True
            return False

    def save_copy(self, job_id: str, by_owner: str, name: str, title: str = "", overwrite: bool = False) -> Path:
        """Save an ended job's checkpoint (and replay) again under another name; returns the new path.

        The name is sanitised and checked like a new job's (never a shipped default, never an
        existing model unless `overwrite`). The checkpoint is loaded and validated, then written
        atomically with the new title, so a failure leaves every existing file as it was.
        """
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise ValueError("that training job is no longer kept; its checkpoint is still in the model picker")
            if job.owner != by_owner:
                raise PermissionError("only the session that trained a model can save a copy of it here")
            if job.state.active or job.checkpoint is None:
                raise ValueError("a copy can be saved once the job has ended with at least one completed epoch")
            clean = safe_checkpoint_name(name)
            if clean.lower() == job.spec.save_name.lower():
                raise ValueError(f"the model is already saved as {clean!r}; type another name")
            target = replace(job.spec, save_name=clean, overwrite=overwrite)
            self._check_target_locked(target, by_owner)
            source, source_replay = job.checkpoint, job.replay_path
        model, info = load_checkpoint(source)
        title = " ".join(title.split())[:MAX_TITLE_LENGTH] or clean
        path = save_checkpoint(self.checkpoint_dir / f"{clean}{SUFFIX}", model, replace(info, title=title, created=""))
        with self._lock:
            self._saved_by[clean.lower()] = by_owner
        if source_replay is not None and source_replay.is_file():
            atomic_write(self.checkpoint_dir / f"{clean}{REPLAY_SUFFIX}", source_replay.read_bytes())
        return path

    # --- reading ----------------------------------------------------------------------------

    def get(self, job_id: str) -> JobView | None:
        with self._lock:
            self._expire_locked()
            job = self._jobs.get(job_id)
            return job.view(self._position_locked(job)) if job is not None else None

    def jobs_for(self, owner: str) -> list[JobView]:
        """The owner's kept jobs, oldest first (waiting, running and ended)."""
        with self._lock:
            self._expire_locked()
            return [job.view(self._position_locked(job)) for job in self._jobs.values() if job.owner == owner]

    def running(self) -> JobView | None:
        with self._lock:
            self._expire_locked()
            return self._running.view() if self._running is not None else None

    def waiting(self) -> list[JobView]:
        """Queued jobs in the order they will run."""
        with self._lock:
            self._expire_locked()
            return [job.view(place) for place, job in enumerate(self._waiting, start=1)]

    def position(self, job_id: str) -> int | None:
        """1-based place of a queued job among the waiting ones; None if it is not queued."""
        with self._lock:
            self._expire_locked()
            job = self._jobs.get(job_id)
            return self._position_locked(job) if job is not None else None

    def shutdown(self, timeout: float | None = None) -> None:
        """Drop queued jobs, stop the running one after its step, and end the worker."""
        with self._lock:
            self._closed = True
            while self._waiting:
                self._close_locked(self._waiting.popleft(), JobState.STOPPED, "The training queue was shut down.")
            if self._running is not None:
                self._running.stop_reason = self._running.stop_reason or JobState.STOPPED
            self._wake.notify_all()
            worker = self._worker
        if worker is not None:
            worker.join(timeout)

    # --- the worker -------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._lock:
                self._expire_locked()
                while not self._waiting and not self._closed:
                    self._wake.wait()
                    self._expire_locked()
                if self._closed:
                    return
                job = self._waiting.popleft()
                job.state, job.started, self._running = JobState.RUNNING, time.time(), job
            state, message = self._run(job)
            with self._lock:
                self._running = None
                self._close_locked(job, state, message)

    def _run(self, job: Job) -> tuple[JobState, str]:
        """Train one job to its end; returns its final state and message (never raises)."""
        try:
            return self._train(job)
        except DataUnavailableError as error:  # expected offline: one line in the log, no traceback
            logger.warning("training job %s (%s) cannot start: %s", job.id, job.spec.save_name, error)
            return JobState.FAILED, f"Training could not start: {error}"
        except Exception as error:  # a broken job must not take the worker down with it
            logger.exception("training job %s (%s) failed", job.id, job.spec.save_name)
            return JobState.FAILED, f"Training failed: {_describe(error)}{_saved_note(job)}"

    def _train(self, job: Job) -> tuple[JobState, str]:
        spec = job.spec
        train_split = load_split(spec.dataset, train=True, root=self.data_dir)
        test_split = load_split(spec.dataset, train=False, root=self.data_dir)
        torch.manual_seed(spec.training.seed)  # reproducible initial weights
        model = get_model(spec.family, spec.config)
        replay, images, digits = replay_sample(test_split, self.replay_size)
        replay = replay._replace(frames=(snapshot(model, 0, images, digits),))
        with self._lock:
            job.replay = replay
        info = CheckpointInfo(
            model=spec.family,
            config=spec.config,
            title=spec.title,
            preset=spec.preset,
            dataset=spec.dataset,
            training=asdict(spec.training),
            command=APP_COMMAND.format(job_id=job.id),
        )
        target = self.checkpoint_dir / f"{spec.save_name}{SUFFIX}"
        replay_target = self.checkpoint_dir / f"{spec.save_name}{REPLAY_SUFFIX}"
        for event in train(model, train_split, test_split, spec.training, should_stop=lambda: self._should_stop(job)):
            if isinstance(event, StepProgress):
                with self._lock:
                    job.progress = event
                    job.history.add(event.global_step, event.losses)
            elif isinstance(event, EpochResult):
                replay = replay._replace(frames=(*replay.frames, snapshot(model, event.epoch, images, digits)))
                info = epoch_info(info, model, event, test_split)
                checkpoint = save_checkpoint(target, model, info)
                replay_path = save_replay(replay_target, replay)
                with self._lock:
                    self._saved_by[spec.save_name.lower()] = job.owner
                    job.epochs = (*job.epochs, event)
                    job.replay, job.checkpoint, job.replay_path = replay, checkpoint, replay_path
            elif isinstance(event, TrainingFinished):
                return self._outcome(job, event)
        raise RuntimeError("the training engine ended without a TrainingFinished event")

    def _outcome(self, job: Job, event: TrainingFinished) -> tuple[JobState, str]:
        if event.status == "finished":
            return JobState.FINISHED, f"{event.message} Saved as {job.spec.save_name}."
        if event.status == "diverged":
            return JobState.DIVERGED, event.message + _saved_note(job)
        if job.stop_reason is JobState.ABANDONED:
            quiet = f"its page sent no heartbeat for {self.abandon_after:g} s"
            return JobState.ABANDONED, f"Abandoned: {quiet}. {event.message}{_saved_note(job)}"
        return JobState.STOPPED, event.message + _saved_note(job)

    def _should_stop(self, job: Job) -> bool:
        # Asked by the engine before every step: the place to notice abandoned sessions.
        with self._lock:
            self._expire_locked()
            return job.stop_reason is not None

    # --- bookkeeping (call with the lock held) -----------------------------------------------

    def _start_worker_locked(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name="training-queue", daemon=True)
            self._worker.start()

    def _new_id_locked(self) -> str:
        while True:
            job_id = uuid.uuid4().hex[:8]
            if job_id not in self._jobs:
                return job_id

    def _active_locked(self) -> list[Job]:
        return ([self._running] if self._running is not None else []) + list(self._waiting)

    def _position_locked(self, job: Job) -> int | None:
        return self._waiting.index(job) + 1 if job.state is JobState.QUEUED else None

    def _check_target_locked(self, spec: JobSpec, owner: str) -> None:
        name = spec.save_name
        if name.lower() in {path.stem.lower() for path in list_checkpoints(self.shipped_dir)}:
            raise ValueError(f"{name!r} is the name of a model that ships with the app; choose another name")
        # Case-insensitive, as on the file systems of many laptops.
        if name.lower() in {path.stem.lower() for path in list_checkpoints(self.checkpoint_dir)}:
            if self._saved_by.get(name.lower()) != owner:
                raise NameTakenError(
                    f"a model named {name!r} was saved by someone else (or before the server restarted), "
                    f"and only the session that saved a model can replace it; choose another name"
                )
            if not spec.overwrite:
                raise NameTakenError(
                    f"you already saved a model named {name!r}; choose another name or replace it", replaceable=True
                )
        if any(job.spec.save_name.lower() == name.lower() for job in self._active_locked()):
            raise ValueError(f"a waiting or running job is already training {name!r}; choose another name")

    def _expire_locked(self) -> None:
        """Stop or drop the jobs of sessions that stopped sending heartbeats."""
        now = self._clock()
        quiet = {owner for owner, seen in self._last_seen.items() if now - seen > self.abandon_after}
        if not quiet:
            return
        for job in [job for job in self._waiting if job.owner in quiet]:
            self._waiting.remove(job)
            message = f"Abandoned: its page sent no heartbeat for {self.abandon_after:g} s, so it never started."
            self._close_locked(job, JobState.ABANDONED, message)
        running = self._running
        if running is not None and running.owner in quiet and running.stop_reason is None:
            running.stop_reason = JobState.ABANDONED
        busy = {job.owner for job in self._active_locked()}
        for owner in quiet - busy:
            del self._last_seen[owner]  # gone for good; a new heartbeat brings it back

    def _close_locked(self, job: Job, state: JobState, message: str) -> None:
        """Give a job its final state and keep it among the last `keep_finished`."""
        job.state, job.message, job.finished = state, message, time.time()
        self._done.append(job)
        while len(self._done) > self.keep_finished:
            del self._jobs[self._done.popleft().id]
        for old in list(self._done)[: max(0, len(self._done) - self.keep_replays)]:
            old.replay = None  # bounded memory; the replay stays on disk at old.replay_path


def normalise_spec(spec: JobSpec) -> JobSpec:
    """Check everything that does not need the file system; ValueError with a user-facing message."""
    try:
        expected = config_class(spec.family)
    except ValueError as error:
        raise ValueError(str(error)) from None
    if not isinstance(spec.config, expected):
        raise ValueError(f"model {spec.family!r} takes a {expected.__name__}, got {type(spec.config).__name__}")
    try:
        spec.config.validate()
        count = parameter_count(spec.family, spec.config)
    except (ValueError, TypeError) as error:
        raise ValueError(f"invalid model settings: {error}") from None
    if count > MAX_PARAMETERS:
        raise ValueError(f"this model would have {count:,} parameters, over the limit of {MAX_PARAMETERS:,}: "
                         f"make it smaller")  # fmt: skip
    if spec.dataset not in TRAIN_SIZES:
        raise ValueError(f"unknown dataset {spec.dataset!r}; choose from {', '.join(TRAIN_SIZES)}")
    try:
        spec.training.validate(TRAIN_SIZES[spec.dataset])
    except (ValueError, TypeError) as error:
        raise ValueError(f"invalid training settings: {error}") from None
    name = safe_checkpoint_name(spec.save_name)  # a CheckpointError is a ValueError
    title = " ".join(spec.title.split())[:MAX_TITLE_LENGTH] or name
    return replace(spec, save_name=name, title=title)


def eta_seconds(progress: StepProgress | None) -> float | None:
    """Seconds left, extrapolating the run's pace so far (test evaluation included); None if unknown."""
    if progress is None or progress.global_step < 1 or progress.elapsed <= 0:
        return None
    return progress.elapsed / progress.global_step * max(progress.total_steps - progress.global_step, 0)


def replay_sample(test: Split, size: int = REPLAY_SAMPLE) -> tuple[Replay, Tensor, Tensor]:
    """The fixed replay sample of a test split: (Replay without frames, its images, the digit images)."""
    index = torch.randperm(len(test), generator=torch.Generator().manual_seed(REPLAY_SEED))[:size]
    digit_index = _one_per_class(test.labels, REPLAY_DIGITS)
    digit_images = test.images[digit_index]
    replay = Replay(index, test.labels[index], _to_uint8(digit_images), test.labels[digit_index], ())
    return replay, test.images[index], digit_images


def snapshot(model: Autoencoder, epoch: int, images: Tensor, digits: Tensor) -> ReplayFrame:
    """Codes (posterior means) of `images` and reconstructions of `digits`, in eval mode."""
    with torch.inference_mode(), eval_mode(model):
        codes = torch.cat([model.encode(images[i : i + ENCODE_BATCH]) for i in range(0, len(images), ENCODE_BATCH)])
        reconstructions = _to_uint8(model.decode(model.encode(digits)))
    # Clone outside inference mode: pages may then use the tensors freely (e.g. in place).
    return ReplayFrame(epoch, codes.float().clone(), reconstructions.clone())


def save_replay(path: str | os.PathLike[str], replay: Replay) -> Path:
    """Atomically write a replay as .npz (temporary file + rename), like the checkpoints."""
    path = Path(path)
    arrays = {
        "index": replay.index.numpy(),
        "labels": replay.labels.numpy(),
        "digits": replay.digits.numpy(),
        "digit_labels": replay.digit_labels.numpy(),
        "epochs": np.array([frame.epoch for frame in replay.frames], dtype=np.int64),
        "codes": np.stack([frame.codes.numpy() for frame in replay.frames]),  # (E, S, latent_dim)
        "reconstructions": np.stack([frame.reconstructions.numpy() for frame in replay.frames]),  # (E, R, 1, 28, 28)
    }
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return atomic_write(path, buffer.getvalue())


def load_replay(path: str | os.PathLike[str]) -> Replay:
    """Read a replay written by `save_replay` (no pickles); ValueError if it is not one."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: torch.from_numpy(data[name].copy()) for name in data.files}
        series = zip(arrays["epochs"], arrays["codes"], arrays["reconstructions"], strict=True)
        frames = tuple(ReplayFrame(int(epoch), codes, reconstructions) for epoch, codes, reconstructions in series)
        return Replay(arrays["index"], arrays["labels"], arrays["digits"], arrays["digit_labels"], frames)
    except (OSError, KeyError, ValueError) as error:
        raise ValueError(f"{path.name} is not a usable replay file: {error}") from None


_QUEUE: JobQueue | None = None
_QUEUE_LOCK = threading.Lock()


def get_queue() -> JobQueue:
    """The process-wide queue (created on first use; safe to call from any thread)."""
    global _QUEUE
    with _QUEUE_LOCK:
        if _QUEUE is None:
            _QUEUE = JobQueue()
        return _QUEUE


def _saved_note(job: Job) -> str:
    if job.checkpoint is None:
        return " Nothing was saved (no epoch was completed)."
    return f" The checkpoint of epoch {len(job.epochs)} is saved as {job.checkpoint.stem}."


def _describe(error: Exception) -> str:
    # Our own errors already read as sentences; anything else also needs its type to make sense.
    if isinstance(error, (DataUnavailableError, ValueError)) and str(error):
        return str(error)
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _mean_point(points: list[tuple[int, dict[str, float]]]) -> tuple[float, dict[str, float]]:
    count = len(points)
    x = sum(step for step, _ in points) / count
    names = points[0][1].keys()
    return x, {name: sum(losses[name] for _, losses in points) / count for name in names}


def _pair_means(values: list[float]) -> list[float]:
    return [(a + b) / 2 for a, b in zip(values[::2], values[1::2], strict=True)]


def _one_per_class(labels: Tensor, count: int) -> Tensor:
    """The first example of each class (in class order), topped up with the earliest others."""
    chosen = [int((labels == label).nonzero()[0]) for label in labels.unique().tolist()[:count]]
    for i in range(len(labels)):
        if len(chosen) >= count:
            break
        if i not in chosen:
            chosen.append(i)
    return torch.tensor(chosen, dtype=torch.int64)


def _to_uint8(images: Tensor) -> Tensor:
    return images.mul(255).round().clamp(0, 255).to(torch.uint8)
