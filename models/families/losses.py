"""Loss terms and input corruption used by every autoencoder family.

All per-image terms are summed over pixels (or latent units) and averaged over the batch,
so reconstruction and KL are in the same units (nats per image for BCE) and add to the
negative ELBO.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from models.families.config import Objective

# Above this many latent units the exact Jacobian (one backward pass per unit) gets
# expensive, so the contractive penalty switches to an unbiased random-projection estimate.
EXACT_JACOBIAN_MAX_DIM = 8
JACOBIAN_PROJECTIONS = 4


def reconstruction_loss(logits: Tensor, target: Tensor, kind: str) -> Tensor:
    """Per-image reconstruction loss, averaged over the batch."""
    if kind == "bce":
        # With logits: numerically stable, and no clamping of sigmoid outputs needed.
        per_pixel = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    elif kind == "mse":
        per_pixel = (torch.sigmoid(logits) - target).square()
    else:
        raise ValueError(f"unknown reconstruction loss {kind!r}")
    return per_pixel.flatten(1).sum(1).mean()


def kl_divergence(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(q(z|x) || N(0, I)) per image, averaged over the batch."""
    return (-0.5 * (1 + logvar - mu.square() - logvar.exp()).sum(1)).mean()


def code_penalty(code: Tensor) -> Tensor:
    """Half the squared length of each code, averaged over the batch (a regularised AE's penalty:
    with the noise on the code, it is the KL term of a VAE whose posterior spread is fixed)."""
    return 0.5 * code.square().sum(1).mean()


def sparsity_penalty(code: Tensor, objective: Objective) -> Tensor:
    """L1 on the code, or KL(rho || mean sigmoid activation) summed over units."""
    if objective.sparsity == "l1":
        return code.abs().sum(1).mean()
    if objective.sparsity == "kl":
        rho = objective.sparsity_target
        rho_hat = torch.sigmoid(code).mean(0).clamp(1e-6, 1 - 1e-6)
        return (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()
    return code.new_zeros(())


def contractive_penalty(encode: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """Squared Frobenius norm of d encode(x) / d x per image, averaged over the batch.

    Exact for small codes; for larger ones, E_v ||v^T J||^2 with v ~ N(0, I) estimates it.
    """
    x = x.detach().requires_grad_(True)
    code = encode(x)
    dim = code.shape[1]
    if dim <= EXACT_JACOBIAN_MAX_DIM:
        directions = [F.one_hot(torch.tensor(k), dim).to(code) for k in range(dim)]
        scale = 1.0
    else:
        directions = [torch.randn(dim, device=code.device) for _ in range(JACOBIAN_PROJECTIONS)]
        scale = 1.0 / JACOBIAN_PROJECTIONS
    total = code.new_zeros(())
    for v in directions:
        (grad,) = torch.autograd.grad((code * v).sum(), x, create_graph=True)
        total = total + grad.flatten(1).square().sum(1).mean()
    return total * scale


def corrupt(x: Tensor, objective: Objective, generator: torch.Generator | None = None) -> Tensor:
    """The denoising input: x with Gaussian or masking noise (x itself if no noise)."""
    if objective.noise == "gaussian":
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return (x + objective.noise_level * noise).clamp_(0.0, 1.0)
    if objective.noise == "masking":
        keep = torch.rand(x.shape, generator=generator, device=x.device) >= objective.noise_level
        return x * keep
    return x
