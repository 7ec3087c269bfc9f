"""Training one job: a run's events turned into saved epochs and progress reports.

It knows nothing of queues or sessions. It loads the data, builds the model after seeding, trains
as the CLI does (`models.training.run`: the checkpoint written after every completed epoch), adds
the replay of every epoch, written atomically beside it, and reports everything to a `JobEvents`
the caller supplies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

import torch

from app.jobs.spec import JobSpec
from models.families.registry import get_model
from models.files.claims import claimed
from models.files.data import load_split
from models.files.store import SUFFIX
from models.training.events import EpochResult, StepProgress, TrainingFinished
from models.training.replay import REPLAY_SAMPLE, REPLAY_SUFFIX, Replay, replay_sample, save_replay, snapshot
from models.training.run import CheckpointWritten, run_info, train_and_save

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


@dataclass(frozen=True)
class JobOrder:
    """Everything a runner needs to train one job (plain values: it crosses into a child process)."""

    job_id: str
    spec: JobSpec
    checkpoint_dir: Path  # where the checkpoint and the replay are written
    data_dir: str | None = None  # the dataset directory (None: the models.files.data default)
    replay_size: int = REPLAY_SAMPLE  # test images whose codes the replay records every epoch


class JobRunner(Protocol):
    """Trains one job to its end (`run_job`, or the same in a child process: `app.jobs.process`)."""

    def __call__(self, order: JobOrder, events: JobEvents) -> TrainingFinished: ...


def run_job(order: JobOrder, events: JobEvents) -> TrainingFinished:
    """Train `order.spec` to its end and return the last event of the training loop (finished,
    stopped or diverged). Raises what loading the data or training raises (DataUnavailableError
    when offline).
    """
    spec, data_dir, replay_size = order.spec, order.data_dir, order.replay_size
    train_split = load_split(spec.dataset, train=True, root=data_dir)
    test_split = load_split(spec.dataset, train=False, root=data_dir)
    torch.manual_seed(spec.training.seed)  # reproducible initial weights
    model = get_model(spec.family, spec.config)
    replay, images, digits = replay_sample(test_split.with_digits(spec.training.digits), replay_size)
    replay = replay._replace(frames=(snapshot(model, 0, images, digits),))
    events.started(replay)
    info = run_info(spec.family, spec.config, spec.training, title=spec.title, preset=spec.preset,
                    dataset=spec.dataset, command=APP_COMMAND.format(job_id=order.job_id))  # fmt: skip
    target = order.checkpoint_dir / f"{spec.save_name}{SUFFIX}"
    replay_target = order.checkpoint_dir / f"{spec.save_name}{REPLAY_SUFFIX}"
    with claimed(target):  # another server sharing the folder may have chosen the same name
        run = train_and_save(
            model, info, target, train_split, test_split, spec.training, should_stop=events.should_stop
        )
        for event in run:
            if isinstance(event, StepProgress):
                events.step(event)
            elif isinstance(event, CheckpointWritten):
                result = event.result
                replay = replay._replace(frames=(*replay.frames, snapshot(model, result.epoch, images, digits)))
                events.saved(SavedEpoch(result, replay, event.path, save_replay(replay_target, replay)))
            elif isinstance(event, TrainingFinished):
                return event
    raise RuntimeError("the training loop ended without a TrainingFinished event")
