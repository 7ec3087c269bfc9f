"""Who is writing which checkpoint now: a run claims its file's name before it trains.

A claim is a hidden file beside the checkpoint (`.name.safetensors.claim`), made with an exclusive
create, so of two runs that chose the same name at the same moment (two servers sharing a user
folder, two command lines without --out), the second finds it taken: it takes the next free name
or refuses, and no model is silently replaced. The claim says which machine and process holds it;
one left by a process that died (on this machine) is taken over, as is one a day old.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from models.files.store import SUFFIX, CheckpointError

CLAIM_SUFFIX = ".claim"
ABANDONED_SECONDS = 24 * 3600  # a claim by another machine this old: its run is long gone
WRITING_SECONDS = 60.0  # a claim whose holder is not written yet, this young, is being made


class NameClaimed(CheckpointError):
    """Another run is writing a checkpoint of that name now."""


def claim_file(path: Path) -> Path:
    return path.with_name(f".{path.name}{CLAIM_SUFFIX}")


@contextlib.contextmanager
def claimed(path: Path) -> Iterator[Path]:
    """Hold the name of the checkpoint `path` while a run writes it (released when the block ends).
    Raises NameClaimed if another live run holds it."""
    claim = claim_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = _create(claim)
    if handle is None and held(path):
        raise NameClaimed(f"another run is training {path.stem} now; choose another name")
    if handle is None:  # left by a run that is gone: take it over
        claim.unlink(missing_ok=True)
        handle = _create(claim)
        if handle is None:
            raise NameClaimed(f"another run is training {path.stem} now; choose another name")
    with os.fdopen(handle, "w") as file:
        file.write(f"{socket.gethostname()} {os.getpid()}\n")
    try:
        yield path
    finally:
        claim.unlink(missing_ok=True)


def held(path: Path) -> bool:
    """Whether a live run holds the name of the checkpoint `path`."""
    claim = claim_file(path)
    try:
        holder, age = claim.read_text().split(), time.time() - claim.stat().st_mtime
    except FileNotFoundError:
        return False
    except (OSError, UnicodeDecodeError):
        return True  # unreadable: be safe
    if len(holder) != 2 or not holder[1].isdigit():
        return age < WRITING_SECONDS
    host, pid = holder[0], int(holder[1])
    if host == socket.gethostname():
        return _alive(pid)
    return age < ABANDONED_SECONDS


def held_names(folder: Path) -> set[str]:
    """The names (lower case) of the checkpoints live runs are writing into `folder`."""
    claims = folder.glob(f".*{SUFFIX}{CLAIM_SUFFIX}") if folder.is_dir() else []
    paths = (claim.with_name(claim.name[1 : -len(CLAIM_SUFFIX)]) for claim in claims)
    return {path.stem.lower() for path in paths if held(path)}


def clean_abandoned_claims(folder: Path) -> list[Path]:
    """Remove the claims in `folder` that no live run holds (left by a killed process). Returns them."""
    removed = []
    for claim in folder.glob(f".*{SUFFIX}{CLAIM_SUFFIX}") if folder.is_dir() else []:
        if not held(claim.with_name(claim.name[1 : -len(CLAIM_SUFFIX)])):
            with contextlib.suppress(OSError):  # taken over or removed meanwhile
                claim.unlink()
                removed.append(claim)
    return removed


def _create(claim: Path) -> int | None:
    try:
        return os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True
