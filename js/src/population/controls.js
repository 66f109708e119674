// The population view's controls in its bar: the colour and size pickers (a column each) and
// the epoch scrubber. Each returns its elements and a render() that shows the model's state;
// a change is set on the model (Python and the other views follow).
import { h } from "./dom.js";

/** The Colour and Size pickers: {colorLabel, sizeLabel, render(), sync()}. render() lists
 * the model's columns (and "same for all" sizes); sync() shows the chosen ones. */
export function channelPickers(model) {
  const colorSel = h("select", "nbp-color");
  const sizeSel = h("select", "nbp-size");
  const colorLabel = h("label", null, "Colour ");
  colorLabel.appendChild(colorSel);
  const sizeLabel = h("label", null, "Size ");
  sizeLabel.appendChild(sizeSel);
  const pairs = [[colorSel, "color"], [sizeSel, "size"]];
  for (const [sel, trait] of pairs) {
    sel.addEventListener("change", () => {
      model.set(trait, sel.value);
      model.save_changes();
    });
  }
  const sync = () => {
    for (const [sel, trait] of pairs) sel.value = model.get(trait);
  };
  const render = () => {
    for (const [sel, trait] of pairs) {
      const options = model.get("columns").map((name) => {
        const opt = h("option", null, name);
        opt.value = name;
        return opt;
      });
      if (trait === "size") {
        const same = h("option", null, "same for all"); // size "" (no column)
        same.value = "";
        options.unshift(same);
      }
      sel.replaceChildren(...options);
    }
    sync();
  };
  render();
  return { colorLabel, sizeLabel, render, sync };
}

/** The epoch scrubber (hidden with fewer than two epochs): {label, render()}. Dragging shows
 * the epoch under the thumb; letting go sets the model's `epoch`. */
export function epochScrubber(model) {
  const label = h("label", "nbp-epoch");
  const input = h("input");
  input.type = "range";
  const text = h("span");
  label.append("Epoch ", input, text);
  const epochs = () => model.get("epochs") || [];
  const render = () => {
    const all = epochs();
    label.style.display = all.length > 1 ? "" : "none";
    input.min = "0";
    input.max = String(Math.max(0, all.length - 1));
    input.step = "1";
    const idx = Math.max(0, all.indexOf(model.get("epoch")));
    input.value = String(idx);
    text.textContent = ` ${all[idx] ?? ""}`;
  };
  input.addEventListener("input", () => {
    text.textContent = ` ${epochs()[Number(input.value)] ?? ""}`;
  });
  input.addEventListener("change", () => {
    model.set("epoch", epochs()[Number(input.value)]);
    model.save_changes();
  });
  render();
  return { label, render };
}
