// Why a sample is suspect: its trajectory over the epochs (probability of its label, margin,
// forgetting events) as a small chart sized to the panel, its neighbours' labels (each
// neighbour a button that selects it) and the score's parts in words. Drawn from `stories`
// ({sample id: story}, src/nbperceive/widgets/story.py), so a saved page works like the live
// one. Every class name and number is set as text. Styles: js/src/nbperceive.css.
import { h, keepKeys } from "./population/dom.js";

const SVG = "http://www.w3.org/2000/svg";
export const CHART_HEIGHT = 120;
const PAD = { left: 30, right: 8, top: 8, bottom: 20 };

/** A number in [-1, 1] or [0, 1] with two decimals (three below 0.01), "—" when missing. */
export function fmt(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  return Math.abs(v) > 0 && Math.abs(v) < 0.01 ? v.toFixed(3) : v.toFixed(2);
}

/** The name of class `i` (its index when the run names none). */
const nameOf = (names, i) => (i >= 0 && i < names.length ? names[i] : String(i));

/** Neighbour labels counted, most frequent first: [[class name, count], ...]. */
export function neighbourCounts(labels, names) {
  const counts = new Map();
  for (const l of labels) counts.set(l, (counts.get(l) || 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .map(([l, n]) => [nameOf(names, l), n]);
}

/** The score's parts as sentences a user reads: [[term, sentence], ...]. */
export function partsInWords(story, names) {
  const p = story.parts;
  const label = `“${nameOf(names, story.label)}”`;
  const same = story.neighbour_labels.filter((l) => l === story.label).length;
  const k = story.neighbour_labels.length;
  const out = [["p_label", `The model gives ${label} a probability of ${fmt(p.p_label)}, ` +
    "averaged over the trained epochs."]];
  if (k) {
    out.push(["knn_label", `${same} of its ${k} nearest neighbours carry ${label} ` +
      `(smoothed share ${fmt(p.knn_label)}).`]);
    out.push(["weight", `Neighbours count with weight ${fmt(p.neighbour_weight)} ` +
      "(0: ignored, 1: fully): how much better than chance neighbours agree with their " +
      "labels in this run."]);
  } else {
    out.push(["knn_label", "No neighbour graph for this run: the model alone decides."]);
  }
  out.push(["belief", `Belief in the label: ${fmt(p.belief)} ` +
    "(p_label × knn_label ^ weight, normalised over the classes)."]);
  out.push(["class threshold", `Samples labelled ${label} typically get ` +
    `${fmt(p.class_threshold)}.`]);
  const verdict = p.suspicion >= 0.5 ? "its label looks wrong"
    : p.suspicion > 0 ? "its label looks doubtful" : "its label looks right";
  out.push(["suspicion", `1 − min(1, belief / threshold) = ${fmt(p.suspicion)}: ${verdict}.`]);
  return out;
}

/** Screen positions of values in [-1, 1] over `n` epochs in a `width` x `height` chart. */
export function chartPoints(values, width, height) {
  const n = values.length;
  const w = Math.max(1, width - PAD.left - PAD.right);
  const hh = Math.max(1, height - PAD.top - PAD.bottom);
  return values.map((v, i) => [
    PAD.left + (n > 1 ? (i / (n - 1)) * w : w / 2),
    v === null ? null : PAD.top + ((1 - Math.max(-1, Math.min(1, v))) / 2) * hh,
  ]);
}

function svg(tag, attrs, cls) {
  const node = document.createElementNS(SVG, tag);
  if (cls) node.setAttribute("class", cls);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  return node;
}

function drawChart(chart, story, width) {
  const height = CHART_HEIGHT;
  chart.replaceChildren();
  chart.setAttribute("viewBox", `0 0 ${width} ${height}`);
  chart.setAttribute("height", String(height));
  const [y1] = chartPoints([1], width, height)[0].slice(1);
  const [y0] = chartPoints([0], width, height)[0].slice(1);
  const [ym] = chartPoints([-1], width, height)[0].slice(1);
  for (const [y, text] of [[y1, "1"], [y0, "0"], [ym, "-1"]]) {
    chart.append(svg("line", { x1: PAD.left, x2: width - PAD.right, y1: y, y2: y },
      "nbp-story-grid"));
    const t = svg("text", { x: PAD.left - 4, y: y + 3, "text-anchor": "end" }, "nbp-story-tick");
    t.textContent = text;
    chart.append(t);
  }
  const series = [["p_label", "nbp-story-p"], ["margin", "nbp-story-m"]];
  for (const [key, cls] of series) {
    const pts = chartPoints(story[key], width, height);
    const path = pts.filter(([, y]) => y !== null).map(([x, y], i) => `${i ? "L" : "M"}${x},${y}`);
    chart.append(svg("path", { d: path.join(" ") }, `${cls}-line`));
    pts.forEach(([x, y], i) => {
      if (y === null) return;
      const c = svg("circle", { cx: x, cy: y, r: 3 }, cls);
      const title = svg("title");
      title.textContent = `epoch ${story.epochs[i]}: ${key} ${fmt(story[key][i])}`;
      c.append(title);
      chart.append(c);
    });
  }
  const at = chartPoints(story.epochs.map(() => 1), width, height);
  story.epochs.forEach((e, i) => {
    const t = svg("text", { x: at[i][0], y: height - 6, "text-anchor": "middle" },
      "nbp-story-tick nbp-story-xtick");
    t.textContent = String(e);
    chart.append(t);
    if (story.forgotten[i]) {
      const m = svg("text", { x: at[i][0], y: PAD.top + 4, "text-anchor": "middle" },
        "nbp-story-forgot");
      m.textContent = "✕";
      const title = svg("title");
      title.textContent = `epoch ${e}: forgotten (right at the capture before, wrong now)`;
      m.append(title);
      chart.append(m);
    }
  });
}

function render({ model, el }) {
  const root = h("div", "nbp-story");
  keepKeys(root);
  el.append(root);
  const status = h("div", "nbp-story-status");
  status.setAttribute("role", "status");
  const head = h("div", "nbp-story-head");
  const chartBox = h("div", "nbp-story-chart");
  const chart = svg("svg", { width: "100%", role: "img" });
  const key = h("div", "nbp-story-key");
  chartBox.append(chart, key);
  const nbHead = h("div", "nbp-story-nbhead");
  const nbList = h("div", "nbp-story-nbs");
  const words = h("dl", "nbp-story-words");
  root.append(status, head, chartBox, nbHead, nbList, words);
  let shown = null;

  const width = () => Math.max(160, Math.floor(chartBox.getBoundingClientRect().width) || 320);

  const draw = () => {
    const names = model.get("class_names") || [];
    const s = model.get("selected");
    const story = s >= 0 ? (model.get("stories") || {})[String(s)] : undefined;
    const ranked = model.get("ranked");
    status.textContent = model.get("status");
    status.hidden = !model.get("status");
    root.dataset.sample = story ? String(s) : "";
    const hasStory = Boolean(story);
    for (const part of [chartBox, nbHead, nbList, words]) part.hidden = !hasStory;
    if (!story) {
      shown = null;
      head.className = "nbp-story-head nbp-empty";
      head.textContent = s < 0 || !ranked ? model.get("placeholder")
        : `No story of sample ${s} here yet (a saved page carries the listed suspects' only).`;
      return;
    }
    shown = story;
    head.className = "nbp-story-head";
    head.textContent = `Sample ${s}: labelled ${nameOf(names, story.label)}, model says ` +
      `${nameOf(names, story.pred)} · rank ${(story.rank + 1).toLocaleString()} of ` +
      `${ranked.toLocaleString()} by suspicion (${fmt(story.parts.suspicion)})`;
    drawChart(chart, story, width());
    key.replaceChildren(h("span", "nbp-story-key-p", "● probability of its label"),
      h("span", "nbp-story-key-m", "● margin (label − best other)"));
    if (story.forgotten.some(Boolean)) key.append(h("span", "nbp-story-key-f", "✕ forgotten"));
    const p = story.parts;
    nbHead.textContent = story.neighbours.length
      ? `Its ${story.neighbours.length} nearest neighbours` +
        (p.layer ? ` (layer ${p.layer}, epoch ${p.epoch})` : "") + ": " +
        neighbourCounts(story.neighbour_labels, names)
          .map(([n, c]) => `${c} labelled ${n}`).join(", ")
      : "No neighbours recorded for this run.";
    nbList.replaceChildren(...story.neighbours.map((id, i) => {
      const b = h("button", "nbp-story-nb", `#${id} ${nameOf(names, story.neighbour_labels[i])}`);
      b.classList.toggle("nbp-same", story.neighbour_labels[i] === story.label);
      b.title = `select sample ${id}`;
      b.onclick = () => {
        model.set("selected", id);
        model.save_changes();
      };
      return b;
    }));
    words.replaceChildren(...partsInWords(story, names).flatMap(([term, text]) =>
      [h("dt", null, term), h("dd", null, text)]));
  };
  const resized = new ResizeObserver(() => {
    if (shown) drawChart(chart, shown, width());
  });
  resized.observe(chartBox);
  draw();
  const events = ["change:selected", "change:stories", "change:class_names", "change:ranked",
    "change:status", "change:placeholder"];
  for (const ev of events) model.on(ev, draw);
  return () => {
    for (const ev of events) model.off(ev, draw);
    resized.disconnect();
    root.remove();
  };
}

export default { render };
