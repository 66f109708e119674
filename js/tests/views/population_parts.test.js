// @vitest-environment jsdom
// The population view's UI parts (legend, layout and layer switches, structure button, search
// box) on a real widget model through the real widget manager (tests/harness.js), built as
// population.js builds them. jsdom has no WebGL, so the view itself shows only its fallback
// (tests/views/panels.test.js); here each part is mounted alone, as a user sees it in the bar.
import { afterEach, describe, expect, it } from "vitest";
import { Manager, arr, createModel, until } from "../harness.js";
import { decodeChannels, currentChannel, viewState } from "../../src/population/encoding.js";
import { renderLegend } from "../../src/population/legend.js";
import { layerSwitch, methodSwitch, searchBox } from "../../src/population/tools.js";
import { channelPickers } from "../../src/population/controls.js";
import { answerSearch } from "../../src/search.js";
import { decodeArray } from "../../src/codecs.js";

afterEach(() => document.body.replaceChildren());

/** A population model as PopulationView opens it (names from js/src/traits.json). */
async function population(manager, state = {}) {
  const model = await createModel(manager, null, {
    channels: {}, color: "", size: "", columns: [], point_size: 4, class_names: [],
    layout_method: "pca", layout_methods: ["pca", "umap", "tsne"], layout_layer: "",
    layout_layers: ["conv1", "dense"], structure: false, searchable: true, search: "",
    search_note: "", selected: -1, selection: arr(new Uint32Array(0)), preview_inline: {},
    ...state,
  });
  await until(() => manager.sent.length, "the model opened");
  manager.sent.splice(0); // the state it was opened with: not a message of the parts
  return model;
}
const mount = (...nodes) => {
  const el = document.createElement("div");
  document.body.append(el);
  el.append(...nodes);
  return el;
};
const updates = (manager, trait) => manager.sent
  .filter((m) => m.method === "update" && trait in m.state).map((m) => m.state[trait]);

describe("population legend (rendered from the model)", () => {
  // channels as serializers.encode_channel sends them: one code per point, 255 = missing
  const LABEL = { kind: "categorical", categories: ["cat", "dog", "frog"],
    codes: arr(Uint8Array.of(0, 1, 1, 2, 2, 2, 255)) };
  const LOSS = { kind: "continuous", domain: [0.0000683, 2.5], clipped: [false, true],
    codes: arr(Uint8Array.of(0, 127, 254, 254, 3, 9, 255)) };

  function legendOf(model, onToggle = () => {}) {
    const state = viewState();
    state.channels = decodeChannels(model.get("channels"));
    const legend = mount();
    legend.className = "nbp-legend";
    const draw = () => renderLegend(legend, {
      color: currentChannel(state, model, "color"), size: currentChannel(state, model, "size"),
      colorName: model.get("color"), sizeName: model.get("size"),
      pointSize: model.get("point_size"), hiddenCodes: state.hidden, onToggle, ramp: state.ramp,
    });
    draw();
    return { legend, state, draw };
  }

  it("lists the colour column's classes with their counts, missing last, as text", async () => {
    const manager = new Manager();
    const model = await population(manager, {
      channels: { label: { ...LABEL, categories: ["cat", "<b>dog</b>", "frog"] }, loss: LOSS },
      color: "label", size: "loss", columns: ["label", "loss"],
    });
    const { legend } = legendOf(model);
    expect(legend.querySelector(".nbp-legend-color-title").textContent).toBe("Colour: label");
    const rows = [...legend.querySelectorAll(".nbp-legend-color li")];
    expect(rows.map((li) => li.textContent)).toEqual(
      ["cat(1)", "<b>dog</b>(2)", "frog(3)", "missing(1)"]);
    expect(legend.querySelector("b")).toBeNull(); // a class name is text, never markup
    // each swatch its own colour, missing grey
    const swatches = rows.map((li) => li.querySelector(".nbp-swatch").style.background);
    expect(new Set(swatches).size).toBe(4);
    expect(legend.querySelector(".nbp-legend-size-title").textContent).toBe("Size: loss");
  });

  it("shows a continuous colour column as a ramp over its range, clipped ends marked", async () => {
    const manager = new Manager();
    const model = await population(manager, { channels: { loss: LOSS }, color: "loss" });
    const { legend } = legendOf(model);
    expect(legend.querySelector(".nbp-ramp").style.background).toMatch(/^linear-gradient/);
    expect(legend.querySelector(".nbp-min").textContent).toBe("0.0000683"); // no e-notation
    expect(legend.querySelector(".nbp-max").textContent).toBe("≥ 2.5"); // values above clipped
    expect(legend.querySelectorAll("li").length).toBe(0);
  });

  it("hides and shows a class on a click and follows a new colour column", async () => {
    const manager = new Manager();
    const model = await population(manager, {
      channels: { label: LABEL, loss: LOSS }, color: "label", columns: ["label", "loss"],
    });
    const toggles = [];
    const { legend, state, draw } = legendOf(model, () => toggles.push([...state.hidden]));
    legend.querySelector('li[data-code="1"]').click();
    expect(legend.querySelector('li[data-code="1"]').classList.contains("nbp-off")).toBe(true);
    expect(toggles).toEqual([[1]]);
    legend.querySelector('li[data-code="1"]').click();
    expect(toggles.at(-1)).toEqual([]);
    model.set("color", "loss"); // e.g. the Colour picker or Python
    draw();
    expect(legend.querySelector(".nbp-legend-color-title").textContent).toBe("Colour: loss");
    expect(legend.querySelector(".nbp-ramp")).not.toBeNull();
  });
});

