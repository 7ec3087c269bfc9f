"""AppTest: every page renders on the shipped models and its keyed widgets do their job."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from models.files.checkpoint import read_info
from models.files.data import Split
from models.files.store import CHECKPOINT_DIR
from models.geometry.plane import PlotView, square_bounds
from tests.app_helpers import plane_data

ENTRY_POINT = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
TIMEOUT = 120  # first runs import torch and encode the test set
PAGES = {"pages/explore.py": "select", "pages/interpolate.py": "walk", "pages/draw.py": "encode",
         "pages/sample.py": "samples"}  # fmt: skip


def _app(page: str | None = None) -> AppTest:
    app = AppTest.from_file(ENTRY_POINT, default_timeout=TIMEOUT)
    app.run()
    if page:
        app.switch_page(page)
        app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _wait_for_job_end(queue: object, job_id: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while queue.get(job_id).active and time.monotonic() < deadline:
        time.sleep(0.2)


def _markdown(app: AppTest) -> str:
    return "\n".join(m.value for m in app.markdown)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("model", ["dense_vae_2d", "dense_ae_2d", "conv_vae_2d"])
def test_every_page_renders_on_every_shipped_model(page: str, model: str, mnist_test: Split) -> None:
    app = _app()
    app.selectbox(key="model_path").set_value(str(CHECKPOINT_DIR / f"{model}.safetensors")).run()
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.title, "every page has a title"
    plane = plane_data(app)
    assert plane["mode"]["name"] == PAGES[page]
    assert plane["model"]["url"].startswith("app/static/cache/") and plane["assets"]["plotly"].endswith(".js.gz")


def test_model_switch_updates_the_sidebar_card(mnist_test: Split) -> None:
    app = _app()
    assert "dense VAE" in app.sidebar.markdown[0].value
    app.selectbox(key="model_path").set_value(str(CHECKPOINT_DIR / "conv_vae_2d.safetensors")).run()
    assert "convolutional VAE" in app.sidebar.markdown[0].value
    assert re.search(r"k-NN accuracy \*\*\d+\.\d%\*\*", app.sidebar.markdown[0].value)


def test_interpolation_endpoint_choices(mnist_test: Split) -> None:
    app = _app("pages/interpolate.py")
    # The default ends: the two digits whose clusters lie farthest apart (a 3 and an 8 lay 28 px apart).
    ends = dict(re.findall(r"\*\*([AB])\*\*: test image #\d+ \(a (\d)\)", _markdown(app)))
    assert ends == {"A": "0", "B": "1"}, ends
    app.number_input(key="interp_index_B").set_value(7).run()
    app.button(key="interp_use_B").click().run()
    assert "**B**: test image #7 (a 9)" in _markdown(app)
    app.selectbox(key="interp_digit_A").set_value(6).run()
    app.button(key="interp_random_A").click().run()
    assert re.search(r"\*\*A\*\*: test image #\d+ \(a 6\)", _markdown(app))
    app.radio(key="interp_target").set_value("B").run()
    assert app.radio(key="interp_target").value == "B"
    assert not app.exception


def test_film_strip_slider_sets_the_number_of_steps(mnist_test: Split) -> None:
    app = _app("pages/interpolate.py")
    app.slider(key="interp_strip_steps").set_value(12).run()
    assert not app.exception
    assert "12 evenly spaced steps from A (t = 0) to B (t = 1)" in _image_captions(app)
    alts = [img.alt for element in app.get("image") for img in element.proto.imgs]
    assert any(alt.startswith("12 digits decoded at evenly spaced steps from A, test image #") for alt in alts)


def test_sample_page_count_and_new_samples(mnist_test: Split) -> None:
    app = _app("pages/sample.py")
    app.slider(key="sample_count").set_value(32).run()
    assert any(h.value.startswith("32 samples from the prior") for h in app.subheader)
    seed = app.number_input(key="sample_seed").value
    app.button(key="sample_new").click().run()
    assert app.number_input(key="sample_seed").value == seed + 1


def test_the_plane_gets_urls_of_files_the_server_really_serves(mnist_test: Split) -> None:
    from app.plane.publish import STATIC_DIR

    app = _app("pages/explore.py")
    plane = plane_data(app)
    for url in (plane["model"]["url"], plane["images"], *plane["assets"].values()):
        path = STATIC_DIR / url.removeprefix("app/static/")
        assert path.is_file() and path.stat().st_size > 0, url
    # Only small things travel in the page's messages; the files are fetched once and cached.
    assert len(json.dumps(plane)) < 5_000


def _image_captions(app: AppTest) -> list[str]:
    return [img.caption for element in app.get("image") for img in element.proto.imgs]


def test_train_page_runs_a_tiny_job_and_the_model_appears_in_the_picker(
    mnist_test: Split, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.jobs import queue as jobs
    from models.files.store import USER_DIR_ENV

    monkeypatch.setenv(USER_DIR_ENV, str(tmp_path))
    queue = jobs.JobQueue(tmp_path)
    monkeypatch.setattr(jobs, "_QUEUE", queue)
    app = _app("pages/train.py")
    app.number_input(key="train_subset").set_value(512).run()
    app.number_input(key="train_epochs").set_value(1).run()
    # Changed in the same run as the click, as when a user types a name and clicks Start at once:
    # the job must get these values, not the ones the button was drawn with.
    app.number_input(key="train_batch").set_value(64)
    app.multiselect(key="train_digits").set_value([7, 0, 4, 1])  # four classes forming, as in the tutorial
    app.text_input(key="train_name").set_value("apptest_model")
    app.button(key="train_start").click().run()
    assert not app.exception, [e.value for e in app.exception]
    job_id = app.session_state["train_job"]
    _wait_for_job_end(queue, job_id)
    app.run()
    assert queue.get(job_id).state is jobs.JobState.FINISHED
    assert queue.get(job_id).spec.training.batch_size == 64
    assert queue.get(job_id).spec.training.digits == (0, 1, 4, 7)
    assert any("Saved as apptest_model" in s.value for s in app.success)
    assert (tmp_path / "apptest_model.safetensors").is_file()
    options = app.selectbox(key="model_path").options
    assert any("· yours" in option for option in options)
    assert app.text_input(key="train_name").value == "apptest_model_2"  # the next run will not clash

    # Afterwards the run can be saved again under a name typed now, and the picker lists it at once.
    prefix = f"train_done_copy_{job_id}"
    assert app.text_input(key=f"{prefix}_name").value == "apptest_model_2"
    app.text_input(key=f"{prefix}_name").set_value("../apptest copy")
    app.text_input(key=f"{prefix}_title").set_value("My renamed model")
    app.button(key=f"{prefix}_save").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("Saved a copy as **apptest_copy**" in s.value for s in app.success)
    assert (tmp_path / "apptest_copy.safetensors").is_file()
    assert any(option.startswith("My renamed model") for option in app.selectbox(key="model_path").options)
    app.text_input(key=f"{prefix}_name").set_value("dense_vae_2d")
    app.button(key=f"{prefix}_save").click().run()
    assert any("ships with the app" in e.value for e in app.error)
    queue.shutdown(timeout=10)


def test_the_builder_keeps_the_fields_it_hides(mnist_test: Split) -> None:
    """Switching the family hides some fields; they must survive later reruns, not crash the page."""
    app = _app("pages/train.py")
    app.text_input(key="train_hidden").set_value("300, 100").run()
    app.radio(key="train_kind").set_value("Convolutional").run()
    app.number_input(key="train_dense").set_value(128).run()
    app.number_input(key="train_dense_layers").set_value(2).run()
    app.number_input(key="train_epochs").set_value(3).run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error and not app.button(key="train_start").disabled
    app.radio(key="train_kind").set_value("Dense").run()
    app.number_input(key="train_epochs").set_value(4).run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.text_input(key="train_hidden").value == "300, 100"  # as typed before the switch
    app.radio(key="train_kind").set_value("Convolutional").run()
    assert app.number_input(key="train_dense").value == 128 and app.number_input(key="train_dense_layers").value == 2


def test_train_page_rejects_bad_settings_before_starting(mnist_test: Split) -> None:
    app = _app("pages/train.py")
    app.text_input(key="train_hidden").set_value("512, lots").run()
    assert any("'lots' is not a whole number" in e.value for e in app.error)
    assert app.button(key="train_start").disabled
    app.text_input(key="train_hidden").set_value("512, 256").run()
    app.number_input(key="train_subset").set_value(100).run()
    app.number_input(key="train_batch").set_value(128).run()
    assert any("batch size" in e.value for e in app.error)
    assert app.button(key="train_start").disabled
    app.number_input(key="train_subset").set_value(0).run()
    app.multiselect(key="train_digits").set_value([]).run()
    assert any("choose at least one digit" in e.value for e in app.error)
    assert app.button(key="train_start").disabled
    app.multiselect(key="train_digits").set_value([3, 5]).run()
    app.text_input(key="train_name").set_value("dense_vae_2d").run()
    assert any("ships with the app" in e.value for e in app.error)
    assert app.button(key="train_start").disabled
    app.text_input(key="train_name").set_value("../../etc/evil name").run()
    assert not app.error and not app.button(key="train_start").disabled  # sanitised to "etc_evil_name"


def test_a_model_with_more_than_two_latent_dimensions_is_shown_by_pca(
    mnist_test: Split, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from models.families.config import DenseConfig
    from models.families.registry import get_model
    from models.files.checkpoint import CheckpointInfo, save_checkpoint
    from models.files.store import USER_DIR_ENV

    config = DenseConfig(latent_dim=8, hidden=(64,))
    torch.manual_seed(0)
    path = save_checkpoint(tmp_path / "eight_d", get_model("dense_ae", config),
                           CheckpointInfo(model="dense_ae", config=config, title="Eight-D"))  # fmt: skip
    monkeypatch.setenv(USER_DIR_ENV, str(tmp_path))
    app = _app()
    app.selectbox(key="model_path").set_value(str(path.resolve())).run()
    for page in PAGES:
        app.switch_page(page).run()
        assert not app.exception, (page, [e.value for e in app.exception])
    app.switch_page("pages/explore.py").run()
    assert any("8-D latent space" in info.value and "principal components" in info.value for info in app.info)


def test_without_data_every_page_says_so_and_still_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, offline: None
) -> None:
    from app.space import latent_space, test_set
    from models.files.data import DATA_DIR_ENV

    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "no_data"))
    latent_space._latent_space.clear()
    try:
        app = _app()  # starts the download in the background; it fails at once (offline)
        test_set.test_set_loader("mnist", str(tmp_path / "no_data")).wait(timeout=30)
        for page in PAGES:
            app.switch_page(page).run()
            assert not app.exception, (page, [e.value for e in app.exception])
            warnings = " ".join(w.value for w in app.warning)
            assert "not available" in warnings and "LATENT_DATA_DIR" in warnings, page
            assert plane_data(app)["images"] is None, page  # the latent plane is still drawn, without points
        assert "still work" in " ".join(w.value for w in app.warning)

        # The plot shows the plane and ranges stored in the checkpoint, not a guess.
        path = CHECKPOINT_DIR / "dense_ae_2d.safetensors"
        app.selectbox(key="model_path").set_value(str(path))
        app.switch_page("pages/explore.py").run()
        bounds = plane_data(app)["bounds"]
        stored = square_bounds(PlotView.from_dict(read_info(path).view, 2).bounds)
        assert bounds[0] == pytest.approx(list(stored[0]))
        assert bounds[0] != pytest.approx([-3.0, 3.0])
    finally:
        latent_space._latent_space.clear()


def test_train_page_shows_the_name_it_will_use_and_a_failed_run_gives_the_name_back(
    mnist_test: Split, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, offline: None
) -> None:
    from app.jobs import queue as jobs
    from models.files.store import USER_DIR_ENV

    monkeypatch.setenv(USER_DIR_ENV, str(tmp_path))
    # This queue's data directory is empty and the network is off: its jobs fail before an epoch.
    queue = jobs.JobQueue(tmp_path, data_dir=tmp_path / "no_data")
    monkeypatch.setattr(jobs, "_QUEUE", queue)
    app = _app("pages/train.py")
    app.text_input(key="train_name").set_value("Café model ../x" + "y" * 100).run()
    used = "Cafe_model_x" + "y" * (64 - len("Cafe_model_x"))
    assert any(f"saved as **{used}**" in caption.value.replace("\\", "") for caption in app.caption)

    app.text_input(key="train_name").set_value("doomed").run()
    app.number_input(key="train_subset").set_value(512).run()
    app.button(key="train_start").click().run()
    job_id = app.session_state["train_job"]
    _wait_for_job_end(queue, job_id)
    app.run()
    assert queue.get(job_id).state is jobs.JobState.FAILED
    assert app.text_input(key="train_name").value == "doomed"  # nothing was saved: the name is free again
    assert any("Training could not start" in e.value for e in app.error)
    queue.shutdown(timeout=10)
