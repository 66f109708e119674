// The Inspector view: one sample, its prediction, and its heatmap at every depth and label.
// Every depth x label map of the shown sample is already here (one uint8 array per model), so
// the depth slider, the label choice, the colormap and the opacity redraw without the kernel.
// Method / input / sample changes go to Python, which recomputes and sends new `panels`.
// Sample data (tokens, class names, layer names) is always set with textContent: never markup.
import { COLORMAP_NAMES, divergingLut, lut } from "./inspector/colormaps.js";
import {
  clampIndex, decode, isFlat, mapOf, prediction, probabilityOf, scaleOf, toRGBA,
} from "./inspector/arrays.js";
import { CSS, setOptions, showError } from "./inspector/dom.js";
import { FAITH_HELP, decodeScores, faithfulnessText } from "./inspector/faithfulness.js";
import { paintBars, paintColorbar, paintImage, paintTokens } from "./inspector/paint.js";
import { epochNote } from "./inspector/epochs.js";
import { isSavedInspector, sampleAt, sampleEpochs, savedSamples } from "./page.js";
import { h, keepKeys } from "./population/dom.js";
import { formatNumber } from "./scales.js";

class InspectorView {
  constructor(model, el) {
    this.model = model;
    this.el = el;
    this.panels = [];
    this.pending = "";
    this.root = h("div", "nbp-inspector");
    const style = h("style");
    style.textContent = CSS;
    this.root.append(style);
    this.buildControls();
    this.truth = h("div", "nbp-truth");
    this.panelBox = h("div", "nbp-panels");
    this.status = h("div", "nbp-status");
    this.epochNote = h("div", "nbp-epoch-note");
    this.error = h("div", "nbp-error");
    this.root.append(this.epochNote, this.truth, this.panelBox, this.status, this.error);
    keepKeys(this.root); // the depth slider's arrow keys stay here
    el.append(this.root);
  }

  set(name, value) {
    this.model.set(name, value);
    this.model.save_changes();
  }

  buildControls() {
    const c = h("div", "nbp-controls");
    this.sampleBox = h("label", "", "sample");
    this.prev = h("button", "", "◀");
    this.sampleInput = h("input");
    this.sampleInput.type = "number";
    this.sampleInput.min = "0";
    this.sampleOf = h("span");
    this.next = h("button", "", "▶");
    this.sampleBox.append(this.prev, this.sampleInput, this.sampleOf, this.next);
    const goto = (s) => {
      const n = this.model.get("n_samples");
      if (!Number.isInteger(s) || s < 0 || s >= n) return;
      this.pending = "computing…";
      this.set("sample", s);
      this.paintStatus();
    };
    this.prev.onclick = () => goto(this.model.get("shown") - 1);
    this.next.onclick = () => goto(this.model.get("shown") + 1);
    this.sampleInput.onchange = () => goto(Number(this.sampleInput.value));

    const select = (text, onchange) => {
      const l = h("label", "", text);
      const s = h("select", `nbp-select-${text}`);
      s.onchange = () => onchange(s.value);
      l.append(s);
      c.append(l);
      return [l, s];
    };
    c.append(this.sampleBox);
    [, this.method] = select("method", (v) => {
      this.pending = `computing ${v}…`;
      this.set("method", v);
      this.paintStatus();
    });
    [this.inputBox, this.input] = select("input", (v) => {
      this.pending = "computing…";
      this.set("input_name", v);
      this.paintStatus();
    });
    [, this.label] = select("label", (v) => this.set("label", Number(v)));
    [, this.cmap] = select("colormap", (v) => this.set("colormap", v));
    const ol = h("label", "", "opacity");
    this.opacity = h("input");
    this.opacity.type = "range";
    this.opacity.min = "0";
    this.opacity.max = "1";
    this.opacity.step = "0.05";
    this.opacity.oninput = () => this.set("opacity", Number(this.opacity.value));
    ol.append(this.opacity);
    c.append(ol);
    this.root.append(c);
  }

  className(c) {
    const names = this.model.get("class_names") || [];
    return c >= 0 && c < names.length ? names[c] : String(c);
  }

  // ---- data arrived (or the sample changed) ---------------------------------------------
  load() {
    const m = this.model;
    this.pending = "";
    const image = m.get("image");
    this.image = image && image.view ? decode(image) : null;
    this.rgba = this.image ? toRGBA(this.image) : null;
    this.panels = (m.get("panels") || []).map((p) => ({
      ...p,
      heat: decode(p.heatmaps),
      range: p.ranges ? decode(p.ranges) : null, // (L, K, 2): what codes 0 and 255 stand for
      probs: decode(p.probabilities).data,
      faith: decodeScores(p.faithfulness),
    }));
    this.panelBox.replaceChildren(...this.panels.map((p, i) => this.buildPanel(p, i)));
    this.syncControls();
    this.paint();
  }

