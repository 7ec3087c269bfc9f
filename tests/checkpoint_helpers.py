"""Helpers for the checkpoint tests: a small dense VAE's configuration, saved as a checkpoint."""

from __future__ import annotations

from pathlib import Path

import torch

from models.families.config import DenseConfig
from models.families.registry import get_model
from models.files.checkpoint import CheckpointInfo, save_checkpoint

SMALL = DenseConfig(hidden=(16,))


def small_checkpoint(folder: Path, name: str = "small") -> Path:
    torch.manual_seed(0)
    model = get_model("dense_vae", SMALL)
    return save_checkpoint(folder / name, model, CheckpointInfo(model="dense_vae", config=SMALL, title="Small"))
