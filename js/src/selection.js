// The selection view: summary and table of the lassoed samples, and the link from a
// confusion-matrix cell (label r, prediction c) to those samples. All in the page, from the
// saved values of every sample, so it works without a kernel. Cells are set as textContent.
import { decodeArray, encodeArray } from "./codecs.js";
import { className, clipText, el, formatValue } from "./details.js";
import { modelOf, numbers, rowOf, tableAt } from "./tables.js";


/** Samples whose (label, pred) is one of `cells` ([[label, pred], ...]), ascending. */
export function samplesInCells(label, pred, cells) {
  const want = new Set(cells.map(([r, c]) => `${r},${c}`));
  const out = [];
  for (let i = 0; i < label.length; i++) if (want.has(`${label[i]},${pred[i]}`)) out.push(i);
  return Uint32Array.from(out);
}

/** Confusion counts: rows[label][pred] over n classes (labels or predictions outside: left out). */
export function confusionRows(label, pred, n) {
  const rows = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < label.length; i++) {
    const r = label[i], c = pred[i];
    if (r >= 0 && r < n && c >= 0 && c < n) rows[r][c] += 1;
  }
  return rows;
}

/** The (row, column) of every sample in the confusion grid: (label, pred) of a classifier;
 * for a multi-label run's label `picked`, (label_<picked>, prob_<picked> >= 0.5) as 0/1. */
export function gridAxes(table, picked) {
  if (!picked) return { label: numbers(table, "label"), pred: numbers(table, "pred") };
  const truth = numbers(table, `label_${picked}`);
  const prob = numbers(table, `prob_${picked}`);
  if (!truth || !prob) return { label: null, pred: null };
  return { label: truth, pred: Uint8Array.from(prob, (p) => (p >= 0.5 ? 1 : 0)) };
}

/** bqplot's `selected` of a grid ([[r, c], ...], a flat typed array, or {data, shape}) as pairs. */
export function cellPairs(value) {
  if (value == null) return [];
  const flat = value.data ?? value;
  if (Array.isArray(flat) && flat.length && Array.isArray(flat[0])) return flat.map((p) => [Number(p[0]), Number(p[1])]);
  const list = Array.from(flat, Number);
  const out = [];
  for (let k = 0; k + 1 < list.length; k += 2) out.push([list[k], list[k + 1]]);
  return out;
}

/** "N samples · accuracy A% · mean loss L · labels a: n, ..." of the selected rows. */
export function summaryText(table, names, rows) {
  if (!rows.length) return "";
  const label = numbers(table, "label");
  const pred = numbers(table, "pred");
  const loss = numbers(table, "loss");
  const parts = [`${rows.length} samples`];
  // recorded hits (multi-label: exact match of every label); none without labels (NaN)
  const recorded = numbers(table, "correct");
  const correct = recorded && rows.some((i) => Number.isFinite(recorded[i])) ? recorded : null;
  if (correct || (label && pred)) {
    const hit = correct ? (i) => correct[i] === 1 : (i) => label[i] === pred[i];
    const right = rows.reduce((n, i) => n + (hit(i) ? 1 : 0), 0);
    parts.push(`accuracy ${((100 * right) / rows.length).toFixed(1)}%`);
  }
  if (loss) {
    const finite = rows.map((i) => loss[i]).filter(Number.isFinite);
    if (finite.length) parts.push(`mean loss ${formatValue(finite.reduce((a, b) => a + b, 0) / finite.length)}`);
  }
  if (label && rows.some((i) => label[i] >= 0)) {
    const counts = new Map();
    for (const i of rows) counts.set(label[i], (counts.get(label[i]) || 0) + 1);
    const mix = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 5);
    parts.push(`labels ${mix.map(([k, n]) => `${className(names, k)}: ${n}`).join(", ")}`);
  }
  return parts.join(" · ");
}

async function render({ model, el: root }) {
  const box = el("div", "nbp-selection");
  const summary = el("div", "nbp-summary");
  const rowsBox = el("div", "nbp-rows");
  box.append(summary, rowsBox);
  root.append(box);
  const population = await modelOf(model, model.get("population"));
  const grid = await modelOf(model, model.get("grid"));

  const currentTable = () => tableAt(model, population);
  // the multi-label run's picked label ("" for a confusion of classes)
  const picked = () => {
    const k = model.get("confusion_label");
    return k >= 0 ? (model.get("class_names") || [])[k] ?? "" : "";
  };
  const draw = () => {
    const table = currentTable();
    const columns = model.get("columns");
    const names = model.get("class_names");
    const sel = decodeArray(population.get("selection")) || new Uint32Array(0);
    const rows = Array.from(sel).sort((a, b) => a - b);
    rowsBox.replaceChildren();
    if (!rows.length) {
      summary.replaceChildren(el("i", "nbp-empty",
        "no selection: lasso points in the scatter or click a confusion-matrix cell"));
      return;
    }
    summary.textContent = summaryText(table, names, rows);
    const t = el("table");
    const head = el("tr");
    for (const c of columns) head.append(el("th", "", c));
    t.append(head);
    for (const i of rows.slice(0, model.get("max_rows"))) {
      const row = rowOf(table, columns, i);
      if (!row) continue;
      const tr = el("tr");
      for (const c of columns) {
        const { shown, hidden } = clipText(formatValue(row[c]), 80); // cells are one line
        tr.append(el("td", "", hidden ? `${shown}…` : shown));
      }
      t.append(tr);
    }
    rowsBox.append(t);
    if (rows.length > model.get("max_rows")) {
      rowsBox.append(el("i", "nbp-empty", `first ${model.get("max_rows")} of ${rows.length} shown`));
    }
  };
  const onCell = () => {
    const cells = cellPairs(grid.get("selected"));
    if (!cells.length) return;
    const { label, pred } = gridAxes(currentTable(), picked());
    if (!label || !pred) return;
    population.set("selection", encodeArray(samplesInCells(label, pred, cells)));
    population.save_changes();
  };
  // A saved report scrubs epochs without a kernel: the confusion matrix follows the epoch
  // from that epoch's rows (live, the kernel sends it), so a cell click selects what it shows.
  // A multi-label run's picked label is recounted here too (live and saved alike).
  const recount = () => {
    const { label, pred } = gridAxes(currentTable(), picked());
    const n = (grid.get("color") || []).length;
    if (label && pred && n) grid.set("color", confusionRows(label, pred, n));
  };
  const onEpoch = () => {
    if (grid && Object.keys(model.get("epoch_tables") || {}).length) recount();
  };
  const onPicked = () => {
    if (grid && picked()) recount();
  };
  draw();
  onEpoch();
  population.on("change:epoch", onEpoch);
  model.on("change:confusion_label", onPicked);
  const mine = ["change:table", "change:epoch_tables", "change:columns", "change:class_names",
    "change:max_rows"];
  for (const ev of mine) model.on(ev, draw);
  population.on("change:selection", draw);
  population.on("change:epoch", draw);
  if (grid) grid.on("change:selected", onCell);
  return () => {
    for (const ev of mine) model.off(ev, draw);
    population.off("change:selection", draw);
    population.off("change:epoch", draw);
    population.off("change:epoch", onEpoch);
    model.off("change:confusion_label", onPicked);
    if (grid) grid.off("change:selected", onCell);
  };
}

export default { render };
