"""Nothing one student does holds the class's training queue: a job's cost is estimated and bounded
before it is queued, a device has a share of the queue whatever its tabs, the queue a length, and the
teacher may stop or remove any job."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.jobs.admission import JobLimits, job_cost
from app.jobs.snapshot import JobState
from app.jobs.spec import JobSpec
from app.settings import ServerSettings, parse_settings
from models.families.config import ConvConfig, DenseConfig
from models.training.budget import describe_bytes, describe_seconds, encoding_batch, machine_rate, model_shape
from models.training.config import TrainConfig
from tests.job_helpers import LONG_EPOCH, job_spec, wait_state

RATE = 2e10  # multiply-adds per second: about this machine's, fixed so that the figures are exact
ABUSIVE = JobSpec("conv_ae", ConvConfig(channels=(1024, 1024), style="pool"), TrainConfig(epochs=200), "abuse")


def test_a_run_of_days_is_refused_with_its_estimate(make_queue) -> None:
    queue = make_queue(rate=lambda: RATE)
    with pytest.raises(ValueError, match=r"train for about \d+ d \d+ h on this server, longer than the 30 min 00 s"):
        queue.submit(ABUSIVE, "alice")
    spec, cost = queue.validate(job_spec("small"), "alice")
    assert cost.seconds < 60 and spec.save_name == "small"
    assert queue.jobs_for("alice") == [] and queue.waiting() == []


def test_a_run_the_memory_cannot_hold_is_refused(make_queue) -> None:
    big_batch = replace(ABUSIVE, training=TrainConfig(epochs=1, batch_size=4096, subset=4096))
    queue = make_queue(rate=lambda: RATE, limits=JobLimits(max_seconds=1e9))
    with pytest.raises(ValueError, match=r"would need about \d+\.\d GB of memory, and a job may use"):
        queue.submit(big_batch, "alice")
    assert job_cost(big_batch, RATE).memory_bytes > 50e9  # its activations for a batch of 4096 alone


def test_the_estimate_is_the_models_work_at_the_machines_rate() -> None:
    shape = model_shape("conv_ae", ConvConfig(channels=(1024, 1024), style="pool"))
    assert 3.6e9 < shape.multiply_adds < 3.8e9 and 19e6 < shape.parameters < 20e6
    cost = job_cost(ABUSIVE, RATE)
    trained = 60_000 // 128 * 128  # images an epoch trains on: whole batches; a step is about 3 forward passes
    evaluated = 2 * 10_000 + 10_000  # the test set (encoded, decoded again on the means) and the k-NN reference
    assert cost.seconds == pytest.approx(shape.multiply_adds * (3 * trained + evaluated) * 200 / RATE)
    assert 1e9 < machine_rate() < 1e13  # measured on this machine: a plausible CPU's


def test_five_tabs_of_one_device_share_its_three_places(make_queue) -> None:
    queue = make_queue(rate=lambda: RATE)
    accepted, refused = [], []
    for tab in range(5):
        for job in range(3):
            try:
                accepted.append(queue.submit(job_spec(f"t{tab}_{job}", LONG_EPOCH), f"tab{tab}", "device-1"))
            except ValueError as error:
                refused.append(str(error))
    assert len(accepted) == 3 and len(refused) == 12
    assert "this device already has 3 training jobs" in refused[0]
    assert queue.submit(job_spec("other", LONG_EPOCH), "tab9", "device-2").position is not None  # another device


def test_the_queue_has_a_length(make_queue) -> None:
    queue = make_queue(rate=lambda: RATE, limits=JobLimits(max_waiting=2))
    first = queue.submit(job_spec("d0", LONG_EPOCH), "tab0", "device-0")
    wait_state(queue, first.id, JobState.RUNNING)  # one trains, two wait
    for device in (1, 2):
        queue.submit(job_spec(f"d{device}", LONG_EPOCH), f"tab{device}", f"device-{device}")
    with pytest.raises(ValueError, match="2 training jobs are waiting already"):
        queue.submit(job_spec("late", LONG_EPOCH), "tab9", "device-9")


def test_the_teacher_stops_and_removes_anyones_job(make_queue) -> None:
    queue = make_queue(rate=lambda: RATE)
    running = queue.submit(job_spec("long", LONG_EPOCH), "alice", "device-1")
    waiting = queue.submit(job_spec("next", LONG_EPOCH), "bob", "device-2")
    wait_state(queue, running.id, JobState.RUNNING)
    with pytest.raises(PermissionError, match="or the teacher"):
        queue.stop(running.id, "carol")
    assert queue.stop(waiting.id, "carol", teacher=True) and queue.stop(running.id, "carol", teacher=True)
    assert queue.get(waiting.id).message == "Removed from the queue by the teacher before it started."
    ended = wait_state(queue, running.id, JobState.STOPPED)
    assert "by request (by the teacher)" in ended.message


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(42, "42 s"), (725, "12 min 05 s"), (5399, "89 min 59 s"), (5400, "1 h 30 min"), (3_374_220, "39 d 1 h")],
)
def test_long_times_are_said_in_hours_and_days(seconds: float, said: str) -> None:
    assert describe_seconds(seconds) == said


def test_sizes_are_said_in_megabytes_or_gigabytes() -> None:
    assert describe_bytes(850_000_000) == "850 MB" and describe_bytes(13_200_000_000) == "13.2 GB"


def test_the_server_takes_its_settings_from_its_command_line_then_its_environment() -> None:
    assert parse_settings([], {}) == ServerSettings()
    settings = parse_settings(["-q", "--teacher-password", "s3cret", "--max-job-minutes", "20", "tests/x.py"],
                              {"LATENT_MAX_JOB_MINUTES": "90", "LATENT_JOBS_PER_CLIENT": "2"})  # fmt: skip
    assert (settings.teacher_password, settings.max_job_minutes, settings.jobs_per_client) == ("s3cret", 20.0, 2)
    for argv, environ, message in [
        (["--max-job-minutes", "soon"], {}, "invalid float value"),
        (["--memory-share", "2"], {}, "memory-share"),
        ([], {"LATENT_CACHE_MB": "lots"}, "LATENT_CACHE_MB must be a float"),
        (["--max-waiting-jobs", "0"], {}, "must be positive"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_settings(argv, environ)


def test_a_big_model_encodes_its_test_set_in_batches_that_fit() -> None:
    big = model_shape("conv_ae", ConvConfig(channels=(1024, 1024), style="pool"))
    small = model_shape("dense_vae", DenseConfig())
    assert encoding_batch(big, 256_000_000) < 30 and encoding_batch(small, 256_000_000) == 1000
    assert encoding_batch(big, 1) == 1  # whatever the memory, one image at a time still works
