"""The training and evaluation command lines, end to end on real MNIST."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from models import evaluate as evaluate_cli
from models import train as train_cli
from models.checkpoint import load_checkpoint
from models.data import Split
from models.latent import PlotView, plot_view
from models.metrics import encode_all

REPO_ROOT = Path(__file__).resolve().parent.parent
TINY_RUN = ["--preset", "conv_ae_tiny", "--epochs", "1", "--subset", "512", "--batch-size", "64", "--quiet"]


def test_help_states_the_defaults() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "models.train", "--help"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert "--preset" in result.stdout and "(default: dense_vae_2d)" in result.stdout
    assert "LATENT_DATA_DIR" in result.stdout


def test_tiny_run_end_to_end(
    tmp_path: Path, mnist_train: Split, mnist_test: Split, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tiny"
    assert train_cli.main([*TINY_RUN, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Saved" in printed and "k-NN accuracy" in printed
    model, info = load_checkpoint(out.with_suffix(".safetensors"))
    assert info.preset == "conv_ae_tiny" and info.epochs == 1 and info.training["subset"] == 512
    assert 0 < info.metrics["knn_accuracy"] <= 1 and info.command.startswith("python -m models.train --preset")
    # The plot view of the test codes is stored, so the app can draw the model without the data.
    stored = PlotView.from_dict(info.view, info.config.latent_dim)
    fresh = plot_view(encode_all(model, mnist_test.images))
    assert [*stored.bounds[0], *stored.bounds[1]] == pytest.approx([*fresh.bounds[0], *fresh.bounds[1]], abs=1e-4)

    assert evaluate_cli.main([str(out.with_suffix(".safetensors"))]) == 0
    evaluated = capsys.readouterr().out
    now, stored = (line.split(":", 1)[1] for line in evaluated.splitlines()[1:3])
    assert now.strip() == stored.strip()  # re-evaluation reproduces the stored metrics


def test_divergence_keeps_the_previous_checkpoint(
    tmp_path: Path, mnist_train: Split, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "keep"
    assert train_cli.main([*TINY_RUN, "--out", str(out)]) == 0
    saved = out.with_suffix(".safetensors")
    before = saved.read_bytes()
    assert train_cli.main([*TINY_RUN, "--out", str(out), "--lr", "1e9"]) == 1
    assert "diverged" in capsys.readouterr().err
    assert saved.read_bytes() == before


def test_missing_data_is_one_clear_line(tmp_path: Path, offline: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert train_cli.main([*TINY_RUN, "--data-dir", str(tmp_path / "nothing"), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: The mnist dataset is not available") and "Traceback" not in err
    assert not (tmp_path / "x.safetensors").exists()


def test_invalid_settings_are_rejected_before_training(
    tmp_path: Path, mnist_train: Split, capsys: pytest.CaptureFixture[str]
) -> None:
    assert train_cli.main([*TINY_RUN, "--batch-size", "4096", "--out", str(tmp_path / "x")]) == 2
    assert "batch size" in capsys.readouterr().err
