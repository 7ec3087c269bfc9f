// The plane's entry module, imported by the component's loader (app/plane/component.py) on every
// change of its data, and by the preloader at the top of every page.

import { loadPlotly, loadStyles } from "./assets.js";
import { Plane } from "./plane.js";
import { keepBrowserParameters } from "./url.js";

const STYLES = new URL("./plane.css", import.meta.url).href;

// Fetch and compile plotly.js and the styles before the plane needs them.
export function preload(urls) {
  loadPlotly(urls.plotly);
  loadStyles(STYLES);
}

// Mount the plane in the component's element, or hand it the new data.
export function render(component) {
  keepBrowserParameters();
  const { parentElement, data } = component;
  let plane = parentElement.__latentPlane;
  if (!plane) {
    plane = parentElement.__latentPlane = new Plane(component);
    loadStyles(STYLES).then(() => plane.start(data)).catch((error) => plane.fail(error));
  } else {
    plane.update(data);
  }
}
