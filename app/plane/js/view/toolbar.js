// Above the plot, the digits as chips that show or hide them; in its corner, the zoom buttons. Both are plain
// buttons, so a tap, a click and the keyboard all work (Plotly's legend needs a mouse and room).

import { KEY_HELP } from "../keyboard.js";

export function toolbarHtml(id) {
  return `
    <div class="lp-toolbar">
      <div class="lp-chips" role="group" aria-label="Digits on the plane: show or hide each"></div>
    </div>
    <p class="lp-keys" id="${id}-keys">${KEY_HELP}</p>`;
}

// Inside the figure, over the plot's corner.
export const ZOOM_HTML = `
  <div class="lp-zoom" role="group" aria-label="Zoom">
    <button type="button" class="lp-zoom-in" aria-label="Zoom in" title="Zoom in">+</button>
    <button type="button" class="lp-zoom-out" aria-label="Zoom out" title="Zoom out">−</button>
    <button type="button" class="lp-zoom-reset" aria-label="Reset the view" title="Reset the view">⟲</button>
  </div>`;

export function buildToolbar(plane) {
  const find = (selector) => plane.root.querySelector(selector);
  find(".lp-zoom-out").addEventListener("click", () => plane.zoomBy(1.25));
  find(".lp-zoom-in").addEventListener("click", () => plane.zoomBy(1 / 1.25));
  find(".lp-zoom-reset").addEventListener("click", () => plane.resetView());
  const chips = find(".lp-chips");
  if (!plane.points) return void (chips.hidden = true);
  chips.replaceChildren(...plane.data.colors.map((color, digit) => {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "lp-chip";
    chip.dataset.digit = String(digit);
    chip.dataset.testid = "plane-chip";
    chip.setAttribute("aria-label", `digit ${digit}`);
    chip.innerHTML = `<span class="lp-swatch" style="background:${color}" aria-hidden="true"></span>${digit}`;
    chip.addEventListener("click", () => plane.toggleDigit(digit));
    return chip;
  }));
  syncChips(plane);
}

// Each chip pressed while its digit is shown.
export function syncChips(plane) {
  for (const chip of plane.root.querySelectorAll(".lp-chip"))
    chip.setAttribute("aria-pressed", String(!plane.hidden.has(Number(chip.dataset.digit))));
}
