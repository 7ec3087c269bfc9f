"""End to end, the queue as a class meets it: a student's tab keeps its job over a reload, and the
teacher (with the server's password) stops a student's job from another browser."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from models.files.data import Split
from tools.browser import StreamlitServer, open_page, set_number, set_text, wait_idle

pytestmark = pytest.mark.e2e
PASSWORD = "front of the class"


def _start(page: object, url: str, name: str) -> None:
    open_page(page, f"{url}/train")
    set_number(page, "Training images", 6000)
    set_number(page, "Epochs", 20)
    set_text(page, "Save as (file name)", name)
    page.get_by_role("button", name="Start training").click()
    page.get_by_text(re.compile(r"Epoch \d+/20 · step \d+/46")).first.wait_for(timeout=90_000)


def test_a_reloaded_tab_still_owns_its_job(page: object, server: StreamlitServer) -> None:
    _start(page, server.url, "reloaded_run")
    page.reload()
    wait_idle(page)
    page.get_by_text(re.compile(r"Epoch \d+/20 · step \d+/46")).first.wait_for(timeout=60_000)  # its live view
    assert page.get_by_text(re.compile(r"Now training: .*\(yours")).count() == 1
    page.get_by_role("button", name="Stop").click()
    page.get_by_text(re.compile(r"Stopped by request during epoch \d+\.")).wait_for(timeout=60_000)


@pytest.fixture(scope="module")
def class_server(mnist_test: Split, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    user = tmp_path_factory.mktemp("class_models")
    instance = StreamlitServer(env={"LATENT_USER_CHECKPOINTS": str(user)}, args=("--teacher-password", PASSWORD))
    yield instance
    instance.stop()


def test_the_teacher_stops_a_students_job(browser: object, class_server: StreamlitServer) -> None:
    student = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    teacher = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    _start(student, class_server.url, "students_run")

    open_page(teacher, f"{class_server.url}/train")
    teacher.get_by_text("For the teacher: stop or remove any job").click()
    teacher.get_by_label("Teacher password").fill("a wrong guess")
    teacher.get_by_role("button", name="Unlock").click()
    teacher.get_by_text("That is not the teacher password.").wait_for(timeout=30_000)
    teacher.get_by_label("Teacher password").fill(PASSWORD)
    teacher.get_by_role("button", name="Unlock").click()
    row = teacher.get_by_text(re.compile(r"\(from this computer\), training now"))
    row.wait_for(timeout=30_000)
    teacher.get_by_role("button", name="Stop", exact=True).last.click()

    student.get_by_text(re.compile(r"Stopped by request \(by the teacher\) during epoch \d+\.")).wait_for(
        timeout=60_000
    )
    for page in (student, teacher):
        page.context.close()
