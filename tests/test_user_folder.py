"""A user folder made hostile by one student (links in a loop, links to nothing or to system files,
pipes and folders named like checkpoints) never takes a page down for anyone, and every odd entry is
named by its own name in the folder, never by a path of the server or by the file a link points to."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.space.catalogue import catalogue
from models.files.data import Split
from models.files.store import USER_DIR_ENV
from tests.hostile_checkpoints import missing_metric

ENTRY_POINT = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
PAGES = ["pages/explore.py", "pages/interpolate.py", "pages/draw.py", "pages/sample.py", "pages/compare.py",
         "pages/train.py"]  # fmt: skip


def _hostile_folder(folder: Path) -> dict[str, str]:
    """Odd entries named like checkpoints, and what the sidebar must say of each."""
    (folder / "loop_a.safetensors").symlink_to(folder / "loop_b.safetensors")
    (folder / "loop_b.safetensors").symlink_to(folder / "loop_a.safetensors")
    (folder / "nothing.safetensors").symlink_to(folder / "gone.safetensors")
    (folder / "system.safetensors").symlink_to("/etc/passwd")
    os.mkfifo(folder / "pipe.safetensors")
    (folder / "folder.safetensors").mkdir()
    return {
        "loop_a.safetensors": "a link in a loop",
        "loop_b.safetensors": "a link in a loop",
        "nothing.safetensors": "a link to nothing",
        "system.safetensors": "not a safetensors file",
        "pipe.safetensors": "not a file",
        "folder.safetensors": "not a file",
    }


def test_odd_entries_are_skipped_and_named_by_their_own_names(tmp_path: Path, monkeypatch) -> None:
    expected = _hostile_folder(tmp_path)
    good = missing_metric(tmp_path)
    monkeypatch.setenv(USER_DIR_ENV, str(tmp_path))
    found = catalogue()
    assert [entry.ref.name for entry in found.entries if not entry.shipped] == [good.stem]
    assert len(found.problems) == len(expected), found.problems
    for name, reason in expected.items():
        assert any(problem.startswith(name) and reason in problem for problem in found.problems), (name, found.problems)
    for problem in found.problems:
        assert str(tmp_path) not in problem and "passwd" not in problem and "/" not in problem, problem


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_every_page_renders_beside_a_hostile_user_folder(tmp_path: Path, monkeypatch, mnist_test: Split) -> None:
    expected = _hostile_folder(tmp_path)
    monkeypatch.setenv(USER_DIR_ENV, str(tmp_path))
    app = AppTest.from_file(ENTRY_POINT, default_timeout=120)
    app.run()
    for page in PAGES:
        app.switch_page(page).run()
        assert not app.exception, (page, [e.value for e in app.exception])
        warnings = " ".join(w.value for w in app.sidebar.warning).replace("\\", "")
        assert all(f"Skipped {name}" in warnings for name in expected), (page, warnings)
        assert str(tmp_path) not in warnings and "passwd" not in warnings
