"""Training one job: the engine's events turned into saved epochs and progress reports.

It knows nothing of queues or sessions. It loads the data, builds the model after seeding,
trains with the shared engine, and after every completed epoch writes the checkpoint and the
replay atomically; everything else goes to a `JobEvents` the caller supplies.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple, Protocol

import torch

from app.job_spec import JobSpec
from models.checkpoint import CheckpointInfo, save_checkpoint
from models.checkpoint_store import SUFFIX
from models.data import load_split
from models.engine import EpochResult, StepProgress, TrainingFinished, train
from models.registry import get_model, parameter_count
from models.replay import REPLAY_SAMPLE, REPLAY_SUFFIX, Replay, replay_sample, save_replay, snapshot

APP_COMMAND = "trained in the latent space explorer app (training queue, job {job_id})"


class SavedEpoch(NamedTuple):
    """What one completed epoch left on disk, and its results."""

    result: EpochResult
    replay: Replay  # every frame so far, this epoch's included
    checkpoint: Path
    replay_path: Path


class JobEvents(Protocol):
    """What a running job reports, and how it is asked to stop (called from the training thread)."""

    def started(self, replay: Replay) -> None: ...  # the replay with the untrained frame (epoch 0)
    def step(self, progress: StepProgress) -> None: ...
    def saved(self, epoch: SavedEpoch) -> None: ...
    def should_stop(self) -> bool: ...


class JobRunner(Protocol):
    """Trains one job to its end (`app.job_runner.run_job`, or the same in a child process)."""

    def __call__(
        self, job_id: str, spec: JobSpec, checkpoint_dir: Path, events: JobEvents,
        data_dir: str | os.PathLike[str] | None, replay_size: int,
    ) -> TrainingFinished: ...  # fmt: skip


def run_job(
    job_id: str,
    spec: JobSpec,
    checkpoint_dir: Path,
    events: JobEvents,
    data_dir: str | os.PathLike[str] | None = None,
    replay_size: int = REPLAY_SAMPLE,
) -> TrainingFinished:
    """Train `spec` to its end and return the engine's last event (finished, stopped or diverged).

    Raises what loading the data or training raises (DataUnavailableError when offline).
    """
    train_split = load_split(spec.dataset, train=True, root=data_dir)
    test_split = load_split(spec.dataset, train=False, root=data_dir)
    torch.manual_seed(spec.training.seed)  # reproducible initial weights
    model = get_model(spec.family, spec.config)
    replay, images, digits = replay_sample(test_split.with_digits(spec.training.digits), replay_size)
    replay = replay._replace(frames=(snapshot(model, 0, images, digits),))
    events.started(replay)
    info = CheckpointInfo(
        model=spec.family,
        config=spec.config,
        title=spec.title,
        preset=spec.preset,
        dataset=spec.dataset,
        training=spec.training.resolved(parameter_count(spec.family, spec.config)).to_dict(),  # as it runs
        command=APP_COMMAND.format(job_id=job_id),
    )
    target = checkpoint_dir / f"{spec.save_name}{SUFFIX}"
    replay_target = checkpoint_dir / f"{spec.save_name}{REPLAY_SUFFIX}"
    for event in train(model, train_split, test_split, spec.training, should_stop=events.should_stop):
        if isinstance(event, StepProgress):
            events.step(event)
        elif isinstance(event, EpochResult):
            replay = replay._replace(frames=(*replay.frames, snapshot(model, event.epoch, images, digits)))
            info = info.after_epoch(event.epoch, event.test, event.test_codes)
            checkpoint = save_checkpoint(target, model, info)
            events.saved(SavedEpoch(event, replay, checkpoint, save_replay(replay_target, replay)))
        elif isinstance(event, TrainingFinished):
            return event
    raise RuntimeError("the training engine ended without a TrainingFinished event")
