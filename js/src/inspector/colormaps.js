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

/** CSS rgb() of the colour for a weight 0..255. */
export function cssColor(table, w) {
  const i = Math.max(0, Math.min(255, Math.round(w))) * 3;
  return `rgb(${table[i]}, ${table[i + 1]}, ${table[i + 2]})`;
}
