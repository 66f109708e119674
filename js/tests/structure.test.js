import { describe, expect, it } from "vitest";
import { assignPoints, climb, clusterText, summarize } from "../src/population/clusters.js";
import { bandwidth, binPoints, blur, contourLevels, contourPath, densityGrid } from "../src/population/density.js";
import { screenTransform } from "../src/population/camera.js";

// Deterministic blobs: `per` points around each centre (a cheap LCG, Box-Muller).
function blobs(centres, per, spread = 0.05) {
  let seed = 7;
  const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const n = centres.length * per;
  const x = new Float32Array(n), y = new Float32Array(n), which = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(i / per);
    const r = Math.sqrt(-2 * Math.log(rand() + 1e-12)) * spread, t = 2 * Math.PI * rand();
    x[i] = centres[k][0] + r * Math.cos(t);
    y[i] = centres[k][1] + r * Math.sin(t);
    which[i] = k;
  }
  return { x, y, which };
}

describe("density grid", () => {
  it("bins every finite point once, edge points into the border cells", () => {
    const x = Float32Array.of(-1, 0.999, 0, 0, NaN, 1.2);
    const y = Float32Array.of(-1, 0.999, 0, 0.01, 0, 0);
    const counts = binPoints(x, y, 4);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(5); // the NaN point is left out
    expect(counts[0]).toBe(1); // (-1, -1): row 0, column 0
    expect(counts[15]).toBe(1); // (0.999, 0.999): the last cell
    expect(counts[2 * 4 + 2]).toBe(2); // (0, 0) and (0, 0.01)
    expect(counts[2 * 4 + 3]).toBe(1); // x = 1.2 clamped into the last column
  });

  it("blurs without losing mass away from the border and peaks at a blob's centre", () => {
    const size = 32;
    const v = new Float32Array(size * size);
    v[16 * size + 16] = 100;
    const b = blur(v, size, 2);
    expect(b.reduce((a, c) => a + c, 0)).toBeCloseTo(100, 3);
    expect(b[16 * size + 16]).toBeGreaterThan(b[16 * size + 19]);
    expect(b[16 * size + 19]).toBeGreaterThan(0);
    const { x, y } = blobs([[0.5, -0.5]], 500);
    const grid = densityGrid(x, y, 64);
    const top = grid.values.indexOf(grid.max);
    const [r, c] = [Math.floor(top / 64), top % 64];
    expect(Math.abs((c + 0.5) / 32 - 1 - 0.5)).toBeLessThan(0.06);
    expect(Math.abs((r + 0.5) / 32 - 1 + 0.5)).toBeLessThan(0.06);
  });

  it("traces a closed ring of segments around one blob at each level", () => {
    const { x, y } = blobs([[0, 0]], 2000, 0.1);
    const grid = densityGrid(x, y, 64);
    const levels = contourLevels(grid.max, 4);
    expect(levels).toHaveLength(4);
    expect(levels.every((l, k) => k === 0 || l > levels[k - 1])).toBe(true);
    expect(levels[3]).toBeLessThan(grid.max);
    const rings = levels.map((l) => contourPath(grid, l));
    // a ring of higher density is smaller: fewer segments
    expect(rings[0].segments).toBeGreaterThan(rings[3].segments);
    expect(rings[3].segments).toBeGreaterThan(3);
    // every segment end lies where the density is near the level (linear interpolation)
    const nums = rings[1].d.match(/-?\d+\.\d+/g).map(Number);
    for (let k = 0; k < nums.length; k += 2) {
      expect(Math.hypot(nums[k], nums[k + 1])).toBeLessThan(0.6);
    }
    expect(contourPath(grid, grid.max * 2).segments).toBe(0);
  });
});

