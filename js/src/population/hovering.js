// The population view's hover, off the WebGL path. regl-scatterplot's own hover redraws every
// point whenever the hovered point changes or the pointer leaves the canvas (~1 s a frame at
// 1M points in software WebGL, and the page takes no input meanwhile), so it is never told
// that the pointer is over its canvas. The point under the pointer is found here in the same
// KD-tree regl-scatterplot searches (read, not rebuilt), and marked by a ring in the DOM.
import { pointScale, screenTransform } from "./camera.js";
import { h } from "./dom.js";
import { KDBush } from "./renderer.js";

/** CSS px around a point's edge that still hover it (regl-scatterplot's own raycast: 4). */
export const REACH = 4;

/**
 * The sample nearest to (px, py) (CSS px in the plot) within its drawn radius plus REACH,
 * or -1. `kd`: KDBush over `x`, `y` (clip space); `map`: screenTransform's [a, d, e, f];
 * `radius(i)`: sample i's drawn radius in CSS px; `shown(i)`: whether it is drawn at all.
 */
export function nearestPoint({ kd, x, y, map, px, py, radius, maxRadius, shown }) {
  const [a, d, e, f] = map;
  const reach = maxRadius + REACH;
  const scale = Math.min(Math.abs(a), Math.abs(d));
  if (!(scale > 0)) return -1;
  let best = -1, bestDist = Infinity;
  for (const i of kd.within((px - e) / a, (py - f) / d, reach / scale)) {
    if (!shown(i)) continue;
    const dist = Math.hypot(a * x[i] + e - px, d * y[i] + f - py);
    if (dist <= radius(i) + REACH && dist < bestDist) {
      best = i;
      bestDist = dist;
    }
  }
  return best;
}

/**
 * Hover on `plot` over `canvas` (regl-scatterplot `scatterplot`): `points()` gives {x, y}
 * as drawn (null before the first draw), `size(i)` sample i's point size at zoom 1 and
 * `maxSize` the largest, `shown(i)` whether it is drawn. `onOver(i)` / `onOut()` when the
 * hovered sample changes. Returns {hovered(), refresh(), destroy()}; refresh() after a draw.
 */
export function pointerHover({ plot, canvas, scatterplot, points, size, maxSize, shown, onOver, onOut }) {
  const ring = pointRing({ plot, points, size, className: "nbp-hover-ring" });
  let hovered = -1;
  let pointer = null; // CSS px in the canvas; null while outside it or while a button is down
  let kd = null, kdData = null;

  // regl-scatterplot hovers only while it believes the pointer is over its canvas: it is told
  // once that the pointer left, and never that it entered (a drag still pans and lassos: those
  // follow the button, not the canvas).
  let telling = false;
  const keepOut = (e) => {
    if (e.target === canvas && !telling) e.stopPropagation();
  };
  plot.addEventListener("mouseenter", keepOut, true);
  plot.addEventListener("mouseleave", keepOut, true);
  telling = true;
  canvas.dispatchEvent(new MouseEvent("mouseleave"));
  telling = false;

  const index = () => {
    const data = scatterplot.get("spatialIndex"); // the ArrayBuffer of the drawn points' tree
    if (data !== kdData) {
      kdData = data;
      kd = data ? KDBush.from(data) : null;
    }
    return kd;
  };

  function update() {
    const p = points();
    const tree = p && pointer ? index() : null;
    const view = tree ? cameraFrame(scatterplot) : null;
    const i = tree ? nearestPoint({ kd: tree, x: p.x, y: p.y, map: view.map, px: pointer.x,
      py: pointer.y, radius: (k) => (size(k) * view.scale) / 2, maxRadius: (maxSize() * view.scale) / 2,
      shown }) : -1;
    if (i >= 0) ring.place(i, view);
    if (i === hovered) return;
    hovered = i;
    ring.show(i >= 0);
    if (i >= 0) onOver(i);
    else onOut();
  }

  const onMove = (e) => {
    const r = canvas.getBoundingClientRect();
    const inside = e.clientX >= r.left && e.clientX < r.right && e.clientY >= r.top && e.clientY < r.bottom;
    // a button down pans or lassos: no hover meanwhile
    pointer = inside && e.buttons === 0 ? { x: e.clientX - r.left, y: e.clientY - r.top } : null;
    update();
  };
  const onLeave = () => {
    pointer = null;
    update();
  };
  plot.addEventListener("mousemove", onMove);
  plot.addEventListener("mouseleave", onLeave);
  // the camera moved (wheel, Reset, a zoom to the selection): the ring goes with its point,
  // or another point is under the pointer now
  const subscription = scatterplot.subscribe("view", update);

  return {
    hovered: () => hovered,
    refresh: update,
    destroy() {
      scatterplot.unsubscribe(subscription);
      plot.removeEventListener("mousemove", onMove);
      plot.removeEventListener("mouseleave", onLeave);
      plot.removeEventListener("mouseenter", keepOut, true);
      plot.removeEventListener("mouseleave", keepOut, true);
      ring.el.remove();
    },
  };
}

/** The camera's map from clip space to CSS px in the plot, and its point scale. */
export function cameraFrame(scatterplot) {
  const view = scatterplot.get("cameraView");
  return { map: screenTransform(view, scatterplot.get("width"), scatterplot.get("height"),
    scatterplot.get("aspectRatio")), scale: pointScale(view) };
}

/**
 * A ring in the DOM around one point (`points()` as drawn, `size(i)` its size at zoom 1),
 * hidden at first: {el, place(i, frame), show(on)}. Drawing it costs no WebGL frame.
 */
export function pointRing({ plot, points, size, className }) {
  const el = h("div", className);
  el.style.display = "none";
  plot.appendChild(el);
  return {
    el,
    place(i, { map: [a, d, e, f], scale }) {
      const p = points();
      const diameter = size(i) * scale + 2 * REACH;
      el.style.width = el.style.height = `${diameter}px`;
      el.style.transform =
        `translate(${a * p.x[i] + e - diameter / 2}px, ${d * p.y[i] + f - diameter / 2}px)`;
    },
    show(on) {
      el.style.display = on ? "block" : "none";
    },
  };
}
