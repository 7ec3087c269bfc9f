// The pointer on the plot: moving decodes the point under it, a click selects that exact point, a
// double click resets the zoom.

import { toPlot } from "./geometry.js";
import { broadcast } from "./links.js";

const DOUBLE_CLICK_MS = 400;
const CLICK_SLOP_PX = 5; // a press that moved further is a drag (Plotly's zoom), not a click

export function listen(plane) {
  const gd = plane.gd;
  let down = null;
  gd.addEventListener("mousemove", (event) => onMove(plane, event), { passive: true });
  gd.addEventListener("mouseleave", () => onLeave(plane), { passive: true });
  // Plotly covers the page while a button is down (to follow a zoom drag), so the button's
  // release never reaches the plot (nor does a dblclick); the browser's click does, and only
  // when it did not move. Two clicks close in time and place are a double click.
  gd.addEventListener("pointerdown", (event) => { down = { x: event.clientX, y: event.clientY }; }, true);
  gd.addEventListener("click", (event) => {
    if (!down || event.button !== 0) return;
    if (Math.hypot(event.clientX - down.x, event.clientY - down.y) < CLICK_SLOP_PX) onClick(plane, event);
    down = null;
  }, true);
}

function onMove(plane, event) {
  const f = plane.frame();
  const point = f && toPlot(f, event.clientX, event.clientY);
  if (!point) return onLeave(plane);
  const index = plane.nearestPoint(f, point[0], point[1]);
  if (index !== (plane.hover?.index ?? null)) broadcast(plane, { type: "hover", index });
  plane.hover = { x: point[0], y: point[1], index, stamp: event.timeStamp };
  plane.showDecoded(point[0], point[1], index, "hover");
  plane.mode?.onHover(index, point);
}

function onLeave(plane) {
  if (plane.hover?.index !== null && plane.hover?.index !== undefined) broadcast(plane, { type: "hover", index: null });
  plane.hover = null;
  plane.refreshPanel();
  plane.mode?.onHover(null, null);
}

function onClick(plane, event) {
  const f = plane.frame();
  const point = f && toPlot(f, event.clientX, event.clientY);
  if (!point) return;
  const last = plane.lastClick;
  if (last && event.timeStamp - last.at < DOUBLE_CLICK_MS && Math.hypot(event.clientX - last.cx, event.clientY - last.cy) < 8)
    return onDoubleClick(plane);
  const index = plane.nearestPoint(f, point[0], point[1]);
  const [x, y] = index === null ? point : [plane.points[2 * index], plane.points[2 * index + 1]];
  plane.lastClick = { at: event.timeStamp, cx: event.clientX, cy: event.clientY, before: plane.selected };
  plane.select({ x, y, index, seq: ++plane.seq }, true);
}

// A double click resets the zoom and nothing else: undo the selection its first click made.
function onDoubleClick(plane) {
  plane.resetView();
  const before = plane.lastClick?.before;
  plane.lastClick = null;
  plane.select(before ? { ...before, seq: ++plane.seq } : null, true, true);
}
