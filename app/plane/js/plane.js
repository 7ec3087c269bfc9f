// The latent plane: a Plotly scatter of the test codes whose interaction lives in the browser.
//
// Pointing anywhere (a mouse, a pen, a finger dragged over it, or the keyboard's cursor) decodes that
// point with the model's decoder running here (decoding.js), on every move, with no message to the
// server. A click or tap anywhere selects that exact point: the marker and the decoded image appear
// at once, and the selection is reported to the server (setStateValue "click"), which adds what
// needs it. Markers, paths and ellipses are drawn on an SVG layer over
// the plot (overlay.js), so they move without redrawing 10,000 points; the decoded manifold is
// drawn on a canvas under it (backdrop.js). What a page adds is its mode (modes/).
//
// The plot is built once per mount and then only updated, so zoom, pan and hidden digits survive
// reruns; they are also kept per model for this tab (session.js) and in the address (url.js).

import { loadImages, loadModel, loadPlotly } from "./assets.js";
import { drawBackdrop } from "./view/backdrop.js";
import { colourPoints } from "./view/colouring.js";
import { Decoding } from "./model/decoding.js";
import { PointIndex, plotFrame, toPlot, toScreen } from "./geometry.js";
import { listen } from "./input.js";
import { listenToKeys } from "./keyboard.js";
import { broadcast, listenToLinkedPlanes } from "./links.js";
import { makeMode } from "./modes/index.js";
import { drawOverlay } from "./view/overlay.js";
import { PANEL_HTML, paint, refreshPanel, showDecoded, showOriginal } from "./view/panel.js";
import { ZOOM_HTML, buildToolbar, syncChips, toolbarHtml } from "./view/toolbar.js";
import { restoreSession, saveSession } from "./session.js";

const MIN_PRESENTER_HEIGHT = 360;
// On a phone (a narrow plane in a narrow window) the panel goes above the plot, its image beside its
// words; a narrow plane on a wide screen (Compare's columns) keeps it below.
const NARROW_PX = 640;
const PHONE_WINDOW_PX = 768;
const ZOOM_FACTOR = 1.25;
let planes = 0; // for ids unique on the page

export class Plane {
  constructor(component) {
    this.component = component;
    this.root = document.createElement("div");
    this.root.className = "lp-root";
    component.parentElement.appendChild(this.root);
    this.seq = 0; // clicks made here; the server echoes the last one it has seen
    this.errorsUrl = null; // the reconstruction errors the points are coloured by (null: by digit)
    this.linked = null; // the test image under the pointer in a linked plane
    this.cursor = null; // the keyboard's cursor, in plot coordinates
    this.id = `lp${++planes}`;
  }

  // Build the plane; `data` unless newer data arrived (update) while the styles loaded.
  async start(data) {
    this.data ??= data;
    data = this.data;
    this.path = window.location.pathname;
    this.buildDom(data);
    this.status.textContent = "Loading the plot and the decoder…";
    const [plotly, model] = await Promise.all([loadPlotly(data.assets.plotly), loadModel(data.model.url)]);
    this.Plotly = plotly;
    this.model = model;
    this.decoding = new Decoding(model);
    this.root.dataset.decoder = this.decoding.heavy ? "worker" : "main-thread";
    this.points = model.arrays.points || null; // (N, 2) float32 plot coordinates of the test codes
    this.labels = model.arrays.labels || null;
    restoreSession(this);
    listenToLinkedPlanes(this);
    await this.plot();
    this.status.textContent = "";
    this.root.dataset.ready = "true";
    if (data.images) loadImages(data.images).then((images) => {
      this.images = images;
      this.mode?.imagesArrived();
      if (this.hover) showOriginal(this, this.hover.index);
      else this.refreshPanel();
    });
    this.update(this.data); // the newest data, if any came while the plot was built
  }

  fail(error) {
    this.status.textContent = `The plane could not be drawn: ${error.message || error}`;
    this.root.dataset.ready = "error";
    console.error(error);
  }

