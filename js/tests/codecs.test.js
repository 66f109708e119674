import { describe, expect, it } from "vitest";
import { decodeArray, encodeArray, rankOrder } from "../src/codecs.js";

// What Python sends: {view: DataView over a message buffer, dtype, shape}.
function wire(typed, shape) {
  const buf = new ArrayBuffer(typed.byteLength + 8);
  new Uint8Array(buf, 8).set(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength));
  return { view: new DataView(buf, 8, typed.byteLength), dtype: typedName(typed), shape };
}
const typedName = (t) => t.constructor.name.replace("Array", "").toLowerCase();

describe("decodeArray", () => {
  it("reads uint8 steps over [0, 1] (255 = NaN), ascending ids as steps, and a saved page's references", () => {
    const p = decodeArray({ ...wire(Uint8Array.of(0, 127, 254, 255), [4]), range: [0, 1] });
    expect(p[0]).toBe(0);
    expect(p[1]).toBeCloseTo(0.5, 2);
    expect(p[2]).toBe(1);
    expect(Number.isNaN(p[3])).toBe(true);
    expect(Array.from(decodeArray({ ...wire(Uint8Array.of(3, 1, 1, 200), [4]), delta: true })))
      .toEqual([3, 4, 5, 205]);
    // report.py's loader: every buffer in window.nbperceiveBytes, the state points into it
    const page = new Uint8Array(16);
    new Float32Array(page.buffer, 8, 2).set([1.5, -2]);
    globalThis.nbperceiveBytes = page;
    try {
      const out = decodeArray({ view: { nbp_bytes: [8, 8] }, dtype: "float32", shape: [2] });
      expect(Array.from(out)).toEqual([1.5, -2]);
    } finally {
      delete globalThis.nbperceiveBytes;
    }
    expect(() => decodeArray({ view: { nbp_bytes: [0, 4] }, dtype: "uint8", shape: [4] }))
      .toThrow(/binary data is missing/);
  });

  it("reads a quantised column (uint16 steps over its range, 65535 = NaN) as float32", () => {
    const out = decodeArray({ ...wire(Uint16Array.of(0, 32767, 65534, 65535), [4]), range: [-1, 1] });
    expect(out).toBeInstanceOf(Float32Array);
    expect(out[0]).toBe(-1);
    expect(out[1]).toBeCloseTo(0, 4);
    expect(out[2]).toBe(1);
    expect(Number.isNaN(out[3])).toBe(true);
  });

  it("reads float32, uint8, uint16 and uint32 buffers at an offset without losing values", () => {
    for (const t of [
      Float32Array.of(1.5, -2.25, 3e7),
      Uint8Array.of(0, 254, 255),
      Uint16Array.of(1, 65535),
      Uint32Array.of(0, 4294967295, 7),
    ]) {
      const out = decodeArray(wire(t, [t.length]));
      expect(out).toBeInstanceOf(t.constructor);
      expect(Array.from(out)).toEqual(Array.from(t));
    }
  });

  it("copies when the buffer offset is not aligned to the element size", () => {
    const buf = new ArrayBuffer(9);
    const src = Float32Array.of(0.5, 7);
    new Uint8Array(buf, 1, 8).set(new Uint8Array(src.buffer));
    const out = decodeArray({ view: new DataView(buf, 1, 8), dtype: "float32", shape: [2] });
    expect(Array.from(out)).toEqual([0.5, 7]);
  });

  it("rejects a shape that does not match the bytes and unknown dtypes", () => {
    const t = Float32Array.of(1, 2, 3);
    expect(() => decodeArray(wire(t, [4]))).toThrow(/shape/);
    expect(() => decodeArray({ view: new DataView(t.buffer), dtype: "complex64", shape: [3] })).toThrow(/dtype/);
  });

  it("passes null through (an unset trait)", () => {
    expect(decodeArray(null)).toBeNull();
  });
});

