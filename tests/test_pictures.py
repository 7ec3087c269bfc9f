"""Pictures with alt text, and page texts in words for every device (mouse, pen, touch, keyboard)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from app.widgets.pictures import labels, named_test_image, picture
from app.widgets.plane_help import plane_controls

REPO = Path(__file__).resolve().parents[1]
APP_CODE = sorted([*REPO.glob("pages/*.py"), *REPO.glob("app/**/*.py"), REPO / "streamlit_app.py"])
# The texts a student reads: page scripts, the lesson, the page notices, the plane's controls.
TEXTS = sorted([*REPO.glob("pages/*.py"), REPO / "app/classroom/lesson.py", REPO / "app/shell/page.py",
                REPO / "app/widgets/plane_help.py"])  # fmt: skip
# Words only a mouse can follow, and what a text using them must also say for touch.
MOUSE_ONLY = {r"\bhover": None, r"move the mouse": None, r"double-click": "double-tap", r"\bmouse\b": "finger"}


def _calls_st_image(path: Path) -> list[int]:
    """Lines of `path` that call `st.image` (or `<anything>.image(`, a column's included)."""
    tree = ast.parse(path.read_text())
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute) and node.func.attr == "image"]  # fmt: skip


def test_every_picture_goes_through_the_one_function_that_needs_alt_text() -> None:
    found = {str(p.relative_to(REPO)): lines for p in APP_CODE if (lines := _calls_st_image(p))}
    assert found == {"app/widgets/pictures.py": found.get("app/widgets/pictures.py")}, found


def test_a_picture_without_words_is_refused() -> None:
    with pytest.raises(ValueError, match="alt text"):
        picture(b"", "  ")


def test_names_for_alt_text() -> None:
    assert named_test_image(3, 7) == "test image #3, a 7" and named_test_image(5, 8) == "test image #5, an 8"
    assert labels([1]) == "a 1" and labels([1, 8, 4]) == "a 1, an 8 and a 4"


def _strings(path: Path) -> list[str]:
    """The string literals of a file (f-strings by their literal parts), but not its docstrings (no
    student reads those)."""
    tree = ast.parse(path.read_text())
    documented = (ast.Module, ast.FunctionDef, ast.ClassDef)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree) if isinstance(node, documented)
                  and node.body and isinstance(node.body[0], ast.Expr)}  # fmt: skip
    strings = (node for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str))
    return [node.value for node in strings if id(node) not in docstrings]


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: str(p.relative_to(REPO)))
def test_texts_never_give_only_mouse_words(path: Path) -> None:
    for text in _strings(path):
        for pattern, touch in MOUSE_ONLY.items():
            if re.search(pattern, text, re.IGNORECASE):
                assert touch and touch in text, f"{pattern!r} without {touch!r} in {text!r}"


def test_the_plane_controls_name_mouse_touch_and_keyboard() -> None:
    words = plane_controls("set A or B")
    for said in ("Point at", "finger", "click or tap to set A or B", "pinching", "double-tap", "Tab", "Enter to set"):
        assert said in words
    assert "click or tap" not in plane_controls(None) and "Enter" not in plane_controls(None)
