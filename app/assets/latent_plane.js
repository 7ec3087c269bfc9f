// The latent plane: a Plotly scatter of the test codes whose interaction lives in the browser.
//
// Hovering anywhere decodes that point with the model's decoder running here (decoder.js), on
// every mouse move, with no message to the server. A click anywhere selects that exact point:
// the marker and the decoded image appear at once, and the click is reported to the server
// (setStateValue "click"), which adds what needs it. Markers, paths and ellipses are drawn on
// an SVG layer over the plot, so they move without redrawing 10,000 points; the decoded
// manifold is drawn on a canvas under it, re-decoded for the current view after each zoom.
//
// render(component) is called by the component's loader on mount and on every change of its
// data; the plot is built once per mount and then only updated, so zoom, pan and hidden digits
// survive reruns. They are also kept in sessionStorage per model, for a remount.
import { createDecoder, parseAsset } from "./decoder.js";
import { PIXELS, paintDigit, testImage } from "./digits.js";
import { SelectionDetails } from "./selection_details.js";

const SVG = "http://www.w3.org/2000/svg";
const HEAVY_MULTIPLY_ADDS = 5e6; // above this, decode in a worker (measured: ~1 ms per M multiply-adds)
const NEAR_PX = 7; // a mouse this close to a point is "on" it
const DOUBLE_CLICK_MS = 400;
const DEFAULT_OPACITY = 0.55;
const LINK_EVENT = "latent-plane:link"; // planes with the same data.link_group follow each other
// Reconstruction error, low to high: pale to dark red, so the images a model finds unusual stand out.
const ERROR_COLORSCALE = [[0, "#cfdde9"], [0.45, "#f2b880"], [0.75, "#d6604d"], [1, "#67001f"]];
const BACKDROP_TILES = 20; // tiles per side of the decoded manifold (10 for heavy decoders)

const loaded = new Map(); // url -> promise, shared by every plane on the page

function once(key, make) {
  if (!loaded.has(key)) loaded.set(key, make());
  return loaded.get(key);
}

function absolute(url) {
  return new URL(url, document.baseURI).href;
}

// A published file's body. The large ones are published gzipped (`.gz`, see
// app/static_assets.py) and decompressed here, so the server never compresses them per request.
async function fetchBody(url) {
  const response = await fetch(absolute(url));
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return url.endsWith(".gz") ? new Response(response.body.pipeThrough(new DecompressionStream("gzip"))) : response;
}

// plotly.js from the installed plotly package, loaded once per page. It is evaluated with a
// `module` in scope, so it hands itself over instead of relying on a global; the `window.Plotly`
// it sets anyway is put back as it was (Streamlit's own charts may have set one).
function loadPlotly(url) {
  return once(url, async () => {
    const code = await (await fetchBody(url)).text();
    const had = Object.prototype.hasOwnProperty.call(window, "Plotly"), previous = window.Plotly;
    const module = { exports: {} };
    new Function("module", "exports", code)(module, module.exports);
    if (had) window.Plotly = previous;
    else delete window.Plotly;
    return module.exports;
  });
}

function loadModel(url) {
  return once(url, async () => {
    const buffer = await (await fetchBody(url)).arrayBuffer();
    const { header, arrays } = parseAsset(buffer);
    return { header, arrays, buffer, decoder: createDecoder(header, arrays.weights) };
  });
}

function loadImages(url) {
  return once(url, async () => new Uint8Array(await (await fetchBody(url)).arrayBuffer()));
}

function loadErrors(url) {
  return once(url, async () => new Float32Array(await (await fetchBody(url)).arrayBuffer()));
}

// The plane's own URL parameters, re-applied to any address Streamlit sets for the same page.
const browserParameters = { path: null, values: {} };

function withParameters(search, values) {
  const params = new URLSearchParams(search);
  for (const [name, value] of Object.entries(values)) {
    if (value === null) params.delete(name);
    else params.set(name, value);
  }
  const query = params.toString();
  return query ? `?${query}` : "";
}

function keepBrowserParameters() {
  if (history.__latentPlaneKeeps) return;
  history.__latentPlaneKeeps = true;
  for (const method of ["pushState", "replaceState"]) {
    const original = history[method].bind(history);
    history[method] = (state, title, url) => {
      if (url !== undefined && url !== null && browserParameters.path) {
        const target = new URL(url, window.location.href);
        if (target.pathname === browserParameters.path) {
          target.search = withParameters(target.search, browserParameters.values);
          url = target.href;
        }
      }
      return original(state, title, url);
    };
  }
}

// Called from the top of every page: fetch and compile plotly.js before the plane needs it.
export function preload(urls) {
  loadPlotly(urls.plotly);
}

export function render(component) {
  keepBrowserParameters();
  const { parentElement, data } = component;
  let plane = parentElement.__latentPlane;
  if (!plane) {
    plane = parentElement.__latentPlane = new Plane(component);
    plane.start(data).catch((error) => plane.fail(error));
  } else {
    plane.update(data);
  }
}

class Plane {
  constructor(component) {
    this.component = component;
    this.root = document.createElement("div");
    this.root.className = "lp-root";
    component.parentElement.appendChild(this.root);
    this.seq = 0; // clicks made here; the server echoes the last one it has seen
    this.pending = null;
    this.hoverBusy = false;
    this.errorsUrl = null; // the reconstruction errors the points are coloured by (null: by digit)
  }

  async start(data) {
    this.data = data;
    this.path = window.location.pathname;
    this.buildDom(data);
    this.status.textContent = "Loading the plot and the decoder…";
    const [plotly, model] = await Promise.all([loadPlotly(data.assets.plotly), loadModel(data.model.url)]);
    this.Plotly = plotly;
    this.model = model;
    this.setUpDecoding(model);
    this.points = model.arrays.points || null; // (N, 2) float32 plot coordinates of the test codes
    this.labels = model.arrays.labels || null;
    this.restoreSession();
    this.linked = null;
    this.listenToLinkedPlanes();
    await this.plot();
    this.status.textContent = "";
    this.root.dataset.ready = "true";
    if (data.images) loadImages(data.images).then((images) => {
      this.images = images;
      this.mode?.paintEnds?.();
      this.mode?.imagesArrived?.();
      if (this.hover) this.showOriginal(this.hover.index);
      else this.refreshPanel();
    });
    this.update(data);
  }

