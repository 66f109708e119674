import { describe, expect, it } from "vitest";
import { encodeArray } from "../src/codecs.js";
import { askFor, needColumns, needRows, rowFrom, rowOf, rowRequest, sentNeighbours, texts } from "../src/tables.js";

// the message names come from the widget (rows.py's ROW_REQUESTS), never from the page's code
const row_requests = { columns: "nbp-columns", rows: "nbp-rows" };

// A widget model as the views see it: traits by name, custom messages recorded.
function fakeModel(traits) {
  const sent = [];
  return { sent, get: (k) => traits[k], send: (m) => sent.push(m), set: (k, v) => { traits[k] = v; } };
}
const column = (typed) => ({ numbers: { view: new DataView(typed.buffer), dtype: typed.constructor.name.replace("Array", "").toLowerCase(), shape: [typed.length] } });

describe("rows asked from the kernel (live) or read from the page (saved)", () => {
  it("asks for the columns the table lacks, once the reply is there it has them", async () => {
    const population = fakeModel({ epoch: 1 });
    const source = fakeModel({ columns: ["label", "loss"], table: {}, complete: false, row_requests });
    expect(needColumns(source, population, ["label", "loss", "nope", null])).toBe(false);
    expect(source.sent).toEqual([]); // sent after the change that asked (a microtask later)
    await Promise.resolve();
    expect(source.sent).toEqual([{ type: "nbp-columns", names: ["label", "loss"] }]);
    source.set("table", { label: column(Uint8Array.of(1, 2)), loss: column(Float32Array.of(0.5, 1)) });
    expect(needColumns(source, population, ["label", "loss"])).toBe(true);
    expect(source.sent.length).toBe(1);
  });

  it("asks for rows by slot and reads them, with the details' nearest samples", async () => {
    const population = fakeModel({ epoch: 1 });
    const source = fakeModel({ columns: ["label"], table: {}, complete: false, rows: {}, row_requests });
    expect(needRows(source, population, "details", [7], true)).toBe(false);
    await Promise.resolve();
    expect(source.sent).toEqual([{ type: "nbp-rows", slot: "details", ids: [7], neighbours: true }]);
    expect(rowFrom(source, population, "details", 7)).toBe(null);
    source.set("rows", { details: { ids: column(Uint32Array.of(7, 3)).numbers, epoch: 1, neighbours: [3],
      table: { label: column(Uint8Array.of(4, 5)) } } });
    expect(needRows(source, population, "details", [7], true)).toBe(true);
    expect(rowFrom(source, population, "details", 3)).toEqual({ label: 5 });
    expect(sentNeighbours(source, population, 7)).toEqual([3]);
    // a click on neighbour 3: its row is at hand, its own nearest samples are not (the list
    // kept sample 7's, 3 first among them)
    expect(sentNeighbours(source, population, 3)).toEqual([]);
    source.sent.length = 0;
    expect(needRows(source, population, "details", [3], true)).toBe(false);
    expect(needRows(source, population, "page", [3])).toBe(false); // another slot: its own rows
    await Promise.resolve();
    expect(source.sent[0]).toEqual({ type: "nbp-rows", slot: "details", ids: [3], neighbours: true });
    population.set("epoch", 2); // another epoch: those rows are stale, asked again
    expect(needRows(source, population, "details", [7], true)).toBe(false);
  });

  it("asks once for what is on its way, again once a reply lacks it or the epoch moves", async () => {
    const population = fakeModel({ epoch: 1 });
    const source = fakeModel({ columns: ["label"], table: {}, complete: false, rows: {}, row_requests });
    // a view redraws on each change meanwhile (a columns reply, a hover...): one request each
    for (let k = 0; k < 3; k++) {
      expect(needRows(source, population, "page", [4, 5])).toBe(false);
      expect(needColumns(source, population, ["label"])).toBe(false);
    }
    await Promise.resolve();
    expect(source.sent.map((m) => m.type)).toEqual(["nbp-rows", "nbp-columns"]);
    // the details' rows came: the page's are still on their way
    const details = { ids: column(Uint32Array.of(4)).numbers, epoch: 1, table: {} };
    source.set("rows", { details });
    expect(needRows(source, population, "page", [4, 5])).toBe(false);
    await Promise.resolve();
    expect(source.sent.length).toBe(2);
    // the page's slot came with other rows (an earlier request): these are asked for again
    source.set("rows", { details, page: { ids: column(Uint32Array.of(9)).numbers, epoch: 1, table: {} } });
    expect(needRows(source, population, "page", [4, 5])).toBe(false);
    population.set("epoch", 2); // the scrubber moved: the columns at epoch 2 are asked for
    expect(needColumns(source, population, ["label"])).toBe(false);
    await Promise.resolve();
    expect(source.sent.map((m) => m.type)).toEqual(["nbp-rows", "nbp-columns", "nbp-rows",
      "nbp-columns"]);
  });

  it("asks again for rows it had, lost and needs back (click X, A, X, A)", async () => {
    const population = fakeModel({ epoch: 1 });
    const source = fakeModel({ columns: ["label"], table: {}, complete: false, rows: {}, row_requests });
    const reply = (i) => source.set("rows", { details: { ids: column(Uint32Array.of(i)).numbers,
      epoch: 1, neighbours: [], table: { label: column(Uint8Array.of(i)) } } });
    const click = (i) => needRows(source, population, "details", [i], true);
    expect(click(3)).toBe(false); // X
    reply(3);
    expect(click(3)).toBe(true); // its draw
    expect(click(7)).toBe(false); // A, asked while the slot holds X
    reply(7);
    expect(click(7)).toBe(true);
    expect(click(3)).toBe(false); // X again
    reply(3);
    expect(click(3)).toBe(true);
    expect(click(7)).toBe(false); // A again: the slot holds X, as when A was first asked for
    await Promise.resolve();
    expect(source.sent.map((m) => m.ids[0])).toEqual([3, 7, 3, 7]);
  });

  it("a saved page (complete) asks nothing and reads the whole table", async () => {
    const population = fakeModel({ epoch: 0 });
    const source = fakeModel({ columns: ["label"], complete: true, epoch_tables: {},
      table: { label: column(Uint8Array.of(9, 8, 7)) } });
    expect(needColumns(source, population, ["label"])).toBe(true);
    expect(needRows(source, population, "page", [2])).toBe(true);
    expect(rowFrom(source, population, "page", 2)).toEqual({ label: 7 });
    expect(sentNeighbours(source, population, 2)).toBe(null);
    await Promise.resolve();
    expect(source.sent).toEqual([]);
  });

  it("builds every request from the widget's names, and says when a widget has none", async () => {
    const view = fakeModel({ row_requests });
    askFor(view, "rows", { slot: "search" }); // a standalone population view's search rows
    await Promise.resolve();
    expect(view.sent).toEqual([{ type: "nbp-rows", slot: "search" }]);
    expect(() => rowRequest(fakeModel({}), "rows")).toThrow(/answers no rows request/);
  });
});

describe("a saved page's packed text columns", () => {
  // what texts_to_json writes for ["b<i>", "", "naïve", "b<i>"]: codes into distinct values
  const utf8 = new TextEncoder();
  const distinct = ["b<i>", "", "naïve"].map((t) => utf8.encode(t));
  const ends = [0];
  for (const b of distinct) ends.push(ends.at(-1) + b.length);
  const blob = new Uint8Array(ends.at(-1));
  distinct.forEach((b, k) => blob.set(b, ends[k]));
  const packed = () => ({ packed: { blob: encodeArray(blob), offsets: encodeArray(Uint32Array.from(ends)), codes: encodeArray(Uint8Array.of(0, 1, 2, 0)) } });

  it("reads as the texts of every row, and a row has them as any text column", () => {
    const col = packed();
    expect(texts(col)).toEqual(["b<i>", "", "naïve", "b<i>"]);
    expect(texts({ texts: ["x"] })).toEqual(["x"]);
    expect(texts(column(Uint8Array.of(1)))).toBeNull();
    const table = { note: packed(), label: column(Uint8Array.of(3, 1, 4, 1)) };
    expect(rowOf(table, ["note", "label"], 2)).toEqual({ note: "naïve", label: 4 });
  });
});