  /** The axes a panel's maps are drawn at: the input's (older pages: the maps' own). */
  mapAxes(p) {
    return p.input_axes || p.heat.shape.slice(2);
  }

  buildPanel(p, i) {
    const box = h("div", "nbp-panel");
    box.dataset.panel = String(i);
    const title = h("div", "nbp-title", p.title);
    if (this.panels.length < 2) title.style.display = "none";
    const pred = h("div", "nbp-pred");
    let view;
    if (p.input_kind === "image" && this.image) {
      view = h("canvas", "nbp-view");
      const [hh, ww] = this.image.shape;
      const scale = Math.max(1, Math.floor(256 / Math.max(hh, ww)));
      view.width = ww * scale;
      view.height = hh * scale;
      p.scratch = h("canvas");
      p.scratch.width = ww;
      p.scratch.height = hh;
    } else {
      view = h("div", "nbp-tokens");
      p.spans = [];
      const tokens = this.model.get("tokens") || [];
      const n = Math.min(tokens.length, this.mapAxes(p).reduce((a, b) => a * b, 1));
      for (let t = 0; t < n; t++) {
        const s = h("span", "nbp-token", tokens[t]); // textContent: tokens are data, never markup
        p.spans.push(s);
        view.append(s, document.createTextNode(" "));
      }
      if (n === 0) view.append(h("span", "", "(no tokens to show)"));
    }
    const depth = h("div", "nbp-depth");
    const slider = h("input");
    slider.type = "range";
    slider.min = "0";
    slider.max = String(p.layers.length - 1);
    slider.step = "1";
    slider.disabled = p.layers.length < 2;
    slider.className = "nbp-depth-slider";
    const trait = i === 0 ? "depth" : "depth_b";
    slider.oninput = () => {
      this.set(trait, Number(slider.value));
      this.paint();
    };
    const depthText = h("span", "nbp-depth-text");
    depth.append(h("span", "", "depth"), slider, depthText);
    // each panel's own colour bar: its maps' numbers differ (each map is scaled on its own)
    const colorbar = h("div", "nbp-colorbar");
    const faithText = h("div", "nbp-faith");
    faithText.title = FAITH_HELP;
    const bars = h("div", "nbp-bars");
    if (p.input_kind === "image" && this.image) {
      // image panels: the probabilities sit beside the picture
      const left = h("div", "nbp-col");
      left.append(view, colorbar, depth, faithText);
      const row = h("div", "nbp-row");
      row.append(left, bars);
      box.append(title, pred, row);
    } else {
      box.append(title, pred, view, colorbar, depth, faithText, bars);
    }
    if (p.signed && p.layers.length < 2) {
      // a signed method explains at the input only: nothing to slide through
      slider.title = "this method gives one signed map, at the input";
    }
    Object.assign(p, { box, pred, view, slider, depthText, faithText, colorbar, bars, trait });
    return box;
  }

  syncControls() {
    const m = this.model;
    const n = m.get("n_samples");
    this.sampleBox.style.display = n > 1 ? "" : "none";
    this.sampleInput.max = String(n - 1);
    this.sampleInput.value = String(m.get("shown"));
    this.sampleOf.textContent = `/ ${n}`;
    setOptions(this.method, m.get("methods"));
    this.method.value = m.get("method");
    const inputs = m.get("inputs") || [];
    this.inputBox.style.display = inputs.length > 1 ? "" : "none";
    setOptions(this.input, inputs);
    this.input.value = m.get("input_name");
    const labels = this.panels.length ? this.panels[0].labels : [];
    setOptions(this.label, labels, (c) => this.className(c));
    this.label.value = String(m.get("label"));
    setOptions(this.cmap, m.get("colormaps").length ? m.get("colormaps") : COLORMAP_NAMES);
    this.cmap.value = m.get("colormap");
    // signed maps always use the blue-white-red diverging map (a sequential one hides the sign)
    const allSigned = this.panels.length > 0 && this.panels.every((p) => p.signed);
    this.cmap.disabled = allSigned;
    this.cmap.title = allSigned ? "signed maps use the diverging blue (against) - red (for) colormap" : "";
    this.opacity.value = String(m.get("opacity"));
  }