  fail(error) {
    this.status.textContent = `The plane could not be drawn: ${error.message || error}`;
    this.root.dataset.ready = "error";
    console.error(error);
  }

  // --- building -----------------------------------------------------------------------------

  // The plot's height: fixed, or in presenter mode all the window has left below its top.
  plotHeight() {
    if (!this.data.fill_height) return this.data.height;
    const top = this.figure.getBoundingClientRect().top + window.scrollY;
    return Math.max(420, Math.round(window.innerHeight - top - 12));
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
      <div class="lp-figure">
        <canvas class="lp-backdrop"></canvas>
        <div class="lp-plot"></div>
        <svg class="lp-overlay" xmlns="${SVG}"></svg>
        <div class="lp-status"></div>
      </div>
      <div class="lp-panel">
        <div class="lp-caption" data-testid="plane-caption">Move the mouse over the plane</div>
        <canvas class="lp-big" width="28" height="28" data-testid="plane-decoded"></canvas>
        <div class="lp-readout" data-testid="plane-readout"></div>
        <div class="lp-original"><canvas width="28" height="28"></canvas><span></span></div>
        <div class="lp-extra"></div>
        <label class="lp-control"><input type="checkbox" class="lp-backdrop-on"> decoded manifold behind the points</label>
        <label class="lp-control">opacity <input type="range" class="lp-opacity" min="0" max="1" step="0.05"></label>
      </div>`;
    this.figure = root.querySelector(".lp-figure");
    this.plotDiv = root.querySelector(".lp-plot");
    this.overlay = root.querySelector(".lp-overlay");
    this.backdrop = root.querySelector(".lp-backdrop");
    this.status = root.querySelector(".lp-status");
    this.caption = root.querySelector(".lp-caption");
    this.big = root.querySelector(".lp-big");
    this.readout = root.querySelector(".lp-readout");
    this.original = root.querySelector(".lp-original");
    this.extra = root.querySelector(".lp-extra");
    this.backdropOn = root.querySelector(".lp-backdrop-on");
    this.opacity = root.querySelector(".lp-opacity");
    this.big.dataset.renders = "0";
    this.bigImage = this.big.getContext("2d").createImageData(28, 28); // reused on every mouse move
    this.fitHeight();
    if (data.fill_height) window.addEventListener("resize", () => this.fitHeight());
    this.backdropOn.addEventListener("change", () => { this.saveSession(); this.drawBackdrop(); });
    this.opacity.addEventListener("input", () => { this.backdrop.style.opacity = this.opacity.value; this.saveSession(); });
  }

  setUpDecoding(model) {
    const header = model.header;
    this.latentDim = header.latent_dim;
    this.mean = model.arrays.plane_mean;
    this.components = model.arrays.plane_components; // (2, D)
    this.heavy = header.multiply_adds > HEAVY_MULTIPLY_ADDS;
    this.worker = new Worker(absolute(this.data.assets.worker), { type: "module" });
    this.worker.postMessage({ type: "load", buffer: model.buffer.slice(0) });
    this.workerCalls = new Map();
    this.workerId = 0;
    this.worker.onmessage = (event) => {
      const resolve = this.workerCalls.get(event.data.id);
      this.workerCalls.delete(event.data.id);
      if (resolve) resolve(event.data.images);
    };
    this.root.dataset.decoder = this.heavy ? "worker" : "main-thread";
  }

  // One code decoded into an image of its own (the hover's decoding reuses its buffers).
  decodeCopy(z) {
    if (!this.heavy) return Promise.resolve(Float32Array.from(this.model.decoder.decode(z)));
    return this.decodeInWorker(Float32Array.from(z));
  }

  decodeInWorker(codes) {
    const id = ++this.workerId;
    return new Promise((resolve) => {
      this.workerCalls.set(id, resolve);
      this.worker.postMessage({ type: "decode", id, codes }, [codes.buffer]);
    });
  }

  // A point of the plot plane as a full latent code: mean + x * c0 + y * c1 (the identity for 2-D).
  lift(x, y, out = new Float32Array(this.latentDim)) {
    const d = this.latentDim, c = this.components;
    for (let i = 0; i < d; i++) out[i] = this.mean[i] + x * c[i] + y * c[d + i];
    return out;
  }

  project(code) {
    const d = this.latentDim, c = this.components;
    let x = 0, y = 0;
    for (let i = 0; i < d; i++) {
      const v = code[i] - this.mean[i];
      x += v * c[i];
      y += v * c[d + i];
    }
    return [x, y];
  }

  async plot() {
    const data = this.data, colors = data.colors, traces = [];
    if (this.points) {
      const n = this.labels.length;
      const byDigit = Array.from({ length: 10 }, () => ({ x: [], y: [] }));
      this.digitIndex = Array.from({ length: 10 }, () => []); // test images of each digit's trace
      for (let i = 0; i < n; i++) {
        const t = byDigit[this.labels[i]];
        t.x.push(this.points[2 * i]);
        t.y.push(this.points[2 * i + 1]);
        this.digitIndex[this.labels[i]].push(i);
      }
      byDigit.forEach((t, digit) => traces.push({
        type: "scattergl", mode: "markers", name: String(digit), x: t.x, y: t.y, hoverinfo: "none",
        visible: this.hidden.has(digit) ? "legendonly" : true,
        marker: { size: data.marker_size, color: colors[digit], opacity: 0.75 },
      }));
    }
    const [[x0, x1], [y0, y1]] = data.bounds;
    this.home = { x: [x0, x1], y: [y0, y1] };
    const view = this.view || this.home;
    const layout = {
      height: this.plotHeight(), margin: { l: 50, r: 10, t: 30, b: 45 }, font: { size: data.font_size },
      xaxis: { range: view.x.slice(), title: { text: data.axis_titles[0] }, zeroline: false },
      yaxis: { range: view.y.slice(), title: { text: data.axis_titles[1] }, zeroline: false, scaleanchor: "x", scaleratio: 1 },
      // The legend stands at the right, below the modebar and clear of the axis titles.
      legend: { title: { text: "digit" }, orientation: "v", x: 1.01, xanchor: "left", y: 0.92, yanchor: "top",
                itemsizing: "constant", font: { size: data.font_size + 1 } },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      dragmode: "zoom", hovermode: false, showlegend: this.legendFits(),
    };
    // Double clicks are handled here (onDoubleClick): back to the home view, whatever was restored.
    const config = { displaylogo: false, responsive: true, doubleClick: false,
                     modeBarButtonsToRemove: ["select2d", "lasso2d", "toImage", "resetScale2d", "autoScale2d"] };
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
      this.Plotly.relayout(this.gd, { showlegend: this.legendFits(), "xaxis.range": view.x.slice(), "yaxis.range": view.y.slice() });
    }).observe(this.figure);
    this.listen(gd);
    this.indexPoints();
    this.afterViewChange();
    await this.colourPoints();
  }

  // Colour the test images by the reconstruction error the server measured (data.errors: a
  // float32 per image), or by digit again. The worst are drawn last, on top of the crowd.
  async colourPoints() {
    const url = this.data.errors || null;
    if (!this.gd || !this.points || url === this.errorsUrl) return;
    this.errorsUrl = url;
    this.errors = url ? await loadErrors(url) : null;
    if (this.errorsUrl !== url) return; // switched again meanwhile
    const errors = this.errors, traces = this.digitIndex.map((_, digit) => digit);
    const order = this.digitIndex.map((index) => (errors ? index.slice().sort((a, b) => errors[a] - errors[b]) : index));
    const update = {
      x: order.map((index) => index.map((i) => this.points[2 * i])),
      y: order.map((index) => index.map((i) => this.points[2 * i + 1])),
      "marker.color": order.map((index, digit) => (errors ? index.map((i) => errors[i]) : this.data.colors[digit])),
      "marker.opacity": errors ? 0.9 : 0.75,
    };
    if (errors) {
      const sorted = Float32Array.from(errors).sort();
      Object.assign(update, { "marker.cmin": sorted[0], "marker.cmax": sorted[Math.floor(0.99 * (sorted.length - 1))],
                              "marker.colorscale": [ERROR_COLORSCALE] });
    }
    await this.Plotly.restyle(this.gd, update, traces);
    // One colour bar, on a trace of its own (so hiding a digit never hides it), below the legend.
    const bar = this.gd.data.findIndex((t) => t.name === "error");
    if (bar >= 0) await this.Plotly.deleteTraces(this.gd, bar);
    if (errors) {
      await this.Plotly.addTraces(this.gd, {
        type: "scattergl", mode: "markers", name: "error", x: [null], y: [null], showlegend: false, hoverinfo: "none",
        marker: { color: [update["marker.cmin"]], cmin: update["marker.cmin"], cmax: update["marker.cmax"],
                  colorscale: ERROR_COLORSCALE, showscale: true,
                  colorbar: { title: { text: "error", side: "top" }, x: 1.01, xanchor: "left", y: 0, yanchor: "bottom",
                              len: 0.38, thickness: 14, tickformat: ".3f" } },
      });
    }
    this.root.dataset.coloured = errors ? "error" : "digit";
  }

  // The digit legend takes about 80 px: on a narrow plot the points need them more.
  legendFits() {
    return Boolean(this.points) && this.figure.clientWidth >= 520;
  }

  // --- geometry ---------------------------------------------------------------------------

  // The plot area in figure pixels, and the axis ranges now shown.
  frame() {
    const drag = this.gd.querySelector(".nsewdrag");
    if (!drag) return null;
    const box = drag.getBoundingClientRect(), outer = this.figure.getBoundingClientRect();
    const xa = this.gd._fullLayout.xaxis.range, ya = this.gd._fullLayout.yaxis.range;
    return { left: box.left - outer.left, top: box.top - outer.top, width: box.width, height: box.height,
             x: [xa[0], xa[1]], y: [ya[0], ya[1]], box };
  }

  toScreen(f, x, y) {
    return [f.left + ((x - f.x[0]) / (f.x[1] - f.x[0])) * f.width,
            f.top + (1 - (y - f.y[0]) / (f.y[1] - f.y[0])) * f.height];
  }

  toPlot(f, clientX, clientY) {
    const px = clientX - f.box.left, py = clientY - f.box.top;
    if (px < 0 || py < 0 || px > f.width || py > f.height) return null;
    return [f.x[0] + (px / f.width) * (f.x[1] - f.x[0]), f.y[1] - (py / f.height) * (f.y[1] - f.y[0])];
  }

  // A uniform grid over the points, to find the one under the mouse in constant time.
  indexPoints() {
    if (!this.points) return;
    const n = this.labels.length, [[x0, x1], [y0, y1]] = this.data.bounds, cells = 128;
    this.grid = { x0, y0, cw: (x1 - x0) / cells, ch: (y1 - y0) / cells, cells, buckets: new Map() };
    for (let i = 0; i < n; i++) {
      const key = this.cellKey(this.points[2 * i], this.points[2 * i + 1]);
      if (!this.grid.buckets.has(key)) this.grid.buckets.set(key, []);
      this.grid.buckets.get(key).push(i);
    }
  }

  cellKey(x, y) {
    const g = this.grid;
    return Math.floor((x - g.x0) / g.cw) * 100003 + Math.floor((y - g.y0) / g.ch);
  }

  nearestPoint(f, x, y) {
    if (!this.grid) return null;
    const g = this.grid, rx = (NEAR_PX / f.width) * (f.x[1] - f.x[0]), ry = (NEAR_PX / f.height) * (f.y[1] - f.y[0]);
    const cx0 = Math.floor((x - rx - g.x0) / g.cw), cx1 = Math.floor((x + rx - g.x0) / g.cw);
    const cy0 = Math.floor((y - ry - g.y0) / g.ch), cy1 = Math.floor((y + ry - g.y0) / g.ch);
    let best = null, bestDistance = 1;
    for (let cx = cx0; cx <= cx1; cx++)
      for (let cy = cy0; cy <= cy1; cy++) {
        for (const i of g.buckets.get(cx * 100003 + cy) || []) {
          if (this.hidden.has(this.labels[i])) continue;
          const dx = (this.points[2 * i] - x) / rx, dy = (this.points[2 * i + 1] - y) / ry;
          const distance = dx * dx + dy * dy;
          if (distance <= bestDistance) { best = i; bestDistance = distance; }
        }
      }
    return best;
  }

  // --- interaction ------------------------------------------------------------------------

  listen(gd) {
    let down = null;
    gd.addEventListener("mousemove", (event) => this.onMove(event), { passive: true });
    gd.addEventListener("mouseleave", () => this.onLeave(), { passive: true });
    // Plotly covers the page while a button is down (to follow a zoom drag), so the button's
    // release never reaches the plot (nor does a dblclick); the browser's click does, and only
    // when it did not move. Two clicks close in time and place are a double click.
    gd.addEventListener("pointerdown", (event) => { down = { x: event.clientX, y: event.clientY }; }, true);
    gd.addEventListener("click", (event) => {
      if (!down || event.button !== 0) return;
      if (Math.hypot(event.clientX - down.x, event.clientY - down.y) < 5) this.onClick(event);
      down = null;
    }, true);
  }

  onMove(event) {
    const f = this.frame();
    const point = f && this.toPlot(f, event.clientX, event.clientY);
    if (!point) return this.onLeave();
    const index = this.nearestPoint(f, point[0], point[1]);
    if (index !== (this.hover?.index ?? null)) this.broadcast({ type: "hover", index });
    this.hover = { x: point[0], y: point[1], index, stamp: event.timeStamp };
    this.showDecoded(point[0], point[1], index, "hover");
    this.mode?.onHover?.(index, point);
  }

  onLeave() {
    if (this.hover?.index !== null && this.hover?.index !== undefined) this.broadcast({ type: "hover", index: null });
    this.hover = null;
    this.refreshPanel();
    this.mode?.onHover?.(null, null);
  }

  // --- planes linked on one page (Compare): the same test image, the same t ----------------

  broadcast(message) {
    if (!this.data.link_group) return;
    window.dispatchEvent(new CustomEvent(LINK_EVENT, { detail: { ...message, group: this.data.link_group, from: this } }));
  }

  listenToLinkedPlanes() {
    const listener = (event) => {
      const message = event.detail;
      if (!this.root.isConnected) return window.removeEventListener(LINK_EVENT, listener); // unmounted
      if (message.from === this || message.group !== this.data.link_group) return;
      if (message.type === "hover") {
        this.linked = message.index !== null && this.labels && message.index < this.labels.length ? message.index : null;
        this.drawOverlay();
        this.refreshPanel();
      } else if (message.type === "t") {
        this.mode?.setT?.(message.t, true);
      } else if (message.type === "select" && message.index !== null && this.points && this.mode?.name === "explore") {
        const index = message.index;
        this.select({ x: this.points[2 * index], y: this.points[2 * index + 1], index, seq: ++this.seq }, false);
      }
    };
    window.addEventListener(LINK_EVENT, listener);
  }

  onClick(event) {
    const f = this.frame();
    const point = f && this.toPlot(f, event.clientX, event.clientY);
    if (!point) return;
    const last = this.lastClick;
    if (last && event.timeStamp - last.at < DOUBLE_CLICK_MS && Math.hypot(event.clientX - last.cx, event.clientY - last.cy) < 8)
      return this.onDoubleClick();
    const index = this.nearestPoint(f, point[0], point[1]);
    const [x, y] = index === null ? point : [this.points[2 * index], this.points[2 * index + 1]];
    this.lastClick = { at: event.timeStamp, cx: event.clientX, cy: event.clientY, before: this.selected };
    this.select({ x, y, index, seq: ++this.seq }, true);
  }

  onDoubleClick() {
    // A double click resets the zoom and nothing else: undo the selection its first click made.
    this.userView = false;
    this.view = null;
    this.Plotly.relayout(this.gd, { "xaxis.range": this.home.x.slice(), "yaxis.range": this.home.y.slice() });
    const before = this.lastClick?.before;
    this.lastClick = null;
    this.select(before ? { ...before, seq: ++this.seq } : null, true, true);
  }

  // Select a point: marker and image now, the server told (unless this is the server's own pick).
  select(pick, report, undo = false) {
    this.selected = pick;
    this.mode?.onSelect?.(pick, undo);
    this.drawOverlay();
    this.refreshPanel();
    if (report && pick && pick.index !== null) this.broadcast({ type: "select", index: pick.index });
    if (report) {
      const message = pick ? { x: pick.x, y: pick.y, index: pick.index, seq: pick.seq } : { x: null, y: null, index: null, seq: this.seq };
      this.component.setStateValue("click", { ...message, undo });
    }
  }

  // --- the panel --------------------------------------------------------------------------

  // What the panel shows when the mouse is not on the plane.
  refreshPanel() {
    if (this.hover) return;
    if (this.linked !== null && this.linked !== undefined) {
      const i = this.linked;
      this.showDecoded(this.points[2 * i], this.points[2 * i + 1], i, "linked");
      return;
    }
    const rest = this.mode?.restingPoint?.() || this.selected;
    if (rest) this.showDecoded(rest.x, rest.y, rest.index ?? null, "rest", rest.code);
    else {
      this.caption.textContent = this.points ? "Move the mouse over the plane" : "Move the mouse over the plane to decode it";
      this.readout.textContent = "";
      this.original.style.visibility = "hidden";
    }
  }

  showDecoded(x, y, index, why, code = null) {
    const z = code || this.lift(x, y);
    const label = index !== null && this.labels ? this.labels[index] : null;
    this.caption.textContent = index !== null
      ? `test image #${index}: a ${label}${why === "linked" ? " (under the mouse in the other plane)" : ""}`
      : why === "hover" ? "decoded under the mouse" : this.mode?.restingCaption?.() || "decoded at the selected point";
    const where = `z = (${Array.from(this.project(z), (v) => v.toFixed(2)).join(", ")})`;
    const error = index !== null && this.errors ? ` · error ${this.errors[index].toFixed(3)}` : "";
    const note = why === "rest" ? this.mode?.restingReadout?.() : "";
    this.readout.textContent = (note ? `${where}. ${note}` : where) + error;
    this.showOriginal(index);
    this.decodeTo(z, (image) => this.paint(image));
  }

