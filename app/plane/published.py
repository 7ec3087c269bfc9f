"""A model's large files for the plane, published once and cached by the browser: the decoder with
its plane and test codes, the test images, and the reconstruction errors Explore colours by."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from app.plane.publish import FAST_COMPRESSION_LEVEL, is_published, publish_bytes
from app.space.catalogue import ModelRef, load_model
from app.space.latent_space import LatentSpace, latent_space, reconstruction_errors_of
from app.space.test_set import test_data
from models.files.browser_export import export_decoder, pack
from models.files.images import to_uint8


def model_asset_url(ref: ModelRef, with_data: bool) -> str:
    """The model's decoder, plane and (with data) test codes on the plane, published once."""
    return _still_published(_model_asset_url, ref, with_data)


def errors_asset_url(ref: ModelRef) -> str | None:
    """The test images' reconstruction errors (float32 each, in test-set order), published once."""
    return _still_published(_errors_asset_url, ref)


def test_images_url(dataset: str) -> str | None:
    """The test images as uint8, one row of pixels per image, published once (the browser shows the
    one under the pointer)."""
    return _still_published(_test_images_url, dataset)


def _still_published(published: Any, *args: Any) -> str | None:
    """The URL `published(*args)` remembers, published again if the cache has since been pruned."""
    url = published(*args)
    if url is not None and not is_published(url):
        published.clear(*args)
        url = published(*args)
    return url


@st.cache_data(max_entries=32, show_spinner=False)
def _model_asset_url(ref: ModelRef, with_data: bool) -> str:
    model = load_model(ref).model
    space: LatentSpace = latent_space(ref)
    arrays: dict[str, np.ndarray] = {
        "plane_mean": space.plane.mean.numpy().astype("<f4"),
        "plane_components": space.plane.components.numpy().astype("<f4"),
    }
    if with_data and space.has_data:
        arrays["points"] = space.points.astype("<f4")
        arrays["labels"] = space.labels.astype(np.uint8)
        if space.projected:  # Explore's neighbours are the nearest in the full space (2-D: the points)
            arrays["codes"] = space.codes.astype("<f4")
    payload = pack(export_decoder(model), {"projected": space.projected}, arrays)
    return publish_bytes(ref.key, ".bin", payload, FAST_COMPRESSION_LEVEL)  # on the first page's path


@st.cache_data(max_entries=16, show_spinner=False)
def _errors_asset_url(ref: ModelRef) -> str | None:
    errors = reconstruction_errors_of(ref)
    return None if errors is None else publish_bytes(f"{ref.key}-errors", ".bin", errors.astype("<f4").tobytes())


@st.cache_data(max_entries=4, show_spinner=False)
def _test_images_url(dataset: str) -> str | None:
    split = test_data(dataset).split
    if split is None:
        return None
    return publish_bytes(f"{dataset}-test-images", ".bin", to_uint8(split.images).numpy().tobytes())
