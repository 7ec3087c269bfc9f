"""Datasets as in-memory tensors: MNIST (and FashionMNIST, KMNIST), read from the raw IDX
files in torchvision's layout (torchvision itself is imported only to download them).

The data directory comes from one setting: the `--data-dir` flag where a command has one,
else the `LATENT_DATA_DIR` environment variable, else `data/` in the repository.

Missing files are downloaded here rather than by torchvision, because torchvision's download
has no timeout: a network that accepts connections but never answers would hang the caller
for ever. Each request here gives up after `DOWNLOAD_TIMEOUT` seconds without data, one
download runs at a time, and no folder is created in the data directory until a file has
actually arrived.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import math
import os
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from models.families.base import IMAGE_SIDE
from models.files.store import atomic_write

DATA_DIR_ENV = "LATENT_DATA_DIR"
MIRROR_ENV = "LATENT_DATA_MIRROR"  # a URL prefix to download from instead of torchvision's mirrors
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT / "data"
DATASETS: tuple[str, ...] = ("mnist", "fashion_mnist", "kmnist")
DEFAULT_DATASET = "mnist"
TRAIN_SIZES: dict[str, int] = dict.fromkeys(DATASETS, 60_000)  # known without loading the data
TEST_SIZES: dict[str, int] = dict.fromkeys(DATASETS, 10_000)
RAW_FILES: tuple[str, ...] = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
FOLDERS: dict[str, str] = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "kmnist": "KMNIST"}  # torchvision's
DOWNLOAD_TIMEOUT = 10.0  # seconds without an answer (to connect or between reads) before giving up
DOWNLOAD_DEADLINE = 300.0  # seconds for one whole file, however slowly it trickles in
MAX_ARCHIVE_BYTES = 64 * 2**20  # the largest archive (training images) is about 10 MB
_DOWNLOAD_LOCK = threading.Lock()  # one download at a time, whoever asks


class DataUnavailableError(RuntimeError):
    """The dataset files are missing and could not be downloaded."""


@dataclass(frozen=True)
class Split:
    """One split of a dataset, held in memory."""

    images: Tensor  # float32 in [0, 1], shape (N, 1, 28, 28)
    labels: Tensor  # int64, shape (N,)

    def __len__(self) -> int:
        return len(self.labels)

    def sample(self, count: int, seed: int = 0) -> Split:
        """A reproducible random subset of `count` examples (all of them if fewer)."""
        if count >= len(self):
            return self
        index = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:count]
        return Split(self.images[index], self.labels[index])

    def with_digits(self, digits: tuple[int, ...] | None) -> Split:
        """Only the examples whose label is one of `digits`, in their order (all of them for None)."""
        if digits is None:
            return self
        keep = torch.isin(self.labels, torch.tensor(digits, dtype=self.labels.dtype, device=self.labels.device))
        return Split(self.images[keep], self.labels[keep])

    def to(self, device: torch.device | str) -> Split:
        """The split on `device` (no copy where its tensors are there already)."""
        return Split(self.images.to(device), self.labels.to(device))


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: the override, else $LATENT_DATA_DIR, else <repo>/data."""
    if override:
        return Path(override).expanduser().resolve()
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env).expanduser().resolve() if env else DEFAULT_DATA_DIR


def _dataset_class(name: str) -> type:
    from torchvision import datasets

    classes = {"mnist": datasets.MNIST, "fashion_mnist": datasets.FashionMNIST, "kmnist": datasets.KMNIST}
    if name not in classes:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    return classes[name]


def raw_folder(name: str = "mnist", root: str | os.PathLike[str] | None = None) -> Path:
    """Where torchvision keeps the four raw files of a dataset under the data directory."""
    if name not in FOLDERS:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    return data_dir(root) / FOLDERS[name] / "raw"


def files_present(name: str = "mnist", root: str | os.PathLike[str] | None = None) -> bool:
    """Whether the four raw files are in place (then loading needs no network)."""
    folder = raw_folder(name, root)
    return all((folder / file).is_file() for file in RAW_FILES)


def load_split(
    name: str = "mnist", train: bool = False, root: str | os.PathLike[str] | None = None, download: bool = True
) -> Split:
    """Load a split as tensors, downloading the dataset into the data directory if needed.

    Results are cached per (name, train, resolved directory), so repeated calls are free.
    Raises DataUnavailableError, with what is missing and how to fix it, if that fails.
    """
    root_dir = data_dir(root)
    check_data_dir(name, root_dir)
    if not files_present(name, root_dir):
        if not download:
            raise DataUnavailableError(_missing_message(name, root_dir, "it has not been downloaded yet"))
        download_dataset(name, root_dir)
    return _load_split(name, train, root_dir)


