// The Inspector's shaping of binary trait values (decoded by codecs.js) and its pixel arithmetic.
// Pure functions: no DOM, so they are unit-tested in node.

import { decodeArray } from "../codecs.js";

/** {view, dtype, shape} -> {data: TypedArray, shape}: codecs.js's decodeArray (page-byte
 * references, quantised ranges, alignment copies) with the shape kept beside the values. */
export function decode(value) {
  if (!value || value.view === undefined) throw new Error("missing binary array");
  const data = decodeArray(value);
  return { data, shape: (value.shape || [data.length]).map(Number) };
}

/** One map (input axes only) out of (L, K, *axes) heatmaps, as a view (no copy). */
export function mapAt(heat, depth, k) {
  const [L, K, ...axes] = heat.shape;
  const size = axes.reduce((a, b) => a * b, 1);
  const d = clampIndex(depth, L);
  const j = clampIndex(k, K);
  const start = (d * K + j) * size;
  return heat.data.subarray(start, start + size);
}

/** One map of a panel at the input's axes `axes`: depth `depth`, label index `k`. A panel's
 * `heatmaps` holds each depth at its layer's own size (`map_shapes[d]`, a (K, *shape) block
 * after the previous depths'); smaller maps are upsampled here, bilinear with half-pixel
 * centres as the kernel's tf.image.resize. Without `map_shapes`: (L, K, *axes) as is. */
export function mapOf(panel, depth, k, axes) {
  const shapes = panel.map_shapes;
  if (!shapes) return mapAt(panel.heat, depth, k);
  const d = clampIndex(depth, shapes.length);
  const K = panel.labels.length;
  const sizeOf = (s) => s.reduce((a, b) => a * b, 1);
  let start = 0;
  for (let i = 0; i < d; i++) start += K * sizeOf(shapes[i]);
  const shape = shapes[d];
  const size = sizeOf(shape);
  start += clampIndex(k, K) * size;
  const map = panel.heat.data.subarray(start, start + size);
  return upsample(map, shape, axes);
}

/** What the codes of one map stand for: {signed, lo, hi} in the method's own units (a
 * panel's `ranges`, (L, K, 2), decoded into `p.range`: the raw values of codes 0 and 255;
 * signed maps code 0 as 128 and -a, +a as 1, 255); null for older pages without ranges. */
export function scaleOf(panel, depth, k) {
  const r = panel.range;
  if (!r) return null;
  const [L, K] = r.shape;
  const at = (clampIndex(depth, L) * K + clampIndex(k, K)) * 2;
  return { signed: Boolean(panel.signed), lo: r.data[at], hi: r.data[at + 1] };
}

/** The raw value a code 0..255 of a map of `scale` stands for (null scale: code / 255). */
export function valueOf(scale, code) {
  if (!scale) return code / 255;
  if (scale.signed) return ((code - 128) / 127) * scale.hi;
  return scale.lo + ((scale.hi - scale.lo) * code) / 255;
}

/** Whether a map holds one value everywhere: no evidence for its label at that depth (each
 * map is scaled on its own, so a flat one would otherwise paint as a uniform colour). */
export function isFlat(map) {
  for (let i = 1; i < map.length; i++) if (map[i] !== map[0]) return false;
  return true;
}

/** A 1-D or 2-D uint8 map of `shape` resized to `axes` (bilinear, half-pixel centres). */
export function upsample(map, shape, axes) {
  const [h, w] = shape.length > 1 ? shape : [shape[0], 1];
  const [H, W] = axes.length > 1 ? axes : [axes[0], 1];
  if (h === H && w === W) return map;
  const out = new Uint8Array(H * W);
  const coord = (i, n, N) => Math.min(Math.max((i + 0.5) * n / N - 0.5, 0), n - 1);
  for (let y = 0; y < H; y++) {
    const fy = coord(y, h, H);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const ty = fy - y0;
    for (let x = 0; x < W; x++) {
      const fx = coord(x, w, W);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const tx = fx - x0;
      const top = map[y0 * w + x0] * (1 - tx) + map[y0 * w + x1] * tx;
      const bottom = map[y1 * w + x0] * (1 - tx) + map[y1 * w + x1] * tx;
      out[y * W + x] = Math.round(top * (1 - ty) + bottom * ty);
    }
  }
  return out;
}

/** An index into n items; negative or out-of-range values mean the last one. */
export function clampIndex(i, n) {
  return Number.isInteger(i) && i >= 0 && i < n ? i : n - 1;
}

/** (H, W, C) uint8 pixels, C in {1, 3, 4} -> RGBA Uint8ClampedArray(H * W * 4). */
export function toRGBA(image) {
  const [h, w, c] = image.shape;
  const out = new Uint8ClampedArray(h * w * 4);
  const src = image.data;
  for (let p = 0; p < h * w; p++) {
    const o = p * 4;
    if (c === 1) {
      out[o] = out[o + 1] = out[o + 2] = src[p];
      out[o + 3] = 255;
    } else {
      out[o] = src[p * c];
      out[o + 1] = src[p * c + 1];
      out[o + 2] = src[p * c + 2];
      out[o + 3] = c === 4 ? src[p * c + 3] : 255;
    }
  }
  return out;
}

/** Blend a heatmap (uint8 weights, one per pixel) coloured by `table` over RGBA pixels. */
export function overlay(rgba, weights, table, opacity) {
  const a = Math.max(0, Math.min(1, opacity));
  const out = new Uint8ClampedArray(rgba.length);
  for (let p = 0; p < weights.length; p++) {
    const o = p * 4;
    const t = weights[p] * 3;
    out[o] = rgba[o] * (1 - a) + table[t] * a;
    out[o + 1] = rgba[o + 1] * (1 - a) + table[t + 1] * a;
    out[o + 2] = rgba[o + 2] * (1 - a) + table[t + 2] * a;
    out[o + 3] = 255;
  }
  return out;
}

/** Predicted class and its probability; a single sigmoid output means classes 0/1. */
export function prediction(probs) {
  if (probs.length === 1) {
    const p = probs[0];
    return p >= 0.5 ? { cls: 1, p } : { cls: 0, p: 1 - p };
  }
  let best = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i] > probs[best]) best = i;
  return { cls: best, p: probs[best] };
}

/** Probability of class `c` (sigmoid outputs read as [1 - p, p]). */
export function probabilityOf(probs, c) {
  if (probs.length === 1) return c === 1 ? probs[0] : 1 - probs[0];
  return c >= 0 && c < probs.length ? probs[c] : NaN;
}

/** The `k` most probable classes, best first: [{cls, p}]. */
export function topK(probs, k) {
  const all = probs.length === 1
    ? [{ cls: 0, p: 1 - probs[0] }, { cls: 1, p: probs[0] }]
    : Array.from(probs, (p, cls) => ({ cls, p }));
  return all.sort((a, b) => b.p - a.p).slice(0, k);
}

/** Black or white text, whichever reads better on `rgb` blended by `a` over `backdrop`. */
export function textColorOn(rgb, a, backdrop = [255, 255, 255]) {
  // WCAG relative luminance of the colour shown; the text that contrasts more (one of the
  // two always reaches 4.58:1)
  const lin = (v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  const [r, g, b] = rgb.map((v, k) => lin(v * a + backdrop[k] * (1 - a)));
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return 1.05 / (y + 0.05) > (y + 0.05) / 0.05 ? "#fff" : "#000";
}
