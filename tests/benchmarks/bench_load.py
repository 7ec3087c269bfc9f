"""Many students on one server: a load test of `streamlit run` with simulated browser sessions.

    python -m tests.benchmarks.bench_load [--sessions 1,8,30,60] [--duration 20] [--quick] [--json out.json]

A full run takes about 12 minutes, --quick about 4.

Real Chromium pages cannot measure the server on a small machine (they draw WebGL in software
on the same cores), so each student is a `tools.streamlit_client.BrowserSession`: the browser's
own websocket messages, replayed, nothing rendered. A student opens the Explore page, then
clicks the plane again and again: it sends the rerun the plane's `setStateValue("click", ...)`
sends (a dot with its test-image index, or one time in five an empty spot), waits for that
run's `script_finished`, and thinks for a while (uniform over the click rate's range) before the
next click. Hovering sends nothing to the server (the plane decodes in the browser): the
Chromium check below counts the messages a page sends while the mouse sweeps the plane.

Figures:
- start-up: seconds from launching the server to a healthy server, and to the first session's
  first page fully run (cold: torch import, model load, encoding the test set); then how long
  30 sessions connecting at the same moment wait for their first page (p50/p95/max).
- Chromium check: websocket messages a real page sends during a mouse sweep over the plane
  (0), and whether the client's click rerun has the same shape (fields, widgets, value kinds)
  as the one Chromium sent for a real click.
- reference (one session): a rerun that changes nothing (the same page, the same selection
  drawn again): ms and server CPU per rerun, against one student's clicks.
- per N students (--sessions), per click rate (every 1.5-4.5 s, and every 0.2-0.6 s), without
  and with one training job running (the Train page's default model with 200 epochs, started
  with its Start button by another session that stays on the Train page and polls it as the
  browser does, stopped with its Stop button after the last phase): clicks, clicks/s, click to
  script finished p50/p95/max, errors (an exception shown, a run without the new selection,
  a timeout, a closed socket), server CPU per click (the server process less the training
  job when it runs in a thread of the server, less the idle rate measured just before with the
  sessions open), the share of a core the training job got (the app trains in a child
  process), the server's RSS before the sessions open, with them open, and after they close,
  and RSS per session.
- sessions coming and going (--churn cycles of --burst sessions that open the page, click for
  a few seconds and close): the server's RSS after each cycle.

Targets (issue): server CPU per click <= 10 ms; 60 students clicking every 1.5-4.5 s with a
training job running at p95 < 300 ms; 0 errors; memory flat as sessions come and go (taken
here as: the server's RSS after close grows by less than 5 MiB per churn cycle, a least-squares
trend; a session's own footprint is a MiB or two, so a leaked cycle of 30 would add tens).

The server runs from a copy of the working tree taken at the start (files git tracks or does
not ignore; `static/` is written afresh, as in a new checkout), because page scripts are read
again on every run and an edit made meanwhile would change the server halfway; --in-place runs
it in the tree. It runs with server.disconnectedSessionTTL = --ttl s (Streamlit's default is 120 s) so
closed sessions can be seen to go: Streamlit drops an expired session at the next write to its
session store, so after the TTL one probe session connects and leaves, as the next student would.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
from streamlit.proto.BackMsg_pb2 import BackMsg

from tests.benchmarks.report import report
from tools.browser import (
    CHROMIUM_ARGS,
    REPO_ROOT,
    StreamlitServer,
    chromium_path,
    open_page,
    screen_point,
    wait_for_plane,
)
from tools.streamlit_client import BrowserSession
from tools.streamlit_messages import RunResult, fetch_bytes, message_shape, read_packed_arrays, user_key

SLOW, FAST = (1.5, 4.5), (0.2, 0.6)  # seconds a student thinks between clicks
EMPTY_SPOT_SHARE = 0.2  # clicks on an empty spot of the plane (no test image), the rest on a dot
CHURN_SECONDS = 3.0  # clicking per cycle when sessions come and go
FLAT_MIB_PER_CYCLE = 5.0  # "memory flat": RSS after close grows less than this per churn cycle (least squares)
TRAIN_EPOCHS = 200  # the Train page's maximum: the job outlasts the phases and is stopped after them
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- the server process -------------------------------------------------------------------------


def snapshot_tree(destination: Path) -> Path:
    """Copy the working tree (the files git tracks, and the untracked ones it does not ignore) to
    `destination`: the server runs from there, so edits made while the benchmark runs cannot
    break or change it halfway (page scripts are read again on every run)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT, capture_output=True, check=True,
    ).stdout  # fmt: skip
    for name in filter(None, listed.split(b"\0")):
        source = REPO_ROOT / os.fsdecode(name)
        if source.is_file():
            target = destination / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """utime + stime of a process (its finished threads included), or of one of its threads."""
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    try:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Task(NamedTuple):
    """Where a training job runs: a child process of the server (tid None), or one of its threads."""

    pid: int
    tid: int | None


