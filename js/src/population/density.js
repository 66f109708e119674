// Point density on a grid and its contour lines, for the scatter's "structure" overlay (as
// embedding-atlas draws its density contours). Pure functions, no DOM: points are binned on a
// G×G grid over the plot's data square [-1, 1]² (O(N)), the counts smoothed by three box blurs
// (≈ a Gaussian, O(G²) whatever N), contours traced by marching squares over the grid.

export const GRID = 128; // cells per side: a 1M-point plot bins in a few ms

/** Counts of points (x, y in [-1, 1]) per cell of a size×size grid, row 0 at y = -1. */
export function binPoints(x, y, size = GRID) {
  const counts = new Float32Array(size * size);
  const n = Math.min(x.length, y.length);
  const s = size / 2;
  for (let i = 0; i < n; i++) {
    const c = Math.floor((x[i] + 1) * s), r = Math.floor((y[i] + 1) * s);
    if (c >= 0 && c < size && r >= 0 && r < size) counts[r * size + c] += 1;
    else if (Number.isFinite(x[i]) && Number.isFinite(y[i])) {
      counts[Math.min(size - 1, Math.max(0, r)) * size + Math.min(size - 1, Math.max(0, c))] += 1;
    }
  }
  return counts;
}

// One box blur of radius r along rows (step 1) or columns (step size), in place via `tmp`.
function boxPass(src, dst, size, r, alongRows) {
  const w = 2 * r + 1;
  for (let line = 0; line < size; line++) {
    const at = (k) => (alongRows ? line * size + k : k * size + line);
    let sum = 0;
    for (let k = -r; k <= r; k++) if (k >= 0 && k < size) sum += src[at(k)];
    for (let k = 0; k < size; k++) {
      dst[at(k)] = sum / w;
      const out = k - r, inn = k + r + 1;
      if (out >= 0) sum -= src[at(out)];
      if (inn < size) sum += src[at(inn)];
    }
  }
}

/** The grid smoothed by three box blurs of radius r in each direction (≈ Gaussian, σ ≈ r). */
export function blur(values, size, r = 2) {
  let a = Float32Array.from(values), b = new Float32Array(values.length);
  for (let pass = 0; pass < 3; pass++) {
    boxPass(a, b, size, r, true);
    boxPass(b, a, size, r, false);
  }
  return a;
}

/** The blur radius in cells for n points: a kernel density's bandwidth shrinks as
 * n^(-1/6) (Scott's rule, halved for several clusters, the spread of a fitted layout ≈ 0.4):
 * 4 cells for 1,000 points, 1 for a million, on the default grid. */
export function bandwidth(n, size = GRID) {
  return Math.max(1, Math.round(0.5 * 0.4 * (size / 2) * Math.max(1, n) ** (-1 / 6)));
}

/** {size, values, max}: the smoothed density of the points (points per cell). */
export function densityGrid(x, y, size = GRID, radius = bandwidth(x.length, size)) {
  const values = blur(binPoints(x, y, size), size, radius);
  let max = 0;
  for (const v of values) if (v > max) max = v;
  return { size, values, max };
}

/** `count` density levels between the sparse fringe and the peak (geometric: the
 * populous core and the faint outskirts both get lines). */
export function contourLevels(max, count = 5, lowest = 0.04) {
  if (!(max > 0)) return [];
  const out = [];
  for (let k = 0; k < count; k++) out.push(max * lowest ** (1 - k / Math.max(1, count - 1)) * 0.9);
  return out;
}

// Cell corner (column c, row r) of the grid in data coordinates.
const cx = (c, size) => (c / size) * 2 - 1 + 1 / size;
const cy = (r, size) => (r / size) * 2 - 1 + 1 / size;

/**
 * Marching squares: the segments where the density crosses `level`, as one SVG path
 * ("M x y L x y" per segment) in data coordinates (y up, as the points are), and their count.
 */
export function contourPath(grid, level) {
  const { size, values } = grid;
  const parts = [];
  let segments = 0;
  const f = (v) => v.toFixed(4);
  for (let r = 0; r < size - 1; r++) {
    for (let c = 0; c < size - 1; c++) {
      const a = values[r * size + c], b = values[r * size + c + 1];
      const d = values[(r + 1) * size + c], e = values[(r + 1) * size + c + 1];
      const code = (a >= level ? 1 : 0) | (b >= level ? 2 : 0) | (e >= level ? 4 : 0) | (d >= level ? 8 : 0);
      if (code === 0 || code === 15) continue;
      // crossing points on the four edges (linear interpolation), in cell units
      const t = (p, q) => (level - p) / (q - p || 1e-12);
      const bottom = [c + t(a, b), r], right = [c + 1, r + t(b, e)];
      const top = [c + t(d, e), r + 1], left = [c, r + t(a, d)];
      const pairs = {
        1: [[left, bottom]], 2: [[bottom, right]], 3: [[left, right]], 4: [[right, top]],
        5: [[left, top], [bottom, right]], 6: [[bottom, top]], 7: [[left, top]],
        8: [[top, left]], 9: [[top, bottom]], 10: [[top, right], [left, bottom]],
        11: [[top, right]], 12: [[right, left]], 13: [[right, bottom]], 14: [[bottom, left]],
      }[code];
      for (const [p, q] of pairs) {
        parts.push(`M${f(cx(p[0], size))} ${f(cy(p[1], size))}L${f(cx(q[0], size))} ${f(cy(q[1], size))}`);
        segments += 1;
      }
    }
  }
  return { d: parts.join(""), segments };
}
