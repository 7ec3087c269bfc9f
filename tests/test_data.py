"""Data loading: tensors in memory, the data-directory setting, and the offline error."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models import data
from models.data import DataUnavailableError, Split, data_dir, load_split


def test_test_split_is_an_in_memory_tensor(mnist_test: Split) -> None:
    assert mnist_test.images.shape == (10_000, 1, 28, 28)
    assert mnist_test.images.dtype == torch.float32
    assert float(mnist_test.images.min()) >= 0 and float(mnist_test.images.max()) == 1.0
    assert mnist_test.labels.dtype == torch.int64
    assert sorted(mnist_test.labels.unique().tolist()) == list(range(10))


def test_train_split_size(mnist_train: Split) -> None:
    assert len(mnist_train) == 60_000


def test_loading_twice_is_cached(mnist_test: Split) -> None:
    assert load_split("mnist", train=False) is mnist_test


def test_sample_is_reproducible(mnist_test: Split) -> None:
    a, b = mnist_test.sample(100, seed=3), mnist_test.sample(100, seed=3)
    assert len(a) == 100 and torch.equal(a.labels, b.labels)
    assert mnist_test.sample(20_000) is mnist_test


def test_data_dir_setting_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    assert data_dir() == data.DEFAULT_DATA_DIR
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "env"))
    assert data_dir() == tmp_path / "env"
    assert data_dir(tmp_path / "flag") == tmp_path / "flag"


def test_missing_data_offline_gives_one_clear_error(offline: None, tmp_path: Path) -> None:
    with pytest.raises(DataUnavailableError) as caught:
        load_split("mnist", train=False, root=tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    for name in data.RAW_FILES:
        assert name in message
    assert "LATENT_DATA_DIR" in message and "--data-dir" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_unknown_dataset() -> None:
    with pytest.raises(ValueError, match="fashion_mnist"):
        load_split("cifar")
