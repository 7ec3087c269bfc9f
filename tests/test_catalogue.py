"""The model picker's catalogue and the model card: lessons grouped together, each model's
description shown, epochs counted in words."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from app.space.catalogue import CheckpointEntry, ModelRef, grouped_by_lesson
from app.widgets import markdown
from models.families.config import DenseConfig, Objective
from models.families.registry import get_model
from models.files.checkpoint import CheckpointInfo, read_info, save_checkpoint
from models.files.data import Split
from models.files.store import LESSON_DIR, USER_DIR_ENV, list_checkpoints

ENTRY_POINT = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
LESSONS = list_checkpoints(LESSON_DIR)


def _entry(name: str, lesson: str) -> CheckpointEntry:
    info = SimpleNamespace(lesson=lesson)  # grouping reads only the lesson
    return CheckpointEntry(ModelRef(f"/{name}", 0), info, shipped=True)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(50))
def test_each_lesson_is_listed_together_and_everything_else_keeps_its_order(seed: int) -> None:
    rng = random.Random(seed)
    lessons = ["", "", "", "beta-VAE", "AE vs VAE", "Activations"]
    entries = [_entry(f"m{i}", rng.choice(lessons)) for i in range(rng.randint(0, 12))]
    grouped = grouped_by_lesson(entries)

    assert sorted(e.ref.path for e in grouped) == sorted(e.ref.path for e in entries)  # nothing lost or added
    order = [e.info.lesson for e in grouped]
    for lesson in {lesson for lesson in order if lesson}:
        places = [i for i, name in enumerate(order) if name == lesson]
        assert places == list(range(places[0], places[0] + len(places))), order  # together
        members = [e.ref.path for e in entries if e.info.lesson == lesson]
        assert [e.ref.path for e in grouped if e.info.lesson == lesson] == members  # in their order
        first = next(i for i, e in enumerate(entries) if e.info.lesson == lesson)
        before = [e.ref.path for e in entries[:first] if not e.info.lesson]
        assert all(order.index(lesson) > [g.ref.path for g in grouped].index(p) for p in before)
    ungrouped = [e.ref.path for e in entries if not e.info.lesson]
    assert [e.ref.path for e in grouped if not e.info.lesson] == ungrouped


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_a_lesson_model_is_labelled_by_its_lesson_and_described_in_the_sidebar(path: Path, mnist_test: Split) -> None:
    info = read_info(path)
    app = AppTest.from_file(ENTRY_POINT, default_timeout=120)
    app.run()
    picker = app.selectbox(key="model_path")
    labels = list(picker.options)  # as the picker shows them
    assert f"{info.lesson} › {info.title} (2-D)" in labels
    lesson_labels = [i for i, label in enumerate(labels) if label.startswith(f"{info.lesson} › ")]
    assert lesson_labels == list(range(lesson_labels[0], lesson_labels[-1] + 1))  # grouped in the picker
    picker.set_value(str(path)).run()
    assert not app.exception, [e.value for e in app.exception]
    captions = " ".join(caption.value for caption in app.sidebar.caption)
    assert markdown.escape(info.description) in captions  # shown as plain text


@pytest.mark.parametrize(
    ("epochs", "shown"), [(1, "1 epoch on mnist"), (2, "2 epochs on mnist"), (0, "0 epochs on mnist")]
)
def test_the_model_card_counts_epochs_in_words(
    epochs: int, shown: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mnist_test: Split
) -> None:
    config = DenseConfig(latent_dim=2, hidden=(16,))
    info = CheckpointInfo(model="dense_ae", config=config, title="Counted", epochs=epochs)
    save_checkpoint(tmp_path / "counted", get_model("dense_ae", config), info)
    monkeypatch.setenv(USER_DIR_ENV, str(tmp_path))
    app = AppTest.from_file(ENTRY_POINT, default_timeout=120)
    app.query_params["model"] = "counted"
    app.run()
    card = app.sidebar.markdown[0].value
    assert shown in card and "1 epochs" not in card, card


@pytest.mark.parametrize(
    ("family", "beta", "shown"),
    [("dense_vae", 0.5, "plain training, beta 0.5, "), ("dense_vae", 1.0, "plain training, 3 epochs"),
     ("dense_ae", 0.5, "plain training, 3 epochs")],  # beta means nothing to a plain autoencoder
)  # fmt: skip
def test_the_model_card_gives_a_vaes_kl_weight(
    family: str, beta: float, shown: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mnist_test: Split
) -> None:
    config = DenseConfig(latent_dim=2, hidden=(16,), objective=Objective(beta=beta))
    save_checkpoint(tmp_path / "weighted", get_model(family, config),
                    CheckpointInfo(model=family, config=config, title="Weighted", epochs=3))  # fmt: skip
    monkeypatch.setenv(USER_DIR_ENV, str(tmp_path))
    app = AppTest.from_file(ENTRY_POINT, default_timeout=120)
    app.query_params["model"] = "weighted"
    app.run()
    assert shown in app.sidebar.markdown[0].value
