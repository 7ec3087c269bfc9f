"""Checkpoints: exact round trips, atomic writes, safe names, and shipped models never replaced."""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from models.families.config import DenseConfig
from models.families.registry import get_model
from models.files import checkpoint
from models.files import store as checkpoint_store
from models.files.checkpoint import (
    CheckpointError,
    CheckpointInfo,
    inspect_checkpoint,
    load_checkpoint,
    read_info,
    save_checkpoint,
)
from models.files.store import CHECKPOINT_DIR, clean_stale_temporaries, safe_checkpoint_name
from models.training.presets import PRESETS, list_presets
from tests import hostile_checkpoints as hostile
from tests.checkpoint_helpers import SMALL, small_checkpoint

SHIPPED_CONV_VAE = CHECKPOINT_DIR / "conv_vae_2d.safetensors"


@pytest.mark.parametrize("name", list_presets())
def test_round_trip_gives_identical_outputs(name: str, tmp_path: Path) -> None:
    preset = PRESETS[name]
    torch.manual_seed(0)
    model = preset.build()
    # One training step so batch-norm running statistics differ from their defaults.
    model.loss(torch.rand(4, 1, 28, 28), model(torch.rand(4, 1, 28, 28))).total.backward()
    model.eval()
    info = CheckpointInfo(
        model=preset.family, config=preset.config, preset=name, epochs=3, metrics={"knn_accuracy": 0.5}
    )
    path = save_checkpoint(tmp_path / name, model, info)
    assert path.name == f"{name}.safetensors"
    loaded, loaded_info = load_checkpoint(path)
    assert not loaded.training
    assert loaded_info.config == preset.config and loaded_info.epochs == 3 and loaded_info.created
    x = torch.rand(5, 1, 28, 28)
    with torch.inference_mode():
        assert torch.equal(model.encode(x), loaded.encode(x))
        z = torch.randn(5, preset.config.latent_dim)
        assert torch.equal(model.decode(z), loaded.decode(z))


def test_read_info_does_not_need_the_weights(tmp_path: Path) -> None:
    info = read_info(small_checkpoint(tmp_path))
    assert info.model == "dense_vae" and info.config == SMALL and info.title == "Small"


def test_failed_write_keeps_the_last_good_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = small_checkpoint(tmp_path)
    before = path.read_bytes()

    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint_store.os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        save_checkpoint(
            path, get_model("dense_vae", DenseConfig(hidden=(8,))), CheckpointInfo(model="dense_vae", config=SMALL)
        )
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.safetensors"]  # no temporary left behind


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("my model", "my_model"),
        ("../../etc/passwd", "etc_passwd"),
        ("C:\\Windows\\system32", "C_Windows_system32"),
        ("  vae β=4 ", "vae_4"),
        ("a" * 200, "a" * 64),
    ],
)
def test_safe_checkpoint_names(raw: str, expected: str) -> None:
    assert safe_checkpoint_name(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "../..", "/", "💥"])
def test_unusable_checkpoint_names(raw: str) -> None:
    with pytest.raises(CheckpointError, match="not usable"):
        safe_checkpoint_name(raw)


def test_every_metadata_length_saves_and_loads(tmp_path: Path) -> None:
    """A safetensors file starts with its header's length, so its first byte can be anything
    (0x80, a pickle's first byte, included): a real model saved under 300 metadata lengths.
    safetensors pads the header to a multiple of 8, so that covers every possible first byte."""
    model, info = load_checkpoint(SHIPPED_CONV_VAE)
    first_bytes = set()
    for length in range(300):
        path = save_checkpoint(tmp_path / "model", model, replace(info, title="t" * length))
        first_bytes.add(path.read_bytes()[0])
        loaded, loaded_info = load_checkpoint(path)
        assert loaded_info.title == "t" * length
        assert inspect_checkpoint(path) == loaded_info
    assert first_bytes == set(range(0, 256, 8))
    z = torch.randn(4, 2)
    with torch.inference_mode():
        assert torch.equal(loaded.decode(z), model.decode(z))


