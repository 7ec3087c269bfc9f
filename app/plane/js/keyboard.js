// The plane by keyboard. The figure is in the tab order; while it has the focus, the arrow keys move
// a cursor that decodes where it is (Shift: bigger steps; the view follows the cursor past its
// edge), Enter or Space selects there, + and - zoom about it, Home or R resets the view, the digit
// keys 0-9 show or hide that digit, Escape puts the cursor away.

import { onLeave, pointAt, selectAt } from "./input.js";

const STEP = 0.02; // of the view's width (or height) per arrow key
const BIG_STEP = 0.1; // with Shift
const MOVES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };

export const KEY_HELP = "Arrow keys move a cursor that decodes where it is (Shift: bigger steps); Enter or Space "
  + "selects there; + and - zoom; Home or R resets the view; 0 to 9 show or hide a digit; Escape hides the cursor.";

export function listenToKeys(plane) {
  const figure = plane.figure;
  figure.addEventListener("keydown", (event) => {
    // Only the figure's own keys: not those of the zoom buttons inside it.
    if (event.target !== figure || event.altKey || event.ctrlKey || event.metaKey || !plane.gd) return;
    if (handle(plane, event)) event.preventDefault();
  });
  figure.addEventListener("blur", () => {
    if (plane.hover?.pointer === "keyboard") onLeave(plane);
    plane.drawOverlay();
  });
}

function handle(plane, event) {
  const key = event.key, f = plane.frame();
  if (!f) return false;
  if (key in MOVES) {
    const [dx, dy] = MOVES[key], step = event.shiftKey ? BIG_STEP : STEP;
    const [x, y] = plane.cursor || startingCursor(plane, f);
    moveCursor(plane, [x + dx * step * (f.x[1] - f.x[0]), y + dy * step * (f.y[1] - f.y[0])], f, event.timeStamp);
  } else if (key === "Enter" || key === " ") {
    plane.cursor ||= startingCursor(plane, f);
    selectAt(plane, plane.cursor, f);
  } else if (key === "+" || key === "=") plane.zoomBy(1 / 1.25, plane.cursor);
  else if (key === "-" || key === "_") plane.zoomBy(1.25, plane.cursor);
  else if (key === "Home" || key === "r" || key === "R") plane.resetView();
  else if (/^[0-9]$/.test(key)) plane.toggleDigit(Number(key));
  else if (key === "Escape" && plane.cursor) {
    plane.cursor = null;
    onLeave(plane);
    plane.drawOverlay();
  } else return false;
  return true;
}

// Where the cursor starts: at the selection if it is in view, else in the middle of the view.
function startingCursor(plane, f) {
  const s = plane.selected;
  if (s && s.x >= f.x[0] && s.x <= f.x[1] && s.y >= f.y[0] && s.y <= f.y[1]) return [s.x, s.y];
  return [(f.x[0] + f.x[1]) / 2, (f.y[0] + f.y[1]) / 2];
}

// Put the cursor at plot point `point` (panning the view to keep it inside) and decode there.
function moveCursor(plane, point, f, stamp) {
  const shift = (value, [low, high]) => (value < low ? value - low : value > high ? value - high : 0);
  const dx = shift(point[0], f.x), dy = shift(point[1], f.y);
  plane.cursor = point;
  if (dx || dy) plane.setView({ x: [f.x[0] + dx, f.x[1] + dx], y: [f.y[0] + dy, f.y[1] + dy] });
  pointAt(plane, point, "keyboard", stamp);
  plane.drawOverlay();
  plane.announceSoon();
}
