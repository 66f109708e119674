// The details panel: ground truth, prediction, loss and metadata of the selected sample, read
// from the rows the selection view holds (`source`) at the population view's epoch, so it
// works the same live and in a saved report. Every value is set with textContent.
// Below: the sample's nearest samples in perception space (the population view's
// `neighbours`, from the run's neighbour graph), clickable, with thumbnails when the page
// holds them.
import { decodeArray } from "./codecs.js";
import { thumbnail } from "./previews.js";
import { formatNumber } from "./scales.js";
import { SAVED_TRAITS } from "./page.js";
import { modelOf, needRows, rowFrom, sentNeighbours } from "./tables.js";

/** The neighbours of sample i from a (N, k) uint16 or int32 array ({view, dtype, shape}), or []. */
export function neighboursOf(raw, i) {
  const ids = decodeArray(raw);
  const shape = raw && raw.shape;
  if (!ids || !shape || shape.length !== 2 || !(i >= 0 && i < shape[0])) return [];
  const k = shape[1];
  return Array.from(ids.subarray(i * k, (i + 1) * k));
}

// Values longer than this show cut, with a "show all" button: laying out one 100 KB value in
// the table took the page 25 s (1 MB: minutes). The whole value opens in a read-only text box.
export const SHOWN_CHARS = 400;

const SHOWN_FIRST = ["sample_id", "label", "pred", "loss"];

/** A number or text as the panel shows it (4 significant digits for fractions). */
export function formatValue(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return "—";
    return Number.isInteger(v) ? String(v) : formatNumber(v, 4);
  }
  return String(v);
}

/** The name of class `i` (its index when there is no name for it). */
export function className(names, i) {
  return Number.isInteger(i) && i >= 0 && i < names.length ? names[i] : formatValue(i);
}

/** The panel's content: {title: {truth, pred, correct (null: not a class verdict)},
 * items: [[name, text], ...]}. */
/**
 * A multi-label row's true and predicted labels by name ({truth, pred}: "no label" when
 * none), or null for other runs. Its `label` and `pred` hold -1; `label_<name>` (0/1) and
 * `prob_<name>` (predicted at p >= 0.5) carry each label.
 */
export function labelSets(row, columns, names) {
  if (row.label !== -1 || !names || !names.some((n) => columns.includes(`label_${n}`))) return null;
  const on = (v) => v === true || v === 1;
  const truth = names.filter((n) => on(row[`label_${n}`]));
  const pred = names.filter((n) => typeof row[`prob_${n}`] === "number" && row[`prob_${n}`] >= 0.5);
  return { truth: truth.join(", ") || "no label", pred: pred.join(", ") || "no label" };
}

export function detailItems(row, columns, names, index) {
  const items = [["sample", formatValue(row.sample_id ?? index)]];
  const has = (c) => columns.includes(c);
  const sets = labelSets(row, columns, names);
  if (sets) items.push(["labels", sets.truth], ["predicted", sets.pred]);
  else {
    if (has("label")) items.push(["label", className(names, row.label)]);
    if (has("pred")) items.push(["prediction", className(names, row.pred)]);
  }
  if (has("loss")) items.push(["loss", formatValue(row.loss)]);
  const probs = columns
    .filter((c) => c.startsWith("prob_") && typeof row[c] === "number")
    .map((c) => [c.slice(5), row[c]])
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3);
  // a multi-label run's are independent probabilities, not shares of one choice
  const what = sets ? "label probabilities" : "top classes";
  if (probs.length) items.push([what, probs.map(([k, p]) => `${k} ${p.toFixed(2)}`).join(", ")]);
  for (const c of columns) {
    if (SHOWN_FIRST.includes(c) || c.startsWith("prob_")) continue;
    items.push([c, formatValue(row[c])]);
  }
  const title = sets ? { ...sets, correct: typeof row.correct === "boolean" ? row.correct : null }
    : has("label") && has("pred")
    ? { truth: className(names, row.label), pred: className(names, row.pred),
        // the recorded verdict, as the selection summary takes it: none for a regression
        // (a value predicted is not right or wrong), label == pred for a table without one
        correct: has("correct") ? (typeof row.correct === "boolean" ? row.correct : null)
          : row.label === row.pred }
    : null;
  return { title, items };
}

/** The first `limit` characters of a long text and how many were left out (0: none). */
export function clipText(text, limit = SHOWN_CHARS) {
  const s = String(text);
  return s.length > limit ? { shown: s.slice(0, limit), hidden: s.length - limit }
    : { shown: s, hidden: 0 };
}

