import { describe, expect, it } from "vitest";
import {
  MISSING,
  MISSING_COLOR,
  PALETTE,
  codeLabel,
  codeValue,
  contrast,
  colorTable,
  formatNumber,
  normalizeXY,
  packCodes,
  packLayout,
  packedSlot,
  pointArrays,
  rampRange,
  rgba,
  sizeTable,
  spreadTable,
  viridis,
  visibleIndices,
} from "../src/scales.js";

const continuous = { kind: "continuous", domain: [2, 12] };
const categorical = { kind: "categorical", categories: ["cat", "dog", "<b>x</b>"] };

describe("normalizeXY", () => {
  it("fits each axis into clip space on its own and centres it", () => {
    const { x, y } = normalizeXY(Float32Array.of(0, 10, 5), Float32Array.of(0, 2, 1), 0);
    expect(Array.from(x)).toEqual([-1, 1, 0]);
    // y spans only 2 units but fills the height too: the plot wastes no space
    expect(y[0]).toBeCloseTo(-1);
    expect(y[1]).toBeCloseTo(1);
    expect(y[2]).toBeCloseTo(0);
  });

  it("keeps a margin and survives a single point and non-finite values", () => {
    const one = normalizeXY(Float32Array.of(3), Float32Array.of(4));
    expect([one.x[0], one.y[0]]).toEqual([0, 0]);
    const bad = normalizeXY(Float32Array.of(0, NaN, 4), Float32Array.of(0, 1, 4), 0.1);
    expect(bad.x[0]).toBeCloseTo(-0.9);
    expect(bad.x[2]).toBeCloseTo(0.9);
    expect(Math.abs(bad.x[1])).toBeGreaterThan(1); // off screen, not at a wrong place
  });
});

describe("colours", () => {
  it("viridis runs from dark purple to yellow and clamps", () => {
    expect(viridis(0)).toBe("#440154");
    expect(viridis(1)).toBe("#fde725");
    expect(viridis(-3)).toBe(viridis(0));
    expect(viridis(7)).toBe(viridis(1));
  });

  it("gives each category its palette colour and missing values grey", () => {
    const t = colorTable(categorical);
    expect(t.slice(0, 3)).toEqual(PALETTE.slice(0, 3));
    expect(t[MISSING]).toBe(MISSING_COLOR);
    expect(t).toHaveLength(256);
  });

  it("maps continuous codes 0..254 along viridis", () => {
    const t = colorTable(continuous);
    expect(t[0]).toBe(viridis(0));
    expect(t[254]).toBe(viridis(1));
    expect(t[MISSING]).toBe(MISSING_COLOR);
  });
});

describe("sizes", () => {
  it("grows with the code (bigger loss = bigger point) and shrinks missing", () => {
    const s = sizeTable(continuous, 4);
    expect(s[0]).toBeLessThan(s[127]);
    expect(s[127]).toBeLessThan(s[254]);
    expect(s[254]).toBeCloseTo(12);
    expect(s[MISSING]).toBeLessThan(s[1]);
  });

  it("spreads categories over the same range", () => {
    const s = sizeTable(categorical, 5);
    expect(s[0]).toBeCloseTo(4);
    expect(s[2]).toBeCloseTo(15);
  });
});

describe("labels", () => {
  it("reads codes back as values and category names", () => {
    expect(codeValue(continuous, 0)).toBe(2);
    expect(codeValue(continuous, 254)).toBe(12);
    expect(codeLabel(continuous, 127)).toBe("7");
    expect(codeLabel(categorical, 2)).toBe("<b>x</b>"); // text, shown with textContent
    expect(codeLabel(categorical, MISSING)).toBe("missing");
  });

  it("formats numbers compactly", () => {
    expect(formatNumber(0.123456)).toBe("0.123");
    expect(formatNumber(123456)).toBe("123,456");
    // legends and cards never show e-notation
    expect(formatNumber(6.83e-5)).toBe("0.0000683");
    expect(formatNumber(-2.5e-4, 2)).toBe("-0.00025");
    expect(formatNumber(1e-12)).toBe("≈0");
    expect(formatNumber(0)).toBe("0");
  });
});

describe("visibleIndices", () => {
  it("drops the points of hidden categories", () => {
    expect(visibleIndices(Uint8Array.of(0, 1, 2, 1, 0), new Set([1]))).toEqual([0, 2, 4]);
    expect(visibleIndices(Uint8Array.of(0, 1), new Set())).toEqual([0, 1]);
  });
});

describe("normalizeXY into given arrays", () => {
  it("fills the arrays it is given instead of allocating", () => {
    const out = { x: new Float32Array(3), y: new Float32Array(3) };
    const r = normalizeXY(Float32Array.of(0, 10, 5), Float32Array.of(0, 2, 1), 0, out);
    expect(r.x).toBe(out.x);
    expect(r.y).toBe(out.y);
    expect(Array.from(out.x)).toEqual([-1, 1, 0]);
    const other = normalizeXY(Float32Array.of(1, 2), Float32Array.of(1, 2), 0, out);
    expect(other.x).not.toBe(out.x); // a different length gets its own arrays
  });
});

