import { describe, expect, it } from "vitest";
import {
  SAVED_TRAITS, frameAt, hasEpochTables, isSavedInspector, sampleAt, sampleEpochs, savedSamples, tableAt,
} from "../src/page.js";

// A widget model as the views see it: traits by name.
const model = (traits) => ({ get: (k) => traits[k] });

describe("a saved page's lookups (page.js)", () => {
  it("answers 'not saved' for a live page, whose saved traits are empty", () => {
    const live = model({ epoch_frames: {}, epoch_tables: {}, saved: {}, table: { a: 1 }, epoch: 2 });
    expect(frameAt(live, 2)).toBe(null);
    expect(hasEpochTables(live)).toBe(false);
    expect(tableAt(live, live)).toEqual({ a: 1 }); // the table the kernel sent
    expect(savedSamples(live)).toEqual([]);
    expect(isSavedInspector(live)).toBe(false);
    expect(sampleAt(live, 3, 1, 1)).toBe(null);
    expect(sampleEpochs(live, 3)).toBe(null);
  });

  it("finds the population's frame and the selection's table at an epoch", () => {
    const frame = { x: "x1", y: "y1", channels: {} };
    const population = model({ epoch_frames: { 1: frame }, epoch: 1 });
    expect(frameAt(population, 1)).toBe(frame);
    expect(frameAt(population, 0)).toBe(null);
    const source = model({ epoch_tables: { 0: "t0", 1: "t1" }, table: {} });
    expect(hasEpochTables(source)).toBe(true);
    expect(tableAt(source, population)).toBe("t1");
    expect(tableAt(source, model({ epoch: 5 }))).toEqual({}); // an epoch not saved: `table`
  });

  it("gives an inspector sample's maps at an epoch it carries, else at its own epoch", () => {
    const entry = { image: "img", tokens: null, y_true: 4, panels: ["final"], epoch: 3,
      epochs: { 1: ["early"] } };
    const inspector = model({ saved: { 7: entry } });
    expect(savedSamples(inspector)).toEqual(["7"]);
    expect(isSavedInspector(inspector)).toBe(true);
    expect(sampleAt(inspector, 7, 1, 9)).toMatchObject({ panels: ["early"], epoch: 1, y_true_labels: [] });
    expect(sampleAt(inspector, 7, 2, 9)).toMatchObject({ panels: ["final"], epoch: 3, image: "img" });
    expect(sampleAt(inspector, 8, 1, 9)).toBe(null);
    expect(sampleEpochs(inspector, 7)).toEqual([1, 3]);
    // an older page without epochs: the model's epoch
    const old = model({ saved: { 7: { panels: ["p"] } } });
    expect(sampleAt(old, 7, 1, 9)).toMatchObject({ panels: ["p"], epoch: 9 });
    expect(sampleEpochs(old, 7)).toBe(null);
  });

  it("names the saved traits the Python widgets sync", () => {
    expect(SAVED_TRAITS).toEqual({ population: "epoch_frames", selection: "epoch_tables", inspector: "saved" });
  });
});
