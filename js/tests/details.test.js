import { describe, expect, it } from "vitest";
import { SHOWN_CHARS, className, clipText, detailItems, formatValue } from "../src/details.js";
import { confusionRows } from "../src/selection.js";
import { searchRows } from "../src/search.js";
import { rowOf } from "../src/tables.js";

const view = (typed) => ({ view: new DataView(typed.buffer), dtype: typed.constructor.name
  .replace("Array", "").toLowerCase(), shape: [typed.length] });

describe("details panel", () => {
  it("formats numbers to 4 significant digits and missing values as a dash", () => {
    expect(formatValue(0.123456)).toBe("0.1235");
    expect(formatValue(12)).toBe("12");
    expect(formatValue(null)).toBe("—");
    expect(formatValue(Number.NaN)).toBe("—");
    expect(formatValue("<b>x</b>")).toBe("<b>x</b>"); // text stays text (set as textContent)
  });

  it("names classes and falls back to the index", () => {
    expect(className(["cat", "dog"], 1)).toBe("dog");
    expect(className(["cat", "dog"], 5)).toBe("5");
  });

  it("judges by the recorded verdict: none for a regression's value", () => {
    const reg = { sample_id: 123, label: 2, pred: 0.8472, loss: 1.33, correct: null, residual: -1.15 };
    expect(detailItems(reg, Object.keys(reg), [], 123).title)
      .toEqual({ truth: "2", pred: "0.8472", correct: null }); // was "✘ 2 → 0.8472"
    const cls = { label: 1, pred: 1, correct: true };
    expect(detailItems(cls, Object.keys(cls), ["a", "b"], 0).title.correct).toBe(true);
  });

  it("reads one row out of a saved columnar table", () => {
    const table = {
      loss: { numbers: view(new Float64Array([0.5, Number.NaN, 2])) },
      label: { numbers: view(new Int32Array([3, 4, 5])) },
      correct: { numbers: view(new Int32Array([1, 0, 1])), bool: true },
      note: { texts: ["a", "<script>", "c"] },
    };
    const cols = ["loss", "label", "correct", "note"];
    expect(rowOf(table, cols, 1)).toEqual({ loss: null, label: 4, correct: false, note: "<script>" });
    expect(rowOf(table, cols, 2).loss).toBe(2);
    expect(rowOf(table, cols, 7)).toBeNull();
  });

  it("lists truth, prediction, loss, the top classes, then the metadata", () => {
    const row = { sample_id: 9, label: 1, pred: 0, loss: 2.5, prob_cat: 0.7, prob_dog: 0.3,
      note: "<img onerror=x>" };
    const cols = Object.keys(row);
    const { title, items } = detailItems(row, cols, ["cat", "dog"], 9);
    expect(title).toEqual({ truth: "dog", pred: "cat", correct: false });
    expect(items).toEqual([
      ["sample", "9"], ["label", "dog"], ["prediction", "cat"], ["loss", "2.5"],
      ["top classes", "cat 0.70, dog 0.30"], ["note", "<img onerror=x>"],
    ]);
  });
});

