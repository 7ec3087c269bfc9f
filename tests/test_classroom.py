"""AppTest: the Compare page's three views and the guided lesson."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.classroom.lesson import STEPS
from models.files.data import Split
from tests.app_helpers import planes

ENTRY_POINT = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def _app(page: str, **params: str) -> AppTest:
    app = AppTest.from_file(ENTRY_POINT, default_timeout=120)
    app.run()
    app.switch_page(page)
    app.query_params.update(params)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_compare_opens_on_the_autoencoder_and_the_vae_linked(mnist_test: Split) -> None:
    app = _app("pages/compare.py")
    left, right = planes(app)
    assert "/dense_ae_2d-" in left["model"]["url"] and "/dense_vae_2d-" in right["model"]["url"]
    assert left["link_group"] == right["link_group"] == "compare"


@pytest.mark.parametrize(("show", "mode"), [("images", "select"), ("walk", "walk"), ("samples", "samples")])
def test_every_compare_view_renders_both_planes(show: str, mode: str, mnist_test: Split) -> None:
    app = _app("pages/compare.py", show=show)
    shown = planes(app)
    assert [p["mode"]["name"] for p in shown] == [mode, mode]
    if show == "walk":  # the same test images are the endpoints in both spaces
        assert shown[0]["mode"]["a"]["index"] == shown[1]["mode"]["a"]["index"]
    if show == "samples":  # the same codes in both (both models are 2-D)
        assert shown[0]["mode"]["codes"] == shown[1]["mode"]["codes"]
        spreads = [m.value for m in app.markdown if "spread" in m.value]
        assert len(spreads) == 2


def test_a_test_image_selected_in_compare_shows_both_reconstructions(mnist_test: Split) -> None:
    app = _app("pages/compare.py")
    app.session_state["compare_pick"] = 904
    app.run()
    assert [s.value for s in app.subheader] == ["Test image #904: a 0"]
    captions = [img.caption for element in app.get("image") for img in element.proto.imgs]
    assert captions[0] == "original" and captions[1].startswith("left:") and captions[2].startswith("right:")
    alts = [img.alt for element in app.get("image") for img in element.proto.imgs]
    assert alts[0] == "test image #904, a 0" and alts[1].startswith("the reconstruction of test image #904, a 0 by")
    left, right = planes(app)
    picked = left["mode"]["selected"], right["mode"]["selected"]
    assert picked[0]["index"] == picked[1]["index"] == 904
    assert (picked[0]["x"], picked[0]["y"]) != (picked[1]["x"], picked[1]["y"])


def test_the_lesson_walks_through_its_steps(mnist_test: Split) -> None:
    app = _app("pages/lesson.py")
    assert len(app.get("page_link")) == len(STEPS)
    for number, step in enumerate(STEPS, start=1):
        app = _app(step.page, **{**step.params, "step": str(number)})
        banner = " ".join(m.value for m in app.markdown)
        assert f"Lesson, step {number} of {len(STEPS)}: {step.title}" in banner
        assert app.button(key="lesson_previous").disabled == (number == 1)
        assert app.button(key="lesson_next").disabled == (number == len(STEPS))
    app.button(key="lesson_end").click().run()
    assert not any("Lesson, step" in m.value for m in app.markdown)
