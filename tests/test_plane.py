"""The plane's contract: its modes as the browser reads them, and the clicks it reports (real ones kept,
forged or garbled ones ignored)."""

from __future__ import annotations

import json

import pytest
import torch

from app.plane.component import PlaneClick, parse_click
from app.plane.modes import (
    MODES,
    Ellipse,
    EncodeMode,
    SamplesMode,
    Selection,
    SelectMode,
    WalkEnd,
    WalkMode,
    mode_data,
)

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


def test_the_ellipse_has_the_one_sigma_half_axes() -> None:
    ellipse = Ellipse.of((1.0, -2.0), torch.tensor([[4.0, 0.0], [0.0, 0.25]]))
    axes = sorted(ellipse.axes, key=lambda a: -abs(a[0]) - abs(a[1]))
    assert ellipse.center == (1.0, -2.0)
    assert [abs(v) for v in axes[0]] == pytest.approx([2.0, 0.0]) and [abs(v) for v in axes[1]] == pytest.approx(
        [0.0, 0.5]
    )


@pytest.mark.parametrize(
    ("mode", "fields"),
    [
        (SelectMode(Selection(0.5, 1.0, 7, 3), errors="app/static/cache/e.bin.gz", neighbours=8),
         {"selected": {"x": 0.5, "y": 1.0, "index": 7, "seq": 3}, "errors": "app/static/cache/e.bin.gz",
          "neighbours": 8}),
        (WalkMode(WalkEnd((0.0, 1.0), 3), WalkEnd((2.0, 3.0)), target="B", spherical=True, ends_seq=4),
         {"a": {"code": [0.0, 1.0], "index": 3}, "b": {"code": [2.0, 3.0], "index": None}, "target": "B",
          "spherical": True, "ends_seq": 4}),
        (EncodeMode((0.1, 0.2), Ellipse((0.1, 0.2), ((1.0, 0.0), (0.0, 2.0))), ((0.0, 0.0),)),
         {"point": [0.1, 0.2], "ellipse": {"center": [0.1, 0.2], "axes": [[1.0, 0.0], [0.0, 2.0]]},
          "posterior_samples": [[0.0, 0.0]]}),
        (SamplesMode(((1.0, 2.0), (3.0, 4.0))), {"codes": [[1.0, 2.0], [3.0, 4.0]]}),
    ],
)  # fmt: skip
def test_each_mode_reaches_the_browser_as_its_name_and_fields(mode: object, fields: dict) -> None:
    assert json.loads(json.dumps(mode_data(mode))) == {"name": mode.name, **fields}


def test_the_modes_are_named_by_what_they_do() -> None:
    assert [mode.name for mode in MODES] == ["select", "walk", "encode", "samples"]


@pytest.mark.parametrize("mode", ["explore", {"name": "select"}, None, Selection(0.0, 0.0)])
def test_anything_but_a_mode_is_refused(mode: object) -> None:
    with pytest.raises(TypeError, match="no mode"):
        mode_data(mode)
