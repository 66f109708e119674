// Colormaps as 256-entry RGB lookup tables, built from a few stops by linear interpolation.
const STOPS = {
  jet: ["#000080", "#0000ff", "#0080ff", "#00ffff", "#80ff80", "#ffff00", "#ff8000", "#ff0000", "#800000"],
  viridis: ["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725"],
  inferno: ["#000004", "#1b0c41", "#4a0c6b", "#781c6d", "#a52c60", "#cf4446", "#ed6925", "#fb9b06", "#f7d13d", "#fcffa4"],
  turbo: ["#30123b", "#4145ab", "#4675ed", "#39a2fc", "#1bcfd4", "#24eca6", "#61fc6c", "#a4fc3b",
    "#d1e834", "#f3c63a", "#fe9b2d", "#f36315", "#d93806", "#b11901", "#7a0402"],
  reds: ["#fff5f0", "#fee0d2", "#fcbba1", "#fc9272", "#fb6a4a", "#ef3b2c", "#cb181d", "#a50f15", "#67000d"],
  gray: ["#000000", "#ffffff"],
};

export const COLORMAP_NAMES = Object.keys(STOPS);

function hex(c) {
  return [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
}

const cache = new Map();

/** A Uint8Array(256 * 3) RGB table for `name` (unknown names fall back to inferno). */
export function lut(name) {
  const key = STOPS[name] ? name : "inferno";
  if (cache.has(key)) return cache.get(key);
  const stops = STOPS[key].map(hex);
  const table = new Uint8Array(256 * 3);
  const segments = stops.length - 1;
  for (let i = 0; i < 256; i++) {
    const pos = (i / 255) * segments;
    const k = Math.min(Math.floor(pos), segments - 1);
    const f = pos - k;
    for (let c = 0; c < 3; c++) {
      table[i * 3 + c] = Math.round(stops[k][c] * (1 - f) + stops[k + 1][c] * f);
    }
  }
  cache.set(key, table);
  return table;
}

// Signed maps (code 128 = 0): blue against the label, white at 0, red for it (ColorBrewer's
// RdBu, reversed). Not user-selectable: it only means something for signed maps, which
// always use it, and a sequential map would hide their sign.
const DIVERGING = ["#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7", "#fddbc7", "#f4a582", "#d6604d", "#b2182b"];
export const SIGNED_ZERO = 128; // the code of 0 in a signed map (maps.py SIGNED_ZERO)

let diverging = null;

/** The Uint8Array(256 * 3) RGB table of signed maps: codes below 128 blue, 128 white (0
 * exactly), above red, each half spread over its own codes (1 = -a, 255 = +a). */
export function divergingLut() {
  if (diverging) return diverging;
  const stops = DIVERGING.map(hex);
  const mid = (stops.length - 1) / 2;
  diverging = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i <= SIGNED_ZERO ? (Math.max(i, 1) - 1) / (SIGNED_ZERO - 1) * mid
      : mid + (i - SIGNED_ZERO) / (255 - SIGNED_ZERO) * mid;
    const k = Math.min(Math.floor(t), stops.length - 2);
    const f = t - k;
    for (let c = 0; c < 3; c++) {
      diverging[i * 3 + c] = Math.round(stops[k][c] * (1 - f) + stops[k + 1][c] * f);
    }
  }
  return diverging;
}

/** CSS rgb() of the colour for a weight 0..255. */
export function cssColor(table, w) {
  const i = Math.max(0, Math.min(255, Math.round(w))) * 3;
  return `rgb(${table[i]}, ${table[i + 1]}, ${table[i + 2]})`;
}
