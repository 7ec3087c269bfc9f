"""Datasets as in-memory tensors: MNIST (and FashionMNIST, KMNIST) through torchvision.

The data directory comes from one setting: the `--data-dir` flag where a command has one,
else the `LATENT_DATA_DIR` environment variable, else `data/` in the repository.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

DATA_DIR_ENV = "LATENT_DATA_DIR"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / "data"
DATASETS: tuple[str, ...] = ("mnist", "fashion_mnist", "kmnist")
RAW_FILES: tuple[str, ...] = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


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
    return data_dir(root) / _dataset_class(name).__name__ / "raw"


def load_split(name: str = "mnist", train: bool = False, root: str | os.PathLike[str] | None = None) -> Split:
    """Load a split as tensors, downloading it into the data directory if needed.

    Results are cached per (name, train, resolved directory), so repeated calls are free.
    """
    return _load_split(name, train, data_dir(root))


@functools.lru_cache(maxsize=8)
def _load_split(name: str, train: bool, root: Path) -> Split:
    cls = _dataset_class(name)
    try:
        # torchvision prints download attempts to stdout; keep them out of the CLI / app.
        with contextlib.redirect_stdout(io.StringIO()):
            dataset = cls(str(root), train=train, download=True)
    except Exception as error:
        raise DataUnavailableError(_missing_message(name, root, error)) from None
    images = dataset.data.unsqueeze(1).to(torch.float32).div_(255.0)
    return Split(images, dataset.targets.to(torch.int64))


def _missing_message(name: str, root: Path, error: Exception) -> str:
    folder = root / _dataset_class(name).__name__ / "raw"
    files = ", ".join(RAW_FILES)
    return (
        f"The {name} dataset is not available: no usable files in {folder} and the download failed "
        f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else 'no details'}). "
        f"Put the four files {files} (or their .gz archives) in that folder, or point the data "
        f"directory elsewhere with the {DATA_DIR_ENV} environment variable or the --data-dir flag."
    )
