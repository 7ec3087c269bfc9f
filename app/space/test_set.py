"""The test set for the pages: loaded when its files are there, downloaded in the background otherwise.

No page ever waits on the network: `test_data()` answers at once, with the split, with the
reason it is missing, or with "downloading" (then the page asks again in a moment).
"""

from __future__ import annotations

import math
import threading
import time
from typing import NamedTuple

import streamlit as st

from models.files.data import (
    DEFAULT_DATASET,
    DataUnavailableError,
    Split,
    check_data_dir,
    data_dir,
    files_present,
    load_split,
)

DATA_RETRY_SECONDS = 60  # how long a failed download is reported before the next attempt


class DataStatus(NamedTuple):
    split: Split | None
    error: str | None  # what is missing and how to fix it; None once loaded or while downloading
    downloading: bool = False  # a background download is under way: ask again in a moment


class TestSetLoader:
    """The test split of one dataset in one data directory, for every session of the server.

    Files in place are loaded at once (a fraction of a second). Missing files are downloaded
    by a background thread, so no page ever waits on the network: pages show what works
    without the data and ask again later. A failed download is retried after
    `DATA_RETRY_SECONDS`, never more than one at a time.
    """

    def __init__(self, dataset: str, root: str) -> None:
        self.dataset, self.root = dataset, root
        self._lock = threading.Lock()
        self._split: Split | None = None
        self._error: str | None = None
        self._failed_at = -math.inf
        self._download: threading.Thread | None = None

    def status(self) -> DataStatus:
        with self._lock:
            if self._split is not None:
                return DataStatus(self._split, None)
        try:
            check_data_dir(self.dataset, self.root)
            if files_present(self.dataset, self.root):
                return self._loaded(load_split(self.dataset, train=False, root=self.root, download=False))
        except DataUnavailableError as error:
            return DataStatus(None, str(error))
        with self._lock:
            if self._download is not None and self._download.is_alive():
                return DataStatus(None, None, downloading=True)
            if self._error is not None and time.monotonic() - self._failed_at < DATA_RETRY_SECONDS:
                return DataStatus(None, self._error)
            self._download = threading.Thread(target=self._fetch, name=f"download-{self.dataset}", daemon=True)
            self._download.start()
            return DataStatus(None, None, downloading=True)

    def wait(self, timeout: float | None = None) -> None:
        """Block until a download under way has ended (for command lines and tests)."""
        download = self._download
        if download is not None:
            download.join(timeout)

    def _loaded(self, split: Split) -> DataStatus:
        with self._lock:
            self._split, self._error = split, None
        return DataStatus(split, None)

    def _fetch(self) -> None:
        try:
            self._loaded(load_split(self.dataset, train=False, root=self.root, download=True))
        except DataUnavailableError as error:
            with self._lock:
                self._error, self._failed_at = str(error), time.monotonic()
        except Exception as error:  # never let a download thread die silently
            with self._lock:
                self._error, self._failed_at = f"The download failed: {type(error).__name__}: {error}", time.monotonic()


@st.cache_resource(show_spinner=False)
def test_set_loader(dataset: str, root: str) -> TestSetLoader:
    """The one loader per dataset and data directory, shared by every session."""
    return TestSetLoader(dataset, root)


def test_data(dataset: str = DEFAULT_DATASET) -> DataStatus:
    """The test split if it is available now; never waits on the network."""
    return test_set_loader(dataset, str(data_dir())).status()
