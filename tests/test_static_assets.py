"""The files the browser fetches: published once, gzipped, named by content."""

from __future__ import annotations

import gzip
import os

import pytest

from app.plane import publish as static_assets
from app.plane.publish import PLOTLY_JS, URL_PREFIX, plotly_url, publish_bytes


@pytest.mark.parametrize("size", [0, 1, 100, 65_536, 1_000_003])
def test_large_files_are_published_gzipped_and_give_back_the_same_bytes(size: int) -> None:
    payload = os.urandom(size // 2) + bytes(size - size // 2)  # half noise, half zeros
    url = publish_bytes("test-payload", ".bin", payload)
    assert url.startswith(URL_PREFIX) and url.endswith(".bin.gz")
    published = static_assets.CACHE_DIR / url.removeprefix(URL_PREFIX)
    assert gzip.decompress(published.read_bytes()) == payload
    assert publish_bytes("test-payload", ".bin", payload) == url  # the same content, the same name
    published.unlink()


def test_plotly_is_published_gzipped_from_the_installed_package() -> None:
    url = plotly_url()
    assert url.endswith(".js.gz")
    published = static_assets.CACHE_DIR / url.removeprefix(URL_PREFIX)
    assert gzip.decompress(published.read_bytes()) == PLOTLY_JS.read_bytes()
