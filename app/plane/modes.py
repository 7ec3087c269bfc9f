"""What the plane does on a page: one dataclass per mode, named by behaviour.

A page passes one of these to `latent_plane`; the browser's mode of the same `name`
(app/plane/js/modes/) reads exactly these fields. An object that is not one of them is refused.
Coordinates are plot coordinates on the model's plane; codes are full latent codes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import torch


@dataclass(frozen=True)
class Selection:
    """A selected point of the plane (and the test image there, if any)."""

    x: float
    y: float
    index: int | None = None  # the test image selected, if it was one
    seq: int = 0  # the browser's count of clicks when it was made (0: chosen by the server)


@dataclass(frozen=True)
class SelectMode:
    """Point anywhere to decode it, click to select a point (Explore; Compare's test images)."""

    name: ClassVar[str] = "select"
    selected: Selection | None = None
    errors: str | None = None  # URL of the test images' reconstruction errors: colour the points by them
    neighbours: int = 0  # test images nearest to the selection shown below the plot (0: no details)


@dataclass(frozen=True)
class WalkEnd:
    """One end of a walk, as the browser draws it."""

    code: tuple[float, ...]  # full latent code
    index: int | None = None  # the test image it is, if any


@dataclass(frozen=True)
class WalkMode:
    """A walk from A to B moved by t, a click setting A or B (Interpolate; Compare's walk)."""

    name: ClassVar[str] = "walk"
    a: WalkEnd
    b: WalkEnd
    target: str = "A"  # the end the next click sets
    spherical: bool = False  # slerp instead of lerp
    ends_seq: int = 0  # the browser's click the server's ends include (newer local clicks win)


@dataclass(frozen=True)
class Ellipse:
    """A Gaussian's 1-sigma ellipse on the plane."""

    center: tuple[float, float]
    axes: tuple[tuple[float, float], tuple[float, float]]  # the two half-axes, in plot units

    @classmethod
    def of(cls, center: tuple[float, float], covariance: torch.Tensor) -> Ellipse:
        """The ellipse of a 2-D Gaussian with this (2, 2) covariance on the plane."""
        values, vectors = torch.linalg.eigh(covariance.double())
        first, second = (vectors * values.clamp(min=0).sqrt()).T.tolist()
        return cls((float(center[0]), float(center[1])), (tuple(first), tuple(second)))


@dataclass(frozen=True)
class EncodeMode:
    """Where an input lands: a star, a VAE's posterior ellipse and samples from it (Draw)."""

    name: ClassVar[str] = "encode"
    point: tuple[float, float] | None = None  # the input's code on the plane (None: nothing drawn yet)
    ellipse: Ellipse | None = None
    posterior_samples: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class SamplesMode:
    """Codes drawn at random, decoded beside the plane and marked on it as diamonds (Sample; Compare)."""

    name: ClassVar[str] = "samples"
    codes: tuple[tuple[float, ...], ...] = field(default=())


PlaneMode = SelectMode | WalkMode | EncodeMode | SamplesMode
MODES: tuple[type, ...] = (SelectMode, WalkMode, EncodeMode, SamplesMode)


def mode_data(mode: PlaneMode) -> dict[str, Any]:
    """The mode as the browser reads it: its fields and its name. TypeError for anything else."""
    if type(mode) not in MODES:
        raise TypeError(f"the plane has no mode {mode!r}; use one of {', '.join(m.__name__ for m in MODES)}")
    return {"name": mode.name, **asdict(mode)}
