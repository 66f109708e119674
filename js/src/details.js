// The details panel: ground truth, prediction, loss and metadata of the selected sample.
// Live, Python sends the selected sample's raw values (`row`); a saved report carries every
// sample's values (`table`) and this view looks the selected one up itself, without a kernel.
// Every value is set with textContent: sample text is data, never markup.
import { decodeArray } from "./codecs.js";

const CSS = `
.nbp-details { font: 13px/1.4 system-ui, sans-serif; color: #222; padding: 4px 6px; }
.nbp-details table { border-collapse: collapse; margin-top: 4px; }
.nbp-details th { text-align: left; font-weight: 600; padding: 1px 10px 1px 0; color: #444;
  vertical-align: top; }
.nbp-details td { padding: 1px 0; overflow-wrap: anywhere; max-width: 360px; }
.nbp-details .nbp-empty { color: #666; font-style: italic; }
.nbp-details .nbp-ok { color: #1a7f37; }
.nbp-details .nbp-wrong { color: #c62828; }
`;
const SHOWN_FIRST = ["sample_id", "label", "pred", "loss"];

/** A number or text as the panel shows it (4 significant digits for fractions). */
export function formatValue(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return "—";
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  }
  return String(v);
}

/** The name of class `i` (its index when there is no name for it). */
export function className(names, i) {
  return Number.isInteger(i) && i >= 0 && i < names.length ? names[i] : formatValue(i);
}

/** Row `i` of a saved table ({column: {numbers | texts}}) as {column: value}. */
export function rowOf(table, columns, i) {
  const row = {};
  for (const c of columns) {
    const col = table[c];
    if (!col) continue;
    if (col.texts) row[c] = col.texts[i] ?? null;
    else {
      col.decoded ??= decodeArray(col.numbers);
      if (i < 0 || i >= col.decoded.length) return null;
      const v = col.decoded[i];
      row[c] = col.bool ? v !== 0 : Number.isNaN(v) ? null : v;
    }
  }
  return row;
}

/** The panel's content: {title: [truth, prediction, correct], items: [[name, text], ...]}. */
export function detailItems(row, columns, names, index) {
  const items = [["sample", formatValue(row.sample_id ?? index)]];
  const has = (c) => columns.includes(c);
  if (has("label")) items.push(["label", className(names, row.label)]);
  if (has("pred")) items.push(["prediction", className(names, row.pred)]);
  if (has("loss")) items.push(["loss", formatValue(row.loss)]);
  const probs = columns
    .filter((c) => c.startsWith("prob_") && typeof row[c] === "number")
    .map((c) => [c.slice(5), row[c]])
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3);
  if (probs.length) items.push(["top classes", probs.map(([k, p]) => `${k} ${p.toFixed(2)}`).join(", ")]);
  for (const c of columns) {
    if (SHOWN_FIRST.includes(c) || c.startsWith("prob_")) continue;
    items.push([c, formatValue(row[c])]);
  }
  const title = has("label") && has("pred")
    ? { truth: className(names, row.label), pred: className(names, row.pred),
        correct: row.label === row.pred }
    : null;
  return { title, items };
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function render({ model, el: root }) {
  const style = el("style");
  style.textContent = CSS;
  const box = el("div", "nbp-details");
  root.append(style, box);

  const draw = () => {
    const i = model.get("selected");
    const columns = model.get("columns");
    const table = (model.get("epoch_tables") || {})[String(model.get("epoch"))] ?? model.get("table");
    let row = null;
    if (i >= 0 && table && Object.keys(table).length) row = rowOf(table, columns, i);
    else if (i >= 0 && model.get("row_of") === i) row = model.get("row"); // not a stale row
    box.replaceChildren();
    if (!row) {
      box.append(el("i", "nbp-empty", model.get("placeholder")));
      return;
    }
    const { title, items } = detailItems(row, columns, model.get("class_names"), i);
    if (title) {
      const b = el("b", title.correct ? "nbp-ok" : "nbp-wrong",
        `${title.correct ? "✔" : "✘"} ${title.truth} → ${title.pred}`);
      box.append(b);
    }
    const t = el("table");
    for (const [name, text] of items) {
      const tr = el("tr");
      tr.append(el("th", "", name), el("td", "", text));
      t.append(tr);
    }
    box.append(t);
  };
  draw();
  const events = ["selected", "row", "row_of", "table", "columns", "class_names", "placeholder",
    "epoch", "epoch_tables"].map(
    (n) => `change:${n}`);
  for (const ev of events) model.on(ev, draw);
  return () => {
    for (const ev of events) model.off(ev, draw);
  };
}

export default { render };
