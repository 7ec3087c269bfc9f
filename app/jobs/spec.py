"""What a training job trains (`JobSpec`), and every check that needs no file system.

The queue adds the checks that do (shipped names, names taken); see `app.jobs.queue`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from models.families.registry import MAX_PARAMETERS, config_class, parameter_count
from models.files.data import DEFAULT_DATASET, TRAIN_SIZES
from models.files.store import safe_checkpoint_name
from models.training.config import TrainConfig

MAX_TITLE_LENGTH = 100


class NameTakenError(ValueError):
    """The chosen checkpoint name is in use; `replaceable` if this session may replace that model."""

    def __init__(self, message: str, replaceable: bool = False) -> None:
        super().__init__(message)
        self.replaceable = replaceable


@dataclass(frozen=True)
class JobSpec:
    """What to train; everything a job needs besides its owner."""

    family: str  # registered model family, e.g. "dense_vae"
    config: Any  # the family's DenseConfig / ConvConfig
    training: TrainConfig
    save_name: str  # checkpoint file stem, from safe_checkpoint_name (sanitised again on submit)
    title: str = ""  # name shown in the app; defaults to save_name
    dataset: str = DEFAULT_DATASET
    preset: str | None = None  # preset it was made from, if any
    overwrite: bool = False  # replace an existing user checkpoint of the same name (if this session saved it)


def clean_title(title: str, fallback: str) -> str:
    """A title on one line, without runs of spaces, at most MAX_TITLE_LENGTH long; `fallback` if empty."""
    return " ".join(title.split())[:MAX_TITLE_LENGTH] or fallback


def normalise_spec(spec: JobSpec) -> JobSpec:
    """The spec with a safe name and a clean title, or ValueError with a message for the user."""
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
    return replace(spec, save_name=name, title=clean_title(spec.title, name))
