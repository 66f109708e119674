// The Inspector's painting of one panel: the heatmap over the image or the tokens, the
// probability bars, the colour bar. Sample data is set with textContent only.
import { cssColor } from "./colormaps.js";
import { overlay, probabilityOf, textColorOn, topK } from "./arrays.js";
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
export function paintTokens(p, weights, table, opacity) {
  const a = Math.max(0.05, opacity);
  p.spans.forEach((s, t) => {
    const w = weights[t];
    const rgb = [table[w * 3], table[w * 3 + 1], table[w * 3 + 2]];
    s.style.background = `rgba(${rgb[0]}, ${rgb[1]}, ${rgb[2]}, ${a})`;
    s.style.color = textColorOn(rgb, a);
    s.title = `weight ${(w / 255).toFixed(2)}`;
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

/** The colormap from low to high weight. */
export function paintColorbar(box, table) {
  box.replaceChildren();
  const c = h("canvas");
  c.width = 128;
  c.height = 10;
  const ctx = c.getContext("2d");
  for (let x = 0; x < 128; x++) {
    ctx.fillStyle = cssColor(table, (x / 127) * 255);
    ctx.fillRect(x, 0, 1, 10);
  }
  box.append(h("span", "", "low"), c, h("span", "", "high weight"));
}
