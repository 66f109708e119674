// The population view's tools: the lasso tool button, the search box, the layout-method
// switch and the legend of gestures and keys. Each returns its elements and small hooks; the
// view (population.js) wires them to the scatterplot and the model.
import { h } from "./dom.js";

/** Gestures and keys of the scatter, as the shortcuts legend lists them. */
export const SHORTCUTS = [
  ["click a point", "select it: details, neighbours and inspector follow"],
  ["drag · wheel", "pan · zoom"],
  ["shift+drag, or Lasso then drag", "select the points inside the lasso"],
  ["Esc · double-click", "clear the selection"],
  ["search box", "class names and text, or expressions: loss > 1 and label == 3, correct == False, pred != label"],
  ["Enter in the search box", "zoom to the matches (Reset view shows all again)"],
  ["click a legend entry", "hide or show that category"],
  ["Structure", "density contours and a label per cluster: dominant class and share · accuracy · size"],
  ["Layout · Layer", "lay the points out by PCA / UMAP / t-SNE, from all layers or one (needs a kernel)"],
  ["← → on the epoch slider", "previous · next epoch"],
];

/** The lasso tool: {button, on(), set(on)}; `apply(on)` switches the scatterplot's mode. */
export function lassoTool(apply) {
  // JupyterLab takes shift+drag on an output for "extend the cell selection": with the lasso
  // tool on, a plain drag lassos (as in jupyter-scatter's toolbar).
  const button = h("button", "nbp-lasso-tool", "Lasso");
  button.title = "lasso tool: drag to select points (off: drag pans; shift+drag lassos)";
  button.setAttribute("aria-pressed", "false");
  const on = () => button.classList.contains("nbp-on");
  const set = (value) => {
    button.classList.toggle("nbp-on", value);
    button.setAttribute("aria-pressed", String(value));
    apply(value);
  };
  button.addEventListener("click", () => set(!on()));
  return { button, on, set };
}

/**
 * The search box: typing (debounced) sets the model's `search`; Enter calls `onEnter()`; Esc
 * in the box clears it. {box, input, note, render()}: render() shows the model's state.
 */
export function searchBox(model, onEnter) {
  const box = h("label", "nbp-search");
  const input = h("input");
  input.type = "search";
  input.placeholder = "search: text or loss > 1 and label == 3";
  input.setAttribute("aria-label", "search samples");
  input.spellcheck = false;
  const note = h("span", "nbp-search-note");
  box.append(input, note);
  let timer = 0;
  const send = () => {
    clearTimeout(timer);
    if (model.get("search") === input.value) return;
    model.set("search", input.value);
    model.save_changes();
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(send, 250);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      send();
      onEnter();
    } else if (e.key === "Escape") {
      input.value = "";
      send();
    }
  });
  const render = () => {
    box.style.display = model.get("searchable") ? "" : "none";
    if (document.activeElement !== input) input.value = model.get("search");
    note.textContent = model.get("search_note");
    note.classList.toggle("nbp-bad", /^cannot/.test(model.get("search_note")));
  };
  render();
  return { box, input, note, render, destroy: () => clearTimeout(timer) };
}

/** The layout-method switch (hidden when the model offers fewer than two methods). */
export function methodSwitch(model) {
  const label = h("label", "nbp-method", "Layout ");
  const select = h("select");
  label.appendChild(select);
  select.addEventListener("change", () => {
    model.set("layout_method", select.value);
    model.save_changes();
  });
  const NAMES = { pca: "PCA", umap: "UMAP", tsne: "t-SNE" };
  const render = () => {
    const methods = model.get("layout_methods") || [];
    label.style.display = methods.length > 1 ? "" : "none";
    select.replaceChildren(...methods.map((m) => {
      const opt = h("option", null, NAMES[m] ?? m);
      opt.value = m;
      return opt;
    }));
    select.value = model.get("layout_method");
  };
  render();
  return { label, select, render };
}

/** The layer switch: the layout from one captured layer's perception vectors or from all
 * ("" = all; hidden when the model offers fewer than two layers, e.g. in a saved page). */
export function layerSwitch(model) {
  const label = h("label", "nbp-layer", "Layer ");
  const select = h("select");
  label.appendChild(select);
  label.title = "lay the points out by one layer's perception vectors, or by all layers'";
  select.addEventListener("change", () => {
    model.set("layout_layer", select.value);
    model.save_changes();
  });
  const render = () => {
    const layers = model.get("layout_layers") || [];
    label.style.display = layers.length > 1 ? "" : "none";
    select.replaceChildren(...["", ...layers].map((name) => {
      const opt = h("option", null, name || "all layers");
      opt.value = name;
      return opt;
    }));
    select.value = model.get("layout_layer");
  };
  render();
  return { label, select, render };
}

/** A "?" button and the shortcuts legend it opens and closes (inside the widget). */
export function shortcutsLegend() {
  const button = h("button", "nbp-help-button", "?");
  button.title = "gestures and keys";
  button.setAttribute("aria-expanded", "false");
  const panel = h("div", "nbp-help");
  panel.style.display = "none";
  panel.appendChild(h("h4", null, "Gestures and keys"));
  const dl = h("dl");
  for (const [gesture, what] of SHORTCUTS) dl.append(h("dt", null, gesture), h("dd", null, what));
  panel.appendChild(dl);
  button.addEventListener("click", () => {
    const open = panel.style.display === "none";
    panel.style.display = open ? "" : "none";
    button.setAttribute("aria-expanded", String(open));
  });
  return { button, panel };
}
