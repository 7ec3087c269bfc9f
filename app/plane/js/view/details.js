// The details of Explore's selection, drawn in the browser: for a test image, the original beside
// its reconstruction; for any point, its code and the test images nearest to it in the latent
// space. Everything needed is on the page already (test images, codes, the decoder), so a click
// shows its details at once and the server only records the selection (drawn by the server,
// they cost its CPU on every click of every student).

import { SIDE, paintDigit, testImage } from "../digits.js";

const HINT = "Tap or click a digit, or anywhere on the plane, to select it (by keyboard: Enter): its details appear here.";

// The k codes nearest to `code` (squared Euclidean distance in the full latent space), nearest
// first, ties by lower index (as models.evaluation.neighbours.nearest), leaving out `exclude`. codes: (N, dim).
export function nearest(codes, dim, code, k, exclude = null) {
  const n = codes.length / dim, best = []; // [distance, index], sorted, at most k long
  for (let i = 0; i < n; i++) {
    if (i === exclude) continue;
    let distance = 0;
    for (let j = 0, row = i * dim; j < dim; j++) {
      const d = codes[row + j] - code[j];
      distance += d * d;
    }
    if (best.length === k && distance >= best[k - 1][0]) continue; // not closer than the k-th (ties: lower index wins)
    let at = best.length;
    while (at > 0 && best[at - 1][0] > distance) at--;
    best.splice(at, 0, [distance, i]);
    if (best.length > k) best.pop();
  }
  return best.map(([, index]) => index);
}

// A canvas with its caption; `name` says what it shows to a screen reader (default: the caption).
function figure(caption, testid, name = caption) {
  const element = document.createElement("figure");
  element.innerHTML = `<canvas width="${SIDE}" height="${SIDE}" data-testid="${testid}" role="img"></canvas><figcaption></figcaption>`;
  element.querySelector("figcaption").textContent = caption;
  element.querySelector("canvas").setAttribute("aria-label", name);
  return element;
}

export class SelectionDetails {
  constructor(plane) {
    this.plane = plane;
    this.root = document.createElement("div");
    this.root.className = "lp-details";
    this.root.dataset.testid = "plane-details";
    plane.root.appendChild(this.root);
    this.shown = undefined; // the pick drawn last (redrawn only when it changes or the images arrive)
    this.token = 0; // the newest drawing; a decode that finishes after a newer click is dropped
  }

  // The test images' codes in the full latent space: a >2-D model ships them with its decoder;
  // a 2-D model's are the plot's points.
  codes() {
    return this.plane.model.arrays.codes || this.plane.points;
  }

  show(pick, force = false) {
    const key = pick ? `${pick.x},${pick.y},${pick.index}` : null;
    if (!force && key === this.shown) return;
    this.shown = key;
    const token = ++this.token, plane = this.plane, root = this.root;
    root.replaceChildren();
    if (!pick) {
      const hint = document.createElement("p");
      hint.className = "lp-details-hint";
      hint.textContent = HINT;
      root.appendChild(hint);
      return;
    }
    const onImage = pick.index !== null && plane.points && plane.labels;
    const title = document.createElement("h3");
    title.textContent = onImage ? `Test image #${pick.index}: a ${plane.labels[pick.index]}` : "Selected point";
    const row = document.createElement("div");
    row.className = onImage ? "lp-details-row" : "lp-details-row lp-details-point";
    root.append(title, row);

    const dim = plane.decoding.latentDim;
    const code = onImage ? this.codes().subarray(pick.index * dim, (pick.index + 1) * dim) : plane.decoding.lift(pick.x, pick.y);
    if (onImage) {
      const original = figure("original", "details-original", `test image #${pick.index}, a ${plane.labels[pick.index]}: the original`);
      row.appendChild(original);
      if (plane.images) paintDigit(original.querySelector("canvas"), testImage(plane.images, pick.index), 1);
      else original.querySelector("figcaption").textContent = "original (loading…)";
    }
    const decoded = figure(onImage ? "reconstruction" : `decoded at (${pick.x.toFixed(3)}, ${pick.y.toFixed(3)})`, "details-decoded",
                           onImage ? `the model's reconstruction of test image #${pick.index}` : undefined);
    row.appendChild(decoded);
    plane.decoding.decodeCopy(Float32Array.from(code)).then((image) => {
      if (token !== this.token) return;
      paintDigit(decoded.querySelector("canvas"), image, 255);
      decoded.querySelector("canvas").dataset.painted = "true";
    });

    const side = document.createElement("div");
    side.className = "lp-details-side";
    const where = document.createElement("p");
    where.innerHTML = "Latent point <strong></strong>";
    where.querySelector("strong").textContent = `z = (${pick.x.toFixed(3)}, ${pick.y.toFixed(3)})`;
    side.appendChild(where);
    row.appendChild(side);
    if (!plane.points || !plane.labels) return; // no test set: nothing to compare with
    const found = nearest(this.codes(), dim, code, plane.data.mode.neighbours, onImage ? pick.index : null);
    const heading = document.createElement("p");
    heading.innerHTML = "<strong>Nearest test images</strong> ";
    heading.append(`(labels ${found.map((i) => plane.labels[i]).join(", ")})`);
    const grid = document.createElement("div");
    grid.className = "lp-neighbours";
    grid.dataset.testid = "details-neighbours";
    for (const index of found) {
      const cell = figure(String(plane.labels[index]), "details-neighbour", `test image #${index}, a ${plane.labels[index]}`);
      cell.dataset.index = String(index);
      cell.title = `test image #${index}`;
      if (plane.images) paintDigit(cell.querySelector("canvas"), testImage(plane.images, index), 1);
      grid.appendChild(cell);
    }
    side.append(heading, grid);
  }
}
