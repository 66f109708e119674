// @vitest-environment jsdom
// The selection table, the suspects list and the story panel, rendered through the real widget
// manager (tests/harness.js).
import { afterEach, describe, expect, it } from "vitest";
import { Manager, arr, createModel, display, jslink, ref, until } from "../harness.js";

afterEach(() => document.body.replaceChildren());

const column = (el, name) => {
  const at = [...el.querySelectorAll("th")].findIndex((th) => th.dataset.column === name);
  return [...el.querySelectorAll("tbody tr, table tr")].filter((tr) => tr.dataset.sample)
    .map((tr) => tr.children[at].textContent);
};

describe("selection table (rendered)", () => {
  async function table(manager) {
    const population = await createModel(manager, null, {
      epoch: 0, selection: arr(Uint32Array.of(0, 1, 3)), selected: -1, search: "",
    });
    const selection = await createModel(manager, "selection.js", {
      population: ref(population), grid: null, columns: ["sample_id", "label", "loss"],
      class_names: ["cat", "dog"], complete: true, epoch_tables: {}, rows: {}, max_rows: 50,
      confusion_label: -1, table: {
        sample_id: { numbers: arr(Int32Array.of(0, 1, 2, 3)) },
        label: { numbers: arr(Int32Array.of(1, 0, 1, 1)) },
        loss: { numbers: arr(Float64Array.of(0.5, 2, 9, 0.1)) },
      },
    });
    return { population, selection };
  }

  it("lists the selected samples and sorts on a header click, again the other way", async () => {
    const manager = new Manager();
    const { selection } = await table(manager);
    const { el } = await display(manager, selection);
    await until(() => el.querySelector("tr[data-sample]"), "the rows");
    expect(el.querySelector(".nbp-summary").textContent).toContain("3 samples");
    expect(column(el, "sample_id")).toEqual(["0", "1", "3"]);
    expect(column(el, "label")).toEqual(["dog", "cat", "dog"]);
    el.querySelector('th[data-column="loss"]').click();
    expect(column(el, "loss")).toEqual(["0.1", "0.5", "2"]);
    expect(el.querySelector('th[data-column="loss"]').getAttribute("aria-sort")).toBe("ascending");
    el.querySelector('th[data-column="loss"]').click();
    expect(column(el, "loss")).toEqual(["2", "0.5", "0.1"]);
    expect(el.querySelector('th[data-column="loss"]').textContent).toBe("loss ▼");
  });

  it("selects a row's sample on click, and follows the selection", async () => {
    const manager = new Manager();
    const { population, selection } = await table(manager);
    const { el } = await display(manager, selection);
    await until(() => el.querySelector("tr[data-sample]"), "the rows");
    el.querySelector('tr[data-sample="3"]').click();
    expect(population.get("selected")).toBe(3);
    await until(() => el.querySelector('tr[data-sample="3"]').classList.contains("nbp-current"),
      "the clicked row marked");
    population.set("selection", arr(Uint32Array.of(2)));
    await until(() => column(el, "sample_id").join() === "2", "the new selection's rows");
  });
});

describe("suspects list (rendered)", () => {
  async function list(manager) {
    return createModel(manager, "sample_list.js", {
      ids: [7, 2, 5], texts: ["#7 dog?", "#2 <b>cat</b>?", "#5 cat?"], rows: 6, selected: -1,
      empty: "no suspects yet", status: "", thumbs: {}, sort_keys: { suspicion: [0.9, 0.5, 0.7] },
      sort_by: "suspicion", sort_descending: true, filter_label: "show only suspects",
      filter_on: false,
    });
  }

  it("lists the samples as text in the chosen order and selects on click", async () => {
    const manager = new Manager();
    const model = await list(manager);
    const { el } = await display(manager, model);
    await until(() => el.querySelector(".nbp-sample"), "the list");
    const ids = () => [...el.querySelectorAll(".nbp-sample")].map((e) => e.dataset.sample);
    expect(ids()).toEqual(["7", "5", "2"]);
    expect(el.querySelector('[data-sample="2"]').textContent).toBe("#2 <b>cat</b>?");
    expect(el.querySelector(".nbp-sample b")).toBeNull();
    el.querySelector('[data-sample="5"]').click();
    expect(model.get("selected")).toBe(5);
  });

  it("its show-suspects box toggles the scatter's only_marked through the explorer's jslink", async () => {
    const manager = new Manager();
    const model = await list(manager);
    const population = await createModel(manager, null, { only_marked: false });
    await jslink(manager, [model, "filter_on"], [population, "only_marked"]);
    const { el } = await display(manager, model);
    const box = await until(() => el.querySelector(".nbp-filter input"), "the checkbox");
    expect(el.querySelector(".nbp-filter").textContent).toContain("show only suspects");
    box.click(); // jsdom fires the change a user's click does
    expect(model.get("filter_on")).toBe(true);
    expect(population.get("only_marked")).toBe(true);
    box.click();
    expect(population.get("only_marked")).toBe(false);
    population.set("only_marked", true); // and back: the box follows
    await until(() => box.checked, "the box checked");
  });
});

describe("story panel (rendered)", () => {
  it("draws one point per epoch for each series and says the parts in words", async () => {
    const manager = new Manager();
    const story = {
      label: 0, pred: 1, rank: 0, epochs: [0, 1, 2, 3], p_label: [0.5, 0.2, 0.05, 0.04],
      margin: [0, -0.6, -0.9, -0.95], forgotten: [false, true, false, false],
      neighbours: [4, 9], neighbour_labels: [1, 1],
      parts: { p_label: 0.04, knn_label: 0, neighbour_weight: 0.6, belief: 0.1,
        class_threshold: 0.8, label_quality: 0.1, suspicion: 0.9, layer: "dense", epoch: 3, k: 2 },
    };
    const model = await createModel(manager, "story.js", {
      class_names: ["neg", "pos"], selected: 3, stories: { 3: story }, ranked: true,
      status: "", placeholder: "pick a suspect",
    });
    const { el } = await display(manager, model);
    await until(() => el.querySelector("svg circle"), "the chart");
    expect(el.querySelectorAll("circle.nbp-story-p")).toHaveLength(4);
    expect(el.querySelectorAll("circle.nbp-story-m")).toHaveLength(4);
    expect(el.querySelector("circle.nbp-story-p title").textContent).toBe("epoch 0: p_label 0.50");
    expect(el.querySelector(".nbp-story-key").textContent).toContain("forgotten");
    expect(el.querySelector(".nbp-story-words").textContent).toContain("“neg”");
    const nb = el.querySelector(".nbp-story-nb");
    expect(nb.textContent).toBe("#4 pos");
    model.set("selected", -1);
    await until(() => el.textContent.includes("pick a suspect"), "the placeholder");
  });
});
