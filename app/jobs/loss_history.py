"""Loss curves for the Train page: every step's losses, thinned to a bounded number of points."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

MAX_CURVE_POINTS = 2000


class LossCurve(NamedTuple):
    """Per-step losses, thinned: each point is the mean of `width` consecutive steps."""

    steps: tuple[float, ...]  # x: the mean global step of each point
    losses: Mapping[str, tuple[float, ...]]  # y per loss term (total, reconstruction, kl, penalty)
    width: int


class LossHistory:
    """Accumulates every step's losses into at most `max_points` averaged points.

    When the curve fills up, neighbouring points merge pairwise and the width doubles, so
    every point always averages the same number of steps (the last, partial one aside).
    """

    def __init__(self, max_points: int = MAX_CURVE_POINTS) -> None:
        self.max_points = max(2, max_points - max_points % 2)  # even, so pairs always merge
        self.width = 1
        self._steps: list[float] = []
        self._values: dict[str, list[float]] = {}
        self._pending: list[tuple[int, dict[str, float]]] = []
        self._cached: LossCurve | None = None

    def add(self, step: int, losses: Mapping[str, float]) -> None:
        self._cached = None
        self._pending.append((step, dict(losses)))
        if len(self._pending) == self.width:
            x, values = _mean_point(self._pending)
            self._pending = []
            self._steps.append(x)
            for name, value in values.items():
                self._values.setdefault(name, []).append(value)
            if len(self._steps) >= self.max_points:
                self._merge_pairs()

    def curve(self) -> LossCurve:
        """An immutable copy (cached until the next `add`)."""
        if self._cached is None:
            steps = list(self._steps)
            values = {name: list(series) for name, series in self._values.items()}
            if self._pending:
                x, partial = _mean_point(self._pending)
                steps.append(x)
                for name, value in partial.items():
                    values.setdefault(name, []).append(value)
            frozen = MappingProxyType({name: tuple(series) for name, series in values.items()})
            self._cached = LossCurve(tuple(steps), frozen, self.width)
        return self._cached

    def _merge_pairs(self) -> None:
        self._steps = _pair_means(self._steps)
        self._values = {name: _pair_means(series) for name, series in self._values.items()}
        self.width *= 2


def _mean_point(points: list[tuple[int, dict[str, float]]]) -> tuple[float, dict[str, float]]:
    count = len(points)
    x = sum(step for step, _ in points) / count
    names = points[0][1].keys()
    return x, {name: sum(losses[name] for _, losses in points) / count for name in names}


def _pair_means(values: list[float]) -> list[float]:
    return [(a + b) / 2 for a, b in zip(values[::2], values[1::2], strict=True)]
