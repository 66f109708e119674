// Where the cluster labels go on screen: each at its cluster's centre when it fits, else moved
// the least distance that keeps it off every label placed before it (biggest cluster first)
// and inside the plot; structure.js draws a leader line to the centre of a moved one. Pure:
// boxes in CSS px, no DOM.

/** Whether boxes a and b ([left, top, right, bottom]) overlap, `gap` px apart counting as touching. */
export function overlaps(a, b, gap = 0) {
  return a[0] < b[2] + gap && b[0] < a[2] + gap && a[1] < b[3] + gap && b[1] < a[3] + gap;
}

/**
 * Places labels `items` ([{x, y, w, h}]: the anchor, a cluster's centre on screen, and the
 * label's size), earlier ones first, in a `width` x `height` plot. Each gets its centre
 * {x, y, moved} — the anchor when that box is free (pulled in at the plot's edge) — else the nearest free centre found on
 * rings around the anchor up to `maxShift` px away; no two placed boxes come within `gap` px
 * and every box lies inside the plot. A label with no free place within `maxShift` (a plot
 * too small for all of them, or a crowd), or whose anchor is off the plot, is null: the caller leaves it out, never on top of
 * another.
 */
export function placeLabels(items, width, height, { gap = 2, maxShift = 120, step = 4, directions = 16 } = {}) {
  const boxes = [];
  const box = (x, y, w, h) => [x - w / 2, y - h / 2, x + w / 2, y + h / 2];
  const inside = (b) => b[0] >= 0 && b[1] >= 0 && b[2] <= width && b[3] <= height;
  const free = (b) => inside(b) && !boxes.some((q) => overlaps(b, q, gap));
  // the anchor pulled into the plot, so a label at the edge starts where it could fit
  const clamp = (v, half, size) => Math.min(Math.max(v, half), size - half);
  return items.map(({ x, y, w, h }) => {
    // a cluster off screen (panned or zoomed away) has no label; nor one wider than the plot
    if (!(x >= 0 && x <= width && y >= 0 && y <= height) || !(w <= width && h <= height)) return null;
    const cx = clamp(x, w / 2, width), cy = clamp(y, h / 2, height);
    let best = null;
    for (let r = 0; r <= maxShift && !best; r += step) {
      const n = r === 0 ? 1 : directions;
      let bestD = Infinity;
      for (let k = 0; k < n; k++) {
        // labels are wide: search an ellipse (shifts up and down cost less than sideways)
        const t = (2 * Math.PI * k) / n;
        const px = cx + r * Math.cos(t) * 1.6, py = cy + r * Math.sin(t) * 0.8;
        const b = box(px, py, w, h);
        const d = Math.hypot(px - x, py - y);
        if (d <= maxShift && d < bestD && free(b)) [best, bestD] = [{ x: px, y: py, b }, d];
      }
    }
    if (!best) return null;
    boxes.push(best.b);
    const moved = Math.hypot(best.x - x, best.y - y) > 0.5;
    return { x: best.x, y: best.y, moved };
  });
}
