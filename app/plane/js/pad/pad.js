// The drawing pad: a square canvas drawn on by mouse, finger, pen or keyboard (keys.js), with Undo
// and Clear buttons.
//
// Pointer events give every device one path; `touch-action: none` (pad.css) makes a finger draw
// instead of scrolling the page; pressure is ignored (the brush is the data's `brush` width, as
// MNIST digits have one stroke width). The bitmap is `side` x `side` pixels whatever size it is
// shown at, so the model sees the same drawing on a phone and on a projector.
//
// The strokes are kept in the tab's sessionStorage under the component's key, so a rerun or a
// remount never clears them. When a stroke ends, or on Undo or Clear, the drawing is sent once
// (setStateValue "drawing": { seq, strokes, png }, png a PNG data URL of the bitmap, null when
// empty); nothing is sent while a stroke is drawn. The server echoes the seq it holds in its data,
// so a remounted pad knows whether to send its drawing again.
//
// For code that follows the pen (the issue "Draw live"): `onInk(listener)` calls the listener with
// { pad, key, image, ended } (image: the bitmap's ImageData) once per frame while a stroke is drawn,
// and once when the drawing changes.

import { addPoint, paintBlank, paintStroke, restore, save } from "./ink.js";
import { PAD_KEY_HELP, listenToKeys } from "./keys.js";

const inkListeners = new Set();

// Follow the ink of every pad on the page; returns a function that stops following.
export function onInk(listener) {
  inkListeners.add(listener);
  return () => inkListeners.delete(listener);
}

export class DrawingPad {
  constructor(component) {
    this.component = component;
    this.data = component.data;
    this.strokes = [];
    this.seq = 0; // changes made here; the server echoes the newest it has seen (data.seq)
    this.current = null; // the stroke being drawn, with its pointer
    this.pointerId = null;
    this.frame = 0;
  }

  get side() { return this.data.side; }

  // Build the pad, restore this tab's strokes, and tell the server if it holds another drawing.
  start() {
    this.build();
    const saved = restore(this.data.storage_key, this.side);
    this.strokes = saved.strokes;
    this.seq = saved.seq;
    this.redraw();
    const server = this.data.seq ?? null;
    if (!(server === this.seq || (server === null && !this.strokes.length))) {
      if (server !== null) this.seq = Math.max(this.seq, server); // then one more: newer than both
      this.changed();
    }
    this.root.dataset.ready = "true";
    this.update(this.component);
  }

  // New data from the server (every rerun): the newest seq it holds.
  update(component) {
    this.component = component;
    this.data = component.data;
    if (!this.root) return; // start() comes when the styles have loaded
    this.root.dataset.synced = String((this.data.seq ?? null) === this.seq || (this.data.seq == null && !this.seq));
  }

  build() {
    const { side } = this.data;
    this.root = document.createElement("div");
    this.root.className = "dp-root";
    this.canvas = Object.assign(document.createElement("canvas"), { width: side, height: side, className: "dp-canvas" });
    // In the tab order, for the keyboard's pen; its name says what it holds (describe()).
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute("role", "application");
    this.canvas.setAttribute("aria-roledescription", "drawing pad");
    const help = Object.assign(document.createElement("p"), { className: "dp-help", textContent: PAD_KEY_HELP });
    help.id = `dp-help-${this.data.storage_key.replace(/[^\w-]/g, "_")}`;
    this.canvas.setAttribute("aria-describedby", help.id);
    this.ctx = this.canvas.getContext("2d", { willReadFrequently: true }); // read back on every move ("Draw live")
    this.base = Object.assign(document.createElement("canvas"), { width: side, height: side }); // finished strokes
    this.baseCtx = this.base.getContext("2d");
    const tools = document.createElement("div");
    tools.className = "dp-tools";
    this.undoButton = this.button(tools, "Undo", "↶", () => this.undo());
    this.clearButton = this.button(tools, "Clear", "✕", () => this.clear());
    const surface = Object.assign(document.createElement("div"), { className: "dp-surface" }); // the pen's ring sits on it
    surface.append(this.canvas);
    this.root.append(surface, tools, help);
    this.component.parentElement.appendChild(this.root);
    this.listen();
  }

  button(parent, label, icon, action) {
    const button = Object.assign(document.createElement("button"), { type: "button", className: "dp-button" });
    const mark = Object.assign(document.createElement("span"), { textContent: icon });
    mark.setAttribute("aria-hidden", "true");
    button.append(mark, ` ${label}`);
    button.dataset.action = label.toLowerCase();
    button.addEventListener("click", action);
    parent.appendChild(button);
    return button;
  }

