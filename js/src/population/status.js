// What the population view says and shows apart from drawing: the status line, the points a
// legend toggle or `only_marked` leaves, the text shown without WebGL.
import { decodeArray } from "../codecs.js";
import { keepIndices, visibleIndices } from "../scales.js";

/** The samples of the view: its points, or before its first layout is there (a large run's,
 * computed on a thread while the page has the colours) as many as a column has codes. */
export function sampleCount(model, n) {
  if (n) return n;
  for (const ch of Object.values(model.get("channels") || {})) {
    const codes = decodeArray(ch.codes);
    if (codes && codes.length) return codes.length;
  }
  return 0;
}

/** The status line in two parts: [what the view holds (how many samples, what is selected,
 * the layout's state), the gestures]. The page shows each on one line of its own, so a
 * selection or a layout's progress never changes the plot's height (a resized canvas redraws
 * every point: ~0.7 s at 1M in software WebGL, holding up the linked views' answers). */
export function statusParts(model, n, lassoOn) {
  const sel = decodeArray(model.get("selection"));
  const k = sel ? sel.length : 0;
  const one = model.get("selected");
  let text = `${sampleCount(model, n).toLocaleString()} samples`;
  if (one >= 0) text += ` · sample ${one} selected`;
  else if (k) text += ` · ${k.toLocaleString()} selected`;
  const layout = model.get("layout_status");
  if (layout) text += ` · ${layout}`;
  const hint = lassoOn
    ? "lasso tool: drag to select (Lasso again to pan and zoom) · Esc clears"
    : "click to select · shift+drag or Lasso to select many · ? for all gestures and keys";
  return [text, hint];
}

/** Show only the points the legend leaves (hidden categories of the colour column `color`)
 * and, while `only_marked` is on, the `marked` ones (e.g. the suspects, set by Python);
 * `root.dataset.shown` counts them, `state.shown` marks them (1 = drawn; null: all are). */
export function filterPoints({ model, state, scatterplot, root, color }) {
  const legend = color && color.kind === "categorical" && state.hidden.size > 0;
  const marked = model.get("only_marked") ? decodeArray(model.get("marked")) : null;
  const only = marked && marked.length ? marked : null;
  root.dataset.shown = String(state.n);
  state.shown = null;
  if (!legend && !only) {
    if (scatterplot.get("isPointsFiltered")) scatterplot.unfilter({ preventEvent: true });
    return;
  }
  const keep = keepIndices(legend ? visibleIndices(color.codes, state.hidden) : null, only, state.n);
  root.dataset.shown = String(keep.length);
  state.shown = new Uint8Array(state.n);
  for (const i of keep) state.shown[i] = 1;
  scatterplot.filter(keep, { preventEvent: true });
}

/** What the plot says when the browser has no WebGL. */
export function noWebglText(n) {
  return `WebGL is not available in this browser, so the population view cannot draw its ` +
    `${n.toLocaleString()} points. Turn on hardware acceleration (or WebGL) in the browser ` +
    `settings, or open the notebook in a browser with WebGL.`;
}
