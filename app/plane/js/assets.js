// The large files the plane fetches, each once per page: plotly.js, a model's decoder with its test
// codes, the test images, reconstruction errors, and the plane's own stylesheet.

import { createDecoder, parseAsset } from "./model/decoder.js";

const loaded = new Map(); // url -> promise, shared by every plane on the page

function once(key, make) {
  if (!loaded.has(key)) loaded.set(key, make());
  return loaded.get(key);
}

export function absolute(url) {
  return new URL(url, document.baseURI).href;
}

// A published file's body. The large ones are published gzipped (`.gz`, see
// app/plane/publish.py) and decompressed here, so the server never compresses them per request.
async function fetchBody(url) {
  const response = await fetch(absolute(url));
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return url.endsWith(".gz") ? new Response(response.body.pipeThrough(new DecompressionStream("gzip"))) : response;
}

// plotly.js from the installed plotly package, loaded once per page. It is evaluated with a
// `module` in scope, so it hands itself over instead of relying on a global; the `window.Plotly`
// it sets anyway is put back as it was (Streamlit's own charts may have set one).
export function loadPlotly(url) {
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

export function loadModel(url) {
  return once(url, async () => {
    const buffer = await (await fetchBody(url)).arrayBuffer();
    const { header, arrays } = parseAsset(buffer);
    return { header, arrays, buffer, decoder: createDecoder(header, arrays.weights) };
  });
}

export function loadImages(url) {
  return once(url, async () => new Uint8Array(await (await fetchBody(url)).arrayBuffer()));
}

export function loadErrors(url) {
  return once(url, async () => new Float32Array(await (await fetchBody(url)).arrayBuffer()));
}

// The plane's stylesheet, in the page's head once; resolves when it applies.
export function loadStyles(url) {
  return once(url, () => new Promise((resolve) => {
    const link = Object.assign(document.createElement("link"), { rel: "stylesheet", href: url });
    link.dataset.latentPlane = "styles";
    link.onload = link.onerror = () => resolve();
    document.head.appendChild(link);
  }));
}
