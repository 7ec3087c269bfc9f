"""A model's latent space as the pages show it: test codes on the plot plane, decoding, the manifold.

Encoded test sets live in `st.cache_data`, keyed by the model's `ModelRef`, so switching models
or pages never re-encodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from app.catalogue import ModelRef, load_model
from app.images import data_uri, upscale
from app.inference import on_inference_thread
from app.test_set import test_data
from models.images import tile, to_uint8
from models.latent import Bounds, PlaneProjection, PlotView, grid_points, plot_view, square_bounds
from models.metrics import clear_example, encode_all, reconstruction_errors


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

    def code_at(self, x: float, y: float) -> np.ndarray:
        """The latent code of the plot point (x, y) (on the plane through the mean, for >2-D models)."""
        return self.plane.lift(torch.tensor([x, y], dtype=torch.float32)).numpy()


def latent_space(ref: ModelRef) -> LatentSpace:
    """The model's test codes on the plot plane; without data, the plane stored in the checkpoint.

    Cached separately with and without data, so a download that finishes later is picked up.
    """
    return _latent_space(ref, test_data(load_model(ref).info.dataset).split is not None)


# A resource, not data: one shared copy (never mutated), so a rerun does not unpickle 10,000 codes.
@st.cache_resource(max_entries=16, show_spinner="Encoding the 10,000 test images…")
def _latent_space(ref: ModelRef, with_data: bool) -> LatentSpace:
    model, info = load_model(ref)
    latent_dim = info.config.latent_dim
    split = test_data(info.dataset).split if with_data else None
    if split is None:  # the plane and ranges stored in the checkpoint when it was trained
        view = PlotView.stored_or_default(info.view, latent_dim)
        return LatentSpace(view.plane, latent_dim, square_bounds(view.bounds), None, None, None)
    codes = encode_all(model, split.images)
    view = plot_view(codes)  # the same view the checkpoint stores, refitted on the data at hand
    points = view.plane.project(codes).numpy()
    return LatentSpace(view.plane, latent_dim, square_bounds(view.bounds), points, codes.numpy(), split.labels.numpy())


@st.cache_data(max_entries=16, show_spinner="Measuring how well each test image is reconstructed…")
def reconstruction_errors_of(ref: ModelRef) -> np.ndarray | None:
    """Each test image's reconstruction error, as a mean squared error per pixel (None without data).

    Per pixel and in [0, 1] whatever loss the model was trained with, so models compare."""
    model, info = load_model(ref)
    split = test_data(info.dataset).split
    if split is None:
        return None
    return reconstruction_errors(model, split.images, "mse").numpy()


@st.cache_data(max_entries=64, show_spinner=False)
def clear_example_index(ref: ModelRef, digit: int) -> int:
    """A test image of `digit` that this model reconstructs recognisably (needs the test set)."""
    model, info = load_model(ref)
    space = latent_space(ref)
    split = test_data(info.dataset).split
    return clear_example(model, split, torch.from_numpy(space.codes), digit)


@on_inference_thread
@torch.inference_mode()
def decode_codes(ref: ModelRef, codes: torch.Tensor | np.ndarray) -> torch.Tensor:
    """uint8 (N, 1, 28, 28) images for latent codes (N, latent_dim)."""
    model = load_model(ref).model
    return to_uint8(model.decode(torch.as_tensor(np.asarray(codes), dtype=torch.float32)))


@on_inference_thread
@torch.inference_mode()
def encode_distribution(ref: ModelRef, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The posterior mean (N, latent_dim) of images (N, 1, 28, 28), and its log-variance for a VAE."""
    return load_model(ref).model.encode_distribution(images)


def decode_plane(ref: ModelRef, points: np.ndarray) -> torch.Tensor:
    """uint8 (N, 1, 28, 28) images for points (N, 2) on the plot's plane (lifted for >2-D models)."""
    plane = latent_space(ref).plane
    return decode_codes(ref, plane.lift(torch.as_tensor(np.asarray(points), dtype=torch.float32)))


@st.cache_data(max_entries=32, show_spinner="Decoding the manifold…")
def manifold_uri(ref: ModelRef, bounds: Bounds, n: int = 20) -> str:
    """A PNG data URI of n x n decoded digits tiling `bounds` exactly (top-left = x min, y max).

    Each digit is decoded at the centre of its tile, so the picture lines up with the axes.
    """
    (x0, x1), (y0, y1) = bounds
    dx, dy = (x1 - x0) / n, (y1 - y0) / n
    points = grid_points((x0 + dx / 2, x1 - dx / 2), (y0 + dy / 2, y1 - dy / 2), n)
    return data_uri(upscale(tile(decode_plane(ref, points.numpy()), columns=n), 1))
