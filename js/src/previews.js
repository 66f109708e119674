// Sample previews a page already holds (the population view's `preview_inline`: every text,
// or every thumbnail as one PNG blob with offsets), read by the hover card, the neighbours list
// and the selection table alike. Texts stay data (the callers set them as textContent).
import { decodeArray } from "./codecs.js";

/** {info, text} or {info, png: Uint8Array} of sample i from `inline`, or null (not inline). */
export function inlinePreview(inline, i) {
  if (!inline) return null;
  const info = inline.info ? inline.info[i] : undefined;
  if (inline.texts) return { info, text: inline.texts[i] };
  if (inline.png) {
    inline.decoded ??= { blob: decodeArray(inline.png), offsets: decodeArray(inline.offsets) };
    const { blob, offsets } = inline.decoded;
    if (!(i >= 0 && i + 1 < offsets.length)) return null;
    return { info, png: blob.subarray(offsets[i], offsets[i + 1]) };
  }
  return null;
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

/** Sample i's inline preview text, or null. */
export function previewText(inline, i) {
  return inline && inline.texts ? inline.texts[i] ?? null : null;
}
