"""Endpoints of an interpolation: a latent code plus where it came from, and the plane's walk between two."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from app.plane.component import PlaneClick
from app.plane.modes import WalkEnd, WalkMode
from app.space.catalogue import ModelRef
from app.space.latent_space import LatentSpace, clear_example_index
from models.evaluation.metrics import farthest_labels

# Without data the default path crosses the plane's centre diagonally.
FALLBACK_POINTS = ((-1.5, -1.5), (1.5, 1.5))
DEFAULT_DIGITS = (3, 8)  # what the random-digit pickers offer first, before the ends are known


class Endpoint(NamedTuple):
    code: tuple[float, ...]  # full latent code
    point: tuple[float, float]  # position on the plot
    index: int | None  # test-set index, if it is a test image
    label: int | None  # its digit

    def describe(self) -> str:
        where = f"z = ({self.point[0]:.2f}, {self.point[1]:.2f})"
        return f"test image #{self.index} (a {self.label}), {where}" if self.index is not None else where


def endpoint_from_index(space: LatentSpace, index: int) -> Endpoint:
    return Endpoint(
        tuple(float(v) for v in space.codes[index]),
        (float(space.points[index, 0]), float(space.points[index, 1])),
        index,
        int(space.labels[index]),
    )


def endpoint_from_point(space: LatentSpace, x: float, y: float) -> Endpoint:
    code = space.plane.lift(torch.tensor([[x, y]], dtype=torch.float32))[0]
    return Endpoint(tuple(float(v) for v in code), (float(x), float(y)), None, None)


def endpoint_from_click(space: LatentSpace, pick: PlaneClick) -> Endpoint:
    if pick.index is not None and space.has_data:
        return endpoint_from_index(space, pick.index)
    return endpoint_from_point(space, pick.x, pick.y)


def random_endpoint(space: LatentSpace, digit: int, rng: np.random.Generator) -> Endpoint:
    return endpoint_from_index(space, int(rng.choice(np.flatnonzero(space.labels == digit))))


def walk_mode(ends: dict[str, Endpoint], target: str, spherical: bool = False, ends_seq: int = 0) -> WalkMode:
    """The plane's walk between these ends (see app.plane.modes.WalkMode)."""
    a, b = (WalkEnd(ends[side].code, ends[side].index) for side in "AB")
    return WalkMode(a, b, target, spherical, ends_seq)


def default_endpoints(ref: ModelRef, space: LatentSpace) -> dict[str, Endpoint]:
    """Test images of the two digits farthest apart on this model's plane, each one the model
    reconstructs recognisably (the walk crosses the plane); two plane points without data."""
    if space.has_data:
        digits = farthest_labels(torch.from_numpy(space.points), torch.from_numpy(space.labels))
        a, b = (clear_example_index(ref, digit) for digit in digits)
        return {"A": endpoint_from_index(space, a), "B": endpoint_from_index(space, b)}
    return {side: endpoint_from_point(space, *p) for side, p in zip("AB", FALLBACK_POINTS, strict=True)}
