"""`FusedAdamStep`: the engine's shortcut to torch's fused Adam kernel moves the weights bit for
bit as `optimizer.step()` does, really takes the shortcut, and steps back where it must."""

from __future__ import annotations

import pytest
import torch

from models.families.config import ConvConfig, DenseConfig
from models.families.registry import get_model
from models.training.config import TrainConfig
from models.training.optimiser import FusedAdamStep, _is_plain_fused_adam, make_optimizer
from models.training.schedule import scheduled_lr

MODELS = {
    "dense VAE": lambda: get_model("dense_vae", DenseConfig(hidden=(64, 32))),
    "dense AE": lambda: get_model("dense_ae", DenseConfig(hidden=(32,))),
    "conv AE": lambda: get_model("conv_ae", ConvConfig(channels=(4, 8), dense=16)),
}


def _train(build, weight_decay: float, lean: bool, steps: int = 25, skip: set[int] = frozenset()) -> list[torch.Tensor]:
    """Weights after `steps` steps on fixed random images, the learning rate changing every step
    (one-cycle); on the steps in `skip` the decoder's last bias gets no gradient."""
    torch.manual_seed(0)
    model = build()
    optimizer = make_optimizer(model, 3e-3, weight_decay)
    step = FusedAdamStep(optimizer) if lean else optimizer.step
    last_bias = list(model.decoder.parameters())[-1]
    config = TrainConfig(lr=3e-3, schedule="onecycle")
    images = torch.rand(steps, 16, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    for index in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = scheduled_lr(config, index, steps)
        out = model(images[index], generator=torch.Generator().manual_seed(index))
        optimizer.zero_grad(set_to_none=True)
        model.loss(images[index], out).total.backward()
        if index in skip:
            last_bias.grad = None
        step()
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_the_shortcut_moves_the_weights_as_torch_does(name: str, weight_decay: float) -> None:
    expected = _train(MODELS[name], weight_decay, lean=False)
    found = _train(MODELS[name], weight_decay, lean=True)
    assert all(torch.equal(a, b) for a, b in zip(expected, found, strict=True))
    one_step_short = _train(MODELS[name], weight_decay, lean=False, steps=24)  # the comparison can fail
    assert not all(torch.equal(a, b) for a, b in zip(expected, one_step_short, strict=True))


@pytest.mark.parametrize("skip", [{0}, {3}, {3, 4, 10}, set(range(0, 25, 2))])
def test_a_parameter_without_a_gradient_is_left_alone_as_torch_does(skip: set[int]) -> None:
    build = MODELS["dense VAE"]
    expected = _train(build, 0.0, lean=False, skip=skip)
    found = _train(build, 0.0, lean=True, skip=skip)
    assert all(torch.equal(a, b) for a, b in zip(expected, found, strict=True))


def test_the_shortcut_is_taken_after_the_first_step() -> None:
    torch.manual_seed(0)
    model = MODELS["dense AE"]()
    optimizer = make_optimizer(model, 1e-3)
    calls = []
    original = optimizer.step
    optimizer.step = lambda *args, **kwargs: calls.append(1) or original(*args, **kwargs)
    step = FusedAdamStep(optimizer)
    for _ in range(5):
        optimizer.zero_grad(set_to_none=True)
        x = torch.rand(8, 1, 28, 28)
        model.loss(x, model(x)).total.backward()
        step()
    assert len(calls) == 1  # only the first step, which creates the state
    assert all(int(state["step"]) == 5 for state in optimizer.state.values())


def _optimizer(**options) -> torch.optim.Optimizer:
    model = torch.nn.Linear(3, 2)
    return torch.optim.Adam(model.parameters(), **{"lr": 1e-3, "fused": True, **options})


@pytest.mark.parametrize(
    "optimizer, usable",
    [
        (lambda: _optimizer(), True),
        (lambda: torch.optim.AdamW(torch.nn.Linear(3, 2).parameters(), weight_decay=0.1, fused=True), True),
        (lambda: _optimizer(fused=False), False),
        (lambda: _optimizer(fused=None, foreach=True), False),
        (lambda: _optimizer(amsgrad=True), False),
        (lambda: _optimizer(maximize=True), False),
        (lambda: _optimizer(lr=torch.tensor(1e-3)), False),
        (lambda: torch.optim.SGD(torch.nn.Linear(3, 2).parameters(), lr=0.1), False),
        (
            lambda: torch.optim.Adam(
                [{"params": [torch.nn.Parameter(torch.zeros(2))]}, {"params": [torch.nn.Parameter(torch.zeros(2))]}],
                fused=True,
            ),
            False,
        ),
        (
            lambda: torch.optim.Adam(
                [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))],
                fused=True,
            ),
            False,
        ),
    ],
)
def test_the_shortcut_is_only_taken_where_it_is_the_same_call(optimizer, usable: bool) -> None:
    assert _is_plain_fused_adam(optimizer()) is usable


def test_an_optimizer_it_cannot_shortcut_still_steps() -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    before = model.weight.detach().clone()
    model(torch.ones(4, 3)).sum().backward()
    FusedAdamStep(optimizer)()
    assert torch.allclose(model.weight, before - 0.5 * 4)
