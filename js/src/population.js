// Population view: every sample as a point, drawn by regl-scatterplot (WebGL).
// Python and JS meet only through traits (binary arrays) and custom messages (hover previews).
// Split by UI part as jupyter-scatter is: population/renderer.js (shared WebGL renderer,
// KD-tree, WebGL probe), population/legend.js, population/tooltip.js (hover card),
// population/tools.js (lasso tool, search box, layout and layer switches, shortcuts legend),
// population/controls.js (colour and size pickers, epoch scrubber), population/selecting.js
// (selection both ways), population/structure.js (density contours and cluster labels, from
// density.js and clusters.js), population/theme.js,
// population/dom.js (helpers, theme colours, keys); this file wires them to the model.
// Styles: js/src/nbperceive.css (anywidget `_css`), colours from the theme's CSS variables.
import { decodeArray } from "./codecs.js";
import { cssToHex, h, keepKeys } from "./population/dom.js";
import { drawQueue } from "./population/draws.js";
import {
  currentChannel as channelOf, decodeChannels, viewState, encodingSettings, packFor, placePoints, resident,
} from "./population/encoding.js";
import { renderLegend as drawLegend } from "./population/legend.js";
import {
  createPlot, emptyIndex, fillIndex, fitRenderer, shared, webglAvailable,
} from "./population/renderer.js";
import { channelPickers, epochScrubber } from "./population/controls.js";
import { linkSelection } from "./population/selecting.js";
import { followTheme, themeColors } from "./population/theme.js";
import { pointerHover } from "./population/hovering.js";
import { createTooltip } from "./population/tooltip.js";
import { answerSearch } from "./search.js";
import { askFor } from "./tables.js";
import { frameAt } from "./page.js";
import { structureOverlay } from "./population/structure.js";
import { lassoTool, layerSwitch, methodSwitch, searchBox, shortcutsLegend } from "./population/tools.js";
import { packLayout, pointArrays, sizeTable } from "./scales.js";
import { filterPoints, noWebglText, statusParts } from "./population/status.js";

export { cssToHex, keepKeys } from "./population/dom.js";
export { spatialIndex, webglAvailable } from "./population/renderer.js";
export { screenTransform } from "./population/camera.js";

