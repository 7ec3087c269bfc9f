"""Latent geometry: interpolation, grids and tiling, the 2-D plane view, neighbours, plot bounds."""

from __future__ import annotations

import pytest
import torch

from models.evaluation.neighbours import nearest, nearest_distances, share_in_holes
from models.geometry.interpolation import interpolation_path, lerp, slerp
from models.geometry.plane import PlaneProjection, PlotView, fit_plane, latent_bounds, plot_view


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("interpolate", [lerp, slerp])
def test_endpoints_are_exact(interpolate) -> None:
    z_a, z_b = torch.randn(2, 16, generator=_generator())
    assert torch.equal(interpolate(z_a, z_b, 0.0), z_a)
    assert torch.equal(interpolate(z_a, z_b, 1.0), z_b)
    path = interpolate(z_a, z_b, torch.tensor([0.0, 0.3, 1.0]))
    assert path.shape == (3, 16) and path.dtype == torch.float32
    assert torch.equal(path[0], z_a) and torch.equal(path[-1], z_b)


def test_lerp_midpoint_and_scalar_shape() -> None:
    z_a, z_b = torch.tensor([0.0, 2.0, -4.0]), torch.tensor([2.0, 6.0, 4.0])
    mid = lerp(z_a, z_b, 0.5)
    assert mid.shape == (3,)
    assert torch.allclose(mid, torch.tensor([1.0, 4.0, 0.0]))
    assert torch.allclose(lerp(z_a, z_b, torch.tensor([0.25]))[0], z_a * 0.75 + z_b * 0.25)


def test_slerp_preserves_norm_for_equal_norms_and_moves_along_the_arc() -> None:
    z_a, z_b = torch.randn(2, 8, generator=_generator(1))
    z_b = z_b * (z_a.norm() / z_b.norm())
    t = torch.linspace(0, 1, 11)
    path = slerp(z_a, z_b, t)
    assert torch.allclose(path.norm(dim=1), z_a.norm().expand(11), rtol=1e-5)
    # Constant angular speed: the angle to z_a grows linearly with t.
    cosines = (path @ z_a) / (path.norm(dim=1) * z_a.norm())
    angles = torch.arccos(cosines.clamp(-1, 1).double())
    total = angles[-1]
    assert torch.allclose(angles, t.double() * total, atol=1e-3)
    # And it is not the chord: the lerp midpoint is strictly shorter.
    assert lerp(z_a, z_b, 0.5).norm() < path[5].norm() - 1e-3


def test_slerp_norm_stays_between_endpoint_norms() -> None:
    z_a, z_b = torch.tensor([3.0, 0.0]), torch.tensor([0.0, 1.0])
    norms = slerp(z_a, z_b, torch.linspace(0, 1, 21)).norm(dim=1)
    assert torch.all(norms <= 3.0 + 1e-5) and torch.all(norms >= 1.0 - 1e-5)
    assert torch.allclose(norms, torch.linspace(3.0, 1.0, 21), atol=1e-5)  # linear in t


@pytest.mark.parametrize(
    ("z_a", "z_b"),
    [
        ([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]),  # parallel
        ([1.0, 2.0, 3.0], [-1.0, -2.0, -3.0]),  # antiparallel
        ([0.0, 0.0, 0.0], [1.0, -1.0, 2.0]),  # zero vector
    ],
)
def test_slerp_falls_back_to_lerp_without_a_great_circle(z_a, z_b) -> None:
    z_a, z_b = torch.tensor(z_a), torch.tensor(z_b)
    t = torch.linspace(0, 1, 7)
    path = slerp(z_a, z_b, t)
    assert torch.isfinite(path).all()
    assert torch.allclose(path, lerp(z_a, z_b, t), atol=1e-6)


def test_interpolation_path_shape_and_spacing() -> None:
    z_a, z_b = torch.zeros(5), torch.ones(5)
    path = interpolation_path(z_a, z_b, 6)
    assert path.shape == (6, 5)
    assert torch.allclose(path[:, 0], torch.linspace(0, 1, 6))
    assert torch.equal(path[-1], z_b)
    spherical = interpolation_path(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]), 3, spherical=True)
    assert torch.allclose(spherical[1], torch.tensor([2**-0.5, 2**-0.5]))
    with pytest.raises(ValueError):
        interpolation_path(z_a, z_b, 1)


