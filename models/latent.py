"""Latent-space geometry for the app: interpolation, grids, a 2-D view of any code space, neighbours.

Everything takes and returns float32 torch tensors (on the inputs' device) and is independent
of any model: codes go in, codes or plot coordinates come out.

Conventions:
- A "grid" is row-major with y descending: row 0 is the top of the picture (y_max) and each
  row runs left to right (x_min to x_max), so tiling decoded grid images reads like a plot.
- A `PlaneProjection` maps D-dimensional codes to the 2-D plot plane and back; for 2-D models
  it is the identity, so their plots show the raw latent coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor

PARALLEL_COSINE = 1.0 - 1e-6  # |cos| above this: the great circle is undefined, slerp falls back to lerp
ZERO_NORM = 1e-12  # a vector this short has no direction


def _vector_pair(z_a: Tensor, z_b: Tensor) -> tuple[Tensor, Tensor]:
    z_a, z_b = torch.as_tensor(z_a), torch.as_tensor(z_b)
    if z_a.ndim != 1 or z_a.shape != z_b.shape:
        raise ValueError(
            f"z_a and z_b must be vectors of the same length, got {tuple(z_a.shape)} and {tuple(z_b.shape)}"
        )
    return z_a.to(torch.float32), z_b.to(torch.float32)


def _fractions(t: float | Tensor, like: Tensor) -> tuple[Tensor, bool]:
    """t as a (T, 1) float32 column on `like`'s device, and whether it was a scalar."""
    values = torch.as_tensor(t, dtype=torch.float32, device=like.device)
    if values.ndim > 1:
        raise ValueError(f"t must be a float or a 1-D tensor, got shape {tuple(values.shape)}")
    return values.reshape(-1, 1), values.ndim == 0


def _pin_endpoints(path: Tensor, t: Tensor, z_a: Tensor, z_b: Tensor) -> Tensor:
    # Rounding must never move the endpoints: t == 0 is z_a and t == 1 is z_b, bit for bit.
    path = torch.where(t == 0, z_a, path)
    return torch.where(t == 1, z_b, path)


def lerp(z_a: Tensor, z_b: Tensor, t: float | Tensor) -> Tensor:
    """Linear interpolation z_a (1 - t) + z_b t: shape (D,) for a scalar t, (T, D) for T values of t."""
    z_a, z_b = _vector_pair(z_a, z_b)
    column, scalar = _fractions(t, z_a)
    path = _pin_endpoints(z_a * (1 - column) + z_b * column, column, z_a, z_b)
    return path[0] if scalar else path


def slerp(z_a: Tensor, z_b: Tensor, t: float | Tensor) -> Tensor:
    """Spherical interpolation about the origin: shape (D,) for a scalar t, (T, D) otherwise.

    The direction moves at constant angular speed along the great circle from z_a's direction to
    z_b's, and the length is interpolated linearly between |z_a| and |z_b|. (For equal norms this
    is exactly Shoemake's slerp; for unequal norms it keeps every point's norm between the two.)
    Falls back to `lerp` when either vector is zero or they are (anti)parallel, where the great
    circle is not defined.
    """
    z_a, z_b = _vector_pair(z_a, z_b)
    column, scalar = _fractions(t, z_a)
    # Float64 for the angle: acos near +-1 loses most of its digits in float32.
    a, b, c = z_a.double(), z_b.double(), column.double()
    norm_a, norm_b = torch.linalg.vector_norm(a), torch.linalg.vector_norm(b)
    if norm_a < ZERO_NORM or norm_b < ZERO_NORM:
        return lerp(z_a, z_b, t)
    unit_a, unit_b = a / norm_a, b / norm_b
    cosine = torch.dot(unit_a, unit_b).clamp(-1.0, 1.0)
    if abs(cosine.item()) > PARALLEL_COSINE:
        return lerp(z_a, z_b, t)
    omega = torch.arccos(cosine)
    direction = (torch.sin((1 - c) * omega) * unit_a + torch.sin(c * omega) * unit_b) / torch.sin(omega)
    path = (direction * (norm_a * (1 - c) + norm_b * c)).to(torch.float32)
    path = _pin_endpoints(path, column, z_a, z_b)
    return path[0] if scalar else path


