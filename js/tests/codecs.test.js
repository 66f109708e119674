import { describe, expect, it } from "vitest";
import { decodeArray, encodeArray } from "../src/codecs.js";

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
