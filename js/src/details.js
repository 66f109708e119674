// The details panel: ground truth, prediction, loss and metadata of the selected sample, read
// from the rows the selection view holds (`source`) at the population view's epoch, so it
// works the same live and in a saved report. Every value is set with textContent.
import { modelOf, rowOf, tableAt } from "./tables.js";

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

/** A new element with a class and text content (never markup). */
export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

async function render({ model, el: root }) {
  const style = el("style");
  style.textContent = CSS;
  const box = el("div", "nbp-details");
  root.append(style, box);
  const source = await modelOf(model, model.get("source"));
  const population = await modelOf(source, source.get("population"));

  const draw = () => {
    const i = model.get("selected");
    const columns = source.get("columns");
    const row = i >= 0 ? rowOf(tableAt(source, population), columns, i) : null;
    box.replaceChildren();
    if (!row) {
      box.append(el("i", "nbp-empty", model.get("placeholder")));
      return;
    }
    const { title, items } = detailItems(row, columns, source.get("class_names"), i);
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
  const listening = [
    [model, ["selected", "placeholder"]],
    [source, ["table", "epoch_tables", "columns", "class_names"]],
    [population, ["epoch"]],
  ];
  for (const [m, names] of listening) for (const n of names) m.on(`change:${n}`, draw);
  return () => {
    for (const [m, names] of listening) for (const n of names) m.off(`change:${n}`, draw);
  };
}

export default { render };
