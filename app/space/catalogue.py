"""The models the app offers: every usable checkpoint, checked once per file version, and loading them.

Models live in `st.cache_resource` (one copy shared by every session: never mutated, in eval
mode, used under `torch.inference_mode`), keyed by `ModelRef` (path, modification time and
size), so a checkpoint rewritten on disk is picked up.
"""

from __future__ import annotations

import errno
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import streamlit as st

from models.files.checkpoint import (
    CheckpointError,
    CheckpointInfo,
    LoadedCheckpoint,
    inspect_checkpoint,
    load_checkpoint,
)
from models.files.claims import clean_abandoned_claims
from models.files.store import (
    CHECKPOINT_DIR,
    LESSON_DIR,
    SUFFIX,
    clean_stale_temporaries,
    is_shipped,
    list_checkpoints,
    user_checkpoint_dir,
)
from models.training.presets import DEFAULT_PRESET

DEFAULT_MODEL = DEFAULT_PRESET  # the shipped checkpoint the app opens on is the default preset, trained


@dataclass(frozen=True)
class ModelRef:
    """A checkpoint file as a hashable cache key: path plus modification time and size."""

    path: str
    mtime_ns: int
    size: int = 0

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> ModelRef:
        """The file as its folder lists it: a link keeps its own name (never its target's). Raises
        OSError for a link to nothing or in a loop."""
        path = Path(os.path.abspath(path))
        stat = path.stat()  # through a link, to what it points at
        return cls(str(path), stat.st_mtime_ns, stat.st_size)

    @property
    def name(self) -> str:
        """The file's name without its suffix: what links and pickers call it (not unique)."""
        return Path(self.path).stem

    @property
    def key(self) -> str:
        """A name unique to this file, for widget keys: the name of a shipped model, the name and a
        digest of the path for any other (a student's model may have a lesson model's name)."""
        if is_shipped(self.path):
            return self.name
        return f"{self.name}-{hashlib.sha256(self.path.encode()).hexdigest()[:8]}"


class CheckpointEntry(NamedTuple):
    """One model offered by the picker."""

    ref: ModelRef
    info: CheckpointInfo
    shipped: bool  # a default from checkpoints/, as opposed to one trained by a user


class Catalogue(NamedTuple):
    entries: list[CheckpointEntry]
    problems: list[str]  # files that could not be used, each with the reason


class Verdict(NamedTuple):
    """Whether one checkpoint file is usable: its info, or why not."""

    info: CheckpointInfo | None
    problem: str | None


def catalogue() -> Catalogue:
    """All usable checkpoints: shipped defaults first, then the lessons' models grouped by
    lesson, then user-trained ones.

    Every file is fully checked before it is listed (`inspect_checkpoint`), once per
    modification: a file that fails in any way is left out and named in `problems`, so one
    bad file can never take a page down or fail later when it is chosen.
    """
    entries, problems = [], []
    for folder, shipped in ((CHECKPOINT_DIR, True), (LESSON_DIR, True), (user_checkpoint_dir(), False)):
        _clean_once(str(folder))
        for path in list_checkpoints(folder):
            try:
                ref = ModelRef.of(path)
            except OSError as error:
                if path.is_symlink():  # still there: a link to nothing, or in a loop
                    problems.append(f"{path.name} is a link in a loop" if error.errno == errno.ELOOP
                                    else f"{path.name} is a link to nothing")  # fmt: skip
                continue  # otherwise removed since the folder was listed
            verdict = _verdict(ref)
            if verdict.info is not None:
                entries.append(CheckpointEntry(ref, verdict.info, shipped))
            else:
                problems.append(verdict.problem or path.name)
    return Catalogue(grouped_by_lesson(entries), problems)


def grouped_by_lesson(entries: list[CheckpointEntry]) -> list[CheckpointEntry]:
    """Entries in picker order: each lesson's models together, where its first model was listed.

    Models without a lesson keep their place; a lesson's models keep their order (by file name).
    """
    first_place: dict[str, int] = {}
    keys = []
    for place, entry in enumerate(entries):
        group = entry.info.lesson
        keys.append((first_place.setdefault(group, place) if group else place, place))
    return [entry for _, entry in sorted(zip(keys, entries, strict=True), key=lambda pair: pair[0])]


@st.cache_data(max_entries=1024, show_spinner=False)
def _verdict(ref: ModelRef) -> Verdict:
    """The checked info of a file, or the reason it is unusable; cached per path, mtime and size."""
    try:
        return Verdict(inspect_checkpoint(ref.path), None)
    except CheckpointError as error:
        return Verdict(None, str(error))
    except Exception as error:  # anything else about one file must only skip that file
        return Verdict(None, f"{ref.name}{SUFFIX} could not be read ({type(error).__name__})")


@st.cache_resource(show_spinner=False)
def _clean_once(folder: str) -> list[Path]:
    """Remove temporaries and name claims left by killed writes, once per server process and folder."""
    return clean_stale_temporaries(folder) + clean_abandoned_claims(Path(folder))


@st.cache_resource(max_entries=8, show_spinner="Loading the model…")
def load_model(ref: ModelRef) -> LoadedCheckpoint:
    return load_checkpoint(ref.path)


def named(entries: list[CheckpointEntry], name: str) -> CheckpointEntry | None:
    """The model a link names: a shipped one before a student's of the same name; None if none."""
    matches = [entry for entry in entries if entry.ref.name == name]
    return min(matches, key=lambda entry: not entry.shipped, default=None)


def default_entry(entries: list[CheckpointEntry]) -> CheckpointEntry | None:
    """The model the app opens on: the shipped default, else the first one listed."""
    return next((e for e in entries if e.shipped and e.ref.name == DEFAULT_MODEL), entries[0] if entries else None)