  decodeTo(z, draw) {
    if (!this.heavy) return draw(this.model.decoder.decode(z));
    // Heavy decoders: one request in flight; the newest point waits, older ones are dropped.
    this.pending = { z: Float32Array.from(z), draw };
    if (this.hoverBusy) return;
    const next = () => {
      const job = this.pending;
      this.pending = null;
      if (!job) { this.hoverBusy = false; return; }
      this.hoverBusy = true;
      this.decodeInWorker(job.z).then((images) => { job.draw(images); next(); });
    };
    next();
  }

  paint(image, canvas = this.big) {
    paintDigit(canvas, image, 255, canvas === this.big ? this.bigImage : null);
    if (canvas === this.big) {
      this.big.dataset.renders = String(Number(this.big.dataset.renders) + 1);
      this.big.dataset.paintedAt = String(performance.now());
      if (this.hover) this.big.dataset.hoverLatency = String(performance.now() - this.hover.stamp);
    }
  }

  showOriginal(index) {
    if (index === null || !this.images) {
      this.original.style.visibility = "hidden";
      return;
    }
    paintDigit(this.original.querySelector("canvas"), testImage(this.images, index), 1);
    this.original.querySelector("span").textContent = `test image #${index}`;
    this.original.style.visibility = "visible";
  }

