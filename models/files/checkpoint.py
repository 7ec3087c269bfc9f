"""Checkpoints: one safetensors file holding the weights and the metadata to rebuild the model.

Only safetensors is read (never a pickle), every write is atomic (temporary file + rename),
and loading validates the file before any weight reaches a model. Problems surface as a
`CheckpointError` whose message names the file and what is wrong with it.
"""

from __future__ import annotations

import json
import math
import os
import struct
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file
from safetensors.torch import save as safetensors_bytes
from torch import Tensor

from models.families.base import Autoencoder
from models.families.config import config_from_dict, config_to_dict
from models.families.registry import MAX_PARAMETERS, config_class, get_model, state_shapes
from models.files.data import DATASETS
from models.files.store import (
    SUFFIX,
    CheckpointError,
    atomic_write,
    is_shipped,
)
from models.geometry.plane import plot_view

FORMAT_NAME = "latent-explorer-checkpoint"
# 2: the plot view of the test codes is stored (version 1 files may lack it).
# 3: a lesson and a description, and list values (digits) in the training settings (older files lack them).
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
MAX_HEADER_BYTES = 16 * 1024 * 1024  # safetensors headers are tiny; bigger means garbage
MAX_TEXT_LENGTH = 4096  # title, command, lesson, description and time stamp in the metadata
MAX_LIST_LENGTH = 64  # a list in the training settings (the digits trained on)
DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
FLOAT_DTYPES = ("F32", "F16", "BF16")  # weights may be stored in half precision
INTEGER_DTYPES = ("I64",)
COUNTER = "num_batches_tracked"  # batch norm's step counter, the one integer tensor


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
    lesson: str = ""  # the group it is shown in by the app's picker, e.g. "beta-VAE" ("" for none)
    description: str = ""  # one sentence for students, shown in the app ("" for none)
    format_version: int = FORMAT_VERSION

    def after_epoch(self, epoch: int, metrics: dict[str, float | None], test_codes: Tensor) -> CheckpointInfo:
        """The info to save after an epoch: its number, test metrics (`EvalMetrics.to_dict()`), and
        the plot view of the test codes (so the app can draw the model without the data)."""
        view = plot_view(test_codes).to_dict()
        return replace(self, epochs=epoch, metrics=dict(metrics), view=view, created="")

    def to_metadata(self) -> dict[str, str]:
        """safetensors metadata is str -> str: one JSON document under "info"."""
        data = asdict(self)
        data["config"] = config_to_dict(self.config)
        return {"format": FORMAT_NAME, "info": json.dumps(data, sort_keys=True)}


class LoadedCheckpoint(NamedTuple):
    model: Autoencoder  # in eval mode
    info: CheckpointInfo