def test_stale_temporaries_are_cleaned_and_fresh_ones_kept(tmp_path: Path) -> None:
    good = small_checkpoint(tmp_path)
    stale = tmp_path / f".{good.name}.k2j3h4.tmp"
    stale.write_bytes(b"\0" * 1000)
    old = time.time() - 3600
    os.utime(stale, (old, old))
    fresh = tmp_path / f".{good.name}.abcd.tmp"  # a write in progress right now
    fresh.write_bytes(b"\0")
    assert clean_stale_temporaries(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([good.name, fresh.name])
    assert clean_stale_temporaries(tmp_path / "absent") == []


@pytest.mark.parametrize(("raw", "expected"), [("café", "cafe"), ("Ünïcödé model", "Unicode_model"), ("_x_", "x")])
def test_accented_names_keep_their_letters(raw: str, expected: str) -> None:
    assert safe_checkpoint_name(raw) == expected


@pytest.mark.parametrize(
    "spelling", ["{dir}/conv_vae_2d", "{dir}/user/../conv_vae_2d.safetensors", "{dir}/./conv_vae_2d"]
)
def test_a_shipped_model_is_never_replaced(spelling: str) -> None:
    before = SHIPPED_CONV_VAE.read_bytes()
    model, info = load_checkpoint(SHIPPED_CONV_VAE)
    with pytest.raises(CheckpointError, match="ships with the app"):
        save_checkpoint(spelling.format(dir=CHECKPOINT_DIR), model, replace(info, title="mine now"))
    assert SHIPPED_CONV_VAE.read_bytes() == before


def test_lesson_and_description_round_trip(tmp_path: Path) -> None:
    model = get_model("dense_vae", SMALL)
    info = CheckpointInfo(
        model="dense_vae", config=SMALL, lesson="beta-VAE", description="A beta-VAE with beta = 4: a smoother space."
    )
    loaded = read_info(save_checkpoint(tmp_path / "lesson", model, info))
    assert loaded.lesson == "beta-VAE" and loaded.description.startswith("A beta-VAE")
    assert loaded.format_version == checkpoint.FORMAT_VERSION == 3


def test_older_files_without_the_new_fields_are_read(tmp_path: Path) -> None:
    path = tmp_path / "version2.safetensors"
    info = json.loads(CheckpointInfo(model="dense_vae", config=SMALL).to_metadata()["info"])
    for name in ("lesson", "description"):
        del info[name]
    info["format_version"] = 2
    info["training"] = {"epochs": 20, "lr": 0.001, "subset": None}  # a version-2 TrainConfig
    save_file(hostile._tensors(), str(path), metadata={"format": checkpoint.FORMAT_NAME, "info": json.dumps(info)})
    loaded = load_checkpoint(path).info
    assert loaded.lesson == "" and loaded.description == "" and loaded.format_version == 2


def test_half_precision_halves_the_bytes_and_loads_as_float32(tmp_path: Path) -> None:
    model, info = load_checkpoint(SHIPPED_CONV_VAE)  # batch norm: running statistics and a counter too
    full = save_checkpoint(tmp_path / "full", model, info)
    half = save_checkpoint(tmp_path / "half", model, info, half=True)
    assert half.stat().st_size < 0.55 * full.stat().st_size
    loaded, _ = load_checkpoint(half)
    assert all(value.dtype in (torch.float32, torch.int64) for value in loaded.state_dict().values())
    for name, value in model.state_dict().items():
        expected = value.half().to(value.dtype) if value.is_floating_point() else value
        assert torch.equal(loaded.state_dict()[name], expected), name
    z = torch.randn(16, 2)
    with torch.inference_mode():
        assert torch.allclose(loaded.decode(z), model.decode(z), atol=2e-3)
    assert inspect_checkpoint(half).config == info.config


def test_half_precision_refuses_weights_it_cannot_hold(tmp_path: Path) -> None:
    model = get_model("dense_vae", SMALL)
    with torch.no_grad():
        model.encoder[1].weight[0, 0] = 1e6  # beyond float16's 65504
    with pytest.raises(ValueError, match="float16"):
        save_checkpoint(tmp_path / "big", model, CheckpointInfo(model="dense_vae", config=SMALL), half=True)
    assert not (tmp_path / "big.safetensors").exists()


def test_lesson_files_count_as_shipped(tmp_path: Path) -> None:
    assert checkpoint_store.is_shipped(checkpoint_store.LESSON_DIR / "any.safetensors")
    assert checkpoint_store.is_shipped(CHECKPOINT_DIR / "lessons" / ".." / "dense_vae_2d.safetensors")
    assert not checkpoint_store.is_shipped(CHECKPOINT_DIR / "user" / "mine.safetensors")
    assert not checkpoint_store.is_shipped(tmp_path / "lessons" / "mine.safetensors")
