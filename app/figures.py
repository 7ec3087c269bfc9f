"""Plotly figure builders for the latent plane.

One `Scattergl` trace per digit (so the legend can hide digits) with the test-set index
in `customdata`, plus an invisible grid trace that makes empty space clickable: a click
there selects the nearest grid point, which is decoded and drawn as the selection marker.
Overlays (paths, marks, ellipses) are extra traces added after those, so selections on
the data and grid traces keep their meaning; they are WebGL traces too, because SVG traces
are drawn underneath the WebGL canvas and would be hidden by the digits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app.catalogue import ModelRef
from app.latent_space import LatentSpace, latent_space, manifold_uri
from models.latent import Bounds

# One colour per digit: Paul Tol's "muted" qualitative scheme, made to stay distinct for readers
# with colour-vision deficiencies. Its tenth colour (pale grey, #DDDDDD) is darkened to #777777
# so that the 9s show on a white plot.
DIGIT_COLORS = (
    "#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE",
    "#882255", "#44AA99", "#999933", "#AA4499", "#777777",
)  # fmt: skip
EMPTY_SPACE = -1  # customdata of the invisible targets: a click on empty space rather than a digit
EMPTY_SPACE_TARGETS = 120  # grid points per axis: a click in empty space lands within 1/240 of the range
PLOT_HEIGHT = 640
HOVER_POINT = "z = (%{x:.2f}, %{y:.2f})"


@dataclass(frozen=True)
class Mark:
    """A labelled marker drawn on top of the scatter."""

    x: float
    y: float
    label: str
    color: str = "#000000"
    symbol: str = "x"
    size: int = 16


def empty_space_targets(bounds: Bounds, data: np.ndarray | None = None, n: int = EMPTY_SPACE_TARGETS) -> np.ndarray:
    """(M, 2) evenly spaced points covering the plot ranges, leaving room around the data.

    Plotly gives a click to the nearest point of any trace, so grid points right next to a
    digit would steal clicks aimed at it: every grid point within one grid step of a data
    point is dropped, and a click there selects the digit.
    """
    (x0, x1), (y0, y1) = bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, n, dtype=np.float32), np.linspace(y0, y1, n, dtype=np.float32))
    free = np.ones((n, n), dtype=bool)
    if data is not None and len(data):
        col = np.rint((data[:, 0] - x0) / (x1 - x0) * (n - 1)).astype(int)
        row = np.rint((data[:, 1] - y0) / (y1 - y0) * (n - 1)).astype(int)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                r, c = row + dr, col + dc
                inside = (r >= 0) & (r < n) & (c >= 0) & (c < n)
                free[r[inside], c[inside]] = False
    return np.stack([gx[free], gy[free]], axis=1)


def latent_figure(
    space: LatentSpace,
    *,
    backdrop: str | None = None,
    path: np.ndarray | None = None,
    marks: Sequence[Mark] = (),
    ellipse: np.ndarray | None = None,
    extra_points: np.ndarray | None = None,
    clickable: bool = True,
    revision: str = "",
    height: int = PLOT_HEIGHT,
) -> go.Figure:
    """The latent scatter with optional manifold backdrop and overlays.

    `revision` keeps zoom and legend state across reruns while it stays the same.
    """
    figure = go.Figure()
    (x0, x1), (y0, y1) = space.bounds
    if space.has_data:
        for digit in range(10):
            index = np.flatnonzero(space.labels == digit)
            figure.add_trace(
                go.Scattergl(
                    x=space.points[index, 0],
                    y=space.points[index, 1],
                    mode="markers",
                    name=str(digit),
                    customdata=index,
                    marker={"size": 5, "color": DIGIT_COLORS[digit], "opacity": 0.75},
                    selected={"marker": {"size": 14, "color": "#000000", "opacity": 1}},
                    unselected={"marker": {"opacity": 0.75}},
                    hovertemplate=f"digit {digit} · test #%{{customdata}}<br>{HOVER_POINT}<extra></extra>",
                )
            )
    if clickable:
        grid = empty_space_targets(space.bounds, space.points)
        figure.add_trace(
            go.Scattergl(
                x=grid[:, 0],
                y=grid[:, 1],
                mode="markers",
                name="latent plane",
                showlegend=False,
                customdata=np.full(len(grid), EMPTY_SPACE),
                marker={"size": 4, "color": "#000000", "opacity": 0},
                selected={"marker": {"size": 16, "color": "#d62728", "opacity": 1}},
                unselected={"marker": {"opacity": 0}},
                hovertemplate="decode z = (%{x:.2f}, %{y:.2f})<extra></extra>",
            )
        )
    if extra_points is not None and len(extra_points):
        figure.add_trace(_overlay_points(extra_points))
    if ellipse is not None:
        figure.add_trace(
            go.Scattergl(x=ellipse[:, 0], y=ellipse[:, 1], mode="lines", name="1σ posterior",
                       line={"color": "#000000", "width": 2, "dash": "dot"}, hoverinfo="skip")
        )  # fmt: skip
    if path is not None:
        figure.add_trace(
            go.Scattergl(x=path[:, 0], y=path[:, 1], mode="lines", name="path A→B",
                       line={"color": "#000000", "width": 3}, hoverinfo="skip")
        )  # fmt: skip
    for mark in marks:
        figure.add_trace(
            go.Scattergl(
                x=[mark.x], y=[mark.y], mode="markers+text", text=[mark.label], textposition="top center",
                textfont={"size": 18, "color": mark.color}, name=mark.label, showlegend=False, hoverinfo="skip",
                marker={"size": mark.size, "color": mark.color, "symbol": mark.symbol,
                        "line": {"width": 2, "color": "#ffffff"}},
            )
        )  # fmt: skip
    layout: dict[str, Any] = {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "xaxis": {"range": [x0, x1], "title": "z₁" if not space.projected else "PC 1", "zeroline": False},
        "yaxis": {"range": [y0, y1], "title": "z₂" if not space.projected else "PC 2", "zeroline": False,
                  "scaleanchor": "x", "scaleratio": 1},
        "legend": {"title": {"text": "digit "}, "itemsizing": "constant", "font": {"size": 16}, "orientation": "h",
                   "yanchor": "bottom", "y": 1.01, "xanchor": "left", "x": 0},
        "font": {"size": 15},
        "plot_bgcolor": "#ffffff",
        "uirevision": revision or "latent",
        "clickmode": "event+select",
        "dragmode": "zoom",
        "hovermode": "closest",
    }  # fmt: skip
    if backdrop:
        layout["images"] = [
            {"source": backdrop, "xref": "x", "yref": "y", "x": x0, "y": y1, "sizex": x1 - x0, "sizey": y1 - y0,
             "sizing": "stretch", "layer": "below", "opacity": 0.55}
        ]  # fmt: skip
    figure.update_layout(**layout)
    return figure


@st.cache_resource(max_entries=16, show_spinner=False)
def explore_figure(ref: ModelRef, backdrop: bool) -> go.Figure:
    """The clickable scatter of a model, built once per model and backdrop setting.

    Building a 20k-point figure takes 50-200 ms here; caching it keeps that off every click.
    Shared by all sessions, so it is never mutated (st.plotly_chart only reads it).
    """
    space = latent_space(ref)
    return latent_figure(space, backdrop=manifold_uri(ref, space.bounds) if backdrop else None, revision=ref.path)


def _overlay_points(points: np.ndarray) -> go.Scattergl:
    return go.Scattergl(
        x=points[:, 0], y=points[:, 1], mode="markers", name="samples", hoverinfo="skip",
        marker={"size": 9, "color": "#000000", "symbol": "diamond-open", "line": {"width": 2}},
    )  # fmt: skip


def ellipse_points(center: np.ndarray, covariance: np.ndarray, sigmas: float = 1.0, n: int = 100) -> np.ndarray:
    """(n, 2) points on the `sigmas`-sigma ellipse of a 2-D Gaussian."""
    values, vectors = np.linalg.eigh(covariance)
    angles = np.linspace(0, 2 * np.pi, n)
    circle = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return center + sigmas * (circle * np.sqrt(np.maximum(values, 0))) @ vectors.T
