// The population view's selection, both ways: the model's `selected` / `selection` shown by
// regl-scatterplot (select, deselect, the others dimmed), and a click, lasso or Esc in the
// plot set on the model. A sample selected in another view replaces the selection.
import { decodeArray, encodeArray } from "../codecs.js";

/** The others' opacity under a selection: one selected, barely dimmed; many, dimmed more. */
export const dimFor = (count) => (count > 1 ? 0.45 : 0.8);

/**
 * Link `scatterplot` and `model`: {apply(), onSelected(), zoomTo()}; apply() shows the model's
 * selection (once `drawn()`), onSelected() handles a `selected` set elsewhere, zoomTo() zooms
 * to the selected points; `onChange()` runs after each change (the status line).
 */
export function linkSelection({ model, scatterplot, drawn, onChange, hovered = () => -1 }) {
  const lasso = { active: false, ended: -Infinity };
  let fromPython = false;
  function applySelectionFromModel() {
    if (!drawn()) return;
    const sel = decodeArray(model.get("selection")) || new Uint32Array(0);
    const one = model.get("selected");
    const points = sel.length ? Array.from(sel) : one >= 0 ? [one] : [];
    const current = scatterplot.get("selectedPoints") || [];
    const same = current.length === points.length && points.every((p, k) => current[k] === p);
    fromPython = true;
    if (same) {
      // nothing to do (a deselect or re-select would cost a redraw of every point)
    } else if (points.length) {
      const dim = dimFor(points.length);
      if (scatterplot.get("opacityInactiveMax") !== dim) scatterplot.set({ opacityInactiveMax: dim });
      scatterplot.select(points, { preventEvent: true });
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
  scatterplot.subscribe("deselect", () => {
    if (fromPython) return;
    model.set("selected", -1);
    model.set("selection", encodeArray(new Uint32Array(0)));
    model.save_changes();
    onChange();
  });

  return { apply: applySelectionFromModel, onSelected, zoomTo: zoomToSelection };
}
