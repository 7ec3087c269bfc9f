// Encode: where an input lands on the plane: a red star at its code, for a VAE its posterior's
// 1-sigma ellipse and samples from it (white dots); the panel rests on the input's code.

import { label, shape, star } from "../view/overlay.js";
import { Mode } from "./mode.js";

const MIN_ELLIPSE_PX = 26; // a smaller ellipse is drawn this large (dashed, with its true size said)

export class Encode extends Mode {
  static kind = "encode";

  update(data) {
    this.point = data.point; // [x, y] or null
    this.ellipse = data.ellipse; // {center: [x, y], axes: [[dx, dy], [dx, dy]]} (1 sigma, plot units) or null
    this.samples = data.posterior_samples || [];
  }

  restingPoint() {
    return this.point ? { x: this.point[0], y: this.point[1], index: null } : null;
  }

  restingCaption() {
    return "decoded at your drawing's code";
  }

  restingReadout() {
    return this.ellipse ? this.note : "";
  }

  drawOverlay(group, f) {
    const plane = this.plane;
    for (const [x, y] of this.samples) {
      const [sx, sy] = plane.toScreen(f, x, y);
      group.appendChild(shape("circle", { cx: sx, cy: sy, r: 4, fill: "#fff", stroke: "#000", "stroke-width": 1.5 }));
    }
    if (this.ellipse) this.drawEllipse(group, f);
    if (this.point) {
      const [sx, sy] = plane.toScreen(f, this.point[0], this.point[1]);
      group.appendChild(shape("path", { d: star(sx, sy, 13, 5.5), fill: "#d62728", stroke: "#fff", "stroke-width": 1.5,
                                        "data-testid": "plane-you", "data-x": this.point[0], "data-y": this.point[1] }));
      label(group, sx, sy - 18, "you", "#d62728");
    }
  }

  // The 1-sigma ellipse of the posterior, drawn at least MIN_ELLIPSE_PX across so it can be seen;
  // when enlarged, it is dashed and labelled with its true size.
  drawEllipse(group, f) {
    const plane = this.plane, [cx, cy] = this.ellipse.center, axes = this.ellipse.axes;
    const toPx = ([dx, dy]) => [(dx / (f.x[1] - f.x[0])) * f.width, (-dy / (f.y[1] - f.y[0])) * f.height];
    const pixelAxes = axes.map(toPx), lengths = pixelAxes.map(([a, b]) => Math.hypot(a, b));
    const scale = Math.max(1, MIN_ELLIPSE_PX / (2 * Math.max(...lengths, 1e-9)));
    const [sx, sy] = plane.toScreen(f, cx, cy);
    let d = "";
    for (let i = 0; i <= 64; i++) {
      const angle = (2 * Math.PI * i) / 64, c = Math.cos(angle), s = Math.sin(angle);
      const px = sx + scale * (c * pixelAxes[0][0] + s * pixelAxes[1][0]);
      const py = sy + scale * (c * pixelAxes[0][1] + s * pixelAxes[1][1]);
      d += (i ? "L" : "M") + px + "," + py;
    }
    group.appendChild(shape("path", { d, fill: "rgba(214,39,40,0.08)", stroke: "#d62728", "stroke-width": 2,
                                      "stroke-dasharray": scale > 1 ? "5,3" : "none", "data-testid": "plane-ellipse",
                                      "data-scale": scale }));
    const sizes = axes.map(([a, b]) => Math.hypot(a, b).toFixed(3)).join(" × ");
    this.note = scale > 1
      ? `red: the posterior's 1σ ellipse, drawn ×${scale.toFixed(0)} larger to be seen (true half-axes ${sizes})`
      : `red: the posterior's 1σ ellipse (half-axes ${sizes})`;
    if (scale > 1) label(group, sx, sy + MIN_ELLIPSE_PX / 2 + 20, `1σ ×${scale.toFixed(0)}`, "#d62728");
  }
}
