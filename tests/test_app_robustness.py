"""AppTest: the app survives what a classroom throws at it: broken files, a stalled network."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from models.files.data import Split
from tests.hostile_checkpoints import HOSTILE, missing_metric

ENTRY_POINT = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
ALL_PAGES = ["pages/explore.py", "pages/interpolate.py", "pages/draw.py", "pages/sample.py", "pages/train.py"]


def _run_every_page(app: AppTest) -> None:
    for page in ALL_PAGES:
        app.switch_page(page).run()
        assert not app.exception, (page, [e.value for e in app.exception])
        assert app.title, page


def test_every_hostile_file_is_skipped_and_named_and_every_page_still_renders(
    mnist_test: Split, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from models.files.store import USER_DIR_ENV

    bad = [make(tmp_path) for make in HOSTILE.values()]
    kept = missing_metric(tmp_path)
    monkeypatch.setenv(USER_DIR_ENV, str(tmp_path))
    app = AppTest.from_file(ENTRY_POINT, default_timeout=120)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    warnings = " ".join(w.value for w in app.sidebar.warning).replace("\\", "")  # shown escaped, as plain text
    for path in bad:
        assert f"Skipped {path.name}" in warnings, path.name  # each named, with its reason
    assert warnings.count("is a pickled PyTorch file") == 2  # only the two real pickles are called pickles
    options = app.selectbox(key="model_path").options
    assert any(option.startswith("No metrics") for option in options)
    assert not any(option.startswith(f"{path.stem} (") for option in options for path in bad)  # title-less: by name
    _run_every_page(app)

    # The model whose metadata lacks most metrics is usable on every page.
    app.selectbox(key="model_path").set_value(str(kept.resolve())).run()
    assert "ELBO -150.0" in app.sidebar.markdown[0].value
    _run_every_page(app)


@pytest.fixture
def stalled_mirror() -> Iterator[str]:
    """An HTTP "server" that accepts connections and never answers, like a captive network."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


def test_a_stalled_network_never_holds_a_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stalled_mirror: str
) -> None:
    from app.space import latent_space, test_set
    from models.files import data

    empty = tmp_path / "data"
    monkeypatch.setenv(data.DATA_DIR_ENV, str(empty))
    monkeypatch.setenv(data.MIRROR_ENV, stalled_mirror)
    monkeypatch.setattr(data, "DOWNLOAD_TIMEOUT", 3.0)
    latent_space._latent_space.clear()
    try:
        app = AppTest.from_file(ENTRY_POINT, default_timeout=60)
        started = time.perf_counter()
        app.run()
        for page in ALL_PAGES:
            app.switch_page(page).run()
            assert not app.exception, (page, [e.value for e in app.exception])
            assert any("being downloaded" in info.value for info in app.info), page
        assert time.perf_counter() - started < 10, "every page rendered while the download hung"
        assert app.button(key="train_start").disabled
        assert not empty.exists(), "no folder is created before anything has arrived"

        test_set.test_set_loader("mnist", str(empty)).wait(timeout=60)
        app.switch_page("pages/train.py").run()
        warning = " ".join(w.value for w in app.warning)
        assert "no answer within 3 s" in warning and "Start is off" in warning
        assert app.button(key="train_start").disabled
        app.switch_page("pages/explore.py").run()
        planes = [e for e in app.get("bidi_component") if e.proto.component_name == "latent_explorer.latent_plane"]
        assert len(planes) == 1  # the plane, decodable without data
        assert sum("not available" in w.value for w in app.warning) == 1  # one message per page
    finally:
        latent_space._latent_space.clear()


def test_the_server_takes_no_upload_larger_than_the_app_accepts() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 and later
    from models.files.preprocess import MAX_UPLOAD_BYTES

    config = tomllib.loads((Path(ENTRY_POINT).parent / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 2**20 == MAX_UPLOAD_BYTES  # Streamlit counts MiB
