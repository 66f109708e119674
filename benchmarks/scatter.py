"""Population view at 1,000,000 points: bytes per point on the wire, first paint, recolour.

    .venv/bin/python benchmarks/scatter.py [--points 1000000] [--repeat 3] [--bundle JS]
        [--jscatter /tmp/jscatter-venv/bin/python]

Where: headless Debian Chromium (software WebGL, SwiftShader) on a plain local page that loads
the built ES module (src/nbperceive/static/population.js) and renders it with a fake anywidget
model fed the exact bytes PopulationView's traits would send (not Voila: that adds kernel and
websocket time which is not the view's). Bytes on the wire are measured on the real widget
state, split into buffers the way ipywidgets sends them.

Baseline, measured in the same page and run: bare regl-scatterplot (the same library, no
nbperceive code, its default renderer) drawing the same points with the same colour codes, and
recolouring them the bare way (draw() with new codes). Ratios > 1 are our overhead. Times run
to the painted frame (regl-scatterplot's "draw" event). Floor: one redraw() of every point
(same sizes and opacity as ours) with nothing uploaded, on a renderer sized to the plot; no
recolour can be faster than that (software WebGL draws every point of the frame again).

Side by side with jupyter-scatter (optional, --jscatter PYTHON: an interpreter of a separate
venv with jupyter-scatter and voila; never a dependency of nbperceive): both widgets are served
by Voila with the same 1M points coloured and sized by loss; measured are the bytes the page
receives over the kernel websocket and the time from navigation to the first frame with the
points on the canvas (a drawImage hook: both libraries copy from a shared regl-scatterplot
renderer with drawImage). Voila page, so this includes kernel start and data transfer.

Data: 1M points in 10 Gaussian blobs (sklearn make_blobs); "loss" = distance to the blob
centre (continuous), "label" = blob (categorical). Timings in ms are medians of --repeat runs.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import servers  # noqa: E402  (Chromium path and flags shared with the browser tests)

BASELINE_JS = """
import createScatterplot, { createRenderer } from "regl-scatterplot";
// draw() resolves once the frame with the new points is painted (regl-scatterplot's "draw").
const painted = (sp) => new Promise((resolve) => sp.subscribe("draw", resolve, 1));
window.baselineDraw = async (canvas, x, y, z, colors) => {
  const renderer = createRenderer();  // the library's default: sized to the window
  const sp = createScatterplot({ renderer, canvas, width: 1000, height: 600, pointSize: 4 });
  sp.set({ colorBy: "valueA", pointColor: colors });
  const t0 = performance.now();
  await sp.draw({ x, y, z }, { zDataType: "categorical" });
  const first = performance.now() - t0;
  const z2 = z.map((v) => (v * 7) % 10);
  const t1 = performance.now();
  await sp.draw({ x, y, z: z2 }, { zDataType: "categorical" });
  const recolour = performance.now() - t1;
  sp.destroy();
  renderer.destroy();
  return { first, recolour };
};
// The floor of any recolour: one redraw of every point, nothing uploaded, on a renderer sized
// to the 1000x600 plot (as nbperceive sizes its own), the points sized by loss and drawn at the
// opacity nbperceive uses (a frame's cost grows with the pixels the points cover). Best of 3.
window.baselineRedraw = async (canvas, x, y, z, colors, sizeCodes, sizes) => {
  const renderer = createRenderer({ canvas: document.createElement("canvas") });
  renderer.resize(1000, 600);
  const sp = createScatterplot({ renderer, canvas, width: 1000, height: 600, opacity: 0.85 });
  sp.set({ colorBy: "valueA", pointColor: colors, sizeBy: "valueB", pointSize: sizes });
  await sp.draw({ x, y, z, w: sizeCodes }, { zDataType: "categorical", wDataType: "categorical" });
  let best = Infinity;
  for (let k = 0; k < 3; k++) {
    const frame = painted(sp);
    const t = performance.now();
    sp.redraw();
    await frame;
    best = Math.min(best, performance.now() - t);
  }
  sp.destroy();
  renderer.destroy();
  return best;
};
"""

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="nbperceive.css"></head><body>
<div id="ours" style="width:1180px"></div>
<canvas id="base" style="width:1000px;height:600px"></canvas>
<script type="module">
import view from "./population.js";
import "./baseline.js";
const bin = async (name, T) => new T(await (await fetch(name)).arrayBuffer());
const meta = await (await fetch("meta.json")).json();
const ROW_REQUESTS = meta.row_requests;  // the request names PopulationView sends (rows.py)
const wire = (typed, dtype) => ({ view: new DataView(typed.buffer), dtype, shape: [typed.length] });
const x = await bin("x.bin", Float32Array), y = await bin("y.bin", Float32Array);
const loss = await bin("loss.bin", Uint8Array), label = await bin("label.bin", Uint8Array);
function fakeModel(state) {
  const handlers = {};
  return {
    get: (k) => state[k],
    set: (k, v) => { state[k] = v; (handlers["change:" + k] || []).forEach((f) => f()); },
    on: (e, f) => { (handlers[e] = handlers[e] || []).push(f); },
    off: (e, f) => { handlers[e] = (handlers[e] || []).filter((g) => g !== f); },
    send: () => {}, save_changes: () => {},
  };
}
window.runOurs = async () => {
  const el = document.getElementById("ours");
  if (window.lastCleanup) window.lastCleanup();  // the previous view must not draw meanwhile
  window.lastCleanup = null;
  el.replaceChildren();
  const model = fakeModel({
    x: wire(x, "float32"), y: wire(y, "float32"),
    channels: {
      loss: { ...meta.loss, codes: wire(loss, "uint8") },
      label: { ...meta.label, codes: wire(label, "uint8") },
    },
    columns: ["loss", "label"], color: "loss", size: "loss", selected: -1,
    selection: wire(new Uint32Array(0), "uint32"), preview_kind: "none", preview_inline: {},
    epochs: [], epoch: -1, title: "", height: 600, point_size: 4, layout_status: "",
    row_requests: ROW_REQUESTS,
  });
  const root = () => el.querySelector(".nbp-pop");
  const drawn = (k) => new Promise((resolve) => {
    const check = () =>
      root() && +root().dataset.draws >= k ? resolve() : requestAnimationFrame(check);
    check();
  });
  // data-painted: every point is on the canvas (from 200k points before their KD-tree is
  // built, which hover and click wait for); data-draws counts draws painted and pointable
  // (polled once a frame)
  const painted = () => new Promise((resolve) => {
    const check = () => root() && (root().dataset.painted || +root().dataset.draws >= 1)
      ? resolve() : requestAnimationFrame(check);
    check();
  });
  const t0 = performance.now();
  const cleanup = view.render({ model, el });
  await painted();
  const first = performance.now() - t0;
  await drawn(1);
  const pointable = performance.now() - t0;
  const t1 = performance.now();
  model.set("color", "label");
  await drawn(2);
  const recolour = performance.now() - t1;
  const legend = el.querySelectorAll("ul.nbp-legend-color li").length;
  window.lastCleanup = cleanup;
  window.lastModel = model;
  return { first, pointable, recolour, legend, drawMs: +root().dataset.lastDrawMs };
};
// Hover and click timing with real input (Playwright's mouse): from the input event (a capture
// listener, first to see it) to the hover card's title in the DOM, and to the view setting
// `selected` on the model (what the details panel follows), then to the next painted frame.
window.armPointer = (i) => {
  const el = document.getElementById("ours");
  const model = window.lastModel;
  const out = (window.pointer = { moved: 0, down: 0 });
  const onMove = () => { out.moved = performance.now(); };
  const onDown = () => { out.down = performance.now(); };
  window.addEventListener("mousemove", onMove, true);
  window.addEventListener("mousedown", onDown, true);
  const observer = new MutationObserver((records) => {
    for (const r of records) for (const node of r.addedNodes) {
      if (out.hover === undefined && node.classList?.contains("nbp-tip-title") && out.moved) {
        out.hover = performance.now() - out.moved;
        out.hovered = node.textContent;
      }
    }
  });
  observer.observe(el, { subtree: true, childList: true });
  const set = model.set;
  model.set = (k, v) => {
    set(k, v);
    if (k === "selected" && out.click === undefined && out.down) {
      out.click = performance.now() - out.down;
      out.selected = v;
      // the next frame painted (its DOM: the status line says "sample i selected")
      requestAnimationFrame(() => setTimeout(() => {
        out.clickFrame = performance.now() - out.down;
      }, 0));
      // the frame that shows the ring around the selected point: a DOM ring for one clicked
      // sample (selecting.js), regl-scatterplot's WebGL selection for several
      const canvas = document.querySelector("#ours .nbp-plot canvas");
      const ringEl = document.querySelector("#ours .nbp-selected-ring");
      const ring = () => {
        if ((canvas.nbpSelectedPoints() || []).includes(v) ||
            (ringEl && ringEl.style.display === "block")) {
          requestAnimationFrame(() => { out.clickRing = performance.now() - out.down; });
        } else requestAnimationFrame(ring);
      };
      ring();
    }
  };
  out.disarm = () => {
    observer.disconnect();
    model.set = set;
    window.removeEventListener("mousemove", onMove, true);
    window.removeEventListener("mousedown", onDown, true);
  };
  return document.querySelector("#ours .nbp-plot canvas").nbpScreenPosition(i);
};
window.runBaseline = async () => {
  const colors = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
                  "#ff9da7", "#9c755f", "#bab0ac"];
  const norm = (a) => {
    let lo = Infinity, hi = -Infinity;
    for (const v of a) { if (v < lo) lo = v; if (v > hi) hi = v; }
    return a.map((v) => ((v - lo) / (hi - lo)) * 1.8 - 0.9);
  };
  const args = [document.getElementById("base"), norm(x), norm(y), label, colors];
  const out = await window.baselineDraw(...args);
  // nbperceive's sizes by loss code (its sizeTable, point_size 4): 255 = missing
  const sizes = Array.from({ length: 256 }, (_, c) => (c === 255 ? 2.4 : 4 * (0.8 + 2.2 * c / 254)),
  );
  return { ...out, redraw: await window.baselineRedraw(...args, loss, sizes) };
};
window.ready = true;
</script></body></html>
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def wire_bytes(n: int) -> tuple[dict[str, float], object]:
    """Bytes per point of the real PopulationView state, as ipywidgets splits it."""
    from ipywidgets.widgets.widget import _remove_buffers
    from sklearn.datasets import make_blobs

    from nbperceive.widgets.population import PopulationView

    xy, label, centers = make_blobs(n, n_features=2, centers=10, random_state=0,
                                    return_centers=True)
    loss = np.linalg.norm(xy - centers[label], axis=1)
    df = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "loss": loss, "label": label})
    view = PopulationView(df)  # colour = size = loss by default; at 1M only loss is sent
    state, _, buffers = _remove_buffers(view.get_state())
    esm = len(state.pop("_esm", "")) + len(state.pop("_css", "") or "")  # once per widget
    json_bytes = len(json.dumps(state))
    trait_bytes = {k: 0 for k in ("x", "y", "channels")}
    for name in trait_bytes:
        _, _, bufs = _remove_buffers({name: view.get_state(name)[name]})
        trait_bytes[name] = sum(memoryview(b).nbytes for b in bufs)
    out = {
        "total": (sum(memoryview(b).nbytes for b in buffers) + json_bytes) / n,
        "xy": (trait_bytes["x"] + trait_bytes["y"]) / n,
        "channels sent up front": trait_bytes["channels"] / n,
        "json (all other traits)": json_bytes / n,
    }
    print(f"once per widget: JS bundle {esm / 1e3:.0f} kB (in the _esm trait), not per point")
    view.color = "label"  # what a recolour by a new column sends (one more channel)
    _, _, bufs = _remove_buffers({"channels": view.get_state("channels")["channels"]})
    out["x, y, colour, size (two columns)"] = out["xy"] + sum(
        memoryview(b).nbytes for b in bufs) / n
    view.close()
    return out, (xy.astype(np.float32), loss, label)


PAINT_HOOK = """(() => {
  window.__paint = null;
  const orig = CanvasRenderingContext2D.prototype.drawImage;
  CanvasRenderingContext2D.prototype.drawImage = function (...args) {
    const out = orig.apply(this, args);
    const c = this.canvas;
    if (window.__paint === null && c.width > 200 && c.height > 200) {
      const d = this.getImageData(0, 0, c.width, c.height).data;
      let dark = 0;
      for (let i = 0; i < d.length; i += 16) {
        if (d[i + 3] > 0 && d[i] + d[i + 1] + d[i + 2] < 600) dark++;
      }
      if (dark > 2000) window.__paint = performance.now();
    }
    return out;
  };
})();"""

LOAD_CELL = """import numpy as np, pandas as pd
a = np.load("points.npy", allow_pickle=False)
df = pd.DataFrame({"x": a[:, 0], "y": a[:, 1], "loss": a[:, 2], "label": a[:, 3].astype(int)})"""
OURS_CELL = """import nbperceive as nbp
view = nbp.PopulationView(df, height=600)
view"""
JSCATTER_CELL = """import jscatter
sc = jscatter.Scatter(data=df, x="x", y="y", color_by="loss", size_by="loss", height=600)
sc.show()"""


PAINT_TIMEOUT_MS = 240_000


EXECUTED_CELL = """open("executed.json", "w").write("true")"""  # the last cell, preheated


def voila_first_paint(xy: np.ndarray, loss: np.ndarray, label: np.ndarray, cell: str,
                      python: str | None, preheat: bool = False) -> tuple[float | None, int]:
    """(ms from navigation to the first painted frame or None if none within
    PAINT_TIMEOUT_MS, bytes received on websockets). ``preheat``: Voila has run the notebook
    in a pooled kernel before the page is asked for (what a deployed report does)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    servers.ARTIFACTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        np.save(d / "points.npy", np.column_stack([xy, loss, label]).astype(np.float32),
                allow_pickle=False)
        nb = servers.write_notebook(d, [LOAD_CELL, cell] + ([EXECUTED_CELL] if preheat else []))
        received = [0]

        def on_ws(ws):
            ws.on("framereceived", lambda payload: received.__setitem__(0, received[0] + len(
                payload)))

        with servers.voila_server(nb, python=python, preheat=preheat) as srv, \
                sync_playwright() as p:
            if preheat:
                servers.wait_for_file_json(d / "executed.json", timeout=PAINT_TIMEOUT_MS / 1000)
            browser = p.chromium.launch(executable_path=servers.CHROMIUM, headless=True,
                                        args=servers.CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.add_init_script(PAINT_HOOK)
            page.on("websocket", on_ws)
            page.goto(srv.url + "/")
            try:
                page.wait_for_function("() => window.__paint !== null", timeout=PAINT_TIMEOUT_MS,
                                       polling=200)
                paint = page.evaluate("() => window.__paint")
            except PlaywrightTimeout:
                paint = None
                page.screenshot(path=str(servers.ARTIFACTS / "benchmark-voila-timeout.png"))
            page.wait_for_timeout(500)
            browser.close()
        return paint, received[0]


def build_baseline(outdir: Path) -> None:
    esbuild = ROOT / "js" / "node_modules" / ".bin" / "esbuild"
    subprocess.run([str(esbuild), "--bundle", "--format=esm", "--minify",
                    f"--outfile={outdir / 'baseline.js'}", "--log-level=warning"],
                   input=BASELINE_JS.encode(), cwd=ROOT / "js", check=True)


def pointer_timings(page, n: int, repeat: int) -> list[dict]:
    """Hover a sample until its card shows, click it: ms from the input event (see armPointer)."""
    rows = []
    canvas = page.locator("#ours .nbp-plot canvas")
    for k in range(repeat):
        i = int(np.random.default_rng(k).integers(n))
        page.mouse.move(2, 2)  # off the plot: the card hides
        page.wait_for_function("() => !document.querySelector('#ours .nbp-tip-title') || "
                               "document.querySelector('#ours .nbp-tip').style.display === 'none'")
        x, y = page.evaluate("(i) => window.armPointer(i)", i)
        box = canvas.bounding_box()
        page.mouse.move(box["x"] + x, box["y"] + y)
        page.wait_for_function("() => window.pointer.hover !== undefined", timeout=30_000)
        page.mouse.down()
        page.mouse.up()
        page.wait_for_function("() => window.pointer.clickRing !== undefined", timeout=30_000)
        row = page.evaluate("() => { const p = window.pointer; p.disarm(); delete p.disarm; "
                            "return p; }")
        # whether the click selected the sample the card showed: regl-scatterplot finds the
        # hovered point and the clicked points apart, and the view takes the last clicked one
        row["same"] = row["hovered"] == f"sample {row['selected']}"
        rows.append(row)
    return rows


def page_timings(xy: np.ndarray, loss: np.ndarray, label: np.ndarray, n: int,
                 repeat: int, bundle: Path) -> None:
    """First paint and recolour on a plain page, ours vs bare regl-scatterplot (printed)."""
    from nbperceive.widgets.serializers import encode_channel

    if not bundle.is_file():
        sys.exit("build the JS first: cd js && npm run build")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "population.js").write_bytes(bundle.read_bytes())
        # the views' styles, as anywidget's _css gives them (without them the canvas is laid
        # out in the flow: each resize grows the plot that sizes it, a redraw every frame)
        css = bundle.with_name("nbperceive.css")
        (d / "nbperceive.css").write_bytes(css.read_bytes() if css.is_file() else b"")
        build_baseline(d)
        (d / "index.html").write_text(PAGE)
        xy[:, 0].tofile(d / "x.bin")
        xy[:, 1].tofile(d / "y.bin")
        ch_loss, ch_label = encode_channel(pd.Series(loss)), encode_channel(pd.Series(label))
        ch_loss.pop("codes").tofile(d / "loss.bin")
        ch_label.pop("codes").tofile(d / "label.bin")
        from nbperceive.widgets.rows import ROW_REQUESTS

        (d / "meta.json").write_text(json.dumps({"loss": ch_loss, "label": ch_label,
                                                 "row_requests": ROW_REQUESTS}))

        handler = functools.partial(_QuietHandler, directory=str(d))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", servers.free_port()), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=servers.CHROMIUM, headless=True,
                                            args=servers.CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 1400})
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(f"http://127.0.0.1:{httpd.server_port}/index.html")
                page.wait_for_function("() => window.ready === true", timeout=120_000)
                ours, base = [], []
                for _ in range(repeat):
                    base.append(page.evaluate("() => window.runBaseline()"))
                    ours.append(page.evaluate("() => window.runOurs()"))
                assert not errors, errors
                assert all(o["legend"] == 10 for o in ours), ours
                try:
                    shot = page.locator("#ours .nbp-plot canvas").screenshot(timeout=60_000)
                    servers.ARTIFACTS.mkdir(exist_ok=True)
                    (servers.ARTIFACTS / "benchmark-scatter-1M.png").write_bytes(shot)
                except Exception as err:  # noqa: BLE001  (the figures matter more)
                    print(f"no screenshot: {str(err).splitlines()[0]}")
                pointer = pointer_timings(page, n, repeat)
                assert not errors, errors
                browser.close()
        finally:
            httpd.shutdown()

    med = lambda rows, k: float(np.median([r[k] for r in rows]))  # noqa: E731
    for key, label_ in (("first", "first paint"), ("pointable", "pointable"),
                        ("recolour", "recolour")):
        o, b = med(ours, key), med(base, "first" if key == "pointable" else key)
        print(f"{label_:<12} {n:>9,} points: nbperceive {o:8.0f} ms   bare regl-scatterplot "
              f"{b:8.0f} ms   ratio {o / b:5.2f}")
    floor, o = med(base, "redraw"), med(ours, "recolour")
    print(f"redraw floor {n:>9,} points: bare regl-scatterplot redraw(), same sizes, nothing "
          f"uploaded {floor:8.0f} ms   nbperceive recolour / floor {o / floor:5.2f}")
    for key, label_ in (("hover", "hover -> card"), ("click", "click -> selected"),
                        ("clickFrame", "click -> next frame"),
                        ("clickRing", "click -> ring drawn")):
        print(f"{label_:<20} {n:>9,} points: {med(pointer, key):8.1f} ms "
              f"(median of {len(pointer)}; redraw floor {floor:.0f} ms)")
    same = sum(r["same"] for r in pointer)
    print(f"click selected the sample the hover card showed: {same} of {len(pointer)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-page", action="store_true",
                    help="skip the plain-page first paint / recolour measurement")
    ap.add_argument("--bundle", type=Path, default=ROOT / "src" / "nbperceive" / "static" /
                    "population.js", help="built population view to measure (e.g. an older build)")
    ap.add_argument("--jscatter", metavar="PYTHON",
                    help="interpreter of a separate venv with jupyter-scatter and voila")
    args = ap.parse_args()
    n = args.points

    per_point, (xy, loss, label) = wire_bytes(n)
    for k, v in per_point.items():
        print(f"wire bytes/point  {k:<34} {v:6.2f}")

    if not args.skip_page:
        page_timings(xy, loss, label, n, args.repeat, args.bundle)

    if args.jscatter:
        ours_ms, ours_bytes = voila_first_paint(xy, loss, label, OURS_CELL, None)
        js_ms, js_bytes = voila_first_paint(xy, loss, label, JSCATTER_CELL, args.jscatter)
        print(f"Voila, {n:,} points, colour+size by loss: websocket bytes/point nbperceive "
              f"{ours_bytes / n:.2f}  jupyter-scatter {js_bytes / n:.2f}  ratio "
              f"{ours_bytes / max(js_bytes, 1):.2f}")
        def show(ms: float | None) -> str:
            return f"no paint in {PAINT_TIMEOUT_MS // 1000} s" if ms is None else f"{ms:.0f} ms"

        ratio = f"{ours_ms / js_ms:.2f}" if ours_ms and js_ms else "n/a"
        print(f"Voila, {n:,} points: navigation to first painted frame nbperceive "
              f"{show(ours_ms)}  jupyter-scatter {show(js_ms)}  ratio {ratio}")


if __name__ == "__main__":
    main()
