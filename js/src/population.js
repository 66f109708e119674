// Population view: every sample as a point, drawn by regl-scatterplot (WebGL).
// Python and JS meet only through traits (binary arrays) and custom messages (hover previews).
// Split by UI part as jupyter-scatter is: population/renderer.js (shared WebGL renderer,
// KD-tree, WebGL probe), population/legend.js, population/tooltip.js (hover card),
// population/tools.js (lasso tool, search box, layout switch, shortcuts legend),
// population/dom.js (helpers, theme colours, keys); this file wires them to the model.
// Styles: js/src/nbperceive.css (anywidget `_css`), colours from the theme's CSS variables.
import createScatterplot from "regl-scatterplot";
import { decodeArray, encodeArray } from "./codecs.js";
import { cssToHex, h, keepKeys } from "./population/dom.js";
import { renderLegend as drawLegend } from "./population/legend.js";
import { fitRenderer, getRenderer, shared, spatialIndex, webglAvailable } from "./population/renderer.js";
import { createTooltip } from "./population/tooltip.js";
import { lassoTool, methodSwitch, searchBox, shortcutsLegend } from "./population/tools.js";
import {
  PALETTE,
  colorTable,
  normalizeXY,
  packCodes,
  packLayout,
  packedSlot,
  pointArrays,
  rgba,
  sizeTable,
  spreadTable,
  keepIndices,
  visibleIndices,
} from "./scales.js";

export { cssToHex, keepKeys } from "./population/dom.js";
export { spatialIndex, webglAvailable } from "./population/renderer.js";

function decodeChannels(raw) {
  const out = {};
  for (const [name, ch] of Object.entries(raw || {})) {
    out[name] = { ...ch, codes: decodeArray(ch.codes) };
  }
  return out;
}

