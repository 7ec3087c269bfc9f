"""Small statistics the benchmarks share: a percentile of timings, seconds as milliseconds."""

from __future__ import annotations


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
