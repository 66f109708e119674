// The WebGL side shared by every population view on a page: one regl-scatterplot renderer,
// the KD-tree index (built in a worker for large sets) and a WebGL probe.
import createScatterplot, { createRenderer } from "regl-scatterplot";
import createKDBushClass from "regl-scatterplot/src/kdbush-class.js";

// One WebGL renderer for every plot on the page (browsers cap live WebGL contexts at ~16).
// anywidget loads this module once per widget (a blob URL each), so module-level variables
// are not shared between plots: the renderer lives on globalThis instead.
const SHARED = "__nbperceivePopulation";
export function shared() {
  globalThis[SHARED] = globalThis[SHARED] || { renderer: null, webgl: null, plots: new Map() };
  return globalThis[SHARED];
}
export function getRenderer() {
  const s = shared();
  // Our own canvas, sized to the largest live plot (not to the window, regl-scatterplot's
  // default): every frame clears and copies the renderer's whole float framebuffer.
  if (!s.renderer) s.renderer = createRenderer({ canvas: document.createElement("canvas") });
  return s.renderer;
}
/** Size the shared renderer to the largest plot in `plots` (id -> {width, height}, CSS px). */
export function fitRenderer() {
  const s = shared();
  let width = 1, height = 1;
  for (const b of s.plots.values()) {
    width = Math.max(width, b.width);
    height = Math.max(height, b.height);
  }
  const c = s.renderer.canvas;
  const dpr = window.devicePixelRatio || 1;
  if (c.width !== Math.floor(width * dpr) || c.height !== Math.floor(height * dpr)) {
    s.renderer.resize(width, height);
  }
}

// The KD-tree regl-scatterplot searches for hover, click and lasso, built from our typed arrays
// (regl-scatterplot would first turn every point into a small array and, from 1M points on,
// structured-clone those to a worker). Large sets build in a worker, off the main thread.
export const KDBush = createKDBushClass();
const INDEX_NODE_SIZE = 64; // what regl-scatterplot uses (KDBush's default)
const INDEX_WORKER_FROM = 200_000;
// from there, leaves of 256: the first frame waits for the tree, which builds 25% faster (1M
// points in Node: 216 -> 163 ms) while a hover's search stays in microseconds (2 -> 4 us)
const LARGE_INDEX_NODE_SIZE = 256;
function indexHere(x, y, nodeSize) {
  const index = new KDBush(x.length, nodeSize);
  for (let i = 0; i < x.length; i++) index.add(x[i], y[i]);
  index.finish();
  return index.data;
}
function indexInWorker(x, y, nodeSize) {
  const source =
    `const KDBush = (${createKDBushClass.toString()})();` +
    `onmessage = (e) => { const { x, y, nodeSize } = e.data;` +
    ` const index = new KDBush(x.length, nodeSize);` +
    ` for (let i = 0; i < x.length; i++) index.add(x[i], y[i]);` +
    ` index.finish(); postMessage(index.data, [index.data]); };`;
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    const worker = new Worker(url, { name: "nbperceive-kdbush" });
    URL.revokeObjectURL(url);
    worker.onmessage = (e) => {
      worker.terminate();
      resolve(e.data);
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(e);
    };
    const xs = x.slice(), ys = y.slice(); // ours stay usable: the copies move to the worker
    worker.postMessage({ x: xs, y: ys, nodeSize }, [xs.buffer, ys.buffer]);
  });
}
/** The KD-tree buffer spatialIndex(x, y) makes for `n` points, header written, still empty:
 * regl-scatterplot can draw with it before the tree is built; fillIndex copies the built tree
 * in (regl-scatterplot and the hover read the same buffer, so they see it at once). */
export function emptyIndex(n) {
  return new KDBush(n, nodeSizeFor(n)).data;
}
const nodeSizeFor = (n) => (n >= INDEX_WORKER_FROM ? LARGE_INDEX_NODE_SIZE : INDEX_NODE_SIZE);
export function fillIndex(empty, built) {
  if (empty.byteLength !== built.byteLength) throw new Error("KD-tree of another size");
  new Uint8Array(empty).set(new Uint8Array(built));
}
/** The KD-tree of (x, y) as regl-scatterplot stores it: an ArrayBuffer built here, or, from
 * INDEX_WORKER_FROM points where workers may start, a promise of one a worker builds. */
export function spatialIndex(x, y) {
  const nodeSize = nodeSizeFor(x.length);
  if (x.length < INDEX_WORKER_FROM || typeof Worker === "undefined") {
    return indexHere(x, y, nodeSize);
  }
  // e.g. a page whose policy forbids blob workers: built here
  return indexInWorker(x, y, nodeSize).catch(() => indexHere(x, y, nodeSize));
}

/** WebGL probe on a throw-away canvas (never the one regl-scatterplot draws on), once a page. */
export function webglAvailable() {
  const s = shared();
  if (s.webgl === null) {
    try {
      const probe = document.createElement("canvas");
      const gl = probe.getContext("webgl");
      s.webgl = Boolean(gl);
      gl?.getExtension("WEBGL_lose_context")?.loseContext(); // give the context back at once
    } catch {
      s.webgl = false;
    }
  }
  return s.webgl;
}

/** Opacity of every point (a selection dims the others further). */
export const OPACITY = 0.85;

/** A population view's regl-scatterplot on `canvas` ({width, height, aspectRatio} `size`),
 * drawn by the shared renderer; `ring`: the colour around a selected point. */
export function createPlot(canvas, size, ring) {
  return createScatterplot({
    renderer: getRenderer(),
    canvas,
    ...size,
    // regl-scatterplot's "background" is the ring around a selected point (the canvas itself
    // stays transparent over the plot's themed background): the theme's text colour, so the
    // selected sample stands out on light and dark alike
    backgroundColor: ring,
    pointSize: 4,
    pointSizeSelected: 3,
    pointOutlineWidth: 2,
    opacity: OPACITY,
    // a lasso's or search's points stand out by their ring and size, the others dimmed but
    // readable (one selected sample is ringed in the DOM and dims nothing: selecting.js)
    opacityInactiveMax: 0.45,
    lassoMinDelay: 10,
    lassoMinDist: 2,
    lassoClearEvent: "lassoEnd",
    deselectOnDblClick: true,
    deselectOnEscape: true,
    // events as they happen: a click's "select" reaches the model before the frame that
    // draws the selection (async, it waited behind that frame: ~1 s at 1M points)
    syncEvents: true,
  });
}
