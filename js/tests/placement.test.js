import { describe, expect, it } from "vitest";
import { overlaps, placeLabels } from "../src/population/placement.js";

const boxOf = (p, { w, h }) => [p.x - w / 2, p.y - h / 2, p.x + w / 2, p.y + h / 2];

/** Deterministic pseudo-random numbers in [0, 1). */
function random(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function check(items, placed, width, height, maxShift) {
  const boxes = placed.map((p, i) => (p ? boxOf(p, items[i]) : null));
  for (let i = 0; i < boxes.length; i++) {
    const b = boxes[i];
    if (!b) continue;
    expect(b[0]).toBeGreaterThanOrEqual(0);
    expect(b[1]).toBeGreaterThanOrEqual(0);
    expect(b[2]).toBeLessThanOrEqual(width);
    expect(b[3]).toBeLessThanOrEqual(height);
    expect(Math.hypot(placed[i].x - items[i].x, placed[i].y - items[i].y)).toBeLessThanOrEqual(maxShift);
    for (let j = 0; j < i; j++) if (boxes[j]) expect(overlaps(b, boxes[j])).toBe(false);
  }
}

describe("cluster label placement", () => {
  it("keeps a label that fits at its cluster's centre, unmoved", () => {
    const [p] = placeLabels([{ x: 100, y: 80, w: 90, h: 16 }], 400, 300);
    expect(p).toEqual({ x: 100, y: 80, moved: false });
  });

  it("moves apart labels stacked on one spot: none overlap, all placed, each near its centre", () => {
    const items = Array.from({ length: 8 }, (_, i) => ({ x: 200 + i, y: 150, w: 110, h: 16 }));
    const placed = placeLabels(items, 400, 300, { maxShift: 120 });
    expect(placed.every(Boolean)).toBe(true);
    expect(placed[0].moved).toBe(false); // the biggest cluster keeps its place
    expect(placed.slice(1).every((p) => p.moved)).toBe(true);
    check(items, placed, 400, 300, 120);
  });

  it("pulls a label at the plot's edge inside it", () => {
    const [p] = placeLabels([{ x: 3, y: 297, w: 80, h: 16 }], 400, 300);
    expect(p.x - 40).toBeGreaterThanOrEqual(0);
    expect(p.y + 8).toBeLessThanOrEqual(300);
    expect(p.moved).toBe(true);
  });

  it("holds for random crowds of 12 overlapping labels in plots of several sizes", () => {
    const next = random(7);
    for (let trial = 0; trial < 40; trial++) {
      const width = 300 + Math.floor(next() * 500), height = 200 + Math.floor(next() * 400);
      const items = Array.from({ length: 12 }, () => ({
        x: width * (0.3 + 0.4 * next()), y: height * (0.3 + 0.4 * next()),
        w: 60 + next() * 70, h: 16,
      }));
      const placed = placeLabels(items, width, height, { maxShift: 150 });
      check(items, placed, width, height, 150);
      // plenty of room here: every label finds a place
      expect(placed.filter(Boolean).length).toBe(12);
    }
  });

  it("leaves out a label with no free place nearby rather than covering another", () => {
    const items = Array.from({ length: 6 }, () => ({ x: 50, y: 10, w: 100, h: 20 }));
    const placed = placeLabels(items, 100, 20, { maxShift: 60 }); // room for one
    expect(placed[0]).toEqual({ x: 50, y: 10, moved: false });
    expect(placed.slice(1)).toEqual([null, null, null, null, null]);
    expect(placeLabels([{ x: -5, y: 10, w: 10, h: 10 }], 100, 100)).toEqual([null]); // off screen
  });
});