function render({ model, el }) {
  const root = h("div", "nbp-pop");
  el.appendChild(root);
  keepKeys(root);

  const bar = h("div", "nbp-bar");
  const title = h("span", "nbp-title");
  const colorSel = h("select", "nbp-color");
  const sizeSel = h("select", "nbp-size");
  const colorLabel = h("label", null, "Colour ");
  colorLabel.appendChild(colorSel);
  const sizeLabel = h("label", null, "Size ");
  sizeLabel.appendChild(sizeSel);
  const resetBtn = h("button", "nbp-reset", "Reset view");
  resetBtn.title = "show every point again (after zooming or panning)";
  const lasso = lassoTool((on) => {
    // the camera holds still meanwhile: a drag draws the lasso instead of panning first
    scatterplot.set({ mouseMode: on ? "lasso" : "panZoom", cameraIsFixed: on });
    renderStatus();
  });
  const search = searchBox(model, () => zoomToSelection());
  const method = methodSwitch(model);
  const help = shortcutsLegend();
  const epochLabel = h("label", "nbp-epoch");
  const epochInput = h("input");
  epochInput.type = "range";
  const epochText = h("span");
  epochLabel.append("Epoch ", epochInput, epochText);
  bar.append(title, colorLabel, sizeLabel, method.label, search.box, lasso.button, resetBtn,
    help.button, epochLabel);

  const body = h("div", "nbp-body");
  const plot = h("div", "nbp-plot");
  const legend = h("div", "nbp-legend");
  body.append(plot, legend);
  const status = h("div", "nbp-status");
  root.append(bar, help.panel, body, status);

  const state = {
    n: 0,
    x: null,
    y: null,
    channels: {},
    hidden: new Set(),
    drawn: false,
    draws: 0,
    hovered: -1,
    lassoing: false,
    lassoEnded: -Infinity,
    layout: [[], []], // columns whose codes z and w hold (packLayout)
    packed: new Map(), // column -> the codes array packed into z or w
    z: null,
    w: null,
  };

  // height > 0: the plot's height in px; 0: the plot fills the height its container gives
  // the view (the Explorer's grid cell), at least --nbp-plot-min-height.
  const setHeight = () => {
    const px = model.get("height");
    body.style.height = px > 0 ? `${px}px` : "";
    body.style.flex = px > 0 ? "0 0 auto" : "";
  };
  setHeight();

  const n = () => (model.get("x") ? decodeArray(model.get("x")).length : 0);
  if (!webglAvailable()) {
    bar.remove();
    legend.remove();
    status.remove();
    plot.classList.add("nbp-nowebgl");
    plot.textContent =
      `WebGL is not available in this browser, so the population view cannot draw its ` +
      `${n().toLocaleString()} points. Turn on hardware acceleration (or WebGL) in the browser ` +
      `settings, or open the notebook in a browser with WebGL.`;
    return () => root.remove();
  }

  // The first points' KD-tree builds (in a worker when large) while the plot is set up.
  let early = placePoints(model.get("x"), model.get("y"));
  const canvas = h("canvas");
  plot.appendChild(canvas);

  // Plot size in CSS px; null while the plot is not laid out (detached or hidden): nothing to
  // draw then, and the first draw waits for the final size (a frame costs ~1 s at 1M points
  // in software WebGL, so none is spent on a size about to change).
  const box = () => {
    const r = plot.getBoundingClientRect();
    if (!(r.width > 0 && r.height > 0)) return null;
    const width = Math.max(50, Math.round(r.width)), height = Math.max(50, Math.round(r.height));
    return { width, height, aspectRatio: width / height };
  };
  const plotId = {};
  let onSized = null;
  const sized = box() ? Promise.resolve() : new Promise((resolve) => (onSized = resolve));
  function track(b) {
    shared().plots.set(plotId, b);
    fitRenderer();
  }
  const scatterplot = createScatterplot({
    renderer: getRenderer(),
    canvas,
    ...(box() || { width: 600, height: 400, aspectRatio: 1.5 }),
    // regl-scatterplot's "background" is the ring around a selected point (the canvas itself
    // stays transparent over the plot's themed background): the theme's text colour, so the
    // selected sample stands out on light and dark alike
    backgroundColor: cssToHex(getComputedStyle(plot).color, "#000000"),
    pointSize: 4,
    pointSizeSelected: 3,
    pointOutlineWidth: 2,
    opacity: 0.85,
    // a selected sample stands out by its ring and size; the others stay readable (one
    // selected: barely dimmed, many: dimmed more, see dimFor)
    opacityInactiveMax: 0.8,
    lassoMinDelay: 10,
    lassoMinDist: 2,
    lassoClearEvent: "lassoEnd",
    deselectOnDblClick: true,
    deselectOnEscape: true,
  });
  // Test and benchmark hook: screen position (CSS px, relative to the canvas) of sample i.
  canvas.nbpScreenPosition = (i) => scatterplot.getScreenPosition(i);
  const tooltip = createTooltip({
    plot, model, colorChannel: () => ({ channel: currentChannel("color"), name: model.get("color") }),
  });
  const dimFor = (count) => (count > 1 ? 0.45 : 0.8); // the others' opacity under a selection

  // --- drawing -----------------------------------------------------------------------------
  const currentChannel = (name) => state.channels[model.get(name)];

  // The codes regl-scatterplot holds (z, w: see packLayout): a recolour or resize by a column
  // among them only swaps lookup tables (one redraw); anything else uploads the points again.
  function resident(layout, ...names) {
    return names.every((name) => {
      const ch = name && state.channels[name];
      return !ch || (packedSlot(layout, name) && state.packed.get(name) === ch.codes);
    });
  }

  function encodingSettings(layout) {
    const c = currentChannel("color");
    const s = currentChannel("size");
    const base = model.get("point_size");
    const cs = c && packedSlot(layout, model.get("color"));
    const ss = s && packedSlot(layout, model.get("size"));
    const colors = cs ? colorTable(c).map(rgba) : [rgba(PALETTE[0])];
    const sizes = ss ? spreadTable(sizeTable(s, base), ss) : [base];
    // regl-scatterplot compares a new size table with the old one as a *set* of values, so a
    // table that only moved (same sizes, other slot) would be ignored: a last entry, never
    // looked up, tells the slots apart.
    if (ss) sizes.push(1e-6 * (1 + ss.shift + (ss.value === "valueB" ? 16 : 0)));
    return {
      colorBy: cs ? cs.value : null,
      pointColor: cs ? spreadTable(colors, cs) : colors,
      sizeBy: ss ? ss.value : null,
      pointSize: sizes,
    };
  }

  function packFor(layout) {
    state.packed = new Map(layout.flat().map((name) => [name, state.channels[name].codes]));
    const codes = (names) => names.map((name) => state.channels[name].codes);
    state.z = packCodes(codes(layout[0]), state.n, state.z);
    state.w = packCodes(codes(layout[1]), state.n, state.w);
  }

  // Coordinates in clip space and their KD-tree (a promise: a worker builds it for large sets).
  function placePoints(rawX, rawY) {
    const xs = decodeArray(rawX) || new Float32Array(0);
    const ys = decodeArray(rawY) || new Float32Array(0);
    const n = Math.min(xs.length, ys.length);
    // refill the arrays of the last draw (regl-scatterplot keeps its own copy of the points)
    const reuse = state.x && state.x.length === n ? { x: state.x, y: state.y } : null;
    const { x, y } = normalizeXY(xs.subarray(0, n), ys.subarray(0, n), 0.05, reuse);
    return { rawX, rawY, n, x, y, indexing: n ? spatialIndex(x, y) : undefined };
  }

  const painted = () => new Promise((resolve) => scatterplot.subscribe("draw", resolve, 1));

  async function draw({ transition = false } = {}) {
    await sized;
    const t0 = performance.now();
    const b = box();
    if (b && (b.width !== scatterplot.get("width") || b.height !== scatterplot.get("height"))) {
      await scatterplot.set(b);
    }
    track(b || { width: scatterplot.get("width"), height: scatterplot.get("height") });
    const rawX = model.get("x"), rawY = model.get("y");
    const samePlace = state.drawn && rawX === state.rawX && rawY === state.rawY;
    const available = Object.keys(state.channels);
    if (samePlace && resident(state.layout, model.get("color"), model.get("size"))) {
      // Recolour / resize by a column the GPU already holds: new tables, one redraw.
      const frame = painted();
      scatterplot.set(encodingSettings(state.layout));
      await frame;
      finishDraw(t0);
      return;
    }
    let indexing;
    if (samePlace) {
      indexing = scatterplot.get("spatialIndex"); // points did not move: keep the KD-tree
    } else {
      const xy = early && early.rawX === rawX && early.rawY === rawY ? early : placePoints(rawX, rawY);
      early = null;
      state.moved = transition && state.drawn && xy.n === state.n && xy.n > 0;
      state.n = xy.n;
      state.x = xy.x;
      state.y = xy.y;
      state.rawX = rawX;
      state.rawY = rawY;
      indexing = xy.indexing;
    }
    const layout = packLayout(model.get("color"), model.get("size"), available);
    packFor(layout);
    state.layout = layout;
    // The points as regl-scatterplot's draw() takes them (it would convert x, y, z, w itself),
    // made while a worker builds the KD-tree.
    const points = pointArrays(state.x, state.y, state.z, state.w);
    const index = await indexing;
    // Tables first. set() asks for a redraw in its animation frame callback; draw() right after
    // that callback, so the one frame painted next already shows the new points in the new
    // colours (a draw() before or during it would be painted twice: ~1 s a frame at 1M).
    await scatterplot.set(encodingSettings(layout));
    const options = {
      transition: !samePlace && state.moved,
      transitionDuration: 700,
      zDataType: "categorical",
      wDataType: "categorical",
      preventFilterReset: true,
    };
    if (index) options.spatialIndex = index;
    await scatterplot.draw(points, options);
    finishDraw(t0);
  }

  function finishDraw(t0) {
    state.drawn = true;
    state.draws += 1;
    applyFilter();
    applySelectionFromModel();
    // Test and benchmark hooks: draws counts data drawn *and painted* on the canvas.
    root.dataset.draws = String(state.draws);
    root.dataset.lastDrawMs = String(performance.now() - t0);
    root.dataset.points = String(state.n);
    renderStatus();
  }

  // Draws run one at a time (regl-scatterplot refuses a draw while one is running); requests
  // meanwhile merge into one (x and y arrive as two change events of one message).
  let pending = null;
  let running = false;
  function scheduleDraw(opts = {}) {
    if (pending) {
      pending.transition = pending.transition || Boolean(opts.transition);
      return;
    }
    pending = { transition: Boolean(opts.transition) };
    if (!running) queueMicrotask(runDraws);
  }
  async function runDraws() {
    running = true;
    while (pending) {
      const o = pending;
      pending = null;
      try {
        await draw(o);
      } catch (err) {
        showError(err);
      }
    }
    running = false;
  }

  function showError(err) {
    console.error("nbperceive population view:", err);
    status.textContent = `Drawing failed: ${err && err.message ? err.message : err}`;
  }

  function applyFilter() {
    const c = currentChannel("color");
    const legend = c && c.kind === "categorical" && state.hidden.size > 0;
    // `marked` (e.g. the suspects, set by Python) shown alone while `only_marked` is on
    const marked = model.get("only_marked") ? decodeArray(model.get("marked")) : null;
    const only = marked && marked.length ? marked : null;
    root.dataset.shown = String(state.n);
    if (!legend && !only) {
      if (scatterplot.get("isPointsFiltered")) scatterplot.unfilter({ preventEvent: true });
      return;
    }
    const keep = keepIndices(legend ? visibleIndices(c.codes, state.hidden) : null, only, state.n);
    root.dataset.shown = String(keep.length);
    scatterplot.filter(keep, { preventEvent: true });
  }

  // --- selection (both ways) ----------------------------------------------------------------
  let fromPython = false;
  function applySelectionFromModel() {
    if (!state.drawn) return;
    const sel = decodeArray(model.get("selection")) || new Uint32Array(0);
    const one = model.get("selected");
    const points = sel.length ? Array.from(sel) : one >= 0 ? [one] : [];
    const current = scatterplot.get("selectedPoints") || [];
    const same = current.length === points.length && points.every((p, k) => current[k] === p);
    fromPython = true;
    if (same) {
      // nothing to do (a deselect or re-select would cost a redraw of every point)
    } else if (points.length) {
      const dim = dimFor(points.length);
      if (scatterplot.get("opacityInactiveMax") !== dim) scatterplot.set({ opacityInactiveMax: dim });
      scatterplot.select(points, { preventEvent: true });
    }
    else scatterplot.deselect({ preventEvent: true });
    fromPython = false;
    renderStatus();
  }

  // A sample selected in another view (the suspects list, a neighbour) and not part of the
  // selection replaces it: every view shows that one sample.
  const onSelected = () => {
    const one = model.get("selected");
    const sel = decodeArray(model.get("selection")) || new Uint32Array(0);
    if (one >= 0 && !sel.includes(one)) {
      model.set("selection", encodeArray(Uint32Array.of(one)));
      model.save_changes();
    }
    applySelectionFromModel();
  };

  function zoomToSelection() {
    const sel = decodeArray(model.get("selection")) || new Uint32Array(0);
    if (!state.drawn || !sel.length) return;
    scatterplot.zoomToPoints(Array.from(sel), { padding: 0.15, transition: true, transitionDuration: 400 });
  }

  // regl-scatterplot publishes "select" between "lassoStart" and "lassoEnd".
  scatterplot.subscribe("lassoStart", () => {
    state.lassoing = true;
  });
  scatterplot.subscribe("lassoEnd", () => {
    state.lassoing = false;
    state.lassoEnded = performance.now();
  });
  scatterplot.subscribe("select", ({ points }) => {
    if (fromPython) return;
    if (!state.lassoing && performance.now() - state.lassoEnded < 300) {
      // A lasso closed near where it began also fires a click on the point under the mouse:
      // keep the lasso's selection.
      applySelectionFromModel();
      return;
    }
    if (state.lassoing) {
      model.set("selected", -1);
      model.set("selection", encodeArray(Uint32Array.from(points)));
    } else {
      const i = points[points.length - 1];
      model.set("selected", i);
      model.set("selection", encodeArray(Uint32Array.of(i)));
    }
    model.save_changes();
    renderStatus();
  });
  scatterplot.subscribe("deselect", () => {
    if (fromPython) return;
    model.set("selected", -1);
    model.set("selection", encodeArray(new Uint32Array(0)));
    model.save_changes();
    renderStatus();
  });

  function renderStatus() {
    const sel = decodeArray(model.get("selection"));
    const k = sel ? sel.length : 0;
    const one = model.get("selected");
    let text = `${state.n.toLocaleString()} samples`;
    if (one >= 0) text += ` · sample ${one} selected`;
    else if (k) text += ` · ${k.toLocaleString()} selected`;
    const layout = model.get("layout_status");
    if (layout) text += ` · ${layout}`;
    text += lasso.on()
      ? " · lasso tool: drag to select (Lasso again to pan and zoom) · Esc clears"
      : " · click to select · shift+drag or Lasso to select many · ? for all gestures and keys";
    status.textContent = text;
  }

  // --- legend (population/legend.js) ------------------------------------------------------------
  function renderLegend() {
    drawLegend(legend, {
      color: currentChannel("color"), size: currentChannel("size"),
      colorName: model.get("color"), sizeName: model.get("size"),
      pointSize: model.get("point_size"), hiddenCodes: state.hidden, onToggle: applyFilter,
    });
  }

  // --- dropdowns and epoch scrubber ------------------------------------------------------------
  function renderSelects() {
    for (const [sel, trait] of [[colorSel, "color"], [sizeSel, "size"]]) {
      sel.replaceChildren();
      for (const name of model.get("columns")) {
        const opt = h("option", null, name);
        opt.value = name;
        sel.appendChild(opt);
      }
      sel.value = model.get(trait);
    }
  }
  colorSel.addEventListener("change", () => {
    model.set("color", colorSel.value);
    model.save_changes();
  });
  sizeSel.addEventListener("change", () => {
    model.set("size", sizeSel.value);
    model.save_changes();
  });
  resetBtn.addEventListener("click", () => scatterplot.reset());
  // JupyterLab would take a (shift+)mousedown on the output as a cell-selection gesture and
  // keep the drag from the canvas: the press stays in the plot.
  const keepPress = (e) => e.stopPropagation();
  plot.addEventListener("mousedown", keepPress);
  plot.addEventListener("pointerdown", keepPress);
  // The selection ring follows the theme: the plot's background (--nbp-bg) has a tiny
  // transition, so a theme switch fires transition events, and once it has run its course
  // the points are redrawn with the new text colour.
  let themeTimer = 0;
  const onThemeChange = () => {
    clearTimeout(themeTimer);
    themeTimer = setTimeout(applyTheme, 60);
  };
  const applyTheme = () => {
    const ink = cssToHex(getComputedStyle(plot).color, "#000000");
    if (ink !== root.dataset.ink) {
      root.dataset.ink = ink;
      // the ring of a selected point and a hovered point (regl-scatterplot's default hover
      // colour is white: invisible on a light theme) in the theme's text colour
      scatterplot.set({ backgroundColor: ink, pointColorHover: ink });
    }
  };
  const THEME_EVENTS = ["transitionrun", "transitionend", "transitioncancel"];
  for (const ev of THEME_EVENTS) plot.addEventListener(ev, onThemeChange);


  function renderEpochs() {
    const epochs = model.get("epochs") || [];
    epochLabel.style.display = epochs.length > 1 ? "" : "none";
    epochInput.min = "0";
    epochInput.max = String(Math.max(0, epochs.length - 1));
    epochInput.step = "1";
    const idx = Math.max(0, epochs.indexOf(model.get("epoch")));
    epochInput.value = String(idx);
    epochText.textContent = ` ${epochs[idx] ?? ""}`;
  }
  epochInput.addEventListener("input", () => {
    const epochs = model.get("epochs") || [];
    epochText.textContent = ` ${epochs[Number(epochInput.value)] ?? ""}`;
  });
  epochInput.addEventListener("change", () => {
    const epochs = model.get("epochs") || [];
    model.set("epoch", epochs[Number(epochInput.value)]);
    model.save_changes();
  });

  // Epoch changes animate the points to their new place; counted for tests and benchmarks.
  let transitions = 0;
  scatterplot.subscribe("transitionEnd", () => {
    transitions += 1;
    root.dataset.transitions = String(transitions);
  });
  scatterplot.subscribe("pointOver", (i) => {
    plot.classList.add("nbp-hovering"); // pointer cursor over a dot
    tooltip.show(i);
  });
  scatterplot.subscribe("pointOut", () => {
    plot.classList.remove("nbp-hovering");
    tooltip.hide();
  });

  // --- model events ----------------------------------------------------------------------------
  const onXY = () => scheduleDraw({ transition: true });
  // A saved report has no kernel to send another epoch's layout: it carries every epoch's
  // coordinates and codes (`epoch_frames`, empty when live) and moves the points itself.
  const onEpoch = () => {
    renderEpochs();
    const frame = (model.get("epoch_frames") || {})[String(model.get("epoch"))];
    if (!frame) return;
    model.set("x", frame.x);
    model.set("y", frame.y);
    if (frame.neighbours) model.set("neighbours", frame.neighbours);
    if (frame.neighbours_note !== undefined) model.set("neighbours_note", frame.neighbours_note);
    model.set("channels", frame.channels); // one coalesced draw, animated
  };
  const onChannels = () => {
    state.channels = decodeChannels(model.get("channels"));
    renderLegend();
    scheduleDraw({ transition: false });
  };
  const onColor = () => {
    state.hidden.clear();
    colorSel.value = model.get("color");
    sizeSel.value = model.get("size");
    renderLegend();
    if (currentChannel("color") && currentChannel("size")) scheduleDraw({ transition: false });
  };
  const onColumns = () => renderSelects();
  const onTitle = () => {
    title.textContent = model.get("title");
  };
  const resize = () => {
    const b = box();
    if (!b) return;
    applyTheme(); // laid out now: the theme's colours can be read
    if (onSized) onSized();
    track(b);
    if (b.width !== scatterplot.get("width") || b.height !== scatterplot.get("height")) {
      scatterplot.set(b);
    }
  };
  const onHeight = () => {
    setHeight();
    resize();
  };
  const onPointSize = () => {
    renderLegend();
    scheduleDraw({ transition: false });
  };
  const onPreviewInline = () => tooltip.clear();
  const handlers = {
    "change:x": onXY,
    "change:y": onXY,
    "change:channels": onChannels,
    "change:color": onColor,
    "change:size": onColor,
    "change:columns": onColumns,
    "change:selected": onSelected,
    "change:selection": applySelectionFromModel,
    "change:epochs": renderEpochs,
    "change:epoch": onEpoch,
    "change:title": onTitle,
    "change:layout_status": renderStatus,
    "change:height": onHeight,
    "change:point_size": onPointSize,
    "change:preview_inline": onPreviewInline,
    "change:marked": () => state.drawn && applyFilter(),
    "change:only_marked": () => state.drawn && applyFilter(),
    "change:searchable": search.render,
    "change:search": search.render,
    "change:search_note": search.render,
    "change:layout_methods": method.render,
    "change:layout_method": method.render,
  };
  for (const [event, fn] of Object.entries(handlers)) model.on(event, fn);

  model.on("msg:custom", tooltip.onCustom);
  const resizer = new ResizeObserver(resize);
  resizer.observe(plot);

  state.channels = decodeChannels(model.get("channels"));
  onTitle();
  renderSelects();
  renderEpochs();
  renderLegend();
  scheduleDraw();

  return () => {
    for (const [event, fn] of Object.entries(handlers)) model.off(event, fn);
    model.off("msg:custom", tooltip.onCustom);
    tooltip.destroy();
    search.destroy();
    for (const ev of THEME_EVENTS) plot.removeEventListener(ev, onThemeChange);
    clearTimeout(themeTimer);
    resizer.disconnect();
    scatterplot.destroy();
    shared().plots.delete(plotId);
    root.remove();
  };
}

export default { render };
