"""No model of a student's can take a shipped model's place: every shipped name is protected (the
lessons' too), and models are told apart by their file, not by their name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.jobs.queue import JobQueue
from app.space.catalogue import ModelRef
from models.files.data import Split
from models.files.store import LESSON_DIR, USER_DIR_ENV, first_free_name, shipped_names
from tests.job_helpers import job_spec

ENTRY_POINT = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


@pytest.mark.parametrize("name", ["beta_vae_4", "Variant_Denoising", "dense_vae_2d"])
def test_the_queue_refuses_every_shipped_name(tmp_path: Path, name: str) -> None:
    queue = JobQueue(tmp_path / "user")
    with pytest.raises(ValueError, match="ships with the app"):
        queue.validate(job_spec(name), "alice")


def test_a_free_name_is_never_a_shipped_one(tmp_path: Path) -> None:
    assert "beta_vae_4" in shipped_names() and "dense_ae_2d" in shipped_names()
    assert first_free_name(tmp_path, "dense_ae_2d", avoid=shipped_names()) == "dense_ae_2d_2"
    assert first_free_name(tmp_path, "beta_vae_4", after=True, avoid={"beta_vae_4", "beta_vae_2"}) == "beta_vae_3"


def test_a_user_model_with_a_lesson_models_name_is_another_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mnist_test: Split
) -> None:
    shadow = tmp_path / "beta_vae_4.safetensors"
    shutil.copy(LESSON_DIR / "ae_vs_vae_ae.safetensors", shadow)  # another model under a lesson's name
    monkeypatch.setenv(USER_DIR_ENV, str(tmp_path))
    lesson = str(ModelRef.of(LESSON_DIR / "beta_vae_4.safetensors").path)
    assert ModelRef.of(shadow).key != ModelRef.of(lesson).key

    app = AppTest.from_file(ENTRY_POINT, default_timeout=120)
    app.run()
    app.switch_page("pages/compare.py")
    app.query_params.update({"left": "beta_vae_4", "right": "beta_vae_4"})
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.session_state["compare_left"] == app.session_state["compare_right"] == lesson  # a link: the shipped
    options = app.selectbox(key="compare_left").options
    assert sum("beta-VAE, beta 4" in option for option in options) == 1
    assert sum("Dense AE 784-256-64-2" in option for option in options) == 2  # the lesson's, and the student's copy
