"""Shared fixtures: real MNIST from the configured data directory, offline-download guard."""

from __future__ import annotations

import os
from urllib.error import URLError

import pytest

from models.data import DataUnavailableError, Split, load_split


def _load_or_skip(train: bool) -> Split:
    try:
        return load_split("mnist", train=train)
    except DataUnavailableError as error:
        # Never silently skip in CI: there the data directory must be configured.
        if os.environ.get("CI"):
            pytest.fail(str(error))
        pytest.skip(str(error))


@pytest.fixture(scope="session")
def mnist_test() -> Split:
    return _load_or_skip(train=False)


@pytest.fixture(scope="session")
def mnist_train() -> Split:
    return _load_or_skip(train=True)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every dataset download fail as it does without a network."""
    from models import data

    def refuse(*args: object, **kwargs: object) -> bytes:
        raise URLError(OSError(101, "Network is unreachable"))

    monkeypatch.setattr(data, "_fetch", refuse)