describe("clusters", () => {
  const centres = [[-0.5, -0.5], [0.5, 0.5], [0.5, -0.5]];
  const sizes = [600, 300, 100];

  it("finds one cluster per blob, sized by its points, labelled by its dominant class", () => {
    const parts = centres.map((c, k) => blobs([c], sizes[k]));
    const n = sizes.reduce((a, b) => a + b, 0);
    const x = new Float32Array(n), y = new Float32Array(n);
    const labelCodes = new Uint8Array(n), correctCodes = new Uint8Array(n);
    let at = 0;
    parts.forEach((p, k) => {
      x.set(p.x, at);
      y.set(p.y, at);
      for (let i = 0; i < sizes[k]; i++) {
        // blob k is class k, but every 10th of its points is class 3; a quarter are wrong
        labelCodes[at + i] = i % 10 === 0 ? 3 : k;
        correctCodes[at + i] = i % 4 === 0 ? 0 : 1;
      }
      at += sizes[k];
    });
    const grid = densityGrid(x, y, 64);
    const { cell, count } = climb(grid);
    const assign = assignPoints(x, y, cell, 64);
    const label = { kind: "categorical", categories: ["0", "1", "2", "3"], codes: labelCodes };
    const correct = { kind: "categorical", categories: ["False", "True"], codes: correctCodes };
    const found = summarize(assign, x, y, count,
      { label, correct, names: ["shirt", "bag", "boot", "coat"] });
    expect(found).toHaveLength(3);
    expect(found.map((c) => c.dominant)).toEqual(["shirt", "bag", "boot"]);
    found.forEach((c, k) => {
      expect(c.size).toBeGreaterThan(sizes[k] * 0.95);
      expect(c.size).toBeLessThanOrEqual(sizes[k] * 1.02);
      expect(c.share).toBeGreaterThan(0.85);
      expect(c.share).toBeLessThan(0.95);
      expect(c.accuracy).toBeGreaterThan(0.7);
      expect(c.accuracy).toBeLessThan(0.8);
      expect(Math.hypot(c.x - centres[k][0], c.y - centres[k][1])).toBeLessThan(0.05);
    });
    expect(clusterText(found[0])).toMatch(/^shirt 9\d% · acc 7\d% · \d{3}$/);
  });

  it("leaves out clusters under the minimum share and works without label columns", () => {
    const { x, y } = blobs([[-0.5, 0], [0.5, 0]], 500);
    const grid = densityGrid(x, y, 64);
    const { cell, count } = climb(grid);
    const assign = assignPoints(x, y, cell, 64);
    const found = summarize(assign, x, y, count);
    expect(found).toHaveLength(2);
    expect(found[0].dominant).toBeNull();
    expect(clusterText(found[0])).toMatch(/^\d{3}$/);
    expect(summarize(assign, x, y, count, { minShare: 0.6 })).toHaveLength(0);
  });

  it("merges peaks split by a shallow dip, keeps those split by a deep one", () => {
    const count = (centres, spread) => {
      const { x, y } = blobs(centres, 800, spread);
      return climb(densityGrid(x, y, 64)).count;
    };
    // two overlapping blobs (their centres 1.2 spreads apart): one cluster
    expect(count([[-0.06, 0], [0.06, 0]], 0.1)).toBe(1);
    // the same blobs far apart: two
    expect(count([[-0.5, 0], [0.5, 0]], 0.1)).toBe(2);
    // never merged: a merge threshold above every saddle
    const { x, y } = blobs([[-0.06, 0], [0.06, 0]], 800, 0.1);
    const grid = densityGrid(x, y, 64);
    expect(climb(grid, 0.05, 2).count).toBeGreaterThanOrEqual(climb(grid).count);
  });

  it("bins a million points on the grid and clusters them", () => {
    const { x, y } = blobs([[-0.5, -0.5], [0.5, 0.5]], 500_000);
    const grid = densityGrid(x, y);
    const { cell, count } = climb(grid);
    const assign = assignPoints(x, y, cell, grid.size);
    const found = summarize(assign, x, y, count);
    // two clusters of ~500,000 (the faint tails, under 5 % of the peak, belong to none)
    expect(found).toHaveLength(2);
    for (const c of found) expect(c.size).toBeGreaterThan(0.97 * 500_000);
  });
});

describe("screenTransform", () => {
  it("maps data coordinates as regl-scatterplot's getScreenPosition does", () => {
    // identity camera, square plot: [-1, 1] spans the canvas, y up
    expect(screenTransform([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], 200, 200, 1))
      .toEqual([100, -100, 100, 100]);
    // zoomed 2× and panned: x' = 2x + 0.5 in clip space; wide plot, data aspect 2
    const [a, d, e, f] = screenTransform([2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0.5, -0.25, 0, 1],
      400, 200, 2);
    expect(a * 0.1 + e).toBeCloseTo((400 * ((2 * 2 * 0.1 + 0.5) / 2 + 1)) / 2);
    expect(d * 0.1 + f).toBeCloseTo(200 * (0.5 - (2 * 0.1 - 0.25) / 2));
  });
});

describe("bandwidth", () => {
  it("narrows as points grow, never under a cell", () => {
    expect(bandwidth(1000)).toBe(4);
    expect(bandwidth(1_000_000)).toBe(1);
    expect(bandwidth(10)).toBeGreaterThan(bandwidth(1000));
    expect(bandwidth(0)).toBeGreaterThanOrEqual(1);
  });
});
