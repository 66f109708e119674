// @vitest-environment jsdom
// The inspector and the population view rendered through the real widget manager
// (tests/harness.js). jsdom has no WebGL: the population view shows its fallback.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { Manager, arr, createModel, display, until, viewPath } from "../harness.js";

afterEach(() => document.body.replaceChildren());
const CSS = readFileSync(viewPath("nbperceive.css"), "utf8");

async function inspector(manager, state = {}) {
  return createModel(manager, "inspector.js", {
    _css: CSS, method: "gradcam", methods: ["gradcam", "saliency"], input_name: "image",
    inputs: ["image"], sample: 0, shown: 0, model_epoch: 2, view_epoch: 2, weight_epochs: [0, 2],
    n_samples: 4, label: -1, depth: -1, depth_b: -1, opacity: 0.5, colormap: "jet",
    colormaps: ["jet", "viridis"], image: {}, tokens: [], class_names: ["cat", "dog"],
    y_true: -1, y_true_labels: [], multi_label: false, panels: [], saved: {}, status: "",
    error: "", ...state,
  });
}

describe("inspector (rendered)", () => {
  it("names the epoch whose model made the maps, and why when it is not the scatter's", async () => {
    const manager = new Manager();
    const model = await inspector(manager);
    const { el } = await display(manager, model);
    const note = await until(() => el.querySelector(".nbp-epoch-note"), "the epoch line");
    await until(() => note.textContent, "its text");
    expect(note.textContent).toBe("Heatmaps of the model after epoch 2.");
    model.set("view_epoch", 1); // the scatter moved to an epoch without saved weights
    await until(() => note.textContent.includes("Epoch 1 has no saved weights"), "the reason");
    expect(note.textContent).toContain("come from the model after epoch 2");
    expect(note.classList.contains("nbp-other")).toBe(true);
  });

  it("keeps a slider's arrow keys inside the widget", async () => {
    const manager = new Manager();
    const model = await inspector(manager);
    const { el } = await display(manager, model);
    const slider = await until(() => el.querySelector('input[type="range"]'), "a slider");
    const outside = [];
    document.body.addEventListener("keydown", (e) => outside.push(e.key));
    slider.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    expect(outside).toEqual([]); // JupyterLab would have moved the active cell
    // a run-cell shortcut still reaches the notebook
    slider.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", shiftKey: true, bubbles: true }));
    expect(outside).toEqual(["Enter"]);
    expect(el.querySelector("[data-lm-suppress-shortcuts]")).not.toBeNull();
  });

  it("sends a changed method to the kernel", async () => {
    const manager = new Manager();
    const model = await inspector(manager);
    const { el } = await display(manager, model);
    const select = await until(() => el.querySelector("select.nbp-select-method"), "the picker");
    await until(() => select.options.length === 2, "the methods");
    select.value = "saliency";
    select.dispatchEvent(new Event("change"));
    expect(model.get("method")).toBe("saliency");
    expect(manager.sent.at(-1)).toMatchObject({ method: "update", state: { method: "saliency" } });
  });
});

// a token panel as the kernel sends it: one depth (the input), labels cat/dog, 3 tokens
function tokenPanel(codes, ranges, signed) {
  return {
    title: "m", method: signed ? "integrated_gradients" : "gradcam", input_kind: "tokens",
    input_name: "ids", layers: ["ids"], depths: [0], labels: [0, 1], input_axes: [3],
    heatmaps: arr(new Uint8Array(codes), [1, 2, 3]), map_shapes: [[3]],
    ranges: arr(new Float32Array(ranges), [1, 2, 2]), signed,
    probabilities: arr(new Float32Array([0.3, 0.7])), prediction: 1,
  };
}

