// The drawing pad's entry module, imported by its loader (app/plane/pad.py) on every change of its
// data. `onInk` lets other code on the page follow the ink while it is drawn (see pad.js).

import { DrawingPad } from "./pad.js";

export { onInk } from "./pad.js";

const STYLES = new URL("./pad.css", import.meta.url).href;
let styles = null;

// The pad's stylesheet, in the page's head once; resolves when it applies (or fails to load).
function loadStyles() {
  styles ??= new Promise((resolve) => {
    const link = Object.assign(document.createElement("link"), { rel: "stylesheet", href: STYLES });
    link.onload = link.onerror = () => resolve();
    document.head.appendChild(link);
  });
  return styles;
}

// Mount the pad in the component's element, or hand it the new data.
export function render(component) {
  const { parentElement } = component;
  let pad = parentElement.__drawingPad;
  if (!pad) {
    pad = parentElement.__drawingPad = new DrawingPad(component);
    loadStyles().then(() => pad.start());
  } else {
    pad.update(component);
  }
}
