import { describe, expect, it } from "vitest";
import { parseQuery, searchRows } from "../src/search.js";

const view = (typed) => ({ view: new DataView(typed.buffer), dtype: typed.constructor.name
  .replace("Array", "").toLowerCase(), shape: [typed.length] });

const table = () => ({
  label: { numbers: view(new Int32Array([0, 1, 1, 0, 1])) },
  pred: { numbers: view(new Int32Array([0, 1, 0, 1, 1])) },
  loss: { numbers: view(new Float64Array([0.1, 2.5, 1.2, Number.NaN, 0.4])) },
  correct: { numbers: view(new Int32Array([1, 1, 0, 0, 1])), bool: true },
  source: { texts: ["web", "scan", "Web crawl", "", "<b>web</b>"] },
});
const cols = ["label", "pred", "loss", "correct", "source"];
const names = ["cat", "dog"];
const rows = (q, texts = null) => Array.from(searchRows(table(), cols, names, q, texts).rows);

describe("search", () => {
  it("evaluates pandas-style expressions over numbers, booleans and class names", () => {
    expect(rows("loss > 1")).toEqual([1, 2]);
    expect(rows("loss > 1 and label == 'dog'")).toEqual([1, 2]);
    expect(rows("label == cat or loss >= 2.5")).toEqual([0, 1, 3]);
    expect(rows("correct == False")).toEqual([2, 3]);
    expect(rows("pred != label")).toEqual([2, 3]);
    expect(rows("label == 1 & pred == 0")).toEqual([2]);
    expect(rows("source contains web")).toEqual([0, 2, 4]);
  });

  it("matches plain text in class names, text columns and preview texts, ignoring case", () => {
    expect(rows("do")).toEqual([1, 2, 3, 4]); // labelled or predicted dog
    expect(rows("CRAWL")).toEqual([2]);
    expect(rows("mat", ["a", "", "", "the mat", ""])).toEqual([3]);
    expect(rows("<b>")).toEqual([4]); // text is data: matched as characters
  });

  it("says what is wrong instead of selecting nothing silently", () => {
    const bad = searchRows(table(), cols, names, "label == horse");
    expect(bad.rows.length).toBe(0);
    expect(bad.note).toMatch(/not a class name/);
    expect(searchRows(table(), cols, names, "loss > big").note).toMatch(/holds numbers/);
    expect(searchRows(table(), cols, names, "loss > 1").note).toBe("2 matches");
    expect(searchRows(table(), cols, names, "").note).toBe("");
  });

  it("reads an unknown column as plain text, not an expression", () => {
    expect(parseQuery("weight > 3", cols)).toBe(null);
    expect(parseQuery("loss > 3", cols)).toEqual([[{ column: "loss", op: ">", right: { number: 3, text: "3" } }]]);
  });
});

import { neighboursOf } from "../src/details.js";
import { csvField, selectionCsv, sortRows } from "../src/selection.js";

describe("selection table", () => {
  it("sorts rows by a number or text column, missing values last, ties by index", () => {
    expect(sortRows(table(), [0, 1, 2, 3, 4], "loss")).toEqual([0, 4, 2, 1, 3]);
    expect(sortRows(table(), [0, 1, 2, 3, 4], "loss", true)).toEqual([1, 2, 4, 0, 3]);
    expect(sortRows(table(), [4, 2, 0], "label")).toEqual([0, 2, 4]);
    expect(sortRows(table(), [0, 1, 2], "source")).toEqual([1, 0, 2]);
  });

  it("exports CSV with class names and quoted fields", () => {
    expect(csvField('say "hi", then')).toBe('"say ""hi"", then"');
    const csv = selectionCsv(table(), ["label", "loss", "source"], names, [2, 3]);
    expect(csv).toBe("label,loss,source\ndog,1.2,Web crawl\ncat,,\n");
  });
});

describe("neighbours", () => {
  it("reads one sample's row of the (N, k) neighbour array", () => {
    const ids = new Int32Array([1, 2, 0, 2, 0, 1]);
    const raw = { view: new DataView(ids.buffer), dtype: "int32", shape: [3, 2] };
    expect(neighboursOf(raw, 1)).toEqual([0, 2]);
    expect(neighboursOf(raw, 3)).toEqual([]);
    expect(neighboursOf({ view: new DataView(new ArrayBuffer(0)), dtype: "int32", shape: [0, 0] }, 0)).toEqual([]);
  });
});
