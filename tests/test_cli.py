"""The training and evaluation command lines, end to end on real MNIST."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from models import evaluate as evaluate_cli
from models import train as train_cli
from models.evaluation.metrics import encode_all
from models.files.checkpoint import load_checkpoint
from models.files.data import MIRROR_ENV, Split, data_dir
from models.files.store import CHECKPOINT_DIR, USER_DIR_ENV
from models.geometry.plane import PlotView, plot_view

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
    assert "Saved" in printed and "after 1 epoch (" in printed and "k-NN accuracy" in printed
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
    assert train_cli.main([*TINY_RUN, "--out", str(out), "--lr", "1e9", "--overwrite"]) == 1
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


def _run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "models.train", *args], cwd=REPO_ROOT, capture_output=True, text=True,
        env={**os.environ, **(env or {})}, timeout=300,
    )  # fmt: skip


def _shipped_state() -> dict[str, tuple[int, bytes]]:
    return {
        path.name: (path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).digest())
        for path in CHECKPOINT_DIR.glob("*.safetensors")
    }


def test_the_cli_never_touches_a_shipped_model(tmp_path: Path, mnist_train: Split) -> None:
    before = _shipped_state()
    env = {USER_DIR_ENV: str(tmp_path)}
    first = _run_cli(*TINY_RUN, env=env)
    assert first.returncode == 0, first.stderr
    assert f"Saved {tmp_path / 'conv_ae_tiny.safetensors'}" in first.stdout
    second = _run_cli(*TINY_RUN, env=env)  # the same command again: a new name, nothing replaced
    assert second.returncode == 0, second.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conv_ae_tiny.safetensors", "conv_ae_tiny_2.safetensors"]
    for out in ("checkpoints/dense_vae_2d", "checkpoints/dense_vae_2d.safetensors", "checkpoints/user/../conv_vae_2d"):
        refused = _run_cli(*TINY_RUN, "--out", out, "--overwrite", env=env)
        assert refused.returncode == 2 and "ships with the app" in refused.stderr, (out, refused.stderr)
    assert _shipped_state() == before


def test_an_existing_file_is_replaced_only_with_overwrite(tmp_path: Path, mnist_train: Split) -> None:
    out = tmp_path / "mine"
    assert train_cli.main([*TINY_RUN, "--out", str(out)]) == 0
    before = out.with_suffix(".safetensors").read_bytes()
    assert train_cli.main([*TINY_RUN, "--out", str(out), "--seed", "1"]) == 2
    assert out.with_suffix(".safetensors").read_bytes() == before
    assert train_cli.main([*TINY_RUN, "--out", str(out), "--seed", "1", "--overwrite"]) == 0
    assert out.with_suffix(".safetensors").read_bytes() != before


def test_the_same_command_twice_gives_the_same_weights(tmp_path: Path, mnist_train: Split) -> None:
    runs = []
    for name in ("one", "two"):
        result = _run_cli("--preset", "dense_vae_2d", "--epochs", "1", "--subset", "2000", "--quiet",
                          "--out", str(tmp_path / name))  # fmt: skip
        assert result.returncode == 0, result.stderr
        runs.append(load_file(tmp_path / f"{name}.safetensors"))
    assert runs[0].keys() == runs[1].keys()
    for key in runs[0]:
        assert torch.equal(runs[0][key], runs[1][key]), key


def test_invalid_options_are_reported_before_the_data_loads(tmp_path: Path) -> None:
    for option, message in ((["--epochs", "0"], "epochs must be >= 1"), (["--lr", "-1"], "learning rate"),
                            (["--subset", "70000"], "subset"), (["--batch-size", "1"], "batch size")):  # fmt: skip
        started = time.perf_counter()
        # No data there at all: the option is the first thing reported, before any download.
        result = _run_cli(*option, "--data-dir", str(tmp_path / "nothing"), env={MIRROR_ENV: "http://127.0.0.1:9/"})
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "not available" not in result.stderr
        assert time.perf_counter() - started < 30
    assert not (tmp_path / "nothing").exists()


def test_help_states_each_default_once() -> None:
    result = _run_cli("--help")
    text = " ".join(result.stdout.split())
    assert "(default: None)" not in text and "(default: False)" not in text
    # 6 training options, and the headings of the model, conv model, objective and training-variant options
    assert text.count("(default: the preset's)") == 10
    assert "(default: 0)" in text  # the seed: a zero default is stated too
    assert "(default: )" not in text
    assert "(default: dense_vae_2d)" in text and "--overwrite" in text


def test_evaluate_counts_one_epoch_in_the_singular(tmp_path: Path, mnist_train: Split, mnist_test: Split) -> None:
    out = tmp_path / "one"
    assert _run_cli(*TINY_RUN, "--out", str(out)).returncode == 0
    result = subprocess.run([sys.executable, "-m", "models.evaluate", f"{out}.safetensors"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert " 1 epoch)" in result.stdout and "1 epochs" not in result.stdout


def test_evaluate_help_states_each_default_once() -> None:
    result = subprocess.run([sys.executable, "-m", "models.evaluate", "--help"], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    text = " ".join(result.stdout.split())
    assert result.returncode == 0 and "(default: None)" not in text and "(default: False)" not in text
    assert text.count("(default:") == 2  # the paths and the data directory, each once


def test_a_data_dir_pointed_at_the_raw_files_says_which_folder_to_use(tmp_path: Path, mnist_train: Split) -> None:
    raw = data_dir() / "MNIST" / "raw"
    result = _run_cli(*TINY_RUN, "--data-dir", str(raw), "--out", str(tmp_path / "x"))
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert "holds the raw mnist files themselves" in message and f"(here probably {data_dir()})" in message


def test_the_new_options_reach_the_checkpoint(
    tmp_path: Path, mnist_train: Split, mnist_test: Split, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "lesson"
    args = ["--preset", "dense_vae_2d", "--hidden", "64", "--beta", "4", "--epochs", "2", "--subset", "1024",
            "--schedule", "onecycle", "--kl-warmup", "1", "--weight-decay", "0.01", "--knn-reference", "2000",
            "--digits", "0,1,4,7", "--device", "cpu", "--lesson", "beta-VAE", "--description", "Beta 4.",
            "--quiet", "--out", str(out)]  # fmt: skip
    assert train_cli.main(args) == 0
    model, info = load_checkpoint(out.with_suffix(".safetensors"))
    assert info.config.hidden == (64,) and info.config.objective.beta == 4.0
    assert info.lesson == "beta-VAE" and info.description == "Beta 4."
    assert info.training["digits"] == [0, 1, 4, 7] and info.training["schedule"] == "onecycle"
    assert info.training["kl_warmup"] == 1 and info.training["knn_reference"] == 2000
    chosen = mnist_test.with_digits((0, 1, 4, 7))
    stored, fresh = PlotView.from_dict(info.view, 2), plot_view(encode_all(model, chosen.images))  # chosen digits
    assert [*stored.bounds[0], *stored.bounds[1]] == pytest.approx([*fresh.bounds[0], *fresh.bounds[1]], abs=1e-4)
    capsys.readouterr()
    assert evaluate_cli.main([str(out.with_suffix(".safetensors"))]) == 0  # evaluated on the same digits
    now, stored = (line.split(":", 1)[1] for line in capsys.readouterr().out.splitlines()[1:3])
    assert now.strip() == stored.strip()


def test_dense_layers_reach_the_checkpoint(tmp_path: Path, mnist_train: Split) -> None:
    out = tmp_path / "deep"
    args = ["--preset", "conv_vae_2d", "--channels", "4,8", "--dense", "16", "--dense-layers", "3", "--epochs", "1",
            "--subset", "512", "--knn-reference", "1000", "--quiet", "--out", str(out)]  # fmt: skip
    assert _run_cli(*args).returncode == 0
    model, info = load_checkpoint(out.with_suffix(".safetensors"))
    assert info.config.dense == 16 and info.config.dense_layers == 3
    widths = [m.out_features for m in model.decoder if isinstance(m, torch.nn.Linear)]
    assert widths == [16, 16, 16, 8 * 7 * 7]
    assert [m.out_features for m in model.encoder if isinstance(m, torch.nn.Linear)] == [16, 16, 16, 4]


def test_half_precision_stores_the_metrics_of_the_rounded_weights(
    tmp_path: Path, mnist_train: Split, capsys: pytest.CaptureFixture[str]
) -> None:
    full, half = tmp_path / "full", tmp_path / "half"
    assert train_cli.main([*TINY_RUN, "--out", str(full)]) == 0
    assert train_cli.main([*TINY_RUN, "--out", str(half), "--half"]) == 0
    printed = capsys.readouterr().out
    assert "float16 weights:" in printed
    full_file, half_file = full.with_suffix(".safetensors"), half.with_suffix(".safetensors")
    assert half_file.stat().st_size < 0.7 * full_file.stat().st_size
    assert {entry.dtype for entry in load_file(half_file).values()} == {torch.float16}
    assert evaluate_cli.main([str(half_file)]) == 0
    now, stored = (line.split(":", 1)[1] for line in capsys.readouterr().out.splitlines()[1:3])
    assert now.strip() == stored.strip()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--digits", "0,0"], "distinct digits"),
        (["--digits", "1,12"], "distinct digits"),
        (["--hidden", "64", "--preset", "conv_ae_tiny"], "--hidden does not apply to conv_ae_tiny"),
        (["--channels", "8"], "--channels does not apply to dense_vae_2d"),
        (["--dense-layers", "2"], "--dense-layers does not apply to dense_vae_2d"),
        (["--dense-layers", "0", "--preset", "conv_vae_2d"], "dense_layers must be a whole number from 1"),
        (["--schedule", "linear"], "invalid choice"),
        (["--kl-warmup", "-1"], "KL warm-up"),
        (["--weight-decay", "-1"], "weight decay"),
        (["--beta", "-1"], "beta"),
        (["--hidden", "64,x"], "whole numbers"),
        (["--title", "t" * 4097], "--title is longer than 4096 characters"),
        (["--lesson", "l" * 4097], "--lesson is longer than 4096 characters"),
        (["--preset", "conv_ae_pool", "--channels", "1024,1024", "--batch-size", "60000"], "TB of memory"),
    ],
)
def test_new_options_are_checked_before_the_data_loads(option: list[str], message: str, tmp_path: Path) -> None:
    result = _run_cli(*option, "--data-dir", str(tmp_path / "nothing"), env={MIRROR_ENV: "http://127.0.0.1:9/"})
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / "nothing").exists()


def test_digits_are_parsed_in_any_common_spelling() -> None:
    for text in ("0,1,4,7", "0 1 4 7", "0147", " 0, 1,4 ,7 "):
        assert train_cli.parse_digits(text) == (0, 1, 4, 7)
