// Walk: the path from A to B on the plane, a marker moved by t (slider, ▶, or a linked plane), and
// the digit decoded at Z_t = Z_A (1 - t) + Z_B t (or along a great circle) for any t. A click sets
// the end named by data.mode.target and moves at once; the server's ends replace it on its rerun.

import { SIDE, paintDigit, testImage } from "../digits.js";
import { diamond } from "../geometry.js";
import { broadcast } from "../links.js";
import { label, shape } from "../view/overlay.js";
import { Mode } from "./mode.js";

const PATH_POINTS = 100; // segments of the drawn path (enough for a slerp's curve)
const SECONDS_A_TO_B = 3; // ▶ walks from A to B in this long, then back

export class Walk extends Mode {
  static kind = "walk";

  constructor(plane) {
    super(plane);
    this.t = plane.savedT ?? 0;
    this.playing = null;
    const extra = plane.extra, canvas = `<canvas width="${SIDE}" height="${SIDE}" role="img"></canvas>`;
    extra.innerHTML = `
      <div class="lp-player">
        <button type="button" class="lp-play" title="Play A → B → A" aria-label="Play A to B and back">▶</button>
        <input type="range" class="lp-t" min="0" max="1" step="0.01" aria-label="interpolation t" data-testid="plane-t">
      </div>
      <div class="lp-ends">
        <figure>${canvas}<figcaption>A</figcaption></figure>
        <figure>${canvas}<figcaption>A decoded</figcaption></figure>
        <figure>${canvas}<figcaption>B</figcaption></figure>
        <figure>${canvas}<figcaption>B decoded</figcaption></figure>
      </div>`;
    plane.big.before(extra.querySelector(".lp-player")); // t first: it must stay in sight on a projector and a phone
    this.slider = plane.root.querySelector(".lp-t");
    this.slider.value = String(this.t);
    this.slider.addEventListener("input", () => this.setT(Number(this.slider.value)));
    this.play = plane.root.querySelector(".lp-play");
    this.play.addEventListener("click", () => this.toggle());
    this.endCanvases = extra.querySelectorAll(".lp-ends canvas");
  }

  get showsSelection() { return false; }

  update(data) {
    const plane = this.plane;
    this.spherical = Boolean(data.spherical);
    this.target = data.target;
    this.ends = { A: this.endpoint(data.a), B: this.endpoint(data.b) };
    if (data.ends_seq >= plane.seq) this.local = null; // the server has seen this page's last click
    if (this.local) this.ends[this.local.side] = this.local.end;
    this.path = this.computePath();
    this.paintEnds();
    plane.drawOverlay();
    this.setT(this.t);
  }

  endpoint(end) {
    return { code: Float32Array.from(end.code), index: end.index };
  }

  onSelect(pick, undo) {
    if (!pick || undo) return;
    const plane = this.plane, side = this.target;
    const end = { code: plane.decoding.lift(pick.x, pick.y), index: pick.index };
    if (pick.index !== null && plane.decoding.latentDim === 2) end.code = Float32Array.of(pick.x, pick.y);
    this.local = { side, end };
    this.ends[side] = end;
    this.target = side === "A" ? "B" : "A";
    this.path = this.computePath();
    this.paintEnds();
    this.setT(this.t);
  }

  onLinkedT(t) {
    this.setT(t, true);
  }

  imagesArrived() {
    this.paintEnds();
  }

  // The code at t: linear, or spherical (the direction along the great circle, the length
  // linear), as models.geometry.interpolation does.
  code(t) {
    const a = this.ends.A.code, b = this.ends.B.code, d = a.length, out = new Float32Array(d);
    if (t <= 0) return out.set(a), out;
    if (t >= 1) return out.set(b), out;
    if (this.spherical) {
      let na = 0, nb = 0, dot = 0;
      for (let i = 0; i < d; i++) { na += a[i] * a[i]; nb += b[i] * b[i]; dot += a[i] * b[i]; }
      na = Math.sqrt(na); nb = Math.sqrt(nb);
      const cosine = na && nb ? Math.min(1, Math.max(-1, dot / (na * nb))) : 1;
      if (Math.abs(cosine) < 1 - 1e-6) {
        const omega = Math.acos(cosine), s = Math.sin(omega);
        const wa = Math.sin((1 - t) * omega) / s, wb = Math.sin(t * omega) / s, length = na * (1 - t) + nb * t;
        for (let i = 0; i < d; i++) out[i] = (wa * a[i] / na + wb * b[i] / nb) * length;
        return out;
      }
    }
    for (let i = 0; i < d; i++) out[i] = a[i] * (1 - t) + b[i] * t;
    return out;
  }

