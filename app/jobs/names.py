"""Which names a session may save a checkpoint under, who saved which, and saving a copy under another.

Never the name of a model that ships with the app (a lesson's included), never one that another
session saved (or that was there before the server started), and one's own only when asked to
replace it. Names compare case-insensitively, as on the file systems of many laptops.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from app.jobs.spec import NameTakenError
from models.files.checkpoint import load_checkpoint, save_checkpoint
from models.files.claims import held_names
from models.files.store import SUFFIX, atomic_write, list_checkpoints
from models.training.replay import REPLAY_SUFFIX


class CheckpointNames:
    """The naming rules for one user folder (not thread-safe: its owner serialises the calls)."""

    def __init__(self, folder: Path, shipped_dirs: Sequence[Path]) -> None:
        self.folder, self.shipped_dirs = folder, tuple(shipped_dirs)
        self._saved_by: dict[str, str] = {}  # lower-case name -> the session that saved it

    def check(self, name: str, owner: str, replace: bool, in_training: Iterable[str] = ()) -> None:
        """Raise ValueError (NameTakenError when the name is in use) unless `owner` may save as `name`."""
        key = name.lower()
        if any(key in _stems(shipped) for shipped in self.shipped_dirs):
            raise ValueError(f"{name!r} is the name of a model that ships with the app; choose another name")
        if key in _stems(self.folder):
            if self._saved_by.get(key) != owner:
                raise NameTakenError(
                    f"a model named {name!r} was saved by someone else (or before the server restarted), "
                    f"and only the session that saved a model can replace it; choose another name"
                )
            if not replace:
                raise NameTakenError(f"you already saved a model named {name!r}; choose another name or replace it",
                                     replaceable=True)  # fmt: skip
        if key in {other.lower() for other in in_training}:
            raise ValueError(f"a waiting or running job is already training {name!r}; choose another name")
        if key in held_names(self.folder):
            raise NameTakenError(f"another run (on another server, or from the command line) is training {name!r} "
                                 f"now; choose another name")  # fmt: skip

    def record(self, name: str, owner: str) -> None:
        """`owner` has saved a checkpoint as `name`: from now on only it may replace it."""
        self._saved_by[name.lower()] = owner

    def saved_by(self, owner: str) -> set[str]:
        """Lower-case names of the checkpoints `owner` saved."""
        return {name for name, saver in self._saved_by.items() if saver == owner}


def _stems(folder: Path) -> set[str]:
    return {path.stem.lower() for path in list_checkpoints(folder)}


def copy_model(source: Path, source_replay: Path | None, target: Path, title: str) -> Path:
    """Save the checkpoint at `source` again as `target` with a new title, and its replay beside it.

    The checkpoint is loaded and checked first, then written atomically, so a failure leaves every
    existing file as it was."""
    model, info = load_checkpoint(source)
    path = save_checkpoint(target, model, replace(info, title=title, created=""))
    if source_replay is not None and source_replay.is_file():
        atomic_write(target.with_name(target.name.removesuffix(SUFFIX) + REPLAY_SUFFIX), source_replay.read_bytes())
    return path
