"""Two writers of one name: the second takes the next free name or is refused, and no model is lost
(two command lines started together, two servers sharing a user folder)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.jobs.queue import JobQueue
from app.jobs.snapshot import JobState
from models.files.claims import NameClaimed, claim_file, claimed, clean_abandoned_claims, held, held_names
from models.files.data import Split
from models.files.store import USER_DIR_ENV
from tests.job_helpers import LONG_EPOCH, job_spec, wait_state

REPO_ROOT = Path(__file__).resolve().parent.parent
RUN = ["--preset", "conv_ae_tiny", "--subset", "2048", "--batch-size", "64", "--knn-reference", "100", "--quiet"]


def test_a_name_is_held_by_one_run_at_a_time(tmp_path: Path) -> None:
    target = tmp_path / "model.safetensors"
    with claimed(target):
        assert held(target) and held_names(tmp_path) == {"model"}
        with pytest.raises(NameClaimed, match="another run is training model now"), claimed(target):
            pass
    assert not held(target) and not claim_file(target).exists()
    with claimed(target):  # free again
        pass


def test_a_claim_left_by_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    target = tmp_path / "orphan.safetensors"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    claim_file(target).write_text(f"{os.uname().nodename} {int(dead.stdout)}\n")
    assert not held(target) and held_names(tmp_path) == set()
    with claimed(target):
        assert held(target)


def test_claims_left_by_dead_processes_are_cleaned_and_live_ones_kept(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = claim_file(tmp_path / "orphan.safetensors")
    orphan.write_text(f"{os.uname().nodename} {int(dead.stdout)}\n")
    with claimed(tmp_path / "live.safetensors") as live:
        assert clean_abandoned_claims(tmp_path) == [orphan]
        assert claim_file(live).exists() and held(live)
    assert clean_abandoned_claims(tmp_path / "absent") == []


def test_two_command_lines_without_out_save_two_models(tmp_path: Path, mnist_train: Split) -> None:
    env = {**os.environ, USER_DIR_ENV: str(tmp_path)}
    command = [sys.executable, "-m", "models.train", *RUN]
    first = subprocess.Popen([*command, "--epochs", "3"], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 180
    while not claim_file(tmp_path / "conv_ae_tiny.safetensors").exists():  # the first has chosen its name
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.05)
    second = subprocess.run([*command, "--epochs", "1"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0 and second.returncode == 0, (err, second.stderr)
    assert f"Saved {tmp_path / 'conv_ae_tiny.safetensors'} after 3 epochs" in out
    assert f"Saved {tmp_path / 'conv_ae_tiny_2.safetensors'} after 1 epoch" in second.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conv_ae_tiny.safetensors", "conv_ae_tiny_2.safetensors"]


def test_out_to_a_file_another_run_writes_is_refused(tmp_path: Path) -> None:
    with claimed(tmp_path / "busy.safetensors"):
        result = subprocess.run([sys.executable, "-m", "models.train", *RUN, "--out", str(tmp_path / "busy")],
                                cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 2 and "another run is training" in result.stderr
    assert not (tmp_path / "busy.safetensors").exists()


def test_the_queue_refuses_a_name_another_server_is_training(make_queue) -> None:
    queue: JobQueue = make_queue()
    with claimed(queue.checkpoint_dir / "shared.safetensors"), pytest.raises(ValueError, match="another run"):
        queue.validate(job_spec("shared"), "alice")


def test_a_job_that_loses_its_name_to_another_server_writes_nothing(make_queue) -> None:
    queue: JobQueue = make_queue()
    blocker = queue.submit(job_spec("blocker", LONG_EPOCH), "bob")
    wait_state(queue, blocker.id, JobState.RUNNING)
    job = queue.submit(job_spec("raced"), "alice")  # the name is free now; the job waits its turn
    target = queue.checkpoint_dir / "raced.safetensors"
    with claimed(target):  # meanwhile another server starts training the same name
        queue.stop(blocker.id, "bob")
        failed = wait_state(queue, job.id, JobState.FAILED)
    assert "another run is training raced now" in failed.message and not target.exists()
