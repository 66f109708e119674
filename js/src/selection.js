// The selection view: summary and table of the lassoed samples, and the link from a
// confusion-matrix cell (label r, prediction c) to those samples. All in the page, from the
// saved values of every sample, so it works without a kernel. Cells are set as textContent.
// It also answers the scatter's search box (search.js over these rows): the matches become
// the selection. The table sorts by a click on a header, a row click selects its sample, and
// the selected ids or rows download as a text / CSV file from the page. Live, the columns each
// of these needs (and the rows the table shows) are asked from the kernel when needed
// (tables.js: needColumns, needRows); a saved page holds them all.
import { decodeArray, encodeArray } from "./codecs.js";
import { className, clipText, el, formatValue } from "./details.js";
import { thumbnail } from "./previews.js";
import { answerSearch } from "./search.js";
import { modelOf, needColumns, needRows, numbers, rowFrom, rowOf, texts } from "./tables.js";
import { SAVED_TRAITS, hasEpochTables, tableAt } from "./page.js";

// the columns the summary reads (summaryText)
export const SUMMARY_COLUMNS = ["label", "pred", "loss", "correct"];

/** The columns gridAxes reads for the picked label ("" : a confusion of classes). */
export function axesColumns(picked) {
  return picked ? [`label_${picked}`, `prob_${picked}`] : ["label", "pred"];
}

/** `rows` (sample indices) sorted by column `key` of `table` (numbers or text), stable. */
export function sortRows(table, rows, key, descending = false) {
  if (!key) return rows.slice();
  const col = table[key];
  if (!col) return rows.slice();
  const words = texts(col);
  const values = words ?? numbers(table, key);
  const missing = (v) => v === null || v === undefined || v === "" || Number.isNaN(v);
  const sign = descending ? -1 : 1;
  return rows.slice().sort((a, b) => {
    const va = values[a], vb = values[b];
    if (missing(va) || missing(vb)) return missing(va) - missing(vb) || a - b; // last
    const c = words ? String(va).localeCompare(String(vb)) : va - vb;
    return sign * c || a - b;
  });
}