def task_cpu(server_pid: int) -> dict[Task, float]:
    """CPU seconds of each thread of the server and of each of its child processes."""
    tasks = {
        Task(server_pid, int(tid)): cpu_seconds(server_pid, int(tid)) for tid in os.listdir(f"/proc/{server_pid}/task")
    }
    for tid in os.listdir(f"/proc/{server_pid}/task"):
        with contextlib.suppress(FileNotFoundError):
            for child in Path(f"/proc/{server_pid}/task/{tid}/children").read_text().split():
                tasks[Task(int(child), None)] = cpu_seconds(int(child))
    return tasks


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


# --- the Explore page -------------------------------------------------------------------------


@dataclass
class Plane:
    """What the students need from the Explore page: the plane's key, its bounds and test points."""

    key: str
    points: np.ndarray  # (N, 2) float32, the test images on the plane
    bounds: list[list[float]]

    def click(self, rng: random.Random, seq: int) -> dict:
        """A click as the plane reports it."""
        if rng.random() < EMPTY_SPOT_SHARE:
            x, y = (rng.uniform(*self.bounds[0]), rng.uniform(*self.bounds[1]))
            index = None
        else:
            index = rng.randrange(len(self.points))
            x, y = float(self.points[index, 0]), float(self.points[index, 1])
        return {"x": x, "y": y, "index": index, "seq": seq, "undo": False}

    def shows(self, session: BrowserSession, seq: int) -> bool:
        """Whether the page's last run gave the plane click `seq` as its selection (the browser
        draws the selection's details from it; the server recorded it for the URL)."""
        selected = session.component_data(self.key).get("selected") or {}
        return selected.get("seq") == seq


def find_plane(session: BrowserSession) -> Plane:
    """The plane on an opened Explore page, and its test points fetched as the browser fetches them."""
    key = next(k for k in map(user_key, session.elements) if k.startswith("explore_plane_"))
    data = session.component_data(key)
    _, arrays = read_packed_arrays(fetch_bytes(session.base_url, data["model"]["url"]))
    return Plane(key, np.asarray(arrays["points"]), data["bounds"])


# --- students -----------------------------------------------------------------------------------


@dataclass
class Tally:
    """Results of one phase."""

    times: list[float] = field(default_factory=list)  # seconds, successful clicks
    errors: dict[str, int] = field(default_factory=dict)
    error_examples: list[str] = field(default_factory=list)

    def add(self, result: RunResult, shown: bool = True) -> None:
        if result.ok and shown:
            self.times.append(result.seconds)
            return
        kind = "exception" if result.exceptions else result.status if not result.ok else "no new selection"
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.error_examples) < 3:
            self.error_examples.append(f"{kind}: {(result.exceptions or [''])[0][:200]}")

    @property
    def count(self) -> int:
        return len(self.times) + sum(self.errors.values())


async def student(
    session: BrowserSession, plane: Plane, think: tuple[float, float], deadline: float, seed: int, tally: Tally,
    change: bool = True,
) -> None:  # fmt: skip
    """Think, click (or, with change=False, send a rerun that changes nothing), wait for the answer."""
    rng = random.Random(seed)
    seq = 0
    while True:
        await asyncio.sleep(rng.uniform(*think))
        if time.perf_counter() >= deadline:
            return
        if change:
            seq += 1
            result = await session.set_component_state(plane.key, "click", plane.click(rng, seq))
            tally.add(result, plane.shows(session, seq))
        else:
            tally.add(await session.rerun())
        if session.closed_reason is not None:  # the socket closed: this student is gone
            return


async def open_sessions(url: str, count: int, timeout: float) -> tuple[list[BrowserSession], list[RunResult]]:
    sessions = [BrowserSession(url, timeout=timeout) for _ in range(count)]
    results = await asyncio.gather(*(s.open() for s in sessions), return_exceptions=True)
    results = [r if isinstance(r, RunResult) else RunResult(f"failed: {r!r}"[:200], 0.0) for r in results]
    return sessions, results


