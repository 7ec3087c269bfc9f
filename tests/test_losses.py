"""Loss terms and input corruption against hand-computed values."""

from __future__ import annotations

import torch

from models.families import losses
from models.families.config import Objective


def test_kl_is_zero_at_the_prior_and_positive_elsewhere() -> None:
    zeros = torch.zeros(5, 2)
    assert losses.kl_divergence(zeros, zeros) == 0
    # KL(N(1, 1) || N(0, 1)) = 0.5 per dimension.
    assert torch.isclose(losses.kl_divergence(torch.ones(5, 2), zeros), torch.tensor(1.0))


def test_reconstruction_losses_sum_pixels_and_average_images() -> None:
    target = torch.zeros(3, 1, 28, 28)
    logits = torch.zeros(3, 1, 28, 28)  # sigmoid(0) = 0.5 everywhere
    assert torch.isclose(losses.reconstruction_loss(logits, target, "mse"), torch.tensor(784 * 0.25))
    assert torch.isclose(losses.reconstruction_loss(logits, target, "bce"), torch.tensor(784 * 0.6931472))


def test_contractive_penalty_matches_the_linear_jacobian() -> None:
    weight = torch.randn(3, 784)  # code = W x: the Jacobian is W for every image
    penalty = losses.contractive_penalty(lambda x: x.flatten(1) @ weight.T, torch.rand(4, 1, 28, 28))
    assert torch.isclose(penalty, weight.square().sum(), rtol=1e-5)


def test_contractive_estimate_is_close_for_large_codes() -> None:
    torch.manual_seed(0)
    weight = torch.randn(64, 784) / 28
    estimates = torch.stack(
        [losses.contractive_penalty(lambda x: x.flatten(1) @ weight.T, torch.rand(2, 1, 28, 28)) for _ in range(200)]
    )
    assert torch.isclose(estimates.mean(), weight.square().sum(), rtol=0.1)


def test_sparsity_penalties() -> None:
    code = torch.tensor([[1.0, -2.0], [0.0, 3.0]])
    assert losses.sparsity_penalty(code, Objective(sparsity="l1")) == 3.0
    at_target = torch.logit(torch.full((4, 2), 0.05))
    assert torch.isclose(losses.sparsity_penalty(at_target, Objective(sparsity="kl")), torch.tensor(0.0), atol=1e-5)
    assert losses.sparsity_penalty(code, Objective(sparsity="kl")) > 0


def test_corruption() -> None:
    x = torch.full((2, 1, 28, 28), 0.5)
    generator = torch.Generator().manual_seed(0)
    assert losses.corrupt(x, Objective()) is x
    noisy = losses.corrupt(x, Objective(noise="gaussian", noise_level=0.3), generator)
    assert noisy.min() >= 0 and noisy.max() <= 1 and not torch.equal(noisy, x)
    masked = losses.corrupt(x, Objective(noise="masking", noise_level=0.25), generator)
    dropped = (masked == 0).float().mean()
    assert 0.2 < dropped < 0.3
    assert torch.equal(x, torch.full((2, 1, 28, 28), 0.5))  # the clean target is untouched
