// Binary array codecs shared by the views: Python sends ndarrays as {view, dtype, shape}
// (anywidget gives `view` as a DataView over the message buffer); never JSON lists. In a
// saved page (report.py) `view` may instead be {nbp_bytes: [offset, length]}: a reference into
// the page's bytes, window.nbperceiveBytes, which the page's loader fills from its chunks.

/** Where a saved page keeps its binary bytes, and the key of a reference to them (report.py:
 * PAGE_BYTES, BYTES_REF). */
export const PAGE_BYTES = "nbperceiveBytes";
export const BYTES_REF = "nbp_bytes";

const TYPED = {
  float32: Float32Array,
  float64: Float64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
};

const derived = new WeakMap(); // ranked ids and codes of values, decoded once (a click reads
// them again)

/** Decode {view, dtype, shape} into a typed array (no copy when aligned). */
export function decodeArray(value) {
  if (value == null) return null;
  if (value.ranked || value.codes_of) { // derived arrays: worked out once per value
    if (!derived.has(value)) derived.set(value, value.ranked ? unrank(value) : codesOf(value));
    return derived.get(value);
  }
  const Ctor = TYPED[value.dtype];
  if (!Ctor) throw new Error(`nbperceive: unsupported dtype ${value.dtype}`);
  let view = value.view ?? value.buffer;
  if (view && view[BYTES_REF]) {
    const [at, length] = view[BYTES_REF];
    const page = globalThis[PAGE_BYTES];
    if (!page) throw new Error("nbperceive: this page's binary data is missing");
    view = page.subarray(at, at + length);
  }
  let buffer;
  let offset = 0;
  let bytes;
  if (view instanceof DataView || ArrayBuffer.isView(view)) {
    buffer = view.buffer;
    offset = view.byteOffset;
    bytes = view.byteLength;
  } else if (view instanceof ArrayBuffer) {
    buffer = view;
    bytes = view.byteLength;
  } else {
    throw new Error("nbperceive: binary array without a buffer");
  }
  const n = bytes / Ctor.BYTES_PER_ELEMENT;
  if (!Number.isInteger(n)) throw new Error(`nbperceive: ${bytes} bytes is not a whole ${value.dtype} array`);
  const expected = (value.shape || [n]).reduce((a, b) => a * b, 1);
  if (expected !== n) throw new Error(`nbperceive: shape ${value.shape} does not fit ${n} values`);
  const typed = offset % Ctor.BYTES_PER_ELEMENT === 0
    ? new Ctor(buffer, offset, n) : new Ctor(buffer.slice(offset, offset + bytes));
  if (value.delta) return undelta(typed);
  return value.range ? dequantize(typed, value.range, value.digits) : typed;
}

export const QUANTIZED_STEPS = 65534; // serializers.py: uint16 steps over [lo, hi] ...
export const QUANTIZED_MISSING = 65535; // ... and the code of NaN (uint8: 254 steps, 255)

/** uint16 (or uint8) steps over `range` [lo, hi] (a quantised float column) as a Float32Array;
 * with `digits` each value rounded to that many decimals (a saved page's probabilities: their
 * percent, serializers.py probability_codes). */
export function dequantize(q, [lo, hi], digits) {
  const steps = q.BYTES_PER_ELEMENT === 1 ? 254 : QUANTIZED_STEPS;
  const out = new Float32Array(q.length);
  const step = (hi - lo) / steps;
  const scale = digits == null ? 0 : 10 ** digits;
  for (let i = 0; i < q.length; i++) {
    const v = lo + q[i] * step;
    out[i] = q[i] === steps + 1 ? NaN : scale ? Math.round(v * scale) / scale : v;
  }
  return out;
}

/** The order of samples 0..n-1 sorted by unsigned integer `keys` (typed arrays; the first
 * sorts first), ties by index, as numpy's lexsort gives it (serializers.py ranked_to_json). */
export function rankOrder(keys, n) {
  const indexBits = Math.max(1, Math.ceil(Math.log2(n + 1)));
  const bits = keys.reduce((b, k) => b + 8 * k.BYTES_PER_ELEMENT, indexBits);
  const order = new Uint32Array(n);
  if (bits <= 53) { // every key in one exact float64: a typed (numeric) sort
    const shifts = keys.map((k) => 2 ** (8 * k.BYTES_PER_ELEMENT));
    const packed = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let j = 0; j < keys.length; j++) v = v * shifts[j] + keys[j][i];
      packed[i] = v * 2 ** indexBits + i;
    }
    packed.sort();
    for (let r = 0; r < n; r++) order[r] = packed[r] % 2 ** indexBits;
    return order;
  }
  for (let i = 0; i < n; i++) order[i] = i;
  return order.sort((a, b) => {
    for (const k of keys) if (k[a] !== k[b]) return k[a] - k[b];
    return a - b;
  });
}

/** (N, k) sample ids sent `ranked` (serializers.py ranked_to_json): each as its zigzag
 * distance from its row's sample in the order of the `ranked` keys, in byte planes (every
 * value's low byte, then every value's next byte...); the ids as Int32Array. */
function unrank(value) {
  const { ranked, dtype, shape, ...plain } = value;
  const width = TYPED[dtype] && TYPED[dtype].BYTES_PER_ELEMENT;
  if (!width) throw new Error(`nbperceive: unsupported dtype ${dtype}`);
  const bytes = decodeArray({ ...plain, dtype: "uint8" });
  const m = bytes.length / width;
  const zig = new Uint32Array(m); // (a uint32 plane's top byte times 2^24 stays below 2^32)
  for (let p = 0, scale = 1; p < width; p++, scale *= 256) {
    for (let i = 0; i < m; i++) zig[i] += bytes[p * m + i] * scale;
  }
  const n = (shape || [m])[0];
  const order = rankOrder(ranked.map(decodeArray), n);
  const rank = new Uint32Array(n);
  for (let r = 0; r < n; r++) rank[order[r]] = r;
  const k = n ? zig.length / n : 0;
  const out = new Int32Array(zig.length);
  for (let i = 0; i < n; i++) {
    const at = rank[i];
    for (let j = i * k; j < (i + 1) * k; j++) {
      const z = zig[j];
      out[j] = order[at + (z % 2 ? -(z + 1) / 2 : z / 2)];
    }
  }
  return out;
}

/** A continuous column's uint8 colour codes sent as its values (`codes_of` [lo, hi]: the
 * same bytes as the saved table's column, serializers.py codes_of_json): 0..254 over
 * [lo, hi], values beyond clipped, 255 for NaN (each within one code of the kernel's). */
function codesOf(value) {
  const { codes_of: [lo, hi], ...plain } = value;
  const values = decodeArray(plain);
  const out = new Uint8Array(values.length);
  const span = hi - lo;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = Number.isNaN(v) ? 255 : span > 0 ? Math.round(Math.min(1, Math.max(0, (v - lo) / span)) * 254) : 0;
  }
  return out;
}

/** Ascending integers sent as their steps from 0 (serializers.py, a saved page's ids). */
export function undelta(steps) {
  const out = new Int32Array(steps.length);
  let v = 0;
  for (let i = 0; i < steps.length; i++) out[i] = v += steps[i];
  return out;
}

/** Encode a typed array as {view, dtype, shape} for model.set (sent as a binary buffer). */
export function encodeArray(typed) {
  const entry = Object.entries(TYPED).find(([, C]) => typed instanceof C);
  if (!entry) throw new Error("nbperceive: encodeArray needs a typed array");
  const copy = typed.slice(); // own buffer, exactly the bytes of this array
  return { view: new DataView(copy.buffer), dtype: entry[0], shape: [copy.length] };
}
