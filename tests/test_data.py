"""Data loading: tensors in memory, the data-directory setting, and the offline error."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from models.files import data
from models.files.data import DataUnavailableError, Split, data_dir, load_split
from tools.browser import serving


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
    assert "network is unreachable" in message.lower()  # the reason, never an empty one
    error = caught.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


def test_unknown_dataset() -> None:
    with pytest.raises(ValueError, match="fashion_mnist"):
        load_split("cifar")


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory, mnist_test: Split) -> Iterator[tuple[str, dict[str, str]]]:
    """A local web server offering the four MNIST archives (gzipped from the data directory)."""
    served = tmp_path_factory.mktemp("served")
    checksums = {}
    for name in data.RAW_FILES:
        archive = gzip.compress((data.raw_folder("mnist") / name).read_bytes(), compresslevel=1, mtime=0)
        (served / f"{name}.gz").write_bytes(archive)
        checksums[f"{name}.gz"] = hashlib.md5(archive).hexdigest()
    handler = functools.partial(QuietHandler, directory=str(served))
    with serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)) as url:
        yield f"{url}/", checksums


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_a_download_fetches_checks_and_loads_the_files(
    mirror: tuple[str, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mnist_test: Split
) -> None:
    from torchvision import datasets

    url, checksums = mirror
    monkeypatch.setenv(data.MIRROR_ENV, url)
    monkeypatch.setattr(datasets.MNIST, "resources", [(name, md5) for name, md5 in checksums.items()])
    target = tmp_path / "fresh"
    split = load_split("mnist", train=False, root=target)
    assert torch.equal(split.images, mnist_test.images) and torch.equal(split.labels, mnist_test.labels)
    assert sorted(p.name for p in (target / "MNIST" / "raw").iterdir()) == sorted(data.RAW_FILES)  # nothing partial


def test_a_damaged_download_is_refused(
    mirror: tuple[str, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = mirror  # served with torchvision's real checksums, which these archives do not have
    monkeypatch.setenv(data.MIRROR_ENV, url)
    with pytest.raises(DataUnavailableError, match="wrong checksum"):
        load_split("mnist", train=False, root=tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()


def test_a_silent_server_times_out_quickly_and_creates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)  # accepts connections (the kernel does) and never answers
    monkeypatch.setenv(data.MIRROR_ENV, f"http://127.0.0.1:{listener.getsockname()[1]}/")
    monkeypatch.setattr(data, "DOWNLOAD_TIMEOUT", 1.0)
    started = time.perf_counter()
    with pytest.raises(DataUnavailableError, match="no answer within 1 s"):
        load_split("mnist", train=False, root=tmp_path / "given")
    assert time.perf_counter() - started < 5
    assert not (tmp_path / "given").exists()
    listener.close()


@pytest.mark.parametrize("train", [False, True])
def test_the_idx_reader_gives_exactly_what_torchvision_reads(train: bool, mnist_test: Split) -> None:
    from torchvision import datasets

    ours = load_split("mnist", train=train)
    theirs = datasets.MNIST(str(data.data_dir()), train=train, download=False)
    assert torch.equal(ours.images, theirs.data.unsqueeze(1).float() / 255.0)
    assert torch.equal(ours.labels, theirs.targets) and ours.labels.dtype == torch.int64


def _damage(data_bytes: bytes, how: str) -> bytes:
    return {
        "truncated": data_bytes[: len(data_bytes) // 2],
        "one byte longer": data_bytes + b"\x00",
        "header only": data_bytes[:16],
        "empty": b"",
        "wrong type": data_bytes[:2] + b"\x0d" + data_bytes[3:],
        "wrong dimensions": data_bytes[:3] + b"\x02" + data_bytes[4:],
        "labels as images": (data.raw_folder("mnist") / "t10k-labels-idx1-ubyte").read_bytes(),
    }[how]


DAMAGES = ["truncated", "one byte longer", "header only", "empty", "wrong type", "wrong dimensions", "labels as images"]


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_raw_file_gives_a_clear_error(how: str, tmp_path: Path, mnist_test: Split) -> None:
    folder = tmp_path / "MNIST" / "raw"
    folder.mkdir(parents=True)
    for name in data.RAW_FILES:
        (folder / name).write_bytes((data.raw_folder("mnist") / name).read_bytes())
    images = folder / "t10k-images-idx3-ubyte"
    images.write_bytes(_damage(images.read_bytes(), how))
    with pytest.raises(DataUnavailableError, match="could not be read: t10k-images-idx3-ubyte"):
        load_split("mnist", train=False, root=tmp_path, download=False)