  // --- building -----------------------------------------------------------------------------

  // The plot's height: fixed (on a narrow screen, about square), or in presenter mode all the
  // window has left below its top.
  plotHeight() {
    if (this.root.classList.contains("lp-narrow")) return Math.min(this.data.height, this.figure.clientWidth + 40);
    if (!this.data.fill_height) return this.data.height;
    const top = this.figure.getBoundingClientRect().top + window.scrollY;
    return Math.max(MIN_PRESENTER_HEIGHT, Math.round(window.innerHeight - top - 12));
  }

  fitHeight() {
    const height = this.plotHeight();
    this.root.style.setProperty("--lp-height", `${height}px`);
    if (this.gd && this.gd.layout.height !== height) this.Plotly.relayout(this.gd, { height });
  }

  buildDom(data) {
    const root = this.root;
    root.classList.toggle("lp-present", Boolean(data.wide_panel));
    root.innerHTML = `
      <div class="lp-main">
        ${toolbarHtml(this.id)}
        <div class="lp-figure" tabindex="0" role="application" aria-roledescription="latent plane"
             aria-label="The latent plane: point at, tap or move the cursor with the arrow keys to decode"
             aria-describedby="${this.id}-keys">
          <canvas class="lp-backdrop"></canvas>
          <div class="lp-plot"></div>
          <svg class="lp-overlay" xmlns="http://www.w3.org/2000/svg" aria-hidden="true"></svg>
          <div class="lp-status" role="status"></div>
          ${ZOOM_HTML}
        </div>
      </div>
      <div class="lp-panel">${PANEL_HTML}</div>
      <div class="lp-live" aria-live="polite" data-testid="plane-live"></div>`;
    const find = (selector) => root.querySelector(selector);
    Object.assign(this, {
      figure: find(".lp-figure"), plotDiv: find(".lp-plot"), overlay: find(".lp-overlay"), backdrop: find(".lp-backdrop"),
      status: find(".lp-status"), caption: find(".lp-caption"), big: find(".lp-big"), readout: find(".lp-readout"),
      original: find(".lp-original"), extra: find(".lp-extra"), backdropOn: find(".lp-backdrop-on"), opacity: find(".lp-opacity"),
      live: find(".lp-live"),
    });
    root.classList.toggle("lp-narrow", this.isNarrow());
    this.big.dataset.renders = "0";
    this.bigImage = this.big.getContext("2d").createImageData(this.big.width, this.big.height); // reused on every move
    this.fitHeight();
    if (data.fill_height) window.addEventListener("resize", () => this.fitHeight());
    new ResizeObserver(() => {
      if (root.classList.toggle("lp-narrow", this.isNarrow()) !== this.narrow) this.fitHeight();
      this.narrow = root.classList.contains("lp-narrow");
    }).observe(root);
    this.backdropOn.addEventListener("change", () => { this.saveSession(); this.drawBackdrop(); });
    this.opacity.addEventListener("input", () => { this.backdrop.style.opacity = this.opacity.value; this.saveSession(); });
  }

  isNarrow() {
    return this.root.clientWidth < NARROW_PX && window.innerWidth < PHONE_WINDOW_PX;
  }

