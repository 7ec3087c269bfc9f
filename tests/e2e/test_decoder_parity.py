"""The browser decoder (app/plane/js/decoder.js) against torch, in Chromium, for every family.

1,000 random codes per model; the largest absolute difference of any pixel must stay below
2e-3 (it is printed: run with -s to see the figures).
"""

from __future__ import annotations

import base64
import functools
import http.server
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import torch

from models.files.browser_export import export_decoder, pack
from models.files.checkpoint import load_checkpoint
from models.files.store import CHECKPOINT_DIR, list_checkpoints
from tests.test_decoder_export import CONFIGS, _randomised
from tools.browser import serving

pytestmark = pytest.mark.e2e
ASSETS = Path(__file__).resolve().parents[2] / "app" / "plane" / "js" / "model"
CODES = 1000
TOLERANCE = 2e-3

DECODE_ALL_JS = """
async ([asset, codesUrl]) => {
  const { parseAsset, createDecoder } = await import("./decoder.js");
  const { header, arrays } = parseAsset(await (await fetch(asset)).arrayBuffer());
  const decoder = createDecoder(header, arrays.weights);
  const codes = new Float32Array(await (await fetch(codesUrl)).arrayBuffer());
  const d = header.latent_dim, n = codes.length / d, out = new Float32Array(n * 784);
  const start = performance.now();
  for (let i = 0; i < n; i++) out.set(decoder.decode(codes.subarray(i * d, (i + 1) * d)), i * 784);
  const ms = (performance.now() - start) / n;
  let binary = "";
  const bytes = new Uint8Array(out.buffer);
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return [btoa(binary), ms];
}
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
    }

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    folder = tmp_path_factory.mktemp("decoder_site")
    shutil.copy(ASSETS / "decoder.js", folder / "decoder.js")
    (folder / "index.html").write_text("<!doctype html><title>decoder</title>")
    handler = functools.partial(QuietHandler, directory=str(folder))
    with serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)) as url:
        yield folder, url


MODELS = {name: functools.partial(_randomised, *config) for name, config in CONFIGS.items()}
MODELS.update({path.stem: functools.partial(lambda p: load_checkpoint(p).model, path)
               for path in list_checkpoints(CHECKPOINT_DIR)})  # fmt: skip


@pytest.mark.parametrize("name", MODELS)
def test_the_browser_decodes_like_torch(name: str, browser: object, site: tuple[Path, str]) -> None:
    folder, url = site
    model = MODELS[name]()
    torch.manual_seed(1)
    codes = torch.randn(CODES, model.latent_dim) * 2
    with torch.inference_mode():
        expected = model.decode(codes).reshape(CODES, -1).numpy()
    stem = name.replace(" ", "_")
    (folder / f"{stem}.bin").write_bytes(pack(export_decoder(model)))
    (folder / f"{stem}.codes").write_bytes(codes.numpy().astype("<f4").tobytes())
    page = browser.new_page()
    try:
        page.goto(f"{url}/index.html")
        encoded, ms = page.evaluate(DECODE_ALL_JS, [f"{url}/{stem}.bin", f"{url}/{stem}.codes"])
    finally:
        page.close()
    decoded = np.frombuffer(base64.b64decode(encoded), dtype="<f4").reshape(CODES, -1)
    difference = float(np.abs(decoded - expected).max())
    print(f"{name}: max |browser - torch| = {difference:.2e} over {CODES} codes; {ms:.3f} ms per image in Chromium")
    assert difference < TOLERANCE
