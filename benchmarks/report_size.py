"""Bytes of saved reports: a deep backbone's explorer, and the scatter's bytes per point.

1. ``mobilenet``: ``keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3),
   classes=10)`` trained one epoch on 2,000 MNIST images (padded to 32x32, grey in RGB),
   500 probe samples recorded; ``Explorer(perceiver).save_html`` with the default depths and
   with ``depths=None`` (every depth). Issue 9's budget: <= 10 MB by default.
2. ``points``: the scatter part of a report (population view + selection table, every epoch
   the scrubber can show, no hover previews: those are images, see the last column) of a small
   MLP's run on N Fashion-MNIST probe samples (epochs 0..2), bytes per point at each N.
   Issue 12's budget: <= 40 B/point.
3. ``scale``: the default ``Explorer(run)`` at 10k, 100k and 1M samples of a run with
   *generated* vectors (``nbp.datasets.synthetic_run``: no real capture reaches 1M here; two
   epochs, 10 classes): its live widget state in bytes/point (``nbperceive.report.wire_bytes``:
   JSON plus binary buffers, without the views' code) and its saved report in bytes/point
   (less the libraries alone), beside jupyter-scatter's state on the same points (x, y,
   colour by loss) when it imports (``pip install --target /tmp/jscatter --no-deps
   jupyter-scatter geoindex-rs arro3-core pooch``; that folder goes on sys.path).
   Issue 12's budgets: state <= 24 B/point, report <= 40 B/point.

Each report's line splits it into data (state JSON and binary buffers), the views' code and
the libraries (:func:`page_parts`), and the data by trait follows (:func:`breakdown`).

Run: ``nice python benchmarks/report_size.py [mobilenet] [points --sizes 10000 70000]
[scale --scale-sizes 10000 100000 1000000]``; set
PYTHONPATH to another checkout's ``src`` to measure it the same way (before/after).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


def _save(widget, path: Path, **kwargs) -> int:
    """Bytes of ``widget``'s report (``depths`` only where this checkout knows it)."""
    import inspect

    from nbperceive.report import save_html

    save = getattr(widget, "save_html", None)
    fn = save if save is not None else lambda p, **k: save_html(widget, p, **k)
    params = inspect.signature(save if save is not None else save_html).parameters
    if "depths" not in params:
        kwargs.pop("depths", None)
    fn(path, **kwargs)
    return path.stat().st_size


def page_parts(path: Path) -> dict[str, int]:
    """Bytes of a saved page by part: ``data`` (the widget state's JSON and the binary
    buffers' chunks), ``code`` (the views' code, script ``nbp-code``; in a page written
    before it travelled apart, inside ``data``) and ``libraries`` (everything else: require.js,
    the HTML manager, the widget libraries, fonts, loader, markup)."""
    import re

    text = path.read_text(encoding="utf-8")
    parts = {"data": 0, "code": 0}
    for m in re.finditer(r'<script[^>]*id="(nbp-[a-z0-9-]+)"[^>]*>(.*?)</script>', text, re.S):
        name, body = m.group(1), m.group(2)
        if name == "nbp-state" or name.startswith("nbp-buffers-"):
            parts["data"] += len(body)
        elif name == "nbp-code":
            parts["code"] += len(body)
    parts["libraries"] = len(text) - parts["data"] - parts["code"]
    return parts


def breakdown(path: Path, n: int, top: int = 14) -> None:
    """Print what the page's data costs per point, by widget trait (each epoch's alike
    summed as ``*``): every distinct buffer once (as the page stores it) gzipped on its
    own, and the state's JSON of each trait (over 2 kB) gzipped, in bytes/point (the page
    holds them in base85: x1.25)."""
    import base64
    import gzip
    import json
    import re
    from collections import Counter

    from nbperceive.report import read_state

    state = read_state(path.read_text(encoding="utf-8"))
    packed, raw, seen = Counter(), Counter(), set()
    for entry in state["state"].values():
        traits = entry.get("state", {})
        model = str(traits.get("_anywidget_id") or traits.get("_model_name") or "?")
        model = model.rsplit(".", 1)[-1]
        for b in entry.get("buffers", []):
            data = base64.b64decode(b["data"])
            if data in seen:
                continue
            seen.add(data)
            where = "/".join(str(p) for p in b["path"][:-1])
            where = re.sub(r"(epoch_frames|epoch_tables)/\d+", r"\1/*", where)
            key = f"{model}.{where}"
            packed[key] += len(gzip.compress(data, 9))
            raw[key] += len(data)
        for name, value in traits.items():
            if name in ("_esm", "_css"):
                continue
            text = json.dumps(value, separators=(",", ":")).encode()
            if len(text) > 2000:
                packed[f"{model}.{name} (JSON)"] += len(gzip.compress(text, 9))
                raw[f"{model}.{name} (JSON)"] += len(text)
    total = sum(packed.values())
    print(f"    data by trait (gzipped B/point; raw; {len(packed)} groups, "
          f"{total / n:.1f} B/point in all, {1.25 * total / n:.1f} as base85):")
    for key, size in packed.most_common(top):
        print(f"      {size / n:6.2f}  ({raw[key] / n:6.2f} raw)  {key}")
    rest = total - sum(v for _, v in packed.most_common(top))
    if rest:
        print(f"      {rest / n:6.2f}  the other {len(packed) - top} groups")


