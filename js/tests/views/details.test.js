// @vitest-environment jsdom
// The details panel rendered through the real widget manager (tests/harness.js).
import { afterEach, describe, expect, it } from "vitest";
import { Manager, arr, createModel, display, ref, until } from "../harness.js";

afterEach(() => document.body.replaceChildren());

/** A selection view (the details' `source`) over 3 samples, saved-page style (`complete`). */
async function linked(manager, { complete = true, selected = -1 } = {}) {
  const population = await createModel(manager, null, {
    epoch: 0, neighbours: arr(Int32Array.of(1, 2, 0, 2, 0, 1), [3, 2]), neighbours_note: "",
    preview_inline: {},
  });
  const table = {
    sample_id: { numbers: arr(Int32Array.of(0, 1, 2)) },
    label: { numbers: arr(Int32Array.of(0, 1, 1)) },
    pred: { numbers: arr(Int32Array.of(0, 0, 1)) },
    loss: { numbers: arr(Float64Array.of(0.1, 2.5, 0.3)) },
    note: { texts: ["plain", "<img src=x onerror=\"window.pwned=1\">", "<b>bold</b>"] },
  };
  const source = await createModel(manager, null, {
    population: ref(population), columns: ["sample_id", "label", "pred", "loss", "note"],
    class_names: ["cat", "dog"], complete, table: complete ? table : {}, epoch_tables: {},
    row_requests: { columns: "columns", rows: "rows" },
    rows: {},
  });
  const details = await createModel(manager, "details.js", {
    source: ref(source), selected, placeholder: "click a point to see its details",
  });
  return { population, source, details, table };
}

const cells = (el) => Object.fromEntries([...el.querySelectorAll("tr")]
  .map((tr) => [tr.querySelector("th").textContent, tr.querySelector("td").textContent]));

describe("details panel (rendered)", () => {
  it("says what to do before a point is clicked", async () => {
    const manager = new Manager();
    const { details } = await linked(manager);
    const { el } = await display(manager, details);
    await until(() => el.querySelector(".nbp-empty"), "the placeholder");
    expect(el.textContent).toContain("click a point to see its details");
  });

  it("shows the selected sample's values as text, a markup label included", async () => {
    const manager = new Manager();
    const { details } = await linked(manager, { selected: 1 });
    const { el } = await display(manager, details);
    await until(() => el.querySelector("table"), "the details table");
    expect(el.querySelector("b").textContent).toBe("✘ dog → cat");
    const shown = cells(el);
    expect(shown).toMatchObject({ sample: "1", label: "dog", prediction: "cat", loss: "2.5" });
    expect(shown.note).toBe("<img src=x onerror=\"window.pwned=1\">");
    expect(el.querySelector("img")).toBeNull(); // the label stayed text: no element made
    expect(window.pwned).toBeUndefined();
  });

  it("follows `selected` and sets it when a nearest sample is clicked", async () => {
    const manager = new Manager();
    const { details } = await linked(manager, { selected: 0 });
    const { el } = await display(manager, details);
    await until(() => el.querySelector(".nbp-neighbour"), "the nearest samples");
    const near = [...el.querySelectorAll(".nbp-neighbour")];
    expect(near.map((li) => li.dataset.sample)).toEqual(["1", "2"]);
    expect(near[0].textContent).toBe("#1 · dog → cat · loss 2.5");
    near[1].click();
    expect(details.get("selected")).toBe(2);
    // saved through the comm as a state update, as the kernel would get it
    expect(manager.sent.at(-1)).toMatchObject({ method: "update", state: { selected: 2 } });
    await until(() => cells(el).sample === "2", "the clicked sample's details");
    expect(el.querySelector("b").textContent).toBe("✔ dog → dog");
    details.set("selected", 0); // from elsewhere (the scatter): the panel follows
    await until(() => cells(el).sample === "0", "sample 0's details");
  });

  it("live, asks the kernel for the row and shows it when the reply arrives", async () => {
    const manager = new Manager();
    const { source, details, table } = await linked(manager, { complete: false, selected: 1 });
    const { el } = await display(manager, details);
    await until(() => manager.customs().length, "a request for the row");
    expect(el.textContent).toContain("loading sample 1");
    expect(manager.customs()[0]).toEqual({ type: "rows", slot: "details", ids: [1], neighbours: true });
    const one = { // the row the kernel sends for sample 1
      sample_id: { numbers: arr(Int32Array.of(1)) }, label: { numbers: arr(Int32Array.of(1)) },
      pred: { numbers: arr(Int32Array.of(0)) }, loss: { numbers: arr(Float64Array.of(2.5)) },
      note: { texts: [table.note.texts[1]] },
    };
    source.set("rows", { details: { epoch: 0, ids: arr(Int32Array.of(1)), table: one, neighbours: [2] } });
    await until(() => el.querySelector("table"), "the row");
    expect(cells(el)).toMatchObject({ sample: "1", loss: "2.5" });
  });
});

describe("field names", () => {
  it("may wrap after an underscore, reading as the name itself", async () => {
    const { fieldName } = await import("../../src/details.js");
    const th = fieldName("th", "hamming_accuracy_top_k");
    expect(th.textContent).toBe("hamming_accuracy_top_k");
    expect(th.querySelectorAll("wbr").length).toBe(3);
    expect(fieldName("th", "loss").querySelectorAll("wbr").length).toBe(0);
  });
});
