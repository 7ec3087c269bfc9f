"""Anomaly detection on Explore: the scatter coloured by reconstruction error, the worst listed."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app.plane.publish import REPO_ROOT
from app.widgets.pictures import named_test_image
from models.evaluation.metrics import reconstruction_errors
from models.files.checkpoint import load_checkpoint
from models.files.data import Split
from models.files.store import CHECKPOINT_DIR
from tests.app_helpers import plane_data

ENTRY_POINT = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def _explore(**params: str) -> AppTest:
    app = AppTest.from_file(ENTRY_POINT, default_timeout=120)
    app.query_params.update(params)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


@pytest.mark.parametrize("model", ["dense_vae_2d", "dense_ae_2d", "conv_vae_2d"])
def test_a_link_colours_by_error_and_lists_the_worst(model: str, mnist_test: Split) -> None:
    app = _explore(model=model, err="1")
    assert app.toggle(key="explore_colour_by_error").value is True
    expected = reconstruction_errors(load_checkpoint(CHECKPOINT_DIR / f"{model}.safetensors").model,
                                     mnist_test.images, "mse").numpy()  # fmt: skip
    # The browser gets the errors of every test image, in test-set order, as float32.
    url = plane_data(app)["mode"]["errors"]
    stored = (REPO_ROOT / "static" / "cache" / url.rsplit("/", 1)[1]).read_bytes()
    sent = np.frombuffer(gzip.decompress(stored), dtype="<f4")  # published gzipped, as the page reads it
    np.testing.assert_allclose(sent, expected, rtol=1e-5, atol=1e-7)
    # The twelve worst, each with its label and error.
    assert "The test images it reconstructs worst" in [s.value for s in app.subheader]
    captions = [img.caption for element in app.get("image") for img in element.proto.imgs]
    found = [re.match(r"#(\d+): a (\d) · ([\d.]+)$", caption) for caption in captions]
    shown = {int(m[1]): (int(m[2]), float(m[3])) for m in found if m}
    worst = np.argsort(expected)[::-1][:12]
    assert sorted(shown) == sorted(worst.tolist())
    assert shown == {int(i): (int(mnist_test.labels[i]), round(float(expected[i]), 3)) for i in worst}
    # Each pair has alt text that says what it is (a screen reader reads no picture).
    alts = {img.alt for element in app.get("image") for img in element.proto.imgs}
    assert {f"{named_test_image(i, int(mnist_test.labels[i]))}, and its reconstruction" for i in worst} <= alts


def test_turning_it_off_colours_by_digit_again(mnist_test: Split) -> None:
    app = _explore(err="1")
    app.toggle(key="explore_colour_by_error").set_value(False).run()
    assert plane_data(app)["mode"]["errors"] is None
    assert "err" not in app.query_params
    assert "The test images it reconstructs worst" not in [s.value for s in app.subheader]
    app.toggle(key="explore_colour_by_error").set_value(True).run()
    assert app.query_params["err"] == "1" and plane_data(app)["mode"]["errors"].endswith(".bin.gz")


def test_a_bad_err_value_is_ignored_with_a_notice(mnist_test: Split) -> None:
    app = _explore(err="yes")
    assert app.toggle(key="explore_colour_by_error").value is False
    assert any("err=yes" in c.value for c in app.sidebar.caption)