async def close_sessions(sessions: list[BrowserSession]) -> None:
    await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)


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


# --- the browser check --------------------------------------------------------------------------


def chromium_click(server: StreamlitServer, plane: Plane, moves: int) -> tuple[int, int, BackMsg | None]:
    """In headless Chromium: messages sent while the mouse sweeps the plane, then the messages a
    click on a test point sends, and the first of them."""
    from playwright.sync_api import sync_playwright

    sent: list[bytes] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(f if isinstance(f, bytes) else b"")))
        open_page(page, server.url)
        wait_for_plane(page)
        (x0, x1), (y0, y1) = plane.bounds
        start = len(sent)
        for i in range(moves):
            t = i / (moves - 1)
            page.mouse.move(*screen_point(page, x0 + (x1 - x0) * (0.05 + 0.9 * t), y0 + (y1 - y0) * (0.2 + 0.6 * t)))
        page.wait_for_timeout(500)
        hover_sent = len(sent) - start
        centre = plane.points.mean(axis=0)
        index = int(np.argmin(np.abs(plane.points - centre).sum(axis=1)))
        start = len(sent)
        point = screen_point(page, float(plane.points[index, 0]), float(plane.points[index, 1]))
        page.mouse.move(*point)
        page.mouse.click(*point)
        deadline = time.monotonic() + 10
        while len(sent) == start and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        page.wait_for_timeout(1000)
        browser.close()
    clicked = None
    if len(sent) > start:
        clicked = BackMsg()
        clicked.ParseFromString(sent[start])
    return hover_sent, len(sent) - start, clicked


async def browser_check(server: StreamlitServer, plane: Plane, moves: int = 300) -> dict:
    """Hovering in Chromium sends nothing; the client's click rerun has the shape of Chromium's."""
    hover_sent, click_sent, clicked = await asyncio.to_thread(chromium_click, server, plane, moves)
    session = BrowserSession(server.url)
    await session.open()
    value = (clicked_value(clicked, plane.key) if clicked else None) or plane.click(random.Random(0), 1)
    ours = session.component_state_message(plane.key, "click", value)
    await session.close()
    browser_shape = message_shape(clicked) if clicked else None
    client_shape = message_shape(ours)
    return {"hover_moves": moves, "hover_messages_sent": hover_sent, "click_messages_sent": click_sent,
            "click_rerun_same_shape": browser_shape == client_shape,
            "browser_click_shape": browser_shape, "client_click_shape": client_shape}  # fmt: skip


def clicked_value(message: BackMsg, key: str) -> dict | None:
    for widget in message.rerun_script.widget_states.widgets:
        if user_key(widget.id) == key and widget.json_value:
            return json.loads(widget.json_value).get("click")
    return None


# --- main ---------------------------------------------------------------------------------------


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


