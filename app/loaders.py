"""Cached access to checkpoints, the MNIST test set and encoded latent spaces.

Models live in `st.cache_resource` (one copy shared by every session: never mutated, in
eval mode, used under `torch.inference_mode`). Encoded test sets live in `st.cache_data`.
Both are keyed by `ModelRef` (path + modification time), so switching models or pages
never re-encodes, and a checkpoint rewritten on disk is picked up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import streamlit as st
import torch

from app.images import data_uri, to_uint8, upscale
from models.checkpoint import (
    CHECKPOINT_DIR,
    CheckpointError,
    CheckpointInfo,
    LoadedCheckpoint,
    list_checkpoints,
    load_checkpoint,
    read_info,
    user_checkpoint_dir,
)
from models.data import DataUnavailableError, Split, load_split
from models.latent import Bounds, PlaneProjection, PlotView, fit_plane, latent_grid, plot_view, tile_images

# Without data the plane's extent is unknown; +-3 covers a VAE prior's 99.7% per axis.
FALLBACK_BOUNDS = ((-3.0, 3.0), (-3.0, 3.0))
DATA_RETRY_SECONDS = 60  # how long a "data missing" answer is cached before retrying


@dataclass(frozen=True)
class ModelRef:
    """A checkpoint file as a hashable cache key: path plus modification time."""

    path: str
    mtime_ns: int

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> ModelRef:
        path = Path(path).resolve()
        return cls(str(path), path.stat().st_mtime_ns)

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
    problems: list[str]  # files that could not be read, with the reason


def catalogue() -> Catalogue:
    """All usable checkpoints: shipped defaults first, then user-trained ones."""
    entries, problems = [], []
    for folder, shipped in ((CHECKPOINT_DIR, True), (user_checkpoint_dir(), False)):
        for path in list_checkpoints(folder):
            try:
                ref = ModelRef.of(path)
                entries.append(CheckpointEntry(ref, _cached_info(ref), shipped))
            except (CheckpointError, OSError) as error:
                problems.append(f"{path.name}: {error}")
    return Catalogue(entries, problems)


@st.cache_data(max_entries=256, show_spinner=False)
def _cached_info(ref: ModelRef) -> CheckpointInfo:
    return read_info(ref.path)


@st.cache_resource(max_entries=8, show_spinner="Loading the model…")
def load_model(ref: ModelRef) -> LoadedCheckpoint:
    return load_checkpoint(ref.path)


class DataStatus(NamedTuple):
    split: Split | None
    error: str | None  # a message saying what is missing and how to fix it


@st.cache_resource(ttl=DATA_RETRY_SECONDS, show_spinner="Loading MNIST…")
def test_data(dataset: str = "mnist") -> DataStatus:
    try:
        return DataStatus(load_split(dataset, train=False), None)
    except DataUnavailableError as error:
        return DataStatus(None, str(error))


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


@st.cache_data(max_entries=16, show_spinner="Encoding the 10,000 test images…")
def latent_space(ref: ModelRef) -> LatentSpace:
    model, info = load_model(ref)
    latent_dim = info.config.latent_dim
    split = test_data(info.dataset).split
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
