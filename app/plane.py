"""The latent plane component shared by Explore, Interpolate, Draw and Sample.

The browser does the interaction (app/assets/latent_plane.js): the scatter, hover decoding
with the model's own decoder, click-anywhere selection, markers, the interpolation marker,
the manifold backdrop. Python sends it small messages (what to draw) and the URLs of large
files it fetches once and caches (plotly.js, the decoder with the test codes, the test
images; see app.static_assets). A click comes back as a `PlaneClick`, checked like any input.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import streamlit as st
import torch

from app import presenter, url_state
from app.catalogue import ModelRef, load_model
from app.latent_space import LatentSpace, latent_space, reconstruction_errors_of
from app.palette import DIGIT_COLORS
from app.plane_assets import as_component_data, asset_urls
from app.presenter import presenting
from app.static_assets import FAST_COMPRESSION_LEVEL, publish_bytes
from app.test_set import test_data
from models.decoder_export import export_decoder, pack
from models.images import to_uint8

PLOT_HEIGHT = 600
MARKER_SIZE = 5
FONT_SIZE = 14

_LOADER = """
export default function (component) {
  const data = JSON.parse(component.data.json);
  const plane = { ...component, data };
  import(new URL(data.assets.plane, document.baseURI).href).then((module) => module.render(plane));
}
"""

_CSS = """
.lp-root { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; width: 100%;
           font-family: var(--st-font, sans-serif); color: var(--st-text-color, #222); }
.lp-figure { position: relative; flex: 1 1 300px; min-width: 300px; height: var(--lp-height); }
.lp-plot { position: relative; z-index: 1; }
.lp-backdrop { position: absolute; z-index: 0; display: none; image-rendering: pixelated; pointer-events: none; }
.lp-overlay { position: absolute; left: 0; top: 0; z-index: 2; pointer-events: none; overflow: visible; }
.lp-status { position: absolute; left: 50%; top: 45%; transform: translateX(-50%); z-index: 3; }
.lp-panel { flex: 0 0 auto; width: clamp(180px, 30%, 280px); display: flex; flex-direction: column; gap: 0.4rem; }
.lp-big { width: 100%; max-width: 280px; aspect-ratio: 1; image-rendering: pixelated; background: #000;
          border-radius: 0.3rem; }
.lp-caption { font-weight: 600; font-size: 1.05rem; min-height: 1.5em; }
.lp-readout { font-variant-numeric: tabular-nums; font-size: 1rem; min-height: 1.4em; }
.lp-original { display: flex; align-items: center; gap: 0.6rem; visibility: hidden; }
.lp-original canvas, .lp-ends canvas, .lp-samples canvas { width: 64px; height: 64px; image-rendering: pixelated;
          background: #000; border-radius: 0.2rem; }
.lp-control { display: flex; align-items: center; gap: 0.4rem; font-size: 0.9rem; }
.lp-player { display: flex; align-items: center; gap: 0.5rem; }
.lp-player input { flex: 1; accent-color: #ff7f0e; height: 2rem; }
.lp-player button { font-size: 1.1rem; padding: 0.1rem 0.6rem; border-radius: 0.4rem; border: 1px solid #888;
                    background: transparent; color: inherit; cursor: pointer; }
.lp-ends { display: grid; grid-template-columns: repeat(2, auto); gap: 0.3rem; justify-content: start; }
.lp-ends figure { margin: 0; text-align: center; font-size: 0.8rem; }
.lp-samples { display: grid; grid-template-columns: repeat(auto-fill, 48px); gap: 4px; }
.lp-samples canvas { width: 48px; height: 48px; outline: 3px solid transparent; }
.lp-samples canvas.lp-highlight { outline-color: #ff7f0e; }
.lp-details { flex: 1 1 100%; min-height: 14rem; }
.lp-details h3 { font-size: 1.5rem; font-weight: 600; margin: 0.25rem 0 0.75rem; padding: 0; }
.lp-details-row { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr) minmax(0, 2fr); gap: 1rem;
                  align-items: start; max-width: 1100px; }
.lp-details-row.lp-details-point { grid-template-columns: minmax(0, 1fr) minmax(0, 3fr); }
.lp-details figure { margin: 0; text-align: center; font-size: 0.875rem; }
.lp-details figcaption { opacity: 0.75; }
.lp-details-row > figure canvas { width: 100%; max-width: 240px; aspect-ratio: 1; image-rendering: pixelated;
          background: #000; border-radius: 0.3rem; }
.lp-details-side p { margin: 0 0 0.5rem; }
.lp-neighbours { display: grid; grid-template-columns: repeat(4, minmax(0, 84px)); gap: 6px 8px; }
.lp-neighbours canvas { width: 100%; aspect-ratio: 1; image-rendering: pixelated; background: #000;
          border-radius: 0.2rem; }
.lp-details-hint { background: rgba(28, 131, 225, 0.1); color: rgb(0, 66, 128); padding: 1rem;
          border-radius: 0.5rem; margin: 0.5rem 0; }
.lp-present .lp-details { font-size: 1.15rem; }
.lp-present .lp-details-row > figure canvas { max-width: 360px; }
.lp-present .lp-neighbours { grid-template-columns: repeat(4, minmax(0, 120px)); }
.lp-present .lp-panel { width: clamp(300px, 30%, 460px); }
.lp-present .lp-big { max-width: none; }
.lp-present .lp-caption { font-size: 1.4rem; }
.lp-present .lp-readout, .lp-present .lp-control { font-size: 1.15rem; }
"""

_component = st.components.v2.component("latent_explorer.latent_plane", js=_LOADER, css=_CSS, isolate_styles=False)


class PlaneClick(NamedTuple):
    """A click on the plane, as the browser reported it (validated)."""

    x: float | None  # plot coordinates; None when a double click undid the selection
    y: float | None
    index: int | None  # the test image clicked, if any
    seq: int  # clicks counted by the page; a higher one is newer
    undo: bool  # this click undoes the previous one (the first half of a double click)


def parse_click(value: Any, count: int) -> PlaneClick | None:
    """The click in a component state value, or None if it is not a well-formed one."""
    if not isinstance(value, dict):
        return None
    seq, undo, index = value.get("seq"), bool(value.get("undo")), value.get("index")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        return None
    x, y = value.get("x"), value.get("y")
    if x is None and y is None and undo:
        return PlaneClick(None, None, None, seq, True)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (x, y)):
        return None
    if index is not None and (isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count):
        return None
    return PlaneClick(float(x), float(y), index, seq, undo)


def latent_plane(
    ref: ModelRef,
    mode: str,
    *,
    key: str,
    on_click: Callable[[PlaneClick], None] | None = None,
    **overlays: Any,
) -> None:
    """Draw the plane of `ref`'s latent space for a page (`mode`: explore, interpolate, draw or
    sample) with its overlays (see each page), and call `on_click` with each new valid click."""
    space = latent_space(ref)
    info = load_model(ref).info
    data = {
        "assets": asset_urls(),
        "model": {"url": model_asset_url(ref, space.has_data), "key": f"{ref.path}:{ref.mtime_ns}"},
        "images": test_images_url(info.dataset) if space.has_data else None,
        "mode": mode,
        "height": PLOT_HEIGHT,
        "fill_height": presenting(),  # presenter mode: as tall as the window allows
        "marker_size": presenter.MARKER_SIZE if presenting() else MARKER_SIZE,
        "font_size": presenter.FONT_SIZE if presenting() else FONT_SIZE,
        "wide_panel": presenting(),
        "bounds": [list(axis) for axis in space.bounds],
        "axis_titles": ["PC 1", "PC 2"] if space.projected else ["z₁", "z₂"],
        "colors": list(DIGIT_COLORS),
        "backdrop": False,
        "url": browser_state_in_url(),
        **overlays,
    }

    def clicked() -> None:
        click = parse_click(st.session_state.get(key, {}).get("click"), space.size)
        if click is not None and on_click is not None:
            on_click(click)

    _component(data=as_component_data(data), key=key, on_click_change=clicked)


def browser_state_in_url() -> dict[str, Any]:
    """What the plane keeps in the URL itself (zoom, hidden digits, backdrop, t), checked here,
    so a shared link opens the same view; the plane ignores it after it has mounted."""
    view = url_state.parse("view", _view)
    hidden = url_state.parse("hide", _digits)
    return {
        "view": view, "hide": hidden, "backdrop": url_state.parse("bd", url_state.flag),
        "opacity": url_state.parse("op", url_state.number(0.0, 1.0)), "t": url_state.parse("t", url_state.number(0, 1)),
    }  # fmt: skip


def _view(raw: str) -> dict[str, list[float]]:
    x0, x1, y0, y1 = (url_state.number(-1e6, 1e6)(part) for part in raw.split(","))
    if not (x1 > x0 and y1 > y0):
        raise ValueError(raw)
    return {"x": [x0, x1], "y": [y0, y1]}


def _digits(raw: str) -> list[int]:
    return sorted({url_state.whole(0, 9)(part) for part in raw.split(",") if part}) if raw else []


@st.cache_data(max_entries=32, show_spinner=False)
def model_asset_url(ref: ModelRef, with_data: bool) -> str:
    """The model's decoder, plane and (with data) test codes on the plane, published once."""
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
    return publish_bytes(ref.name, ".bin", payload, FAST_COMPRESSION_LEVEL)  # on the first page's path


@st.cache_data(max_entries=16, show_spinner=False)
def errors_asset_url(ref: ModelRef) -> str | None:
    """The test images' reconstruction errors (float32 each, in test-set order), published once."""
    errors = reconstruction_errors_of(ref)
    return None if errors is None else publish_bytes(f"{ref.name}-errors", ".bin", errors.astype("<f4").tobytes())


@st.cache_data(max_entries=4, show_spinner=False)
def test_images_url(dataset: str) -> str | None:
    """The test images as uint8 (N, 784), published once (the browser shows the one under the mouse)."""
    split = test_data(dataset).split
    if split is None:
        return None
    return publish_bytes(f"{dataset}-test-images", ".bin", to_uint8(split.images).numpy().tobytes())


def ellipse_axes(covariance: torch.Tensor) -> list[list[float]]:
    """The two 1-sigma half-axes (plot units) of a 2-D Gaussian with this (2, 2) covariance."""
    values, vectors = torch.linalg.eigh(covariance.double())
    return (vectors * values.clamp(min=0).sqrt()).T.tolist()
