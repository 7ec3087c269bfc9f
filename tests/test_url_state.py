"""Views in the URL: a link restores the model, the selection, the endpoints, the samples; bad
parameters are ignored with a notice, never an error and never a path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from models.files.data import Split
from models.files.store import CHECKPOINT_DIR
from tests.app_helpers import plane_data

ENTRY_POINT = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def _open(page: str | None, **params: str) -> AppTest:
    app = AppTest.from_file(ENTRY_POINT, default_timeout=120)
    for name, value in params.items():
        app.query_params[name] = value
    app.run()
    if page:
        app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _ignored(app: AppTest) -> str:
    return " ".join(c.value for c in app.sidebar.caption if "Ignored in the link" in c.value).replace("\\", "")


def test_a_link_opens_the_model_and_the_selection(mnist_test: Split) -> None:
    app = _open(None, model="conv_vae_2d", sel="i904")
    assert app.session_state["model_path"] == str(CHECKPOINT_DIR / "conv_vae_2d.safetensors")
    assert plane_data(app)["mode"]["selected"]["index"] == 904  # the plane draws it and its details
    assert not _ignored(app)
    app = _open(None, sel="-1.5,2.25")
    selected = plane_data(app)["mode"]["selected"]
    assert (selected["x"], selected["y"], selected["index"]) == (-1.5, 2.25, None)


def test_a_link_opens_the_endpoints_and_the_path_shape(mnist_test: Split) -> None:
    app = AppTest.from_file(ENTRY_POINT, default_timeout=120)
    app.run()
    app.switch_page("pages/interpolate.py")
    app.query_params.update({"a": "i7", "b": "0.5,-0.25", "slerp": "1"})
    app.run()
    text = " ".join(m.value for m in app.markdown)
    assert "**A**: test image #7 (a 9)" in text and "**B**: z = (0.50, -0.25)" in text
    assert app.toggle(key="interp_slerp").value is True
    assert app.query_params["a"] == "i7" and app.query_params["slerp"] == "1"


def test_a_link_opens_the_samples(mnist_test: Split) -> None:
    app = AppTest.from_file(ENTRY_POINT, default_timeout=120)
    app.run()
    app.switch_page("pages/sample.py")
    app.query_params.update({"seed": "42", "n": "24"})
    app.run()
    assert app.number_input(key="sample_seed").value == 42 and app.slider(key="sample_count").value == 24
    app.button(key="sample_new").click().run()
    assert app.query_params["seed"] == "43"  # and the URL follows the page


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("model", "../../etc/passwd"),
        ("model", "/work/main/checkpoints/dense_ae_2d.safetensors"),
        ("model", "no_such_model"),
        ("sel", "i99999"),
        ("sel", "i-3"),
        ("sel", "abc"),
        ("sel", "1,2,3"),
        ("sel", "nan,1"),
        ("sel", "inf,1"),
        ("t", "abc"),
        ("t", "7"),
        ("view", "0,0,0,0"),
        ("view", "1,2"),
        ("hide", "1,x"),
        ("hide", "12"),
        ("op", "-1"),
        ("bd", "yes"),
        ("junk", "1"),
        ("sel", "9" * 500),
    ],
)
def test_bad_parameters_are_ignored_with_a_notice(name: str, value: str, mnist_test: Split) -> None:
    app = _open(None, **{name: value})
    assert name in _ignored(app)
    assert app.session_state["model_path"] == str(CHECKPOINT_DIR / "dense_vae_2d.safetensors")
    assert plane_data(app)["mode"]["selected"] is None  # nothing selected
    assert re.search(r"Ignored in the link", _ignored(app))


def test_presenter_mode_from_a_link_and_back(mnist_test: Split) -> None:
    app = _open(None, present="1")
    assert app.toggle(key="presenter_mode").value is True
    data = plane_data(app)
    assert data["fill_height"] and data["wide_panel"] and data["font_size"] > 14
    app.button(key="presenter_exit").click().run()
    assert app.toggle(key="presenter_mode").value is False and "present" not in app.query_params


@pytest.mark.parametrize("page", ["pages/draw.py", "pages/sample.py", "pages/compare.py", "pages/train.py"])
def test_every_page_says_what_the_link_ignored_and_offers_its_own(page: str, mnist_test: Split) -> None:
    app = AppTest.from_file(ENTRY_POINT, default_timeout=120)
    app.run()
    app.switch_page(page)
    app.query_params["colour"] = "blue"
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert "colour=blue" in _ignored(app)
    assert any(e.proto.component_name == "latent_explorer.copy_link" for e in app.get("bidi_component"))


def test_a_huge_unknown_parameter_is_named_in_a_few_words(mnist_test: Split) -> None:
    app = _open(None, **{"x" * 10_000: "y" * 10_000, **{f"p{i}": "v" for i in range(20)}})
    shown = _ignored(app)
    assert "xxxx" in shown and len(shown) < 400, len(shown)
