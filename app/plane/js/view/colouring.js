// Colouring the test images by the reconstruction error the server measured (data.mode.errors: a
// float32 per image), or by digit again. The worst are drawn last, on top of the crowd.

import { loadErrors } from "../assets.js";

// Low to high: pale to dark red, so the images a model finds unusual stand out.
const ERROR_COLORSCALE = [[0, "#cfdde9"], [0.45, "#f2b880"], [0.75, "#d6604d"], [1, "#67001f"]];

export async function colourPoints(plane, url) {
  if (!plane.gd || !plane.points || url === plane.errorsUrl) return;
  plane.errorsUrl = url;
  const errors = url ? await loadErrors(url) : null;
  if (plane.errorsUrl !== url) return; // switched again meanwhile
  plane.errors = errors;
  const { Plotly, gd, digitIndex, points } = plane, traces = digitIndex.map((_, digit) => digit);
  const order = digitIndex.map((index) => (errors ? index.slice().sort((a, b) => errors[a] - errors[b]) : index));
  const update = {
    x: order.map((index) => index.map((i) => points[2 * i])),
    y: order.map((index) => index.map((i) => points[2 * i + 1])),
    "marker.color": order.map((index, digit) => (errors ? index.map((i) => errors[i]) : plane.data.colors[digit])),
    "marker.opacity": errors ? 0.9 : 0.75,
  };
  if (errors) {
    const sorted = Float32Array.from(errors).sort();
    Object.assign(update, { "marker.cmin": sorted[0], "marker.cmax": sorted[Math.floor(0.99 * (sorted.length - 1))],
                            "marker.colorscale": [ERROR_COLORSCALE] });
  }
  await Plotly.restyle(gd, update, traces);
  // One colour bar, on a trace of its own (so hiding a digit never hides it), below the legend.
  const bar = gd.data.findIndex((t) => t.name === "error");
  if (bar >= 0) await Plotly.deleteTraces(gd, bar);
  if (errors) {
    await Plotly.addTraces(gd, {
      type: "scattergl", mode: "markers", name: "error", x: [null], y: [null], showlegend: false, hoverinfo: "none",
      marker: { color: [update["marker.cmin"]], cmin: update["marker.cmin"], cmax: update["marker.cmax"],
                colorscale: ERROR_COLORSCALE, showscale: true,
                colorbar: { title: { text: "error", side: "top" }, x: 1.01, xanchor: "left", y: 0, yanchor: "bottom",
                            len: 0.38, thickness: 14, tickformat: ".3f" } },
    });
  }
  plane.root.dataset.coloured = errors ? "error" : "digit";
}
