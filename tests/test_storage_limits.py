"""Storage that stays bounded: the files published for browsers within the server's bytes, one version
of each model, a model still training never published, a full disk said in words, and a user folder
with a size."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import streamlit as st
import torch
from streamlit.testing.v1 import AppTest

from app.jobs.admission import JobLimits, folder_bytes, saved_bytes
from app.plane import publish
from app.plane.published import model_asset_url
from app.settings import ServerSettings
from app.space.catalogue import ModelRef
from models.families.config import ConvConfig
from models.families.registry import get_model
from models.files.checkpoint import CheckpointInfo, save_checkpoint
from models.files.claims import claimed
from models.files.data import Split
from models.files.store import USER_DIR_ENV
from tests.job_helpers import job_spec

ENTRY_POINT = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
PLANE_PAGES = ["pages/explore.py", "pages/interpolate.py", "pages/draw.py", "pages/sample.py", "pages/compare.py"]
BIG = ConvConfig(channels=(64, 128), dense=256)  # a model whose published file is megabytes


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder for published files, of at most 5 MB."""
    folder = tmp_path / "cache"
    monkeypatch.setattr(publish, "CACHE_DIR", folder)
    monkeypatch.setattr(publish, "server_settings", lambda: ServerSettings(cache_mb=5))
    st.cache_data.clear()  # URLs remembered by earlier tests point into another folder
    yield folder
    st.cache_data.clear()


def _sizes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file())


def test_the_cache_keeps_to_its_bytes_newest_first(cache: Path) -> None:
    urls = [publish.publish_bytes(f"file{i}", ".bin", os.urandom(1_500_000)) for i in range(8)]
    assert _sizes(cache) <= 5_000_000
    assert publish.is_published(urls[-1]) and not publish.is_published(urls[0])


def test_ten_trainings_of_a_large_model_leave_one_file(cache: Path, tmp_path: Path, mnist_test: Split) -> None:
    path = tmp_path / "user" / "large.safetensors"
    sizes = []
    for epoch in range(10):  # a run rewrites its checkpoint every epoch
        torch.manual_seed(epoch)
        save_checkpoint(path, get_model("conv_ae", BIG), CheckpointInfo("conv_ae", BIG, epochs=epoch + 1))
        url = model_asset_url(ModelRef.of(path), True)
        sizes.append(_sizes(cache))
    published = [p.name for p in cache.iterdir() if p.name.startswith("large-")]
    assert len(published) == 1 and publish.is_published(url)
    assert max(sizes) == pytest.approx(min(sizes), rel=0.01)  # one version of the model, whatever the epoch
    print(f"cache after each of ten versions: {sizes} bytes")


def test_a_pruned_file_is_published_again(cache: Path, tmp_path: Path, mnist_test: Split) -> None:
    path = tmp_path / "user" / "pruned.safetensors"
    save_checkpoint(path, get_model("conv_ae", BIG), CheckpointInfo("conv_ae", BIG))
    url = model_asset_url(ModelRef.of(path), True)
    (cache / url.removeprefix(publish.URL_PREFIX)).unlink()  # as the cache's bytes limit would
    assert model_asset_url(ModelRef.of(path), True) == url and publish.is_published(url)


def test_a_model_still_training_is_not_published(cache: Path, tmp_path: Path, monkeypatch, mnist_test: Split) -> None:
    user = tmp_path / "user"
    path = save_checkpoint(user / "busy", get_model("conv_ae", BIG), CheckpointInfo("conv_ae", BIG, title="Busy"))
    monkeypatch.setenv(USER_DIR_ENV, str(user))
    with claimed(path):
        app = AppTest.from_file(ENTRY_POINT, default_timeout=120)
        app.run()
        app.selectbox(key="model_path").set_value(str(path)).run()
        assert not app.exception, [e.value for e in app.exception]
        assert any("is still training" in info.value for info in app.info)
    assert not any(p.name.startswith("busy-") for p in cache.iterdir())


def test_a_full_disk_is_said_in_words_on_every_plane_page(tmp_path: Path, monkeypatch, mnist_test: Split) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("where the cache folder would be")
    monkeypatch.setattr(publish, "CACHE_DIR", blocker / "cache")  # nothing can be written there
    st.cache_data.clear()
    try:
        app = AppTest.from_file(ENTRY_POINT, default_timeout=120)
        app.run()
        for page in PLANE_PAGES:
            app.switch_page(page).run()
            assert not app.exception, (page, [e.value for e in app.exception])
            said = " ".join(w.value for w in app.warning)
            assert "The plane cannot be drawn: the server could not write the files browsers fetch" in said, page
            assert str(tmp_path) not in said
    finally:
        st.cache_data.clear()


def test_the_user_folder_has_a_size(make_queue) -> None:
    spec = job_spec("more")
    queue = make_queue(limits=JobLimits(folder_bytes=saved_bytes(spec) - 1))
    with pytest.raises(ValueError, match=r"the models trained here take 0 MB of the \d+ MB this server allows"):
        queue.validate(spec, "alice")
    queue.checkpoint_dir.mkdir(parents=True, exist_ok=True)
    (queue.checkpoint_dir / "old.safetensors").write_bytes(bytes(1000))
    assert folder_bytes(queue.checkpoint_dir) == 1000