  computePath() {
    const points = [];
    for (let i = 0; i <= PATH_POINTS; i++) points.push(this.plane.decoding.project(this.code(i / PATH_POINTS)));
    return points;
  }

  setT(t, remote = false) {
    const plane = this.plane;
    this.t = Math.min(1, Math.max(0, t));
    if (!remote) broadcast(plane, { type: "t", t: this.t });
    this.slider.value = String(this.t);
    plane.saveSession();
    plane.overlay.dataset.t = String(this.t);
    this.drawMarker();
    if (!plane.hover) plane.refreshPanel();
  }

  restingPoint() {
    const code = this.code(this.t), [x, y] = this.plane.decoding.project(code);
    return { x, y, index: null, code };
  }

  restingCaption() {
    return `t = ${this.t.toFixed(2)}`;
  }

  toggle() {
    if (this.playing) {
      cancelAnimationFrame(this.playing);
      this.playing = null;
      this.play.textContent = "▶";
      return;
    }
    this.play.textContent = "❚❚";
    let direction = this.t >= 1 ? -1 : 1, last = performance.now();
    const step = (now) => {
      let t = this.t + (direction * (now - last)) / (SECONDS_A_TO_B * 1000);
      last = now;
      if (t >= 1 || t <= 0) { direction = -direction; t = Math.min(1, Math.max(0, t)); }
      this.setT(t);
      this.playing = requestAnimationFrame(step);
    };
    this.playing = requestAnimationFrame(step);
  }

  drawOverlay(group, f) {
    const plane = this.plane;
    if (!this.path) return;
    const d = this.path.map(([x, y], i) => (i ? "L" : "M") + plane.toScreen(f, x, y).join(",")).join("");
    group.appendChild(shape("path", { d, fill: "none", stroke: "#000", "stroke-width": 3, "data-testid": "plane-path" }));
    for (const [side, color] of [["A", "#d62728"], ["B", "#1f77b4"]]) {
      const [x, y] = plane.decoding.project(this.ends[side].code), [sx, sy] = plane.toScreen(f, x, y);
      group.appendChild(shape("circle", { cx: sx, cy: sy, r: 8, fill: color, stroke: "#fff", "stroke-width": 2,
                                          "data-testid": `plane-end-${side}` }));
      label(group, sx, sy - 13, side, color);
    }
    this.marker = shape("path", { d: "", fill: "#ff7f0e", stroke: "#000", "stroke-width": 1.5, "data-testid": "plane-t-marker" });
    group.appendChild(this.marker);
    this.frameUsed = f;
    this.drawMarker();
  }

  drawMarker() {
    if (!this.marker || !this.frameUsed) return;
    const [x, y] = this.plane.decoding.project(this.code(this.t)), [sx, sy] = this.plane.toScreen(this.frameUsed, x, y);
    this.marker.setAttribute("d", diamond(sx, sy, 10));
    this.marker.dataset.x = String(x);
    this.marker.dataset.y = String(y);
    this.marker.dataset.moves = String(Number(this.marker.dataset.moves || 0) + 1);
  }

  paintEnds() {
    const plane = this.plane;
    ["A", "B"].forEach((side, i) => {
      const end = this.ends[side], original = this.endCanvases[2 * i], decoded = this.endCanvases[2 * i + 1];
      plane.decoding.decodeTo(end.code, (image) => plane.paint(image, decoded));
      decoded.setAttribute("aria-label", `${side} decoded`);
      original.setAttribute("aria-label", end.index !== null ? `${side}: test image #${end.index}` : `${side}: no test image`);
      original.parentElement.style.visibility = end.index !== null && plane.images ? "visible" : "hidden";
      if (end.index !== null && plane.images) {
        paintDigit(original, testImage(plane.images, end.index), 1);
        original.nextElementSibling.textContent = `${side}: test #${end.index}`;
      }
    });
  }
}