/** A table cell for `text`: cut to SHOWN_CHARS with a toggle to see (and copy) all of it. */
export function valueCell(text, limit = SHOWN_CHARS) {
  const td = el("td");
  const { shown, hidden } = clipText(text, limit);
  if (!hidden) {
    td.textContent = shown;
    return td;
  }
  const short = el("span", "nbp-clipped", `${shown}…`);
  const more = el("button", "nbp-more", `show all (${String(text).length.toLocaleString("en-US")} characters)`);
  let full = null;
  more.onclick = () => {
    if (!full) {
      full = el("textarea", "nbp-full");
      full.readOnly = true;
      full.rows = 8;
      full.value = String(text); // a text box lays out a long value cheaply, and copies it
    }
    const open = full.isConnected;
    if (open) full.replaceWith(short);
    else short.replaceWith(full);
    more.textContent = open ? `show all (${String(text).length.toLocaleString("en-US")} characters)` : "show less";
  };
  td.append(short, more);
  return td;
}

/** A new element with a class and text content (never markup). */
export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A field name that may wrap after its underscores ("hamming_<wbr>accuracy"), not mid-word. */
export function fieldName(tag, name) {
  const e = el(tag);
  String(name).split("_").forEach((part, k, all) => {
    e.append(part + (k < all.length - 1 ? "_" : ""));
    if (k < all.length - 1) e.append(document.createElement("wbr"));
  });
  return e;
}

async function render({ model, el: root }) {
  const box = el("div", "nbp-details");
  root.append(box);
  const source = await modelOf(model, model.get("source"));
  const population = await modelOf(source, source.get("population"));

  const draw = () => {
    const i = model.get("selected");
    const columns = source.get("columns");
    box.replaceChildren();
    if (i >= 0 && !needRows(source, population, "details", [i], true)) {
      box.append(el("i", "nbp-empty", `loading sample ${i}…`)); // the kernel sends its row
      return;
    }
    const row = i >= 0 ? rowFrom(source, population, "details", i) : null;
    if (!row) {
      box.append(el("i", "nbp-empty", model.get("placeholder")));
      return;
    }
    const { title, items } = detailItems(row, columns, source.get("class_names"), i);
    if (title) {
      const mark = title.correct === null ? "" : title.correct ? "✔ " : "✘ ";
      const b = el("b", title.correct === null ? "" : title.correct ? "nbp-ok" : "nbp-wrong",
        `${mark}${title.truth} → ${title.pred}`);
      box.append(b);
    }
    const t = el("table");
    for (const [name, text] of items) {
      const tr = el("tr");
      tr.append(fieldName("th", name), valueCell(text));
      t.append(tr);
    }
    box.append(t);
    drawNeighbours(i, columns);
  };
  const drawNeighbours = (i, columns) => {
    const near = sentNeighbours(source, population, i) ??
      neighboursOf(population.get("neighbours"), i);
    const note = population.get("neighbours_note");
    if (!near.length && !note) return;
    const section = el("div", "nbp-neighbours");
    section.append(el("h4", null, "Nearest samples"));
    if (note) section.append(el("div", "nbp-neighbours-note", note));
    const names = source.get("class_names");
    const inline = population.get("preview_inline");
    const list = el("ol", "nbp-neighbour-list");
    for (const j of near) {
      const row = rowFrom(source, population, "details", j) || {};
      const li = el("li", "nbp-neighbour");
      li.dataset.sample = String(j);
      li.tabIndex = 0;
      li.setAttribute("role", "button");
      li.title = `select sample ${j}`;
      const img = thumbnail(inline, j);
      if (img) li.append(img);
      const parts = [`#${row.sample_id ?? j}`];
      const sets = labelSets(row, columns, names);
      if (sets) parts.push(sets.truth === sets.pred ? sets.truth : `${sets.truth} → ${sets.pred}`);
      else if (columns.includes("label")) {
        parts.push(columns.includes("pred") && row.pred !== row.label
          ? `${className(names, row.label)} → ${className(names, row.pred)}`
          : className(names, row.label));
      }
      if (columns.includes("loss")) parts.push(`loss ${formatValue(row.loss)}`);
      li.append(el("span", null, parts.join(" · ")));
      const go = () => {
        model.set("selected", j); // linked: the scatter, inspector and lists follow
        model.save_changes();
      };
      li.onclick = go;
      li.onkeydown = (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          go();
        }
      };
      list.append(li);
    }
    section.append(list);
    box.append(section);
  };
  draw();
  const listening = [
    [model, ["selected", "placeholder"]],
    [source, ["table", SAVED_TRAITS.selection, "columns", "class_names", "rows", "complete"]],
    [population, ["epoch", "neighbours", "neighbours_note", "preview_inline"]],
  ];
  for (const [m, names] of listening) for (const n of names) m.on(`change:${n}`, draw);
  return () => {
    for (const [m, names] of listening) for (const n of names) m.off(`change:${n}`, draw);
  };
}

export default { render };
