"""Mixed precision: bfloat16 forward passes where the hardware does them natively, float32 elsewhere."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from models import train as train_cli
from models.families.config import ConvConfig, DenseConfig
from models.families.registry import get_model
from models.files.checkpoint import load_checkpoint
from models.files.data import Split
from models.training import runtime
from models.training.config import TrainConfig
from models.training.events import EpochResult, StepProgress
from models.training.loop import train
from models.training.runtime import select_precision

TINY = TrainConfig(epochs=1, batch_size=64, subset=640, knn_reference=300, device="cpu", seed=3)
MODELS = {
    "dense_vae": DenseConfig(hidden=(64, 32)),
    "conv_ae": ConvConfig(channels=(4, 8), dense=16, dense_layers=2),
}


BIG, SMALL = 1_000_000, 100_000  # weights: the default dense VAE has 1.07 M, the tiny conv AE 3 k


@pytest.mark.parametrize(
    ("requested", "device", "parameters", "fast", "chosen"),
    [
        ("float32", "cpu", BIG, True, "float32"),  # asked for: kept, whatever the hardware
        ("bfloat16", "cpu", SMALL, False, "bfloat16"),
        ("auto", "cpu", BIG, True, "bfloat16"),  # a CPU with native bfloat16 (AMX, AVX-512 BF16)
        ("auto", "cpu", BIG, False, "float32"),  # one without: emulated bfloat16 would be slower
        ("auto", "cpu", SMALL, True, "float32"),  # a small model would gain nothing
        ("auto", "cuda", BIG, True, "bfloat16"),
        ("auto", "cuda", BIG, False, "float32"),
        ("auto", "mps", BIG, True, "float32"),  # bfloat16 is not used on Apple GPUs
    ],
)
def test_precision_selection(requested: str, device: str, parameters: int, fast: bool, chosen: str) -> None:
    asked: list[bool] = []

    def is_fast() -> bool:
        asked.append(True)
        return fast

    assert select_precision(requested, device, parameters, is_fast) == chosen
    # The hardware is measured only when it matters.
    assert bool(asked) == (requested == "auto" and device != "mps" and parameters == BIG)


def test_an_unknown_precision_is_refused() -> None:
    with pytest.raises(ValueError, match="precision must be one of"):
        select_precision("float16", "cpu", BIG, lambda: True)
    with pytest.raises(ValueError, match="precision must be one of"):
        TrainConfig(precision="half").validate(60_000)


def _train(family: str, mnist_train: Split, mnist_test: Split, precision: str) -> tuple[dict, list]:
    torch.manual_seed(0)
    model = get_model(family, MODELS[family])
    events = list(train(model, mnist_train, mnist_test.sample(500, seed=0), replace(TINY, precision=precision)))
    return model.state_dict(), events


@pytest.mark.parametrize("family", list(MODELS))
def test_bfloat16_runs_repeat_exactly_and_learn_as_float32_does(
    family: str, mnist_train: Split, mnist_test: Split
) -> None:
    first, events = _train(family, mnist_train, mnist_test, "bfloat16")
    again, _ = _train(family, mnist_train, mnist_test, "bfloat16")
    for name, value in first.items():
        assert value.dtype == torch.float32 and torch.equal(value, again[name]), name  # float32 weights
    steps = [e for e in events if isinstance(e, StepProgress)]
    assert {e.precision for e in steps} == {"bfloat16"}
    weights, reference = _train(family, mnist_train, mnist_test, "float32")
    if runtime.cpu_bfloat16_speedup_is_worth_it():  # the products really ran in bfloat16
        assert any(not torch.equal(value, weights[name]) for name, value in first.items())
    ours, theirs = (next(e for e in run if isinstance(e, EpochResult)).test for run in (events, reference))
    assert ours.reconstruction == pytest.approx(theirs.reconstruction, rel=0.03)  # the same learning, to ~1 %
    assert ours.reconstruction < steps[0].losses["reconstruction"]


def test_the_speed_probe_compares_like_with_like(monkeypatch: pytest.MonkeyPatch) -> None:
    assert runtime.cpu_bfloat16_speedup(repeats=3) > 0  # a real measurement, on this machine
    runtime.cpu_bfloat16_speedup_is_worth_it.cache_clear()
    monkeypatch.setattr(runtime, "cpu_bfloat16_speedup", lambda: 1.2)
    assert not runtime.cpu_bfloat16_speedup_is_worth_it()
    runtime.cpu_bfloat16_speedup_is_worth_it.cache_clear()
    monkeypatch.setattr(runtime, "cpu_bfloat16_speedup", lambda: 3.5)
    assert runtime.cpu_bfloat16_speedup_is_worth_it()
    runtime.cpu_bfloat16_speedup_is_worth_it.cache_clear()  # measured afresh by the next caller


@pytest.mark.parametrize("precision", ["bfloat16", "auto"])
def test_the_cli_records_the_precision_it_trained_in(
    precision: str, tmp_path: Path, mnist_train: Split, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / precision
    args = ["--preset", "conv_ae_tiny", "--epochs", "1", "--subset", "256", "--batch-size", "64", "--quiet"]
    assert train_cli.main([*args, "--precision", precision, "--device", "cpu", "--out", str(out)]) == 0
    _, info = load_checkpoint(out.with_suffix(".safetensors"))
    expected = "bfloat16" if precision == "bfloat16" else "float32"  # auto: the tiny conv AE is too small
    assert info.training["precision"] == expected  # what it really ran in, never "auto"
    assert f"in {expected}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("device", "precision", "shown"),
    [
        ("cpu", "float32", "the CPU"),
        ("cpu", "bfloat16", "the CPU in bfloat16"),
        ("cuda", "bfloat16", "the GPU (CUDA) in bfloat16"),
        ("mps", "float32", "the GPU (Apple MPS)"),
    ],
)
def test_the_train_page_names_the_device_and_the_precision(device: str, precision: str, shown: str) -> None:
    from app.train.panels import where_it_trains

    progress = StepProgress(1, 1, 10, 1, 10, {}, 0.1, 1000.0, device, 1e-3, precision)
    assert where_it_trains(progress) == shown


def test_the_train_page_asks_for_the_fast_precision() -> None:
    from app.train.fields import TrainFields
    from models.training.presets import PRESETS

    spec = TrainFields.from_preset(PRESETS["dense_vae_2d"]).spec()
    assert spec.training.precision == "auto"
    assert spec.training.resolved(BIG).precision in ("float32", "bfloat16")
    assert spec.training.resolved(SMALL).precision == "float32"


def test_dense_models_use_low_precision_products_and_conv_models_autocast() -> None:
    dense = get_model("dense_vae", MODELS["dense_vae"])
    conv = get_model("conv_ae", MODELS["conv_ae"])
    assert runtime.bfloat16_method(dense, torch.device("cpu")) == "products"
    assert runtime.bfloat16_method(conv, torch.device("cpu")) == "autocast"
    assert runtime.bfloat16_method(dense, torch.device("cuda")) == "autocast"


def test_low_precision_products_are_undone_afterwards() -> None:
    before = torch.backends.mkldnn.matmul.fp32_precision, torch.backends.mkldnn.conv.fp32_precision
    with pytest.raises(RuntimeError), runtime.low_precision_products():
        assert torch.backends.mkldnn.matmul.fp32_precision == "bf16"
        raise RuntimeError("a failing step")
    assert (torch.backends.mkldnn.matmul.fp32_precision, torch.backends.mkldnn.conv.fp32_precision) == before
