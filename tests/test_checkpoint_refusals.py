"""Checkpoints refused with a reason: pickles never run, hostile, broken or foreign files, absurd
architectures refused before allocating, and metadata that is not short text or numbers."""

from __future__ import annotations

import json
import pickle
import re
import struct
import tracemalloc
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from models.families.config import DenseConfig
from models.families.registry import get_model
from models.files import checkpoint
from models.files.checkpoint import (
    CheckpointError,
    CheckpointInfo,
    inspect_checkpoint,
    load_checkpoint,
    read_info,
    save_checkpoint,
)
from tests import hostile_checkpoints as hostile
from tests.checkpoint_helpers import SMALL, small_checkpoint
from tests.hostile_checkpoints import HOSTILE


def test_malicious_pickle_is_refused_and_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (Path.touch, (marker,))

    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"state_dict": Exploit()}))
    with pytest.raises(CheckpointError, match="pickled PyTorch file"):
        load_checkpoint(path)
    assert not marker.exists()


def test_torch_save_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    torch.save(get_model("dense_ae", SMALL).state_dict(), path)
    with pytest.raises(CheckpointError, match="pickled"):
        load_checkpoint(path)


@pytest.mark.parametrize("keep", [0, 5, 8, 100, -100])
def test_truncated_files_are_refused(keep: int, tmp_path: Path) -> None:
    good = small_checkpoint(tmp_path).read_bytes()
    path = tmp_path / "cut.safetensors"
    path.write_bytes(good[:keep])
    with pytest.raises(CheckpointError, match=r"cut\.safetensors"):
        load_checkpoint(path)


def test_random_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "noise.safetensors"
    path.write_bytes(struct.pack("<Q", 10) + b"\xff" * 50)
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_checkpoint(path)


def test_foreign_safetensors_without_metadata_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "foreign.safetensors"
    save_file({"weight": torch.zeros(3)}, str(path))
    with pytest.raises(CheckpointError, match="not a latent explorer checkpoint"):
        load_checkpoint(path)


def test_architecture_mismatch_is_named(tmp_path: Path) -> None:
    other = get_model("dense_vae", DenseConfig(hidden=(32,)))
    path = tmp_path / "mismatch.safetensors"
    metadata = CheckpointInfo(model="dense_vae", config=SMALL).to_metadata()
    save_file({k: v.contiguous() for k, v in other.state_dict().items()}, str(path), metadata=metadata)
    with pytest.raises(CheckpointError, match=r"does not match.*encoder.1.weight has shape \(32, 784\)"):
        load_checkpoint(path)


def test_unknown_model_and_bad_config_in_metadata(tmp_path: Path) -> None:
    path = small_checkpoint(tmp_path)
    for change, message in ((("model", "gan"), "unknown model 'gan'"), (("config", {"latent_dim": -1}), "latent_dim")):
        info = json.loads(checkpoint.CheckpointInfo(model="dense_vae", config=SMALL).to_metadata()["info"])
        info[change[0]] = change[1]
        tensors = {k: v.contiguous() for k, v in get_model("dense_vae", SMALL).state_dict().items()}
        save_file(tensors, str(path), metadata={"format": checkpoint.FORMAT_NAME, "info": json.dumps(info)})
        with pytest.raises(CheckpointError, match=message):
            load_checkpoint(path)


def test_nan_weights_are_refused(tmp_path: Path) -> None:
    model = get_model("dense_vae", SMALL)
    with torch.no_grad():
        model.encoder[1].weight[0, 0] = float("nan")
    path = save_checkpoint(tmp_path / "nan", model, CheckpointInfo(model="dense_vae", config=SMALL))
    with pytest.raises(CheckpointError, match="NaN"):
        load_checkpoint(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint file"):
        load_checkpoint(tmp_path / "absent.safetensors")


@pytest.mark.parametrize("make", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_files_are_refused_with_a_reason(make: object, tmp_path: Path) -> None:
    path = make(tmp_path)
    with pytest.raises(CheckpointError, match=re.escape(path.name)):
        inspect_checkpoint(path)
    with pytest.raises(CheckpointError, match=re.escape(path.name)):
        load_checkpoint(path)


@pytest.mark.parametrize("make", [hostile.huge_latent, hostile.huge_hidden])
def test_absurd_architectures_are_refused_without_allocating(make: object, tmp_path: Path) -> None:
    path = make(tmp_path)
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError):
            load_checkpoint(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20


def test_a_pickle_is_named_as_one_and_a_safetensors_header_never_is(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="pickled PyTorch file"):
        inspect_checkpoint(hostile.pickled(tmp_path))
    with pytest.raises(CheckpointError, match="pickled PyTorch file"):
        inspect_checkpoint(hostile.torch_zip(tmp_path))
    for make in (hostile.truncated_data, hostile.nan_weights, hostile.random_bytes, hostile.deeply_nested_header):
        with pytest.raises(CheckpointError) as refused:
            inspect_checkpoint(make(tmp_path))
        assert "pickled" not in str(refused.value)


def test_a_missing_metric_is_not_a_problem(tmp_path: Path) -> None:
    info = inspect_checkpoint(hostile.missing_metric(tmp_path))
    assert info.metrics == {"elbo": -150.0}


@pytest.mark.parametrize(
    ("change", "message"),
    [({"lesson": 4}, "lesson"), ({"description": ["a"]}, "description"), ({"description": "x" * 5000}, "description")],
)
def test_lesson_and_description_must_be_short_text(change: dict, message: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.safetensors"
    save_file(hostile._tensors(), str(path), metadata=hostile._info(**change))
    with pytest.raises(CheckpointError, match=message):
        read_info(path)


@pytest.mark.parametrize(
    ("training", "ok"),
    [
        ({"digits": [0, 1, 4, 7]}, True),
        ({"digits": None}, True),
        ({"digits": ["0"]}, False),
        ({"digits": list(range(100))}, False),
        ({"digits": [[0]]}, False),
    ],
)
def test_training_settings_may_hold_a_short_list_of_numbers(training: dict, ok: bool, tmp_path: Path) -> None:
    path = tmp_path / "digits.safetensors"
    save_file(hostile._tensors(), str(path), metadata=hostile._info(training=training))
    if ok:
        assert read_info(path).training == training
    else:
        with pytest.raises(CheckpointError, match="training"):
            read_info(path)
