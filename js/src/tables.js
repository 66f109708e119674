// The rows the selection view holds ({column: {numbers | texts}}, numbers as binary arrays),
// read by the selection view and the details panel alike, and widget references.
import { decodeArray } from "./codecs.js";

/** A numeric column of a saved table as a typed array (decoded once), or null. */
export function numbers(table, name) {
  const col = table[name];
  if (!col || !col.numbers) return null;
  col.decoded ??= decodeArray(col.numbers);
  return col.decoded;
}

/** Row `i` of a table as {column: value}, or null when `i` is out of range. */
export function rowOf(table, columns, i) {
  const row = {};
  for (const c of columns) {
    const col = table[c];
    if (!col) continue;
    if (col.texts) row[c] = col.texts[i] ?? null;
    else {
      const values = numbers(table, c);
      if (i < 0 || i >= values.length) return null;
      const v = values[i];
      row[c] = col.bool ? v !== 0 : Number.isNaN(v) ? null : v;
    }
  }
  return row;
}

/** The table a selection view shows at the population view's epoch: a saved report carries
 * every epoch's rows (`epoch_tables`); live, the kernel sends the current epoch's `table`. */
export function tableAt(source, population) {
  return (source.get("epoch_tables") || {})[String(population.get("epoch"))] ?? source.get("table");
}

const PREFIX = "IPY_MODEL_";
/** The widget model behind a reference trait ("IPY_MODEL_<id>"). */
export async function modelOf(model, ref) {
  if (!ref) return null;
  const id = typeof ref === "string" && ref.startsWith(PREFIX) ? ref.slice(PREFIX.length) : ref;
  return model.widget_manager.get_model(id);
}
