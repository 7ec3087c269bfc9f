// The drawing pad by keyboard: while the pad has the focus, the arrow keys move a pen across it
// (Shift: bigger steps); Space or Enter puts the pen down (a stroke begins where it is) and lifts it
// again (the stroke ends and is sent, as a finger's would be); Escape lifts it too. The pen is
// shown by a ring over the canvas, never painted into the drawing.

import { addPoint } from "./ink.js";

const STEP = 0.04; // of the pad's side per arrow key
const BIG_STEP = 0.12; // with Shift
const MOVES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
export const KEYBOARD_PEN = "keyboard"; // the pad's pointerId while the keyboard's pen is down

export const PAD_KEY_HELP = "Arrow keys move the pen (Shift: further); Space puts it down and lifts it again.";

export function listenToKeys(pad) {
  const canvas = pad.canvas;
  pad.keyPen = [pad.side / 2, pad.side / 2];
  pad.ring = Object.assign(document.createElement("div"), { className: "dp-pen" });
  pad.ring.setAttribute("aria-hidden", "true");
  canvas.after(pad.ring);
  canvas.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (handle(pad, event)) event.preventDefault();
  });
  canvas.addEventListener("focus", () => placeRing(pad));
  canvas.addEventListener("blur", () => {
    if (pad.pointerId === KEYBOARD_PEN) lift(pad);
    pad.ring.hidden = true;
  });
  pad.ring.hidden = true;
}

function handle(pad, event) {
  const key = event.key;
  if (key in MOVES) {
    const [dx, dy] = MOVES[key], step = (event.shiftKey ? BIG_STEP : STEP) * pad.side;
    const clamp = (value) => Math.min(pad.side - 1, Math.max(0, value));
    pad.keyPen = [clamp(pad.keyPen[0] + dx * step), clamp(pad.keyPen[1] + dy * step)];
    if (pad.pointerId === KEYBOARD_PEN && addPoint(pad.current, ...pad.keyPen, pad.side)) pad.schedule();
    placeRing(pad);
  } else if (key === " " || key === "Enter") {
    if (pad.pointerId === KEYBOARD_PEN) lift(pad);
    else if (pad.pointerId === null) putDown(pad);
  } else if (key === "Escape" && pad.pointerId === KEYBOARD_PEN) lift(pad);
  else return false;
  return true;
}

function putDown(pad) {
  pad.pointerId = KEYBOARD_PEN;
  pad.root.dataset.pointer = KEYBOARD_PEN;
  pad.current = [];
  addPoint(pad.current, ...pad.keyPen, pad.side);
  pad.schedule();
  placeRing(pad);
}

// The stroke ends as a lifted finger's does (DrawingPad.up).
function lift(pad) {
  pad.up({ pointerId: KEYBOARD_PEN, type: "keyboard" });
  placeRing(pad);
}

function placeRing(pad) {
  const [x, y] = pad.keyPen;
  Object.assign(pad.ring.style, { left: `${(100 * x) / pad.side}%`, top: `${(100 * y) / pad.side}%` });
  pad.ring.classList.toggle("dp-pen-down", pad.pointerId === KEYBOARD_PEN);
  pad.ring.hidden = false;
}
