// The Inspector's painting of one panel: the heatmap over the image or the tokens, the
// probability bars, the colour bar. Sample data is set with textContent only.
import { SIGNED_ZERO, cssColor } from "./colormaps.js";
import { overlay, probabilityOf, textColorOn, topK, valueOf } from "./arrays.js";
import { formatNumber } from "../scales.js";
import { h } from "../population/dom.js";

/** The heatmap `weights` coloured by `table` over the sample's pixels, drawn at the view's size. */
export function paintImage(p, image, rgba, weights, table, opacity) {
  const [hh, ww] = image.shape;
  const px = overlay(rgba, weights, table, opacity);
  p.scratch.getContext("2d").putImageData(new ImageData(px, ww, hh), 0, 0);
  const ctx = p.view.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, p.view.width, p.view.height);
  ctx.drawImage(p.scratch, 0, 0, p.view.width, p.view.height);
}

/** Each token's background coloured by its weight (text colour kept readable). */
/** The opaque colour painted behind `el` ([r, g, b]; white when none is found). */
export function backdropOf(el) {
  for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
    const m = getComputedStyle(e).backgroundColor.match(/rgba?\(([^)]+)\)/);
    const parts = m ? m[1].split(",").map(Number) : [];
    if (parts.length >= 3 && (parts.length < 4 || parts[3] >= 0.5)) return parts.slice(0, 3);
  }
  return [255, 255, 255];
}

export function paintTokens(p, weights, table, opacity, scale = null, tries = 0) {
  const a = Math.max(0.05, opacity);
  if (p.spans.length && !p.spans[0].isConnected && tries < 600) {
    // not on the page yet (a view is drawn before it is attached): its backdrop is unknown,
    // so paint once it is there
    requestAnimationFrame(() => paintTokens(p, weights, table, opacity, scale, tries + 1));
  }
  // the tokens' text is black or white for the colour they show over the page's own (a dark
  // theme's: black text on near-black, 1.15:1, when white was assumed)
  const backdrop = backdropOf(p.spans.length ? p.spans[0].parentElement : null);
  p.spans.forEach((s, t) => {
    const w = weights[t];
    const rgb = [table[w * 3], table[w * 3 + 1], table[w * 3 + 2]];
    s.style.background = `rgba(${rgb[0]}, ${rgb[1]}, ${rgb[2]}, ${a})`;
    s.style.color = textColorOn(rgb, a, backdrop);
    s.title = scale ? `attribution ${signedNumber(valueOf(scale, w), scale.signed)}`
      : `weight ${(w / 255).toFixed(2)}`;
    s.dataset.weight = String(w);
  });
}

/** The top-5 probabilities plus the true classes; a click on a name picks that label. */
export function paintBars(p, label, truths, nameOf, pick) {
  const rows = topK(p.probs, 5);
  for (const t of truths) {
    if (!rows.some((r) => r.cls === t)) rows.push({ cls: t, p: probabilityOf(p.probs, t) });
  }
  p.bars.replaceChildren();
  for (const r of rows) {
    const isTrue = truths.includes(r.cls);
    const name = h("span", "nbp-bar-name", `${nameOf(r.cls)}${isTrue ? " ✓" : ""}`);
    if (r.cls === label) name.classList.add("nbp-selected");
    name.title = "show the heatmap for this class";
    name.onclick = () => {
      if (p.labels.includes(r.cls)) pick(r.cls);
    };
    const track = h("div");
    const bar = h("div", isTrue ? "nbp-bar nbp-true" : "nbp-bar");
    bar.style.width = `${Math.max(0, Math.min(1, r.p)) * 100}%`;
    track.append(bar);
    p.bars.append(name, track, h("span", "", r.p.toFixed(3)));
  }
}

/** A raw attribution value as the colour bar writes it (formatNumber: never e-notation);
 * signed maps' positive values carry their "+". */
export function signedNumber(v, signed) {
  const text = formatNumber(v).replace(/^-/, "\u2212");
  return signed && v > 0 ? `+${text}` : text;
}

/** The colour bar's words: what its left end, middle (signed maps: 0) and right end stand
 * for in the shown map's own units, and how to read them. `scale` null: an older page
 * without ranges ("low … high weight"). */
export function colorbarText(scale, label = "") {
  if (!scale) return { ends: ["low", "high weight"], note: "" };
  const own = "this map's own scale";
  if (scale.signed) {
    const a = Math.abs(scale.hi);
    const whom = label ? ` ${label}` : " the label";
    return {
      ends: [signedNumber(-a, true), signedNumber(a, true)], middle: "0",
      note: `(${own}; red: for${whom}, blue: against it)`,
    };
  }
  return { ends: [formatNumber(scale.lo), formatNumber(scale.hi)], note: `(${own})` };
}

/** A strip of the colormap from code `from` to code `to`. */
function strip(table, from, to, width) {
  const c = h("canvas");
  c.width = width;
  c.height = 10;
  const ctx = c.getContext("2d");
  for (let x = 0; x < width; x++) {
    ctx.fillStyle = cssColor(table, from + (x / (width - 1)) * (to - from));
    ctx.fillRect(x, 0, 1, 10);
  }
  return c;
}

/** The colormap from the map's lowest to its highest code, with the raw values they stand
 * for: "0 [bar] 0.0123 (this map's own scale)"; signed maps "−a [blue] 0 [red] +a". */
export function paintColorbar(box, table, scale = null, label = "") {
  const text = colorbarText(scale, label);
  const parts = [h("span", "nbp-colorbar-lo", text.ends[0])];
  if (text.middle !== undefined) {
    parts.push(strip(table, 1, SIGNED_ZERO, 64), h("span", "nbp-colorbar-zero", text.middle),
      strip(table, SIGNED_ZERO, 255, 64));
  } else {
    parts.push(strip(table, 0, 255, 128));
  }
  parts.push(h("span", "nbp-colorbar-hi", text.ends[1]));
  if (text.note) parts.push(h("span", "nbp-colorbar-note", text.note));
  box.dataset.signed = scale && scale.signed ? "1" : "";
  box.replaceChildren(...parts);
}