def _plane_data(count: int = 500, dim: int = 6, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Points on a known 2-D plane in R^dim (with unequal spread), its offset and an orthonormal basis."""
    gen = _generator(seed)
    basis, _ = torch.linalg.qr(torch.randn(dim, 2, generator=gen))
    offset = torch.randn(dim, generator=gen) * 3
    coefficients = torch.randn(count, 2, generator=gen) * torch.tensor([4.0, 1.5])
    return offset + coefficients @ basis.T, offset, basis.T


def test_pca_recovers_a_known_plane() -> None:
    codes, offset, basis = _plane_data()
    plane = fit_plane(codes)
    assert plane.components.shape == (2, 6) and plane.mean.shape == (6,)
    assert torch.allclose(plane.components @ plane.components.T, torch.eye(2), atol=1e-5)
    # Same plane: each true basis vector lies in the span of the fitted components.
    in_span = basis @ plane.components.T @ plane.components
    assert torch.allclose(in_span, basis, atol=1e-4)
    assert torch.allclose(plane.lift(plane.project(codes)), codes, atol=1e-4)
    assert torch.allclose(plane.lift(plane.project(offset)), offset, atol=1e-4)  # the plane is not shifted
    assert torch.allclose(plane.mean, codes.mean(dim=0), atol=1e-5)
    assert plane.project(codes).shape == (500, 2)
    assert plane.explained_variance_ratio[0] > plane.explained_variance_ratio[1]
    assert torch.isclose(plane.explained_variance_ratio.sum(), torch.tensor(1.0), atol=1e-5)
    # Off the plane, project + lift is the orthogonal projection: the residual is normal to it.
    off = codes[:10] + torch.randn(10, 6, generator=_generator(5))
    residual = off - plane.lift(plane.project(off))
    assert torch.allclose(residual @ plane.components.T, torch.zeros(10, 2), atol=1e-4)


def test_pca_is_deterministic_with_sign_convention() -> None:
    codes, _, _ = _plane_data(seed=3)
    first, second = fit_plane(codes), fit_plane(codes.flip(0))
    assert torch.allclose(first.components, second.components, atol=1e-5)
    peaks = first.components.gather(1, first.components.abs().argmax(dim=1, keepdim=True))
    assert torch.all(peaks > 0)


def test_two_dimensional_codes_use_raw_coordinates_exactly() -> None:
    codes = torch.randn(200, 2, generator=_generator(2)) * torch.tensor([3.0, 1.0]) + 7
    plane = fit_plane(codes)
    assert torch.equal(plane.components, torch.eye(2)) and torch.equal(plane.mean, torch.zeros(2))
    assert torch.equal(plane.project(codes), codes)
    assert torch.equal(plane.lift(plane.project(codes)), codes)
    ratio = plane.explained_variance_ratio
    assert ratio[0] > 0.8 and torch.isclose(ratio.sum(), torch.tensor(1.0))


def test_one_dimensional_codes_are_drawn_on_the_x_axis() -> None:
    codes = torch.tensor([[1.0], [-2.0], [3.5]])
    plane = fit_plane(codes)
    assert torch.equal(plane.project(codes), torch.tensor([[1.0, 0.0], [-2.0, 0.0], [3.5, 0.0]]))
    assert torch.equal(plane.lift(torch.tensor([[0.5, 9.0]])), torch.tensor([[0.5]]))
    assert torch.equal(plane.explained_variance_ratio, torch.tensor([1.0, 0.0]))


def test_plane_projection_accepts_single_vectors() -> None:
    plane = PlaneProjection(torch.zeros(3), torch.eye(2, 3), torch.tensor([0.5, 0.5]))
    assert torch.equal(plane.project(torch.tensor([1.0, 2.0, 3.0])), torch.tensor([1.0, 2.0]))
    assert torch.equal(plane.lift(torch.tensor([1.0, 2.0])), torch.tensor([1.0, 2.0, 0.0]))


def test_nearest_matches_brute_force() -> None:
    codes = torch.randn(300, 5, generator=_generator(4))
    point = torch.randn(5, generator=_generator(6))
    result = nearest(codes, point, 7)
    brute = sorted(range(300), key=lambda i: torch.dist(codes[i], point).item())[:7]
    assert result.indices.tolist() == brute
    assert result.indices.dtype == torch.int64
    assert torch.all(result.distances[1:] >= result.distances[:-1])
    assert torch.allclose(result.distances, torch.stack([torch.dist(codes[i], point) for i in brute]))
    assert len(nearest(codes[:3], point, 10).indices) == 3  # k clipped to N
    assert nearest(codes, codes[42], 1).indices.tolist() == [42]


@pytest.mark.parametrize("seed", range(30))
def test_nearest_breaks_ties_by_index_like_a_full_stable_sort(seed: int) -> None:
    gen = _generator(seed)
    codes = torch.randint(-3, 4, (500, 2), generator=gen).float()  # a coarse grid: many equal distances
    point = torch.randint(-2, 3, (2,), generator=gen).float()
    distances = torch.linalg.vector_norm(codes - point, dim=1)
    for k in (1, 5, 9, 50, 500, 600):
        expected = torch.sort(distances, stable=True).indices[:k]
        assert torch.equal(nearest(codes, point, k).indices, expected), k


def test_bounds_cover_the_points_robustly() -> None:
    points = torch.randn(5000, 2, generator=_generator(7)) * torch.tensor([1.0, 5.0])
    points[:3] = torch.tensor([[1e6, -1e6], [-1e6, 1e6], [float("nan"), 0.0]])  # outliers and garbage
    (x_min, x_max), (y_min, y_max) = latent_bounds(points)
    inside = (points[:, 0] >= x_min) & (points[:, 0] <= x_max) & (points[:, 1] >= y_min) & (points[:, 1] <= y_max)
    assert inside.float().mean() >= 0.99
    assert x_max - x_min < 20 and y_max - y_min < 100  # the outliers did not stretch the view
    assert y_max - y_min > 3 * (x_max - x_min)  # each axis follows its own spread
    # All points equal: a non-empty range around them.
    (lo, hi), _ = latent_bounds(torch.full((4, 2), 2.0))
    assert lo < 2.0 < hi


@pytest.mark.parametrize("dim", [1, 2, 5])
def test_plot_view_round_trips_through_json_and_matches_the_codes(dim: int) -> None:
    import json

    codes = torch.randn(500, dim, generator=_generator()) * torch.arange(1, dim + 1) + 3.0
    view = plot_view(codes)
    assert view.bounds == latent_bounds(view.plane.project(codes))
    again = PlotView.from_dict(json.loads(json.dumps(view.to_dict())), dim)
    assert [*again.bounds[0], *again.bounds[1]] == pytest.approx([*view.bounds[0], *view.bounds[1]])
    assert torch.allclose(again.plane.project(codes), view.plane.project(codes), atol=1e-5)
    assert torch.allclose(again.plane.explained_variance_ratio, view.plane.explained_variance_ratio)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.pop("mean"),
        lambda d: d.update(components=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),
        lambda d: d.update(bounds=[[1.0, 1.0], [0.0, 1.0]]),
        lambda d: d.update(explained=[float("nan"), 0.1]),
        lambda d: d.update(mean="zero"),
    ],
)
def test_plot_view_refuses_damaged_or_mismatched_data(damage) -> None:
    data = plot_view(torch.randn(100, 2, generator=_generator())).to_dict()
    damage(data)
    with pytest.raises(ValueError):
        PlotView.from_dict(data, 2)


def test_nearest_distances_match_brute_force_and_skip_own_rows() -> None:
    gen = _generator(3)
    codes, queries = torch.randn(300, 4, generator=gen), torch.randn(150, 4, generator=gen)  # several chunks
    brute = torch.cdist(queries, codes).min(dim=1).values
    assert torch.allclose(nearest_distances(codes, queries), brute)
    rows = torch.tensor([5, 17, 299])
    own = nearest_distances(codes, codes[rows], own_rows=rows)
    full = torch.cdist(codes[rows], codes)
    full[torch.arange(3), rows] = float("inf")
    assert torch.allclose(own, full.min(dim=1).values) and (own > 0).all()


def test_samples_far_from_every_code_are_in_holes() -> None:
    gen = _generator(4)
    ring = torch.randn(4000, 2, generator=gen)
    ring = ring / ring.norm(dim=1, keepdim=True) * 3  # codes on a circle of radius 3: a hole in the middle
    inside, on = torch.zeros(10, 2), ring[:10] * 1.001
    assert share_in_holes(ring, inside) == 1.0 and share_in_holes(ring, on) == 0.0
