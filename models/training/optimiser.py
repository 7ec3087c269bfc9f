"""The optimiser: Adam or AdamW, fused, and `FusedAdamStep`, a leaner `optimizer.step()` for them.

`torch.optim.Adam(fused=True).step()` does Python bookkeeping around its kernel on every step:
it walks the parameters to gather their state, groups the tensors by device and dtype, and runs
the profiling hooks. For a small model that is a noticeable share of a step (figures in
docs/performance.md). `FusedAdamStep` gathers the state once, after a first ordinary step, and
then calls the same kernel (`torch._fused_adam_` or `torch._fused_adamw_`) with the same
arguments as torch does, so the weights come out bit for bit the same (tests/test_fused_adam.py
checks it against torch's own step).

It falls back to `optimizer.step()` whenever the shortcut would not be that same call: an
optimizer that is not fused, several parameter groups, amsgrad, maximize, capturable or
differentiable settings, parameters on several devices or dtypes, a parameter without a
gradient this step, or a torch without these kernels.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor


def make_optimizer(model: torch.nn.Module, lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """Adam, or AdamW with decoupled weight decay; the fused kernel (one pass over all parameters)
    where torch supports it. Step it through `FusedAdamStep`."""
    kind = torch.optim.AdamW if weight_decay > 0 else torch.optim.Adam
    options: dict[str, Any] = {"lr": lr, "weight_decay": weight_decay} if weight_decay > 0 else {"lr": lr}
    try:
        return kind(model.parameters(), **options, fused=True)
    except (RuntimeError, TypeError):
        return kind(model.parameters(), **options)


class _State(NamedTuple):
    """The tensors torch's fused step passes to its kernel, gathered once."""

    params: list[Tensor]
    exp_avgs: list[Tensor]
    exp_avg_sqs: list[Tensor]
    steps: list[Tensor]


class FusedAdamStep:
    """Call it instead of `optimizer.step()`; only for an optimizer nobody else steps or reloads
    (its state tensors are gathered once and must stay the same objects)."""

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = optimizer
        self._state: _State | None = None
        self._usable = _is_plain_fused_adam(optimizer)

    def __call__(self) -> None:
        if not self._usable:
            self.optimizer.step()
            return
        group = self.optimizer.param_groups[0]
        grads = [p.grad for p in group["params"]]
        if self._state is None or any(grad is None for grad in grads):
            self.optimizer.step()  # the first step creates the state; torch skips parameters without gradients
            if self._state is None and all(p in self.optimizer.state for p in group["params"]):
                self._state = _gather_state(self.optimizer)
            return
        with torch.no_grad():  # as torch's step: the weights change in place, outside autograd
            self._kernel_step(group, grads)

    def _kernel_step(self, group: dict[str, Any], grads: list[Tensor]) -> None:
        assert self._state is not None
        torch._foreach_add_(self._state.steps, 1)
        kernel = torch._fused_adamw_ if group.get("decoupled_weight_decay", False) else torch._fused_adam_
        beta1, beta2 = group["betas"]
        kernel(
            self._state.params,
            grads,
            self._state.exp_avgs,
            self._state.exp_avg_sqs,
            [],  # no max_exp_avg_sqs without amsgrad
            self._state.steps,
            amsgrad=False,
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=False,
            grad_scale=None,
            found_inf=None,
        )


def _is_plain_fused_adam(optimizer: torch.optim.Optimizer) -> bool:
    """Whether `optimizer.step()` would make exactly one fused kernel call with plain settings."""
    if not isinstance(optimizer, torch.optim.Adam) or len(optimizer.param_groups) != 1:
        return False
    if not (hasattr(torch, "_fused_adam_") and hasattr(torch, "_fused_adamw_")):
        return False
    group = optimizer.param_groups[0]
    plain = not any(group.get(flag) for flag in ("amsgrad", "maximize", "capturable", "differentiable"))
    if not group.get("fused") or not plain:
        return False
    if isinstance(group["lr"], Tensor) or any(isinstance(beta, Tensor) for beta in group["betas"]):
        return False
    params = group["params"]
    return bool(params) and len({(p.device, p.dtype) for p in params}) == 1


def _gather_state(optimizer: torch.optim.Optimizer) -> _State:
    params = list(optimizer.param_groups[0]["params"])
    states = [optimizer.state[p] for p in params]
    return _State(
        params,
        [state["exp_avg"] for state in states],
        [state["exp_avg_sq"] for state in states],
        [state["step"] for state in states],
    )
