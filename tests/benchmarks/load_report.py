"""The load test's figures in words: one line per phase, and the issue's targets met or not."""

from __future__ import annotations

from tests.benchmarks.load_students import SLOW

FLAT_MIB_PER_CYCLE = 5.0  # "memory flat": RSS after close grows less than this per churn cycle (least squares)


def print_phase(p: dict) -> None:
    think = f"{p['think_s'][0]}-{p['think_s'][1]} s"
    training = f"{p['training_thread_cores']:.2f} core" if p["training"] else "no"
    errors = f"{p['errors']}" + (f" {p['error_kinds']}" if p["errors"] else "")
    print(
        f"{p['students']:>4} {think:>10} {training:>9} {p['clicks']:>6} {p['clicks_per_s']:>8} "
        f"{p['ms_p50']:>7} {p['ms_p95']:>7} {p['ms_max']:>7} {errors:>6} {p['server_cpu_ms_per_click']:>8} "
        f"({p['server_cpu_ms_per_click_gross']:>6}) {p['server_idle_cpu_s_per_s']:>5} "
        f"{p['rss_mib_before']:>8.0f}/{p['rss_mib_open']:.0f}/{p['rss_mib_after_close']:.0f} "
        f"{p['rss_mib_per_session']:>8} {p['client_cpu_s_per_s']:>6}"
        + ("  (reference: reruns that change nothing)" if p["kind"] != "click" else ""),
        flush=True,
    )
    for example in p["error_examples"]:
        print(f"      e.g. {example}", flush=True)


HEADER = (
    "   N      think  training clicks clicks/s  p50 ms  p95 ms  max ms errors  CPU ms/click (gross) idle "
    "RSS MiB before/open/after MiB/session client CPU s/s"
)


def targets(phases: list[dict], churn: dict | None) -> dict:
    """The issue's targets, against this run's phases."""
    out: dict = {}
    cpu = [p["server_cpu_ms_per_click"] for p in phases if not p["training"] and p["clicks"] >= 20]
    if cpu:
        out["server CPU per click <= 10 ms (phases without training, >= 20 clicks)"] = (
            f"{min(cpu)}-{max(cpu)} ms", max(cpu) <= 10)  # fmt: skip
    goal = [p for p in phases if p["students"] == 60 and p["training"] and tuple(p["think_s"]) == SLOW]
    if goal:
        out["60 students every 1.5-4.5 s with training: p95 < 300 ms"] = (
            f"{goal[0]['ms_p95']} ms", goal[0]["ms_p95"] < 300)  # fmt: skip
    errors = sum(p["errors"] for p in phases)
    out["0 errors"] = (errors, errors == 0)
    if churn and churn["cycles"] >= 2:
        slope = churn["rss_mib_per_cycle"]
        out[f"memory flat as sessions come and go (RSS after close grows < {FLAT_MIB_PER_CYCLE:g} MiB per cycle)"] = (
            f"{slope:+.1f} MiB per cycle", slope < FLAT_MIB_PER_CYCLE)  # fmt: skip
    return out