  // --- the overlay and the backdrop -------------------------------------------------------

  // The view to keep: the user's zoom, else the home ranges.
  intendedView() {
    return this.userView && this.view ? this.view : this.home;
  }

  afterViewChange() {
    if (!this.gd) return;
    const f = this.frame();
    if (!f) return;
    if (this.userView) this.view = { x: f.x, y: f.y };
    this.saveSession();
    this.drawOverlay();
    clearTimeout(this.backdropTimer);
    this.backdropTimer = setTimeout(() => this.drawBackdrop(), 120); // once the zoom has settled
  }

  afterLegendChange() {
    this.hidden = new Set(this.gd.data.slice(0, 10).map((t, digit) => (t.visible === "legendonly" ? digit : -1)).filter((d) => d >= 0));
    this.saveSession();
  }

  drawOverlay() {
    const f = this.gd && this.frame();
    if (!f) return;
    const svg = this.overlay;
    svg.setAttribute("width", this.figure.clientWidth);
    svg.setAttribute("height", this.figure.clientHeight);
    svg.replaceChildren();
    const clipId = (this.clipId ||= `lp-clip-${Math.random().toString(36).slice(2)}`);
    const clip = shape("clipPath", { id: clipId });
    clip.appendChild(shape("rect", { x: f.left, y: f.top, width: f.width, height: f.height }));
    const defs = shape("defs", {});
    defs.appendChild(clip);
    const group = shape("g", { "clip-path": `url(#${clipId})` });
    svg.append(defs, group);
    this.mode?.drawOverlay?.(group, f);
    if (this.linked !== null && this.linked !== undefined) {
      const [lx, ly] = this.toScreen(f, this.points[2 * this.linked], this.points[2 * this.linked + 1]);
      group.appendChild(shape("circle", { cx: lx, cy: ly, r: 11, fill: "none", stroke: "#ff7f0e", "stroke-width": 4,
                                          "data-testid": "plane-linked" }));
    }
    if (this.selected && this.mode?.showsSelection !== false) {
      const [sx, sy] = this.toScreen(f, this.selected.x, this.selected.y);
      group.appendChild(shape("circle", { cx: sx, cy: sy, r: 9, fill: "none", stroke: "#d62728", "stroke-width": 3,
                                          "data-testid": "plane-selection" }));
      group.appendChild(shape("path", { d: `M${sx - 14},${sy}h9M${sx + 5},${sy}h9M${sx},${sy - 14}v9M${sx},${sy + 5}v9`,
                                        stroke: "#d62728", "stroke-width": 2 }));
    }
  }

