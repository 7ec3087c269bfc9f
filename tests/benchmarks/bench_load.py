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
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.load_chromium import browser_check
from tests.benchmarks.load_phases import Context, burst, churn, phase, start_training, stop_training
from tests.benchmarks.load_report import HEADER, print_phase, targets
from tests.benchmarks.load_server import rss_mib, snapshot_tree
from tests.benchmarks.load_students import FAST, SLOW, find_plane
from tests.benchmarks.report import report
from tools.browser import REPO_ROOT, StreamlitServer, chromium_path
from tools.streamlit_client import BrowserSession


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


if __name__ == "__main__":
    sys.exit(main())