def interpolation_path(z_a: Tensor, z_b: Tensor, steps: int, spherical: bool = False) -> Tensor:
    """`steps` codes from z_a to z_b (both included) at evenly spaced t in [0, 1], shape (steps, D)."""
    if steps < 2:
        raise ValueError(f"an interpolation path needs at least 2 steps, got {steps}")
    t = torch.linspace(0.0, 1.0, steps)
    t[-1] = 1.0  # linspace is exact at the ends today; make sure of it
    return (slerp if spherical else lerp)(z_a, z_b, t)


def grid_points(x_range: tuple[float, float], y_range: tuple[float, float], n: int) -> Tensor:
    """An n x n grid of 2-D points, shape (n * n, 2), in picture order.

    Row-major with y descending: point r * n + c has x = the c-th of n evenly spaced values from
    x_min to x_max and y = the r-th from y_max down to y_min. So index 0 is (x_min, y_max), the
    top-left of a plot, and index n * n - 1 is (x_max, y_min). With n == 1 the one point is the
    centre of the ranges.
    """
    if n < 1:
        raise ValueError(f"a grid needs n >= 1 points per side, got {n}")
    (x_min, x_max), (y_min, y_max) = x_range, y_range
    if n == 1:
        return torch.tensor([[(x_min + x_max) / 2, (y_min + y_max) / 2]], dtype=torch.float32)
    xs = torch.linspace(x_min, x_max, n, dtype=torch.float32)
    ys = torch.linspace(y_max, y_min, n, dtype=torch.float32)
    rows, cols = torch.meshgrid(ys, xs, indexing="ij")  # rows[r, c] = ys[r], cols[r, c] = xs[c]
    return torch.stack([cols.reshape(-1), rows.reshape(-1)], dim=1)


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


class Neighbours(NamedTuple):
    indices: Tensor  # int64 (k,): rows of `codes`, nearest first
    distances: Tensor  # float32 (k,): Euclidean distances, ascending


def nearest(codes: Tensor, point: Tensor, k: int) -> Neighbours:
    """The k codes (N, D) nearest to point (D,) in Euclidean distance; k is clipped to N.

    Ties are broken by index (a stable sort), so the answer is deterministic.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if codes.ndim != 2 or point.shape != codes.shape[1:]:
        raise ValueError(f"codes (N, D) and point (D,) do not match: {tuple(codes.shape)} and {tuple(point.shape)}")
    distances = torch.linalg.vector_norm(codes.float() - point.to(codes.device, torch.float32), dim=1)
    k = min(k, len(distances))
    if k == 0:
        return Neighbours(torch.zeros(0, dtype=torch.int64), distances)
    # Sort only the codes as near as the k-th (a quarter of the time of sorting all 10,000);
    # they are in index order, so a stable sort still breaks ties by index.
    candidates = torch.nonzero(distances <= torch.kthvalue(distances, k).values).squeeze(1)
    order = candidates[torch.sort(distances[candidates], stable=True).indices[:k]]
    return Neighbours(order, distances[order])


def nearest_distances(reference: Tensor, queries: Tensor, own_rows: Tensor | None = None, chunk: int = 1024) -> Tensor:
    """For each query (M, D), the Euclidean distance to its nearest reference code (N, D), shape (M,).

    `own_rows` (M,) says which reference row each query is, to skip it (its distance is 0).
    Computed in chunks, so memory stays at chunk x N.
    """
    reference, queries = reference.float(), queries.float()
    found = []
    for start in range(0, len(queries), chunk):
        distances = torch.cdist(queries[start : start + chunk], reference)
        if own_rows is not None:
            distances[torch.arange(len(distances)), own_rows[start : start + chunk]] = float("inf")
        found.append(distances.min(dim=1).values)
    return torch.cat(found) if found else queries.new_zeros(0)


def share_in_holes(codes: Tensor, samples: Tensor, quantile: float = 0.95, probe: int = 2000, seed: int = 0) -> float:
    """The share of `samples` that land in a hole of the code space: farther from every code than
    `quantile` of the codes are from their own nearest neighbour (judged on `probe` of them)."""
    chosen = torch.randperm(len(codes), generator=torch.Generator().manual_seed(seed))[:probe]
    spacing = nearest_distances(codes, codes[chosen], own_rows=chosen)
    return float((nearest_distances(codes, samples) > torch.quantile(spacing, quantile)).float().mean())


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
