// The rows the selection view holds ({column: {numbers | texts | packed}}, numbers as binary
// arrays, a saved page's texts packed in binary too),
// read by the selection view and the details panel alike, and widget references.
// Live, the view holds only what the page asked the kernel for (selection.py): whole columns
// (`needColumns`) and some rows by slot (`needRows`, read with `rowFrom`); a saved page holds
// every column (`complete`), so nothing is asked there. Every request is built by `askFor`
// from the widget's `row_requests` trait (the message names, defined once in rows.py).
import { decodeArray } from "./codecs.js";
import { tableAt } from "./page.js";

/** A numeric column of a saved table as a typed array (decoded once), or null. */
export function numbers(table, name) {
  const col = table[name];
  if (!col || !col.numbers) return null;
  col.decoded ??= decodeArray(col.numbers);
  return col.decoded;
}

/**
 * A text column's values, or null for a numeric one: the texts sent as a list, or a saved
 * page's packed column (codes into distinct values held as one UTF-8 blob) decoded once.
 */
export function texts(col) {
  if (!col) return null;
  if (col.texts) return col.texts;
  if (!col.packed) return null;
  const { blob, offsets, codes } = col.packed;
  const bytes = decodeArray(blob), ends = decodeArray(offsets);
  const decoder = new TextDecoder();
  const distinct = Array.from({ length: ends.length - 1 },
    (_, k) => decoder.decode(bytes.subarray(ends[k], ends[k + 1])));
  col.texts = Array.from(decodeArray(codes), (c) => distinct[c]);
  return col.texts;
}

/** Row `i` of a table as {column: value}, or null when `i` is out of range. */
export function rowOf(table, columns, i) {
  const row = {};
  for (const c of columns) {
    const col = table[c];
    if (!col) continue;
    const words = texts(col);
    if (words) row[c] = words[i] ?? null;
    else {
      const values = numbers(table, c);
      if (i < 0 || i >= values.length) return null;
      const v = values[i];
      row[c] = col.bool ? v !== 0 : Number.isNaN(v) ? null : v;
    }
  }
  return row;
}

// A request leaves after the change that caused it has been sent (a microtask later): a click
// sets `selected` and saves it in the same task, so the kernel holds the new selection
// before it answers, and a view never shows a sample the kernel has not seen selected.
const ask = (source, message) => queueMicrotask(() => source.send(message));

/** The row request of `kind` ("columns" or "rows", rows.py) with `fields`, as the kernel
 * reads it: its message name comes from the widget's `row_requests` trait. */
export function rowRequest(source, kind, fields = {}) {
  const type = (source.get("row_requests") || {})[kind];
  if (!type) throw new Error(`nbperceive: this widget answers no ${kind} request`);
  return { type, ...fields };
}

/** Ask the kernel for a row request (after the change that caused it has been sent). */
export function askFor(source, kind, fields = {}) {
  ask(source, rowRequest(source, kind, fields));
}

// Requests in flight, per source. A view redraws on every change (a columns reply, the
// epoch...) and would ask again for what is on its way. Each place an answer lands (`table`,
// a slot of `rows`) has a generation that moves whenever a view sees it hold something else;
// the same request is sent again only once its place's generation has moved since it was
// sent (a reply came and still lacks it; content that comes back to what it was counts as a
// move too: click A, B, A asks for A twice) or after IN_FLIGHT_MS (a reply lost).
const inFlight = new WeakMap(); // source -> Map(request key -> [generation, ms])
const places = new WeakMap(); // source -> Map(place -> [what it held, generation])
const IN_FLIGHT_MS = 5000;

/** The generation of `place` of `source`, moved when it holds other than `holds` before. */
function generation(source, place, holds) {
  let seen = places.get(source);
  if (!seen) places.set(source, (seen = new Map()));
  const was = seen.get(place);
  if (!was) {
    seen.set(place, [holds, 0]);
    return 0;
  }
  if (was[0] !== holds) {
    was[0] = holds;
    was[1] += 1;
  }
  return was[1];
}

