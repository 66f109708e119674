import { describe, expect, it } from "vitest";
import { keepIndices } from "../src/scales.js";
import { sortedOrder } from "../src/sample_list.js";
import { chartPoints, fmt, neighbourCounts, partsInWords } from "../src/story.js";

const story = {
  label: 0, pred: 1, rank: 0, epochs: [0, 1, 2], p_label: [0.5, 0.2, 0.05],
  margin: [0, -0.6, -0.9], forgotten: [false, false, false],
  neighbours: [4, 9, 2, 7], neighbour_labels: [1, 1, 0, 1],
  parts: { p_label: 0.25, knn_label: 0.33, neighbour_weight: 0.6, belief: 0.1,
    class_threshold: 0.8, label_quality: 0.125, suspicion: 0.875, layer: "dense", epoch: 2, k: 4 },
};

describe("story panel helpers", () => {
  it("counts the neighbours' labels, most frequent first, by class name", () => {
    expect(neighbourCounts(story.neighbour_labels, ["negative", "positive"]))
      .toEqual([["positive", 3], ["negative", 1]]);
  });
  it("says each part of the score in words with its value", () => {
    const words = Object.fromEntries(partsInWords(story, ["negative", "positive"]));
    expect(words.p_label).toContain("“negative”");
    expect(words.p_label).toContain("0.25");
    expect(words.knn_label).toContain("1 of its 4 nearest neighbours");
    expect(words.suspicion).toContain("0.88");
    expect(words.suspicion).toContain("looks wrong");
    const clean = { ...story, parts: { ...story.parts, suspicion: 0 } };
    expect(Object.fromEntries(partsInWords(clean, [])).suspicion).toContain("looks right");
  });
  it("places one point per epoch inside the chart, 1 above -1", () => {
    const pts = chartPoints(story.margin, 300, 120);
    expect(pts).toHaveLength(3);
    for (const [x, y] of pts) {
      expect(x).toBeGreaterThan(0);
      expect(x).toBeLessThan(300);
      expect(y).toBeGreaterThan(0);
      expect(y).toBeLessThan(120);
    }
    const [[, top]] = chartPoints([1], 300, 120);
    const [[, bottom]] = chartPoints([-1], 300, 120);
    expect(top).toBeLessThan(bottom);
    expect(chartPoints([null], 300, 120)[0][1]).toBeNull();
  });
  it("formats missing values as a dash", () => {
    expect(fmt(null)).toBe("—");
    expect(fmt(0.004)).toBe("0.004");
  });
});

describe("sample list sorting", () => {
  it("sorts by a key either way, missing values last, ties in given order", () => {
    const keys = { loss: [0.5, null, 2, 0.5] };
    expect(sortedOrder(keys, "loss", true, 4)).toEqual([2, 0, 3, 1]);
    expect(sortedOrder(keys, "loss", false, 4)).toEqual([0, 3, 2, 1]);
    expect(sortedOrder(keys, "nope", true, 4)).toEqual([0, 1, 2, 3]);
  });
});

describe("show only marked points", () => {
  it("keeps the marked points among the legend's visible ones", () => {
    expect(keepIndices(null, new Uint32Array([5, 1, 9]), 6)).toEqual([1, 5]);
    expect(keepIndices([0, 1, 2], new Uint32Array([2, 4]), 6)).toEqual([2]);
    expect(keepIndices([0, 3], null, 6)).toEqual([0, 3]);
  });
});
