"""Browser fixtures: a real `streamlit run` server and headless Chromium driven by Playwright.

Where Chromium is missing the browser tests skip, except in CI, where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.browser import CHROMIUM_ARGS, StreamlitServer, chromium_path


def require_chromium() -> str:
    path = chromium_path()
    if path is None:
        message = "Chromium is not installed (apt-get install chromium, or set LATENT_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[object]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_driver: object) -> Iterator[object]:
    instance = playwright_driver.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
    yield instance
    instance.close()


@pytest.fixture(scope="session")
def devices(playwright_driver: object) -> dict[str, dict]:
    """Playwright's device descriptors ("iPhone 13", "Pixel 7", ...): viewport, touch, user agent."""
    return playwright_driver.devices


@pytest.fixture(scope="session")
def user_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the test server saves models trained in the browser (never the repository)."""
    return tmp_path_factory.mktemp("user_checkpoints")


@pytest.fixture(scope="session")
def server(mnist_test: object, user_checkpoints: Path) -> Iterator[StreamlitServer]:
    require_chromium()
    instance = StreamlitServer(env={"LATENT_USER_CHECKPOINTS": str(user_checkpoints)})
    yield instance
    instance.stop()


@pytest.fixture
def page(browser: object, server: StreamlitServer) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()
