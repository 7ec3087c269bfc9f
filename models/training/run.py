"""A training run that keeps its checkpoint: the loop's events, with the checkpoint written after every epoch.

The CLI (`python -m models.train`) and the app's training jobs both train this way: the metadata
of the new checkpoint is built once (`run_info`), and every completed epoch is written atomically
over the last, so an interrupted or diverging run keeps its last good epoch.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from models.evaluation.metrics import EvalMetrics, compute_metrics
from models.families.base import Autoencoder
from models.families.registry import parameter_count
from models.files.checkpoint import CheckpointInfo, save_checkpoint
from models.files.data import Split
from models.training.config import TrainConfig
from models.training.events import EpochResult, StepProgress, TrainingFinished
from models.training.loop import evaluation_splits, train


class CheckpointWritten(NamedTuple):
    """An epoch completed and written: its results (with the metrics of the weights as stored)."""

    result: EpochResult
    path: Path
    unrounded: EvalMetrics | None = None  # with `half`: the metrics of the float32 weights before rounding


RunEvent = StepProgress | CheckpointWritten | TrainingFinished


def run_info(
    family: str, config: Any, training: TrainConfig, *, title: str, command: str, dataset: str,
    preset: str | None = None, lesson: str = "", description: str = "",
) -> CheckpointInfo:  # fmt: skip
    """The metadata of a new run's checkpoint, its training settings as they will run (each "auto"
    resolved for this machine and this model)."""
    resolved = training.resolved(parameter_count(family, config))
    return CheckpointInfo(
        model=family, config=config, title=title, preset=preset, dataset=dataset, training=resolved.to_dict(),
        command=command, lesson=lesson, description=description,
    )  # fmt: skip


def train_and_save(
    model: Autoencoder,
    info: CheckpointInfo,
    target: Path,
    train_split: Split,
    test_split: Split,
    config: TrainConfig,
    *,
    half: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[RunEvent]:
    """Train `model` (see `models.training.loop.train`), writing the checkpoint to `target` after
    every epoch. Yields the loop's `StepProgress` and `TrainingFinished` events, and a
    `CheckpointWritten` in place of each `EpochResult`.

    With `half` the weights are stored in float16 and the stored metrics are those of the rounded
    weights (evaluated again), so a fresh evaluation of the file agrees with them.
    """
    evaluation = evaluation_splits(train_split, test_split, config) if half else None
    for event in train(model, train_split, test_split, config, should_stop=should_stop):
        if not isinstance(event, EpochResult):
            yield event
            continue
        stored: Autoencoder = model
        unrounded = None
        if evaluation is not None:
            stored = copy.deepcopy(model).half().float()
            test, reference = evaluation
            metrics, codes = compute_metrics(stored, test, reference, k=config.knn_k, seed=config.seed)
            unrounded, event = event.test, event._replace(test=metrics, test_codes=codes)
        info = info.after_epoch(event.epoch, event.test.to_dict(), event.test_codes)
        yield CheckpointWritten(event, save_checkpoint(target, stored, info, half=half), unrounded)
