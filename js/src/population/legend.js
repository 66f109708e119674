// The population view's legend: the colour channel (categories with counts, click to hide or
// show one; or a viridis ramp with its range) and the size channel. Text only, never markup.
import { clipText } from "../details.js";
import { MISSING, codeLabel, colorTable, formatNumber, sizeTable, viridis } from "../scales.js";
import { h } from "./dom.js";

/**
 * Draw the legend into `legend`: `color` / `size` are the decoded channels (null while
 * loading), `hiddenCodes` the set of hidden category codes, changed in place; `onToggle()` runs
 * after a category was hidden or shown; `ramp` the stretch of viridis in use.
 */
export function renderLegend(legend, { color, size, colorName, sizeName, pointSize, hiddenCodes, onToggle,
  ramp = [0, 1] }) {
  legend.replaceChildren();
  const c = color;
  if (colorName) {
    legend.appendChild(h("h4", "nbp-legend-color-title", `Colour: ${colorName}`));
    if (!c) legend.appendChild(h("div", null, "loading…"));
    else if (c.kind === "categorical") {
      const counts = new Uint32Array(256);
      for (const code of c.codes) counts[code] += 1;
      const ul = h("ul", "nbp-legend-color");
      const table = colorTable(c, ramp);
      const codes = c.categories.map((_, i) => i);
      if (counts[MISSING]) codes.push(MISSING);
      for (const code of codes) {
        const li = h("li");
        li.dataset.code = String(code);
        const sw = h("span", "nbp-swatch");
        sw.style.background = table[code];
        const { shown, hidden } = clipText(codeLabel(c, code), 60); // one line per category
        li.append(sw, h("span", "nbp-cat", hidden ? `${shown}…` : shown),
          h("span", "nbp-count", `(${counts[code]})`));
        if (hiddenCodes.has(code)) li.classList.add("nbp-off");
        li.title = "click to hide / show";
        li.addEventListener("click", () => {
          if (hiddenCodes.has(code)) hiddenCodes.delete(code);
          else hiddenCodes.add(code);
          li.classList.toggle("nbp-off", hiddenCodes.has(code));
          onToggle();
        });
        ul.appendChild(li);
      }
      legend.appendChild(ul);
    } else {
      const bar = h("div", "nbp-ramp nbp-legend-color");
      // the stretch of viridis the points are drawn with (rampRange: 3:1 on the background)
      const [t0, t1] = ramp;
      const stops = [0, 0.25, 0.5, 0.75, 1]
        .map((t) => `${viridis(t0 + (t1 - t0) * t)} ${t * 100}%`);
      bar.style.background = `linear-gradient(to right, ${stops.join(", ")})`;
      const labels = h("div", "nbp-ramp-labels");
      const [below, above] = c.clipped || [false, false];
      labels.append(
        h("span", "nbp-min", (below ? "≤ " : "") + formatNumber(c.domain[0])),
        h("span", "nbp-max", (above ? "≥ " : "") + formatNumber(c.domain[1])),
      );
      legend.append(bar, labels);
    }
  }
  const s = size;
  if (sizeName) {
    legend.appendChild(h("h4", "nbp-legend-size-title", `Size: ${sizeName}`));
    if (!s) legend.appendChild(h("div", null, "loading…"));
    else {
      const row = h("div", "nbp-sizes nbp-legend-size");
      const sizes = sizeTable(s, pointSize);
      const codes = s.kind === "categorical"
        ? s.categories.map((_, i) => i).slice(0, 6)
        : [0, Math.round((MISSING - 1) / 2), MISSING - 1];
      for (const code of codes) {
        const item = h("span");
        const dot = h("span", "nbp-dot");
        dot.style.width = dot.style.height = `${Math.max(2, sizes[code])}px`;
        item.append(dot, h("span", null, codeLabel(s, code)));
        row.appendChild(item);
      }
      legend.appendChild(row);
    }
  }
}