  async drawBackdrop() {
    const f = this.gd && this.frame();
    const canvas = this.backdrop;
    if (!f || !this.backdropOn.checked) {
      canvas.style.display = "none";
      return;
    }
    // Square tiles on screen: `rows` of them down the plot, as many across as fit.
    const rows = this.heavy ? BACKDROP_TILES / 2 : BACKDROP_TILES, d = this.latentDim;
    const columns = Math.max(1, Math.round((rows * f.width) / f.height));
    const codes = new Float32Array(rows * columns * d), z = new Float32Array(d);
    const dx = (f.x[1] - f.x[0]) / columns, dy = (f.y[1] - f.y[0]) / rows;
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < columns; c++)
        codes.set(this.lift(f.x[0] + (c + 0.5) * dx, f.y[1] - (r + 0.5) * dy, z), (r * columns + c) * d);
    const request = (this.backdropRequest = (this.backdropRequest || 0) + 1);
    const images = await this.decodeInWorker(codes);
    if (request !== this.backdropRequest) return; // the view changed meanwhile: a newer one follows
    canvas.width = columns * 28;
    canvas.height = rows * 28;
    const context = canvas.getContext("2d"), picture = context.createImageData(columns * 28, rows * 28);
    for (let tile = 0; tile < rows * columns; tile++) {
      const r = Math.floor(tile / columns), c = tile % columns;
      for (let p = 0; p < PIXELS; p++) {
        const v = Math.round(Math.min(1, Math.max(0, images[tile * PIXELS + p])) * 255);
        const offset = 4 * ((r * 28 + Math.floor(p / 28)) * columns * 28 + c * 28 + (p % 28));
        picture.data[offset] = v; picture.data[offset + 1] = v; picture.data[offset + 2] = v; picture.data[offset + 3] = 255;
      }
    }
    context.putImageData(picture, 0, 0);
    Object.assign(canvas.style, { display: "block", left: `${f.left}px`, top: `${f.top}px`, width: `${f.width}px`,
                                  height: `${f.height}px`, opacity: this.opacity.value });
    canvas.dataset.tiles = `${columns}x${rows}`;
    canvas.dataset.view = JSON.stringify(f.x.concat(f.y));
  }

  // --- state kept across remounts (this tab only) ----------------------------------------

  storageKey() {
    return `latent-plane:${this.data.model.key}`;
  }

  // A shared link (data.url, checked by the server) wins over what this tab remembers.
  restoreSession() {
    let saved = {};
    try { saved = JSON.parse(sessionStorage.getItem(this.storageKey()) || "{}"); } catch { saved = {}; }
    const url = this.data.url || {};
    this.hidden = new Set(url.hide ?? saved.hidden ?? []);
    this.view = url.view ?? saved.view ?? null;
    this.userView = Boolean(this.view);
    this.backdropOn.checked = Boolean(url.backdrop ?? saved.backdrop ?? this.data.backdrop);
    this.opacity.value = String(url.opacity ?? saved.opacity ?? DEFAULT_OPACITY);
    this.backdrop.style.opacity = this.opacity.value;
    this.savedT = url.t ?? saved.t;
  }

  saveSession(extra = {}) {
    if (!this.data) return;
    const state = { hidden: [...(this.hidden || [])], view: this.userView ? this.view : null, backdrop: this.backdropOn.checked,
                    opacity: Number(this.opacity.value), t: this.mode?.t, ...extra };
    try { sessionStorage.setItem(this.storageKey(), JSON.stringify(state)); } catch { /* storage full or off */ }
    clearTimeout(this.urlTimer);
    this.urlTimer = setTimeout(() => this.writeUrl(state), 250);
  }

  // The browser's part of the view, in the address bar (replaced, not pushed: no history entry
  // per zoom). The server reads it from there when a link is opened. Streamlit rewrites the
  // address from the server's copy of the parameters whenever the server changes one; that copy
  // predates these, so they are put back (keepBrowserParameters).
  writeUrl(state) {
    // Only the page this plane is on, while it is on it (a late timer must not write another page's URL).
    if (!this.root.isConnected || window.location.pathname !== this.path) return;
    if (this.data.link_group) return; // two planes on one page would overwrite each other's view
    const view = state.view, zoomed = Boolean(view);
    const values = {
      view: zoomed ? view.x.concat(view.y).map((v) => v.toFixed(4)).join(",") : null,
      hide: state.hidden.length ? state.hidden.join(",") : null,
      bd: state.backdrop ? "1" : null,
      op: Math.abs(state.opacity - DEFAULT_OPACITY) > 1e-9 ? String(state.opacity) : null,
      t: state.t !== undefined && state.t !== null ? state.t.toFixed(3) : null,
    };
    browserParameters.path = window.location.pathname;
    browserParameters.values = values;
    const search = withParameters(window.location.search, values);
    if (search !== window.location.search)
      history.replaceState(history.state, "", `${window.location.pathname}${search}${window.location.hash}`);
  }

  // --- data from the server ---------------------------------------------------------------

  update(data) {
    this.data = data;
    if (!this.gd) return; // start() applies it once the plot exists
    if (!this.mode || this.mode.name !== data.mode) this.mode = makeMode(data.mode, this);
    const server = data.selected;
    if (!server || server.seq >= this.seq) {
      // The server's pick wins unless this page has clicked since (its click is on the way).
      this.seq = Math.max(this.seq, server ? server.seq : 0);
      this.selected = server ? { x: server.x, y: server.y, index: server.index, seq: server.seq } : this.selected;
    }
    this.mode.update(data);
    this.drawOverlay();
    this.refreshPanel();
    this.colourPoints();
  }
}

