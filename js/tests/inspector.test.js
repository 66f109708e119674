import { describe, expect, it } from "vitest";
import { BYTES_REF, PAGE_BYTES } from "../src/codecs.js";
import { epochNote } from "../src/inspector/epochs.js";
import { COLORMAP_NAMES, SIGNED_ZERO, cssColor, divergingLut, lut } from "../src/inspector/colormaps.js";
import {
  clampIndex, decode, isFlat, mapAt, mapOf, overlay, prediction, probabilityOf, scaleOf, textColorOn, toRGBA,
  topK, valueOf,
} from "../src/inspector/arrays.js";
import { colorbarText } from "../src/inspector/paint.js";

function binary(typed, shape) {
  // what the widget manager hands over: a DataView on a larger buffer, at an offset
  const bytes = new Uint8Array(typed.buffer);
  const host = new Uint8Array(bytes.length + 3);
  host.set(bytes, 3);
  return { view: new DataView(host.buffer, 3, bytes.length), dtype: typed.constructor.name === "Float32Array" ? "float32" : "uint8", shape };
}

describe("decode", () => {
  it("reads uint8 and unaligned float32 DataViews with their shape", () => {
    const u = decode(binary(new Uint8Array([1, 2, 3, 4, 5, 6]), [2, 3]));
    expect(Array.from(u.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(u.shape).toEqual([2, 3]);
    const f = decode(binary(new Float32Array([0.25, 0.75]), [2]));
    expect(Array.from(f.data)).toEqual([0.25, 0.75]);
  });
  it("rejects a shape that does not fit the bytes, and missing data", () => {
    expect(() => decode(binary(new Uint8Array(5), [2, 3]))).toThrow(/shape/);
    expect(() => decode({})).toThrow(/missing/);
    expect(() => decode({ view: new Uint8Array(2), dtype: "complex", shape: [2] })).toThrow(/dtype/);
  });
  it("reads a saved page's byte references as codecs.js does (one decoder)", () => {
    const page = new Uint8Array(16);
    page.set([7, 8, 9, 10, 11, 12], 8);
    globalThis[PAGE_BYTES] = page;
    try {
      const u = decode({ view: { [BYTES_REF]: [8, 6] }, dtype: "uint8", shape: [3, 2] });
      expect(Array.from(u.data)).toEqual([7, 8, 9, 10, 11, 12]);
      expect(u.shape).toEqual([3, 2]);
    } finally {
      delete globalThis[PAGE_BYTES];
    }
  });
});

describe("mapAt", () => {
  // (L=2, K=3, T=4): value = 100*l + 10*k + t
  const data = new Uint8Array(24).map((_, i) => 100 * Math.floor(i / 12) + 10 * (Math.floor(i / 4) % 3) + (i % 4));
  const heat = { data, shape: [2, 3, 4] };
  it("picks the map of one depth and label", () => {
    expect(Array.from(mapAt(heat, 1, 2))).toEqual([120, 121, 122, 123]);
    expect(Array.from(mapAt(heat, 0, 1))).toEqual([10, 11, 12, 13]);
  });
  it("reads depth -1 (and out-of-range) as the deepest layer", () => {
    expect(Array.from(mapAt(heat, -1, 0))).toEqual([100, 101, 102, 103]);
    expect(clampIndex(7, 3)).toBe(2);
    expect(clampIndex(1, 3)).toBe(1);
  });
});

describe("mapOf", () => {
  // two labels; depth 0 at 4x4 (input size), depth 1 at its own 2x2, depth 2 at 1x1
  const d0 = Array.from({ length: 32 }, (_, i) => i);
  const d1 = [0, 255, 0, 255, 10, 20, 30, 40];
  const d2 = [7, 200];
  const panel = {
    labels: [3, 5],
    map_shapes: [[4, 4], [2, 2], [1, 1]],
    heat: { data: new Uint8Array([...d0, ...d1, ...d2]), shape: [42] },
  };
  it("reads a depth at the input size as it is", () => {
    expect(Array.from(mapOf(panel, 0, 1, [4, 4]))).toEqual(d0.slice(16));
  });
  it("upsamples a smaller map bilinearly to the input's axes", () => {
    const m = Array.from(mapOf(panel, 1, 0, [4, 4]));
    expect(m).toHaveLength(16);
    // corners keep the source cells, the middle columns blend 0 and 255
    expect([m[0], m[3], m[12], m[15]]).toEqual([0, 255, 0, 255]);
    expect(m[1]).toBe(64);
    expect(m[2]).toBe(191);
    expect(Array.from(mapOf(panel, -1, 1, [4, 4]))).toEqual(new Array(16).fill(200));
  });
  it("reads the plain (L, K, *axes) block of older pages", () => {
    const heat = { data: new Uint8Array([1, 2, 3, 4]), shape: [1, 2, 2] };
    expect(Array.from(mapOf({ heat, labels: [0, 1] }, 0, 1, [2]))).toEqual([3, 4]);
  });
});

describe("colormaps", () => {
  it("span their stops from low to high", () => {
    for (const name of COLORMAP_NAMES) expect(lut(name)).toHaveLength(768);
    const jet = lut("jet");
    expect(Array.from(jet.slice(0, 3))).toEqual([0, 0, 128]);
    expect(Array.from(jet.slice(765))).toEqual([128, 0, 0]);
    expect(cssColor(lut("gray"), 255)).toBe("rgb(255, 255, 255)");
    expect(lut("no-such-map")).toBe(lut("inferno")); // the default, perceptually uniform
  });
  it("the default grows lighter with the weight all the way; jet does not", () => {
    // relative luminance (WCAG) of each of the 256 entries
    const lum = (t) => Array.from({ length: 256 }, (_, i) => {
      const [r, g, b] = [0, 1, 2].map((c) => {
        const v = t[i * 3 + c] / 255;
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    });
    const rising = (l) => l.every((v, i) => i === 0 || v >= l[i - 1]);
    expect(rising(lum(lut("inferno")))).toBe(true);
    expect(rising(lum(lut("viridis")))).toBe(true);
    expect(rising(lum(lut("jet")))).toBe(false);
  });
});

describe("pixels", () => {
  it("turns gray and RGB images into RGBA", () => {
    const g = toRGBA({ data: new Uint8Array([7, 9]), shape: [1, 2, 1] });
    expect(Array.from(g)).toEqual([7, 7, 7, 255, 9, 9, 9, 255]);
    const c = toRGBA({ data: new Uint8Array([1, 2, 3]), shape: [1, 1, 3] });
    expect(Array.from(c)).toEqual([1, 2, 3, 255]);
  });
  it("blends the coloured weights over the image by opacity", () => {
    const rgba = new Uint8ClampedArray([100, 100, 100, 255, 100, 100, 100, 255]);
    const gray = lut("gray");
    const weights = new Uint8Array([0, 255]);
    expect(Array.from(overlay(rgba, weights, gray, 0))).toEqual(Array.from(rgba));
    expect(Array.from(overlay(rgba, weights, gray, 1))).toEqual([0, 0, 0, 255, 255, 255, 255, 255]);
    expect(Array.from(overlay(rgba, weights, gray, 0.5))).toEqual([50, 50, 50, 255, 178, 178, 178, 255]);
  });
  it("picks readable text on dark and light backgrounds", () => {
    expect(textColorOn([0, 0, 128], 1)).toBe("#fff");
    expect(textColorOn([255, 255, 0], 1)).toBe("#000");
    expect(textColorOn([0, 0, 128], 0.1)).toBe("#000");
    // over a dark theme's page a faint token is dark: white text
    expect(textColorOn([0, 0, 128], 0.1, [17, 17, 17])).toBe("#fff");
    expect(textColorOn([255, 255, 0], 1, [17, 17, 17])).toBe("#000");
  });
});

describe("predictions", () => {
  it("read softmax and single-sigmoid outputs", () => {
    expect(prediction(new Float32Array([0.1, 0.7, 0.2]))).toEqual({ cls: 1, p: expect.closeTo(0.7, 5) });
    expect(prediction(new Float32Array([0.2])).cls).toBe(0);
    expect(probabilityOf(new Float32Array([0.2]), 1)).toBeCloseTo(0.2);
    expect(topK(new Float32Array([0.1, 0.7, 0.2]), 2).map((r) => r.cls)).toEqual([1, 2]);
  });
});

describe("epochNote", () => {
  it("names the epoch of the model that made the maps", () => {
    expect(epochNote(3, 3, [0, 3])).toBe("Heatmaps of the model after epoch 3.");
    expect(epochNote(-1, 5, null)).toBe("Heatmaps of the model after epoch 5.");
    expect(epochNote(2, -1, null)).toBe("");
  });
  it("says when the scrubber's epoch has no weights, or is being computed", () => {
    expect(epochNote(1, 3, [0, 3])).toMatch(/^Epoch 1 has no saved weights, so .* after epoch 3, not from epoch 1/);
    expect(epochNote(1, 3, [])).toMatch(/^Epoch 1 has no saved weights in this run/);
    expect(epochNote(0, 3, [0, 3])).toBe("Computing the heatmaps of epoch 0…");
    expect(epochNote(1, 3, [0, 3], true)).toMatch(/^This page does not carry this sample's heatmaps at epoch 1/);
    expect(epochNote(0, 3, null)).toMatch(/after epoch 3 \(the one in memory\), not from epoch 0/);
  });
});

describe("isFlat", () => {
  it("tells a map with no evidence (one value everywhere) from one with any contrast", () => {
    expect(isFlat(new Uint8Array(49))).toBe(true);
    expect(isFlat(new Uint8Array(49).fill(255))).toBe(true);
    const one = new Uint8Array(49);
    one[48] = 1;
    expect(isFlat(one)).toBe(false);
    expect(isFlat(new Uint8Array(0))).toBe(true);
  });
});

describe("colour bar numbers", () => {
  // (L=2, K=2, 2) ranges: what codes 0 and 255 of each map stand for
  const range = { data: new Float32Array([0, 0.0123, 0, 4, 0, 0.0000683, 0, 1234567]), shape: [2, 2, 2] };
  it("reads each map's own raw range by depth and label", () => {
    expect(scaleOf({ range }, 0, 0)).toEqual({ signed: false, lo: 0, hi: Math.fround(0.0123) });
    expect(scaleOf({ range }, 1, 1).hi).toBe(1234567);
    expect(scaleOf({ range }, -1, 0).hi).toBe(Math.fround(0.0000683)); // -1: the deepest
    expect(scaleOf({}, 0, 0)).toBeNull(); // an older page without ranges
  });
  it("writes the ends in the map's units, as the other views write numbers (no e-notation)", () => {
    expect(colorbarText(scaleOf({ range }, 0, 0))).toEqual(
      { ends: ["0", "0.0123"], note: "(this map's own scale)" });
    expect(colorbarText(scaleOf({ range }, 1, 0)).ends).toEqual(["0", "0.0000683"]);
    expect(colorbarText(scaleOf({ range }, 1, 1)).ends).toEqual(["0", "1,234,567"]);
    expect(colorbarText(null).ends).toEqual(["low", "high weight"]);
  });
  it("writes a signed map's bar as −a · 0 · +a and says which colour is for the label", () => {
    const signed = { signed: true, range: { data: new Float32Array([-0.0042, 0.0042]), shape: [1, 1, 2] } };
    const text = colorbarText(scaleOf(signed, 0, 0), "seven");
    expect([text.ends[0], text.middle, text.ends[1]]).toEqual(["\u22120.0042", "0", "+0.0042"]);
    expect(text.note).toContain("red: for seven, blue: against it");
  });
  it("turns codes back into raw values: 128 is 0 in a signed map", () => {
    const s = { signed: true, lo: -2, hi: 2 };
    expect(valueOf(s, SIGNED_ZERO)).toBe(0);
    expect(valueOf(s, 255)).toBe(2);
    expect(valueOf(s, 1)).toBe(-2);
    expect(valueOf({ signed: false, lo: 0, hi: 0.5 }, 255)).toBe(0.5);
  });
});

describe("diverging colormap of signed maps", () => {
  const t = divergingLut();
  const rgb = (i) => [t[i * 3], t[i * 3 + 1], t[i * 3 + 2]];
  it("is blue against the label, white at exactly 0 (code 128), red for it", () => {
    const [r0, , b0] = rgb(1);
    const [r1, , b1] = rgb(255);
    expect(b0).toBeGreaterThan(r0 + 80); // -a: blue
    expect(r1).toBeGreaterThan(b1 + 80); // +a: red
    expect(rgb(SIGNED_ZERO)).toEqual([0xf7, 0xf7, 0xf7]); // 0: neutral
    for (let i = 1; i < SIGNED_ZERO; i++) expect(rgb(i)[2]).toBeGreaterThanOrEqual(rgb(i)[0]);
    for (let i = SIGNED_ZERO + 1; i < 256; i++) expect(rgb(i)[0]).toBeGreaterThan(rgb(i)[2]);
  });
  it("grows darker with |v| on both sides (lightest at 0)", () => {
    const luma = (i) => { const [r, g, b] = rgb(i); return -(0.299 * r + 0.587 * g + 0.114 * b); };
    for (let d = 1; d < 127; d++) { // within a rounding step (RGB is whole numbers)
      expect(luma(SIGNED_ZERO - d - 1)).toBeGreaterThanOrEqual(luma(SIGNED_ZERO - d) - 0.5);
      expect(luma(SIGNED_ZERO + d + 1)).toBeGreaterThanOrEqual(luma(SIGNED_ZERO + d) - 0.5);
    }
    expect(luma(1) - luma(SIGNED_ZERO)).toBeGreaterThan(100);
    expect(luma(255) - luma(SIGNED_ZERO)).toBeGreaterThan(100);
  });
  it("paints a signed map's negative pixels blue and positive ones red over a gray image", () => {
    const gray = new Uint8ClampedArray([128, 128, 128, 255, 128, 128, 128, 255, 128, 128, 128, 255]);
    const px = overlay(gray, new Uint8Array([1, SIGNED_ZERO, 255]), t, 0.6);
    expect(px[2]).toBeGreaterThan(px[0] + 40); // against: blue
    expect(px[4]).toBe(px[6]); // 0: no hue
    expect(px[8]).toBeGreaterThan(px[10] + 40); // for: red
  });
  it("is not one of the selectable colormaps (only signed maps use it)", () => {
    expect(COLORMAP_NAMES).not.toContain("rdbu");
    expect(lut("rdbu")).toBe(lut("inferno"));
  });
});
