// The SVG layer over the plot: markers, paths and ellipses move without redrawing 10,000 points.

const SVG = "http://www.w3.org/2000/svg";

export function shape(name, attributes) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  return element;
}

export function label(group, x, y, text, color) {
  const t = shape("text", { x, y, fill: color, "font-size": 18, "font-weight": 700, "text-anchor": "middle",
                            stroke: "#fff", "stroke-width": 3, "paint-order": "stroke" });
  t.textContent = text;
  group.appendChild(t);
}

export function star(x, y, outer, inner) {
  let d = "";
  for (let i = 0; i < 10; i++) {
    const r = i % 2 ? inner : outer, a = -Math.PI / 2 + (i * Math.PI) / 5;
    d += (i ? "L" : "M") + (x + r * Math.cos(a)) + "," + (y + r * Math.sin(a));
  }
  return d + "Z";
}

// Redraw the overlay: the mode's drawing, the test image under the pointer in a linked plane, the
// selection's cross-hair and the keyboard's cursor; everything clipped to the plot area.
export function drawOverlay(plane) {
  const f = plane.gd && plane.frame();
  if (!f) return;
  const svg = plane.overlay;
  svg.setAttribute("width", plane.figure.clientWidth);
  svg.setAttribute("height", plane.figure.clientHeight);
  svg.replaceChildren();
  const clipId = (plane.clipId ||= `lp-clip-${Math.random().toString(36).slice(2)}`);
  const clip = shape("clipPath", { id: clipId });
  clip.appendChild(shape("rect", { x: f.left, y: f.top, width: f.width, height: f.height }));
  const defs = shape("defs", {});
  defs.appendChild(clip);
  const group = shape("g", { "clip-path": `url(#${clipId})` });
  svg.append(defs, group);
  plane.mode?.drawOverlay(group, f);
  if (plane.linked !== null && plane.linked !== undefined) {
    const [lx, ly] = plane.toScreen(f, plane.points[2 * plane.linked], plane.points[2 * plane.linked + 1]);
    group.appendChild(shape("circle", { cx: lx, cy: ly, r: 11, fill: "none", stroke: "#ff7f0e", "stroke-width": 4,
                                        "data-testid": "plane-linked" }));
  }
  if (plane.selected && plane.mode?.showsSelection) {
    const [sx, sy] = plane.toScreen(f, plane.selected.x, plane.selected.y);
    group.appendChild(shape("circle", { cx: sx, cy: sy, r: 9, fill: "none", stroke: "#d62728", "stroke-width": 3,
                                        "data-testid": "plane-selection" }));
    group.appendChild(shape("path", { d: `M${sx - 14},${sy}h9M${sx + 5},${sy}h9M${sx},${sy - 14}v9M${sx},${sy + 5}v9`,
                                      stroke: "#d62728", "stroke-width": 2 }));
  }
  if (plane.cursor && document.activeElement === plane.figure) {
    const [cx, cy] = plane.toScreen(f, plane.cursor[0], plane.cursor[1]);
    group.appendChild(shape("circle", { cx, cy, r: 12, fill: "none", stroke: "#fff", "stroke-width": 5 }));
    group.appendChild(shape("circle", { cx, cy, r: 12, fill: "none", stroke: "#111", "stroke-width": 2.5,
                                        "data-testid": "plane-cursor" }));
  }
}
