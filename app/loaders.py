"""Cached access to checkpoints, the MNIST test set and encoded latent spaces.

Models live in `st.cache_resource` (one copy shared by every session: never mutated, in
eval mode, used under `torch.inference_mode`). Encoded test sets live in `st.cache_data`.
Both are keyed by `ModelRef` (path + modification time), so switching models or pages
never re-encodes, and a checkpoint rewritten on disk is picked up.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import streamlit as st
import torch

from app.images import data_uri, to_uint8, upscale
from models.checkpoint import (
    CHECKPOINT_DIR,
    SUFFIX,
    CheckpointError,
    CheckpointInfo,
    LoadedCheckpoint,
    clean_stale_temporaries,
    inspect_checkpoint,
    list_checkpoints,
    load_checkpoint,
    user_checkpoint_dir,
)
from models.data import (
    DEFAULT_DATASET,
    DataUnavailableError,
    Split,
    check_data_dir,
    data_dir,
    files_present,
    load_split,
)
from models.latent import Bounds, PlaneProjection, PlotView, fit_plane, latent_grid, plot_view, tile_images
from models.metrics import clear_example

# Without data the plane's extent is unknown; +-3 covers a VAE prior's 99.7% per axis.
FALLBACK_BOUNDS = ((-3.0, 3.0), (-3.0, 3.0))
DATA_RETRY_SECONDS = 60  # how long a "data missing" answer is cached before retrying


@dataclass(frozen=True)
class ModelRef:
    """A checkpoint file as a hashable cache key: path plus modification time and size."""

    path: str
    mtime_ns: int
    size: int = 0

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> ModelRef:
        path = Path(path).resolve()
        stat = path.stat()
        return cls(str(path), stat.st_mtime_ns, stat.st_size)

    @property
    def name(self) -> str:
        return Path(self.path).stem


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
    """All usable checkpoints: shipped defaults first, then user-trained ones.

    Every file is fully checked before it is listed (`inspect_checkpoint`), once per
    modification: a file that fails in any way is left out and named in `problems`, so one
    bad file can never take a page down or fail later when it is chosen.
    """
    entries, problems = [], []
    for folder, shipped in ((CHECKPOINT_DIR, True), (user_checkpoint_dir(), False)):
        _clean_once(str(folder))
        for path in list_checkpoints(folder):
            try:
                ref = ModelRef.of(path)
            except OSError:
                continue  # removed since the folder was listed
            verdict = _verdict(ref)
            if verdict.info is not None:
                entries.append(CheckpointEntry(ref, verdict.info, shipped))
            else:
                problems.append(verdict.problem or path.name)
    return Catalogue(entries, problems)


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
    """Remove temporaries left by killed writes, once per server process and folder."""
    return clean_stale_temporaries(folder)


@st.cache_resource(max_entries=8, show_spinner="Loading the model…")
def load_model(ref: ModelRef) -> LoadedCheckpoint:
    return load_checkpoint(ref.path)


class DataStatus(NamedTuple):
    split: Split | None
    error: str | None  # what is missing and how to fix it; None once loaded or while downloading
    downloading: bool = False  # a background download is under way: ask again in a moment


class TestSetLoader:
    """The test split of one dataset in one data directory, for every session of the server.

    Files in place are loaded at once (a fraction of a second). Missing files are downloaded
    by a background thread, so no page ever waits on the network: pages show what works
    without the data and ask again later. A failed download is retried after
    `DATA_RETRY_SECONDS`, never more than one at a time.
    """

    def __init__(self, dataset: str, root: str) -> None:
        self.dataset, self.root = dataset, root
        self._lock = threading.Lock()
        self._split: Split | None = None
        self._error: str | None = None
        self._failed_at = -math.inf
        self._download: threading.Thread | None = None

    def status(self) -> DataStatus:
        with self._lock:
            if self._split is not None:
                return DataStatus(self._split, None)
        try:
            check_data_dir(self.dataset, self.root)
            if files_present(self.dataset, self.root):
                return self._loaded(load_split(self.dataset, train=False, root=self.root, download=False))
        except DataUnavailableError as error:
            return DataStatus(None, str(error))
        with self._lock:
            if self._download is not None and self._download.is_alive():
                return DataStatus(None, None, downloading=True)
            if self._error is not None and time.monotonic() - self._failed_at < DATA_RETRY_SECONDS:
                return DataStatus(None, self._error)
            self._download = threading.Thread(target=self._fetch, name=f"download-{self.dataset}", daemon=True)
            self._download.start()
            return DataStatus(None, None, downloading=True)

    def wait(self, timeout: float | None = None) -> None:
        """Block until a download under way has ended (for command lines and tests)."""
        download = self._download
        if download is not None:
            download.join(timeout)

    def _loaded(self, split: Split) -> DataStatus:
        with self._lock:
            self._split, self._error = split, None
        return DataStatus(split, None)

    def _fetch(self) -> None:
        try:
            self._loaded(load_split(self.dataset, train=False, root=self.root, download=True))
        except DataUnavailableError as error:
            with self._lock:
                self._error, self._failed_at = str(error), time.monotonic()
        except Exception as error:  # never let a download thread die silently
            with self._lock:
                self._error, self._failed_at = f"The download failed: {type(error).__name__}: {error}", time.monotonic()


@st.cache_resource(show_spinner=False)
def test_set_loader(dataset: str, root: str) -> TestSetLoader:
    """The one loader per dataset and data directory, shared by every session."""
    return TestSetLoader(dataset, root)


def test_data(dataset: str = DEFAULT_DATASET) -> DataStatus:
    """The test split if it is available now; never waits on the network."""
    return test_set_loader(dataset, str(data_dir())).status()


@dataclass(frozen=True)
class LatentSpace:
    """A model's latent space as shown on the 2-D plot."""

    plane: PlaneProjection  # identity for 2-D models, the PCA plane otherwise
    latent_dim: int
    bounds: Bounds  # plot ranges (x, y)
    points: np.ndarray | None  # (N, 2) test images on the plot; None without data
    codes: np.ndarray | None  # (N, latent_dim) posterior means
    labels: np.ndarray | None  # (N,) digits

    @property
    def projected(self) -> bool:
        return self.latent_dim > 2

    @property
    def has_data(self) -> bool:
        return self.points is not None

    @property
    def size(self) -> int:
        """How many test images are on the plot (0 without data)."""
        return 0 if self.labels is None else len(self.labels)


