// The decoded manifold behind the points: a grid of digits decoded for the current view, on a
// canvas under the plot, decoded again after each zoom.

import { PIXELS, SIDE, putDigit } from "../digits.js";

const TILES = 20; // tiles down the plot (half as many for heavy decoders)

export async function drawBackdrop(plane) {
  const f = plane.gd && plane.frame();
  const canvas = plane.backdrop;
  if (!f || !plane.backdropOn.checked) {
    canvas.style.display = "none";
    return;
  }
  // Square tiles on screen: `rows` of them down the plot, as many across as fit.
  const decoding = plane.decoding, rows = decoding.heavy ? TILES / 2 : TILES, d = decoding.latentDim;
  const columns = Math.max(1, Math.round((rows * f.width) / f.height));
  const codes = new Float32Array(rows * columns * d), z = new Float32Array(d);
  const dx = (f.x[1] - f.x[0]) / columns, dy = (f.y[1] - f.y[0]) / rows;
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < columns; c++)
      codes.set(decoding.lift(f.x[0] + (c + 0.5) * dx, f.y[1] - (r + 0.5) * dy, z), (r * columns + c) * d);
  const request = (plane.backdropRequest = (plane.backdropRequest || 0) + 1);
  const images = await decoding.decodeInWorker(codes);
  if (request !== plane.backdropRequest) return; // the view changed meanwhile: a newer one follows
  canvas.width = columns * SIDE;
  canvas.height = rows * SIDE;
  const context = canvas.getContext("2d"), picture = context.createImageData(columns * SIDE, rows * SIDE);
  for (let tile = 0; tile < rows * columns; tile++)
    putDigit(picture, images.subarray(tile * PIXELS, (tile + 1) * PIXELS), 255, (tile % columns) * SIDE,
             Math.floor(tile / columns) * SIDE);
  context.putImageData(picture, 0, 0);
  Object.assign(canvas.style, { display: "block", left: `${f.left}px`, top: `${f.top}px`, width: `${f.width}px`,
                                height: `${f.height}px`, opacity: plane.opacity.value });
  canvas.dataset.tiles = `${columns}x${rows}`;
  canvas.dataset.view = JSON.stringify(f.x.concat(f.y));
}
