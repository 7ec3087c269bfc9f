"""A server-wide training queue for the app: one job at a time, first in first out.

Students submit `JobSpec`s from their tabs; what may be queued is `app.jobs.admission`'s to say. A
daemon worker thread, started with the first job, trains them one after another, each in a child
process (`app.jobs.process`), so page reruns never wait on the training's GIL. Pages poll frozen
`JobSnapshot`s, so a page never sees a half-updated job. A stopped, abandoned or diverged job keeps
its last completed epoch; a job that completes no epoch writes nothing.

A job belongs to the tab that submitted it: only that tab (or the teacher) may stop it, only it may
save a copy, and it may replace only checkpoints it saved itself. A tab calls `heartbeat(owner)`
every HEARTBEAT_SECONDS; the jobs of a tab quiet for ABANDON_AFTER are stopped or dropped.
No Streamlit here: pages reach the queue through `get_queue()`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from app.jobs.admission import DEFAULT_LIMITS, JobCost, JobLimits, check_cost, check_folder, check_room, check_share
from app.jobs.names import CheckpointNames, copy_model
from app.jobs.process import run_job_in_subprocess
from app.jobs.runner import JobOrder, JobRunner, SavedEpoch, run_job
from app.jobs.snapshot import JobRecord, JobSnapshot, JobState, ending, failure
from app.jobs.spec import JobSpec, clean_title, normalise_spec
from app.settings import server_settings
from models.files.data import DataUnavailableError
from models.files.store import SHIPPED_DIRS, SUFFIX, safe_checkpoint_name, user_checkpoint_dir
from models.training.budget import machine_rate
from models.training.events import StepProgress
from models.training.replay import REPLAY_SAMPLE, Replay

logger = logging.getLogger(__name__)

# One interval drives them all: pages poll a job (and send their heartbeat) this often, and a
# session silent for ABANDON_HEARTBEATS of them has closed its tab.
HEARTBEAT_SECONDS = 2.0
ABANDON_HEARTBEATS = 60
ABANDON_AFTER = HEARTBEAT_SECONDS * ABANDON_HEARTBEATS  # 2 minutes


class JobQueue:
    """A FIFO of training jobs run one at a time by a daemon worker thread (see module docstring).

    `clock` times heartbeats only (injectable so tests need not sleep); job times are wall-clock.
    `runner` trains a job: in the worker thread (`run_job`, the default) or in a child process
    (`run_job_in_subprocess`, as the app's queue does).
    `data_dir` is the dataset directory (None: the models.files.data default). Ended jobs are kept for
    the last `keep_finished`, their replays in memory for the last `keep_replays` (older ones
    stay on disk, see `replay_path`).
    """

    def __init__(
        self,
        checkpoint_dir: str | os.PathLike[str] | None = None,
        *,
        abandon_after: float = ABANDON_AFTER,
        clock: Callable[[], float] = time.monotonic,
        data_dir: str | os.PathLike[str] | None = None,
        shipped_dirs: Sequence[Path] = SHIPPED_DIRS,
        keep_finished: int = 50,
        keep_replays: int = 10,
        limits: JobLimits = DEFAULT_LIMITS,
        rate: Callable[[], float] = machine_rate,
        replay_size: int = REPLAY_SAMPLE,
        runner: JobRunner = run_job,
    ) -> None:
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else user_checkpoint_dir()
        self.shipped_dirs = tuple(Path(folder) for folder in shipped_dirs)
        self.data_dir = data_dir
        self.abandon_after = abandon_after
        self.keep_finished = keep_finished
        self.keep_replays = keep_replays
        self.limits, self.rate = limits, rate
        self.replay_size = replay_size
        self.runner = runner
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._jobs: dict[str, JobRecord] = {}  # every job still kept, oldest first
        self._waiting: deque[JobRecord] = deque()
        self._running: JobRecord | None = None
        self._done: deque[JobRecord] = deque()  # final jobs, oldest first
        self._last_seen: dict[str, float] = {}  # owner -> clock() of its last heartbeat
        self._names = CheckpointNames(self.checkpoint_dir, self.shipped_dirs)  # under the lock
        self._worker: threading.Thread | None = None
        self._closed = False

    # --- sessions ---------------------------------------------------------------------------

    def validate(self, spec: JobSpec, owner: str) -> tuple[JobSpec, JobCost]:
        """The spec with its name and title normalised, and its estimated cost; ValueError (NameTakenError)
        for the user if it may not be queued (its name, its cost: see app.jobs.admission)."""
        spec = normalise_spec(spec)
        with self._lock:
            self._check_target_locked(spec, owner)
        check_folder(self.checkpoint_dir)
        check_room(spec, self.checkpoint_dir, self.limits)
        return spec, check_cost(spec, self.limits, self.rate())

    def submit(self, spec: JobSpec, owner: str, client: str | None = None) -> JobSnapshot:
        """Validate and queue a job for `owner` (a tab) on `client` (its device; None: the owner's own);
        raises ValueError if it may not be queued."""
        if not owner:
            raise ValueError("a job needs an owner (the session id)")
        spec, _ = self.validate(spec, owner)
        with self._lock:
            if self._closed:
                raise RuntimeError("the training queue has been shut down")
            self._check_target_locked(spec, owner)
            check_share([job.now for job in self._active_locked()], len(self._waiting), client or owner, self.limits)
            job = JobRecord(JobSnapshot(self._new_id_locked(), owner, spec, client or owner))
            self._jobs[job.now.id] = job
            self._waiting.append(job)
            self._last_seen[owner] = self._clock()
            self._start_worker_locked()
            self._wake.notify_all()
            return job.snapshot(len(self._waiting))

    def heartbeat(self, owner: str) -> None:
        """Record that `owner`'s page is still open (call on every poll)."""
        with self._lock:
            self._last_seen[owner] = self._clock()

    def stop(self, job_id: str, by_owner: str, teacher: bool = False) -> bool:
        """Stop a job: a running one after its current step, a queued one at once (never runs).

        Returns True if a stop was requested, False for an unknown or already ended job. Raises
        PermissionError unless `by_owner` submitted the job or the `teacher` asks.
        """
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return False
            if job.now.owner != by_owner and not teacher:
                raise PermissionError("only the tab that submitted a training job, or the teacher, can stop it")
            by_teacher = " by the teacher" if job.now.owner != by_owner else ""
            if job.now.state is JobState.QUEUED:
                self._waiting.remove(job)
                self._close_locked(job, JobState.STOPPED, f"Removed from the queue{by_teacher} before it started.")
                return True
            if job.now.state is JobState.RUNNING:
                job.stop_reason = job.stop_reason or JobState.STOPPED
                job.stopped_by_teacher = bool(by_teacher)
                return True
            return False

    def save_copy(self, job_id: str, by_owner: str, name: str, title: str = "", overwrite: bool = False) -> Path:
        """Save an ended job's checkpoint (and replay) again under another name; returns the new path.

        The name is sanitised and checked like a new job's (never a shipped default, never a
        model saved by another session, an own one only with `overwrite`). The checkpoint is
        loaded and validated, then written atomically with the new title, so a failure leaves
        every existing file as it was.
        """
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise ValueError("that training job is no longer kept; its checkpoint is still in the model picker")
            if job.now.owner != by_owner:
                raise PermissionError("only the session that trained a model can save a copy of it here")
            if job.now.active or job.now.checkpoint is None:
                raise ValueError("a copy can be saved once the job has ended with at least one completed epoch")
            clean = safe_checkpoint_name(name)
            if clean.lower() == job.now.spec.save_name.lower():
                raise ValueError(f"the model is already saved as {clean!r}; type another name")
            self._check_target_locked(replace(job.now.spec, save_name=clean, overwrite=overwrite), by_owner)
            source, source_replay = job.now.checkpoint, job.now.replay_path
        path = copy_model(source, source_replay, self.checkpoint_dir / f"{clean}{SUFFIX}", clean_title(title, clean))
        with self._lock:
            self._names.record(clean, by_owner)
        return path

    # --- reading ----------------------------------------------------------------------------

    def get(self, job_id: str) -> JobSnapshot | None:
        with self._lock:
            self._expire_locked()
            job = self._jobs.get(job_id)
            return job.snapshot(self._position_locked(job)) if job is not None else None

    def jobs_for(self, owner: str) -> list[JobSnapshot]:
        """The owner's kept jobs, oldest first (waiting, running and ended)."""
        with self._lock:
            self._expire_locked()
            return [job.snapshot(self._position_locked(job)) for job in self._jobs.values() if job.now.owner == owner]

    def running(self) -> JobSnapshot | None:
        with self._lock:
            self._expire_locked()
            return self._running.snapshot() if self._running is not None else None

    def waiting(self) -> list[JobSnapshot]:
        """Queued jobs in the order they will run."""
        with self._lock:
            self._expire_locked()
            return [job.snapshot(place) for place, job in enumerate(self._waiting, start=1)]

    def saved_by(self, owner: str) -> set[str]:
        """Lower-case names of the checkpoints this session saved (the only ones it may replace)."""
        with self._lock:
            return self._names.saved_by(owner)

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
                job = self._running = self._waiting.popleft()
                job.update(state=JobState.RUNNING, started=time.time())
            state, message = self._run(job)
            with self._lock:
                self._running = None
                self._close_locked(job, state, message)

    def _run(self, job: JobRecord) -> tuple[JobState, str]:
        """Train one job to its end; returns its final state and message (never raises)."""
        spec = job.now.spec
        try:
            data_dir = None if self.data_dir is None else str(self.data_dir)
            order = JobOrder(job.now.id, spec, self.checkpoint_dir, data_dir, self.replay_size)
            end = self.runner(order, _QueueEvents(self, job))
            return ending(job, end, self.abandon_after)
        except DataUnavailableError as error:  # expected offline: one line in the log, no traceback
            logger.warning("training job %s (%s) cannot start: %s", job.now.id, spec.save_name, error)
            return JobState.FAILED, f"Training could not start: {error}"
        except Exception as error:  # a broken job must not take the worker down with it
            logger.exception("training job %s (%s) failed", job.now.id, spec.save_name)
            return JobState.FAILED, failure(error, job.now)

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

    def _active_locked(self) -> list[JobRecord]:
        return ([self._running] if self._running is not None else []) + list(self._waiting)

    def _position_locked(self, job: JobRecord) -> int | None:
        return self._waiting.index(job) + 1 if job.now.state is JobState.QUEUED else None

    def _check_target_locked(self, spec: JobSpec, owner: str) -> None:
        training = [job.now.spec.save_name for job in self._active_locked()]
        self._names.check(spec.save_name, owner, spec.overwrite, training)

    def _expire_locked(self) -> None:
        """Stop or drop the jobs of sessions that stopped sending heartbeats."""
        now = self._clock()
        quiet = {owner for owner, seen in self._last_seen.items() if now - seen > self.abandon_after}
        if not quiet:
            return
        for job in [job for job in self._waiting if job.now.owner in quiet]:
            self._waiting.remove(job)
            message = f"Abandoned: its page sent no heartbeat for {self.abandon_after:g} s, so it never started."
            self._close_locked(job, JobState.ABANDONED, message)
        running = self._running
        if running is not None and running.now.owner in quiet and running.stop_reason is None:
            running.stop_reason = JobState.ABANDONED
        busy = {job.now.owner for job in self._active_locked()}
        for owner in quiet - busy:
            del self._last_seen[owner]  # gone for good; a new heartbeat brings it back

    def _close_locked(self, job: JobRecord, state: JobState, message: str) -> None:
        """Give a job its final state and keep it among the last `keep_finished`."""
        job.update(state=state, message=message, finished=time.time())
        self._done.append(job)
        while len(self._done) > self.keep_finished:
            del self._jobs[self._done.popleft().now.id]
        for old in list(self._done)[: max(0, len(self._done) - self.keep_replays)]:
            old.update(replay=None)  # bounded memory; the replay stays on disk at replay_path


class _QueueEvents:
    """What the runner reports, written into the job under the queue's lock."""

    def __init__(self, queue: JobQueue, job: JobRecord) -> None:
        self.queue, self.job = queue, job

    def started(self, replay: Replay) -> None:
        with self.queue._lock:
            self.job.update(replay=replay)

    def step(self, progress: StepProgress) -> None:
        with self.queue._lock:
            self.job.update(progress=progress)
            self.job.history.add(progress.global_step, progress.losses)

    def saved(self, epoch: SavedEpoch) -> None:
        with self.queue._lock:
            self.queue._names.record(self.job.now.spec.save_name, self.job.now.owner)
            self.job.update(epochs=(*self.job.now.epochs, epoch.result), replay=epoch.replay,
                            checkpoint=epoch.checkpoint, replay_path=epoch.replay_path)  # fmt: skip

    def should_stop(self) -> bool:
        # Asked by the training loop before every step: the place to notice abandoned sessions.
        with self.queue._lock:
            self.queue._expire_locked()
            return self.job.stop_reason is not None


_QUEUE: JobQueue | None = None
_QUEUE_LOCK = threading.Lock()


def get_queue() -> JobQueue:
    """The process-wide queue, with the server's limits (created on first use; safe from any thread)."""
    global _QUEUE
    with _QUEUE_LOCK:
        if _QUEUE is None:
            settings = server_settings()
            limits = JobLimits(settings.max_job_minutes * 60, settings.max_waiting_jobs, settings.jobs_per_client,
                               settings.memory_share, settings.user_folder_bytes)  # fmt: skip
            _QUEUE = JobQueue(runner=run_job_in_subprocess, limits=limits)
        return _QUEUE
