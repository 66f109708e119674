// A clickable list of samples: a click sets `selected` to the entry's sample id in the page
// (linked views follow without a kernel). Entry texts are set with textContent, never markup.
// Styles: js/src/nbperceive.css.

function render({ model, el }) {
  const box = document.createElement("div");
  box.className = "nbp-samples";
  box.setAttribute("role", "listbox");
  el.append(box);

  const draw = () => {
    const ids = model.get("ids");
    const texts = model.get("texts");
    box.style.maxHeight = `${model.get("rows") * 1.35 * 12 + 6}px`;
    box.replaceChildren();
    if (!ids.length) {
      const e = document.createElement("div");
      e.className = "nbp-empty";
      e.textContent = model.get("empty");
      box.append(e);
      return;
    }
    ids.forEach((id, k) => {
      const e = document.createElement("div");
      e.className = "nbp-sample";
      e.setAttribute("role", "option");
      e.dataset.sample = String(id);
      e.textContent = texts[k] ?? String(id);
      e.onclick = () => {
        model.set("selected", id);
        model.save_changes();
      };
      box.append(e);
    });
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
  draw();
  const handlers = [["change:ids", draw], ["change:texts", draw], ["change:rows", draw],
    ["change:empty", draw], ["change:selected", mark]];
  for (const [ev, fn] of handlers) model.on(ev, fn);
  return () => {
    for (const [ev, fn] of handlers) model.off(ev, fn);
  };
}

export default { render };
