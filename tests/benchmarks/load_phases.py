"""The load test's phases: N students clicking for a while, sessions coming and going, many
connecting at once, and the training job that runs during some of them."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import time
from dataclasses import dataclass

import numpy as np

from tests.benchmarks.load_server import Task, cpu_seconds, rss_mib, task_cpu
from tests.benchmarks.load_students import FAST, Plane, Tally, close_sessions, open_sessions, student
from tests.benchmarks.stats import ms, percentile
from tools.browser import StreamlitServer
from tools.streamlit_client import BrowserSession

CHURN_SECONDS = 3.0  # clicking per cycle when sessions come and go
TRAIN_EPOCHS = 200  # the Train page's maximum: the job outlasts the phases and is stopped after them


# --- phases -------------------------------------------------------------------------------------


@dataclass
class Context:
    server: StreamlitServer
    plane: Plane
    args: argparse.Namespace
    training: Task | None = None  # the training job's process or thread, while one runs

    @property
    def pid(self) -> int:
        return self.server.process.pid

    def server_cpu(self) -> tuple[float, float]:
        """CPU seconds of the server (a training thread included), and of the training job (0 when none)."""
        total = cpu_seconds(self.pid)
        if self.training is None:
            return total, 0.0
        training = cpu_seconds(*self.training)
        # A job in a child process is not in the server's own figure: add it, so the caller can take it off.
        return (total if self.training.tid is not None else total + training), training


async def settle_after_close(ctx: Context) -> float:
    """Wait out the disconnected-session TTL, let one probe session come and go (the write that
    drops expired sessions), and return the RSS then."""
    await asyncio.sleep(ctx.args.ttl + 1)
    probe = BrowserSession(ctx.server.url, timeout=ctx.args.timeout)
    with contextlib.suppress(Exception):
        await probe.open()
    await probe.close()
    await asyncio.sleep(1.0)
    return rss_mib(ctx.pid)


async def phase(
    ctx: Context, students: int, think: tuple[float, float], change: bool = True, duration: float | None = None
) -> dict:
    """N students on the Explore page for `duration` (--duration) seconds; latency, errors, CPU, memory."""
    args = ctx.args
    duration = args.duration if duration is None else duration
    rss_before = rss_mib(ctx.pid)
    sessions, opened = await open_sessions(ctx.server.url, students, args.timeout)
    failed_to_open = sum(not r.ok for r in opened)
    live = [s for s, r in zip(sessions, opened, strict=True) if r.ok]
    tally = Tally(error_examples=[f"failed to open: {r.status} {r.exceptions[:1]}" for r in opened if not r.ok][:2])
    if not change:  # the reference: every session has a selection drawn, then reruns it unchanged
        for index, session in enumerate(live):
            result = await session.set_component_state(ctx.plane.key, "click", ctx.plane.click(random.Random(index), 1))
            tally.add(result, ctx.plane.shows(session, 1))
        tally = Tally(errors=tally.errors, error_examples=tally.error_examples)
    cpu0, train0 = ctx.server_cpu()
    await asyncio.sleep(args.baseline)
    cpu1, train1 = ctx.server_cpu()
    idle_rate = ((cpu1 - cpu0) - (train1 - train0)) / args.baseline
    began, client0 = time.perf_counter(), time.process_time()
    deadline = began + duration
    await asyncio.gather(*(
        student(session, ctx.plane, think, deadline, seed=index * 7919 + students, tally=tally, change=change)
        for index, session in enumerate(live)
    ))  # fmt: skip
    elapsed = time.perf_counter() - began
    client_cpu = time.process_time() - client0
    cpu2, train2 = ctx.server_cpu()
    rss_open = rss_mib(ctx.pid)
    serving = (cpu2 - cpu1) - (train2 - train1)
    clicks = max(tally.count, 1)
    await close_sessions(sessions)
    rss_after = await settle_after_close(ctx)
    return {
        "students": students, "think_s": list(think), "training": ctx.training is not None,
        "kind": "click" if change else "rerun without change",
        "clicks": tally.count, "clicks_per_s": round(tally.count / elapsed, 2),
        "ms_p50": ms(percentile(tally.times, 0.5)), "ms_p95": ms(percentile(tally.times, 0.95)),
        "ms_max": ms(max(tally.times, default=float("nan"))),
        "errors": sum(tally.errors.values()) + failed_to_open,
        "error_kinds": {**tally.errors, **({"failed to open": failed_to_open} if failed_to_open else {})},
        "error_examples": tally.error_examples,
        "server_cpu_ms_per_click": ms((serving - idle_rate * elapsed) / clicks),
        "server_cpu_ms_per_click_gross": ms(serving / clicks),
        "server_idle_cpu_s_per_s": round(idle_rate, 3),
        "training_thread_cores": round((train2 - train1) / elapsed, 2) if ctx.training else None,
        "client_cpu_s_per_s": round(client_cpu / elapsed, 2) if live else None,
        "rss_mib_before": round(rss_before, 1), "rss_mib_open": round(rss_open, 1),
        "rss_mib_after_close": round(rss_after, 1),
        "rss_mib_per_session": round((rss_open - rss_before) / max(students, 1), 2),
    }  # fmt: skip


async def churn(ctx: Context, students: int, cycles: int) -> dict:
    """Sessions coming and going: `cycles` times, `students` open the page, click for a few
    seconds and leave; the server's RSS after each cycle (once the closed sessions are dropped)."""
    after = []
    for _ in range(cycles):
        result = await phase(ctx, students, FAST, duration=CHURN_SECONDS)
        after.append(result["rss_mib_after_close"])
        if result["errors"]:
            print(f"churn cycle errors: {result['error_kinds']} {result['error_examples']}", flush=True)
    slope = float(np.polyfit(np.arange(cycles), after, 1)[0]) if cycles >= 2 else float("nan")
    print(f"sessions coming and going: {cycles} times {students} sessions opened, clicked for {CHURN_SECONDS:g} s "
          f"and closed; RSS after each: {', '.join(f'{v:.0f}' for v in after)} MiB (trend {slope:+.1f} MiB per "
          f"cycle)", flush=True)  # fmt: skip
    return {"students": students, "cycles": cycles, "rss_mib_after_close": after,
            "rss_mib_per_cycle": round(slope, 2)}  # fmt: skip


