// A clickable, sortable list of samples: a click sets `selected` to the entry's sample id in the
// page (linked views follow without a kernel). Entries may carry a thumbnail or a text snippet
// (`thumbs`); a picker sorts them by one of `sort_keys`; a checkbox (`filter_label`) toggles
// `filter_on`; `status` is a line above them. Texts are set with textContent, never markup.
// Styles: js/src/nbperceive.css.
import { decodeArray } from "./codecs.js";
import { keepKeys } from "./population/dom.js";

/** Entry positions in display order: by `keys[by]` (missing values last), else as given. */
export function sortedOrder(keys, by, descending, n) {
  const order = Array.from({ length: n }, (_, i) => i);
  const values = keys && keys[by];
  if (!values) return order;
  const sign = descending ? -1 : 1;
  return order.sort((a, b) => {
    const va = values[a], vb = values[b];
    if (va === null || va === undefined) return vb === null || vb === undefined ? a - b : 1;
    if (vb === null || vb === undefined) return -1;
    return va === vb ? a - b : sign * (va - vb);
  });
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function render({ model, el: host }) {
  const root = el("div", "nbp-samples");
  keepKeys(root);
  const bar = el("div", "nbp-samples-bar");
  const status = el("span", "nbp-samples-status");
  status.setAttribute("role", "status");
  const sortLabel = el("label", null, "Sort by ");
  const sortSel = el("select", "nbp-sort");
  const dirBtn = el("button", "nbp-sort-dir");
  sortLabel.append(sortSel);
  const filterLabel = el("label", "nbp-filter");
  const filterBox = el("input");
  filterBox.type = "checkbox";
  const filterText = el("span");
  filterLabel.append(filterBox, filterText);
  bar.append(status, sortLabel, dirBtn, filterLabel);
  const box = el("div", "nbp-samples-list");
  box.setAttribute("role", "listbox");
  root.append(bar, box);
  host.append(root);
  let urls = [];

  const thumbsOf = () => {
    for (const u of urls) URL.revokeObjectURL(u);
    urls = [];
    const t = model.get("thumbs") || {};
    if (t.kind === "image" && t.png) {
      const blob = decodeArray(t.png), off = decodeArray(t.offsets);
      for (let i = 0; i + 1 < off.length; i++) {
        urls.push(URL.createObjectURL(new Blob([blob.slice(off[i], off[i + 1])],
          { type: "image/png" })));
      }
      return { images: urls };
    }
    return { texts: t.kind === "text" ? t.texts || [] : [] };
  };
  let thumbs = thumbsOf();

  const drawBar = () => {
    const keys = model.get("sort_keys") || {};
    const names = Object.keys(keys);
    status.textContent = model.get("status");
    status.hidden = !model.get("status");
    sortLabel.hidden = dirBtn.hidden = names.length < 2;
    sortSel.replaceChildren(...names.map((n) => {
      const o = el("option", null, n);
      o.value = n;
      return o;
    }));
    sortSel.value = model.get("sort_by");
    const down = model.get("sort_descending");
    dirBtn.textContent = down ? "↓ highest first" : "↑ lowest first";
    dirBtn.title = "reverse the order";
    filterLabel.hidden = !model.get("filter_label");
    filterText.textContent = ` ${model.get("filter_label")}`;
    filterBox.checked = model.get("filter_on");
    bar.hidden = status.hidden && sortLabel.hidden && filterLabel.hidden;
  };

  const draw = () => {
    const ids = model.get("ids");
    const texts = model.get("texts");
    box.style.maxHeight = `${model.get("rows") * (thumbs.images || thumbs.texts.length ? 2.6 : 1.35) * 12 + 6}px`;
    box.replaceChildren();
    if (!ids.length) {
      box.append(el("div", "nbp-empty", model.get("empty")));
      return;
    }
    const order = sortedOrder(model.get("sort_keys"), model.get("sort_by"),
      model.get("sort_descending"), ids.length);
    for (const k of order) {
      const id = ids[k];
      const e = el("div", "nbp-sample");
      e.setAttribute("role", "option");
      e.dataset.sample = String(id);
      if (thumbs.images && thumbs.images[k]) {
        const img = el("img", "nbp-thumb");
        img.src = thumbs.images[k];
        img.alt = `sample ${id}`;
        e.append(img);
      }
      const entry = el("span", "nbp-entry", texts[k] ?? String(id));
      if (thumbs.texts && thumbs.texts[k]) entry.append(el("span", "nbp-snippet", thumbs.texts[k]));
      e.append(entry);
      e.onclick = () => {
        model.set("selected", id);
        model.save_changes();
      };
      box.append(e);
    }
    mark();
  };
  const mark = () => {
    const s = model.get("selected");
    for (const e of box.querySelectorAll(".nbp-sample")) {
      const on = Number(e.dataset.sample) === s;
      e.classList.toggle("nbp-current", on);
      e.setAttribute("aria-selected", String(on));
    }
  };
  sortSel.addEventListener("change", () => {
    model.set("sort_by", sortSel.value);
    model.save_changes();
  });
  dirBtn.addEventListener("click", () => {
    model.set("sort_descending", !model.get("sort_descending"));
    model.save_changes();
  });
  filterBox.addEventListener("change", () => {
    model.set("filter_on", filterBox.checked);
    model.save_changes();
  });
  const onThumbs = () => {
    thumbs = thumbsOf();
    draw();
  };
  const onSort = () => {
    drawBar();
    draw();
  };
  drawBar();
  draw();
  const handlers = [["change:ids", draw], ["change:texts", draw], ["change:rows", draw],
    ["change:empty", draw], ["change:selected", mark], ["change:thumbs", onThumbs],
    ["change:sort_keys", onSort], ["change:sort_by", onSort], ["change:sort_descending", onSort],
    ["change:status", drawBar], ["change:filter_label", drawBar], ["change:filter_on", drawBar]];
  for (const [ev, fn] of handlers) model.on(ev, fn);
  return () => {
    for (const [ev, fn] of handlers) model.off(ev, fn);
    for (const u of urls) URL.revokeObjectURL(u);
    root.remove();
  };
}

export default { render };