describe("codes packed into z and w", () => {
  it("puts the colour and size columns first, two per value, at most four", () => {
    expect(packLayout("loss", "loss", ["label", "loss"])).toEqual([["loss", "label"], []]);
    expect(packLayout("a", "b", ["e", "d", "c", "b", "a"])).toEqual([["a", "b"], ["e", "d"]]);
    expect(packLayout("", "x", ["y"])).toEqual([["y"], []]); // not in the browser yet: skipped
  });

  it("says where a column sits and how many packed values its slot has", () => {
    const layout = [["a", "b"], ["c"]];
    expect(packedSlot(layout, "a")).toEqual({ value: "valueA", shift: 0, entries: 65536 });
    expect(packedSlot(layout, "b")).toEqual({ value: "valueA", shift: 8, entries: 65536 });
    expect(packedSlot(layout, "c")).toEqual({ value: "valueB", shift: 0, entries: 256 });
    expect(packedSlot(layout, "d")).toBeNull();
  });

  it("packs two code columns into one exact float and reads each back through its table", () => {
    const a = Uint8Array.of(0, 3, 255), b = Uint8Array.of(7, 0, 254);
    const z = packCodes([a, b], 3);
    expect(Array.from(z)).toEqual([7 * 256, 3, 255 + 254 * 256]);
    const table = Array.from({ length: 256 }, (_, i) => `c${i}`);
    for (const [shift, codes] of [[0, a], [8, b]]) {
      const spread = spreadTable(table, { shift, entries: 65536 });
      expect(spread).toHaveLength(65536);
      expect(Array.from(z, (v) => spread[v])).toEqual(Array.from(codes, (c) => `c${c}`));
    }
  });

  it("reuses the output array of the right length, and packs one column or none", () => {
    const out = new Float32Array(2);
    expect(packCodes([Uint8Array.of(4, 5)], 2, out)).toBe(out);
    expect(Array.from(out)).toEqual([4, 5]);
    expect(Array.from(packCodes([], 2, out))).toEqual([0, 0]);
    expect(packCodes([Uint8Array.of(1)], 1, out)).not.toBe(out);
  });

  it("gives colours as normalised RGBA and points as [x, y, z, w]", () => {
    expect(rgba("#ff8000")).toEqual([1, 128 / 255, 0, 1]);
    const p = pointArrays(Float32Array.of(1, 2), Float32Array.of(3, 4), Float32Array.of(5, 6),
      Float32Array.of(7, 8));
    expect(p).toEqual([[1, 3, 5, 7], [2, 4, 6, 8]]);
  });
});

describe("the continuous ramp per theme", () => {
  const grades = (bg, range) =>
    Array.from({ length: 255 }, (_, c) => contrast(colorTable({ kind: "continuous" }, range)[c], bg));

  it("keeps every colour at 3:1 or more on JupyterLab's dark and light backgrounds", () => {
    for (const bg of ["#111111", "#ffffff", "#000000", "#1e1e1e"]) {
      const range = rampRange(bg);
      expect(Math.min(...grades(bg, range))).toBeGreaterThanOrEqual(3);
      expect(range[1] - range[0]).toBeGreaterThan(0.5); // most of viridis still in use
    }
    // on dark, viridis' dark purple end is what goes; on light, its yellow end
    expect(rampRange("#111111")[0]).toBeGreaterThan(0.2);
    expect(rampRange("#111111")[1]).toBe(1);
    expect(rampRange("#ffffff")).toEqual([0, expect.any(Number)]);
    expect(rampRange("#ffffff")[1]).toBeLessThan(0.8);
    // the whole of viridis would not: its ends fade into those backgrounds
    expect(Math.min(...grades("#111111", [0, 1]))).toBeLessThan(2);
    expect(Math.min(...grades("#ffffff", [0, 1]))).toBeLessThan(1.5);
  });

  it("measures contrast as WCAG does", () => {
    expect(contrast("#000000", "#ffffff")).toBeCloseTo(21, 5);
    expect(contrast("#777777", "#777777")).toBe(1);
    expect(contrast("#767676", "#ffffff")).toBeCloseTo(4.54, 2);
  });

  it("takes the points' opacity into account (a faint point shows less of its colour)", () => {
    const solid = rampRange("#111111"), faint = rampRange("#111111", 3, 0.85);
    expect(faint[0]).toBeGreaterThan(solid[0]);
    const painted = (c) => "#" + [1, 3, 5].map((k) => Math.round(parseInt(c.slice(k, k + 2), 16)
      * 0.85 + 0x11 * 0.15).toString(16).padStart(2, "0")).join("");
    expect(contrast(painted(viridis(faint[0])), "#111111")).toBeGreaterThanOrEqual(3);
  });
});