# --- start-up -----------------------------------------------------------------------------------


async def burst(url: str, count: int, timeout: float) -> dict:
    """`count` sessions connecting at the same moment: seconds each waits for its first page."""
    sessions, results = await open_sessions(url, count, timeout)
    await close_sessions(sessions)
    waits = [r.seconds for r in results if r.ok]
    return {"sessions": count, "failed": sum(not r.ok for r in results),
            "first_page_s_p50": round(percentile(waits, 0.5), 2), "first_page_s_p95": round(percentile(waits, 0.95), 2),
            "first_page_s_max": round(max(waits, default=float("nan")), 2)}  # fmt: skip


# --- the training job ---------------------------------------------------------------------------


async def start_training(ctx: Context) -> BrowserSession:
    """Another session opens the Train page, asks for the default model with TRAIN_EPOCHS epochs
    under a fresh name, and presses Start; it stays on the page, which polls the job."""
    trainer = BrowserSession(ctx.server.url, page="train", timeout=ctx.args.timeout)
    opened = await trainer.open()
    if not opened.ok:
        raise RuntimeError(f"the Train page did not open: {opened}")
    tasks = set(task_cpu(ctx.pid))
    await trainer.set_values({"train_epochs": TRAIN_EPOCHS, "train_name": f"bench_load_{os.getpid()}"})
    started = await trainer.press("train_start")
    if not started.ok:
        raise RuntimeError(f"pressing Start failed: {started}")
    await asyncio.sleep(4.0)  # the job loads the data and starts its steps
    before = task_cpu(ctx.pid)
    await asyncio.sleep(2.0)
    after = task_cpu(ctx.pid)
    new = {task: after[task] - before.get(task, 0.0) for task in after if task not in tasks}
    if not new or max(new.values()) < 0.2:
        raise RuntimeError("no new thread or child process is busy after Start (is the training data there?)")
    ctx.training = max(new, key=new.get)
    return trainer


async def stop_training(ctx: Context, trainer: BrowserSession) -> bool:
    """Press the live panel's Stop; True when the training job went quiet."""
    with contextlib.suppress(KeyError):
        await trainer.press("train_live_stop")
    await asyncio.sleep(3.0)
    task, ctx.training = ctx.training, None
    busy = cpu_seconds(*task)
    await asyncio.sleep(1.0)
    await trainer.close()
    return cpu_seconds(*task) - busy < 0.5  # a finished child reads 0