/** A CSV field: quoted when it holds a comma, quote or line break (RFC 4180). */
export function csvField(value) {
  const s = value === null || value === undefined ? "" : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The rows as CSV text: a header, then one line per sample (class columns by name). */
export function selectionCsv(table, columns, names, rows) {
  const lines = [columns.map(csvField).join(",")];
  for (const i of rows) {
    const row = rowOf(table, columns, i);
    if (!row) continue;
    lines.push(columns.map((c) => csvField(
      (c === "label" || c === "pred") && names.length ? className(names, row[c]) : row[c])).join(","));
  }
  return lines.join("\n") + "\n";
}

function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.style.display = "none";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}


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
  const actions = el("div", "nbp-actions");
  const csvBtn = el("button", "nbp-export-csv", "Download CSV");
  csvBtn.title = "the selected samples' rows (every column) as a CSV file";
  const idsBtn = el("button", "nbp-export-ids", "Download ids");
  idsBtn.title = "the selected samples' ids, one a line";
  actions.append(csvBtn, idsBtn);
  const rowsBox = el("div", "nbp-rows");
  box.append(summary, actions, rowsBox);
  root.append(box);
  const population = await modelOf(model, model.get("population"));
  const grid = await modelOf(model, model.get("grid"));
  const sort = { key: null, descending: false };

  const currentTable = () => tableAt(model, population);
  // work that waits for columns from the kernel: [names, fn], run when `table` has them
  let waiting = [];
  const withColumns = (names, fn) => {
    if (needColumns(model, population, names)) fn();
    else waiting.push([names, fn]);
  };
  const onTable = () => {
    const ready = waiting.filter(([names]) => needColumns(model, population, names));
    waiting = waiting.filter((w) => !ready.includes(w));
    for (const [, fn] of ready) fn();
    draw();
  };
  const selectedIds = () => {
    const sel = decodeArray(population.get("selection")) || new Uint32Array(0);
    return Array.from(sel).sort((a, b) => a - b);
  };
  const selectedRows = () => sortRows(currentTable(), selectedIds(), sort.key, sort.descending);
  const select = (i) => {
    population.set("selected", i); // the population view keeps the selection when i is in it
    population.save_changes();
  };
  const mark = () => {
    const one = population.get("selected");
    for (const tr of rowsBox.querySelectorAll("tr[data-sample]")) {
      tr.classList.toggle("nbp-current", Number(tr.dataset.sample) === one);
    }
  };
  // the multi-label run's picked label ("" for a confusion of classes)
  const picked = () => {
    const k = model.get("confusion_label");
    return k >= 0 ? (model.get("class_names") || [])[k] ?? "" : "";
  };
  const draw = () => {
    const table = currentTable();
    const columns = model.get("columns");
    const names = model.get("class_names");
    const inline = population.get("preview_inline");
    rowsBox.replaceChildren();
    const any = selectedIds().length > 0;
    actions.style.display = any ? "" : "none";
    if (!any) {
      summary.replaceChildren(el("i", "nbp-empty",
        "no selection: lasso points in the scatter, search, or click a confusion-matrix cell"));
      return;
    }
    if (!needColumns(model, population, [...SUMMARY_COLUMNS, sort.key])) {
      summary.replaceChildren(el("i", "nbp-empty", "loading the selection's values…"));
      return; // the kernel sends the columns: `table` changes, draw again
    }
    const rows = selectedRows();
    summary.textContent = summaryText(table, names, rows);
    const shown = rows.slice(0, model.get("max_rows"));
    if (!needRows(model, population, "page", shown)) {
      rowsBox.append(el("i", "nbp-empty", `loading ${shown.length} rows…`));
      return; // the kernel sends them: `rows` changes, draw again
    }
    const t = el("table");
    const head = el("tr");
    const thumbs = Boolean(inline && inline.png);
    if (thumbs) head.append(el("th", "nbp-thumb-col", ""));
    for (const c of columns) {
      const th = el("th", "nbp-sortable", c + (sort.key === c ? (sort.descending ? " ▼" : " ▲") : ""));
      th.dataset.column = c;
      th.title = "sort by this column (again: the other way)";
      th.setAttribute("aria-sort", sort.key === c ? (sort.descending ? "descending" : "ascending") : "none");
      th.onclick = () => {
        sort.descending = sort.key === c ? !sort.descending : false;
        sort.key = c;
        draw();
      };
      head.append(th);
    }
    t.append(head);
    for (const i of shown) {
      const row = rowFrom(model, population, "page", i);
      if (!row) continue;
      const tr = el("tr");
      tr.dataset.sample = String(i);
      tr.title = `select sample ${i}`;
      tr.onclick = () => select(i);
      if (thumbs) {
        const td = el("td", "nbp-thumb-col");
        const img = thumbnail(inline, i);
        if (img) td.append(img);
        tr.append(td);
      }
      for (const c of columns) {
        const value = (c === "label" || c === "pred") && names.length ? className(names, row[c]) : formatValue(row[c]);
        const { shown: text, hidden } = clipText(value, 80); // cells are one line
        tr.append(el("td", "", hidden ? `${text}…` : text));
      }
      t.append(tr);
    }
    rowsBox.append(t);
    mark();
    if (rows.length > model.get("max_rows")) {
      rowsBox.append(el("i", "nbp-empty", `first ${model.get("max_rows")} of ${rows.length} shown (the downloads hold all)`));
    }
  };
  csvBtn.onclick = () => withColumns(model.get("columns"), () => download("selection.csv",
    selectionCsv(currentTable(), model.get("columns"), model.get("class_names"), selectedRows()), "text/csv"));
  idsBtn.onclick = () => withColumns(["sample_id", sort.key], () => {
    const ids = numbers(currentTable(), "sample_id");
    const rows = selectedRows();
    download("selection-ids.txt", rows.map((i) => (ids ? ids[i] : i)).join("\n") + "\n", "text/plain");
  });
  const onCell = () => {
    const cells = cellPairs(grid.get("selected"));
    if (!cells.length) return;
    withColumns(axesColumns(picked()), () => {
      const { label, pred } = gridAxes(currentTable(), picked());
      if (!label || !pred) return;
      population.set("selection", encodeArray(samplesInCells(label, pred, cells)));
      population.save_changes();
    });
  };
  // The scatter's search box: its query over this epoch's rows (and the preview texts)
  // selects the matches; the box shows how many (or what is wrong with the query).
  const onSearch = () => {
    if (!needColumns(model, population, model.get("columns"))) { // a query may read any column
      population.set("search_note", "searching…");
      population.save_changes();
      waiting.push([model.get("columns"), onSearch]);
      return;
    }
    answerSearch(population, currentTable(), model.get("columns"), model.get("class_names"));
  };
  const onSearchEpoch = () => {
    if (String(population.get("search")).trim()) onSearch(); // the matches of this epoch
  };
  // A saved report scrubs epochs without a kernel: the confusion matrix follows the epoch
  // from that epoch's rows (live, the kernel sends it), so a cell click selects what it shows.
  // A multi-label run's picked label is recounted here too (live and saved alike).
  const recount = () => withColumns(axesColumns(picked()), () => {
    const { label, pred } = gridAxes(currentTable(), picked());
    const n = (grid.get("color") || []).length;
    if (label && pred && n) grid.set("color", confusionRows(label, pred, n));
  });
  const onEpoch = () => {
    if (grid && hasEpochTables(model)) recount();
  };
  const onPicked = () => {
    if (grid && picked()) recount();
  };
  draw();
  onEpoch();
  model.on("change:confusion_label", onPicked);
  const theirs = [["change:epoch", onEpoch], ["change:selection", draw], ["change:epoch", draw],
    ["change:selected", mark], ["change:search", onSearch], ["change:epoch", onSearchEpoch]];
  for (const [ev, fn] of theirs) population.on(ev, fn);
  const mine = [`change:${SAVED_TRAITS.selection}`, "change:columns", "change:class_names", "change:max_rows",
    "change:rows", "change:complete"];
  model.on("change:table", onTable);
  for (const ev of mine) model.on(ev, draw);
  if (grid) grid.on("change:selected", onCell);
  return () => {
    for (const ev of mine) model.off(ev, draw);
    model.off("change:table", onTable);
    model.off("change:confusion_label", onPicked);
    for (const [ev, fn] of theirs) population.off(ev, fn);
    if (grid) grid.off("change:selected", onCell);
  };
}

export default { render };
