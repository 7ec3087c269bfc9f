"""The app's training queue: FIFO, one job at a time, stop / abandon / diverge / fail, per-epoch saves."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import pytest
import torch

from app.job_queue import JobQueue, get_queue
from app.job_spec import JobSpec, NameTakenError
from app.training_job import JobSnapshot, JobState
from models.checkpoint import CheckpointInfo, load_checkpoint, save_checkpoint
from models.checkpoint_store import CHECKPOINT_DIR
from models.config import ConvConfig, DenseConfig
from models.data import Split, raw_folder
from models.engine import TrainConfig
from models.registry import get_model, parameter_count
from models.replay import load_replay
from tests.conftest import FakeClock

SMALL = DenseConfig(hidden=(32,))
TINY = TrainConfig(epochs=2, batch_size=64, subset=256, knn_reference=200)  # 4 steps per epoch
ENDLESS = replace(TINY, epochs=10_000)  # stopped by the test after an epoch or more
LONG_EPOCH = TrainConfig(epochs=1, batch_size=2, subset=20_000, knn_reference=200)  # ~10_000 steps: stopped mid-epoch
TIMEOUT = 60.0


def _spec(name: str, training: TrainConfig = TINY, **changes: object) -> JobSpec:
    fields: dict = {"title": f"Job {name}", **changes}
    return JobSpec("dense_vae", SMALL, training, save_name=name, **fields)


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)


def _wait_state(queue: JobQueue, job_id: str, *states: JobState) -> JobSnapshot:
    def reached() -> bool:
        view = queue.get(job_id)
        return view is not None and view.state in states

    _wait_until(reached, f"job {job_id} to become {'/'.join(s.value for s in states)} (is {queue.get(job_id)})")
    view = queue.get(job_id)
    assert view is not None
    return view


def _wait_epochs(queue: JobQueue, job_id: str, count: int) -> None:
    _wait_until(lambda: len(queue.get(job_id).epochs) >= count, f"{count} epochs of job {job_id}")  # type: ignore[union-attr]


def test_job_runs_to_finished_with_checkpoint_and_replay(make_queue, mnist_test: Split) -> None:
    queue = make_queue()
    submitted = queue.submit(_spec("tiny"), "alice")
    assert submitted.state is JobState.QUEUED and submitted.position == 1 and submitted.spec.title == "Job tiny"
    done = _wait_state(queue, submitted.id, JobState.FINISHED)

    path = queue.checkpoint_dir / "tiny.safetensors"
    assert done.checkpoint == path and done.replay_path == queue.checkpoint_dir / "tiny.replay.npz"
    assert done.started is not None and done.finished is not None and done.started <= done.finished
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
    job = queue.submit(_spec("four", replace(TINY, digits=digits)), "alice")
    done = _wait_state(queue, job.id, JobState.FINISHED)

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
    first = queue.submit(_spec("first", LONG_EPOCH), "alice")
    second = queue.submit(_spec("second"), "bob")
    _wait_until(lambda: queue.get(first.id).progress is not None, "the first job to start stepping")  # type: ignore[union-attr]

    running = queue.running()
    assert running is not None and running.id == first.id and running.eta is not None and running.eta > 0
    assert queue.get(second.id).position == 1 and queue.get(first.id).position is None
    assert [view.id for view in queue.waiting()] == [second.id] and queue.get(second.id).state is JobState.QUEUED  # type: ignore[union-attr]

    assert queue.stop(first.id, "alice")
    stopped = _wait_state(queue, first.id, JobState.STOPPED)
    finished = _wait_state(queue, second.id, JobState.FINISHED)
    assert finished.started is not None and stopped.finished is not None and finished.started >= stopped.finished
    # Stopped in its first epoch: nothing saved, and it says so.
    assert stopped.epochs == () and stopped.checkpoint is None and "Nothing was saved" in stopped.message
    assert not (queue.checkpoint_dir / "first.safetensors").exists()
    assert not (queue.checkpoint_dir / "first.replay.npz").exists()


def test_stopping_a_running_job_keeps_its_last_completed_epoch(make_queue) -> None:
    queue = make_queue()
    job = queue.submit(_spec("endless", ENDLESS), "alice")
    _wait_epochs(queue, job.id, 1)
    assert queue.stop(job.id, "alice")
    stopped = _wait_state(queue, job.id, JobState.STOPPED)

    completed = len(stopped.epochs)
    assert 1 <= completed < ENDLESS.epochs and not stopped.stopping
    _, info = load_checkpoint(queue.checkpoint_dir / "endless.safetensors")
    assert info.epochs == completed and info.metrics == stopped.epochs[-1].test.to_dict()
    assert [frame.epoch for frame in load_replay(stopped.replay_path).frames] == list(range(completed + 1))
    assert f"epoch {completed}" in stopped.message
    assert not queue.stop(job.id, "alice")  # already ended


def test_stopping_a_queued_job_means_it_never_runs_and_only_the_owner_may_stop(make_queue) -> None:
    queue = make_queue()
    blocker = queue.submit(_spec("blocker", LONG_EPOCH), "alice")
    queued = queue.submit(_spec("queued"), "bob")
    after = queue.submit(_spec("after"), "bob")
    _wait_state(queue, blocker.id, JobState.RUNNING)

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
    _wait_state(queue, after.id, JobState.FINISHED)
    removed = queue.get(queued.id)
    assert removed is not None and removed.state is JobState.STOPPED and removed.started is None
    assert not (queue.checkpoint_dir / "queued.safetensors").exists()


def test_jobs_of_a_quiet_session_are_abandoned(make_queue) -> None:
    clock = FakeClock()
    queue = make_queue(clock=clock, abandon_after=120)
    running = queue.submit(_spec("gone", ENDLESS), "alice")
    waiting = queue.submit(_spec("gone_too"), "alice")
    kept = queue.submit(_spec("kept"), "bob")
    _wait_epochs(queue, running.id, 1)

    clock.now = 100.0
    queue.heartbeat("bob")
    clock.now = 150.0  # alice quiet for 150 s, bob for 50 s
    abandoned = _wait_state(queue, running.id, JobState.ABANDONED)
    assert "heartbeat" in abandoned.message and len(abandoned.epochs) >= 1
    _, info = load_checkpoint(queue.checkpoint_dir / "gone.safetensors")
    assert info.epochs == len(abandoned.epochs)

    dropped = queue.get(waiting.id)
    assert dropped is not None and dropped.state is JobState.ABANDONED and dropped.started is None
    _wait_state(queue, kept.id, JobState.FINISHED)


def test_divergence_keeps_the_previously_saved_file(make_queue) -> None:
    queue = make_queue()
    good = queue.submit(_spec("vae"), "alice")
    _wait_state(queue, good.id, JobState.FINISHED)
    checkpoint = (queue.checkpoint_dir / "vae.safetensors").read_bytes()
    replay = (queue.checkpoint_dir / "vae.replay.npz").read_bytes()

    bad = queue.submit(_spec("vae", replace(TINY, lr=1e9), overwrite=True), "alice")
    diverged = _wait_state(queue, bad.id, JobState.DIVERGED)
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
    broken = queue.submit(_spec("broken", dataset="kmnist"), "alice")
    fine = queue.submit(_spec("fine"), "alice")

    failed = _wait_state(queue, broken.id, JobState.FAILED)
    assert "kmnist dataset is not available" in failed.message and failed.checkpoint is None
    logged = [record for record in caplog.records if "broken" in record.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is None  # an expected error: one line, no traceback
    assert not (queue.checkpoint_dir / "broken.safetensors").exists()
    _wait_state(queue, fine.id, JobState.FINISHED)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (_spec("shipped"), "ships with the app"),
        (_spec("Shipped", overwrite=True), "ships with the app"),
        (_spec("mine"), "saved by someone else"),
        (_spec("mine", overwrite=True), "saved by someone else"),
        (_spec("!!!"), "not usable as a checkpoint name"),
        (_spec("big", replace(TINY, batch_size=512)), "batch size"),
        (_spec("zero", replace(TINY, epochs=0)), "epochs"),
        (JobSpec("dense_vae", DenseConfig(latent_dim=0), TINY, "bad"), "latent_dim"),
        (JobSpec("dense_vae", ConvConfig(), TINY, "bad"), "takes a DenseConfig"),
        (JobSpec("no_such_model", SMALL, TINY, "bad"), "unknown model"),
        (_spec("elsewhere", dataset="cifar10"), "unknown dataset"),
    ],
)
def test_invalid_jobs_are_refused_before_queueing(make_queue, tmp_path: Path, spec: JobSpec, message: str) -> None:
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "shipped.safetensors").write_bytes(b"a shipped model")
    queue = make_queue(shipped_dir=shipped)
    save_checkpoint(queue.checkpoint_dir / "mine", get_model("dense_vae", SMALL), CheckpointInfo("dense_vae", SMALL))
    with pytest.raises(ValueError, match=message):
        queue.submit(spec, "alice")
    assert queue.jobs_for("alice") == [] and queue.waiting() == []


def test_names_owners_and_limits(make_queue, tmp_path: Path) -> None:
    queue = make_queue(max_active_per_owner=2)
    assert JobQueue().shipped_dir == CHECKPOINT_DIR
    save_checkpoint(queue.checkpoint_dir / "mine", get_model("dense_vae", SMALL), CheckpointInfo("dense_vae", SMALL))
    with pytest.raises(ValueError, match="owner"):
        queue.submit(_spec("nobody"), "")

    # Sanitised again, and the title falls back to the name.
    first = queue.submit(_spec(" my model! ", LONG_EPOCH, title=" "), "alice")
    assert first.spec.save_name == "my_model" and first.spec.title == "my_model"
    with pytest.raises(ValueError, match="already training"):
        queue.submit(_spec("my_model"), "bob")
    second = queue.submit(_spec("second"), "alice")
    assert second.position is not None
    with pytest.raises(ValueError, match="2 training jobs"):
        queue.submit(_spec("third"), "alice")
    assert queue.submit(_spec("third"), "bob").position is not None


def test_a_finished_model_can_be_saved_again_under_another_name(make_queue, tmp_path: Path) -> None:
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "shipped.safetensors").write_bytes(b"a shipped model")
    queue = make_queue(shipped_dir=shipped)
    job = queue.submit(_spec("original"), "alice")
    with pytest.raises(ValueError, match="once the job has ended"):
        queue.save_copy(job.id, "alice", "too_early")
    done = _wait_state(queue, job.id, JobState.FINISHED)

    path = queue.save_copy(job.id, "alice", "../my copy!", title="  My   copy ")
    assert path == queue.checkpoint_dir / "my_copy.safetensors"
    copy, info = load_checkpoint(path)
    original, original_info = load_checkpoint(done.checkpoint)
    assert info.title == "My copy" and info.epochs == original_info.epochs == 2
    assert info.metrics == original_info.metrics
    for name, tensor in original.state_dict().items():
        assert torch.equal(copy.state_dict()[name], tensor)
    assert load_replay(queue.checkpoint_dir / "my_copy.replay.npz").frames[-1].epoch == 2

    before = path.read_bytes()
    for name, kwargs, message in [
        ("my_copy", {}, "you already saved a model named 'my_copy'"),
        ("Shipped", {"overwrite": True}, "ships with the app"),
        ("original", {}, "already saved as"),
        ("///", {}, "not usable"),
    ]:
        with pytest.raises(ValueError, match=message):
            queue.save_copy(job.id, "alice", name, **kwargs)
    with pytest.raises(PermissionError):
        queue.save_copy(job.id, "bob", "bobs_copy")
    assert path.read_bytes() == before  # refused attempts touch nothing
    assert queue.save_copy(job.id, "alice", "my_copy", overwrite=True) == path
    assert load_checkpoint(path).info.title == "my_copy"


def test_get_queue_is_one_instance_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from app import job_queue as jobs

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


def test_a_session_may_replace_only_models_it_saved(make_queue) -> None:
    queue = make_queue()
    done = _wait_state(queue, queue.submit(_spec("alices"), "alice").id, JobState.FINISHED)
    before = done.checkpoint.read_bytes()
    assert queue.saved_by("alice") == {"alices"} and queue.saved_by("bob") == set()
    for attempt in (lambda: queue.submit(_spec("alices", overwrite=True), "bob"),
                    lambda: queue.validate(_spec("ALICES", overwrite=True), "bob")):  # fmt: skip
        with pytest.raises(NameTakenError, match="saved by someone else") as refused:
            attempt()
        assert not refused.value.replaceable
    bobs = _wait_state(queue, queue.submit(_spec("bobs"), "bob").id, JobState.FINISHED)
    with pytest.raises(NameTakenError, match="saved by someone else"):
        queue.save_copy(bobs.id, "bob", "alices", overwrite=True)
    assert done.checkpoint.read_bytes() == before
    with pytest.raises(NameTakenError, match="you already saved") as own:
        queue.validate(_spec("alices"), "alice")
    assert own.value.replaceable
    again = queue.submit(_spec("alices", overwrite=True), "alice")  # her own: she may replace it
    _wait_state(queue, again.id, JobState.FINISHED)