// serializers.py ranked_to_json, written here the same way: ids as zigzag distances in the
// order of the keys (ties by index), stored as byte planes
function ranked(ids, k, keys, Ctor = Uint16Array) {
  const n = ids.length / k;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => {
    for (const key of keys) if (key[a] !== key[b]) return key[a] - key[b];
    return a - b;
  });
  const rank = new Array(n);
  order.forEach((s, r) => { rank[s] = r; });
  const zig = new Ctor(ids.length);
  ids.forEach((j, at) => {
    const d = rank[j] - rank[Math.floor(at / k)];
    zig[at] = d >= 0 ? 2 * d : -2 * d - 1;
  });
  const width = Ctor.BYTES_PER_ELEMENT;
  const bytes = new Uint8Array(zig.buffer);
  const planes = new Uint8Array(bytes.length);
  for (let i = 0; i < zig.length; i++) for (let p = 0; p < width; p++) planes[p * zig.length + i] = bytes[i * width + p];
  return { ...wire(planes, [planes.length]), dtype: typedName(zig), shape: [n, k],
           ranked: keys.map((key) => wire(key, [n])) };
}

describe("ranked ids and codes of values (a saved page's smaller forms)", () => {
  it("orders samples by their keys, ties by index, in one numeric sort or by comparison", () => {
    const a = Uint8Array.of(2, 1, 2, 1, 0);
    const b = Uint16Array.of(5, 9, 5, 3, 7);
    expect(Array.from(rankOrder([a, b], 5))).toEqual([4, 3, 1, 0, 2]);
    // three uint32 keys: past 53 bits, the comparison sort gives the same order
    const big = (v) => Uint32Array.from(v);
    expect(Array.from(rankOrder([big([1, 1, 0]), big([2, 2, 2]), big([4e9, 3, 3])], 3)))
      .toEqual([2, 1, 0]);
  });

  it("gives ranked nearest samples back exactly, in uint16 and uint32 planes", () => {
    const n = 300, k = 4;
    const pred = Uint8Array.from({ length: n }, (_, i) => (i * 7) % 10);
    const x = Uint16Array.from({ length: n }, (_, i) => (i * 7919) % 65535);
    const ids = Int32Array.from({ length: n * k }, (_, i) => (i * 131 + 17) % n);
    expect(Array.from(decodeArray(ranked(ids, k, [pred, x])))).toEqual(Array.from(ids));
    const wide = ranked(ids, k, [x], Uint32Array);
    expect(wide.dtype).toBe("uint32");
    const out = decodeArray(wide);
    expect(Array.from(out)).toEqual(Array.from(ids));
    expect(decodeArray(wide)).toBe(out); // worked out once per value
  });

  it("works colour codes out of a column's values and rounds probabilities to a percent", () => {
    const loss = { ...wire(Uint16Array.of(0, 16383, 32767, 65534, 65535), [5]), range: [0, 4] };
    const codes = decodeArray({ ...loss, codes_of: [1, 3] });
    expect(codes).toBeInstanceOf(Uint8Array);
    expect(Array.from(codes)).toEqual([0, 0, 127, 254, 255]); // clipped to [1, 3]; NaN 255
    const p = decodeArray({ ...wire(Uint8Array.of(94, 127, 124, 255), [4]), range: [0, 1], digits: 2 });
    expect(Array.from(p.subarray(0, 3), (v) => v.toFixed(6))).toEqual(["0.370000", "0.500000", "0.490000"]);
    expect(Number.isNaN(p[3])).toBe(true);
  });
});

describe("encodeArray", () => {
  it("round-trips through decodeArray with its own exact buffer", () => {
    const big = new Uint32Array(10).map((_, i) => i * 1000);
    const part = big.subarray(2, 5);
    const enc = encodeArray(part);
    expect(enc.dtype).toBe("uint32");
    expect(enc.shape).toEqual([3]);
    expect(enc.view.byteLength).toBe(12);
    expect(Array.from(decodeArray(enc))).toEqual([2000, 3000, 4000]);
  });

  it("refuses plain arrays (selections travel binary, not as JSON lists)", () => {
    expect(() => encodeArray([1, 2, 3])).toThrow(/typed array/);
  });
});