async def run(args: argparse.Namespace, server: StreamlitServer, figures: dict) -> None:
    first = BrowserSession(server.url, timeout=120.0)
    result = await first.open()
    if not result.ok:
        raise RuntimeError(f"the first page failed: {result}")
    figures["startup_first_page_s"] = round(time.perf_counter() - server.started, 2)
    figures["rss_mib_after_first_page"] = round(rss_mib(server.process.pid), 1)
    plane = await asyncio.to_thread(find_plane, first)
    await first.close()
    print(f"start-up: server healthy {figures['startup_healthy_s']} s after launch; the first session's first page "
          f"(cold) finished {figures['startup_first_page_s']} s after launch; RSS then "
          f"{figures['rss_mib_after_first_page']} MiB", flush=True)  # fmt: skip

    check = None
    if not args.no_browser and not chromium_path():
        print("Chromium is not installed: no check of hover messages and of the click's shape", flush=True)
    elif not args.no_browser:
        try:
            check = figures["browser_check"] = await browser_check(server, plane)
        except Exception as error:  # the page changed under the check: say so, measure the rest
            figures["browser_check"] = {"failed": repr(error)[:300]}
            print(f"Chromium check failed: {error!r}"[:400], flush=True)
    if check is not None:
        print(f"Chromium: {check['hover_messages_sent']} websocket messages sent during a {check['hover_moves']}-move "
              f"sweep over the plane (hovering costs the server nothing); a click sent {check['click_messages_sent']}; "
              f"the client's click rerun has the same shape as Chromium's: {check['click_rerun_same_shape']}",
              flush=True)  # fmt: skip
        if not check["click_rerun_same_shape"]:
            print(f"  Chromium: {check['browser_click_shape']}\n  client:   {check['client_click_shape']}")

    b = figures["burst"] = await burst(server.url, args.burst, 120.0)
    print(f"{b['sessions']} sessions connecting at the same moment (warm server): first page p50 "
          f"{b['first_page_s_p50']} s, p95 {b['first_page_s_p95']} s, max {b['first_page_s_max']} s; "
          f"{b['failed']} failed", flush=True)  # fmt: skip

    ctx = Context(server, plane, args)
    print(HEADER, flush=True)
    figures["reference"] = {"no_change_rerun": await phase(ctx, 1, FAST, change=False)}
    print_phase(figures["reference"]["no_change_rerun"])
    figures["reference"]["click"] = await phase(ctx, 1, FAST)
    print_phase(figures["reference"]["click"])
    phases = figures["phases"] = []
    for training in (False, True) if not args.no_training else (False,):
        trainer = None
        if training:
            try:
                trainer = await start_training(ctx)
            except (RuntimeError, KeyError) as error:
                figures["training_failed"] = repr(error)[:300]
                print(f"no phases with training: {error}"[:400], flush=True)
                break
        for students in args.session_counts:
            for think in (SLOW, FAST):
                phases.append(await phase(ctx, students, think))
                print_phase(phases[-1])
        if not training and args.churn:
            figures["churn"] = await churn(ctx, args.burst, args.churn)
        if trainer is not None:
            phases[-1]["training_stopped_after"] = await stop_training(ctx, trainer)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--sessions", default="1,8,30,60", help="numbers of students, comma separated (default 1,8,30,60)")
    add("--duration", type=float, default=20.0, help="seconds of clicking per phase (default 20)")
    add("--baseline", type=float, default=2.0, help="seconds of idle CPU before each phase, sessions open (default 2)")
    add("--burst", type=int, default=30, help="sessions connecting at the same moment (default 30)")
    add("--churn", type=int, default=4, help="cycles of --burst sessions opening and closing (default 4)")
    add("--ttl", type=int, default=5, help="the server's disconnectedSessionTTL, s (default 5; Streamlit's 120)")
    add("--timeout", type=float, default=30.0, help="seconds before a click counts as lost (default 30)")
    add("--no-training", action="store_true", help="skip the phases with a training job")
    add("--no-browser", action="store_true", help="skip the Chromium check (hover messages, click shape)")
    add("--quick", action="store_true", help="a short run: --sessions 1,8 --duration 6 --burst 8 --ttl 2 --churn 3")
    add("--in-place", action="store_true", help="run the server in the working tree, not in a copy of it")
    add("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if args.quick:
        args.sessions, args.duration, args.burst, args.ttl, args.churn = "1,8", 6.0, 8, 2, 3
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the server is stopped too
    args.session_counts = [int(n) for n in args.sessions.split(",") if n.strip()]
    scratch = Path(tempfile.mkdtemp(prefix="bench_load_"))
    user_dir = scratch / "user"  # the training job's checkpoints go here
    env = {"LATENT_USER_CHECKPOINTS": str(user_dir), "STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(args.ttl)}
    root = REPO_ROOT if args.in_place else snapshot_tree(scratch / "tree")
    began = time.perf_counter()
    server = StreamlitServer(env=env) if args.in_place else StreamlitServer(env, root=root, keep_output=False)
    figures: dict = {"args": {k: v for k, v in vars(args).items() if k != "json"}, "cpu_count": os.cpu_count(),
                     "server_root": str(root),
                     "startup_healthy_s": round(time.perf_counter() - server.started, 2)}  # fmt: skip
    try:
        asyncio.run(run(args, server, figures))
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    figures["total_s"] = round(time.perf_counter() - began, 1)

    ref, click = figures["reference"]["no_change_rerun"], figures["reference"]["click"]
    print(f"one session, every 0.2-0.6 s: a rerun that changes nothing p50 {ref['ms_p50']} ms and "
          f"{ref['server_cpu_ms_per_click']} ms of server CPU each; a click p50 {click['ms_p50']} ms and "
          f"{click['server_cpu_ms_per_click']} ms")  # fmt: skip
    figures["targets"] = targets(figures["phases"], figures.get("churn"))
    for name, (value, met) in figures["targets"].items():
        print(f"target {name}: {value}: {'met' if met else 'NOT met'}")
    print(f"total {figures['total_s']} s")
    return report(figures, args.json)


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


if __name__ == "__main__":
    sys.exit(main())