describe("selection view", async () => {
  const { cellPairs, gridAxes, samplesInCells, summaryText } = await import("../src/selection.js");

  it("reads bqplot's selected cells in any of its shapes", () => {
    expect(cellPairs([[1, 2], [3, 4]])).toEqual([[1, 2], [3, 4]]);
    expect(cellPairs(new Float64Array([1, 2, 3, 4]))).toEqual([[1, 2], [3, 4]]);
    expect(cellPairs({ data: new Int32Array([5, 6]), shape: [1, 2] })).toEqual([[5, 6]]);
    expect(cellPairs(null)).toEqual([]);
  });

  it("selects the samples of a (label, prediction) cell", () => {
    const label = new Int32Array([0, 1, 1, 2, 1]);
    const pred = new Int32Array([0, 2, 1, 2, 2]);
    expect(Array.from(samplesInCells(label, pred, [[1, 2]]))).toEqual([1, 4]);
    expect(Array.from(samplesInCells(label, pred, [[1, 2], [0, 0]]))).toEqual([0, 1, 4]);
  });

  it("summarises count, accuracy, mean loss and label mix", () => {
    const table = {
      label: { numbers: view(new Int32Array([0, 1, 1, 2])) },
      pred: { numbers: view(new Int32Array([0, 1, 0, 2])) },
      loss: { numbers: view(new Float64Array([0.5, 1.5, 2.5, Number.NaN])) },
    };
    expect(summaryText(table, ["a", "b", "c"], [1, 2, 3])).toBe(
      "3 samples · accuracy 66.7% · mean loss 2 · labels b: 2, c: 1");
    expect(summaryText(table, [], [])).toBe("");
  });

  it("puts a multi-label run's samples in the picked label's 2x2 (truth x p >= 0.5)", () => {
    const table = {
      label: { numbers: view(new Int32Array([-1, -1, -1, -1])) },
      pred: { numbers: view(new Int32Array([-1, -1, -1, -1])) },
      label_even: { numbers: view(new Uint8Array([1, 0, 1, 0])) },
      prob_even: { numbers: view(new Float32Array([0.9, 0.7, 0.2, 0.1])) },
      correct: { numbers: view(new Uint8Array([1, 0, 0, 1])), bool: true },
    };
    const { label, pred } = gridAxes(table, "even");
    expect(Array.from(label)).toEqual([1, 0, 1, 0]);
    expect(Array.from(pred)).toEqual([1, 1, 0, 0]);
    expect(Array.from(samplesInCells(label, pred, [[1, 0]]))).toEqual([2]); // missed "even"
    expect(gridAxes(table, "").label).toBe(table.label.decoded);
    // accuracy from the recorded exact match, no "labels -1" mix
    expect(summaryText(table, [], [0, 1, 2, 3])).toBe("4 samples · accuracy 50.0%");
  });
});

describe("a multi-label run's details", () => {
  it("name the true and the predicted labels, not the -1 its label and pred hold", () => {
    const columns = ["sample_id", "label", "pred", "correct", "label_even", "label_prime", "prob_even", "prob_prime"];
    const row = { sample_id: 7, label: -1, pred: -1, correct: false, label_even: 1, label_prime: 1,
      prob_even: 0.9, prob_prime: 0.2 };
    const { title, items } = detailItems(row, columns, ["even", "prime"], 7);
    expect(title).toEqual({ truth: "even, prime", pred: "even", correct: false });
    expect(items.slice(1, 3)).toEqual([["labels", "even, prime"], ["predicted", "even"]]);
    expect(items.find(([k]) => k === "label probabilities")[1]).toBe("even 0.90, prime 0.20");
    expect(items.some(([k, v]) => v === "-1")).toBe(false);
    const none = detailItems({ ...row, label_even: 0, label_prime: 0, prob_even: 0.1, correct: true },
      columns, ["even", "prime"], 7).title;
    expect(none).toEqual({ truth: "no label", pred: "no label", correct: true });
  });

  it("are found by label name in the search box: true or predicted", () => {
    const table = {
      label: { numbers: view(new Int32Array([-1, -1, -1])) },
      pred: { numbers: view(new Int32Array([-1, -1, -1])) },
      label_even: { numbers: view(new Uint8Array([1, 0, 0])) },
      prob_even: { numbers: view(new Float32Array([0.2, 0.7, 0.1])) },
    };
    const found = searchRows(table, Object.keys(table), ["even", "prime"], "EVEN");
    expect(Array.from(found.rows)).toEqual([0, 1]);
  });
});

describe("long values", () => {
  it("cuts a long text to the shown characters and counts the rest", () => {
    const long = "x".repeat(1_000_000);
    expect(clipText(long)).toEqual({ shown: "x".repeat(SHOWN_CHARS), hidden: 1_000_000 - SHOWN_CHARS });
    expect(clipText("short")).toEqual({ shown: "short", hidden: 0 });
    expect(clipText("abcdef", 3)).toEqual({ shown: "abc", hidden: 3 });
  });

  it("formats small numbers without e-notation", () => {
    expect(formatValue(6.83e-7)).toBe("0.000000683");
    expect(formatValue(0.5)).toBe("0.5");
  });
});

describe("confusion counts of a saved epoch", () => {
  it("counts label x prediction pairs and leaves out-of-range classes", () => {
    const rows = confusionRows(Int32Array.of(0, 0, 1, 2, 5), Int32Array.of(0, 1, 1, 2, 0), 3);
    expect(rows.map((r) => Array.from(r))).toEqual([[1, 1, 0], [0, 1, 0], [0, 0, 1]]);
  });
});
