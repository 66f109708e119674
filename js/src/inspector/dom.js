// The Inspector's styles and DOM helpers: option lists, the error box (elements with text,
// never markup: population/dom.js's h).
import { h } from "../population/dom.js";

export const CSS = `
.nbp-inspector { font: 13px/1.4 system-ui, sans-serif; padding: 6px; }
.nbp-inspector .nbp-controls { display: flex; flex-wrap: wrap; gap: 6px 14px; align-items: center;
  margin-bottom: 6px; }
.nbp-inspector label { display: inline-flex; gap: 4px; align-items: center; }
.nbp-inspector select, .nbp-inspector input[type=number] { font: inherit; }
.nbp-inspector input[type=number] { width: 5em; }
.nbp-inspector .nbp-truth { margin: 4px 0; }
.nbp-inspector .nbp-panels { display: flex; flex-wrap: wrap; gap: 18px; }
.nbp-inspector .nbp-panel { display: flex; flex-direction: column; gap: 4px; min-width: 260px;
  max-width: 560px; }
.nbp-inspector .nbp-title { font-weight: 600; }
.nbp-inspector canvas.nbp-view { image-rendering: pixelated; border: 1px solid var(--nbp-border);
  align-self: flex-start; }
.nbp-inspector .nbp-tokens { line-height: 1.9; border: 1px solid var(--nbp-border-soft); padding: 6px;
  max-height: 260px; overflow: auto; white-space: normal; }
.nbp-inspector .nbp-token { padding: 1px 2px; margin: 0 1px; border-radius: 3px;
  white-space: pre; }
.nbp-inspector .nbp-row { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
.nbp-inspector .nbp-col { display: flex; flex-direction: column; gap: 4px; }
.nbp-inspector .nbp-row .nbp-bars { min-width: 200px; }
.nbp-inspector .nbp-row .nbp-col { max-width: 360px; }
.nbp-inspector .nbp-faith { font-size: 12px; color: var(--nbp-fg-muted); white-space: pre-line; }
.nbp-inspector .nbp-depth { display: flex; gap: 6px; align-items: center; }
.nbp-inspector .nbp-depth input { flex: 1; }
.nbp-inspector .nbp-bars { display: grid; grid-template-columns: max-content 1fr 3.5em;
  gap: 1px 6px; align-items: center; font-size: 12px; }
.nbp-inspector .nbp-bar-name { cursor: pointer; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; max-width: 12em; }
.nbp-inspector .nbp-bar-name.nbp-selected { font-weight: 700; text-decoration: underline; }
.nbp-inspector .nbp-bar { height: 9px; background: var(--nbp-bar); }
.nbp-inspector .nbp-bar.nbp-true { background: var(--nbp-ok); }
.nbp-inspector .nbp-colorbar { display: flex; flex-wrap: wrap; gap: 2px 6px; align-items: center; font-size: 11px;
  color: var(--nbp-fg-muted); }
.nbp-inspector .nbp-row .nbp-colorbar { max-width: 260px; } /* as wide as the picture */
.nbp-inspector .nbp-colorbar-note { flex-basis: 100%; }
.nbp-inspector .nbp-status { color: var(--nbp-fg-muted); min-height: 1em; }
.nbp-inspector .nbp-error { color: var(--nbp-error-fg); background: var(--nbp-error-bg);
  border: 1px solid var(--nbp-error-border);
  padding: 4px 8px; white-space: pre-wrap; }
`;

export function setOptions(select, values, labelOf = String) {
  const key = JSON.stringify(values.map((v) => [v, labelOf(v)]));
  if (select.dataset.options === key) return;
  select.dataset.options = key;
  select.replaceChildren(
    ...values.map((v) => {
      const o = h("option", "", labelOf(v));
      o.value = String(v);
      return o;
    }),
  );
}

export function showError(el, err) {
  console.error("nbperceive inspector:", err);
  let box = el.querySelector(":scope > .nbp-js-error");
  if (!box) {
    box = h("div", "nbp-error nbp-js-error");
    el.prepend(box);
  }
  box.textContent = `nbperceive inspector could not draw: ${err && err.message ? err.message : err}`;
}
