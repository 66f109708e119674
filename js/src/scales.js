// Scales of the population view: coordinates to clip space, codes to colours and sizes.
// Codes come from Python (nbperceive.widgets.serializers): continuous columns are quantised
// to 0..254 over [min, max] with 255 = missing; categorical columns are category indices.

export const MISSING = 255;
export const MISSING_COLOR = "#b0b0b0";

// Viridis, sampled at 9 stops (values of the published colormap); interpolated linearly.
const VIRIDIS = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];

// Tableau 10 then a lighter second set, for categories.
export const PALETTE = [
  "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
  "#9c755f", "#bab0ac", "#a0cbe8", "#ffbe7d", "#ff9d9a", "#8cd17d", "#f1ce63", "#d4a6c8",
  "#fabfd2", "#d7b5a6", "#86bcb6", "#499894",
];

// Colours of a True/False column (Tableau's green and red).
export const BOOL_COLORS = { true: "#59a14f", false: "#e15759" };

function hex(rgb) {
  return "#" + rgb.map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
}

/** Colour of t in [0, 1] on viridis, as #rrggbb. */
export function viridis(t) {
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(u));
  const f = u - i;
  return hex(VIRIDIS[i].map((a, k) => a + (VIRIDIS[i + 1][k] - a) * f));
}

/** WCAG relative luminance of #rrggbb. */
export function luminance(color) {
  const v = [1, 3, 5].map((k) => parseInt(color.slice(k, k + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
}

/** WCAG contrast ratio of two #rrggbb colours (1 to 21). */
export function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * The part [t0, t1] of viridis a continuous column is drawn with on `background` (#rrggbb):
 * the widest stretch whose every colour, painted at `opacity` over it, keeps `min` contrast
 * against it, so no point fades into the plot (on a dark theme viridis' dark purple end
 * would, on a light one its yellow end). [0, 1] when all of it does.
 */
export function rampRange(background, min = 3, opacity = 1, steps = 200) {
  const bg = [1, 3, 5].map((k) => parseInt(background.slice(k, k + 2), 16));
  const painted = (color) => hex([1, 3, 5].map((k, j) =>
    parseInt(color.slice(k, k + 2), 16) * opacity + bg[j] * (1 - opacity)));
  const ok = Array.from({ length: steps + 1 },
    (_, k) => contrast(painted(viridis(k / steps)), background) >= min);
  let best = [0, -1], start = -1;
  ok.forEach((good, k) => {
    if (good && start < 0) start = k;
    if (good && k - start > best[1] - best[0]) best = [start, k];
    if (!good) start = -1;
  });
  if (best[1] < 0) return [0, 1]; // no stretch passes (a mid-grey background): all of it
  return [best[0] / steps, best[1] / steps];
}

/** Colour of every code 0..255 for a channel: palette by category, or viridis by value
 * (over `range` of viridis: rampRange). */
export function colorTable(channel, range = [0, 1]) {
  const table = new Array(256).fill(MISSING_COLOR);
  if (channel.kind === "categorical") {
    const cats = channel.categories.map(String);
    if (cats.length === 2 && cats.includes("True") && cats.includes("False")) {
      // a yes/no column ("correct"): False red, True green, whatever their order
      cats.forEach((c, i) => (table[i] = c === "True" ? BOOL_COLORS.true : BOOL_COLORS.false));
      return table;
    }
    channel.categories.forEach((_, i) => {
      if (i < MISSING) table[i] = PALETTE[i % PALETTE.length];
    });
  } else {
    const [t0, t1] = range;
    for (let c = 0; c < MISSING; c++) table[c] = viridis(t0 + ((t1 - t0) * c) / (MISSING - 1));
  }
  return table;
}

/** Point size (px) of every code 0..255: larger code = larger point (bigger = worse for loss). */
export function sizeTable(channel, base = 4) {
  const table = new Array(256).fill(base * 0.6);
  const n = channel.kind === "categorical" ? Math.max(1, channel.categories.length) : MISSING;
  for (let c = 0; c < Math.min(n, MISSING); c++) {
    const t = n === 1 ? 0.5 : c / (n - 1);
    table[c] = base * (0.8 + 2.2 * t);
  }
  return table;
}

/** The value a continuous code stands for (centre of its bin). */
export function codeValue(channel, code) {
  if (code === MISSING) return NaN;
  const [lo, hi] = channel.domain;
  return lo + ((hi - lo) * code) / (MISSING - 1);
}

/** Human label of one code of a channel. */
export function codeLabel(channel, code) {
  if (code === MISSING) return "missing";
  if (channel.kind === "categorical") return String(channel.categories[code]);
  return formatNumber(codeValue(channel, code));
}

/**
 * A number as people read it: `digits` significant digits, never e-notation (6.83e-5 reads
 * "0.0000683", 1234567.8 reads "1,234,568"); below 1e-9 it reads "≈0" (or "≈-0").
 */
export function formatNumber(v, digits = 3) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a < 1e-9) return v < 0 ? "≈-0" : "≈0";
  const r = Number(v.toPrecision(digits));
  if (a >= 10 ** digits) return Math.round(v).toLocaleString("en-US");
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(r))));
  return r.toFixed(Math.min(20, decimals)).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
}

