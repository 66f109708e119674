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

/** Decode {view, dtype, shape} into a typed array (no copy when aligned). */
export function decodeArray(value) {
  if (value == null) return null;
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
  return value.range ? dequantize(typed, value.range) : typed;
}

export const QUANTIZED_STEPS = 65534; // serializers.py: uint16 steps over [lo, hi] ...
export const QUANTIZED_MISSING = 65535; // ... and the code of NaN (uint8: 254 steps, 255)

/** uint16 (or uint8) steps over `range` [lo, hi] (a quantised float column) as a Float32Array. */
export function dequantize(q, [lo, hi]) {
  const steps = q.BYTES_PER_ELEMENT === 1 ? 254 : QUANTIZED_STEPS;
  const out = new Float32Array(q.length);
  const step = (hi - lo) / steps;
  for (let i = 0; i < q.length; i++) out[i] = q[i] === steps + 1 ? NaN : lo + q[i] * step;
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
