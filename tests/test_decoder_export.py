"""Decoders exported for the browser: the ops reproduce torch for every family and option."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import torch

from models.families.config import ConvConfig, DenseConfig
from models.families.registry import get_model
from models.files.browser_export import MAGIC, export_decoder, pack, run_ops
from models.files.checkpoint import load_checkpoint
from models.files.store import CHECKPOINT_DIR, list_checkpoints

CONFIGS = {
    "dense_ae relu": ("dense_ae", DenseConfig(hidden=(64, 32))),
    "dense_vae leaky bn": ("dense_vae", DenseConfig(hidden=(48, 24), activation="leaky_relu", batch_norm=True)),
    "dense_ae tanh 8-D": ("dense_ae", DenseConfig(latent_dim=8, hidden=(40,), activation="tanh")),
    "dense_ae sigmoid 1-D no hidden": ("dense_ae", DenseConfig(latent_dim=1, hidden=(), activation="sigmoid")),
    "conv_ae strided": ("conv_ae", ConvConfig(channels=(4, 8), activation="tanh")),
    "conv_ae pool 3 stages": ("conv_ae", ConvConfig(channels=(4, 6, 8), style="pool")),
    "conv_vae bn dense 5x5": (
        "conv_vae",
        ConvConfig(channels=(4, 8), dense=16, batch_norm=True, kernel_size=5, activation="leaky_relu"),
    ),
    "conv_vae bn 3 dense layers": ("conv_vae", ConvConfig(channels=(4, 8), dense=12, dense_layers=3, batch_norm=True)),
    "conv_ae one stage": ("conv_ae", ConvConfig(latent_dim=3, channels=(5,))),
}


def _randomised(family: str, config: object) -> torch.nn.Module:
    """A model whose batch-norm statistics and affine parameters are far from their defaults."""
    torch.manual_seed(0)
    model = get_model(family, config)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                module.running_mean.normal_(0, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.normal_(1, 0.3)
                module.bias.normal_(0, 0.3)
    return model.eval()


@pytest.mark.parametrize("name", CONFIGS)
def test_exported_ops_reproduce_the_decoder(name: str) -> None:
    model = _randomised(*CONFIGS[name])
    exported = export_decoder(model)
    z = torch.randn(64, model.latent_dim) * 2
    with torch.inference_mode():
        expected = model.decode(z).numpy()
    assert np.abs(run_ops(exported.ops, exported.weights, z.numpy()).reshape(expected.shape) - expected).max() < 1e-5
    assert not any(op["op"] == "batch_norm" for op in exported.ops)  # folded away
    assert exported.multiply_adds > 0 and exported.weights.dtype == np.float32


@pytest.mark.parametrize("path", list_checkpoints(CHECKPOINT_DIR), ids=lambda p: p.stem)
def test_shipped_models_export(path: object) -> None:
    model, _ = load_checkpoint(path)
    exported = export_decoder(model)
    z = torch.randn(32, model.latent_dim) * 2
    with torch.inference_mode():
        expected = model.decode(z).numpy()
    assert np.abs(run_ops(exported.ops, exported.weights, z.numpy()).reshape(expected.shape) - expected).max() < 1e-5


def test_an_unknown_layer_is_refused() -> None:
    model = get_model("dense_ae", DenseConfig(hidden=(8,)))
    model.decoder.insert(1, torch.nn.Dropout(0.1))
    with pytest.raises(ValueError, match="no op for Dropout"):
        export_decoder(model)


def test_pack_lays_out_a_header_and_aligned_arrays() -> None:
    exported = export_decoder(_randomised(*CONFIGS["conv_vae bn dense 5x5"]))
    labels = np.arange(7, dtype=np.uint8)
    points = np.arange(14, dtype=np.float32).reshape(7, 2)
    blob = pack(exported, {"title": "x"}, {"labels": labels, "points": points})
    assert blob[:4] == MAGIC
    (length,) = struct.unpack("<I", blob[4:8])
    header = json.loads(blob[8 : 8 + length])
    data = blob[8 + length :]
    assert (8 + length) % 8 == 0 and header["title"] == "x" and header["ops"] == exported.ops
    for name, expected in (("weights", exported.weights), ("labels", labels), ("points", points)):
        entry = header["arrays"][name]
        assert entry["offset"] % expected.dtype.itemsize == 0
        found = np.frombuffer(data, dtype=entry["dtype"], count=expected.size, offset=entry["offset"])
        assert np.array_equal(found.reshape(entry["shape"]), expected)
