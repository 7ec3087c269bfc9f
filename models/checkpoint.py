"""Checkpoints: one safetensors file holding the weights and the metadata to rebuild the model.

Only safetensors is read (never a pickle), every write is atomic (temporary file + rename),
and loading validates the file before any weight reaches a model. Problems surface as a
`CheckpointError` whose message names the file and what is wrong with it.
"""

from __future__ import annotations

import json
import os
import re
import struct
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from safetensors.torch import save as safetensors_bytes

from models.base import Autoencoder
from models.config import config_from_dict, config_to_dict
from models.registry import config_class, get_model

FORMAT_NAME = "latent-explorer-checkpoint"
FORMAT_VERSION = 1
SUFFIX = ".safetensors"
CHECKPOINT_DIR = Path(__file__).resolve().parent.parent / "checkpoints"  # shipped defaults
USER_DIR_ENV = "LATENT_USER_CHECKPOINTS"
MAX_HEADER_BYTES = 16 * 1024 * 1024  # safetensors headers are tiny; bigger means garbage
MAX_NAME_LENGTH = 64


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used; the message says why."""


@dataclass(frozen=True)
class CheckpointInfo:
    """Everything stored next to the weights."""

    model: str  # registered model family, e.g. "dense_vae"
    config: Any  # the family's config dataclass
    title: str = ""  # human-readable name shown in the app
    preset: str | None = None  # preset it was made from, if any
    dataset: str = "mnist"
    epochs: int = 0  # completed training epochs
    metrics: dict[str, float | None] = field(default_factory=dict)  # test metrics (EvalMetrics.to_dict())
    training: dict[str, Any] = field(default_factory=dict)  # the TrainConfig used, as a dict
    command: str = ""  # the command that produced it, for reproducibility
    view: dict[str, Any] = field(default_factory=dict)  # latent.PlotView of the test codes ({} if unknown)
    created: str = ""  # ISO 8601 UTC time of writing
    format_version: int = FORMAT_VERSION

    def to_metadata(self) -> dict[str, str]:
        """safetensors metadata is str -> str: one JSON document under "info"."""
        data = asdict(self)
        data["config"] = config_to_dict(self.config)
        return {"format": FORMAT_NAME, "info": json.dumps(data, sort_keys=True)}


class LoadedCheckpoint(NamedTuple):
    model: Autoencoder  # in eval mode
    info: CheckpointInfo


def safe_checkpoint_name(name: str) -> str:
    """A file-name stem from user text: letters, digits, '-', '_' only; never a path.

    Raises CheckpointError if nothing usable is left.
    """
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", name.strip()).strip("_-")[:MAX_NAME_LENGTH]
    if not stem:
        raise CheckpointError(f"{name!r} is not usable as a checkpoint name: use letters, digits, '-' or '_'")
    return stem


def save_checkpoint(path: str | os.PathLike[str], model: Autoencoder, info: CheckpointInfo) -> Path:
    """Atomically write model weights + info to `path` (".safetensors" is appended if missing)."""
    path = Path(path)
    if path.suffix != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    if not info.created:
        info = replace(info, created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    return atomic_write(path, safetensors_bytes(tensors, metadata=info.to_metadata()))


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


def read_info(path: str | os.PathLike[str]) -> CheckpointInfo:
    """Read and validate only the metadata (cheap: the weights are not read)."""
    path = Path(path)
    header = _read_header(path)
    metadata = header.get("__metadata__")
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME or "info" not in metadata:
        raise CheckpointError(f"{path.name} is a safetensors file but not a latent explorer checkpoint (no metadata)")
    try:
        data = json.loads(metadata["info"])
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise CheckpointError(f"{path.name} has checkpoint format {version}; this version reads {FORMAT_VERSION}")
        name = data["model"]
        config = config_from_dict(config_class(name), data["config"])
        fields = {k: v for k, v in data.items() if k not in ("model", "config")}
        return CheckpointInfo(model=name, config=config, **fields)
    except CheckpointError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise CheckpointError(f"{path.name} has invalid metadata: {error}") from None


def load_checkpoint(path: str | os.PathLike[str], device: str = "cpu") -> LoadedCheckpoint:
    """Validate and load a checkpoint; the model is returned in eval mode."""
    path = Path(path)
    info = read_info(path)
    try:
        tensors = load_file(str(path), device=device)
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{path.name} is corrupt or truncated: {error}") from None
    model = get_model(info.model, info.config)
    _check_matches(path, model, tensors)
    model.load_state_dict(tensors, strict=True)
    model.to(device).eval()
    return LoadedCheckpoint(model, info)


def user_checkpoint_dir() -> Path:
    """Where models trained by users are saved: $LATENT_USER_CHECKPOINTS, else checkpoints/user."""
    env = os.environ.get(USER_DIR_ENV)
    return Path(env).expanduser().resolve() if env else CHECKPOINT_DIR / "user"


def list_checkpoints(folder: str | os.PathLike[str] = CHECKPOINT_DIR) -> list[Path]:
    """The .safetensors files in a folder, sorted by name (no validation)."""
    folder = Path(folder)
    return sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []


def _read_header(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file at {path}")
    size = path.stat().st_size
    with path.open("rb") as file:
        start = file.read(8)
        if start[:1] == b"\x80" or start[:2] == b"PK":
            raise CheckpointError(
                f"{path.name} is a pickled PyTorch file; it was not loaded, because unpickling can run "
                f"arbitrary code. Only .safetensors checkpoints are accepted."
            )
        if len(start) < 8:
            raise CheckpointError(f"{path.name} is empty or truncated ({size} bytes)")
        (length,) = struct.unpack("<Q", start)
        if length > MAX_HEADER_BYTES or length > size - 8:
            raise CheckpointError(f"{path.name} is not a safetensors file, or it is truncated")
        raw = file.read(length)
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(f"{path.name} is not a safetensors file (unreadable header)") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path.name} is not a safetensors file (header is not a mapping)")
    return header


def _check_matches(path: Path, model: Autoencoder, tensors: dict[str, torch.Tensor]) -> None:
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    found = {name: tuple(t.shape) for name, t in tensors.items()}
    problems = [f"missing {name}" for name in sorted(set(expected) - set(found))]
    problems += [f"unexpected {name}" for name in sorted(set(found) - set(expected))]
    problems += [
        f"{name} has shape {found[name]}, the model needs {shape}"
        for name, shape in expected.items()
        if name in found and found[name] != shape
    ]
    if problems:
        shown = "; ".join(problems[:4]) + (f"; and {len(problems) - 4} more" if len(problems) > 4 else "")
        raise CheckpointError(f"{path.name} does not match its declared architecture ({type(model).__name__}): {shown}")
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise CheckpointError(f"{path.name} contains NaN or infinite weights in {name}")
