"""Device choice: the selection logic, and a forced CPU run, tested on a machine without a GPU."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from models import train as train_cli
from models.families.config import DenseConfig
from models.families.registry import get_model
from models.files.checkpoint import load_checkpoint
from models.files.data import Split
from models.training import runtime
from models.training.config import TrainConfig
from models.training.events import EpochResult, StepProgress
from models.training.loop import train
from models.training.runtime import resolve_device, select_device

TINY = TrainConfig(epochs=1, batch_size=64, subset=320, knn_reference=300, device="cpu")


@pytest.mark.parametrize(
    ("requested", "cuda", "mps", "chosen"),
    [
        ("auto", True, True, "cuda"),  # CUDA first
        ("auto", True, False, "cuda"),
        ("auto", False, True, "mps"),  # then Apple's GPU
        ("auto", False, False, "cpu"),  # the CPU where there is none
        ("cpu", True, True, "cpu"),  # a forced CPU run, even beside a GPU
        ("cuda", True, False, "cuda"),
        ("mps", False, True, "mps"),
    ],
)
def test_device_selection(requested: str, cuda: bool, mps: bool, chosen: str) -> None:
    assert select_device(requested, cuda_available=cuda, mps_available=mps) == chosen


@pytest.mark.parametrize(
    ("requested", "message"), [("cuda", "no CUDA GPU"), ("mps", "no Apple GPU"), ("tpu", "one of")]
)
def test_a_device_that_is_not_there_is_a_clear_error(requested: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        select_device(requested, cuda_available=False, mps_available=False)


def _no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_auto_is_the_cpu_without_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_gpu(monkeypatch)
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device(TrainConfig().device) == torch.device("cpu")  # the default is "auto"


def test_auto_picks_a_gpu_the_machine_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    _no_gpu(monkeypatch)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("mps")


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return get_model("dense_vae", DenseConfig(hidden=(32,)))


def _small_test(split: Split) -> Split:
    return Split(split.images[:300], split.labels[:300])


def test_a_forced_cpu_run_reports_its_device(mnist_train: Split, mnist_test: Split) -> None:
    model = _model()
    events = list(train(model, mnist_train, _small_test(mnist_test), TINY))
    steps = [e for e in events if isinstance(e, StepProgress)]
    epochs = [e for e in events if isinstance(e, EpochResult)]
    assert {e.device for e in steps} == {"cpu"} and epochs[0].device == "cpu"
    assert all(p.device.type == "cpu" for p in model.parameters())
    assert epochs[0].test_codes.device.type == "cpu"


def test_runs_are_reproducible_on_the_cpu(mnist_train: Split, mnist_test: Split) -> None:
    weights = []
    for _ in range(2):
        model = _model()
        list(train(model, mnist_train, _small_test(mnist_test), replace(TINY, kl_warmup=1, schedule="onecycle")))
        weights.append(model.state_dict())
    for name, value in weights[0].items():
        assert torch.equal(value, weights[1][name]), name


def test_auto_trains_on_the_cpu_without_a_gpu(
    monkeypatch: pytest.MonkeyPatch, mnist_train: Split, mnist_test: Split
) -> None:
    _no_gpu(monkeypatch)
    events = list(train(_model(), mnist_train, _small_test(mnist_test), replace(TINY, device="auto")))
    assert {e.device for e in events if isinstance(e, (StepProgress, EpochResult))} == {"cpu"}


def test_asking_for_a_missing_gpu_stops_before_training(
    monkeypatch: pytest.MonkeyPatch, mnist_train: Split, mnist_test: Split
) -> None:
    _no_gpu(monkeypatch)
    with pytest.raises(ValueError, match="no CUDA GPU"):
        next(train(_model(), mnist_train, _small_test(mnist_test), replace(TINY, device="cuda")))


def test_the_cli_refuses_a_missing_gpu_before_loading_data(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _no_gpu(monkeypatch)
    out = tmp_path / "x"
    code = train_cli.main(["--device", "cuda", "--data-dir", str(tmp_path / "nothing"), "--out", str(out)])
    assert code == 2
    assert "no CUDA GPU" in capsys.readouterr().err
    assert not (tmp_path / "nothing").exists() and not out.with_suffix(".safetensors").exists()


def test_the_cli_records_the_device_it_trained_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mnist_train: Split, capsys: pytest.CaptureFixture[str]
) -> None:
    _no_gpu(monkeypatch)
    out = tmp_path / "auto"
    args = ["--preset", "conv_ae_tiny", "--epochs", "1", "--subset", "256", "--batch-size", "64", "--quiet"]
    assert train_cli.main([*args, "--out", str(out)]) == 0
    assert "on cpu" in capsys.readouterr().out
    _, info = load_checkpoint(out.with_suffix(".safetensors"))
    assert info.training["device"] == "cpu"  # what it really ran on, not "auto"


def test_cuda_runs_use_deterministic_convolutions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", False)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", True)
    runtime.configure_torch(torch.get_num_threads(), "cpu")
    assert torch.backends.cudnn.benchmark  # the CPU path leaves cuDNN alone
    runtime.configure_torch(torch.get_num_threads(), "cuda")
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
