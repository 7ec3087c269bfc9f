"""A model's latent space as the pages show it: the test codes on the plot plane, their
reconstruction errors, and a clear example of each digit.

Encoded test sets live in `st.cache_resource`, keyed by the model's `ModelRef`, so switching
models or pages never re-encodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from app.settings import server_settings
from app.space.catalogue import ModelRef, load_model
from app.space.test_set import test_data
from models.evaluation.metrics import clear_example, encode_all, reconstruction_errors
from models.geometry.plane import Bounds, PlaneProjection, PlotView, plot_view, square_bounds
from models.training.budget import encoding_batch, memory_available, model_shape


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


# A resource, not data: one shared copy (never mutated), so a rerun does not unpickle 10,000 codes.
@st.cache_resource(max_entries=16, show_spinner="Encoding the 10,000 test images…")
def _latent_space(ref: ModelRef, with_data: bool) -> LatentSpace:
    model, info = load_model(ref)
    latent_dim = info.config.latent_dim
    split = test_data(info.dataset).split if with_data else None
    if split is None:  # the plane and ranges stored in the checkpoint when it was trained
        view = PlotView.stored_or_default(info.view, latent_dim)
        return LatentSpace(view.plane, latent_dim, square_bounds(view.bounds), None, None, None)
    codes = encode_all(model, split.images, batch_size=encoding_batch_of(ref))
    view = plot_view(codes)  # the same view the checkpoint stores, refitted on the data at hand
    points = view.plane.project(codes).numpy()
    return LatentSpace(view.plane, latent_dim, square_bounds(view.bounds), points, codes.numpy(), split.labels.numpy())


def encoding_batch_of(ref: ModelRef) -> int:
    """How many images to encode at once with this model: as many as fit the memory this server
    lets one task use now (a big convolutional model: a few dozen, not a thousand)."""
    info = load_model(ref).info
    budget = int(server_settings().memory_share * memory_available())
    return encoding_batch(model_shape(info.model, info.config), budget)


@st.cache_data(max_entries=16, show_spinner="Measuring how well each test image is reconstructed…")
def reconstruction_errors_of(ref: ModelRef) -> np.ndarray | None:
    """Each test image's reconstruction error, as a mean squared error per pixel (None without data).

    Per pixel and in [0, 1] whatever loss the model was trained with, so models compare."""
    model, info = load_model(ref)
    split = test_data(info.dataset).split
    if split is None:
        return None
    return reconstruction_errors(model, split.images, "mse", batch_size=encoding_batch_of(ref)).numpy()


@st.cache_data(max_entries=64, show_spinner=False)
def clear_example_index(ref: ModelRef, digit: int) -> int:
    """A test image of `digit` that this model reconstructs recognisably (needs the test set)."""
    model, info = load_model(ref)
    space = latent_space(ref)
    split = test_data(info.dataset).split
    return clear_example(model, split, torch.from_numpy(space.codes), digit)
