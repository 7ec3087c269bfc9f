// The pointer on the plot, one path for a mouse, a finger and a pen (pointer events):
// - a mouse (or a pen held above the screen) moving over the plot decodes the point under it; a
//   mouse drag is Plotly's zoom box;
// - a finger or a pen on the plot scrubs: the point under it is decoded as it moves, and neither
//   Plotly nor the page moves (the page still scrolls where the plot is not);
// - a press let go where it began (a click, a tap) selects that exact point; two of them close in
//   time and place reset the view;
// - two fingers pinch to zoom and pan.

import { toPlot } from "./geometry.js";
import { broadcast } from "./links.js";
import { Pinch } from "./pinch.js";

const DOUBLE_TAP_MS = 400;
const SLOP_PX = { mouse: 5, pen: 8, touch: 12 }; // a press that moved further is a drag or a scrub, not a tap

export function listen(plane) {
  const gd = plane.gd, presses = new Map(); // pointerId -> {type, x, y, moved}
  const pinch = new Pinch(plane);
  // Plotly listens to touchstart for its zoom box and axis drags: it never sees a touch, and a
  // touch on the plot area does not scroll the page (elsewhere it does).
  gd.addEventListener("touchstart", (event) => {
    event.stopPropagation();
    if (inPlot(plane, event.touches[0])) event.preventDefault();
  }, { capture: true, passive: false });
  gd.addEventListener("pointerdown", (event) => {
    if (event.pointerType === "mouse" ? event.button !== 0 : !inPlot(plane, event)) return;
    // A pen's press would also come as mouse events, which Plotly takes for a zoom box.
    if (event.pointerType === "pen") event.preventDefault();
    presses.set(event.pointerId, { type: event.pointerType, x: event.clientX, y: event.clientY, moved: false });
    if (event.pointerType === "touch" && pinch.add(event, presses)) return onLeave(plane);
    if (event.pointerType !== "mouse") onMove(plane, event);
  }, true);
  gd.addEventListener("pointermove", (event) => {
    const press = presses.get(event.pointerId);
    if (press && Math.hypot(event.clientX - press.x, event.clientY - press.y) >= SLOP_PX[press.type]) press.moved = true;
    if (pinch.active) return pinch.move(event);
    if (!press || press.type !== "mouse") onMove(plane, event); // a mouse drag is Plotly's zoom box
  }, { passive: true });
  gd.addEventListener("pointerleave", (event) => {
    if (event.pointerType === "mouse" || !presses.has(event.pointerId)) onLeave(plane);
  }, { passive: true });
  // Plotly covers the page while a mouse button is down, so its release is heard on the window
  // (until this plane leaves the page: a remount builds a new one).
  const onUp = (event) => (plane.root.isConnected ? release(plane, presses, pinch, event, true) : forget());
  const onCancel = (event) => (plane.root.isConnected ? release(plane, presses, pinch, event, false) : forget());
  const forget = () => {
    window.removeEventListener("pointerup", onUp, true);
    window.removeEventListener("pointercancel", onCancel, true);
  };
  window.addEventListener("pointerup", onUp, true);
  window.addEventListener("pointercancel", onCancel, true);
}

function inPlot(plane, point) {
  const f = point && plane.frame();
  return Boolean(f && toPlot(f, point.clientX, point.clientY));
}

function release(plane, presses, pinch, event, up) {
  const press = presses.get(event.pointerId);
  if (!press) return;
  presses.delete(event.pointerId);
  if (pinch.active) return pinch.remove(event, presses);
  // Plotly's cover takes a mouse drag's moves from the plot: its distance is measured here too.
  const moved = press.moved || Math.hypot(event.clientX - press.x, event.clientY - press.y) >= SLOP_PX[press.type];
  if (up && !moved) onTap(plane, event, press.type);
  if (press.type !== "mouse") onLeave(plane); // a finger lifted is no longer pointing anywhere
}

export function onMove(plane, event, pointer = event.pointerType) {
  const f = plane.frame();
  const point = f && toPlot(f, event.clientX, event.clientY);
  if (!point) return onLeave(plane);
  pointAt(plane, point, pointer, event.timeStamp, f);
}

// Decode plot point `point` as the point under `pointer` ("mouse", "touch", "pen" or "keyboard").
export function pointAt(plane, point, pointer, stamp, f = plane.frame()) {
  const index = plane.nearestPoint(f, point[0], point[1]);
  if (index !== (plane.hover?.index ?? null)) broadcast(plane, { type: "hover", index });
  plane.hover = { x: point[0], y: point[1], index, stamp, pointer };
  plane.showDecoded(point[0], point[1], index, "hover");
  plane.mode?.onHover(index, point);
}

export function onLeave(plane) {
  if (plane.hover?.index !== null && plane.hover?.index !== undefined) broadcast(plane, { type: "hover", index: null });
  plane.hover = null;
  plane.refreshPanel();
  plane.mode?.onHover(null, null);
}

function onTap(plane, event, pointer) {
  const f = plane.frame();
  const point = f && toPlot(f, event.clientX, event.clientY);
  if (!point) return;
  const last = plane.lastClick, near = 2 * SLOP_PX[pointer];
  if (last && event.timeStamp - last.at < DOUBLE_TAP_MS && Math.hypot(event.clientX - last.cx, event.clientY - last.cy) < near)
    return onDoubleTap(plane);
  selectAt(plane, point, f);
  plane.lastClick = { ...plane.lastClick, at: event.timeStamp, cx: event.clientX, cy: event.clientY };
}

// Select at plot point `point`: the test image within reach if any (its exact point), else the point.
export function selectAt(plane, point, f = plane.frame()) {
  const index = plane.nearestPoint(f, point[0], point[1]);
  const [x, y] = index === null ? point : [plane.points[2 * index], plane.points[2 * index + 1]];
  plane.lastClick = { at: -Infinity, before: plane.selected };
  plane.select({ x, y, index, seq: ++plane.seq }, true);
}

// A double click or tap resets the zoom and nothing else: undo the selection its first half made.
function onDoubleTap(plane) {
  plane.resetView();
  const before = plane.lastClick?.before;
  plane.lastClick = null;
  plane.select(before ? { ...before, seq: ++plane.seq } : null, true, true);
}
