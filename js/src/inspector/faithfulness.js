// The faithfulness scores shown beside a heatmap: decoded per metric, written as one text.
import { decode } from "./arrays.js";

// Faithfulness scores beside the heatmap: {metric: (L, K) float32} from Python, any subset.
export const FAITH = [
  ["deletion", "deletion AUC", "lower"],
  ["insertion", "insertion AUC", "higher"],
  ["mufidelity", "MuFidelity", "higher"],
];
export const FAITH_HELP =
  "deletion AUC: the label's probability as the hottest inputs are removed first (low = the " +
  "map points at what the model needs); insertion AUC: the probability as they are put back " +
  "into an empty input first (high is good); MuFidelity: correlation between the heat of " +
  "random removed subsets and the probability drop (high is good)";

export function decodeScores(scores) {
  if (!scores) return null;
  if (scores.view) return { deletion: decode(scores) }; // older saved pages: deletion only
  const out = {};
  for (const [name, arr] of Object.entries(scores)) out[name] = decode(arr);
  return out;
}

/** The scores of depth `depth`, label index `k`, one line per metric. */
export function faithfulnessText(faith, depth, k) {
  if (!faith) return "";
  const parts = [];
  for (const [name, label, better] of FAITH) {
    const a = faith[name];
    if (!a) continue;
    const v = a.data[depth * a.shape[1] + k];
    parts.push(`${label} ${v.toFixed(2)} (${better} = more faithful)`);
  }
  return parts.join("\n");
}
