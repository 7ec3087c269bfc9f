"""The 2-D plane a model's codes are drawn on, and the plot ranges on it.

A `PlaneProjection` maps D-dimensional codes to the 2-D plot plane and back; for 2-D models it is
the identity, so their plots show the raw latent coordinates. A `PlotView` is that plane with the
ranges of the test codes on it, as checkpoints store it. Float32 torch tensors in and out.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class PlaneProjection:
    """A 2-D view of a D-dimensional code space: the plane through `mean` spanned by `components`.

    For D >= 3 it is the top-two PCA plane of some codes. For D == 2 it is the identity (raw
    coordinates). For D == 1 the code is drawn as (z, 0): the second component row is zero.
    """

    mean: Tensor  # (D,)
    components: Tensor  # (2, D): orthonormal rows (the second is zero when D == 1)
    explained_variance_ratio: Tensor  # (2,): share of the codes' total variance along each axis

    def project(self, codes: Tensor) -> Tensor:
        """Plot coordinates of codes: (N, D) -> (N, 2), or (D,) -> (2,)."""
        codes = codes.to(self.mean)
        return (codes - self.mean) @ self.components.T

    def lift(self, points: Tensor) -> Tensor:
        """Codes on the plane for plot points: (N, 2) -> (N, D), or (2,) -> (D,).

        The inverse of `project` on the plane (and exactly so for 2-D models): mean + points @ components.
        """
        points = points.to(self.mean)
        return self.mean + points @ self.components

    def project_covariance(self, variances: Tensor) -> Tensor:
        """The (2, 2) covariance on the plot of a diagonal Gaussian with these variances (D,)."""
        return (self.components * variances.to(self.components)) @ self.components.T


def _variance_shares(centred: Tensor, components: Tensor) -> Tensor:
    """Variance of the centred codes along each component, as a share of their total variance."""
    total = centred.pow(2).sum()
    along = (centred @ components.T).pow(2).sum(dim=0)
    return along / total if total > 0 else torch.zeros_like(along)


def fit_plane(codes: Tensor) -> PlaneProjection:
    """The 2-D view of codes (N, D): PCA for D >= 3, the identity for D == 2, (z, 0) for D == 1.

    PCA uses the SVD of the centred codes (in float64); each component's sign is fixed so that its
    largest-magnitude entry is positive, so refitting the same codes gives the same picture.
    `explained_variance_ratio` is always the real share of the total variance along each plot axis
    (for D == 2, along raw x and y; for D == 1 it is (1, 0); all zero if the codes do not vary).
    """
    if codes.ndim != 2 or codes.shape[0] < 1 or codes.shape[1] < 1:
        raise ValueError(f"codes must have shape (N, D) with N, D >= 1, got {tuple(codes.shape)}")
    data = codes.detach().to(torch.float64)
    dim = data.shape[1]
    centred = data - data.mean(dim=0)
    if dim <= 2:
        # Low-dimensional codes are shown as they are, not rotated: mean 0, identity axes.
        components = torch.eye(2, dim, dtype=torch.float64, device=data.device)
        mean = torch.zeros(dim, dtype=torch.float64, device=data.device)
    else:
        mean = data.mean(dim=0)
        if centred.shape[0] < 2:
            # Zero rows leave the right singular vectors alone but guarantee two of them.
            centred = torch.cat([centred, centred.new_zeros(2 - centred.shape[0], dim)])
        _, _, vh = torch.linalg.svd(centred, full_matrices=False)
        components = vh[:2]
        peak = components.gather(1, components.abs().argmax(dim=1, keepdim=True))
        components = components * torch.where(peak < 0, -1.0, 1.0)
    ratio = _variance_shares(centred, components)
    return PlaneProjection(mean.float(), components.float(), ratio.float())


Bounds = tuple[tuple[float, float], tuple[float, float]]  # ((x_min, x_max), (y_min, y_max))
DEFAULT_BOUNDS: Bounds = ((-3.0, 3.0), (-3.0, 3.0))


def latent_bounds(points: Tensor, margin: float = 0.05, quantile: float = 0.999) -> Bounds:
    """((x_min, x_max), (y_min, y_max)) covering 2-D points (N, 2), ignoring extreme outliers.

    Each axis spans the [1 - quantile, quantile] quantiles of the finite points, widened by
    `margin` times its span on both sides. An axis on which all points agree gets span 1 around
    that value, so the range is never empty.
    """
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2), got {tuple(points.shape)}")
    if not 0.5 <= quantile <= 1.0 or margin < 0:
        raise ValueError(f"need 0.5 <= quantile <= 1 and margin >= 0, got quantile={quantile}, margin={margin}")
    values = points.detach().to(torch.float64)
    values = values[torch.isfinite(values).all(dim=1)]
    if len(values) == 0:
        raise ValueError("latent_bounds needs at least one finite point")
    levels = torch.tensor([1.0 - quantile, quantile], dtype=torch.float64, device=values.device)
    ranges = []
    for axis in range(2):
        low, high = torch.quantile(values[:, axis], levels).tolist()
        if not high - low > 0:
            low, high = low - 0.5, high + 0.5
        pad = margin * (high - low)
        ranges.append((low - pad, high + pad))
    return (ranges[0][0], ranges[0][1]), (ranges[1][0], ranges[1][1])


@dataclass(frozen=True)
class PlotView:
    """How a model's test codes are drawn: their 2-D plane and the plot ranges on it.

    Checkpoints store it (as `to_dict()`), so the app draws the right plane and ranges
    even where the test set is not available.
    """

    plane: PlaneProjection
    bounds: Bounds  # ((x_min, x_max), (y_min, y_max)) from `latent_bounds`

    def to_dict(self) -> dict[str, list]:
        return {
            "mean": self.plane.mean.tolist(),
            "components": self.plane.components.tolist(),
            "explained": self.plane.explained_variance_ratio.tolist(),
            "bounds": [list(axis) for axis in self.bounds],
        }

    @classmethod
    def default(cls, latent_dim: int) -> PlotView:
        """Where nothing better is known: the first two raw axes, ±3 on each (a VAE prior's 99.7%)."""
        components = torch.eye(2, latent_dim)  # for a 1-D model the second row is zero
        plane = PlaneProjection(torch.zeros(latent_dim), components, torch.zeros(2))
        return cls(plane, DEFAULT_BOUNDS)

    @classmethod
    def stored_or_default(cls, data: dict, latent_dim: int) -> PlotView:
        """The view stored in a checkpoint, or `default` where it has none (or a damaged one)."""
        try:
            return cls.from_dict(data, latent_dim)
        except ValueError:
            return cls.default(latent_dim)

    @classmethod
    def from_dict(cls, data: dict, latent_dim: int) -> PlotView:
        """The inverse of `to_dict`, checked against the model's latent size; ValueError if unusable."""
        try:
            mean = torch.tensor(data["mean"], dtype=torch.float32)
            components = torch.tensor(data["components"], dtype=torch.float32)
            explained = torch.tensor(data["explained"], dtype=torch.float32)
            bounds = torch.tensor(data["bounds"], dtype=torch.float64)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a plot view: {error}") from None
        shapes = (mean.shape, components.shape, explained.shape, bounds.shape)
        if shapes != ((latent_dim,), (2, latent_dim), (2,), (2, 2)):
            raise ValueError(f"plot view shapes {[tuple(s) for s in shapes]} do not fit a {latent_dim}-D model")
        values = (mean, components, explained, bounds)
        if not all(torch.isfinite(v).all() for v in values) or not (bounds[:, 1] > bounds[:, 0]).all():
            raise ValueError("plot view has non-finite values or empty ranges")
        (x0, x1), (y0, y1) = bounds.tolist()
        return cls(PlaneProjection(mean, components, explained), ((x0, x1), (y0, y1)))


def square_bounds(bounds: Bounds) -> Bounds:
    """Widen the narrower axis so both spans are equal: with equal axis scales the plot is square."""
    span = max(high - low for low, high in bounds)
    (x_centre, y_centre) = ((low + high) / 2 for low, high in bounds)
    return (x_centre - span / 2, x_centre + span / 2), (y_centre - span / 2, y_centre + span / 2)


def plot_view(codes: Tensor) -> PlotView:
    """The plane of codes (N, D) (`fit_plane`) and the ranges of their projections (`latent_bounds`)."""
    plane = fit_plane(codes)
    return PlotView(plane, latent_bounds(plane.project(codes)))
