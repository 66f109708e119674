// Sample previews a page already holds (the population view's `preview_inline`: every text,
// or every thumbnail as one PNG blob with offsets), read by the hover card, the neighbours list
// and the selection table alike. Texts stay data (the callers set them as textContent).
import { decodeArray } from "./codecs.js";

/** Where sample i sits in `inline` (its sorted `ids` when it holds some samples' only), or -1. */
function slotOf(inline, i) {
  if (!inline.ids) return i;
  inline.idsDecoded ??= decodeArray(inline.ids);
  const ids = inline.idsDecoded;
  let lo = 0, hi = ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ids[mid] === i) return mid;
    if (ids[mid] < i) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** {info, text} or {info, png: Uint8Array} of sample i from `inline`, or null (not inline). */
export function inlinePreview(inline, i) {
  if (!inline) return null;
  const k = slotOf(inline, i);
  if (k < 0) return null;
  const info = inline.info ? inline.info[k] : undefined;
  if (inline.texts) return k < inline.texts.length ? { info, text: inline.texts[k] } : null;
  if (inline.png) {
    inline.decoded ??= { blob: decodeArray(inline.png), offsets: decodeArray(inline.offsets) };
    const { blob, offsets } = inline.decoded;
    if (!(k >= 0 && k + 1 < offsets.length)) return null;
    return { info, png: blob.subarray(offsets[k], offsets[k + 1]) };
  }
  return null;
}

/**
 * Why sample i's preview is not in `inline` when that is final (a saved page carrying some
 * samples' previews only: none to ask a kernel for), else null.
 */
export function previewLeftOut(inline, i) {
  if (!inline || !inline.ids || slotOf(inline, i) >= 0) return null;
  const kept = inline.idsDecoded.length;
  return `no preview saved for this sample (this page carries ${kept.toLocaleString("en-US")} of ${Number(inline.of).toLocaleString("en-US")})`;
}

const URLS = new WeakMap(); // inline payload -> Map(i -> object URL), made once per thumbnail

/** An <img> of sample i's inline thumbnail (class `className`), or null when there is none. */
export function thumbnail(inline, i, className = "nbp-thumb-small") {
  const p = inlinePreview(inline, i);
  if (!p || !p.png) return null;
  let urls = URLS.get(inline);
  if (!urls) URLS.set(inline, (urls = new Map()));
  if (!urls.has(i)) urls.set(i, URL.createObjectURL(new Blob([p.png], { type: "image/png" })));
  const img = document.createElement("img");
  img.className = className;
  img.src = urls.get(i);
  img.alt = `sample ${i}`;
  return img;
}

/** The inline preview texts indexed by sample (holes where a saved page left some out), or null. */
export function previewTexts(inline) {
  if (!inline || !inline.texts) return null;
  if (!inline.ids) return inline.texts;
  if (!inline.bySample) {
    slotOf(inline, 0); // decodes the ids
    inline.bySample = new Array(Number(inline.of));
    inline.idsDecoded.forEach((id, k) => (inline.bySample[id] = inline.texts[k]));
  }
  return inline.bySample;
}

/** Sample i's inline preview text, or null. */
export function previewText(inline, i) {
  const p = inline && inline.texts ? inlinePreview(inline, i) : null;
  return p ? p.text ?? null : null;
}