/** A population model with its layout and layer switches mounted, as the bar holds them. */
async function switches() {
  const manager = new Manager();
  const model = await population(manager);
  const method = methodSwitch(model);
  const layer = layerSwitch(model);
  mount(method.label, layer.label);
  return { manager, model, method, layer };
}
/** A choice made in `select` as a user makes it. */
const choose = (select, value) => {
  select.value = value;
  select.dispatchEvent(new Event("change"));
};

describe("layout method and layer switches", () => {
  it("offer the model's methods and layers, and send the chosen one to the kernel", async () => {
    const { manager, model, method, layer } = await switches();
    expect([...method.select.options].map((o) => o.textContent)).toEqual(["PCA", "UMAP", "t-SNE"]);
    expect([...layer.select.options].map((o) => o.textContent)).toEqual(["all layers", "conv1", "dense"]);
    choose(method.select, "umap");
    expect(model.get("layout_method")).toBe("umap");
    choose(layer.select, "conv1");
    expect(model.get("layout_layer")).toBe("conv1");
    await until(() => updates(manager, "layout_layer").length, "the layer sent");
    expect(updates(manager, "layout_method")).toEqual(["umap"]);
    expect(updates(manager, "layout_layer")).toEqual(["conv1"]);
  });

  it("follow the model and hide with fewer than two choices (a saved page)", async () => {
    const { manager, model, method, layer } = await switches();
    model.set("layout_method", "tsne"); // Python switched it (e.g. explorer.layout("tsne"))
    method.render();
    expect(method.select.value).toBe("tsne");
    model.set({ layout_methods: ["pca"], layout_layers: [] });
    method.render();
    layer.render();
    expect(method.label.style.display).toBe("none");
    expect(layer.label.style.display).toBe("none");
  });
});

describe("colour and size pickers", () => {
  it("list the columns, size also 'same for all', and send the chosen one", async () => {
    const manager = new Manager();
    const model = await population(manager, { columns: ["label", "loss"], color: "label", size: "" });
    const pickers = channelPickers(model);
    mount(pickers.colorLabel, pickers.sizeLabel);
    const [color, size] = [pickers.colorLabel, pickers.sizeLabel].map((l) => l.querySelector("select"));
    expect([...color.options].map((o) => o.textContent)).toEqual(["label", "loss"]);
    expect([...size.options].map((o) => [o.value, o.textContent]))
      .toEqual([["", "same for all"], ["label", "label"], ["loss", "loss"]]);
    expect([color.value, size.value]).toEqual(["label", ""]);
    choose(size, "loss");
    await until(() => updates(manager, "size").length, "the size sent");
    choose(size, "");
    await until(() => updates(manager, "size").length > 1, "the size sent again");
    expect(updates(manager, "size")).toEqual(["loss", ""]);
  });
});

