"""Every preset: the shared interface, shapes, ranges, and learning on real MNIST."""

from __future__ import annotations

import pytest
import torch

from models.families.base import LossTerms, ModelOutput
from models.families.config import ConvConfig, DenseConfig, Objective
from models.families.registry import get_model
from models.files.data import Split
from models.training.optimiser import make_optimizer
from models.training.presets import PRESETS, list_presets


@pytest.fixture(params=list_presets())
def preset(request: pytest.FixtureRequest):
    return PRESETS[request.param]


def test_interface_shapes_and_ranges(preset, mnist_test: Split) -> None:
    torch.manual_seed(0)
    model = preset.build().eval()
    x = mnist_test.images[:16]
    z = model.encode(x)
    assert z.shape == (16, preset.config.latent_dim)
    decoded = model.decode(z)
    assert decoded.shape == (16, 1, 28, 28)
    assert decoded.min() >= 0 and decoded.max() <= 1
    out = model(x)
    assert isinstance(out, ModelOutput)
    assert torch.allclose(out.mu, z) and torch.allclose(out.z, z)  # eval mode: deterministic
    assert (out.logvar is not None) == model.variational
    terms = model.loss(x, out)
    assert isinstance(terms, LossTerms)
    assert all(torch.isfinite(t) for t in terms)
    if model.variational:
        assert terms.kl > 0
    else:
        assert terms.kl == 0


def test_loss_drops_within_a_few_steps(preset, mnist_train: Split) -> None:
    torch.manual_seed(0)
    model = preset.build().train()
    optimizer = make_optimizer(model, preset.training.lr)
    x = mnist_train.images[:64]
    generator = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(8):
        terms = model.loss(x, model(x, generator=generator))
        optimizer.zero_grad()
        terms.total.backward()
        optimizer.step()
        losses.append(float(terms.total.detach()))
    assert losses[-1] < 0.9 * losses[0], losses


def test_vae_samples_while_training_only() -> None:
    torch.manual_seed(0)
    model = get_model("dense_vae", DenseConfig(hidden=(32,)))
    x = torch.rand(4, 1, 28, 28)
    model.train()
    assert not torch.allclose(model(x).z, model(x).mu)
    model.eval()
    assert torch.allclose(model(x).z, model(x).mu)
    sampled = model(x, sample=True, generator=torch.Generator().manual_seed(1))
    again = model(x, sample=True, generator=torch.Generator().manual_seed(1))
    assert torch.equal(sampled.z, again.z)


@pytest.mark.parametrize("latent_dim", [1, 2, 3, 10])
@pytest.mark.parametrize("style", ["strided", "pool"])
@pytest.mark.parametrize(("channels", "dense_layers"), [((4,), 1), ((4, 8), 2), ((4, 8, 8), 3)])
def test_conv_shapes_for_any_latent_size(
    latent_dim: int, style: str, channels: tuple[int, ...], dense_layers: int
) -> None:
    config = ConvConfig(latent_dim=latent_dim, channels=channels, style=style, dense=8, dense_layers=dense_layers)
    model = get_model("conv_vae", config).eval()
    x = torch.rand(3, 1, 28, 28)
    assert model.encode(x).shape == (3, latent_dim)
    assert model.decode(torch.zeros(3, latent_dim)).shape == (3, 1, 28, 28)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid"])
def test_every_activation_builds(activation: str) -> None:
    model = get_model("dense_ae", DenseConfig(hidden=(16,), activation=activation, batch_norm=True)).eval()
    assert model.decode(model.encode(torch.rand(2, 1, 28, 28))).shape == (2, 1, 28, 28)


def test_penalties_are_weighted_into_the_total(mnist_test: Split) -> None:
    torch.manual_seed(0)
    x = mnist_test.images[:8]
    for objective in (Objective(sparsity="l1", sparsity_weight=0.5), Objective(contractive_weight=0.5)):
        model = get_model("dense_ae", DenseConfig(hidden=(32,), objective=objective)).train()
        terms = model.loss(x, model(x))
        assert terms.penalty > 0
        assert torch.allclose(terms.total, terms.reconstruction + terms.penalty)
