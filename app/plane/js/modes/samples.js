// Samples: codes drawn at random (data.mode.codes), decoded beside the plane and marked on it as
// diamonds; pointing at a diamond or at its image lights up both.

import { digitCanvas } from "../digits.js";
import { NEAR_PX, diamond } from "../geometry.js";
import { shape } from "../view/overlay.js";
import { Mode } from "./mode.js";

export class Samples extends Mode {
  static kind = "samples";

  constructor(plane) {
    super(plane);
    this.highlight = null;
  }

  update(data) {
    const plane = this.plane;
    this.codes = data.codes.map((c) => Float32Array.from(c));
    this.points = this.codes.map((c) => plane.decoding.project(c));
    const extra = plane.extra;
    extra.innerHTML = `<div class="lp-caption">${this.codes.length} samples (point at one, or at its diamond)</div><div class="lp-samples"></div>`;
    const box = extra.querySelector(".lp-samples");
    this.canvases = this.codes.map((code, i) => {
      const canvas = digitCanvas();
      canvas.dataset.sample = String(i);
      // Pointed at, touched or reached by Tab, a sample shows its diamond.
      canvas.tabIndex = 0;
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", `sample ${i + 1} of ${this.codes.length}, decoded`);
      for (const [type, which] of [["pointerenter", i], ["focus", i], ["pointerleave", null], ["blur", null]])
        canvas.addEventListener(type, () => this.setHighlight(which));
      box.appendChild(canvas);
      plane.decoding.decodeTo(code, (image) => plane.paint(image, canvas));
      return canvas;
    });
  }

  // The pointer over the plot highlights the sample whose diamond it is on.
  onHover(_index, point) {
    if (!point) return this.setHighlight(null);
    const plane = this.plane, f = plane.frame(), [mx, my] = plane.toScreen(f, point[0], point[1]);
    let best = null, bestDistance = NEAR_PX * NEAR_PX;
    this.points.forEach(([x, y], i) => {
      const [sx, sy] = plane.toScreen(f, x, y), distance = (sx - mx) ** 2 + (sy - my) ** 2;
      if (distance <= bestDistance) { best = i; bestDistance = distance; }
    });
    this.setHighlight(best);
  }

  setHighlight(i) {
    if (i === this.highlight) return;
    this.highlight = i;
    this.canvases.forEach((canvas, j) => canvas.classList.toggle("lp-highlight", j === i));
    this.plane.drawOverlay();
  }

  drawOverlay(group, f) {
    this.points.forEach(([x, y], i) => {
      const [sx, sy] = this.plane.toScreen(f, x, y), r = i === this.highlight ? 10 : 6;
      group.appendChild(shape("path", { d: diamond(sx, sy, r), fill: i === this.highlight ? "#ff7f0e" : "#fff",
                                        stroke: "#000", "stroke-width": 2, "data-sample": i }));
    });
  }
}