def save_checkpoint(
    path: str | os.PathLike[str],
    model: Autoencoder,
    info: CheckpointInfo,
    *,
    replace_shipped: bool = False,
    half: bool = False,
) -> Path:
    """Atomically write model weights + info to `path` (".safetensors" is appended if missing).

    A model that ships with the app is never replaced unless `replace_shipped` says so. With
    `half`, floating-point weights are stored in float16 (half the bytes; `load_checkpoint`
    widens them again): the caller's metrics should be those of the rounded weights.
    Raises ValueError if a weight is too large for float16.
    """
    path = Path(os.path.abspath(path))
    if path.suffix != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    if not replace_shipped and path.exists() and is_shipped(path):
        raise CheckpointError(f"{path.name} ships with the app and is never replaced; save under another name")
    if not info.created:
        info = replace(info, created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    if half:
        tensors = {name: _to_half(name, tensor) for name, tensor in tensors.items()}
    return atomic_write(path, safetensors_bytes(tensors, metadata=info.to_metadata()))


def _to_half(name: str, tensor: Tensor) -> Tensor:
    if not tensor.is_floating_point():
        return tensor
    rounded = tensor.to(torch.float16)
    if not torch.isfinite(rounded).all():
        raise ValueError(f"{name} has values beyond the float16 range; save it without half precision")
    return rounded


def read_info(path: str | os.PathLike[str]) -> CheckpointInfo:
    """Read and validate only the metadata (cheap: the weights are not read)."""
    path = Path(path)
    return _info_from_header(path, _read_header(path))


def inspect_checkpoint(path: str | os.PathLike[str]) -> CheckpointInfo:
    """Everything `load_checkpoint` checks, without building the model: the metadata, every
    tensor's name, shape and type against the declared architecture (computed without
    allocating it), and finite weights. Raises CheckpointError naming the problem."""
    path = Path(path)
    header = _read_header(path)
    info = _info_from_header(path, header)
    _check_entries(path, info, header)
    try:
        with safe_open(str(path), framework="pt") as file:
            for name in file.keys():  # noqa: SIM118 (safe_open is not a mapping)
                _check_finite(path, name, file.get_tensor(name))
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{path.name} is corrupt or truncated: {error}") from None
    return info


def _info_from_header(path: Path, header: dict[str, Any]) -> CheckpointInfo:
    metadata = header.get("__metadata__")
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME or "info" not in metadata:
        raise CheckpointError(f"{path.name} is a safetensors file but not a latent explorer checkpoint (no metadata)")
    try:
        data = json.loads(metadata["info"])
        if not isinstance(data, dict):
            raise ValueError("the info is not a mapping")
        version = data.get("format_version")
        if version not in READABLE_VERSIONS:
            raise CheckpointError(f"{path.name} has checkpoint format {version}; this version reads {FORMAT_VERSION}")
        name = data["model"]
        if not isinstance(name, str):
            raise ValueError("the model name is not text")
        config = config_from_dict(config_class(name), data["config"])
        fields = {k: v for k, v in data.items() if k not in ("model", "config")}
        info = CheckpointInfo(model=name, config=config, **fields)
        _check_fields(info)
        return info
    except CheckpointError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        raise CheckpointError(f"{path.name} has invalid metadata: {error}") from None


def _check_fields(info: CheckpointInfo) -> None:
    """The metadata fields have the types the app relies on (ValueError naming the first that does not)."""
    text_fields = {
        "title": info.title,
        "command": info.command,
        "created": info.created,
        "lesson": info.lesson,
        "description": info.description,
    }
    for name, value in text_fields.items():
        if not isinstance(value, str) or len(value) > MAX_TEXT_LENGTH:
            raise ValueError(f"{name} must be text of at most {MAX_TEXT_LENGTH} characters")
    if info.preset is not None and not isinstance(info.preset, str):
        raise ValueError("preset must be text")
    if info.dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {str(info.dataset)[:40]!r}")
    if isinstance(info.epochs, bool) or not isinstance(info.epochs, int) or info.epochs < 0:
        raise ValueError(f"epochs must be a whole number >= 0, got {info.epochs!r}")
    if not isinstance(info.metrics, dict) or not all(
        isinstance(key, str) and (value is None or _is_finite_number(value)) for key, value in info.metrics.items()
    ):
        raise ValueError("metrics must map names to numbers")
    if not isinstance(info.training, dict) or not all(_is_plain(value) for value in info.training.values()):
        raise ValueError("training must map names to plain values")
    if not isinstance(info.view, dict):
        raise ValueError("view must be a mapping")


def _is_plain(value: Any) -> bool:
    """None, text, true/false, a finite number, or a short list of finite numbers."""
    if isinstance(value, list):
        return len(value) <= MAX_LIST_LENGTH and all(_is_finite_number(item) for item in value)
    return value is None or isinstance(value, (str, bool)) or _is_finite_number(value)


def _is_finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_entries(path: Path, info: CheckpointInfo, header: dict[str, Any]) -> None:
    """The tensors the header lists are exactly those the declared model has, with its shapes."""
    try:
        expected = state_shapes(info.model, info.config)
    except (ValueError, TypeError) as error:
        raise CheckpointError(f"{path.name} declares an unusable architecture: {error}") from None
    if sum(shape.numel() for shape in expected.values()) > MAX_PARAMETERS:
        raise CheckpointError(f"{path.name} declares a model over the limit of {MAX_PARAMETERS:,} parameters")
    found = {name: tuple(entry["shape"]) for name, entry in header.items() if name != "__metadata__"}
    problems = _shape_problems({name: tuple(shape) for name, shape in expected.items()}, found)
    problems += [
        f"{name} is stored as {entry['dtype']}"
        for name, entry in header.items()
        if name in expected and entry["dtype"] not in (INTEGER_DTYPES if name.endswith(COUNTER) else FLOAT_DTYPES)
    ]
    if problems:
        shown = "; ".join(problems[:4]) + (f"; and {len(problems) - 4} more" if len(problems) > 4 else "")
        raise CheckpointError(f"{path.name} does not match its declared architecture ({info.model}): {shown}")


def load_checkpoint(path: str | os.PathLike[str], device: str = "cpu") -> LoadedCheckpoint:
    """Validate and load a checkpoint; the model is returned in eval mode, in float32.

    The header is checked against the declared architecture before anything is allocated,
    so a file can never make the app build a model it cannot fill.
    """
    path = Path(path)
    header = _read_header(path)
    info = _info_from_header(path, header)
    _check_entries(path, info, header)
    try:
        tensors = load_file(str(path), device=device)
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{path.name} is corrupt or truncated: {error}") from None
    for name, tensor in tensors.items():
        _check_finite(path, name, tensor)
    model = get_model(info.model, info.config)
    # Weights stored in half precision are widened here; load_state_dict copies into float32.
    model.load_state_dict(tensors, strict=True)
    model.to(device).eval()
    return LoadedCheckpoint(model, info)


def _read_header(path: Path) -> dict[str, Any]:
    """The JSON header of a safetensors file, with its data region checked against the file size.

    The file is judged by its parsed header first: a safetensors file starts with the
    little-endian length of a JSON object, so any first byte is possible there. Only a file
    that is not safetensors is examined for the signatures of a pickle or a zip archive.
    """
    if not path.exists():
        raise CheckpointError(f"there is no checkpoint file named {path.name}")
    if not path.is_file():
        raise CheckpointError(f"{path.name} is not a file (a folder, a pipe or a device)")
    size = path.stat().st_size
    with path.open("rb") as file:
        start = file.read(8)
        length = struct.unpack("<Q", start)[0] if len(start) == 8 else -1
        plausible = 2 <= length <= min(MAX_HEADER_BYTES, size - 8)
        raw = file.read(length) if plausible else b""
    header = _parse_header(raw)
    if header is None:
        if _looks_pickled(start):
            raise CheckpointError(
                f"{path.name} is a pickled PyTorch file; it was not loaded, because unpickling can run "
                f"arbitrary code. Only .safetensors checkpoints are accepted."
            )
        if len(start) < 8:
            raise CheckpointError(f"{path.name} is empty or truncated ({size} bytes)")
        raise CheckpointError(f"{path.name} is not a safetensors file, or it is truncated")
    _check_data_region(path, header, data_bytes=size - 8 - length)
    return header


def _parse_header(raw: bytes) -> dict[str, Any] | None:
    """The header as a dict, or None if these bytes are not a JSON object."""
    if not raw.startswith(b"{"):
        return None
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return None
    return header if isinstance(header, dict) else None


def _looks_pickled(start: bytes) -> bool:
    """A pickle (protocol 2 or later: 0x80 then the protocol) or a zip archive (torch.save's format)."""
    return (len(start) >= 2 and start[0] == 0x80 and 2 <= start[1] <= 5) or start.startswith(b"PK\x03\x04")


def _check_data_region(path: Path, header: dict[str, Any], data_bytes: int) -> None:
    """Every tensor entry is well formed and lies inside the file; the data region is exactly filled."""
    end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (begin, stop) = entry["dtype"], entry["shape"], entry["data_offsets"]
            count = math.prod(shape)
            well_formed = (
                dtype in DTYPE_BYTES
                and all(isinstance(n, int) and n >= 0 for n in (*shape, begin, stop))
                and stop - begin == count * DTYPE_BYTES[dtype]
            )
        except (KeyError, TypeError, ValueError):
            well_formed = False
        if not well_formed:
            raise CheckpointError(f"{path.name} is not a valid safetensors file (bad entry for {name!r})")
        end = max(end, stop)
    if end > data_bytes:
        raise CheckpointError(f"{path.name} is truncated: its header describes {end:,} bytes of data, "
                              f"the file holds {data_bytes:,}")  # fmt: skip


def _shape_problems(expected: dict[str, tuple[int, ...]], found: dict[str, tuple[int, ...]]) -> list[str]:
    problems = [f"missing {name}" for name in sorted(set(expected) - set(found))]
    problems += [f"unexpected {name}" for name in sorted(set(found) - set(expected))]
    problems += [
        f"{name} has shape {found[name]}, the model needs {shape}"
        for name, shape in expected.items()
        if name in found and found[name] != shape
    ]
    return problems


def _check_finite(path: Path, name: str, tensor: torch.Tensor) -> None:
    if tensor.is_floating_point() and not torch.isfinite(tensor).all():
        raise CheckpointError(f"{path.name} contains NaN or infinite weights in {name}")
