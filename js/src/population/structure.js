// The scatter's "structure at a glance" overlay: density contours (density.js) drawn over the
// WebGL points in an SVG that follows regl-scatterplot's camera, and a label per cluster
// (clusters.js): dominant class, accuracy, size. Toggled by the "Structure" button (the
// model's `structure` trait, so Python and a saved page see the same). Text is textContent.
// Labels that would overlap are moved apart (placement.js), with a leader line to their
// cluster's centre; none is hidden unless no free place is near it.
import { screenTransform } from "./camera.js";
import { assignPoints, climb, clusterText, summarize } from "./clusters.js";
import { contourLevels, contourPath, densityGrid } from "./density.js";
import { h } from "./dom.js";
import { placeLabels } from "./placement.js";

const SVG = "http://www.w3.org/2000/svg";
const MAX_LABELS = 12;

/**
 * The overlay on `plot`: {button, update(points), follow(), destroy()}. `points()` gives
 * {x, y, channels, names} when drawn; `scatterplot` is the plot's regl-scatterplot.
 */
export function structureOverlay({ plot, model, scatterplot, points }) {
  const button = h("button", "nbp-structure-tool", "Structure");
  button.title = "density contours and labelled clusters (dominant class · accuracy · size)";
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "nbp-contours");
  const g = document.createElementNS(SVG, "g");
  const leaders = document.createElementNS(SVG, "g"); // screen px, not data coordinates
  leaders.setAttribute("class", "nbp-leaders");
  svg.append(g, leaders);
  const labels = h("div", "nbp-cluster-labels");
  plot.append(svg, labels);
  let clusters = [];
  let assign = null;
  let computed = null; // the draw the overlay was computed for

  const on = () => Boolean(model.get("structure"));
  const render = () => {
    const show = on();
    button.classList.toggle("nbp-on", show);
    button.setAttribute("aria-pressed", String(show));
    svg.style.display = labels.style.display = show ? "" : "none";
    if (show) update();
  };

  function update(force = false) {
    const p = points();
    if (!on() || !p || !p.x || !p.x.length) return;
    if (!force && computed === p.key) return follow();
    computed = p.key;
    const t0 = performance.now();
    const grid = densityGrid(p.x, p.y);
    const paths = contourLevels(grid.max).map((level, k) => {
      const { d } = contourPath(grid, level);
      const path = document.createElementNS(SVG, "path");
      path.setAttribute("d", d);
      path.setAttribute("class", `nbp-contour nbp-contour-${k}`);
      path.setAttribute("vector-effect", "non-scaling-stroke");
      return path;
    });
    g.replaceChildren(...paths);
    const { cell, count } = climb(grid);
    assign = assignPoints(p.x, p.y, cell, grid.size);
    const cat = (name) => (p.channels[name]?.kind === "categorical" ? p.channels[name] : null);
    clusters = summarize(assign, p.x, p.y, count,
      { label: cat("label"), correct: cat("correct"), names: p.names });
    labels.replaceChildren(...clusters.slice(0, MAX_LABELS).map((c, rank) => {
      const node = h("div", "nbp-cluster-label", clusterText(c));
      node.dataset.cluster = String(c.id);
      node.dataset.rank = String(rank);
      node.dataset.size = String(c.size);
      if (c.dominant !== null) node.dataset.dominant = c.dominant;
      return node;
    }));
    plot.dataset.structureMs = String(Math.round(performance.now() - t0));
    follow();
  }

  /** Move contours and labels with the camera (pan, zoom, resize). */
  function follow() {
    if (!on()) return;
    const width = scatterplot.get("width"), height = scatterplot.get("height");
    const [a, d, e, f] = screenTransform(scatterplot.get("cameraView"), width, height,
      scatterplot.get("aspectRatio"));
    svg.setAttribute("width", String(width));
    svg.setAttribute("height", String(height));
    g.setAttribute("transform", `matrix(${a} 0 0 ${d} ${e} ${f})`);
    // biggest first: each at its centre, else moved the least that keeps it off the others
    const nodes = [...labels.children];
    const anchors = nodes.map((node) => {
      const c = clusters.find((q) => q.id === Number(node.dataset.cluster));
      return { x: a * c.x + e, y: d * c.y + f, w: node.offsetWidth + 4, h: node.offsetHeight + 2 };
    });
    const placed = placeLabels(anchors, width, height);
    const lines = [];
    nodes.forEach((node, i) => {
      const p = placed[i];
      node.style.visibility = p ? "" : "hidden";
      node.dataset.moved = String(Boolean(p && p.moved));
      if (!p) return;
      node.style.left = `${p.x}px`;
      node.style.top = `${p.y}px`;
      if (!p.moved) return;
      const line = document.createElementNS(SVG, "line");
      line.setAttribute("class", "nbp-leader");
      for (const [k, v] of [["x1", anchors[i].x], ["y1", anchors[i].y], ["x2", p.x], ["y2", p.y]]) {
        line.setAttribute(k, String(v));
      }
      line.style.stroke = "var(--nbp-fg)";
      line.style.strokeOpacity = "0.6";
      lines.push(line);
    });
    leaders.replaceChildren(...lines);
  }

  const subscription = scatterplot.subscribe("view", () => follow());
  button.addEventListener("click", () => {
    model.set("structure", !on());
    model.save_changes();
  });
  // Test hook: the points of each labelled cluster, in label order.
  plot.nbpClusters = () => clusters.slice(0, MAX_LABELS).map((c) => ({
    ...c, text: clusterText(c),
    members: Array.from(assign.keys()).filter((i) => assign[i] === c.id),
  }));
  render();
  return {
    button, render, update, follow,
    destroy: () => scatterplot.unsubscribe(subscription),
  };
}
