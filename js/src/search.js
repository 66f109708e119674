// Search: the samples a query typed in the scatter's search box matches, over the rows the
// selection view holds (tables.js: every column of every sample, at the shown epoch) and the
// samples' preview texts, so it works in a saved page too. Pure functions, no DOM.
//
// A query is either
//   * expressions as pandas' `DataFrame.query` writes them: `loss > 1.5 and label == "cat"`,
//     `correct == False`, `pred != label` (a column on the right), joined by `and` / `&` and
//     `or` / `|` (`and` binds first); class columns (label, pred) take class names or indices;
//     `text contains "bad"` / `column contains ...` for a substring; or
//   * plain text: a case-insensitive substring of a class name (label, prediction), any text
//     column or the sample's preview text.
import { encodeArray } from "./codecs.js";
import { previewTexts } from "./previews.js";
import { numbers, texts as columnTexts } from "./tables.js";

const CLASS_COLUMNS = ["label", "pred"];
const CLAUSE = /^\s*([A-Za-z_][\w.]*)\s*(==|!=|>=|<=|>|<|\bcontains\b)\s*(.+?)\s*$/;

/** One side of a comparison: a quoted text, a number, True/False, or a bare word. */
function literal(raw) {
  const s = raw.trim();
  const q = /^(["'])(.*)\1$/.exec(s);
  if (q) return { text: q[2] };
  if (/^(true|false)$/i.test(s)) return { number: /^true$/i.test(s) ? 1 : 0, text: s };
  if (s !== "" && Number.isFinite(Number(s))) return { number: Number(s), text: s };
  return { text: s, bare: true };
}

/** The query as clauses ([[and-clause, ...], ...] or-ed), or null when it is plain text. */
export function parseQuery(query, columns) {
  const known = new Set([...columns, "text"]);
  const groups = [];
  for (const part of String(query).split(/\s+or\s+|\s*\|\|?\s*/i)) {
    const group = [];
    for (const piece of part.split(/\s+and\s+|\s*&&?\s*/i)) {
      const m = CLAUSE.exec(piece);
      if (!m || !known.has(m[1])) return null;
      const right = literal(m[3]);
      if (right.bare && known.has(right.text) && m[2] !== "contains") right.column = right.text;
      group.push({ column: m[1], op: m[2], right });
    }
    groups.push(group);
  }
  return groups.length ? groups : null;
}

function compare(a, op, b) {
  switch (op) {
    case "==": return a === b;
    case "!=": return a !== b;
    case ">=": return a >= b;
    case "<=": return a <= b;
    case ">": return a > b;
    case "<": return a < b;
    default: return false;
  }
}

/** Accessor of a column: i -> number, or i -> text (null when the column is missing). */
function accessor(table, column, texts) {
  const col = table[column];
  if (column === "text" && !col) return texts ? { text: (i) => texts[i] ?? "" } : null;
  if (!col) return null;
  const words = columnTexts(col);
  if (words) return { text: (i) => words[i] ?? "" };
  const values = numbers(table, column);
  return { number: (i) => values[i], length: values.length };
}

/** A clause as a test of row i; throws an Error that says what is wrong. */
function clauseTest(table, names, texts, { column, op, right }) {
  const left = accessor(table, column, texts);
  if (!left) throw new Error(`no column "${column}"`);
  if (op === "contains") {
    const want = right.text.toLowerCase();
    if (left.text) return (i) => String(left.text(i)).toLowerCase().includes(want);
    if (CLASS_COLUMNS.includes(column)) {
      return (i) => String(names[left.number(i)] ?? left.number(i)).toLowerCase().includes(want);
    }
    return (i) => String(left.number(i)).includes(want);
  }
  if (right.column) {
    const other = accessor(table, right.column, texts);
    if (left.number && other.number) return (i) => compare(left.number(i), op, other.number(i));
    const as = (acc) => (i) => String(acc.text ? acc.text(i) : acc.number(i));
    const a = as(left), b = as(other);
    return (i) => compare(a(i), op, b(i));
  }
  if (left.text) return (i) => compare(String(left.text(i)), op, right.text);
  let value = right.number;
  if (CLASS_COLUMNS.includes(column)) {
    // a class by name (digits' names are their indices, so either way)
    const k = names.findIndex((nm) => String(nm).toLowerCase() === right.text.toLowerCase());
    if (k >= 0) value = k;
  }
  if (value === undefined) {
    throw new Error(CLASS_COLUMNS.includes(column)
      ? `"${right.text}" is not a class name (classes: ${names.slice(0, 10).join(", ")})`
      : `${column} holds numbers: compare it with a number, not "${right.text}"`);
  }
  return (i) => compare(left.number(i), op, value);
}

function rowCount(table, texts) {
  for (const [name, col] of Object.entries(table)) {
    const words = columnTexts(col);
    if (words) return words.length;
    if (col.numbers) return numbers(table, name).length;
  }
  return texts ? texts.length : 0;
}

/**
 * The rows matching `query`: {rows: Uint32Array ascending, note: what was searched or what is
 * wrong}. `table` as tables.js holds it, `columns` the columns to search, `names` the class
 * names, `texts` the preview texts (or null).
 */
export function searchRows(table, columns, names, query, texts = null) {
  const q = String(query ?? "").trim();
  if (!q) return { rows: new Uint32Array(0), note: "" };
  const n = rowCount(table, texts);
  const groups = parseQuery(q, columns);
  let test;
  let how;
  if (groups) {
    try {
      const tests = groups.map((g) => g.map((c) => clauseTest(table, names, texts, c)));
      test = (i) => tests.some((g) => g.every((t) => t(i)));
      how = "expression";
    } catch (err) {
      return { rows: new Uint32Array(0), note: `cannot search: ${err.message}` };
    }
  } else {
    const want = q.toLowerCase();
    const parts = [];
    for (const c of columns) {
      const acc = accessor(table, c, texts);
      if (!acc) continue;
      if (acc.text) parts.push((i) => String(acc.text(i)).toLowerCase().includes(want));
      else if (CLASS_COLUMNS.includes(c)) {
        const hits = new Set(names.map((nm, k) => [String(nm).toLowerCase(), k])
          .filter(([nm]) => nm.includes(want)).map(([, k]) => k));
        if (hits.size) parts.push((i) => hits.has(acc.number(i)));
      }
    }
    // a multi-label run's labels by name: true (label_<name> = 1) or predicted (p >= 0.5)
    for (const nm of names) {
      if (!String(nm).toLowerCase().includes(want)) continue;
      const truth = numbers(table, `label_${nm}`), prob = numbers(table, `prob_${nm}`);
      if (truth) parts.push((i) => truth[i] === 1 || (prob !== null && prob[i] >= 0.5));
    }
    if (texts) parts.push((i) => String(texts[i] ?? "").toLowerCase().includes(want));
    test = (i) => parts.some((p) => p(i));
    how = "text";
  }
  const out = [];
  for (let i = 0; i < n; i++) if (test(i)) out.push(i);
  const rows = Uint32Array.from(out);
  const note = `${rows.length.toLocaleString("en-US")} match${rows.length === 1 ? "" : "es"}` +
    (how === "text" ? ` of "${q}" (class names, text)` : "");
  return { rows, note };
}


/**
 * Answer the population view's search box (`population`'s `search`) over `table`: the note
 * says how many matched (or what is wrong), and the matches become the selection (one match
 * is also the selected sample). The one way a search is answered: by the Explorer's selection
 * view over its rows, or by a plain population view over its own (`rows`).
 */
export function answerSearch(population, table, columns, names) {
  const query = population.get("search");
  const inline = population.get("preview_inline");
  const found = searchRows(table, columns, names, query, previewTexts(inline));
  population.set("search_note", found.note);
  if (String(query).trim() && !/^cannot/.test(found.note)) {
    population.set("selected", found.rows.length === 1 ? found.rows[0] : -1);
    population.set("selection", encodeArray(found.rows));
  }
  population.save_changes();
}