describe("inspector colour bar (rendered)", () => {
  const rgbOf = (css) => css.match(/\d+/g).slice(0, 3).map(Number);
  it("shows the shown map's own raw range, and follows the label", async () => {
    const manager = new Manager();
    const panel = tokenPanel([0, 128, 255, 255, 9, 0], [0, 0.0123, 0, 0.0000683], false);
    const model = await inspector(manager, { tokens: ["good", "bad", "fine"], panels: [panel], label: 0 });
    const { el } = await display(manager, model);
    const bar = await until(() => el.querySelector(".nbp-panel .nbp-colorbar"), "the colour bar");
    await until(() => bar.textContent.includes("0.0123"), "its numbers");
    expect([...bar.children].map((c) => c.textContent).filter(Boolean))
      .toEqual(["0", "0.0123", "(this map's own scale)"]);
    expect(el.querySelector(".nbp-token").title).toBe("attribution 0");
    model.set("label", 1); // the other map: its own scale, no e-notation
    await until(() => bar.textContent.includes("0.0000683"), "the other map's numbers");
    expect(bar.textContent).not.toMatch(/e-/);
  });

  it("paints a signed map blue against the label and red for it, with −a · 0 · +a", async () => {
    const manager = new Manager();
    const panel = tokenPanel([1, 128, 255, 128, 128, 128], [-0.5, 0.5, 0, 0], true);
    const model = await inspector(manager, {
      tokens: ["good", "bad", "fine"], panels: [panel], label: 0, colormap: "viridis", opacity: 0.8,
    });
    const { el } = await display(manager, model);
    const bar = await until(() => el.querySelector(".nbp-colorbar[data-signed='1']"), "a signed bar");
    expect([...bar.children].map((c) => c.textContent).filter(Boolean).slice(0, 3))
      .toEqual(["\u22120.5", "0", "+0.5"]);
    expect(bar.textContent).toContain("red: for cat, blue: against it");
    const [against, zero, forIt] = [...el.querySelectorAll(".nbp-token")];
    const [r0, , b0] = rgbOf(against.style.background);
    const [r1, , b1] = rgbOf(forIt.style.background);
    const [r2, g2, b2] = rgbOf(zero.style.background);
    expect(b0).toBeGreaterThan(r0 + 80); // blue although the chosen colormap is viridis
    expect(r1).toBeGreaterThan(b1 + 80);
    expect(r2 === g2 && g2 === b2).toBe(true); // 0: neutral
    expect(against.title).toBe("attribution \u22120.5");
    expect(forIt.title).toBe("attribution +0.5");
    expect(el.querySelector("select.nbp-select-colormap").disabled).toBe(true);
    model.set("label", 1); // an all-zero map: the flat note says for or against
    const depth = el.querySelector(".nbp-depth-text");
    await until(() => depth.textContent.includes("flat map"), "the flat note");
    expect(depth.textContent).toContain("no evidence for or against dog");
  });
});

describe("population view without WebGL (rendered)", () => {
  it("says on screen that WebGL is missing and how many points it cannot draw", async () => {
    const manager = new Manager();
    const n = 12345;
    const model = await createModel(manager, "population.js", {
      _css: CSS, x: arr(new Float32Array(n)), y: arr(new Float32Array(n)), channels: {},
      columns: [], color: "", size: "", selected: -1, selection: arr(new Uint32Array(0)),
      marked: arr(new Uint32Array(0)), only_marked: false, epochs: [], epoch: -1, height: 300,
      title: "", layout_status: "", layout_method: "pca", layout_methods: [], search: "",
      searchable: true, search_note: "", rows: {}, answers_search: false,
    });
    const { el } = await display(manager, model);
    const plot = await until(() => el.querySelector(".nbp-nowebgl"), "the fallback");
    expect(plot.textContent).toContain("WebGL is not available in this browser");
    expect(plot.textContent).toContain("12,345 points");
    expect(el.querySelector("canvas")).toBeNull();
    // the search box stays: typing and Enter send the query (the Explorer's table answers)
    const input = el.querySelector(".nbp-search input");
    expect(input).not.toBeNull();
    input.value = "label == 3";
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    expect(model.get("search")).toBe("label == 3");
    model.set("search_note", "cannot search: no column x");
    expect(el.querySelector(".nbp-search-note").textContent).toBe("cannot search: no column x");
    expect(el.querySelector(".nbp-search-note").classList.contains("nbp-bad")).toBe(true);
  });
});

describe("theme", () => {
  it("loads the views' styles: text, background, border and accent from --jp-* with a fallback", async () => {
    const manager = new Manager();
    const model = await inspector(manager);
    await display(manager, model);
    const style = await until(() => [...document.head.querySelectorAll("style")]
      .find((s) => s.textContent.includes("--nbp-fg")), "the views' stylesheet");
    const vars = [...style.textContent.matchAll(/(--nbp-[\w-]+):\s*([^;]+);/g)];
    expect(vars.length).toBeGreaterThan(5);
    const themed = vars.filter(([, name]) => /^--nbp-(fg|bg|border|accent)(-|$)/.test(name));
    expect(themed.length).toBeGreaterThanOrEqual(8);
    for (const [, name, value] of themed) expect(value, name).toMatch(/^var\(--jp-[\w-]+,\s*\S/);
    // the status colours, fixed in the light theme, have their dark-theme values
    const dark = style.textContent.split('data-jp-theme-light="false"')[1] ?? "";
    for (const name of ["--nbp-ok", "--nbp-wrong", "--nbp-error-fg"]) expect(dark).toContain(name);
  });
});