function shape(name, attributes) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  return element;
}

function label(group, x, y, text, color) {
  const t = shape("text", { x, y, fill: color, "font-size": 18, "font-weight": 700, "text-anchor": "middle",
                            stroke: "#fff", "stroke-width": 3, "paint-order": "stroke" });
  t.textContent = text;
  group.appendChild(t);
}

// --- page-specific behaviour --------------------------------------------------------------

function makeMode(name, plane) {
  const modes = { explore: Explore, interpolate: Interpolate, draw: Draw, sample: Sample };
  return new (modes[name] || Explore)(plane);
}

// Explore draws the selection's details below the plot when the page asks for them (data.details).
class Explore {
  constructor(plane) {
    this.plane = plane;
    this.name = "explore";
    this.details = plane.data.details ? new SelectionDetails(plane) : null;
  }
  update() { this.details?.show(this.plane.selected); }
  onSelect(pick) { this.details?.show(pick); }
  imagesArrived() { this.details?.show(this.plane.selected, true); }
}

class Interpolate {
  constructor(plane) {
    this.plane = plane;
    this.name = "interpolate";
    this.showsSelection = false;
    this.t = plane.savedT ?? 0;
    this.playing = null;
    const extra = plane.extra;
    extra.innerHTML = `
      <div class="lp-player">
        <button type="button" class="lp-play" title="Play A → B → A">▶</button>
        <input type="range" class="lp-t" min="0" max="1" step="0.001" aria-label="interpolation t" data-testid="plane-t">
      </div>
      <div class="lp-ends">
        <figure><canvas width="28" height="28"></canvas><figcaption>A</figcaption></figure>
        <figure><canvas width="28" height="28"></canvas><figcaption>A decoded</figcaption></figure>
        <figure><canvas width="28" height="28"></canvas><figcaption>B</figcaption></figure>
        <figure><canvas width="28" height="28"></canvas><figcaption>B decoded</figcaption></figure>
      </div>`;
    plane.big.before(extra.querySelector(".lp-player")); // t first: it must stay in sight on a projector
    this.slider = plane.root.querySelector(".lp-t");
    this.slider.value = String(this.t);
    this.slider.addEventListener("input", () => this.setT(Number(this.slider.value)));
    this.play = plane.root.querySelector(".lp-play");
    this.play.addEventListener("click", () => this.toggle());
    this.endCanvases = extra.querySelectorAll(".lp-ends canvas");
  }

