"""The training queue's names and owners: jobs refused before queueing, per-owner limits, saved
copies under another name, and models only the session that saved them may replace."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from app.jobs.admission import JobLimits
from app.jobs.queue import JobQueue
from app.jobs.snapshot import JobState
from app.jobs.spec import JobSpec, NameTakenError
from models.families.config import ConvConfig, DenseConfig
from models.families.registry import get_model
from models.files.checkpoint import CheckpointInfo, load_checkpoint, save_checkpoint
from models.files.store import SHIPPED_DIRS
from models.training.replay import load_replay
from tests.job_helpers import LONG_EPOCH, SMALL, TINY, job_spec, wait_state


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (job_spec("shipped"), "ships with the app"),
        (job_spec("Shipped", overwrite=True), "ships with the app"),
        (job_spec("mine"), "saved by someone else"),
        (job_spec("mine", overwrite=True), "saved by someone else"),
        (job_spec("!!!"), "not usable as a checkpoint name"),
        (job_spec("big", replace(TINY, batch_size=512)), "batch size"),
        (job_spec("zero", replace(TINY, epochs=0)), "epochs"),
        (JobSpec("dense_vae", DenseConfig(latent_dim=0), TINY, "bad"), "latent_dim"),
        (JobSpec("dense_vae", ConvConfig(), TINY, "bad"), "takes a DenseConfig"),
        (JobSpec("no_such_model", SMALL, TINY, "bad"), "unknown model"),
        (job_spec("elsewhere", dataset="cifar10"), "unknown dataset"),
    ],
)
def test_invalid_jobs_are_refused_before_queueing(make_queue, tmp_path: Path, spec: JobSpec, message: str) -> None:
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "shipped.safetensors").write_bytes(b"a shipped model")
    queue = make_queue(shipped_dirs=(shipped,))
    save_checkpoint(queue.checkpoint_dir / "mine", get_model("dense_vae", SMALL), CheckpointInfo("dense_vae", SMALL))
    with pytest.raises(ValueError, match=message):
        queue.submit(spec, "alice")
    assert queue.jobs_for("alice") == [] and queue.waiting() == []


def test_names_owners_and_limits(make_queue, tmp_path: Path) -> None:
    queue = make_queue(limits=JobLimits(per_client=2))
    assert JobQueue().shipped_dirs == SHIPPED_DIRS
    save_checkpoint(queue.checkpoint_dir / "mine", get_model("dense_vae", SMALL), CheckpointInfo("dense_vae", SMALL))
    with pytest.raises(ValueError, match="owner"):
        queue.submit(job_spec("nobody"), "")

    # Sanitised again, and the title falls back to the name.
    first = queue.submit(job_spec(" my model! ", LONG_EPOCH, title=" "), "alice")
    assert first.spec.save_name == "my_model" and first.spec.title == "my_model"
    with pytest.raises(ValueError, match="already training"):
        queue.submit(job_spec("my_model"), "bob")
    second = queue.submit(job_spec("second"), "alice")
    assert second.position is not None
    with pytest.raises(ValueError, match="2 training jobs"):
        queue.submit(job_spec("third"), "alice")
    assert queue.submit(job_spec("third"), "bob").position is not None


def test_a_finished_model_can_be_saved_again_under_another_name(make_queue, tmp_path: Path) -> None:
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "shipped.safetensors").write_bytes(b"a shipped model")
    queue = make_queue(shipped_dirs=(shipped,))
    job = queue.submit(job_spec("original"), "alice")
    with pytest.raises(ValueError, match="once the job has ended"):
        queue.save_copy(job.id, "alice", "too_early")
    done = wait_state(queue, job.id, JobState.FINISHED)

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


def test_a_session_may_replace_only_models_it_saved(make_queue) -> None:
    queue = make_queue()
    done = wait_state(queue, queue.submit(job_spec("alices"), "alice").id, JobState.FINISHED)
    before = done.checkpoint.read_bytes()
    assert queue.saved_by("alice") == {"alices"} and queue.saved_by("bob") == set()
    for attempt in (lambda: queue.submit(job_spec("alices", overwrite=True), "bob"),
                    lambda: queue.validate(job_spec("ALICES", overwrite=True), "bob")):  # fmt: skip
        with pytest.raises(NameTakenError, match="saved by someone else") as refused:
            attempt()
        assert not refused.value.replaceable
    bobs = wait_state(queue, queue.submit(job_spec("bobs"), "bob").id, JobState.FINISHED)
    with pytest.raises(NameTakenError, match="saved by someone else"):
        queue.save_copy(bobs.id, "bob", "alices", overwrite=True)
    assert done.checkpoint.read_bytes() == before
    with pytest.raises(NameTakenError, match="you already saved") as own:
        queue.validate(job_spec("alices"), "alice")
    assert own.value.replaceable
    again = queue.submit(job_spec("alices", overwrite=True), "alice")  # her own: she may replace it
    wait_state(queue, again.id, JobState.FINISHED)


def test_a_folder_that_cannot_be_written_is_found_before_the_job_is_queued(make_queue, tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the user folder should be")
    queue = make_queue()
    queue.checkpoint_dir = blocker / "user"
    with pytest.raises(ValueError, match=r"the folder for models trained here cannot be written \(not a directory\)"):
        queue.submit(job_spec("anything"), "alice")
    assert queue.waiting() == [] and str(tmp_path) not in str(queue.jobs_for("alice"))


def test_a_disk_full_while_saving_says_so_in_sentences(make_queue, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from models.files import checkpoint

    def full(path: Path, payload: bytes) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(checkpoint, "atomic_write", full)
    queue = make_queue()
    job = queue.submit(job_spec("full"), "alice")
    failed = wait_state(queue, job.id, JobState.FAILED)
    assert failed.message == "Training failed: no space left on device. Nothing was saved."