  async plot() {
    const data = this.data, traces = [];
    if (this.points) {
      const byDigit = Array.from({ length: 10 }, () => ({ x: [], y: [] }));
      this.digitIndex = Array.from({ length: 10 }, () => []); // test images of each digit's trace
      for (let i = 0; i < this.labels.length; i++) {
        const t = byDigit[this.labels[i]];
        t.x.push(this.points[2 * i]);
        t.y.push(this.points[2 * i + 1]);
        this.digitIndex[this.labels[i]].push(i);
      }
      byDigit.forEach((t, digit) => traces.push({
        type: "scattergl", mode: "markers", name: String(digit), x: t.x, y: t.y, hoverinfo: "none",
        visible: this.hidden.has(digit) ? "legendonly" : true, showlegend: false,
        marker: { size: data.marker_size, color: data.colors[digit], opacity: 0.75 },
      }));
      this.index = new PointIndex(this.points, this.labels, data.bounds);
    }
    const [[x0, x1], [y0, y1]] = data.bounds;
    this.home = { x: [x0, x1], y: [y0, y1] };
    const view = this.view || this.home;
    const layout = {
      height: this.plotHeight(), margin: { l: 50, r: 10, t: 30, b: 45 }, font: { size: data.font_size },
      xaxis: { range: view.x.slice(), title: { text: data.axis_titles[0] }, zeroline: false },
      yaxis: { range: view.y.slice(), title: { text: data.axis_titles[1] }, zeroline: false, scaleanchor: "x", scaleratio: 1 },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      dragmode: "zoom", hovermode: false, showlegend: false, // the digits are chips above the plot (toolbar.js)
    };
    // Double clicks and taps are handled here (input.js): back to the home view, whatever was restored.
    // Zoom and reset are buttons above the plot, for touch and keyboard too.
    const config = { displaylogo: false, responsive: true, doubleClick: false, displayModeBar: false };
    await this.Plotly.newPlot(this.plotDiv, traces, layout, config);
    const gd = (this.gd = this.plotDiv);
    // A zoom or pan by the user changes the ranges by their parts ("xaxis.range[0]"); the
    // app's own relayouts set whole ranges. Only the user's view is remembered and shared.
    gd.on("plotly_relayout", (event) => {
      if (event && ("xaxis.range[0]" in event || "yaxis.range[0]" in event)) this.userView = true;
      this.afterViewChange();
    });
    gd.on("plotly_restyle", () => this.afterLegendChange());
    gd.on("plotly_afterplot", () => this.drawOverlay());
    // On a resize, Plotly fits equal axis scales by widening the current ranges, which would
    // drift wider at every resize: the intended view is put back instead.
    let width = this.figure.clientWidth, height = this.figure.clientHeight;
    new ResizeObserver(() => {
      if (this.figure.clientWidth === width && this.figure.clientHeight === height) return;
      width = this.figure.clientWidth;
      height = this.figure.clientHeight;
      const view = this.intendedView();
      this.Plotly.relayout(this.gd, { "xaxis.range": view.x.slice(), "yaxis.range": view.y.slice() });
    }).observe(this.figure);
    listen(this);
    listenToKeys(this);
    buildToolbar(this);
    this.fitHeight(); // the chips above the plot moved it down
    this.afterViewChange();
    await colourPoints(this, data.mode.errors ?? null);
  }

  // --- geometry (also used by the tests and benchmarks) ------------------------------------

  frame() { return plotFrame(this.gd, this.figure); }
  toScreen(f, x, y) { return toScreen(f, x, y); }
  toPlot(f, clientX, clientY) { return toPlot(f, clientX, clientY); }
  nearestPoint(f, x, y) { return this.index ? this.index.nearest(f, x, y, this.hidden) : null; }

  // --- selection and view -------------------------------------------------------------------

  // Select a point: marker and image now, the server told (unless this is the server's own pick).
  select(pick, report, undo = false) {
    this.selected = pick;
    this.mode?.onSelect(pick, undo);
    this.drawOverlay();
    this.refreshPanel();
    if (report && pick && pick.index !== null) broadcast(this, { type: "select", index: pick.index });
    if (report) this.announce(pick ? `Selected ${this.describe(pick.x, pick.y, pick.index)}.` : "Selection undone.");
    if (report) {
      const message = pick ? { x: pick.x, y: pick.y, index: pick.index, seq: pick.seq } : { x: null, y: null, index: null, seq: this.seq };
      this.component.setStateValue("click", { ...message, undo });
    }
  }

  resetView() {
    this.userView = false;
    this.view = null;
    this.Plotly.relayout(this.gd, { "xaxis.range": this.home.x.slice(), "yaxis.range": this.home.y.slice() });
  }

