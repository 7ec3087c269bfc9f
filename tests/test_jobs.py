"""The app's training queue: FIFO, one job at a time, stop / abandon / diverge / fail, per-epoch saves."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, replace
from pathlib import Path

import pytest
import torch

from app.jobs.queue import JobQueue, get_queue
from app.jobs.snapshot import JobState
from models.families.registry import parameter_count
from models.files.checkpoint import load_checkpoint
from models.files.data import Split, raw_folder
from models.training.config import TrainConfig
from models.training.replay import load_replay
from tests.conftest import FakeClock
from tests.job_helpers import ENDLESS, LONG_EPOCH, SMALL, TINY, job_spec, wait_epochs, wait_state, wait_until


def test_job_runs_to_finished_with_checkpoint_and_replay(make_queue, mnist_test: Split) -> None:
    queue = make_queue()
    submitted = queue.submit(job_spec("tiny"), "alice")
    assert submitted.state is JobState.QUEUED and submitted.position == 1 and submitted.spec.title == "Job tiny"
    done = wait_state(queue, submitted.id, JobState.FINISHED)

    path = queue.checkpoint_dir / "tiny.safetensors"
    assert done.checkpoint == path and done.replay_path == queue.checkpoint_dir / "tiny.replay.npz"
    assert done.started is not None and done.finished is not None and done.started <= done.finished
    # What the page says it took is the whole job (loading and saving too), not the loop's own clock.
    assert done.took == done.finished - done.started and done.took >= done.progress.elapsed
    assert "Trained 2 epochs" in done.message and [e.epoch for e in done.epochs] == [1, 2]
    model, info = load_checkpoint(path)
    assert (info.model, info.config, info.title, info.epochs) == ("dense_vae", SMALL, "Job tiny", 2)
    assert info.dataset == "mnist" and info.preset is None
    assert info.training == asdict(TINY.resolved(parameter_count("dense_vae", SMALL)))  # where and how it ran
    assert "app" in info.command
    assert info.training["device"] != "auto" and info.training["precision"] != "auto"
    assert info.metrics == done.epochs[-1].test.to_dict()

    replay = done.replay
    assert replay is not None
    assert [frame.epoch for frame in replay.frames] == [0, 1, 2]
    assert replay.index.shape == replay.labels.shape == (2000,)
    assert torch.equal(replay.labels, mnist_test.labels[replay.index])
    assert replay.digit_labels.tolist() == list(range(10)) and replay.digits.shape == (10, 1, 28, 28)
    for frame in replay.frames:
        assert frame.codes.shape == (2000, 2) and frame.codes.dtype == torch.float32
        assert frame.reconstructions.shape == (10, 1, 28, 28) and frame.reconstructions.dtype == torch.uint8
    assert not torch.equal(replay.frames[0].codes, replay.frames[-1].codes)  # training moved the codes
    with torch.inference_mode():  # the last frame is the saved model's view of the sample
        expected = model.encode(mnist_test.images[replay.index])
    torch.testing.assert_close(replay.frames[-1].codes, expected)

    stored = load_replay(done.replay_path)
    assert [frame.epoch for frame in stored.frames] == [0, 1, 2] and torch.equal(stored.index, replay.index)
    for ours, theirs in zip(replay.frames, stored.frames, strict=True):
        assert torch.equal(ours.codes, theirs.codes) and torch.equal(ours.reconstructions, theirs.reconstructions)

    assert done.progress is not None and done.progress.global_step == done.progress.total_steps == 8
    assert len(done.curve.steps) == 8 and set(done.curve.losses) == {"total", "reconstruction", "kl", "penalty"}
    assert [view.id for view in queue.jobs_for("alice")] == [submitted.id] and queue.jobs_for("bob") == []
    assert queue.running() is None and queue.waiting() == [] and queue.get(submitted.id).position is None


@pytest.mark.parametrize("digits", [(0, 1, 4, 7), (3,), (2, 9)])
def test_a_job_on_chosen_digits_trains_replays_and_saves_those_digits_only(
    make_queue, mnist_test: Split, digits: tuple[int, ...]
) -> None:
    queue = make_queue()
    job = queue.submit(job_spec("four", replace(TINY, digits=digits)), "alice")
    done = wait_state(queue, job.id, JobState.FINISHED)

    info = load_checkpoint(done.checkpoint)[1]
    assert TrainConfig.from_dict(info.training).digits == digits and info.training["digits"] == list(digits)
    replay = done.replay
    assert set(replay.labels.tolist()) == set(digits) and set(replay.digit_labels.tolist()) == set(digits)
    chosen = mnist_test.with_digits(digits)
    assert torch.equal(replay.labels, chosen.labels[replay.index])
    assert done.epochs[-1].test_codes.shape == (len(chosen), 2)  # evaluated on those digits' test images
    assert done.progress is not None and done.progress.device == "cpu"


def test_one_job_at_a_time_in_fifo_order(make_queue) -> None:
    queue = make_queue()
    first = queue.submit(job_spec("first", LONG_EPOCH), "alice")
    second = queue.submit(job_spec("second"), "bob")
    wait_until(lambda: queue.get(first.id).progress is not None, "the first job to start stepping")  # type: ignore[union-attr]

    running = queue.running()
    assert running is not None and running.id == first.id and running.eta is not None and running.eta > 0
    assert queue.get(second.id).position == 1 and queue.get(first.id).position is None
    assert [view.id for view in queue.waiting()] == [second.id] and queue.get(second.id).state is JobState.QUEUED  # type: ignore[union-attr]

    assert queue.stop(first.id, "alice")
    stopped = wait_state(queue, first.id, JobState.STOPPED)
    finished = wait_state(queue, second.id, JobState.FINISHED)
    assert finished.started is not None and stopped.finished is not None and finished.started >= stopped.finished
    # Stopped in its first epoch: nothing saved, and it says so.
    assert stopped.epochs == () and stopped.checkpoint is None and "Nothing was saved" in stopped.message
    assert not (queue.checkpoint_dir / "first.safetensors").exists()
    assert not (queue.checkpoint_dir / "first.replay.npz").exists()


def test_stopping_a_running_job_keeps_its_last_completed_epoch(make_queue) -> None:
    queue = make_queue()
    job = queue.submit(job_spec("endless", ENDLESS), "alice")
    wait_epochs(queue, job.id, 1)
    assert queue.stop(job.id, "alice")
    stopped = wait_state(queue, job.id, JobState.STOPPED)

    completed = len(stopped.epochs)
    assert 1 <= completed < ENDLESS.epochs and not stopped.stopping
    _, info = load_checkpoint(queue.checkpoint_dir / "endless.safetensors")
    assert info.epochs == completed and info.metrics == stopped.epochs[-1].test.to_dict()
    assert [frame.epoch for frame in load_replay(stopped.replay_path).frames] == list(range(completed + 1))
    assert f"epoch {completed}" in stopped.message
    assert not queue.stop(job.id, "alice")  # already ended


def test_stopping_a_queued_job_means_it_never_runs_and_only_the_owner_may_stop(make_queue) -> None:
    queue = make_queue()
    blocker = queue.submit(job_spec("blocker", LONG_EPOCH), "alice")
    queued = queue.submit(job_spec("queued"), "bob")
    after = queue.submit(job_spec("after"), "bob")
    wait_state(queue, blocker.id, JobState.RUNNING)

    with pytest.raises(PermissionError):
        queue.stop(queued.id, "alice")
    with pytest.raises(PermissionError):
        queue.stop(blocker.id, "bob")
    assert queue.get(queued.id).state is JobState.QUEUED and queue.get(blocker.id).active  # type: ignore[union-attr]
    assert not queue.stop("no-such-job", "bob")

    assert queue.stop(queued.id, "bob")
    removed = queue.get(queued.id)
    assert removed is not None and removed.state is JobState.STOPPED and removed.position is None
    assert queue.get(after.id).position == 1

    assert queue.stop(blocker.id, "alice")
    wait_state(queue, after.id, JobState.FINISHED)
    removed = queue.get(queued.id)
    assert removed is not None and removed.state is JobState.STOPPED and removed.started is None
    assert not (queue.checkpoint_dir / "queued.safetensors").exists()


def test_jobs_of_a_quiet_session_are_abandoned(make_queue) -> None:
    clock = FakeClock()
    queue = make_queue(clock=clock, abandon_after=120)
    running = queue.submit(job_spec("gone", ENDLESS), "alice")
    waiting = queue.submit(job_spec("gone_too"), "alice")
    kept = queue.submit(job_spec("kept"), "bob")
    wait_epochs(queue, running.id, 1)

    clock.now = 100.0
    queue.heartbeat("bob")
    clock.now = 150.0  # alice quiet for 150 s, bob for 50 s
    abandoned = wait_state(queue, running.id, JobState.ABANDONED)
    assert "heartbeat" in abandoned.message and len(abandoned.epochs) >= 1
    _, info = load_checkpoint(queue.checkpoint_dir / "gone.safetensors")
    assert info.epochs == len(abandoned.epochs)

    dropped = queue.get(waiting.id)
    assert dropped is not None and dropped.state is JobState.ABANDONED and dropped.started is None
    wait_state(queue, kept.id, JobState.FINISHED)


def test_divergence_keeps_the_previously_saved_file(make_queue) -> None:
    queue = make_queue()
    good = queue.submit(job_spec("vae"), "alice")
    wait_state(queue, good.id, JobState.FINISHED)
    checkpoint = (queue.checkpoint_dir / "vae.safetensors").read_bytes()
    replay = (queue.checkpoint_dir / "vae.replay.npz").read_bytes()

    bad = queue.submit(job_spec("vae", replace(TINY, lr=1e9), overwrite=True), "alice")
    diverged = wait_state(queue, bad.id, JobState.DIVERGED)
    assert "learning rate" in diverged.message and diverged.epochs == () and diverged.checkpoint is None
    # One story: nothing was saved, and nothing claims that weights were kept.
    assert diverged.message.endswith("Nothing was saved (no epoch was completed).")
    assert "kept" not in diverged.message and "rolled back" not in diverged.message
    assert (queue.checkpoint_dir / "vae.safetensors").read_bytes() == checkpoint
    assert (queue.checkpoint_dir / "vae.replay.npz").read_bytes() == replay


@pytest.mark.usefixtures("offline")
def test_a_failing_job_is_marked_failed_and_the_worker_goes_on(
    make_queue, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A data directory holding MNIST only: KMNIST is missing and cannot be downloaded.
    data = tmp_path / "data"
    data.mkdir()
    (data / "MNIST").symlink_to(raw_folder("mnist").parent, target_is_directory=True)
    queue = make_queue(data_dir=data)
    broken = queue.submit(job_spec("broken", dataset="kmnist"), "alice")
    fine = queue.submit(job_spec("fine"), "alice")

    failed = wait_state(queue, broken.id, JobState.FAILED)
    assert "kmnist dataset is not available" in failed.message and failed.checkpoint is None
    logged = [record for record in caplog.records if "broken" in record.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is None  # an expected error: one line, no traceback
    assert not (queue.checkpoint_dir / "broken.safetensors").exists()
    wait_state(queue, fine.id, JobState.FINISHED)


def test_get_queue_is_one_instance_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.jobs import queue as jobs

    monkeypatch.setattr(jobs, "_QUEUE", None)  # as in a fresh server process
    created: list[JobQueue] = []
    original_init = JobQueue.__init__

    def slow_init(self: JobQueue, *args: object, **kwargs: object) -> None:
        created.append(self)
        time.sleep(0.05)  # a wide window: without the lock every thread would build its own queue
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(JobQueue, "__init__", slow_init)
    start = threading.Barrier(8)
    found: list[JobQueue] = []

    def ask() -> None:
        start.wait()  # all eight ask at the same moment
        found.append(get_queue())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(created) == 1 and len({id(queue) for queue in found}) == 1 and found[0] is get_queue()