  // ---- pure front-end redraw -------------------------------------------------------------
  paint() {
    const m = this.model;
    const sequential = lut(m.get("colormap"));
    const opacity = m.get("opacity");
    const label = m.get("label");
    const truth = m.get("y_true");
    const truths = m.get("y_true_labels") || [];
    const multi = m.get("multi_label");
    const regression = m.get("regression");
    const target = m.get("y_value");
    this.truth.replaceChildren();
    if (regression) {
      if (target === null || target === undefined) this.truth.append(h("span", "", "target: not given"));
      else this.truth.append("target: ", h("b", "", formatNumber(target)));
    } else if (multi) {
      const names = truths.map((c) => this.className(c)).join(", ");
      this.truth.append("ground truth: ", h("b", "", names || "no label"));
    } else if (truths.length) {
      this.truth.append("ground truth: ", h("b", "", truths.map((c) => this.className(c)).join(", ")));
    } else if (truth >= 0) {
      this.truth.append("ground truth: ", h("b", "", this.className(truth)));
    } else {
      this.truth.append(h("span", "", "ground truth: not given"));
    }
    for (const p of this.panels) {
      const depth = clampIndex(m.get(p.trait), p.layers.length);
      p.slider.value = String(depth);
      p.depthText.textContent = `${p.layers[depth]} (depth ${p.depths[depth]}, ${depth + 1}/${p.layers.length})`;
      if (regression) {
        // the model's output values, and how far the first is from the target
        const values = Array.from(p.probs, (v) => formatNumber(v)).join(", ");
        p.pred.replaceChildren("prediction: ", h("b", "", values));
        if (target !== null && target !== undefined && p.probs.length) {
          p.pred.append(` · error ${formatNumber(p.probs[0] - target)}`);
        }
      } else if (multi) {
        // every label the model gives p >= 0.5; right when it is exactly the true set
        const said = Array.from(p.probs.keys()).filter((c) => p.probs[c] >= 0.5);
        const exact = said.length === truths.length && said.every((c) => truths.includes(c));
        p.pred.replaceChildren("prediction: ", h("b", exact ? "nbp-ok" : "nbp-wrong",
          said.map((c) => this.className(c)).join(", ") || "no label"));
      } else {
        const pr = prediction(p.probs);
        p.pred.replaceChildren(
          "prediction: ",
          h("b", truth < 0 ? "" : pr.cls === truth ? "nbp-ok" : "nbp-wrong", this.className(pr.cls)),
          ` (p=${pr.p.toFixed(3)})`,
        );
        if (truth >= 0) p.pred.append(` · p(true)=${probabilityOf(p.probs, truth).toFixed(3)}`);
      }
      const k = p.labels.indexOf(label);
      p.box.dataset.depth = String(depth);
      p.box.dataset.label = String(label);
      if (k < 0) {
        p.depthText.textContent += ` · label ${this.className(label)} not explained`;
      }
      p.faithText.textContent = k >= 0 ? faithfulnessText(p.faith, depth, k) : "";
      p.faithText.dataset.depth = String(depth);
      const weights = mapOf(p, depth, k < 0 ? 0 : k, this.mapAxes(p));
      const scale = scaleOf(p, depth, k < 0 ? 0 : k);
      const table = p.signed ? divergingLut() : sequential;
      p.box.dataset.flat = k >= 0 && isFlat(weights) ? "1" : "";
      p.box.dataset.signed = p.signed ? "1" : "";
      if (p.box.dataset.flat) {
        const what = p.signed ? "for or against" : "for";
        p.depthText.textContent += ` · flat map: no evidence ${what} ${this.className(label)} at this depth`;
      }
      if (p.spans) paintTokens(p, weights, table, opacity, scale);
      else paintImage(p, this.image, this.rgba, weights, table, opacity);
      paintColorbar(p.colorbar, table, scale, this.className(k < 0 ? p.labels[0] : label));
      if (regression) p.bars.replaceChildren(); // values, not class scores: no bars
      else {
        paintBars(p, label, multi ? truths : truth >= 0 ? [truth] : [], (c) => this.className(c),
          (c) => this.set("label", c));
      }
    }
    this.paintStatus();
  }

