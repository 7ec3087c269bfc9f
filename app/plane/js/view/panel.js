// The panel beside the plot (above it on a narrow screen): the digit decoded under the pointer, the
// finger or the keyboard's cursor (or at rest: the mode's point, or the selection), its coordinates,
// and the test image there. The decoded image's accessible name says what it shows.

import { SIDE, paintDigit, testImage } from "../digits.js";

const INVITATION = "Point at the plane or tap it";
const UNDER = { mouse: "decoded under the pointer", pen: "decoded under the pen", touch: "decoded under your finger",
                keyboard: "decoded at the cursor" };

export const PANEL_HTML = `
  <div class="lp-now">
    <div class="lp-caption" data-testid="plane-caption">${INVITATION}</div>
    <canvas class="lp-big" width="${SIDE}" height="${SIDE}" data-testid="plane-decoded" role="img"
            aria-label="decoded digit: none yet"></canvas>
    <div class="lp-readout" data-testid="plane-readout"></div>
    <div class="lp-original"><canvas width="${SIDE}" height="${SIDE}" role="img" aria-label="test image"></canvas><span></span></div>
  </div>
  <div class="lp-extra"></div>
  <label class="lp-control"><input type="checkbox" class="lp-backdrop-on"> decoded manifold behind the points</label>
  <label class="lp-control">opacity <input type="range" class="lp-opacity" min="0" max="1" step="0.05"></label>`;

// What the panel shows when the pointer is not on the plane.
export function refreshPanel(plane) {
  if (plane.hover) return;
  if (plane.linked !== null && plane.linked !== undefined) {
    const i = plane.linked;
    showDecoded(plane, plane.points[2 * i], plane.points[2 * i + 1], i, "linked");
    return;
  }
  const rest = plane.mode?.restingPoint() || plane.selected;
  if (rest) showDecoded(plane, rest.x, rest.y, rest.index ?? null, "rest", rest.code);
  else {
    plane.caption.textContent = plane.points ? INVITATION : `${INVITATION} to decode it`;
    plane.readout.textContent = "";
    plane.big.setAttribute("aria-label", "decoded digit: none yet");
    plane.original.style.visibility = "hidden";
  }
}

export function showDecoded(plane, x, y, index, why, code = null) {
  const z = code || plane.decoding.lift(x, y);
  const label = index !== null && plane.labels ? plane.labels[index] : null;
  plane.caption.textContent = index !== null
    ? `test image #${index}: a ${label}${why === "linked" ? " (pointed at in the other plane)" : ""}`
    : why === "hover" ? UNDER[plane.hover?.pointer] || UNDER.mouse : plane.mode?.restingCaption() || "decoded at the selected point";
  const where = `z = (${Array.from(plane.decoding.project(z), (v) => v.toFixed(2)).join(", ")})`;
  plane.big.setAttribute("aria-label", `the digit decoded at ${where}${index !== null ? `, on test image #${index} (a ${label})` : ""}`);
  const error = index !== null && plane.errors ? ` · error ${plane.errors[index].toFixed(3)}` : "";
  const note = why === "rest" ? plane.mode?.restingReadout() : "";
  plane.readout.textContent = (note ? `${where}. ${note}` : where) + error;
  showOriginal(plane, index);
  plane.decoding.decodeTo(z, (image) => plane.paint(image));
}

export function showOriginal(plane, index) {
  if (index === null || !plane.images) {
    plane.original.style.visibility = "hidden";
    return;
  }
  const canvas = plane.original.querySelector("canvas");
  paintDigit(canvas, testImage(plane.images, index), 1);
  canvas.setAttribute("aria-label", `test image #${index}${plane.labels ? `, a ${plane.labels[index]}` : ""}`);
  plane.original.querySelector("span").textContent = `test image #${index}`;
  plane.original.style.visibility = "visible";
}

// Paint a decoded image on `canvas`; on the big one, count the renders and time the pointer's image.
export function paint(plane, image, canvas) {
  const big = plane.big;
  paintDigit(canvas, image, 255, canvas === big ? plane.bigImage : null);
  if (canvas !== big) return;
  big.dataset.renders = String(Number(big.dataset.renders) + 1);
  big.dataset.paintedAt = String(performance.now());
  if (plane.hover) big.dataset.hoverLatency = String(performance.now() - plane.hover.stamp);
}
