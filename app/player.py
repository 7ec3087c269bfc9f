"""The interpolation player: a custom component that swaps precomputed decoded frames.

`st.slider` only reports on release, so the frames for t = 0 .. 1 are decoded once on the
server and sent with the component; dragging its range input redraws a canvas in the
browser on every `input` event, with no server round trip. Each redraw increments the
canvas's `data-renders` attribute, which the browser tests and benchmark read.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import numpy as np
import streamlit as st
import torch

_HTML = '<div class="player"></div>'

_CSS = """
.player { display: flex; flex-direction: column; align-items: center; gap: 0.5rem;
          font-family: var(--st-font, sans-serif); color: var(--st-text-color, #222); }
.player canvas { width: var(--side); height: var(--side); image-rendering: pixelated;
                 border: 1px solid #888; background: #000; }
.player .controls { display: flex; align-items: center; gap: 0.6rem; width: var(--side); }
.player input[type=range] { flex: 1; accent-color: #d62728; height: 2rem; }
.player button { font-size: 1.1rem; padding: 0.2rem 0.7rem; border-radius: 0.4rem;
                 border: 1px solid #888; background: transparent; color: inherit; cursor: pointer; }
.player .readout { font-size: 1.15rem; font-variant-numeric: tabular-nums; }
"""

_JS = """
export default function (component) {
  const { data, parentElement } = component;
  const root = parentElement.querySelector(".player");
  root.replaceChildren();
  root.style.setProperty("--side", data.side + "px");
  const raw = Uint8Array.from(atob(data.frames), (c) => c.charCodeAt(0));
  const count = data.count, width = 28, pixels = 28 * 28;

  const canvas = document.createElement("canvas");
  canvas.width = width; canvas.height = width;
  canvas.setAttribute("data-testid", "interp-frame");
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, width);

  const controls = document.createElement("div");
  controls.className = "controls";
  const play = document.createElement("button");
  play.textContent = "▶"; play.title = "Play A → B → A";
  const slider = document.createElement("input");
  slider.type = "range"; slider.min = 0; slider.max = count - 1; slider.step = 1;
  slider.value = Math.min(count - 1, Math.max(0, data.start));
  slider.setAttribute("aria-label", "interpolation t");
  slider.setAttribute("data-testid", "interp-slider");
  controls.append(play, slider);
  const readout = document.createElement("div");
  readout.className = "readout";
  root.append(canvas, controls, readout);

  let renders = 0;
  function show(i) {
    const offset = i * pixels;
    for (let p = 0; p < pixels; p++) {
      const v = raw[offset + p];
      image.data[4 * p] = v; image.data[4 * p + 1] = v; image.data[4 * p + 2] = v; image.data[4 * p + 3] = 255;
    }
    context.putImageData(image, 0, 0);
    renders += 1;
    canvas.dataset.renders = String(renders);
    canvas.dataset.frame = String(i);
    const z = data.coords[i].map((v) => v.toFixed(2)).join(", ");
    readout.textContent = `t = ${data.ts[i].toFixed(2)}   z = (${z})`;
  }
  slider.addEventListener("input", () => show(Number(slider.value)));

  let timer = null, direction = 1;
  function stop() { if (timer !== null) { clearInterval(timer); timer = null; play.textContent = "▶"; } }
  play.addEventListener("click", () => {
    if (timer !== null) { stop(); return; }
    play.textContent = "❚❚";
    timer = setInterval(() => {
      let i = Number(slider.value) + direction;
      if (i >= count || i < 0) { direction = -direction; i += 2 * direction; }
      slider.value = i; show(i);
    }, 1000 / 30);
  });
  show(Number(slider.value));
  return stop;
}
"""

_player = st.components.v2.component("latent_explorer.interpolation_player", html=_HTML, css=_CSS, js=_JS)


def interpolation_player(
    frames: torch.Tensor, ts: Sequence[float], coords: np.ndarray, *, key: str, side: int = 300, start: int = 0
) -> None:
    """Show uint8 (T, 1, 28, 28) frames for the values `ts` with a live slider.

    `coords` (T, 2) are the plot coordinates of each frame, shown under the image.
    """
    if frames.dtype != torch.uint8 or frames.shape[1:] != (1, 28, 28):
        raise ValueError(f"frames must be uint8 (T, 1, 28, 28), got {frames.dtype} {tuple(frames.shape)}")
    payload = {
        "frames": base64.b64encode(frames.contiguous().numpy().tobytes()).decode("ascii"),
        "count": len(frames),
        "ts": [round(float(t), 4) for t in ts],
        "coords": np.round(np.asarray(coords, dtype=float), 3).tolist(),
        "side": side,
        "start": start,
    }
    _player(data=payload, key=key)
