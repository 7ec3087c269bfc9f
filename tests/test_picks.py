"""Selection events from the browser: real clicks become picks, forged or garbled ones are ignored."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.figures import EMPTY_SPACE
from app.picks import Pick, pick_from_event

COUNT = 10_000


def _event(*points: dict) -> SimpleNamespace:
    return SimpleNamespace(selection=SimpleNamespace(points=list(points)))


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ({"x": 0.5, "y": -1.0, "customdata": 42}, Pick(0.5, -1.0, 42)),
        ({"x": 0.5, "y": -1.0, "customdata": [9999]}, Pick(0.5, -1.0, 9999)),
        ({"x": 0.5, "y": -1.0, "customdata": 7.0}, Pick(0.5, -1.0, 7)),
        ({"x": "0.5", "y": "-1", "customdata": 3}, Pick(0.5, -1.0, 3)),
        ({"x": 2, "y": 3, "customdata": EMPTY_SPACE}, Pick(2.0, 3.0, None)),
        ({"x": 2, "y": 3}, Pick(2.0, 3.0, None)),
    ],
)
def test_real_clicks_become_picks(point: dict, expected: Pick) -> None:
    assert pick_from_event(_event(point), COUNT) == expected


@pytest.mark.parametrize(
    "point",
    [
        {"x": 0.5, "y": 0.5, "customdata": 10**12},
        {"x": 0.5, "y": 0.5, "customdata": COUNT},
        {"x": 0.5, "y": 0.5, "customdata": -5},
        {"x": 0.5, "y": 0.5, "customdata": 2.5},
        {"x": 0.5, "y": 0.5, "customdata": "12"},
        {"x": 0.5, "y": 0.5, "customdata": True},
        {"x": 0.5, "y": 0.5, "customdata": [[1]]},
        {"x": 0.5, "y": 0.5, "customdata": float("nan")},
        {"x": "left", "y": 0.5, "customdata": 1},
        {"x": None, "y": 0.5},
        {"y": 0.5, "customdata": 1},
        {"x": float("inf"), "y": 0.5},
        {"x": 1e400, "y": 0.5},
        {"x": 0.5, "y": float("nan")},
    ],
)
def test_forged_events_are_ignored(point: dict) -> None:
    assert pick_from_event(_event(point), COUNT) is None


def test_without_data_every_digit_index_is_out_of_range() -> None:
    assert pick_from_event(_event({"x": 0.5, "y": 0.5, "customdata": 0}), 0) is None
    assert pick_from_event(_event({"x": 0.5, "y": 0.5, "customdata": EMPTY_SPACE}), 0) == Pick(0.5, 0.5, None)


@pytest.mark.parametrize("event", [None, {}, SimpleNamespace(), _event(), SimpleNamespace(selection=None), 42])
def test_no_selection_is_no_pick(event: object) -> None:
    assert pick_from_event(event, COUNT) is None