function render({ model, el }) {
  const root = h("div", "nbp-pop");
  el.appendChild(root);
  keepKeys(root);

  const bar = h("div", "nbp-bar");
  const title = h("span", "nbp-title");
  const pickers = channelPickers(model);
  const resetBtn = h("button", "nbp-reset", "Reset view");
  resetBtn.title = "show every point again (after zooming or panning)";
  const lasso = lassoTool((on) => {
    // the camera holds still meanwhile: a drag draws the lasso instead of panning first
    scatterplot.set({ mouseMode: on ? "lasso" : "panZoom", cameraIsFixed: on });
    renderStatus();
  });
  let zoomToSelection = () => {}; // Enter in the search box: zoom to the matches, once drawn
  const search = searchBox(model, () => zoomToSelection());
  const method = methodSwitch(model);
  const layer = layerSwitch(model);
  const help = shortcutsLegend();
  const scrubber = epochScrubber(model);
  bar.append(title, pickers.colorLabel, pickers.sizeLabel, method.label, layer.label, search.box,
    lasso.button, resetBtn, help.button, scrubber.label);

  const body = h("div", "nbp-body");
  const plot = h("div", "nbp-plot");
  const legend = h("div", "nbp-legend");
  body.append(plot, legend);
  const status = h("div", "nbp-status");
  const statusState = h("div", "nbp-status-state");
  const statusHint = h("div", "nbp-status-hint");
  // both lines take their room before the first frame: the plot is not resized by their text
  statusState.textContent = statusHint.textContent = "\u00a0";
  status.append(statusState, statusHint);
  root.append(bar, help.panel, body, status);

  const state = viewState();

  // height > 0: the plot's height in px; 0: the plot fills the height its container gives
  // the view (the Explorer's grid cell), at least --nbp-plot-min-height.
  const setHeight = () => {
    const px = model.get("height");
    body.style.height = px > 0 ? `${px}px` : "";
    body.style.flex = px > 0 ? "0 0 auto" : "";
  };
  setHeight();

  // A view on its own answers its search box over its own rows (`rows`); in the Explorer the
  // selection view answers over its rows instead (`rows` stays empty there).
  const ownRows = () => {
    const rows = model.get("rows") || {};
    return Object.keys(rows).length ? rows : null;
  };
  const onSearch = () => {
    const rows = ownRows();
    if (rows) answerSearch(model, rows, Object.keys(rows), model.get("class_names") || []);
    else if (model.get("answers_search") && String(model.get("search")).trim()) {
      model.set("search_note", "searching…"); // the kernel sends the rows on first use
      model.save_changes();
      askFor(model, "rows", { slot: "search" }); // every row (rows.py)
    }
  };
  const onRows = () => {
    if (String(model.get("search")).trim()) onSearch(); // the matches of this epoch
  };
  const searchHandlers = {
    "change:searchable": search.render,
    "change:search": () => {
      search.render();
      onSearch();
    },
    "change:rows": onRows,
    "change:search_note": search.render,
  };

  const n = () => (model.get("x") ? decodeArray(model.get("x")).length : 0);
  if (!webglAvailable()) {
    // nothing to draw on; the search box still selects samples (the Explorer's table and
    // details follow)
    title.textContent = model.get("title");
    bar.replaceChildren(title, search.box);
    legend.remove();
    status.remove();
    plot.classList.add("nbp-nowebgl");
    plot.textContent = noWebglText(n());
    for (const [event, fn] of Object.entries(searchHandlers)) model.on(event, fn);
    return () => {
      for (const [event, fn] of Object.entries(searchHandlers)) model.off(event, fn);
      search.destroy();
      root.remove();
    };
  }

  // The first points' KD-tree builds (in a worker when large) while the plot is set up.
  let early = placePoints(state, model.get("x"), model.get("y"));
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
  const scatterplot = createPlot(canvas, box() || { width: 600, height: 400, aspectRatio: 1.5 },
    cssToHex(getComputedStyle(plot).color, "#000000"));
  // Test and benchmark hooks: screen position (CSS px, relative to the canvas) of sample i,
  // the samples regl-scatterplot draws selected.
  canvas.nbpScreenPosition = (i) => scatterplot.getScreenPosition(i);
  canvas.nbpSelectedPoints = () => scatterplot.get("selectedPoints");
  const structure = structureOverlay({
    plot, model, scatterplot,
    points: () => (state.drawn ? { x: state.x, y: state.y, key: state.draws,
      channels: state.channels, names: model.get("class_names") || [] } : null),
  });
  bar.insertBefore(structure.button, resetBtn);
  const tooltip = createTooltip({
    plot, model, colorChannel: () => ({ channel: currentChannel("color"), name: model.get("color") }),
  });

  // --- drawing -----------------------------------------------------------------------------
  const currentChannel = (name) => channelOf(state, model, name);

  const painted = () => new Promise((resolve) => scatterplot.subscribe("draw", resolve, 1));

  // A transition under way (an epoch's points moving, or Reset's camera glide), marked
  // data-moving (tests: the canvas shows points on their way, not where they will be) and
  // counted in data-transitions: regl-scatterplot fails a point transition begun during
  // another (it destroys a texture it never made), so nothing starts before it ends.
  let transitions = 0;
  scatterplot.subscribe("transitionStart", () => (root.dataset.moving = "1"));
  scatterplot.subscribe("transitionEnd", () => {
    delete root.dataset.moving;
    transitions += 1;
    root.dataset.transitions = String(transitions);
  });
  // Test hook: frames regl-scatterplot has drawn (every point each time)
  let frames = 0;
  scatterplot.subscribe("draw", () => (root.dataset.frames = String(++frames)));
  const settled = () => (root.dataset.moving
    ? new Promise((resolve) => scatterplot.subscribe("transitionEnd", resolve, 1)) : null);

  async function draw({ transition = false } = {}) {
    await sized;
    // nothing is resized, recoloured or moved while points or camera are on their way: a draw
    // under a transition leaves regl-scatterplot showing a stale frame or failing
    await settled();
    const t0 = performance.now();
    const b = box();
    if (b && (b.width !== scatterplot.get("width") || b.height !== scatterplot.get("height"))) {
      await scatterplot.set(b);
    }
    track(b || { width: scatterplot.get("width"), height: scatterplot.get("height") });
    const rawX = model.get("x"), rawY = model.get("y");
    const samePlace = state.drawn && rawX === state.rawX && rawY === state.rawY;
    const available = Object.keys(state.channels);
    if (samePlace && resident(state, state.layout, model.get("color"), model.get("size"))) {
      // Recolour / resize by a column the GPU already holds: new tables, one redraw.
      const frame = painted();
      scatterplot.set(encodingSettings(state, model, state.layout));
      await frame;
      await finishDraw(t0);
      return;
    }
    let indexing;
    if (samePlace) {
      indexing = scatterplot.get("spatialIndex"); // points did not move: keep the KD-tree
    } else {
      const xy = early && early.rawX === rawX && early.rawY === rawY ? early : placePoints(state, rawX, rawY);
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
    packFor(state, layout);
    state.layout = layout;
    // The points as regl-scatterplot's draw() takes them (it would convert x, y, z, w itself),
    // made while a worker builds the KD-tree.
    const points = pointArrays(state.x, state.y, state.z, state.w);
    // The first frame does not wait for a KD-tree a worker builds (from 200k points: ~0.25 s
    // at 1M): regl-scatterplot draws with an empty tree of the same layout, which the built
    // one fills in; until then hover, click and lasso wait (state.filling, cleared when the
    // tree is in, whatever becomes of this draw).
    const building = indexing && typeof indexing.then === "function" ? indexing : null;
    const index = building ? emptyIndex(state.n) : indexing;
    const filling = building ? building.then((built) => fillIndex(index, built)) : null;
    state.filling = filling;
    filling?.finally(() => {
      if (state.filling === filling) state.filling = null;
    }).catch(() => {}); // a failed fill fails this draw (below), shown there
    // Tables first. set() asks for a redraw in its animation frame callback; draw() right after
    // that callback, so the one frame painted next already shows the new points in the new
    // colours (a draw() before or during it would be painted twice: ~1 s a frame at 1M).
    await scatterplot.set(encodingSettings(state, model, layout));
    const options = {
      transition: !samePlace && state.moved,
      transitionDuration: 700,
      zDataType: "categorical",
      wDataType: "categorical",
      preventFilterReset: true,
    };
    if (index) options.spatialIndex = index;
    // the camera fits every point before the first frame, so that frame is the only one
    const fitted = state.drawn ? null : fitView();
    await scatterplot.draw(points, options);
    await fitted;
    root.dataset.painted = String(state.n); // benchmark hook: the points are on the canvas
    if (!model.get("painted") && state.n > 0) {
      model.set("painted", state.n); // the kernel's background analyses waited for this frame
      model.save_changes();
    }
    await filling;
    await finishDraw(t0);
  }

  // Every point in view: the points span [-0.95, 0.95] (normalizeXY), and regl-scatterplot's
  // initial camera shows x over [-w/h, w/h] only, so a plot taller than wide cut points off
  // at both sides; zoomToArea fits the square whatever the plot's shape.
  async function fitView(transition = false) {
    if (transition) await settled(); // a glide begun under moving points would stall them
    return scatterplot.zoomToArea({ x: -1, y: -1, width: 2, height: 2 },
      { transition, transitionDuration: 300 });
  }

  async function finishDraw(t0) {
    state.drawn = true;
    state.draws += 1;
    applyFilter();
    applySelectionFromModel();
    // Test and benchmark hooks: draws counts data drawn *and painted* on the canvas.
    root.dataset.draws = String(state.draws);
    root.dataset.lastDrawMs = String(performance.now() - t0);
    root.dataset.points = String(state.n);
    structure.update();
    renderStatus();
  }

  // data-drawing, for tests: new points are on their way to the canvas
  const scheduleDraw = drawQueue(draw, (err) => showError(err), (busy) => {
    if (busy) root.dataset.drawing = "1";
    else delete root.dataset.drawing;
  });
  function showError(err) {
    console.error("nbperceive population view:", err);
    status.textContent = `Drawing failed: ${err && err.message ? err.message : err}`;
  }

  const applyFilter = () => {
    filterPoints({ model, state, scatterplot, root, color: currentChannel("color") });
    hover.refresh(); // a hovered point hidden now is hovered no more
    selecting.refresh(); // nor ringed as selected
  };

  // --- hover (population/hovering.js: no WebGL redraw) -------------------------------------------
  // the size column's table of point sizes (null: one size), remade when column or size change
  let sizing = { channel: undefined, base: NaN, table: null, max: 0 };
  const sizeTableNow = () => {
    const channel = currentChannel("size"), base = model.get("point_size");
    if (sizing.channel !== channel || sizing.base !== base) {
      const table = channel ? sizeTable(channel, base) : null;
      sizing = { channel, base, table, max: table ? Math.max(...table) : base };
    }
    return sizing;
  };
  // the points as drawn, a point's size at zoom 1 and whether it is drawn: the hover and the
  // selected sample's rings read them
  const drawnPoints = () => (state.drawn ? { x: state.x, y: state.y } : null);
  const pointable = () => (state.filling ? null : drawnPoints()); // its KD-tree is in
  const pointSize = (i) => {
    const { channel, base, table } = sizeTableNow();
    return table ? table[channel.codes[i]] : base;
  };
  const isShown = (i) => !state.shown || state.shown[i] === 1;
  const hover = pointerHover({
    plot, canvas, scatterplot, points: pointable, size: pointSize,
    maxSize: () => sizeTableNow().max, shown: isShown,
    onOver: (i) => {
      plot.classList.add("nbp-hovering"); // pointer cursor over a dot
      tooltip.show(i);
    },
    onOut: () => {
      plot.classList.remove("nbp-hovering");
      tooltip.hide();
    },
  });

  // --- selection (both ways, population/selecting.js) -------------------------------------------
  const selecting = linkSelection({ model, scatterplot, drawn: () => state.drawn,
    onChange: () => renderStatus(), hovered: hover.hovered, plot, canvas,
    points: drawnPoints, size: pointSize, shown: isShown });
  const applySelectionFromModel = selecting.apply;
  zoomToSelection = selecting.zoomTo;

  function renderStatus() {
    const [text, hint] = statusParts(model, state.n, lasso.on());
    statusState.textContent = text;
    statusState.title = text; // cut to one line when the view is narrow: all of it on hover
    statusHint.textContent = hint;
    statusHint.title = hint;
    if (status.firstChild !== statusState) status.replaceChildren(statusState, statusHint);
  }

  // --- legend (population/legend.js) ------------------------------------------------------------
  function renderLegend() {
    drawLegend(legend, {
      color: currentChannel("color"), size: currentChannel("size"),
      colorName: model.get("color"), sizeName: model.get("size"),
      pointSize: model.get("point_size"), hiddenCodes: state.hidden, onToggle: applyFilter,
      ramp: state.ramp,
    });
  }

  // --- dropdowns and epoch scrubber ------------------------------------------------------------
  resetBtn.addEventListener("click", () => fitView(true));
  // JupyterLab would take a (shift+)mousedown on the output as a cell-selection gesture and
  // keep the drag from the canvas: the press stays in the plot.
  const keepPress = (e) => e.stopPropagation();
  plot.addEventListener("mousedown", keepPress);
  plot.addEventListener("pointerdown", keepPress);
  // Points drawn before their KD-tree is built (draw): regl-scatterplot's click and lasso
  // would search the empty tree, so they wait for it too.
  const untilIndexed = (e) => {
    if (state.filling && e.target === canvas) e.stopPropagation();
  };
  plot.addEventListener("mousedown", untilIndexed, true);
  plot.addEventListener("click", untilIndexed, true);
  // The theme's colours (population/theme.js): the continuous ramp and the selection ring.
  const applyTheme = () => {
    const { ramp, ink } = themeColors(plot);
    if (ramp.join() !== state.ramp.join()) {
      state.ramp = ramp;
      root.dataset.ramp = ramp.join(" ");
      renderLegend();
      if (state.drawn) scatterplot.set(encodingSettings(state, model, state.layout));
    }
    if (ink !== root.dataset.ink) {
      root.dataset.ink = ink;
      // the ring of a selected point and a hovered point (regl-scatterplot's default hover
      // colour is white: invisible on a light theme) in the theme's text colour
      scatterplot.set({ backgroundColor: ink, pointColorHover: ink });
    }
  };
  const unfollowTheme = followTheme(plot, applyTheme);


  // --- model events ----------------------------------------------------------------------------
  const onXY = () => scheduleDraw({ transition: true });
  // A saved report has no kernel to send another epoch's layout: it carries every epoch's
  // coordinates and codes (`epoch_frames`, empty when live) and moves the points itself.
  const onEpoch = () => {
    scrubber.render();
    const frame = frameAt(model, model.get("epoch"));
    if (!frame) return;
    model.set("x", frame.x);
    model.set("y", frame.y);
    if (frame.neighbours) model.set("neighbours", frame.neighbours);
    if (frame.rows) model.set("rows", frame.rows);
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
    pickers.sync();
    renderLegend();
    // drawn once the chosen columns' channels are here ("" chooses none: one colour or size)
    const ready = ["color", "size"].every((k) => !model.get(k) || currentChannel(k));
    if (ready) scheduleDraw({ transition: false });
  };
  const onColumns = () => pickers.render();
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
      scatterplot.set(b).then(() => structure.follow());
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
    "change:selected": selecting.onSelected,
    "change:selection": applySelectionFromModel,
    "change:epochs": scrubber.render,
    "change:epoch": onEpoch,
    "change:title": onTitle,
    "change:layout_status": renderStatus,
    "change:height": onHeight,
    "change:point_size": onPointSize,
    "change:preview_inline": onPreviewInline,
    "change:marked": () => state.drawn && applyFilter(),
    "change:only_marked": () => state.drawn && applyFilter(),
    ...searchHandlers,
    "change:layout_methods": method.render,
    "change:layout_method": method.render,
    "change:layout_layers": layer.render,
    "change:layout_layer": layer.render,
    "change:structure": structure.render,
    "change:class_names": () => structure.update(true),
  };
  for (const [event, fn] of Object.entries(handlers)) model.on(event, fn);

  model.on("msg:custom", tooltip.onCustom);
  const resizer = new ResizeObserver(resize);
  resizer.observe(plot);

  state.channels = decodeChannels(model.get("channels"));
  onTitle();
  if (box()) applyTheme(); // laid out already: the first draw in the theme's ramp
  renderLegend();
  scheduleDraw();

  return () => {
    for (const [event, fn] of Object.entries(handlers)) model.off(event, fn);
    model.off("msg:custom", tooltip.onCustom);
    tooltip.destroy();
    hover.destroy();
    selecting.destroy();
    search.destroy();
    structure.destroy();
    unfollowTheme();
    resizer.disconnect();
    scatterplot.destroy();
    shared().plots.delete(plotId);
    root.remove();
  };
}

export default { render };