describe("search box", () => {
  const type = (input, text) => {
    input.focus();
    input.value = text;
    input.dispatchEvent(new Event("input"));
  };
  const key = (input, k) => input.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true }));

  it("sends the query once typing pauses, not on every key", async () => {
    const manager = new Manager();
    const model = await population(manager);
    const search = searchBox(model, () => {});
    mount(search.box);
    type(search.input, "lo");
    type(search.input, "loss > 1");
    expect(updates(manager, "search")).toEqual([]); // still typing
    await until(() => updates(manager, "search").length, "the debounced query");
    expect(updates(manager, "search")).toEqual(["loss > 1"]);
    expect(model.get("search")).toBe("loss > 1");
    search.destroy();
  });

  it("Enter sends at once and zooms to the matches; Escape empties the box and the query", async () => {
    const manager = new Manager();
    const model = await population(manager);
    const zooms = [];
    const search = searchBox(model, () => zooms.push(model.get("search")));
    mount(search.box);
    type(search.input, "dog");
    key(search.input, "Enter");
    expect(model.get("search")).toBe("dog"); // before the pause: Enter does not wait
    expect(zooms).toEqual(["dog"]);
    key(search.input, "Escape");
    expect(search.input.value).toBe("");
    expect(model.get("search")).toBe("");
    await until(() => updates(manager, "search").length === 2, "both sent");
    expect(updates(manager, "search")).toEqual(["dog", ""]);
    search.destroy();
  });

  it("shows the search note, a 'cannot ...' one marked bad, and hides when not searchable", async () => {
    const manager = new Manager();
    const model = await population(manager);
    const search = searchBox(model, () => {});
    mount(search.box);
    model.set("search_note", "3 matches");
    search.render();
    expect(search.note.textContent).toBe("3 matches");
    expect(search.note.classList.contains("nbp-bad")).toBe(false);
    model.set("search_note", "cannot search: no column 'los'");
    search.render();
    expect(search.note.textContent).toBe("cannot search: no column 'los'");
    expect(search.note.classList.contains("nbp-bad")).toBe(true);
    model.set("searchable", false);
    search.render();
    expect(search.box.style.display).toBe("none");
    search.destroy();
  });

  it("on its own, answers over its rows: matches selected, counted in the note; a bad query says why", async () => {
    const manager = new Manager();
    const rows = { // every sample's values, as selection.table_payload sends them
      label: { numbers: arr(Int32Array.of(0, 1, 1, 0)) },
      loss: { numbers: arr(Float64Array.of(0.1, 2.5, 0.3, 1.7)) },
    };
    const model = await population(manager, { rows, class_names: ["cat", "dog"] });
    const search = searchBox(model, () => {});
    mount(search.box);
    // population.js's wiring for a view with its own rows
    model.on("change:search", () => {
      search.render();
      answerSearch(model, rows, Object.keys(rows), model.get("class_names"));
    });
    model.on("change:search_note", search.render);
    type(search.input, "loss > 1");
    await until(() => search.note.textContent, "the note");
    expect(search.note.textContent).toBe("2 matches");
    expect([...decodeArray(model.get("selection"))]).toEqual([1, 3]);
    expect(search.note.classList.contains("nbp-bad")).toBe(false);
    type(search.input, "label == bird");
    await until(() => search.note.textContent.startsWith("cannot"), "the bad query's note");
    expect(search.note.textContent).toBe('cannot search: "bird" is not a class name (classes: cat, dog)');
    expect(search.note.classList.contains("nbp-bad")).toBe(true);
    expect([...decodeArray(model.get("selection"))]).toEqual([1, 3]); // kept, not emptied
    await until(() => updates(manager, "search_note").length >= 2, "the notes sent");
    search.destroy();
  });
});
