"""Files the browser fetches once and caches: plotly.js, the plane's browser code, decoders, test images.

They are written into `static/cache/` beside the entry point, which Streamlit serves at
`app/static/cache/...` (`server.enableStaticServing` in .streamlit/config.toml). Every file is
named by a hash of its content, so a browser can cache it for good: a changed model or script
gets a new name, and the page's messages carry only these short names, never the bytes.

The plane's browser code is one folder of ES modules (app/plane/js/), published whole under a
folder named by the hash of all its files, so the modules import each other by their own
relative names.

The large files (plotly.js, decoders, test images) are gzipped once, here, and published as
`.gz`: Streamlit serves those as `application/gzip`, which its server does not compress again,
and the page decompresses them (`DecompressionStream`). Served plain, each browser's first visit
would cost the server CPU for compressing them on the fly (figures in docs/performance.md).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

import plotly

from app.settings import server_settings
from models.files.store import atomic_write

REPO_ROOT = Path(__file__).resolve().parents[2]
STATIC_DIR = REPO_ROOT / "static"  # Streamlit serves the folder `static` beside streamlit_app.py
CACHE_DIR = STATIC_DIR / "cache"
URL_PREFIX = "app/static/cache/"  # relative to the page, so it works under any server.baseUrlPath
BROWSER_CODE = Path(__file__).resolve().parent / "js"  # the plane's ES modules and CSS, published as they are
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
KEEP_FOLDERS = 3  # versions of the browser code kept (a page open during an update still finds its own)
_LOCK = threading.Lock()

COMPRESSION_LEVEL = 6  # zlib's default: 9 took longer for a few percent fewer bytes
FAST_COMPRESSION_LEVEL = 1  # for float weights, which gain little from harder work


def publish_bytes(stem: str, suffix: str, payload: bytes, level: int = COMPRESSION_LEVEL) -> str:
    """Write `payload` gzipped as `static/cache/<stem>-<hash><suffix>.gz` (once) and return its URL.
    Earlier versions of the same stem are removed: a model rewritten on disk leaves one file here."""
    name = f"{stem}-{hashlib.sha256(payload).hexdigest()[:16]}{suffix}.gz"
    if (CACHE_DIR / name).is_file():  # compressed already (by this process or an earlier one)
        return URL_PREFIX + name
    return _publish_named(name, gzip.compress(payload, level, mtime=0), stem, suffix)


def _publish_named(name: str, payload: bytes, stem: str, suffix: str) -> str:
    target = CACHE_DIR / name
    with _LOCK:
        if not target.is_file():
            atomic_write(target, payload)
            versions = re.compile(re.escape(stem) + r"-[0-9a-f]{16}" + re.escape(suffix) + r"\.gz")
            for old in CACHE_DIR.iterdir():
                if old != target and versions.fullmatch(old.name):
                    old.unlink(missing_ok=True)
            _prune(target)
    return URL_PREFIX + name


def is_published(url: str) -> bool:
    """Whether the file at a URL `publish_bytes` gave is still there (the cache is pruned)."""
    return (CACHE_DIR / url.removeprefix(URL_PREFIX)).is_file()


def publish_file(source: Path, stem: str) -> str:
    """Publish a file gzipped, by content (compressed once; the source is hashed, not read twice)."""
    name = f"{stem}-{_file_digest(source)}{source.suffix}.gz"
    if (CACHE_DIR / name).is_file():
        return URL_PREFIX + name
    return _publish_named(name, gzip.compress(source.read_bytes(), COMPRESSION_LEVEL, mtime=0), stem, source.suffix)


def plotly_url() -> str:
    """The plotly.js of the installed `plotly` package (never a copy in the repository)."""
    return publish_file(PLOTLY_JS, f"plotly-{plotly.__version__}")


def browser_code_url() -> str:
    """The URL of the plane's browser code folder, published (see module docstring), ending in "/"."""
    files = _browser_files()
    stamp = tuple((path, os.stat(path).st_mtime_ns) for path in files)
    name = _folder_name(stamp)  # hashed once per version of the files; each call only checks it is there
    if not (CACHE_DIR / name).is_dir():
        with _LOCK:
            _publish_folder(name, [Path(path) for path in files])
    return f"{URL_PREFIX}{name}/"


@functools.cache
def _browser_files() -> tuple[str, ...]:
    """The browser code's files: listed once per process (a rerun only checks whether they changed;
    a new file is picked up when the server restarts)."""
    paths = (path for path in BROWSER_CODE.rglob("*") if path.is_file() and path.suffix in (".js", ".css"))
    return tuple(sorted(str(path) for path in paths))


@functools.lru_cache(maxsize=4)
def _folder_name(stamp: tuple[tuple[str, int], ...]) -> str:
    digest = hashlib.sha256()
    for path, _ in stamp:
        relative = Path(path).relative_to(BROWSER_CODE)
        digest.update(str(relative).encode() + b"\0" + Path(path).read_bytes() + b"\0")
    return f"plane-{digest.hexdigest()[:16]}"


def _publish_folder(name: str, files: list[Path]) -> None:
    """Copy the files into a temporary folder beside the target, then rename it into place (call with
    _LOCK held): a browser sees the whole folder or none of it."""
    target = CACHE_DIR / name
    if target.is_dir():
        return
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=CACHE_DIR))
    try:
        for source in files:
            destination = temporary / source.relative_to(BROWSER_CODE)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
        os.chmod(temporary, 0o755)  # mkdtemp makes 0700; the folder is served like any other
        os.replace(temporary, target)
    except OSError:
        shutil.rmtree(temporary, ignore_errors=True)
        if not target.is_dir():  # another server process published the same version meanwhile
            raise
    older = [path for path in CACHE_DIR.glob("plane-*") if path.is_dir() and path != target]
    older.sort(key=lambda path: path.stat().st_mtime)
    for old in older[: max(0, len(older) - (KEEP_FOLDERS - 1))]:
        shutil.rmtree(old, ignore_errors=True)


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


def _prune(keep: Path) -> None:
    """Keep the cache folder within the server's `cache_mb`: drop the oldest files, never `keep`, the
    one just written (call with _LOCK held)."""
    files = sorted((p for p in CACHE_DIR.iterdir() if p.is_file()), key=lambda p: p.stat().st_mtime)
    total, budget = sum(p.stat().st_size for p in files), server_settings().cache_bytes
    for old in files:
        if total <= budget:
            break
        if old != keep:
            total -= old.stat().st_size
            old.unlink(missing_ok=True)
