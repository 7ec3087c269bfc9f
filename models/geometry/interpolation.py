"""Interpolation between two latent codes: straight (lerp) or along a great circle (slerp).

Everything takes and returns float32 torch tensors (on the inputs' device) and is independent of
any model: codes go in, codes come out.
"""

from __future__ import annotations

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
