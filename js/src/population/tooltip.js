// The population view's hover card: sample id, its label / prediction / loss, the colour
// column's value and its preview (thumbnail or text), inline when the page holds previews,
// else asked of the kernel by a "preview" row request (rows.py, tables.js), answered by a
// custom message of the same type. Every field is text, never markup.
import { inlinePreview, previewLeftOut } from "../previews.js";
import { codeLabel, formatNumber } from "../scales.js";
import { askFor } from "../tables.js";
import { h, short } from "./dom.js";

/** CSS px a thumbnail's longer side is drawn at, at least (whole multiples of its pixels). */
export const THUMB_SHOWN_MIN = 64;

/** Draw a small thumbnail `img` (loaded) a whole number of times larger, pixelated. */
function enlarge(img) {
  const side = Math.max(img.naturalWidth, img.naturalHeight);
  if (!side || side >= THUMB_SHOWN_MIN) return;
  img.style.width = `${img.naturalWidth * Math.ceil(THUMB_SHOWN_MIN / side)}px`;
}

/**
 * A hover card inside `plot`: `colorChannel()` gives the decoded colour channel and its name.
 * Returns {show(i), hide(), onCustom(msg, buffers), hovered(), destroy()}.
 */
export function createTooltip({ plot, model, colorChannel }) {
  const tip = h("div", "nbp-tip");
  tip.style.display = "none";
  plot.appendChild(tip);
  const previews = new Map(); // i -> preview, or null while the kernel is asked
  const urls = [];
  let hovered = -1;
  let mouse = { x: 0, y: 0 };
  const onMove = (e) => {
    const r = plot.getBoundingClientRect();
    mouse = { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  plot.addEventListener("mousemove", onMove);

  function previewOf(i) {
    if (previews.has(i)) return previews.get(i);
    const p = inlinePreview(model.get("preview_inline"), i);
    if (p) {
      previews.set(i, p);
      return p;
    }
    const missing = previewLeftOut(model.get("preview_inline"), i);
    if (missing) return { missing }; // a saved page without it: no kernel to ask
    previews.set(i, null); // requested
    askFor(model, "preview", { index: i });
    return null;
  }

  function position() {
    const r = plot.getBoundingClientRect();
    const w = tip.offsetWidth, ht = tip.offsetHeight;
    const left = mouse.x + 14 + w > r.width ? Math.max(0, mouse.x - 14 - w) : mouse.x + 14;
    const top = mouse.y + 10 + ht > r.height ? Math.max(0, mouse.y - 10 - ht) : mouse.y + 10;
    tip.style.left = `${left}px`;
    tip.style.top = `${top}px`;
  }

  function show(i) {
    hovered = i;
    tip.replaceChildren();
    tip.appendChild(h("div", "nbp-tip-title", `sample ${i}`));
    const p = previewOf(i);
    const fields = p && p.info ? Object.entries(p.info) : [];
    for (const [k, v] of fields) {
      const text = v === null || v === undefined ? "—" : typeof v === "number" ? formatNumber(v) : v;
      tip.appendChild(h("div", "nbp-tip-field", short(`${k}: ${text}`))); // a regression: no `correct`
    }
    const { channel: c, name } = colorChannel();
    if (c && !fields.some(([k]) => k === name)) {
      tip.appendChild(h("div", "nbp-tip-field", short(`${name}: ${codeLabel(c, c.codes[i])}`)));
    }
    if (p && p.png && !p.url) {
      p.url = URL.createObjectURL(new Blob([p.png], { type: "image/png" }));
      urls.push(p.url);
    }
    if (p && p.text !== undefined && p.text !== null) {
      tip.appendChild(h("div", "nbp-text", p.text)); // textContent: sample text is data
    } else if (p && p.png) {
      const img = h("img", "nbp-thumb");
      img.src = p.url;
      img.alt = `sample ${i}`;
      img.addEventListener("load", () => {
        enlarge(img);
        position();
      });
      tip.appendChild(img);
    } else if (p && p.missing) {
      tip.appendChild(h("div", "nbp-tip-field nbp-tip-note", p.missing));
    } else if (model.get("preview_kind") !== "none") {
      tip.appendChild(h("div", "nbp-loading", "loading preview…"));
    }
    tip.style.display = "block";
    position();
  }

  function hide() {
    hovered = -1;
    tip.style.display = "none";
  }

  function onCustom(msg, buffers) {
    if (!msg || msg.type !== (model.get("row_requests") || {}).preview) return; // rows.py
    const p = { info: msg.info, text: msg.text };
    if (buffers && buffers.length) {
      const b = buffers[0];
      p.png = new Uint8Array(b.buffer ?? b, b.byteOffset ?? 0, b.byteLength);
    }
    previews.set(msg.index, p);
    if (hovered === msg.index) show(msg.index);
  }

  return {
    show,
    hide,
    onCustom,
    clear: () => previews.clear(),
    destroy() {
      plot.removeEventListener("mousemove", onMove);
      for (const url of urls) URL.revokeObjectURL(url);
    },
  };
}