def mobilenet(root: Path) -> None:
    import keras

    import nbperceive as nbp

    data = nbp.datasets.mnist()
    x = np.pad(data.x[:2500], ((0, 0), (2, 2), (2, 2)))[..., None].repeat(3, -1)
    x = x.astype(np.float32) / 255.0
    y = data.y[:2500]
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), classes=10)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    p = nbp.Perceiver(model, probe=(x[2000:], y[2000:]), run_dir=root / "mobilenet",
                      class_names=data.class_names, overwrite=True)
    model.fit(x[:2000], y[:2000], epochs=1, batch_size=64, verbose=0, callbacks=[p.callback()])
    t = time.perf_counter()
    ex = nbp.Explorer(p)
    layers = len(ex.inspector.panels[0]["layers"]) if ex.inspector and ex.inspector.wait() else 0
    print(f"mobilenet: {layers} depths, Explorer {time.perf_counter() - t:.1f} s")
    for label, kwargs in (("default", {}), ("every depth", {"depths": None})):
        t = time.perf_counter()
        size = _save(ex, root / "mobilenet.html", **kwargs)
        print(f"  save_html {label:12s} {size / 1e6:7.2f} MB  ({time.perf_counter() - t:.1f} s)")


def points(root: Path, sizes: list[int]) -> None:
    import ipywidgets as w
    import keras

    import nbperceive as nbp
    from nbperceive.widgets.population import PopulationView
    from nbperceive.widgets.selection import SelectionView

    data = nbp.datasets.fashion_mnist(source="offline")
    x = data.x.reshape(len(data.x), -1).astype(np.float32) / 255.0
    for n in sizes:
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(32, activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        p = nbp.Perceiver(model, probe=(x[:n], data.y[:n]), run_dir=root / f"points-{n}",
                          class_names=data.class_names, overwrite=True)
        model.fit(x[:10000], data.y[:10000], epochs=2, batch_size=256, verbose=0,
                  callbacks=[p.callback()])
        view = PopulationView.from_run(p.run)
        selection = SelectionView(view.data, view, class_names=p.run.class_names)
        box = w.VBox([view, selection])
        empty = _save(w.VBox([]), root / "empty.html")  # the libraries alone
        size = _save(box, root / f"points-{n}.html")
        parts = page_parts(root / f"points-{n}.html")
        print(f"points {n:>7d}: report {size / 1e6:7.2f} MB, scatter part "
              f"{(size - empty) / n:6.1f} B/point ({len(p.run.epochs)} epochs): data "
              f"{parts['data'] / n:6.1f} B/point, views' code {parts['code'] / n:5.1f}, "
              f"libraries {parts['libraries'] / n:5.1f}", flush=True)
        breakdown(root / f"points-{n}.html", n)


def _jscatter_bytes(x: np.ndarray, y: np.ndarray, loss: np.ndarray) -> int | None:
    """jupyter-scatter's live state of the same points (None when it does not import)."""
    import sys

    if os.path.isdir("/tmp/jscatter") and "/tmp/jscatter" not in sys.path:
        sys.path.append("/tmp/jscatter")
    try:
        import jscatter
    except ImportError:
        return None
    import pandas as pd

    from nbperceive.report import wire_bytes

    df = pd.DataFrame({"x": x, "y": y, "loss": loss})
    return wire_bytes(jscatter.Scatter(data=df, x="x", y="y", color_by="loss").widget)


def scale(root: Path, sizes: list[int]) -> None:
    import ipywidgets as w

    import nbperceive as nbp
    from nbperceive.report import save_html, wire_bytes

    empty = _save(w.VBox([]), root / "empty.html")  # the libraries alone
    previous: tuple[int, int] | None = None
    for n in sizes:
        t = time.perf_counter()
        run = nbp.datasets.synthetic_run(root / f"synthetic-{n}", n)
        made = time.perf_counter() - t
        t = time.perf_counter()
        ex = nbp.Explorer(run)
        built = time.perf_counter() - t
        state = wire_bytes(ex)
        t = time.perf_counter()
        save_html(ex, root / f"synthetic-{n}.html")
        saved = time.perf_counter() - t
        report = (root / f"synthetic-{n}.html").stat().st_size
        pop = ex.population
        js = _jscatter_bytes(pop.x, pop.y, pop.data["loss"].to_numpy())
        theirs = f"{js / n:6.1f} B/point" if js is not None else "not installed"
        # the views' code travels in the state too: the growth from the last size is per point
        growth = (f", {(report - previous[1]) / (n - previous[0]):5.1f} B/point from "
                  f"{previous[0]:,}") if previous else ""
        previous = (n, report)
        parts = page_parts(root / f"synthetic-{n}.html")
        print(f"scale {n:>8,d}: widget state {state / n:6.1f} B/point, report "
              f"{(report - empty) / n:6.1f} B/point{growth} ({report / 1e6:.1f} MB, save_html "
              f"{saved:.1f} s; data {parts['data'] / n:.1f} B/point, views' code "
              f"{parts['code'] / n:.1f}, libraries {parts['libraries'] / n:.1f}), "
              f"jupyter-scatter state {theirs} "
              f"[run {made:.1f} s, Explorer {built:.1f} s]", flush=True)
        breakdown(root / f"synthetic-{n}.html", n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="*", default=["mobilenet", "points"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 70_000])
    parser.add_argument("--scale-sizes", type=int, nargs="+",
                        default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    import nbperceive

    print(f"nbperceive from {Path(nbperceive.__file__).parent}")
    root = Path(args.dir or tempfile.mkdtemp(prefix="nbp-report-size-"))
    if "mobilenet" in args.what:
        mobilenet(root)
    if "points" in args.what:
        points(root, args.sizes)
    if "scale" in args.what:
        scale(root, args.scale_sizes)


if __name__ == "__main__":
    main()