  listen() {
    const canvas = this.canvas;
    canvas.addEventListener("pointerdown", (event) => this.down(event));
    canvas.addEventListener("pointermove", (event) => this.move(event));
    for (const name of ["pointerup", "pointercancel", "lostpointercapture"]) canvas.addEventListener(name, (event) => this.up(event));
    canvas.addEventListener("contextmenu", (event) => event.preventDefault()); // a long press draws a dot, no menu
    listenToKeys(this);
  }

  // --- pointer ------------------------------------------------------------------------------

  toBitmap(event) {
    const box = this.canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * this.side / box.width, (event.clientY - box.top) * this.side / box.height];
  }

  down(event) {
    // One stroke at a time: a second finger, a palm or another button is ignored.
    if (this.pointerId !== null || !event.isPrimary || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    try { this.canvas.setPointerCapture(event.pointerId); } catch { /* the pointer is already gone */ }
    this.pointerId = event.pointerId;
    this.root.dataset.pointer = event.pointerType; // for the tests: which device drew last
    this.current = [];
    addPoint(this.current, ...this.toBitmap(event), this.side);
    this.schedule();
  }

  move(event) {
    if (event.pointerId !== this.pointerId) return;
    const coalesced = event.getCoalescedEvents?.() ?? [];
    let added = false;
    for (const each of coalesced.length ? coalesced : [event]) added = addPoint(this.current, ...this.toBitmap(each), this.side) || added;
    if (added) this.schedule();
  }

  up(event) {
    if (event.pointerId !== this.pointerId) return;
    if (event.type === "pointerup") addPoint(this.current, ...this.toBitmap(event), this.side);
    this.strokes.push(this.current);
    paintStroke(this.baseCtx, this.current, this.data.brush);
    this.current = null;
    this.pointerId = null;
    this.changed();
  }

  // --- painting -----------------------------------------------------------------------------

  // Paint on the next frame (many pointer moves can arrive in one), then tell the ink listeners.
  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.paint();
      this.emitInk(false);
    });
  }

  paint() {
    this.ctx.drawImage(this.base, 0, 0);
    if (this.current) paintStroke(this.ctx, this.current, this.data.brush);
  }

  // Repaint everything from the strokes (after undo, clear or a restore).
  redraw() {
    paintBlank(this.baseCtx, this.side);
    for (const stroke of this.strokes) paintStroke(this.baseCtx, stroke, this.data.brush);
    this.paint();
    this.describe();
  }

  imageData() {
    return this.ctx.getImageData(0, 0, this.side, this.side);
  }

  emitInk(ended) {
    if (!inkListeners.size) return; // reading the bitmap back costs a copy: only when someone follows
    const ink = { pad: this, key: this.data.storage_key, image: this.imageData(), ended };
    for (const listener of inkListeners) listener(ink);
  }

  // --- changes ------------------------------------------------------------------------------

  undo() {
    this.abandonStroke();
    if (!this.strokes.length) return;
    this.strokes.pop();
    this.redraw();
    this.changed();
  }

  clear() {
    this.abandonStroke();
    if (!this.strokes.length) return;
    this.strokes = [];
    this.redraw();
    this.changed();
  }

  abandonStroke() {
    if (this.pointerId === null) return;
    try { this.canvas.releasePointerCapture(this.pointerId); } catch { /* already released */ }
    this.current = null;
    this.pointerId = null;
  }

  // The drawing changed: keep it for this tab and send it to the server, once.
  changed() {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.paint();
    this.describe();
    this.seq += 1;
    save(this.data.storage_key, this.strokes, this.seq);
    const png = this.strokes.length ? this.canvas.toDataURL("image/png") : null;
    this.component.setStateValue("drawing", { seq: this.seq, strokes: this.strokes.length, png });
    this.root.dataset.seq = String(this.seq);
    this.root.dataset.synced = "false"; // until the server's data echoes this seq
    this.emitInk(true);
  }

  // The canvas's accessible name and the buttons' state say what the pad holds.
  describe() {
    const n = this.strokes.length;
    this.canvas.setAttribute("aria-label", n ? `Drawing pad: ${n} stroke${n === 1 ? "" : "s"}` : "Drawing pad: empty");
    this.root.dataset.strokes = String(n);
    this.root.dataset.seq = String(this.seq);
    this.undoButton.disabled = this.clearButton.disabled = n === 0;
  }
}
