"""Broken and hostile checkpoint files, each written by a function of a folder.

Shared by the unit tests of `models.files.checkpoint` and the page tests that drop every one of
them into the user folder: each must be refused with a reason, never crash a page.
"""

from __future__ import annotations

import json
import pickle
import struct
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors.torch import save as safetensors_bytes

from models.families.config import DenseConfig
from models.families.registry import get_model
from models.files.checkpoint import FORMAT_NAME, CheckpointInfo, save_checkpoint

SMALL = DenseConfig(hidden=(16,))


def _tensors(config: DenseConfig = SMALL) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return {k: v.contiguous() for k, v in get_model("dense_vae", config).state_dict().items()}


def _info(**changes: object) -> dict[str, str]:
    """Metadata of a small dense VAE with some fields of its info replaced (raw JSON values)."""
    info = json.loads(
        CheckpointInfo(model="dense_vae", config=SMALL, metrics={"knn_accuracy": 0.5}).to_metadata()["info"]
    )
    info.update(changes)
    return {"format": FORMAT_NAME, "info": json.dumps(info)}


def _write(folder: Path, name: str, payload: bytes) -> Path:
    path = folder / f"{name}.safetensors"
    path.write_bytes(payload)
    return path


def deeply_nested_header(folder: Path) -> Path:
    header = b"[" * 100_000 + b"]" * 100_000
    return _write(folder, "nested", struct.pack("<Q", len(header)) + header)


def nested_metadata(folder: Path) -> Path:
    deep = "[" * 100_000 + "]" * 100_000
    return _write(folder, "nested_info", safetensors_bytes(_tensors(), metadata={"format": FORMAT_NAME, "info": deep}))


def truncated_data(folder: Path) -> Path:
    return _write(folder, "truncated", safetensors_bytes(_tensors(), metadata=_info())[:-1000])


def wrong_tensors(folder: Path) -> Path:
    return _write(folder, "wrong_shapes", safetensors_bytes(_tensors(DenseConfig(hidden=(32,))), metadata=_info()))


def missing_tensor(folder: Path) -> Path:
    tensors = _tensors()
    del tensors["decoder.0.weight"]
    return _write(folder, "missing_tensor", safetensors_bytes(tensors, metadata=_info()))


def nan_weights(folder: Path) -> Path:
    tensors = _tensors()
    tensors["decoder.0.weight"][0, 0] = float("nan")
    return _write(folder, "nan_weights", safetensors_bytes(tensors, metadata=_info()))


def huge_latent(folder: Path) -> Path:
    config = {**json.loads(_info()["info"])["config"], "latent_dim": 10**9}
    return _write(folder, "huge_latent", safetensors_bytes(_tensors(), metadata=_info(config=config)))


def huge_hidden(folder: Path) -> Path:
    config = {**json.loads(_info()["info"])["config"], "hidden": [8192, 8192, 8192]}
    return _write(folder, "huge_hidden", safetensors_bytes(_tensors(), metadata=_info(config=config)))


def text_metric(folder: Path) -> Path:
    return _write(
        folder, "text_metric", safetensors_bytes(_tensors(), metadata=_info(metrics={"knn_accuracy": "high"}))
    )


def escaping_dataset(folder: Path) -> Path:
    return _write(folder, "escaping_dataset", safetensors_bytes(_tensors(), metadata=_info(dataset="../../etc")))


def text_epochs(folder: Path) -> Path:
    return _write(folder, "text_epochs", safetensors_bytes(_tensors(), metadata=_info(epochs="many")))


def pickled(folder: Path) -> Path:
    return _write(folder, "pickled", pickle.dumps({"state_dict": [1, 2, 3]}))


def torch_zip(folder: Path) -> Path:
    path = folder / "zipped.safetensors"
    torch.save(_tensors(), path)
    return path


def empty(folder: Path) -> Path:
    return _write(folder, "empty", b"")


def random_bytes(folder: Path) -> Path:
    return _write(folder, "noise", bytes(range(256)) * 40)


HOSTILE: dict[str, Callable[[Path], Path]] = {
    function.__name__: function
    for function in (
        deeply_nested_header, nested_metadata, truncated_data, wrong_tensors, missing_tensor, nan_weights,
        huge_latent, huge_hidden, text_metric, escaping_dataset, text_epochs, pickled, torch_zip, empty,
        random_bytes,
    )
}  # fmt: skip


def missing_metric(folder: Path) -> Path:
    """Not hostile: a model whose metadata lacks a metric must still be listed and shown."""
    torch.manual_seed(0)
    model = get_model("dense_vae", SMALL)
    return save_checkpoint(
        folder / "no_metrics",
        model,
        CheckpointInfo(model="dense_vae", config=SMALL, title="No metrics", metrics={"elbo": -150.0}),
    )
