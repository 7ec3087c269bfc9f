"""Where checkpoint files live and how they are written: folders, safe names, atomic writes, cleanup.

Shipped models sit directly in `checkpoints/`; models trained by users go to the user folder
(`checkpoints/user/`, or `$LATENT_USER_CHECKPOINTS`). Every write is atomic (a temporary file,
then a rename), and temporaries left behind by killed writes are removed later.
"""

from __future__ import annotations

import itertools
import os
import re
import tempfile
import time
import unicodedata
from collections.abc import Collection
from pathlib import Path

SUFFIX = ".safetensors"
CHECKPOINT_DIR = Path(__file__).resolve().parents[2] / "checkpoints"  # shipped defaults
LESSON_DIR = CHECKPOINT_DIR / "lessons"  # shipped small models for the lessons, grouped by their `lesson`
SHIPPED_DIRS = (CHECKPOINT_DIR, LESSON_DIR)
USER_DIR_ENV = "LATENT_USER_CHECKPOINTS"
MAX_NAME_LENGTH = 64
STALE_TEMPORARY_SECONDS = 60.0  # a temporary file this old is left over from a killed write


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used; the message says why."""


def safe_checkpoint_name(name: str) -> str:
    """A file-name stem from user text: letters, digits, '-', '_' only; never a path.

    Raises CheckpointError if nothing usable is left.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()  # café -> cafe
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", ascii_name.strip()).strip("_-")[:MAX_NAME_LENGTH].rstrip("_-")
    if not stem:
        raise CheckpointError(f"{name!r} is not usable as a checkpoint name: use letters, digits, '-' or '_'")
    return stem


def atomic_write(path: Path, payload: bytes) -> Path:
    """Write bytes to a temporary file beside `path`, fsync, then rename over it.

    Readers see either the old file or the new one, never a partial write; on any
    failure the old file is untouched and the temporary file is removed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; these are ordinary readable files
        with os.fdopen(handle, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def first_free_name(folder: Path, name: str, *, after: bool = False, avoid: Collection[str] = ()) -> str:
    """`name`, else `name_2`, `name_3`, ...: the first that no checkpoint in `folder` has and that is
    not in `avoid` (lower case: names compare as on many laptops' file systems). With `after`, the
    first numbered one other than `name` itself, counting from the base of a numbered name (after
    `my_vae_2`: `my_vae_3`, if free): what to suggest after `name` has been used."""
    base = re.sub(r"_\d+$", "", name) if after else name
    numbered = (f"{base}_{number}" for number in itertools.count(2))
    candidates = numbered if after else itertools.chain([name], numbered)
    taken = {name.lower()} if after else set()
    taken |= {other.lower() for other in avoid}
    return next(c for c in candidates if c.lower() not in taken and not (folder / f"{c}{SUFFIX}").exists())


def shipped_names() -> set[str]:
    """The names (lower case) of every model that ships with the app, the lessons' included."""
    return {path.stem.lower() for folder in SHIPPED_DIRS for path in list_checkpoints(folder)}


def check_writable(folder: Path) -> None:
    """Raise OSError unless a checkpoint can be written into `folder` (made if missing): found before
    a run trains, not after its first epoch."""
    folder.mkdir(parents=True, exist_ok=True)
    handle, probe = tempfile.mkstemp(prefix=".write-probe.", suffix=".tmp", dir=folder)  # cleaned like a temporary
    os.close(handle)
    os.unlink(probe)


def user_checkpoint_dir() -> Path:
    """Where models trained by users are saved: $LATENT_USER_CHECKPOINTS, else checkpoints/user."""
    env = os.environ.get(USER_DIR_ENV)
    return Path(env).expanduser().resolve() if env else CHECKPOINT_DIR / "user"


def list_checkpoints(folder: str | os.PathLike[str] = CHECKPOINT_DIR) -> list[Path]:
    """The .safetensors files in a folder, sorted by name (no validation; hidden files skipped)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.glob(f"*{SUFFIX}") if not path.name.startswith("."))


def is_shipped(path: str | os.PathLike[str]) -> bool:
    """Whether `path` names a model that ships with the app (a file directly in checkpoints/ or
    checkpoints/lessons/).

    Both readings of the path count: the lexical one (`user/../x`, even where `user` does
    not exist yet) and the one through symbolic links.
    """
    shipped_dirs = {folder.resolve() for folder in SHIPPED_DIRS}
    candidates = (Path(os.path.abspath(path)), Path(path).resolve())
    return any(candidate.parent in shipped_dirs and candidate.suffix == SUFFIX for candidate in candidates)


def clean_stale_temporaries(folder: str | os.PathLike[str], older_than: float = STALE_TEMPORARY_SECONDS) -> list[Path]:
    """Remove what killed writes left behind: `atomic_write`'s hidden temporaries older than
    `older_than` seconds (a live write lasts milliseconds). Returns the files removed."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    now = time.time()
    for path in folder.glob(".*.tmp"):
        try:
            if path.is_file() and now - path.stat().st_mtime > older_than:
                path.unlink()
                removed.append(path)
        except OSError:
            continue  # vanished meanwhile, or not ours to remove: leave it
    return removed
