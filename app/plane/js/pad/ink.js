// The drawing's strokes and how they are painted: white round strokes on black, in the pad's bitmap
// coordinates (a square of `side` pixels, whatever size it is shown at). The same painting serves
// the stroke being drawn and a redraw from the strokes (undo, a remount), so the picture sent to
// the server is always the one on screen.
//
// A stroke is a flat array [x0, y0, x1, y1, ...]; a stroke of one point is a dot.

const MAX_POINTS = 4000; // per stroke: a pen held down for minutes stops adding points, not memory
const MIN_STEP = 0.5; // bitmap pixels: closer points add nothing to a 20-pixel brush

export function paintBlank(ctx, side) {
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, side, side);
}

export function paintStroke(ctx, points, width) {
  if (points.length < 2) return;
  ctx.save();
  ctx.strokeStyle = ctx.fillStyle = "#fff";
  ctx.lineWidth = width;
  ctx.lineCap = ctx.lineJoin = "round";
  ctx.beginPath();
  if (points.length === 2) {
    // A zero-length path is not stroked at all (canvas spec): a tap is drawn as a disc.
    ctx.arc(points[0], points[1], width / 2, 0, 2 * Math.PI);
    ctx.fill();
  } else {
    ctx.moveTo(points[0], points[1]);
    for (let i = 2; i < points.length; i += 2) ctx.lineTo(points[i], points[i + 1]);
    ctx.stroke();
  }
  ctx.restore();
}

// Add a point (bitmap coordinates) to a stroke; false when it adds nothing. Points are rounded to a
// tenth of a pixel when added, so a stroke restored from storage paints exactly as it was drawn.
export function addPoint(stroke, x, y, side) {
  const px = Math.round(Math.min(Math.max(x, 0), side) * 10) / 10;
  const py = Math.round(Math.min(Math.max(y, 0), side) * 10) / 10;
  const n = stroke.length;
  if (n >= 2 * MAX_POINTS) return false;
  if (n && Math.hypot(px - stroke[n - 2], py - stroke[n - 1]) < MIN_STEP) return false;
  stroke.push(px, py);
  return true;
}

// What this tab remembers of a pad (sessionStorage): its strokes and the number of its last change.
export function restore(storageKey, side) {
  try {
    const saved = JSON.parse(sessionStorage.getItem(storageKey) || "null");
    const fine = (s) => Array.isArray(s) && s.length >= 2 && s.length % 2 === 0
      && s.every((v) => typeof v === "number" && v >= 0 && v <= side);
    if (saved && Number.isInteger(saved.seq) && saved.seq >= 0 && Array.isArray(saved.strokes)
        && saved.strokes.every(fine)) return { strokes: saved.strokes, seq: saved.seq };
  } catch { /* storage off, or a value written by something else: start empty */ }
  return { strokes: [], seq: 0 };
}

export function save(storageKey, strokes, seq) {
  try { sessionStorage.setItem(storageKey, JSON.stringify({ strokes, seq })); } catch { /* full or off */ }
}
