"""The first page of a fresh server: what it must not import, and in which order it starts work.

Each check runs in a fresh interpreter, as a new `streamlit run` does (this test process has
imported everything already).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from models.files.data import Split

REPO_ROOT = Path(__file__).resolve().parent.parent


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_the_preloader_needs_no_torch() -> None:
    # streamlit_app.py sends it before importing the rest: the browser compiles plotly.js
    # while the server imports torch (1.3 s).
    code = "import sys, app.widgets.palette, app.plane.preload; print(sorted({'torch', 'numpy'} & set(sys.modules)))"
    heavy = _run(code)
    assert heavy == "[]"


def test_the_first_page_never_imports_pandas_or_pyarrow(mnist_test: Split) -> None:
    # Streamlit checks a component's data for data frames unless it is a dict of plain values,
    # importing both to do so: 0.4 s of the first page.
    code = (
        "import sys\nfrom streamlit.testing.v1 import AppTest\n"
        "app = AppTest.from_file('streamlit_app.py', default_timeout=120)\napp.run()\n"
        "assert not app.exception, [e.value for e in app.exception]\n"
        "assert any(e.proto.component_name == 'latent_explorer.latent_plane' for e in app.get('bidi_component'))\n"
        "print(sorted({'pandas', 'pyarrow'} & set(sys.modules)))"
    )
    assert _run(code).splitlines()[-1] == "[]"
