// How the population view's points reach regl-scatterplot: the columns' codes packed into
// its z and w attributes, the colour and size tables that read them, the coordinates in clip
// space with their KD-tree. Functions of the view's `state` and the widget `model`.
import { decodeArray } from "../codecs.js";
import { spatialIndex } from "./renderer.js";
import {
  PALETTE, colorTable, normalizeXY, packCodes, packedSlot, rgba, sizeTable, spreadTable,
} from "../scales.js";

/** A population view's drawing state before its first draw: the points in clip space, the
 * decoded channels, what the GPU holds (layout, packed codes, z, w), hidden legend codes. */
export function viewState() {
  return {
    n: 0,
    x: null,
    y: null,
    channels: {},
    hidden: new Set(),
    drawn: false,
    draws: 0,
    shown: null, // 1 for each drawn point while a legend toggle or only_marked hides some
    layout: [[], []], // columns whose codes z and w hold (packLayout)
    packed: new Map(), // column -> the codes array packed into z or w
    z: null,
    w: null,
    ramp: [0, 1], // the stretch of viridis with 3:1 contrast on the plot's background
  };
}

/** The widget's `channels` trait with each column's codes decoded. */
export function decodeChannels(raw) {
  const out = {};
  for (const [name, ch] of Object.entries(raw || {})) {
    out[name] = { ...ch, codes: decodeArray(ch.codes) };
  }
  return out;
}

/** The channel (decoded codes and scale) of the column the trait `name` picks (color, size). */
export function currentChannel(state, model, name) {
  return state.channels[model.get(name)];
}

// The codes regl-scatterplot holds (z, w: see packLayout): a recolour or resize by a column
// among them only swaps lookup tables (one redraw); anything else uploads the points again.
export function resident(state, layout, ...names) {
  return names.every((name) => {
    const ch = name && state.channels[name];
    return !ch || (packedSlot(layout, name) && state.packed.get(name) === ch.codes);
  });
}

export function encodingSettings(state, model, layout) {
  const c = currentChannel(state, model, "color");
  const s = currentChannel(state, model, "size");
  const base = model.get("point_size");
  const cs = c && packedSlot(layout, model.get("color"));
  const ss = s && packedSlot(layout, model.get("size"));
  const colors = cs ? colorTable(c, state.ramp).map(rgba) : [rgba(PALETTE[0])];
  const sizes = ss ? spreadTable(sizeTable(s, base), ss) : [base];
  // regl-scatterplot compares a new size table with the old one as a *set* of values, so a
  // table that only moved (same sizes, other slot) would be ignored: a last entry, never
  // looked up, tells the slots apart.
  if (ss) sizes.push(1e-6 * (1 + ss.shift + (ss.value === "valueB" ? 16 : 0)));
  return {
    colorBy: cs ? cs.value : null,
    pointColor: cs ? spreadTable(colors, cs) : colors,
    sizeBy: ss ? ss.value : null,
    pointSize: sizes,
  };
}

export function packFor(state, layout) {
  state.packed = new Map(layout.flat().map((name) => [name, state.channels[name].codes]));
  const codes = (names) => names.map((name) => state.channels[name].codes);
  state.z = packCodes(codes(layout[0]), state.n, state.z);
  state.w = packCodes(codes(layout[1]), state.n, state.w);
}

// Coordinates in clip space and their KD-tree (a promise: a worker builds it for large sets).
export function placePoints(state, rawX, rawY) {
  const xs = decodeArray(rawX) || new Float32Array(0);
  const ys = decodeArray(rawY) || new Float32Array(0);
  const n = Math.min(xs.length, ys.length);
  // refill the arrays of the last draw (regl-scatterplot keeps its own copy of the points)
  const reuse = state.x && state.x.length === n ? { x: state.x, y: state.y } : null;
  const { x, y } = normalizeXY(xs.subarray(0, n), ys.subarray(0, n), 0.05, reuse);
  return { rawX, rawY, n, x, y, indexing: n ? spatialIndex(x, y) : undefined };
}
