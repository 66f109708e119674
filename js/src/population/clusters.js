// Clusters of the scatter found on its density grid (density.js), each summed up in a label
// as embedding-atlas labels its clusters: here by what a model's user asks of a group of
// samples — which class dominates it, how often the model is right there, how many they are.
// Pure functions, no DOM; all in the page, so a saved page without a kernel shows them too.
//
// A cluster is a density peak and the cells that climb to it (steepest ascent over the
// 8 neighbours, O(G²)), peaks split only by a shallow dip merged; cells below `floor` of the
// peak density belong to none. Points take their cell's cluster (O(N)).

/** Int32Array: each cell's cluster id (-1 below the floor), and the number of clusters. */
export function climb(grid, floor = 0.05, mergeAt = 0.75) {
  const { size, values, max } = grid;
  const n = size * size;
  const up = new Int32Array(n);
  const min = max * floor;
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const i = r * size + c;
      if (!(values[i] >= min) || !(values[i] > 0)) {
        up[i] = -1;
        continue;
      }
      let best = i;
      for (let dr = -1; dr <= 1; dr++) {
        for (let dc = -1; dc <= 1; dc++) {
          const rr = r + dr, cc = c + dc;
          if (rr < 0 || rr >= size || cc < 0 || cc >= size) continue;
          const j = rr * size + cc;
          if (values[j] > values[best]) best = j;
        }
      }
      up[i] = best;
    }
  }
  // follow each cell's path to its peak (paths only go uphill: no cycles)
  const peakId = new Map();
  const cell = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    if (up[i] < 0) continue;
    let p = i;
    while (up[p] !== p) p = up[p];
    if (!peakId.has(p)) peakId.set(p, peakId.size);
    cell[i] = peakId.get(p);
  }
  return merge(grid, cell, peakId, mergeAt);
}

// Peaks split by a shallow dip are one cluster: two neighbouring clusters merge when the
// highest density on their border (the saddle) is at least `ratio` of the lower peak
// (persistence, highest saddles first, union-find). Ids are then renumbered 0..count-1.
function merge(grid, cell, peakId, ratio) {
  const { size, values } = grid;
  const peaks = new Float64Array(peakId.size);
  for (const [p, id] of peakId) peaks[id] = values[p];
  const saddles = new Map();
  const border = (i, j) => {
    const a = cell[i], b = cell[j];
    if (a < 0 || b < 0 || a === b) return;
    const key = a < b ? a * peaks.length + b : b * peaks.length + a;
    const s = Math.min(values[i], values[j]);
    if (!(saddles.get(key) >= s)) saddles.set(key, s);
  };
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const i = r * size + c;
      if (c + 1 < size) border(i, i + 1);
      if (r + 1 < size) border(i, i + size);
    }
  }
  const parent = Int32Array.from(peaks.keys());
  const top = Float64Array.from(peaks);
  const find = (a) => {
    while (parent[a] !== a) a = parent[a] = parent[parent[a]];
    return a;
  };
  const order = Array.from(saddles).sort((p, q) => q[1] - p[1]);
  for (const [key, s] of order) {
    const a = find(Math.floor(key / peaks.length)), b = find(key % peaks.length);
    if (a === b || s < ratio * Math.min(top[a], top[b])) continue;
    const [keep, drop] = top[a] >= top[b] ? [a, b] : [b, a];
    parent[drop] = keep;
  }
  const ids = new Map();
  for (let i = 0; i < cell.length; i++) {
    if (cell[i] < 0) continue;
    const root = find(cell[i]);
    if (!ids.has(root)) ids.set(root, ids.size);
    cell[i] = ids.get(root);
  }
  return { cell, count: ids.size };
}

/** Each point's cluster (-1: in no cluster), from the cells' ids. */
export function assignPoints(x, y, cell, size) {
  const n = Math.min(x.length, y.length);
  const out = new Int32Array(n);
  const s = size / 2;
  for (let i = 0; i < n; i++) {
    const c = Math.min(size - 1, Math.max(0, Math.floor((x[i] + 1) * s)));
    const r = Math.min(size - 1, Math.max(0, Math.floor((y[i] + 1) * s)));
    out[i] = Number.isFinite(x[i]) && Number.isFinite(y[i]) ? cell[r * size + c] : -1;
  }
  return out;
}

// Whether a category of a "correct" channel means right (True / 1).
const RIGHT = new Set(["true", "1", "1.0", "yes"]);

/**
 * The clusters as [{id, size, x, y, dominant, share, accuracy}], largest first; those under
 * `minShare` of the points are left out. `label` and `correct` are categorical channels
 * ({codes, categories}) or null; `names` the class names (index -> name) or [].
 * (x, y) is the cluster's centre: the mean of its points.
 */
export function summarize(assign, x, y, count, { label = null, correct = null, names = [], minShare = 0.01 } = {}) {
  const size = new Float64Array(count), sx = new Float64Array(count), sy = new Float64Array(count);
  const right = new Float64Array(count), judged = new Float64Array(count);
  const k = label ? label.categories.length : 0;
  const byLabel = new Float64Array(count * Math.max(1, k));
  const rightCodes = correct ? correct.categories.map((c) => RIGHT.has(String(c).toLowerCase())) : [];
  let total = 0;
  for (let i = 0; i < assign.length; i++) {
    const a = assign[i];
    if (a < 0) continue;
    total += 1;
    size[a] += 1;
    sx[a] += x[i];
    sy[a] += y[i];
    if (label) {
      const code = label.codes[i];
      if (code < k) byLabel[a * k + code] += 1;
    }
    if (correct) {
      const code = correct.codes[i];
      if (code < rightCodes.length) {
        judged[a] += 1;
        if (rightCodes[code]) right[a] += 1;
      }
    }
  }
  const out = [];
  const n = assign.length;
  for (let a = 0; a < count; a++) {
    if (!size[a] || size[a] < minShare * n) continue;
    const c = { id: a, size: size[a], x: sx[a] / size[a], y: sy[a] / size[a],
      dominant: null, share: null, accuracy: judged[a] ? right[a] / judged[a] : null };
    if (label) {
      let best = -1, most = 0;
      for (let j = 0; j < k; j++) if (byLabel[a * k + j] > most) [best, most] = [j, byLabel[a * k + j]];
      if (best >= 0) {
        const cat = label.categories[best];
        const index = Number(cat);
        c.dominant = Number.isInteger(index) && names[index] !== undefined ? String(names[index]) : String(cat);
        c.share = most / size[a];
      }
    }
    out.push(c);
  }
  out.sort((p, q) => q.size - p.size || p.id - q.id);
  return out;
}

/** The label's text: "cat 92% · acc 88% · 312" (what dominates, how right, how many). */
export function clusterText(c) {
  const parts = [];
  if (c.dominant !== null) parts.push(`${c.dominant} ${Math.round(c.share * 100)}%`);
  if (c.accuracy !== null) parts.push(`acc ${Math.round(c.accuracy * 100)}%`);
  parts.push(c.size.toLocaleString("en-US"));
  return parts.join(" · ");
}