@functools.lru_cache(maxsize=8)
def _load_split(name: str, train: bool, root: Path) -> Split:
    # Read here rather than through torchvision, whose import alone would slow the app's start-up.
    folder, prefix = raw_folder(name, root), "train" if train else "t10k"
    try:
        images = read_idx(folder / f"{prefix}-images-idx3-ubyte", dims=3)
        labels = read_idx(folder / f"{prefix}-labels-idx1-ubyte", dims=1)
        if len(images) != len(labels) or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
            raise ValueError(f"{len(images)} images of {tuple(images.shape[1:])} pixels and {len(labels)} labels")
    except (OSError, ValueError) as error:  # files present but damaged
        raise DataUnavailableError(_missing_message(name, root, f"the files could not be read: {error}")) from None
    return Split(images.unsqueeze(1).to(torch.float32).div_(255.0), labels.to(torch.int64))


def read_idx(path: Path, dims: int) -> Tensor:
    """An IDX file of unsigned bytes with `dims` dimensions (the raw MNIST format), as a uint8 tensor.

    Raises ValueError, naming the file, if it is not one.
    """
    data = path.read_bytes()
    header = 4 + 4 * dims
    if len(data) < header or data[:3] != b"\x00\x00\x08" or data[3] != dims:
        raise ValueError(f"{path.name} is not an IDX file of bytes with {dims} dimensions")
    shape = struct.unpack(f">{dims}I", data[4:header])
    if len(data) - header != math.prod(shape):
        raise ValueError(f"{path.name} holds {len(data) - header:,} bytes of data for a shape of {shape}")
    return torch.frombuffer(bytearray(data[header:]), dtype=torch.uint8).reshape(shape)


def download_dataset(name: str = "mnist", root: str | os.PathLike[str] | None = None) -> None:
    """Fetch the four raw files into the data directory (one download at a time).

    Archives already in the raw folder are used as they are. Each archive's MD5 is checked
    against torchvision's, and every file is written atomically, so an interrupted download
    never leaves a damaged file behind.
    """
    root_dir = data_dir(root)
    with _DOWNLOAD_LOCK:
        if files_present(name, root_dir):  # another caller finished it while we waited
            return
        cls = _dataset_class(name)
        folder = root_dir / cls.__name__ / "raw"
        mirrors = [os.environ[MIRROR_ENV]] if os.environ.get(MIRROR_ENV) else list(cls.mirrors)
        for archive, md5 in cls.resources:
            target = folder / archive.removesuffix(".gz")
            if target.is_file():
                continue
            local = folder / archive
            payload = local.read_bytes() if local.is_file() else _fetch_first(name, root_dir, archive, mirrors)
            if hashlib.md5(payload).hexdigest() != md5:
                raise DataUnavailableError(_missing_message(name, root_dir, f"{archive} is damaged (wrong checksum)"))
            folder.mkdir(parents=True, exist_ok=True)  # only now: something real arrived
            atomic_write(target, gzip.decompress(payload))


def _fetch_first(name: str, root: Path, archive: str, mirrors: list[str]) -> bytes:
    reasons = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + archive
        try:
            return _fetch(url)
        except (OSError, ValueError) as error:
            reasons.append(f"{url}: {_reason(error)}")
    raise DataUnavailableError(_missing_message(name, root, "the download failed (" + "; ".join(reasons) + ")"))


def _fetch(url: str) -> bytes:
    """The body at `url`; OSError if the server is silent for DOWNLOAD_TIMEOUT s, or the whole
    takes DOWNLOAD_DEADLINE s."""
    started, deadline = time.monotonic(), DOWNLOAD_DEADLINE
    chunks, size = [], 0
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
        while chunk := response.read(1 << 16):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_ARCHIVE_BYTES:
                raise ValueError(f"more than {MAX_ARCHIVE_BYTES // 2**20} MB: not an MNIST archive")
            if time.monotonic() - started > deadline:
                raise TimeoutError(f"still incomplete after {deadline:g} s")
    return b"".join(chunks)


def _reason(error: Exception) -> str:
    """A short human reason for a failed request (never an empty string)."""
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        error = error.reason if isinstance(error.reason, Exception) else error
    if isinstance(error, TimeoutError) or "timed out" in str(error):
        return f"no answer within {DOWNLOAD_TIMEOUT:g} s"
    if isinstance(error, socket.gaierror):
        return "the host name could not be looked up (no network?)"
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def check_data_dir(name: str, root: str | os.PathLike[str] | None = None) -> None:
    """Raise DataUnavailableError if the data directory is the raw folder itself (a common slip),
    saying which folder to point at instead."""
    root = data_dir(root)
    if any((root / file).is_file() or (root / f"{file}.gz").is_file() for file in RAW_FILES):
        folder = _dataset_class(name).__name__
        hint = f" (here probably {root.parent.parent})" if root.parent.name == folder else ""
        raise DataUnavailableError(
            f"{root} holds the raw {name} files themselves. The data directory must be the folder that holds "
            f"{folder}/raw/{hint}: set {DATA_DIR_ENV} or --data-dir to that."
        )


def _missing_message(name: str, root: Path, reason: str) -> str:
    folder = root / _dataset_class(name).__name__ / "raw"
    files = ", ".join(RAW_FILES)
    return (
        f"The {name} dataset is not available: no usable files in {folder}, and {reason}. "
        f"Put the four files {files} (or their .gz archives) in that folder, or point the data "
        f"directory elsewhere with the {DATA_DIR_ENV} environment variable or the --data-dir flag."
    )
