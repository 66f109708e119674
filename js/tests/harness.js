// Renders nbperceive's views the way a notebook does, without a kernel or a browser: the real
// @jupyter-widgets/base models (Backbone), a real ManagerBase from @jupyter-widgets/base-manager
// and anywidget's own front end (its npm build, the version the Python package pins), which
// loads each view's `_esm` and calls its render({model, el}). Like anywidget's tests, the only
// stand-in is the comm: there is no kernel, so it records what the views send.
//
// Two jsdom gaps are bridged, nothing else:
// - anywidget imports `_esm` from a blob: URL; neither jsdom nor node can import one, so
//   URL.createObjectURL hands anywidget the path of the view's source module (registered by
//   `renderView`), which vitest's module runner imports.
// - anywidget's build registers itself with AMD `define`, which it calls once on import.
// - jsdom has no DragEvent, which @lumino/dragdrop (under @jupyter-widgets/base) subclasses
//   when it loads; a plain MouseEvent subclass stands in (no view drags anything).
// - jsdom lays nothing out, so it has no ResizeObserver: one that never reports stands in
//   (sizes never change there).
// - jsdom has no canvas (it would need the native `canvas` package): getContext("2d") gives a
//   surface that draws nothing (the inspector's colour bar and heatmaps paint on one; their
//   pixels are the browser tests' job), and WebGL stays absent, as in a GPU-less browser.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

globalThis.DragEvent ??= class DragEvent extends MouseEvent {};
globalThis.ResizeObserver ??= class ResizeObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
};
const blank = (w = 1, h = 1) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) });
const surface = () => new Proxy({
  createImageData: blank, getImageData: (x, y, w, h) => blank(w, h),
  measureText: (t) => ({ width: String(t).length * 6 }), createLinearGradient: () => ({ addColorStop() {} }),
}, { get: (t, k) => (k in t ? t[k] : () => {}), set: () => true });
HTMLCanvasElement.prototype.getContext = function getContext(kind) {
  return kind === "2d" ? (this._nbp2d ??= surface()) : null;
};
const widgets = await import("@jupyter-widgets/base");
const { ManagerBase } = await import("@jupyter-widgets/base-manager");

let create;
globalThis.define = (deps, factory) => {
  create = factory;
};
await import("anywidget");
delete globalThis.define;
const anywidget = create(widgets);

// the module each blob holds: anywidget builds `new Blob([esm])`, our esm is a module path
const RealBlob = globalThis.Blob;
const blobText = new WeakMap();
globalThis.Blob = class extends RealBlob {
  constructor(parts = [], options) {
    super(parts, options);
    blobText.set(this, parts.map(String).join(""));
  }
};
const realCreate = URL.createObjectURL;
URL.createObjectURL = (blob) => {
  const text = blobText.get(blob);
  if (text && text.startsWith("/")) return text; // a view module's path (see renderView)
  return realCreate ? realCreate(blob) : "blob:unknown";
};
URL.revokeObjectURL ??= () => {};

let comms = 0;
/** A comm to nowhere: keeps what the front end sends (state updates and custom messages) and
 * reports the kernel idle after each, as a kernel does once it has handled a message (the
 * widget model holds further updates back until then). */
class RecordingComm {
  constructor(sent) {
    this.comm_id = `test-${comms++}`;
    this.target_name = "jupyter.widget";
    this.sent = sent;
  }
  on_open(fn) { this._open = fn; }
  on_close(fn) { this._close = fn; }
  on_msg(fn) { this._msg = fn; }
  open() { this._open?.(); return ""; }
  close() { this._close?.(); return ""; }
  send(data, callbacks) {
    this.sent.push(data);
    queueMicrotask(() => callbacks?.iopub?.status?.({ content: { execution_state: "idle" } }));
    return "";
  }
}

export class Manager extends ManagerBase {
  constructor() {
    super();
    /** Every message the views sent, in order: {method: "update", state} or {method: "custom", content}. */
    this.sent = [];
  }
  async loadClass(className, moduleName) {
    if (moduleName === "@jupyter-widgets/base") return widgets[className];
    if (moduleName === "anywidget") return anywidget[className];
    // jslink's LinkModel: the links between views live in the front end
    if (moduleName === "@jupyter-widgets/controls") return (await import("@jupyter-widgets/controls"))[className];
    throw new Error(`no module ${moduleName}`);
  }
  async _create_comm() {
    return new RecordingComm(this.sent);
  }
  _get_comm_info() {
    throw new Error("no kernel");
  }
  /** The custom messages the views sent (model.send), in order. */
  customs() {
    return this.sent.filter((m) => m.method === "custom").map((m) => m.content);
  }
}

const VIEWS = resolve(dirname(fileURLToPath(import.meta.url)), "../src");
/** The absolute path of a view module under js/src/ (what `_esm` names in these tests). */
export const viewPath = (name) => resolve(VIEWS, name);

/** A model as Python's anywidget class would open it: `state` holds the synced traits.
 * With no `view`, a plain @jupyter-widgets/base WidgetModel: a linked model the test reads
 * but does not render (e.g. the selection view behind the details panel). */
export async function createModel(manager, view, state = {}) {
  const names = view ? {
    _model_name: "AnyModel", _model_module: "anywidget", _model_module_version: "~0.11.*",
    _view_name: "AnyView", _view_module: "anywidget", _view_module_version: "~0.11.*",
  } : {
    _model_name: "WidgetModel", _model_module: "@jupyter-widgets/base",
    _model_module_version: "2.0.0", _view_name: null, _view_module: null,
    _view_module_version: "", };
  if (view) state = { _esm: viewPath(view), _anywidget_id: `nbperceive.${view}`, ...state };
  return manager.new_widget({
    model_name: names._model_name, model_module: names._model_module,
    model_module_version: names._model_module_version,
    view_name: names._view_name, view_module: names._view_module,
    view_module_version: names._view_module_version, model_id: widgets.uuid(),
  }, { ...names, ...state });
}

/** A plain (non-anywidget) model, e.g. the source a view reads but nobody renders. */
export const ref = (model) => `IPY_MODEL_${model.model_id}`;

/** Renders `model`'s view into a container in the document; returns the container. */
export async function display(manager, model) {
  const view = await manager.create_view(model);
  const el = document.createElement("div");
  document.body.append(el);
  el.append(view.el);
  view.trigger("displayed");
  return { el: view.el, view };
}

/** Waits until `check()` returns a truthy value (the views render asynchronously). */
export async function until(check, what = "condition", timeout = 2000) {
  const start = Date.now();
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** {view, dtype, shape} as the Python side sends an ndarray. */
export const arr = (typed, shape = [typed.length]) => ({
  view: new DataView(typed.buffer, typed.byteOffset, typed.byteLength),
  dtype: typed.constructor.name.replace("Array", "").toLowerCase().replace("uint8clamped", "uint8"),
  shape,
});

/** `ipywidgets.jslink((a, "x"), (b, "y"))`: a real LinkModel from @jupyter-widgets/controls. */
export async function jslink(manager, [a, x], [b, y]) {
  return manager.new_model({
    model_name: "LinkModel", model_module: "@jupyter-widgets/controls",
    model_module_version: "2.0.0", model_id: widgets.uuid(),
  }, {
    _model_name: "LinkModel", _model_module: "@jupyter-widgets/controls",
    _model_module_version: "2.0.0", source: [ref(a), x], target: [ref(b), y],
  });
}
