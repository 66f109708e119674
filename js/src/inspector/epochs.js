// Which epoch's model made the inspector's maps, in words (pure: tested in vitest).

// The line above the maps naming the epoch of the model that made them. `available`: the
// epochs whose maps can be had (null: this inspector follows no run's epochs); `page`: a saved
// page, which carries the maps of some samples at some epochs.
export function epochNote(viewEpoch, modelEpoch, available, page = false) {
  if (modelEpoch < 0) return "";
  if (viewEpoch < 0 || viewEpoch === modelEpoch) {
    return `Heatmaps of the model after epoch ${modelEpoch}.`;
  }
  if (available === null) {
    return `These heatmaps come from the model after epoch ${modelEpoch} (the one in ` +
      `memory), not from epoch ${viewEpoch} shown in the scatter.`;
  }
  if (available.includes(viewEpoch)) return `Computing the heatmaps of epoch ${viewEpoch}…`;
  if (page) {
    return `This page does not carry this sample's heatmaps at epoch ${viewEpoch}, so these ` +
      `come from the model after epoch ${modelEpoch}, not from epoch ${viewEpoch} shown in ` +
      `the scatter.`;
  }
  return `Epoch ${viewEpoch} has no saved weights${available.length ? "" : " in this run"}, so ` +
    `these heatmaps come from the model after epoch ${modelEpoch}, not from epoch ${viewEpoch} ` +
    `shown in the scatter.`;
}
