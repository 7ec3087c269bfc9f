"""Training one job in a child process, so the server never shares its GIL with the training.

In a thread of the server, the training loop's Python holds the GIL between torch calls, and
every page rerun of every session waits for it: a class's clicks slowed down markedly while a
job trained, and the job itself got a small share of a core (docs/performance.md). Here
`run_job` runs in a spawned child (fork would copy the server's threads and locks) at a lower
CPU priority, and its events come back over a queue to the caller's thread, which hands them to
the caller's `JobEvents` exactly as an in-thread run would. A stop request is passed down
through an event that the child checks before every step.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
import types
from typing import Any

from app.jobs.runner import JobEvents, JobOrder, SavedEpoch, run_job
from models.training.events import StepProgress, TrainingFinished
from models.training.replay import Replay

_CONTEXT = multiprocessing.get_context("spawn")
POLL_SECONDS = 0.2  # how often the parent looks for a stop request while no event arrives
NICENESS = 10  # the child yields the CPU to the server's page reruns
JOIN_SECONDS = 10.0  # a child that does not end this long after its last event is killed
_MAIN_LOCK = threading.Lock()


class TrainingProcessError(RuntimeError):
    """The training process ended without saying how (killed, or out of memory)."""


def run_job_in_subprocess(order: JobOrder, events: JobEvents) -> TrainingFinished:
    """`app.jobs.runner.run_job` in a child process: same arguments, events, result and errors."""
    messages = _CONTEXT.Queue()
    stop = _CONTEXT.Event()
    child = _CONTEXT.Process(
        target=_train_in_child,
        args=(order, messages, stop),
        name=f"training-{order.job_id}",
        daemon=True,  # ended when the server exits; a killed server is noticed by the child (should_stop)
    )  # fmt: skip
    _start_without_main(child)
    try:
        while True:
            if events.should_stop():
                stop.set()
            try:
                kind, pickled = messages.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not child.is_alive() and messages.empty():
                    raise TrainingProcessError(
                        f"the training process ended unexpectedly (exit code {child.exitcode})"
                    ) from None
                continue
            payload = pickle.loads(pickled)
            if kind == "finished":
                return payload
            if kind == "error":
                raise payload
            getattr(events, kind)(payload)  # "started", "step" or "saved": the JobEvents method of that name
    finally:
        stop.set()
        child.join(JOIN_SECONDS)
        if child.is_alive():
            child.kill()
            child.join()
        messages.close()
        messages.join_thread()


def _start_without_main(child: Any) -> None:
    """Start `child` without running the parent's `__main__` in it.

    A spawned child first runs the parent's main module (multiprocessing's preparation). Under
    `streamlit run`, that module is the app's own script while a page runs, so every job would run
    the whole app once more before training. The child needs nothing of it: while the child is
    prepared, `__main__` is a module without a file."""
    with _MAIN_LOCK:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            child.start()
        finally:
            sys.modules["__main__"] = main


class _ChildEvents:
    """The child's side: events go to the parent; a stop is the parent's event."""

    def __init__(self, messages: Any, stop: Any) -> None:
        self.messages, self.stop = messages, stop
        self.parent = os.getppid()

    def started(self, replay: Replay) -> None:
        _send(self.messages, "started", replay)

    def step(self, progress: StepProgress) -> None:
        _send(self.messages, "step", progress)

    def saved(self, epoch: SavedEpoch) -> None:
        _send(self.messages, "saved", epoch)

    def should_stop(self) -> bool:
        if os.getppid() != self.parent:  # the server was killed: end now, writing nothing more
            os._exit(0)
        return self.stop.is_set()


def _train_in_child(order: JobOrder, messages: Any, stop: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C on the server is the server's to handle
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    try:
        end = run_job(order, _ChildEvents(messages, stop))
    except Exception as error:  # reported to the parent, which raises it in the queue's thread
        _send(messages, "error", _portable(error))
    else:
        _send(messages, "finished", end)
    messages.close()
    messages.join_thread()  # everything is sent before the process ends


def _send(messages: Any, kind: str, payload: object) -> None:
    # Pickled here with the plain pickler: tensors travel as bytes. The queue's own pickler would
    # share them through file descriptors that vanish when the child ends before they are read.
    messages.put((kind, pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)))


def _portable(error: BaseException) -> BaseException:
    """The error itself if it survives pickling, else a RuntimeError that says what it was."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error
