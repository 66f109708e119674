// What a saved page carries in place of a kernel, read in one place: the views ask here for
// "the frame / table / sample at epoch e" and never read the saved traits' layout themselves.
// Python writes them (nbperceive/export.py: each widget's export_state):
//   population  `epoch_frames`: {epoch: {x, y, channels, neighbours, neighbours_note, rows}}
//   selection   `epoch_tables`: {epoch: table}              (live: `table` only)
//   inspector   `saved`: {sample: {image, tokens, y_true, y_value, y_true_labels, panels, epoch,
//                                  epochs: {epoch: panels}}}
// Live, each of those traits is empty and every function here answers "not saved".

/** The traits a saved page holds per view (listen to their changes; read them through here). */
export const SAVED_TRAITS = { population: "epoch_frames", selection: "epoch_tables", inspector: "saved" };

const key = (v) => String(v);
const keysOf = (value) => Object.keys(value || {});

/** The population view's saved frame at `epoch` (the traits that move the points: x, y,
 * channels, and when saved neighbours, neighbours_note, rows), or null (live, not saved). */
export function frameAt(population, epoch) {
  return (population.get("epoch_frames") || {})[key(epoch)] ?? null;
}

/** Whether the selection view's page carries a table per epoch (it scrubs epochs itself). */
export function hasEpochTables(source) {
  return keysOf(source.get("epoch_tables")).length > 0;
}

/** The table a selection view shows at the population view's epoch: a saved page's table of
 * that epoch, else the one the kernel sent (`table`). */
export function tableAt(source, population) {
  return (source.get("epoch_tables") || {})[key(population.get("epoch"))] ?? source.get("table");
}

/** The samples whose maps the inspector's page carries (as strings; [] live). */
export function savedSamples(inspector) {
  return keysOf(inspector.get("saved"));
}

/** Whether the inspector runs in a saved page (it carries some samples' maps). */
export function isSavedInspector(inspector) {
  return savedSamples(inspector).length > 0;
}

/** Sample `s` as the inspector's page saved it at `epoch`: {image, tokens, y_true,
 * y_true_labels, panels, epoch} with the panels of that epoch when carried (else of the epoch
 * the sample was saved at, `fallbackEpoch` when that is not recorded), or null. */
export function sampleAt(inspector, s, epoch, fallbackEpoch) {
  const entry = (inspector.get("saved") || {})[key(s)];
  if (!entry) return null;
  const atEpoch = (entry.epochs || {})[key(epoch)];
  return {
    image: entry.image, tokens: entry.tokens, y_true: entry.y_true,
    y_value: entry.y_value ?? null, y_true_labels: entry.y_true_labels || [],
    panels: atEpoch || entry.panels,
    epoch: atEpoch ? epoch : entry.epoch ?? fallbackEpoch,
  };
}

/** The epochs whose maps the page carries for sample `s` (null: none recorded for it). */
export function sampleEpochs(inspector, s) {
  const entry = (inspector.get("saved") || {})[key(s)];
  if (!entry || entry.epoch === undefined) return null;
  return [...keysOf(entry.epochs).map(Number), entry.epoch];
}
