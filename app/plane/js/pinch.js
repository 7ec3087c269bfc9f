// Two fingers on the plot zoom and pan it: the plot point under their midpoint stays under it, and
// the view scales with the distance between them (drawn once per frame).

export class Pinch {
  constructor(plane) {
    this.plane = plane;
    this.active = false;
    this.fingers = new Map(); // pointerId -> {x, y}, the two fingers of the pinch
  }

  // A finger went down (`presses`: every press on the plot): true when it makes a pinch begin.
  add(event, presses) {
    const touches = [...presses].filter(([, press]) => press.type === "touch");
    if (this.active || touches.length !== 2) return this.active;
    for (const [, press] of touches) press.moved = true; // a pinch is never a tap
    this.fingers = new Map(touches.map(([id, press]) => [id, { x: press.x, y: press.y }]));
    this.start = { frame: this.plane.frame(), ...this.measure() };
    this.active = Boolean(this.start.frame);
    return this.active;
  }

  measure() {
    const [a, b] = [...this.fingers.values()];
    return { cx: (a.x + b.x) / 2, cy: (a.y + b.y) / 2, distance: Math.max(10, Math.hypot(a.x - b.x, a.y - b.y)) };
  }

  move(event) {
    const finger = this.fingers.get(event.pointerId);
    if (!finger) return;
    finger.x = event.clientX;
    finger.y = event.clientY;
    this.pending ||= requestAnimationFrame(() => {
      this.pending = null;
      if (this.active) this.apply();
    });
  }

  apply() {
    const { frame: f, cx, cy, distance } = this.start, now = this.measure();
    const scale = distance / now.distance; // fingers apart: a smaller view (zoom in)
    const px = f.x[0] + ((cx - f.box.left) / f.width) * (f.x[1] - f.x[0]);
    const py = f.y[1] - ((cy - f.box.top) / f.height) * (f.y[1] - f.y[0]);
    const width = (f.x[1] - f.x[0]) * scale, height = (f.y[1] - f.y[0]) * scale;
    const x0 = px - ((now.cx - f.box.left) / f.width) * width, y1 = py + ((now.cy - f.box.top) / f.height) * height;
    this.plane.setView({ x: [x0, x0 + width], y: [y1 - height, y1] });
  }

  // A finger of the pinch lifted: the pinch ends when no finger is left on the plot.
  remove(event, presses) {
    this.fingers.delete(event.pointerId);
    if (![...presses.values()].some((press) => press.type === "touch")) this.active = false;
  }
}
