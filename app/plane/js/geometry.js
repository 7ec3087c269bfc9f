// Between plot coordinates and pixels, and which test image is under the pointer.

export const NEAR_PX = 7; // a pointer this close to a point is "on" it

// The plot area of Plotly's graph div `gd` in pixels of `figure` (its container), and the axis
// ranges now shown; null before Plotly has drawn.
export function plotFrame(gd, figure) {
  const drag = gd.querySelector(".nsewdrag");
  if (!drag) return null;
  const box = drag.getBoundingClientRect(), outer = figure.getBoundingClientRect();
  const xa = gd._fullLayout.xaxis.range, ya = gd._fullLayout.yaxis.range;
  return { left: box.left - outer.left, top: box.top - outer.top, width: box.width, height: box.height,
           x: [xa[0], xa[1]], y: [ya[0], ya[1]], box };
}

export function toScreen(f, x, y) {
  return [f.left + ((x - f.x[0]) / (f.x[1] - f.x[0])) * f.width,
          f.top + (1 - (y - f.y[0]) / (f.y[1] - f.y[0])) * f.height];
}

// The plot point under the client pixel (clientX, clientY), or null outside the plot area.
export function toPlot(f, clientX, clientY) {
  const px = clientX - f.box.left, py = clientY - f.box.top;
  if (px < 0 || py < 0 || px > f.width || py > f.height) return null;
  return [f.x[0] + (px / f.width) * (f.x[1] - f.x[0]), f.y[1] - (py / f.height) * (f.y[1] - f.y[0])];
}

// The diamond marker path around (x, y) in pixels.
export function diamond(x, y, r) {
  return `M${x},${y - r}L${x + r},${y}L${x},${y + r}L${x - r},${y}Z`;
}

// A uniform grid over the test images' points, to find the one under the pointer in constant time.
export class PointIndex {
  constructor(points, labels, bounds, cells = 128) {
    const [[x0, x1], [y0, y1]] = bounds;
    Object.assign(this, { points, labels, x0, y0, cw: (x1 - x0) / cells, ch: (y1 - y0) / cells });
    this.buckets = new Map();
    for (let i = 0; i < labels.length; i++) {
      const key = this.key(Math.floor((points[2 * i] - x0) / this.cw), Math.floor((points[2 * i + 1] - y0) / this.ch));
      if (!this.buckets.has(key)) this.buckets.set(key, []);
      this.buckets.get(key).push(i);
    }
  }

  key(cx, cy) {
    return cx * 100003 + cy;
  }

  // The visible test image within NEAR_PX of plot point (x, y) in frame f, nearest first; null if none.
  nearest(f, x, y, hidden) {
    const rx = (NEAR_PX / f.width) * (f.x[1] - f.x[0]), ry = (NEAR_PX / f.height) * (f.y[1] - f.y[0]);
    const cx0 = Math.floor((x - rx - this.x0) / this.cw), cx1 = Math.floor((x + rx - this.x0) / this.cw);
    const cy0 = Math.floor((y - ry - this.y0) / this.ch), cy1 = Math.floor((y + ry - this.y0) / this.ch);
    let best = null, bestDistance = 1;
    for (let cx = cx0; cx <= cx1; cx++)
      for (let cy = cy0; cy <= cy1; cy++) {
        for (const i of this.buckets.get(this.key(cx, cy)) || []) {
          if (hidden.has(this.labels[i])) continue;
          const dx = (this.points[2 * i] - x) / rx, dy = (this.points[2 * i + 1] - y) / ry;
          const distance = dx * dx + dy * dy;
          if (distance <= bestDistance) { best = i; bestDistance = distance; }
        }
      }
    return best;
  }
}
