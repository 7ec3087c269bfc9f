"""How a latent space forms during training: a fixed test sample, encoded after every epoch.

A `Replay` holds the codes of the same test images after each epoch (epoch 0 = untrained),
and the reconstructions of one test digit per class, so a page can replay how the clusters
formed. It is saved beside the checkpoint as `<name>.replay.npz` (plain arrays, no pickles),
written atomically like the checkpoints.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from models.evaluation.metrics import encode_all, model_device
from models.families.base import Autoencoder, eval_mode
from models.files.data import Split
from models.files.images import to_uint8
from models.files.store import atomic_write

REPLAY_SUFFIX = ".replay.npz"
REPLAY_SAMPLE = 2000  # test images whose codes are recorded after every epoch
REPLAY_SEED = 0  # fixed, so every job replays the same test images
REPLAY_DIGITS = 10  # test digits reconstructed after every epoch (one per class)
ENCODE_BATCH = 500  # keeps a big conv model's activations small while snapshotting


class ReplayFrame(NamedTuple):
    """The model's view of the replay sample after one epoch."""

    epoch: int  # 0 = before training
    codes: Tensor  # float32 (S, latent_dim): posterior means of the replay sample
    reconstructions: Tensor  # uint8 (R, 1, 28, 28): reconstructions of the replay digits


class Replay(NamedTuple):
    """How the latent space formed: a fixed test sample, encoded after every epoch."""

    index: Tensor  # int64 (S,): positions of the sample in the test split
    labels: Tensor  # int64 (S,): its labels (stored once)
    digits: Tensor  # uint8 (R, 1, 28, 28): the originals that the frames reconstruct
    digit_labels: Tensor  # int64 (R,)
    frames: tuple[ReplayFrame, ...]  # epoch 0, 1, ... in order


def replay_sample(test: Split, size: int = REPLAY_SAMPLE) -> tuple[Replay, Tensor, Tensor]:
    """The fixed replay sample of a test split: (Replay without frames, its images, the digit images)."""
    index = torch.randperm(len(test), generator=torch.Generator().manual_seed(REPLAY_SEED))[:size]
    digit_index = _one_per_class(test.labels, REPLAY_DIGITS)
    digit_images = test.images[digit_index]
    replay = Replay(index, test.labels[index], to_uint8(digit_images), test.labels[digit_index], ())
    return replay, test.images[index], digit_images


def snapshot(
    model: Autoencoder, epoch: int, images: Tensor, digits: Tensor, codes: Tensor | None = None
) -> ReplayFrame:
    """Codes (posterior means) of `images` and reconstructions of `digits`, in eval mode.

    `codes`, where the caller has them already (an `EpochResult`'s test codes, indexed by the
    replay sample's `index`), are used as they are: the images are not encoded again.
    """
    if codes is None:
        codes = encode_all(model, images, batch_size=ENCODE_BATCH)
    elif codes.shape[0] != images.shape[0]:
        raise ValueError(f"{codes.shape[0]} codes given for {images.shape[0]} images")
    with torch.inference_mode(), eval_mode(model):
        device = model_device(model)  # the model may be on a GPU, the images are on the CPU
        reconstructions = to_uint8(model.decode(model.encode(digits.to(device))).cpu())
    # Clone outside inference mode: pages may then use the tensors freely (e.g. in place).
    return ReplayFrame(epoch, codes.float().clone(), reconstructions.clone())


def save_replay(path: str | os.PathLike[str], replay: Replay) -> Path:
    """Atomically write a replay as .npz (temporary file + rename), like the checkpoints."""
    arrays = {
        "index": replay.index.numpy(),
        "labels": replay.labels.numpy(),
        "digits": replay.digits.numpy(),
        "digit_labels": replay.digit_labels.numpy(),
        "epochs": np.array([frame.epoch for frame in replay.frames], dtype=np.int64),
        "codes": np.stack([frame.codes.numpy() for frame in replay.frames]),  # (E, S, latent_dim)
        "reconstructions": np.stack([frame.reconstructions.numpy() for frame in replay.frames]),  # (E, R, 1, 28, 28)
    }
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return atomic_write(Path(path), buffer.getvalue())


def load_replay(path: str | os.PathLike[str]) -> Replay:
    """Read a replay written by `save_replay` (no pickles); ValueError if it is not one."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: torch.from_numpy(data[name].copy()) for name in data.files}
        series = zip(arrays["epochs"], arrays["codes"], arrays["reconstructions"], strict=True)
        frames = tuple(ReplayFrame(int(epoch), codes, reconstructions) for epoch, codes, reconstructions in series)
        return Replay(arrays["index"], arrays["labels"], arrays["digits"], arrays["digit_labels"], frames)
    except (OSError, KeyError, ValueError) as error:
        raise ValueError(f"{path.name} is not a usable replay file: {error}") from None


def _one_per_class(labels: Tensor, count: int) -> Tensor:
    """The first example of each class (in class order), topped up with the earliest others."""
    chosen = [int((labels == label).nonzero()[0]) for label in labels.unique().tolist()[:count]]
    for i in range(len(labels)):
        if len(chosen) >= count:
            break
        if i not in chosen:
            chosen.append(i)
    return torch.tensor(chosen, dtype=torch.int64)
