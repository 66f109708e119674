// Small DOM helpers of the population view: elements with text (never markup), theme colours,
// keys kept in the widget, texts cut for one line.
import { clipText } from "../details.js";

/** A CSS colour as the browser computes it ("rgb(r, g, b)" / "rgba(...)") as #rrggbb. */
export function cssToHex(css, fallback = "#ffffff") {
  const m = /rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:[,\s/]+([\d.]+))?/.exec(css || "");
  if (!m || (m[4] !== undefined && Number(m[4]) === 0)) return fallback;
  return "#" + [m[1], m[2], m[3]].map((v) => Math.round(Number(v)).toString(16).padStart(2, "0")).join("");
}

/** Keys pressed in a view stay in it (JupyterLab would move the active cell on arrow keys).
 * Lab matches its shortcuts in a capture-phase listener, before any of ours can stop the
 * event, so the view also carries Lumino's `data-lm-suppress-shortcuts` (no key binding
 * matches below it); stopping propagation covers Voila and other hosts. */
export function keepKeys(node) {
  node.setAttribute("data-lm-suppress-shortcuts", "true");
  node.addEventListener("keydown", (e) => {
    const runs = e.key === "Enter" && (e.shiftKey || e.ctrlKey || e.metaKey || e.altKey);
    if (!runs && !e.ctrlKey && !e.metaKey) e.stopPropagation();
  });
}

export function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text; // always text, never markup
  return node;
}

/** A text cut to one card line or so (the whole value is in the details panel). */
export function short(text, limit = 120) {
  const { shown, hidden } = clipText(text, limit);
  return hidden ? `${shown}…` : shown;
}