  update(data) {
    const ends = data.ends, plane = this.plane;
    this.spherical = Boolean(data.spherical);
    this.target = data.target;
    // A click made here moves its endpoint at once; the server's version replaces it on the next rerun.
    this.ends = { A: this.endpoint(ends.A), B: this.endpoint(ends.B) };
    if (data.ends_seq >= plane.seq) this.local = null;
    if (this.local) this.ends[this.local.side] = this.local.end;
    this.path = this.computePath();
    this.paintEnds();
    plane.drawOverlay();
    this.setT(this.t);
  }

  endpoint(end) {
    return { code: Float32Array.from(end.code), index: end.index };
  }

  onSelect(pick, undo) {
    if (!pick || undo) return;
    const plane = this.plane, side = this.target;
    const end = { code: plane.lift(pick.x, pick.y), index: pick.index };
    if (pick.index !== null && plane.latentDim === 2) end.code = Float32Array.of(pick.x, pick.y);
    this.local = { side, end };
    this.ends[side] = end;
    this.target = side === "A" ? "B" : "A";
    this.path = this.computePath();
    this.paintEnds();
    this.setT(this.t);
  }

  code(t) {
    const a = this.ends.A.code, b = this.ends.B.code, d = a.length, out = new Float32Array(d);
    if (t <= 0) return out.set(a), out;
    if (t >= 1) return out.set(b), out;
    if (this.spherical) {
      let na = 0, nb = 0, dot = 0;
      for (let i = 0; i < d; i++) { na += a[i] * a[i]; nb += b[i] * b[i]; dot += a[i] * b[i]; }
      na = Math.sqrt(na); nb = Math.sqrt(nb);
      const cosine = na && nb ? Math.min(1, Math.max(-1, dot / (na * nb))) : 1;
      if (Math.abs(cosine) < 1 - 1e-6) {
        const omega = Math.acos(cosine), s = Math.sin(omega);
        const wa = Math.sin((1 - t) * omega) / s, wb = Math.sin(t * omega) / s, length = na * (1 - t) + nb * t;
        for (let i = 0; i < d; i++) out[i] = (wa * a[i] / na + wb * b[i] / nb) * length;
        return out;
      }
    }
    for (let i = 0; i < d; i++) out[i] = a[i] * (1 - t) + b[i] * t;
    return out;
  }

  computePath() {
    const points = [];
    for (let i = 0; i <= 100; i++) points.push(this.plane.project(this.code(i / 100)));
    return points;
  }

  setT(t, remote = false) {
    this.t = Math.min(1, Math.max(0, t));
    if (!remote) this.plane.broadcast({ type: "t", t: this.t });
    this.slider.value = String(this.t);
    this.plane.saveSession();
    this.plane.overlay.dataset.t = String(this.t);
    this.drawMarker();
    if (!this.plane.hover) this.plane.refreshPanel();
  }

  restingPoint() {
    const code = this.code(this.t), [x, y] = this.plane.project(code);
    return { x, y, index: null, code };
  }

  restingCaption() {
    return `t = ${this.t.toFixed(2)}`;
  }

  toggle() {
    if (this.playing) {
      cancelAnimationFrame(this.playing);
      this.playing = null;
      this.play.textContent = "▶";
      return;
    }
    this.play.textContent = "❚❚";
    let direction = this.t >= 1 ? -1 : 1, last = performance.now();
    const step = (now) => {
      let t = this.t + (direction * (now - last)) / 3000; // A to B in 3 s
      last = now;
      if (t >= 1 || t <= 0) { direction = -direction; t = Math.min(1, Math.max(0, t)); }
      this.setT(t);
      this.playing = requestAnimationFrame(step);
    };
    this.playing = requestAnimationFrame(step);
  }

  drawOverlay(group, f) {
    const plane = this.plane;
    if (!this.path) return;
    const d = this.path.map(([x, y], i) => (i ? "L" : "M") + plane.toScreen(f, x, y).join(",")).join("");
    group.appendChild(shape("path", { d, fill: "none", stroke: "#000", "stroke-width": 3, "data-testid": "plane-path" }));
    for (const [side, color] of [["A", "#d62728"], ["B", "#1f77b4"]]) {
      const [x, y] = plane.project(this.ends[side].code), [sx, sy] = plane.toScreen(f, x, y);
      group.appendChild(shape("circle", { cx: sx, cy: sy, r: 8, fill: color, stroke: "#fff", "stroke-width": 2,
                                          "data-testid": `plane-end-${side}` }));
      label(group, sx, sy - 13, side, color);
    }
    this.marker = shape("path", { d: "", fill: "#ff7f0e", stroke: "#000", "stroke-width": 1.5, "data-testid": "plane-t-marker" });
    group.appendChild(this.marker);
    this.frameUsed = f;
    this.drawMarker();
  }

  drawMarker() {
    if (!this.marker || !this.frameUsed) return;
    const [x, y] = this.plane.project(this.code(this.t)), [sx, sy] = this.plane.toScreen(this.frameUsed, x, y);
    this.marker.setAttribute("d", `M${sx},${sy - 10}L${sx + 10},${sy}L${sx},${sy + 10}L${sx - 10},${sy}Z`);
    this.marker.dataset.x = String(x);
    this.marker.dataset.y = String(y);
    this.marker.dataset.moves = String(Number(this.marker.dataset.moves || 0) + 1);
  }

  paintEnds() {
    const plane = this.plane;
    ["A", "B"].forEach((side, i) => {
      const end = this.ends[side], original = this.endCanvases[2 * i], decoded = this.endCanvases[2 * i + 1];
      plane.decodeTo(end.code, (image) => plane.paint(image, decoded));
      original.parentElement.style.visibility = end.index !== null && plane.images ? "visible" : "hidden";
      if (end.index !== null && plane.images) {
        paintDigit(original, testImage(plane.images, end.index), 1);
        original.nextElementSibling.textContent = `${side}: test #${end.index}`;
      }
    });
  }
}

class Draw {
  constructor(plane) { this.plane = plane; this.name = "draw"; }

