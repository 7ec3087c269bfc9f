"""Clicks reported by the browser's plane: real ones are kept, forged or garbled ones ignored."""

from __future__ import annotations

import pytest
import torch

from app.plane import PlaneClick, ellipse_axes, parse_click

COUNT = 10_000


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"x": 0.5, "y": -1.0, "index": 42, "seq": 3}, PlaneClick(0.5, -1.0, 42, 3, False)),
        ({"x": 2, "y": 3, "index": None, "seq": 1, "undo": False}, PlaneClick(2.0, 3.0, None, 1, False)),
        ({"x": 2, "y": 3, "index": 9999, "seq": 7, "undo": True}, PlaneClick(2.0, 3.0, 9999, 7, True)),
        ({"x": None, "y": None, "index": None, "seq": 8, "undo": True}, PlaneClick(None, None, None, 8, True)),
    ],
)
def test_real_clicks_are_kept(value: dict, expected: PlaneClick) -> None:
    assert parse_click(value, COUNT) == expected


@pytest.mark.parametrize(
    "value",
    [
        {"x": 0.5, "y": 0.5, "index": 10**12, "seq": 1},
        {"x": 0.5, "y": 0.5, "index": COUNT, "seq": 1},
        {"x": 0.5, "y": 0.5, "index": -5, "seq": 1},
        {"x": 0.5, "y": 0.5, "index": 2.5, "seq": 1},
        {"x": 0.5, "y": 0.5, "index": "12", "seq": 1},
        {"x": 0.5, "y": 0.5, "index": True, "seq": 1},
        {"x": "left", "y": 0.5, "seq": 1},
        {"x": None, "y": 0.5, "seq": 1},
        {"x": float("inf"), "y": 0.5, "seq": 1},
        {"x": 0.5, "y": float("nan"), "seq": 1},
        {"x": None, "y": None, "seq": 1},  # an empty point is only an undo
        {"x": 0.5, "y": 0.5, "seq": -1},
        {"x": 0.5, "y": 0.5, "seq": "1"},
        {"x": 0.5, "y": 0.5},
        {"x": True, "y": 0.5, "seq": 1},
        [0.5, 0.5],
        None,
        "click",
    ],
)
def test_forged_clicks_are_ignored(value: object) -> None:
    assert parse_click(value, COUNT) is None


def test_without_data_every_test_image_index_is_out_of_range() -> None:
    assert parse_click({"x": 0.5, "y": 0.5, "index": 0, "seq": 1}, 0) is None
    assert parse_click({"x": 0.5, "y": 0.5, "index": None, "seq": 1}, 0) == PlaneClick(0.5, 0.5, None, 1, False)


def test_ellipse_axes_are_the_one_sigma_half_axes() -> None:
    covariance = torch.tensor([[4.0, 0.0], [0.0, 0.25]])
    axes = sorted(ellipse_axes(covariance), key=lambda a: -abs(a[0]) - abs(a[1]))
    assert [abs(v) for v in axes[0]] == pytest.approx([2.0, 0.0]) and [abs(v) for v in axes[1]] == pytest.approx(
        [0.0, 0.5]
    )
