"""Denoising, shown: the noise control of a denoising model on Explore (and the noise itself)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from app.widgets.denoising import Noise
from models.families.config import DenseConfig, Objective
from models.families.registry import get_model
from models.files.checkpoint import CheckpointInfo, save_checkpoint
from models.files.data import Split

ENTRY_POINT = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


@pytest.mark.parametrize("kind", ["gaussian", "masking"])
def test_noise_is_one_pattern_that_grows_with_the_level(kind: str, mnist_test: Split) -> None:
    images = mnist_test.images[:16]
    assert torch.equal(Noise(kind, 0.0).apply(images), images)  # level 0: the input as it is
    previous = torch.zeros(len(images))
    for level in (0.1, 0.2, 0.4, 0.6, 0.8):
        noisy = Noise(kind, level).apply(images)
        assert torch.equal(noisy, Noise(kind, level).apply(images))  # the same at the same level
        assert noisy.min() >= 0 and noisy.max() <= 1 and torch.equal(images, mnist_test.images[:16])  # input kept
        change = (noisy - images).abs().flatten(1).mean(1)
        assert (change > previous).all()  # more noise at every higher level
        previous = change
    if kind == "masking":  # a masked pixel stays masked as the level rises
        low, high = Noise(kind, 0.3).apply(images), Noise(kind, 0.6).apply(images)
        assert ((low == 0) & (images > 0) <= (high == 0)).all()


def _denoising_model(folder: Path, kind: str) -> Path:
    config = DenseConfig(latent_dim=2, hidden=(64,), objective=Objective(noise=kind, noise_level=0.4))
    torch.manual_seed(0)
    info = CheckpointInfo(model="dense_ae", config=config, title=f"Denoising {kind}")
    return save_checkpoint(folder / f"denoising_{kind}", get_model("dense_ae", config), info)


@pytest.mark.parametrize("kind", ["gaussian", "masking"])
def test_explore_shows_the_noisy_input_beside_its_reconstruction(
    kind: str, mnist_test: Split, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from models.files.store import USER_DIR_ENV

    _denoising_model(tmp_path, kind)
    monkeypatch.setenv(USER_DIR_ENV, str(tmp_path))
    app = AppTest.from_file(ENTRY_POINT, default_timeout=120)
    app.query_params.update({"model": f"denoising_{kind}", "sel": "i3"})
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    # A user model's widget keys carry a digest of its path (app.space.catalogue.ModelRef.key).
    (slider,) = [s for s in app.slider if s.key.startswith(f"explore_noise_denoising_{kind}-")]
    assert slider.value == pytest.approx(0.4)  # starts at the level it was trained with

    def captions() -> list[str]:
        return [img.caption for element in app.get("image") for img in element.proto.imgs]

    assert any(re.fullmatch(r"input with .* 0\.4", c) for c in captions()), captions()
    assert "its reconstruction" in captions()
    slider.set_value(0.8).run()
    assert any(re.fullmatch(r"input with .* 0\.8", c) for c in captions()), captions()
    slider.set_value(0.0).run()
    assert "input, no noise" in captions()


def test_other_models_have_no_noise_control(mnist_test: Split) -> None:
    app = AppTest.from_file(ENTRY_POINT, default_timeout=120)
    app.query_params.update({"sel": "i3"})
    app.run()
    assert not app.exception
    assert not app.slider and "its reconstruction" not in str(app.get("image"))
