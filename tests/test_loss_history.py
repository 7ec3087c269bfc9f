"""Loss curves thinned for the Train page, and the time-left estimate."""

from __future__ import annotations

import pytest

from app.jobs.loss_history import LossHistory
from app.jobs.snapshot import eta_seconds
from models.training.events import StepProgress


def test_loss_history_thins_by_averaging() -> None:
    history = LossHistory(max_points=10)
    for step in range(1, 1001):
        history.add(step, {"total": float(step), "kl": 1.0})
    curve = history.curve()
    assert len(curve.steps) <= 10 and curve.width == 128
    assert curve.losses["total"] == curve.steps  # each point averages the same steps on both axes
    assert set(curve.losses["kl"]) == {1.0}
    assert curve.steps[0] == pytest.approx((1 + 128) / 2) and curve.steps[-1] == pytest.approx((897 + 1000) / 2)
    with pytest.raises(TypeError):
        curve.losses["total"] = ()  # type: ignore[index]


def test_eta_extrapolates_the_pace_so_far() -> None:
    progress = StepProgress(1, 10, 100, 10, 100, {}, elapsed=5.0, images_per_s=256.0)
    assert eta_seconds(progress) == pytest.approx(45.0)
    assert eta_seconds(progress._replace(global_step=100)) == 0.0
    assert eta_seconds(progress._replace(global_step=0)) is None and eta_seconds(None) is None