/**
 * Map x, y into regl-scatterplot's clip space [-1, 1], each axis over its own range (the view
 * sets its data aspect ratio to the canvas's, so the points fill whatever box the plot gets
 * and all of them are in view at first draw and after "Reset view"). Non-finite coordinates
 * go far outside the view.
 * `out` ({x, y} of the same length) is filled instead of allocating new arrays.
 */
export function normalizeXY(x, y, margin = 0.05, out = null) {
  const n = x.length;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < n; i++) {
    const a = x[i], b = y[i];
    if (a < x0) x0 = a;
    if (a > x1) x1 = a;
    if (b < y0) y0 = b;
    if (b > y1) y1 = b;
  }
  if (!(x1 >= x0)) { x0 = -1; x1 = 1; }
  if (!(y1 >= y0)) { y0 = -1; y1 = 1; }
  const sx = (2 * (1 - margin)) / (x1 - x0 || 1);
  const sy = (2 * (1 - margin)) / (y1 - y0 || 1);
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const reuse = out && out.x && out.x.length === n && out.y.length === n;
  const nx = reuse ? out.x : new Float32Array(n), ny = reuse ? out.y : new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = (x[i] - cx) * sx, b = (y[i] - cy) * sy;
    nx[i] = Number.isFinite(a) ? a : 10;
    ny[i] = Number.isFinite(b) ? b : 10;
  }
  return { x: nx, y: ny };
}

/** Points to show: `visible` (the legend's, null = all) that are in `only` (null = all),
 * below `n`, ascending. */
export function keepIndices(visible, only, n) {
  if (!only) return visible ?? Array.from({ length: n }, (_, i) => i);
  const inOnly = new Uint8Array(n);
  for (const i of only) if (i < n) inOnly[i] = 1;
  const from = visible ?? Array.from({ length: n }, (_, i) => i);
  return from.filter((i) => inOnly[i]);
}

/** Indices of points whose category code is not hidden (for the legend's toggles). */
export function visibleIndices(codes, hidden) {
  const out = [];
  for (let i = 0; i < codes.length; i++) if (!hidden.has(codes[i])) out.push(i);
  return out;
}

// --- codes kept on the GPU -----------------------------------------------------------------
// regl-scatterplot gives each point two values, z and w (float32, exact up to 2**24). Each
// holds the codes of up to two columns (code_a + 256 * code_b), so colouring or sizing by any
// of up to four columns only swaps a lookup table: no point data is uploaded again.

export const SLOTS = 2; // columns per value (z or w)

/**
 * Which columns go into z and w: the colour and size columns first, then other columns
 * already in the browser, at most two per value. Returns [[z columns], [w columns]].
 */
export function packLayout(color, size, available) {
  const names = [...new Set([color, size, ...available])].filter((c) => c && available.includes(c));
  const picked = names.slice(0, 2 * SLOTS);
  return [picked.slice(0, SLOTS), picked.slice(SLOTS)];
}

/** Where column `name` sits: {value: "valueA" (z) | "valueB" (w), shift, entries} or null. */
export function packedSlot(layout, name) {
  for (let v = 0; v < layout.length; v++) {
    const k = layout[v].indexOf(name);
    if (k >= 0) {
      return { value: v === 0 ? "valueA" : "valueB", shift: 8 * k, entries: 256 ** layout[v].length };
    }
  }
  return null;
}

/** z (or w) of every point: codes[0][i] + 256 * codes[1][i]; fills `out` when it fits. */
export function packCodes(codes, n, out = null) {
  const dst = out && out.length === n ? out : new Float32Array(n);
  const [a, b] = codes;
  if (!a) dst.fill(0);
  else if (!b) for (let i = 0; i < n; i++) dst[i] = a[i];
  else for (let i = 0; i < n; i++) dst[i] = a[i] + 256 * b[i];
  return dst;
}

/** A 256-entry table of one column spread over every packed value: entry v = table[(v >> shift) & 255]. */
export function spreadTable(table, { shift, entries }) {
  const out = new Array(entries);
  for (let v = 0; v < entries; v++) out[v] = table[(v >> shift) & 255];
  return out;
}

/** #rrggbb as [r, g, b, 1] in 0..1 (what regl-scatterplot keeps, so it parses nothing). */
export function rgba(hexColor) {
  const v = parseInt(hexColor.slice(1, 7), 16);
  return [((v >> 16) & 255) / 255, ((v >> 8) & 255) / 255, (v & 255) / 255, 1];
}

/** Points as regl-scatterplot's draw() takes them: [x, y, z, w] each. */
export function pointArrays(x, y, z, w) {
  const out = new Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = [x[i], y[i], z[i], w[i]];
  return out;
}