/** askFor, unless the same request at the same epoch is on its way (see inFlight). */
function askOnce(source, population, kind, fields, gen) {
  const key = JSON.stringify([kind, fields, population.get("epoch")]);
  let sent = inFlight.get(source);
  if (!sent) inFlight.set(source, (sent = new Map()));
  const now = Date.now();
  const was = sent.get(key);
  if (was && was[0] === gen && now - was[1] < IN_FLIGHT_MS) return;
  sent.set(key, [gen, now]);
  askFor(source, kind, fields);
}

/** Whether the shown epoch's table holds `names` (names the view does not have are ignored);
 * when not, asks the kernel for them (unless already asked: the reply changes `table`). */
export function needColumns(source, population, names) {
  const gen = generation(source, "table", Object.keys(source.get("table") || {}).join(","));
  const table = tableAt(source, population);
  const known = new Set(source.get("columns") || []);
  const missing = [...new Set(names)].filter((c) => c && known.has(c) && !table[c]);
  if (!missing.length || source.get("complete")) return true;
  askOnce(source, population, "columns", { names: missing }, gen);
  return false;
}

/** The rows of `slot` the kernel sent, with their sample indices decoded (or null). */
function slotRows(source, population, slot) {
  const got = (source.get("rows") || {})[slot];
  if (!got || got.epoch !== population.get("epoch")) return null;
  got.decodedIds ??= decodeArray(got.ids);
  return got;
}

/** What the rows of `slot` hold ("epoch:ids"; the kernel resends every slot with each). */
function slotKey(source, slot) {
  const got = (source.get("rows") || {})[slot];
  if (!got) return "";
  got.decodedIds ??= decodeArray(got.ids);
  return `${got.epoch}:${got.decodedIds.join(",")}`;
}

/** Whether rows `ids` (and with `neighbours` the first one's nearest samples) are at hand for
 * `slot`; when not, asks the kernel for them (the reply changes `rows`). The slot's nearest
 * samples are those of its first row: a neighbour listed there has its row at hand, not its
 * own nearest samples. */
export function needRows(source, population, slot, ids, neighbours = false) {
  if (source.get("complete")) return true;
  const gen = generation(source, `rows:${slot}`, slotKey(source, slot));
  const got = slotRows(source, population, slot);
  const wanted = Array.from(ids);
  const held = got && wanted.every((i) => got.decodedIds.includes(i));
  if (held && (!neighbours || got.decodedIds[0] === wanted[0])) return true;
  askOnce(source, population, "rows", { slot, ids: Array.from(ids, Number), neighbours }, gen);
  return false;
}

/** Row i as {column: value} from the whole table (saved page) or the rows of `slot`; null
 * when it is not at hand. */
export function rowFrom(source, population, slot, i) {
  const columns = source.get("columns");
  if (source.get("complete")) return rowOf(tableAt(source, population), columns, i);
  const got = slotRows(source, population, slot);
  const k = got ? got.decodedIds.indexOf(i) : -1;
  return k < 0 ? null : rowOf(got.table, columns, k);
}

/** The nearest samples of sample `i` the kernel sent for the details (live; [] while they are
 * another sample's), or null (saved page: the population view's `neighbours` hold every
 * sample's). */
export function sentNeighbours(source, population, i) {
  if (source.get("complete")) return null;
  const got = slotRows(source, population, "details");
  return got && got.decodedIds[0] === i ? got.neighbours || [] : [];
}

const PREFIX = "IPY_MODEL_";
/** The widget model behind a reference trait ("IPY_MODEL_<id>"). */
export async function modelOf(model, ref) {
  if (!ref) return null;
  const id = typeof ref === "string" && ref.startsWith(PREFIX) ? ref.slice(PREFIX.length) : ref;
  return model.widget_manager.get_model(id);
}
