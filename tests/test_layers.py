"""The layers of the code, as its imports show them: pages -> app -> models, one way.

- models/ imports neither Streamlit nor app/; its packages import only those below them;
- app/jobs/ imports no Streamlit, and app's packages import only those below them (the jobs none);
- pages/ and the entry point import app/ and models/, never tools/ or tests/.

`violations` reads a tree's imports (every `import`, at any depth of the code) and names each one
that breaks a rule; the checks on small made-up trees show that it would catch each kind.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = ("app", "models", "pages", "tools", "tests")
# Packages from the bottom up: each may import itself and those before it (and models/text.py).
MODEL_LAYERS = ("families", "geometry", "files", "evaluation", "training")
APP_LAYERS = ("jobs", "space", "widgets", "classroom", "plane", "train", "shell")
NO_STREAMLIT = ("models", "app.jobs")


def imports_of(path: Path) -> set[str]:
    """The absolute module names a file imports (`from a.b import c` counts as a.b)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str, package: str, layers: tuple[str, ...]) -> int | None:
    """The position of `module`'s package among `layers` (None for a module beside them)."""
    parts = module.split(".")
    if parts[0] != package or len(parts) < 2 or parts[1] not in layers:
        return None
    return layers.index(parts[1])


def violations(root: Path) -> list[str]:
    """Every import in the tree at `root` that breaks a layer rule, as "file: what"."""
    found = []
    files = [*sorted(root.glob("models/**/*.py")), *sorted(root.glob("app/**/*.py")), *sorted(root.glob("pages/*.py"))]
    files += [root / "streamlit_app.py"] if (root / "streamlit_app.py").is_file() else []
    for path in files:
        module, where = module_name(path, root), path.relative_to(root)
        for imported in sorted(imports_of(path)):
            top = imported.split(".")[0]
            if top == "streamlit" and any(module == p or module.startswith(p + ".") for p in NO_STREAMLIT):
                found.append(f"{where}: imports Streamlit")
            elif module.startswith("models") and top in FIRST_PARTY and top != "models":
                found.append(f"{where}: models/ imports {imported}")
            elif module.startswith("app") and top in FIRST_PARTY and top not in ("app", "models"):
                found.append(f"{where}: app/ imports {imported}")
            elif module.startswith(("pages", "streamlit_app")) and top in ("pages", "tools", "tests"):
                found.append(f"{where}: a page imports {imported}")
            for package, layers in (("models", MODEL_LAYERS), ("app", APP_LAYERS)):
                own, other = _layer(module, package, layers), _layer(imported, package, layers)
                if own is not None and other is not None and other > own:
                    found.append(f"{where}: {layers[own]} imports {imported}, a layer above it")
    return sorted(set(found))


def test_the_code_keeps_its_layers() -> None:
    assert violations(REPO_ROOT) == []


def test_every_package_is_in_a_layer() -> None:
    for package, layers in (("models", MODEL_LAYERS), ("app", APP_LAYERS)):
        folders = {path.parent.name for path in (REPO_ROOT / package).glob("*/__init__.py")}
        assert folders == set(layers), f"{package}/ has packages {sorted(folders)}; the layers name {sorted(layers)}"


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("models/files/data.py", "import streamlit as st\n", "imports Streamlit"),
        ("models/families/base.py", "def f():\n    from app.shell import page\n", "models/ imports app.shell"),
        ("app/jobs/queue.py", "from streamlit import session_state\n", "imports Streamlit"),
        ("app/jobs/spec.py", "from app.widgets.markdown import escape\n", "jobs imports app.widgets.markdown, a layer"),
        ("pages/explore.py", "from tools.browser import StreamlitServer\n", "a page imports tools.browser"),
        ("streamlit_app.py", "import tests.app_helpers\n", "a page imports tests.app_helpers"),
        ("app/space/catalogue.py", "from tools import browser\n", "app/ imports tools"),
        ("models/families/base.py", "from models.training.config import TrainConfig\n", "a layer above it"),
        ("app/widgets/digits.py", "from app.plane.modes import SelectMode\n", "a layer above it"),
    ],
)
def test_a_wrong_import_is_caught(tmp_path: Path, name: str, text: str, expected: str) -> None:
    found = violations(_tree(tmp_path, {name: text}))
    assert len(found) == 1 and expected in found[0], found


def test_imports_the_rules_allow_pass(tmp_path: Path) -> None:
    allowed = {
        "models/training/loop.py": "from models.families.base import Autoencoder\nimport torch\n",
        "app/shell/sidebar.py": "import streamlit as st\nfrom app.jobs.queue import get_queue\n",
        "app/jobs/queue.py": "from models.files.store import atomic_write\nfrom app.jobs.spec import JobSpec\n",
        "pages/train.py": "from app.train.form import model_form\nfrom models.files.data import DEFAULT_DATASET\n",
    }
    assert violations(_tree(tmp_path, allowed)) == []


def layout_entries() -> dict[str, str]:
    """The README's layout tree: each entry's path (e.g. "app/plane/js/") and its text."""
    text = (REPO_ROOT / "README.md").read_text().split("## Layout", 1)[1].split("```")[1]
    entries: dict[str, str] = {}
    parents: list[str] = []
    path = ""
    for line in text.strip("\n").splitlines():
        name, rest = line[:20].strip(), line[20:]
        if not name:  # the description goes on
            entries[path] += " " + rest.strip()
            continue
        depth = (len(line) - len(line.lstrip())) // 2
        parents = parents[:depth]
        path = "".join(parents) + name
        parents.append(name)
        entries[path] = rest.strip()
    return entries


def test_the_readme_layout_is_the_code() -> None:
    entries = layout_entries()
    browser_code = REPO_ROOT / "app" / "plane" / "js"
    folders = [browser_code, *(path for path in browser_code.rglob("*") if path.is_dir())]
    folders += [path.parent for package in ("app", "models") for path in (REPO_ROOT / package).glob("*/__init__.py")]
    for folder in folders:
        key = f"{folder.relative_to(REPO_ROOT)}/"
        assert key in entries, f"the README's layout has no entry for {key}"
        for module in folder.glob("*.js" if "js" in folder.parts else "*.py"):
            if module.stem != "__init__":
                named = re.search(rf"\b{module.stem}\b", entries[key])
                assert named, f"{key} in the README does not name {module.name}"
    for module in [*(REPO_ROOT / "models").glob("*.py"), *(REPO_ROOT / "app").glob("*.py")]:
        key = f"{module.parent.name}/{module.name}"
        assert module.stem == "__init__" or key in entries, f"the README's layout lacks {key}"
    for path in entries:
        if path.startswith(("app/", "models/", "pages/")):
            assert (REPO_ROOT / path).exists(), f"the README's layout names {path}, which is not there"