  paintStatus() {
    const m = this.model;
    const busy = m.get("status") === "computing" ? "computing…" : this.pending;
    this.status.textContent = busy;
    const err = m.get("error");
    this.error.textContent = err;
    this.error.style.display = err ? "" : "none";
    if (err) this.pending = "";
    this.status.textContent = err ? "" : busy;
    // Views agree on one sample: with none selected (nothing clicked yet, Esc) or one whose
    // maps a saved report lacks, no other sample's maps stay on screen.
    const s = m.get("sample");
    const saved = savedSamples(m);
    const blank = s < 0 || (saved.length > 0 && s !== m.get("shown") && !saved.includes(String(s)));
    this.root.classList.toggle("nbp-blank", blank);
    if (s < 0 && !err) this.status.textContent = "no sample selected: click a point or a list entry";
    // ... and on one epoch: say which epoch's model made the maps, and why when it is not
    // the epoch the scrubber shows
    const page = isSavedInspector(m);
    const text = epochNote(m.get("view_epoch"), m.get("model_epoch"), this.epochsAt(s), page);
    this.epochNote.textContent = blank ? "" : text;
    this.epochNote.style.display = blank || !text ? "none" : "";
    this.epochNote.dataset.epoch = String(m.get("model_epoch"));
    this.epochNote.classList.toggle("nbp-other", m.get("view_epoch") >= 0 &&
      m.get("view_epoch") !== m.get("model_epoch"));
    this.root.dataset.modelEpoch = String(m.get("model_epoch"));
    this.root.dataset.shown = String(m.get("shown")); // test hook: whose maps are painted
  }

  // Epochs whose maps can be shown for sample s: a saved page's for that sample, else the
  // epochs the run kept weights for (null: not known, no run).
  epochsAt(s) {
    if (isSavedInspector(this.model)) return sampleEpochs(this.model, s);
    const kept = this.model.get("weight_epochs") || [];
    return kept.length ? kept : null;
  }
}

const LOAD = ["panels", "image", "tokens", "class_names", "methods", "inputs", "n_samples"];
const PAINT = ["label", "depth", "depth_b", "opacity", "colormap", "y_true", "y_true_labels", "multi_label",
  "regression", "y_value", "method", "shown", "input_name"];
// the sample box follows a click at once; the maps are painted again when that sample's come
const CONTROLS = ["sample"];

function render({ model, el }) {
  let view;
  const safe = (fn) => () => {
    try {
      fn();
      el.querySelector(":scope > .nbp-js-error")?.remove(); // drawn again: the old error is gone
    } catch (err) {
      showError(el, err);
    }
  };
  const load = safe(() => view.load());
  const paint = safe(() => {
    view.syncControls();
    view.paint();
  });
  const controls = safe(() => view.syncControls());
  const status = safe(() => {
    if (model.get("status") !== "computing") view.pending = "";
    view.paintStatus();
  });
  try {
    view = new InspectorView(model, el);
    view.load();
  } catch (err) {
    showError(el, err);
  }
  // A saved report has no kernel: it carries the maps of some samples in `saved` and shows
  // them when a linked view (or the sample box) asks for one; live, `saved` is empty.
  // Each saved sample may carry maps of earlier epochs (entry.epochs[e], made by the model
  // after epoch e; entry.panels by the model after entry.epoch): the scrubber picks them.
  const fromSaved = safe(() => {
    const keys = savedSamples(model);
    const s = model.get("sample");
    if (!keys.length || s < 0) return;
    const entry = sampleAt(model, s, model.get("view_epoch"), model.get("model_epoch"));
    if (!entry) {
      if (s === model.get("shown")) return;
      const some = keys.slice(0, 12).join(", ") + (keys.length > 12 ? ", …" : "");
      view.pending = `sample ${s}: its heatmaps are not saved in this report (saved: ${some})`;
      view.paintStatus();
      return;
    }
    if (view.pending) { // a sample not saved was asked for before: this one is
      view.pending = "";
      view.paintStatus();
    }
    if (s === model.get("shown") && entry.epoch === model.get("model_epoch")) return;
    for (const name of ["image", "tokens", "y_true", "y_value", "y_true_labels"]) model.set(name, entry[name]);
    model.set("shown", s);
    model.set("model_epoch", entry.epoch);
    model.set("panels", entry.panels); // last: load() reads everything above
  });
  const note = safe(() => view.paintStatus()); // keeps a pending message
  const handlers = [
    ["change:sample", fromSaved],
    ["change:view_epoch", fromSaved],
    ...LOAD.map((n) => [`change:${n}`, load]),
    ...PAINT.map((n) => [`change:${n}`, paint]),
    ...CONTROLS.map((n) => [`change:${n}`, controls]),
    ["change:status", status],
    ...["sample", "shown", "view_epoch", "model_epoch", "weight_epochs"].map((n) => [`change:${n}`, note]),
    ["change:error", status],
  ];
  for (const [ev, fn] of handlers) model.on(ev, fn);
  // a saved page's links may have set `sample` before this view listened (e.g. to the
  // scatter's selected sample): show that one now
  if (model.get("sample") !== model.get("shown")) fromSaved();
  return () => {
    for (const [ev, fn] of handlers) model.off(ev, fn);
  };
}

export default { render };