  update(data) {
    this.you = data.you; // {x, y} or null
    this.ellipse = data.ellipse; // {center: [x, y], axes: [[dx, dy], [dx, dy]]} (1 sigma, plot units) or null
    this.samples = data.posterior_samples || [];
  }

  restingPoint() {
    return this.you ? { x: this.you[0], y: this.you[1], index: null } : null;
  }

  restingCaption() {
    return "decoded at your drawing's code";
  }

  drawOverlay(group, f) {
    const plane = this.plane;
    for (const [x, y] of this.samples) {
      const [sx, sy] = plane.toScreen(f, x, y);
      group.appendChild(shape("circle", { cx: sx, cy: sy, r: 4, fill: "#fff", stroke: "#000", "stroke-width": 1.5 }));
    }
    if (this.ellipse) this.drawEllipse(group, f);
    if (this.you) {
      const [sx, sy] = plane.toScreen(f, this.you[0], this.you[1]);
      group.appendChild(shape("path", { d: star(sx, sy, 13, 5.5), fill: "#d62728", stroke: "#fff", "stroke-width": 1.5,
                                        "data-testid": "plane-you", "data-x": this.you[0], "data-y": this.you[1] }));
      label(group, sx, sy - 18, "you", "#d62728");
    }
  }

  // The 1-sigma ellipse of the posterior, drawn at least MIN_PX across so it can be seen; when
  // enlarged, it is dashed and labelled with its true size.
  drawEllipse(group, f) {
    const MIN_PX = 26;
    const plane = this.plane, [cx, cy] = this.ellipse.center, axes = this.ellipse.axes;
    const toPx = ([dx, dy]) => [(dx / (f.x[1] - f.x[0])) * f.width, (-dy / (f.y[1] - f.y[0])) * f.height];
    const pixelAxes = axes.map(toPx), lengths = pixelAxes.map(([a, b]) => Math.hypot(a, b));
    const scale = Math.max(1, MIN_PX / (2 * Math.max(...lengths, 1e-9)));
    const [sx, sy] = plane.toScreen(f, cx, cy);
    let d = "";
    for (let i = 0; i <= 64; i++) {
      const angle = (2 * Math.PI * i) / 64, c = Math.cos(angle), s = Math.sin(angle);
      const px = sx + scale * (c * pixelAxes[0][0] + s * pixelAxes[1][0]);
      const py = sy + scale * (c * pixelAxes[0][1] + s * pixelAxes[1][1]);
      d += (i ? "L" : "M") + px + "," + py;
    }
    group.appendChild(shape("path", { d, fill: "rgba(214,39,40,0.08)", stroke: "#d62728", "stroke-width": 2,
                                      "stroke-dasharray": scale > 1 ? "5,3" : "none", "data-testid": "plane-ellipse",
                                      "data-scale": scale }));
    const sizes = axes.map(([a, b]) => Math.hypot(a, b).toFixed(3)).join(" × ");
    this.note = scale > 1
      ? `red: the posterior's 1σ ellipse, drawn ×${scale.toFixed(0)} larger to be seen (true half-axes ${sizes})`
      : `red: the posterior's 1σ ellipse (half-axes ${sizes})`;
    if (scale > 1) label(group, sx, sy + MIN_PX / 2 + 20, `1σ ×${scale.toFixed(0)}`, "#d62728");
  }

  restingReadout() {
    return this.ellipse ? this.note : "";
  }
}

function star(x, y, outer, inner) {
  let d = "";
  for (let i = 0; i < 10; i++) {
    const r = i % 2 ? inner : outer, a = -Math.PI / 2 + (i * Math.PI) / 5;
    d += (i ? "L" : "M") + (x + r * Math.cos(a)) + "," + (y + r * Math.sin(a));
  }
  return d + "Z";
}

class Sample {
  constructor(plane) {
    this.plane = plane;
    this.name = "sample";
    this.highlight = null;
  }

  update(data) {
    const plane = this.plane;
    this.codes = data.sample_codes.map((c) => Float32Array.from(c));
    this.points = this.codes.map((c) => plane.project(c));
    const extra = plane.extra;
    extra.innerHTML = `<div class="lp-caption">${this.codes.length} samples (hover one, or its diamond)</div><div class="lp-samples"></div>`;
    const box = extra.querySelector(".lp-samples");
    this.canvases = this.codes.map((code, i) => {
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 28;
      canvas.dataset.sample = String(i);
      canvas.addEventListener("mouseenter", () => this.setHighlight(i));
      canvas.addEventListener("mouseleave", () => this.setHighlight(null));
      box.appendChild(canvas);
      plane.decodeTo(code, (image) => plane.paint(image, canvas));
      return canvas;
    });
  }

  // The mouse over the plot highlights the sample whose diamond it is on.
  onHover(_index, point) {
    if (!point) return this.setHighlight(null);
    const f = this.plane.frame();
    let best = null, bestDistance = NEAR_PX * NEAR_PX;
    this.points.forEach(([x, y], i) => {
      const [sx, sy] = this.plane.toScreen(f, x, y), [mx, my] = this.plane.toScreen(f, point[0], point[1]);
      const distance = (sx - mx) ** 2 + (sy - my) ** 2;
      if (distance <= bestDistance) { best = i; bestDistance = distance; }
    });
    this.setHighlight(best);
  }

  setHighlight(i) {
    if (i === this.highlight) return;
    this.highlight = i;
    this.canvases.forEach((canvas, j) => canvas.classList.toggle("lp-highlight", j === i));
    this.plane.drawOverlay();
  }

  drawOverlay(group, f) {
    this.points.forEach(([x, y], i) => {
      const [sx, sy] = this.plane.toScreen(f, x, y), r = i === this.highlight ? 10 : 6;
      group.appendChild(shape("path", { d: `M${sx},${sy - r}L${sx + r},${sy}L${sx},${sy + r}L${sx - r},${sy}Z`,
                                        fill: i === this.highlight ? "#ff7f0e" : "#fff", stroke: "#000",
                                        "stroke-width": 2, "data-sample": i }));
    });
  }
}
