// The population view's selection, both ways: the model's `selected` / `selection` shown by
// regl-scatterplot (select, deselect, the others dimmed), and a click, lasso or Esc in the
// plot set on the model. A sample selected in another view replaces the selection.
import { decodeArray, encodeArray } from "../codecs.js";
import { cameraFrame, pointRing } from "./hovering.js";

/** Run `fn` once the browser has painted the frame under way (DOM changes show first). */
export function afterPaint(fn) {
  requestAnimationFrame(() => setTimeout(fn, 0));
}

/** px a press may move and still be a click (regl-scatterplot's lassoMinDist, renderer.js) */
const CLICK_SLOP = 2;

/**
 * Link `scatterplot` and `model`: {apply(), onSelected(), zoomTo(), refresh(), destroy()};
 * apply() shows the model's selection (once `drawn()`), onSelected() handles a `selected` set
 * elsewhere, zoomTo() zooms to the selected points, refresh() after the points were filtered;
 * `onChange()` runs after each change (the status line). A click on `canvas` (inside `plot`)
 * selects the `hovered()` sample at once. One selected sample is ringed in the DOM (`points()`
 * as drawn, `size(i)`, `shown(i)` as for the hover), never by a WebGL frame: a frame of every
 * point costs ~1 s at 1M points in software WebGL and would hold up every linked view's
 * answer from the kernel meanwhile (click -> details 741 ms at 1M). Several are selected by
 * regl-scatterplot, the others dimmed, a frame later (every view's text is painted first).
 */
export function linkSelection({ model, scatterplot, drawn, onChange, hovered = () => -1, plot,
  canvas, points, size, shown = () => true }) {
  const lasso = { active: false, ended: -Infinity };
  let fromPython = false;
  let pending = false;
  const ring = pointRing({ plot, points, size, className: "nbp-selected-ring" });
  let ringed = -1; // the one selected sample, or -1
  function placeRing() {
    const on = ringed >= 0 && drawn() && shown(ringed);
    if (on) ring.place(ringed, cameraFrame(scatterplot));
    ring.show(on);
  }
  const following = scatterplot.subscribe("view", placeRing); // pan, zoom, Reset
  // the WebGL side of the model's selection, after the next paint; one for any number of changes
  function applySelectionFromModel() {
    if (pending) return;
    pending = true;
    afterPaint(() => {
      pending = false;
      showSelection();
    });
  }
  function showSelection() {
    if (!drawn()) return;
    const sel = decodeArray(model.get("selection")) || new Uint32Array(0);
    const one = model.get("selected");
    const chosen = sel.length ? Array.from(sel) : one >= 0 ? [one] : [];
    ringed = chosen.length === 1 ? chosen[0] : -1;
    placeRing();
    const many = ringed >= 0 ? [] : chosen; // what regl-scatterplot draws selected
    const current = scatterplot.get("selectedPoints") || [];
    const same = current.length === many.length && many.every((p, k) => current[k] === p);
    fromPython = true;
    if (same) {
      // nothing to do (a deselect or re-select would cost a redraw of every point)
    } else if (many.length) {
      scatterplot.select(many, { preventEvent: true });
    }
    else scatterplot.deselect({ preventEvent: true });
    fromPython = false;
    onChange();
  }

  // A sample selected in another view (the suspects list, a neighbour) and not part of the
  // selection replaces it: every view shows that one sample.
  const onSelected = () => {
    const one = model.get("selected");
    const sel = decodeArray(model.get("selection")) || new Uint32Array(0);
    if (one >= 0 && !sel.includes(one)) {
      model.set("selection", encodeArray(Uint32Array.of(one)));
      model.save_changes();
    }
    applySelectionFromModel();
  };

  function zoomToSelection() {
    const sel = decodeArray(model.get("selection")) || new Uint32Array(0);
    if (!drawn() || !sel.length) return;
    scatterplot.zoomToPoints(Array.from(sel), { padding: 0.15, transition: true, transitionDuration: 400 });
  }

  // regl-scatterplot publishes "select" between "lassoStart" and "lassoEnd".
  scatterplot.subscribe("lassoStart", () => {
    lasso.active = true;
  });
  scatterplot.subscribe("lassoEnd", () => {
    lasso.active = false;
    lasso.ended = performance.now();
  });
  scatterplot.subscribe("select", ({ points }) => {
    if (fromPython) return;
    if (!lasso.active && performance.now() - lasso.ended < 300) {
      // A lasso closed near where it began also fires a click on the point under the mouse:
      // keep the lasso's selection.
      applySelectionFromModel();
      return;
    }
    if (lasso.active) {
      model.set("selected", -1);
      model.set("selection", encodeArray(Uint32Array.from(points)));
    } else {
      // a click selects the point whose card is shown: regl-scatterplot finds the hovered
      // and the clicked point apart, and in a dense spot they can differ
      const over = hovered();
      const i = over >= 0 ? over : points[points.length - 1];
      model.set("selected", i);
      model.set("selection", encodeArray(Uint32Array.of(i)));
    }
    model.save_changes();
    onChange();
  });
  function clear() {
    model.set("selected", -1);
    model.set("selection", encodeArray(new Uint32Array(0)));
    model.save_changes();
    onChange();
  }
  scatterplot.subscribe("deselect", () => {
    if (!fromPython) clear();
  });
  // regl-scatterplot deselects on Esc (a key up anywhere) and on a double-click on its canvas,
  // but only what it draws selected: the ringed sample is cleared on the same gestures here
  const clearRinged = () => {
    if (ringed >= 0 && !(scatterplot.get("selectedPoints") || []).length) clear();
  };
  const onKeyUp = (e) => {
    if (e.key === "Escape" && scatterplot.get("deselectOnEscape")) clearRinged();
  };
  const onDoubleClick = () => {
    if (scatterplot.get("deselectOnDblClick")) clearRinged();
  };
  window.addEventListener("keyup", onKeyUp);
  canvas?.addEventListener("dblclick", onDoubleClick);

  // A plain click on a hovered point: the model first, regl-scatterplot's own click (a search
  // of its KD-tree, then a redraw before anything else is painted) is not needed.
  let press = null;
  const onPress = (e) => {
    press = e.target === canvas ? { x: e.clientX, y: e.clientY } : null;
  };
  const onClick = (e) => {
    const i = hovered();
    const modified = e.shiftKey || e.ctrlKey || e.metaKey || e.altKey; // merge / remove: regl's
    if (e.target !== canvas || i < 0 || modified || !press) return;
    if (Math.hypot(e.clientX - press.x, e.clientY - press.y) >= CLICK_SLOP) return; // a drag
    if (performance.now() - lasso.ended < 300) return; // a lasso that closed near its start
    e.stopPropagation();
    model.set("selected", i);
    model.set("selection", encodeArray(Uint32Array.of(i)));
    model.save_changes();
    onChange();
    applySelectionFromModel();
  };
  plot?.addEventListener("mousedown", onPress, true);
  plot?.addEventListener("click", onClick, true);

  return {
    apply: applySelectionFromModel,
    onSelected,
    zoomTo: zoomToSelection,
    refresh: placeRing,
    destroy() {
      scatterplot.unsubscribe(following);
      window.removeEventListener("keyup", onKeyUp);
      canvas?.removeEventListener("dblclick", onDoubleClick);
      plot?.removeEventListener("mousedown", onPress, true);
      plot?.removeEventListener("click", onClick, true);
      ring.el.remove();
    },
  };
}