  // Show `view` ({x: [x0, x1], y: [y0, y1]}) as the user's own (kept and shared like a zoom box's).
  setView(view) {
    this.userView = true;
    this.Plotly.relayout(this.gd, { "xaxis.range": view.x.slice(), "yaxis.range": view.y.slice() });
  }

  // Zoom by `factor` (above 1: out) about plot point `about` (default: the middle of the view).
  zoomBy(factor, about = null) {
    const f = this.frame();
    if (!f) return;
    const [cx, cy] = about || [(f.x[0] + f.x[1]) / 2, (f.y[0] + f.y[1]) / 2];
    this.setView({ x: f.x.map((v) => cx + (v - cx) * factor), y: f.y.map((v) => cy + (v - cy) * factor) });
  }

  toggleDigit(digit) {
    if (!this.points) return;
    const hide = !this.hidden.has(digit);
    this.Plotly.restyle(this.gd, { visible: hide ? "legendonly" : true }, [digit]);
    this.announce(`Digit ${digit} ${hide ? "hidden" : "shown"}.`);
  }

  // The view to keep: the user's zoom, else the home ranges.
  intendedView() {
    return this.userView && this.view ? this.view : this.home;
  }

  afterViewChange() {
    const f = this.gd && this.frame();
    if (!f) return;
    if (this.userView) this.view = { x: f.x, y: f.y };
    this.saveSession();
    this.drawOverlay();
    clearTimeout(this.backdropTimer);
    this.backdropTimer = setTimeout(() => this.drawBackdrop(), 120); // once the zoom has settled
  }

  afterLegendChange() {
    this.hidden = new Set(this.gd.data.slice(0, 10).map((t, digit) => (t.visible === "legendonly" ? digit : -1)).filter((d) => d >= 0));
    syncChips(this);
    this.saveSession();
  }

  // --- words for screen readers -------------------------------------------------------------

  // "test image #12 (a 3) at z = (0.10, -1.20)", or "the point z = (...)".
  describe(x, y, index) {
    const where = `z = (${x.toFixed(2)}, ${y.toFixed(2)})`;
    return index !== null && this.labels ? `test image #${index}, a ${this.labels[index]}, at ${where}` : `the point ${where}`;
  }

  // Said by a screen reader when it is free (a polite live region).
  announce(text) {
    clearTimeout(this.announceTimer);
    this.live.textContent = text;
  }

  // What the panel shows now, said once the keyboard's cursor rests a moment.
  announceSoon() {
    clearTimeout(this.announceTimer);
    this.announceTimer = setTimeout(() => this.announce(this.big.getAttribute("aria-label") || ""), 400);
  }

  // --- drawing ------------------------------------------------------------------------------

  refreshPanel() { refreshPanel(this); }
  showDecoded(x, y, index, why, code = null) { showDecoded(this, x, y, index, why, code); }
  paint(image, canvas = this.big) { paint(this, image, canvas); }
  drawOverlay() { drawOverlay(this); }
  drawBackdrop() { return drawBackdrop(this); }
  saveSession() { saveSession(this); }

  // --- data from the server ---------------------------------------------------------------

  update(data) {
    this.data = data;
    if (!this.gd) return; // start() applies it once the plot exists
    if (!this.mode || this.mode.constructor.kind !== data.mode.name) this.mode = makeMode(data.mode.name, this);
    const server = data.mode.selected;
    if (!server || server.seq >= this.seq) {
      // The server's pick wins unless this page has clicked since (its click is on the way).
      this.seq = Math.max(this.seq, server ? server.seq : 0);
      this.selected = server ? { x: server.x, y: server.y, index: server.index, seq: server.seq } : this.selected;
    }
    this.mode.update(data.mode);
    this.drawOverlay();
    this.refreshPanel();
    colourPoints(this, data.mode.errors ?? null);
  }
}
