"""Files the browser fetches once and caches: plotly.js, the plane's scripts, decoders, test images.

They are written into `static/cache/` beside the entry point, which Streamlit serves at
`app/static/cache/...` (`server.enableStaticServing` in .streamlit/config.toml). Every file is
named by a hash of its content, so a browser can cache it for good: a changed model or script
gets a new name, and the page's messages carry only these short names, never the bytes.

The large files (plotly.js, decoders, test images) are gzipped once, here, and published as
`.gz`: Streamlit serves those as `application/gzip`, which its server does not compress again,
and the page decompresses them (`DecompressionStream`). Served plain, every browser's first visit
cost 0.65 s of server CPU in on-the-fly gzip, so 30 browsers opening the app at once waited 18 s.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import threading
from pathlib import Path

import plotly

from models.checkpoint_store import atomic_write

REPO_ROOT = Path(__file__).resolve().parent.parent
STATIC_DIR = REPO_ROOT / "static"  # Streamlit serves the folder `static` beside streamlit_app.py
CACHE_DIR = STATIC_DIR / "cache"
URL_PREFIX = "app/static/cache/"  # relative to the page, so it works under any server.baseUrlPath
ASSETS_DIR = Path(__file__).resolve().parent / "assets"  # our browser code, published as is
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
KEEP_FILES = 200  # published files kept; older ones are removed (every name can be rebuilt)
_LOCK = threading.Lock()


COMPRESSION_LEVEL = 6  # zlib's default: 9 took longer for a few percent fewer bytes
# Float weights gain little from harder work: the shipped dense VAE's decoder file (5.7 MB) took
# 772 ms at level 6 for 3.47 MB, 110 ms at level 1 for 3.66 MB, on the first page of a fresh server.
FAST_COMPRESSION_LEVEL = 1


def publish_bytes(stem: str, suffix: str, payload: bytes, level: int = COMPRESSION_LEVEL) -> str:
    """Write `payload` gzipped as `static/cache/<stem>-<hash><suffix>.gz` (once) and return its URL."""
    name = f"{stem}-{hashlib.sha256(payload).hexdigest()[:16]}{suffix}.gz"
    if (CACHE_DIR / name).is_file():  # compressed already (by this process or an earlier one)
        return URL_PREFIX + name
    return _publish_named(name, gzip.compress(payload, level, mtime=0))


def _publish_named(name: str, payload: bytes) -> str:
    target = CACHE_DIR / name
    with _LOCK:
        if not target.is_file():
            atomic_write(target, payload)
            _prune()
    return URL_PREFIX + name


def publish_file(source: Path, stem: str) -> str:
    """Publish a file gzipped, by content (compressed once; the source is hashed, not read twice)."""
    name = f"{stem}-{_file_digest(source)}{source.suffix}.gz"
    if (CACHE_DIR / name).is_file():
        return URL_PREFIX + name
    return _publish_named(name, gzip.compress(source.read_bytes(), COMPRESSION_LEVEL, mtime=0))


def plotly_url() -> str:
    """The plotly.js of the installed `plotly` package (never a copy in the repository)."""
    return publish_file(PLOTLY_JS, f"plotly-{plotly.__version__}")


# Dependencies first: each is published with the names of those it imports.
SCRIPTS = ("decoder.js", "decoder_worker.js", "digits.js", "selection_details.js", "latent_plane.js")


def script_urls() -> dict[str, str]:
    """The plane's ES modules. They import each other by these published names, so each is
    published with its imports rewritten to the published names of what it imports."""
    stamp = tuple((ASSETS_DIR / name).stat().st_mtime_ns for name in SCRIPTS)
    # Built once per version of the files; each call only checks that they are still published.
    return {script: _publish_named(name, payload) for script, (name, payload) in _script_files(stamp).items()}


@functools.lru_cache(maxsize=4)
def _script_files(stamp: tuple[int, ...]) -> dict[str, tuple[str, bytes]]:
    files: dict[str, tuple[str, bytes]] = {}
    for script in SCRIPTS:
        text = (ASSETS_DIR / script).read_text()
        for dependency, (name, _) in files.items():
            text = text.replace(f"./{dependency}", f"./{name}")
        payload = text.encode()
        files[script] = (f"{Path(script).stem}-{hashlib.sha256(payload).hexdigest()[:16]}.js", payload)
    return files


def _file_digest(path: Path) -> str:
    stat = path.stat()
    key = f"{path}:{stat.st_size}:{stat.st_mtime_ns}"
    cached = _DIGESTS.get(key)
    if cached is None:
        digest = hashlib.sha256()
        with path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
        cached = _DIGESTS[key] = digest.hexdigest()[:16]
    return cached


_DIGESTS: dict[str, str] = {}


def _prune() -> None:
    """Keep the cache folder bounded: drop the oldest files beyond KEEP_FILES (call with _LOCK held)."""
    files = sorted((p for p in CACHE_DIR.iterdir() if p.is_file()), key=lambda p: p.stat().st_mtime)
    for old in files[: max(0, len(files) - KEEP_FILES)]:
        old.unlink(missing_ok=True)