def latent_space(ref: ModelRef) -> LatentSpace:
    """The model's test codes on the plot plane; without data, the plane stored in the checkpoint.

    Cached separately with and without data, so a download that finishes later is picked up.
    """
    return _latent_space(ref, test_data(load_model(ref).info.dataset).split is not None)


@st.cache_data(max_entries=16, show_spinner="Encoding the 10,000 test images…")
def _latent_space(ref: ModelRef, with_data: bool) -> LatentSpace:
    model, info = load_model(ref)
    latent_dim = info.config.latent_dim
    split = test_data(info.dataset).split if with_data else None
    if split is None:
        plane, bounds = stored_view(info)
        return LatentSpace(plane, latent_dim, square(bounds), None, None, None)
    codes = encode(model, split.images)
    view = plot_view(codes)  # the same view the checkpoint stores, refitted on the data at hand
    points = view.plane.project(codes).numpy()
    return LatentSpace(view.plane, latent_dim, square(view.bounds), points, codes.numpy(), split.labels.numpy())


def square(bounds: Bounds) -> Bounds:
    """Widen the narrower axis so both spans are equal: with equal axis scales the plot is square."""
    span = max(high - low for low, high in bounds)
    return tuple((c - span / 2, c + span / 2) for c in ((low + high) / 2 for low, high in bounds))  # type: ignore[return-value]


def stored_view(info: CheckpointInfo) -> tuple[PlaneProjection, Bounds]:
    """Without data: the plane and ranges stored in the checkpoint when it was trained.

    Checkpoints from before that (or with a damaged view) fall back to ±3 on the raw axes,
    for a model with more than 2 latent dimensions its first two.
    """
    try:
        view = PlotView.from_dict(info.view, info.config.latent_dim)
        return view.plane, view.bounds
    except ValueError:
        latent_dim = info.config.latent_dim
        if latent_dim <= 2:
            return fit_plane(torch.zeros(1, latent_dim)), FALLBACK_BOUNDS
        components = torch.zeros(2, latent_dim)
        components[0, 0] = components[1, 1] = 1.0
        return PlaneProjection(torch.zeros(latent_dim), components, torch.zeros(2)), FALLBACK_BOUNDS


@st.cache_data(max_entries=64, show_spinner=False)
def clear_example_index(ref: ModelRef, digit: int) -> int:
    """A test image of `digit` that this model reconstructs recognisably (needs the test set)."""
    model, info = load_model(ref)
    space = latent_space(ref)
    split = test_data(info.dataset).split
    return clear_example(model, split, torch.from_numpy(space.codes), digit)


@torch.inference_mode()
def encode(model: torch.nn.Module, images: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    """Posterior means of images, (N, latent_dim)."""
    return torch.cat([model.encode(images[i : i + batch_size]) for i in range(0, len(images), batch_size)])


@torch.inference_mode()
def decode_codes(ref: ModelRef, codes: torch.Tensor | np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) images for latent codes (N, latent_dim)."""
    model = load_model(ref).model
    return to_uint8(model.decode(torch.as_tensor(np.asarray(codes), dtype=torch.float32)))


def decode_plane(ref: ModelRef, points: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) images for points (N, 2) on the plot's plane (lifted for >2-D models)."""
    plane = latent_space(ref).plane
    return decode_codes(ref, plane.lift(torch.as_tensor(np.asarray(points), dtype=torch.float32)))


@st.cache_data(max_entries=32, show_spinner="Decoding the manifold…")
def manifold_uri(ref: ModelRef, bounds: Bounds, n: int = 20) -> str:
    """A PNG data URI of n x n decoded digits tiling `bounds` exactly (top-left = x min, y max).

    Each digit is decoded at the centre of its tile, so the picture lines up with the axes.
    """
    (x0, x1), (y0, y1) = bounds
    dx, dy = (x1 - x0) / n, (y1 - y0) / n
    points = latent_grid((x0 + dx / 2, x1 - dx / 2), (y0 + dy / 2, y1 - dy / 2), n)
    images = torch.from_numpy(decode_plane(ref, points.numpy()).astype(np.float32) / 255.0).unsqueeze(1)
    return data_uri(upscale(to_uint8(tile_images(images, n, n)), 1))
