"""Training in a child process: the same events, files and endings as in a thread, and a child
that dies is reported, never waited on forever."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
import types
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from app.jobs.process import run_job_in_subprocess
from app.jobs.queue import JobQueue
from app.jobs.snapshot import JobSnapshot, JobState
from app.jobs.spec import JobSpec
from models.families.config import DenseConfig
from models.files.checkpoint import load_checkpoint
from models.files.data import MIRROR_ENV, Split
from models.training.config import TrainConfig
from models.training.replay import load_replay

SMALL = DenseConfig(hidden=(32,))
TINY = TrainConfig(epochs=2, batch_size=64, subset=256, knn_reference=200)
TIMEOUT = 120.0  # a child imports torch and loads MNIST before its first step


def _spec(name: str, training: TrainConfig = TINY, **changes: object) -> JobSpec:
    return JobSpec("dense_vae", SMALL, training, save_name=name, title=f"Job {name}", **changes)  # type: ignore[arg-type]


def _wait(queue: JobQueue, job_id: str, done: Callable[[JobSnapshot], bool], what: str) -> JobSnapshot:
    deadline = time.monotonic() + TIMEOUT
    while not done(job := queue.get(job_id)):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}: {job}")
        time.sleep(0.05)
    return job


def test_a_job_trained_in_a_child_reports_every_event_and_saves_its_files(make_queue, mnist_test: Split) -> None:
    queue = make_queue(runner=run_job_in_subprocess)
    job = queue.submit(_spec("child"), "alice")
    done = _wait(queue, job.id, lambda j: j.state is JobState.FINISHED, "the job to finish")

    assert [e.epoch for e in done.epochs] == [1, 2] and "Saved as child" in done.message
    assert done.progress is not None and done.progress.global_step == done.progress.total_steps == 8
    assert len(done.curve.steps) == 8  # every step's losses crossed the process boundary
    model, info = load_checkpoint(done.checkpoint)
    assert info.epochs == 2 and info.metrics == done.epochs[-1].test.to_dict()
    replay = load_replay(done.replay_path)
    assert [frame.epoch for frame in done.replay.frames] == [frame.epoch for frame in replay.frames] == [0, 1, 2]
    with torch.inference_mode():  # the replay's last frame is the saved model's view of its sample
        torch.testing.assert_close(replay.frames[-1].codes, model.encode(mnist_test.images[replay.index]))
    assert not [child for child in multiprocessing.active_children() if child.name.startswith("training-")]


def test_the_same_job_gives_the_same_weights_in_a_child_and_in_a_thread(make_queue, tmp_path: Path) -> None:
    in_child = make_queue(runner=run_job_in_subprocess)
    in_thread = JobQueue(tmp_path / "thread")
    try:
        for queue in (in_child, in_thread):
            job = queue.submit(_spec("same"), "alice")
            _wait(queue, job.id, lambda j: j.state is JobState.FINISHED, "the job to finish")
    finally:
        in_thread.shutdown(timeout=TIMEOUT)
    child_model, _ = load_checkpoint(in_child.checkpoint_dir / "same.safetensors")
    thread_model, _ = load_checkpoint(in_thread.checkpoint_dir / "same.safetensors")
    for (name, ours), (_, theirs) in zip(child_model.state_dict().items(), thread_model.state_dict().items(),
                                         strict=True):  # fmt: skip
        assert torch.equal(ours, theirs), name


def test_a_stop_reaches_the_child_and_the_last_epoch_stays_saved(make_queue) -> None:
    queue = make_queue(runner=run_job_in_subprocess)
    job = queue.submit(_spec("endless", replace(TINY, epochs=10_000)), "alice")
    _wait(queue, job.id, lambda j: len(j.epochs) >= 1, "an epoch")
    assert queue.stop(job.id, "alice")
    stopped = _wait(queue, job.id, lambda j: not j.active, "the job to stop")
    assert stopped.state is JobState.STOPPED and "is saved as endless" in stopped.message
    assert load_checkpoint(stopped.checkpoint)[1].epochs == len(stopped.epochs)


def test_divergence_and_missing_data_end_the_job_with_their_own_messages(
    make_queue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MIRROR_ENV, "http://127.0.0.1:9/")  # the child inherits it: nothing listens there
    empty = tmp_path / "no_data"
    empty.mkdir()
    queue = make_queue(runner=run_job_in_subprocess)
    diverged = queue.submit(_spec("wild", replace(TINY, lr=1e9)), "alice")
    ended = _wait(queue, diverged.id, lambda j: not j.active, "the job to end")
    assert ended.state is JobState.DIVERGED and "learning rate" in ended.message

    offline = make_queue(runner=run_job_in_subprocess, data_dir=empty)
    job = offline.submit(_spec("nodata"), "alice")
    failed = _wait(offline, job.id, lambda j: not j.active, "the job to end")
    assert failed.state is JobState.FAILED and failed.message.startswith("Training could not start")
    assert "not available" in failed.message  # the child's DataUnavailableError, as it was raised


def test_a_child_that_dies_fails_its_job_and_the_queue_goes_on(make_queue) -> None:
    queue = make_queue(runner=run_job_in_subprocess)
    doomed = queue.submit(_spec("doomed", replace(TINY, epochs=10_000)), "alice")
    after = queue.submit(_spec("after"), "alice")
    _wait(queue, doomed.id, lambda j: len(j.epochs) >= 1, "an epoch")
    (child,) = [c for c in multiprocessing.active_children() if c.name == f"training-{doomed.id}"]
    os.kill(child.pid, signal.SIGKILL)  # as the kernel's out-of-memory killer would
    failed = _wait(queue, doomed.id, lambda j: not j.active, "the job to end")
    assert failed.state is JobState.FAILED and "ended unexpectedly" in failed.message
    assert "is saved as doomed" in failed.message  # its last completed epoch is kept
    _wait(queue, after.id, lambda j: j.state is JobState.FINISHED, "the next job to finish")


def test_the_child_never_runs_the_parents_main_script(make_queue, tmp_path: Path, monkeypatch) -> None:
    # Under `streamlit run` the main module is the app's script while a page runs; a spawned child
    # would run it again (the whole app) before training.
    marker = tmp_path / "main_ran"
    script = tmp_path / "app_script.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    queue = make_queue(runner=run_job_in_subprocess)
    job = queue.submit(_spec("no_main"), "alice")
    done = _wait(queue, job.id, lambda j: not j.active, "the job to end")
    assert done.state is JobState.FINISHED, done.message
    assert not marker.exists()
    assert sys.modules["__main__"] is main
