"""How long the kernel's main thread is held up while the inspector's worker traces a model.

    .venv/bin/python benchmarks/inspector_stall.py [--repeat 3]

Each trial is a fresh process (a fresh TensorFlow heap, as a kernel has): it builds the model,
starts :class:`nbperceive.stall.StallProbe` (a thread ticking every 5 ms, standing for the
kernel's message loop), creates ``Inspector(model, x, background=True)`` (the Explorer's
inspector: the first maps and the model's compiled gradient pass are made on the worker),
waits for the maps and prints the probe's longest gap and the full garbage collections that
ran meanwhile (``gc.callbacks``).

Two modes in the same run, alternating: ``young`` (as shipped: the worker's collections spare
the heap alive when it began, nbperceive.young_gc) and ``baseline`` (young_gc switched off,
every collection may walk the whole heap: ~400k objects once TensorFlow is imported).
Models: MobileNetV2 (96 x 96 x 3, 10 classes, random weights: 119 depths) and the digits CNN
of the tests (8 x 8 images).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def trial(model_name: str, mode: str) -> dict:
    """In this process: one Inspector on ``model_name``; its stall figures."""
    import gc
    import time

    import keras
    import numpy as np

    import nbperceive as nbp
    import nbperceive.young_gc as young_gc
    from nbperceive.stall import StallProbe

    if mode == "baseline":  # no freezing: a collection walks the whole heap
        from contextlib import nullcontext

        young_gc.young_collections = nullcontext
        import nbperceive.widgets.inspector as inspector_module

        inspector_module.young_collections = nullcontext
    rng = np.random.default_rng(0)
    if model_name == "mobilenetv2":
        model = keras.applications.MobileNetV2(input_shape=(96, 96, 3), weights=None,
                                               classes=10)
        x = rng.random((8, 96, 96, 3)).astype("float32")
    else:
        data = nbp.datasets.digits()
        x = data.x[:64, :, :, None]
        model = keras.Sequential([
            keras.Input((8, 8, 1)), keras.layers.Conv2D(8, 3, activation="relu", padding="same"),
            keras.layers.Conv2D(8, 3, activation="relu", padding="same"),
            keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10, activation="softmax")])
    model(x[:1])
    full = []  # (ms) of every generation-2 collection while the probe runs
    started = {}

    def on_gc(phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started["t"] = time.perf_counter()
        else:
            full.append(1000 * (time.perf_counter() - started["t"]))

    tracked = len(gc.get_objects())
    probe = StallProbe()
    probe.start()
    gc.callbacks.append(on_gc)
    t0 = time.perf_counter()
    inspector = nbp.Inspector(model, x, background=True)
    returned = time.perf_counter() - t0
    inspector.wait()
    maps = time.perf_counter() - t0
    gc.callbacks.remove(on_gc)
    gap = probe.stop()
    inspector.close()
    return {"gap_ms": 1000 * gap, "returned_s": returned, "maps_s": maps,
            "full_gc_ms": [round(v, 1) for v in full], "tracked": tracked}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=["mobilenetv2", "digits"])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(trial(*args.child)), flush=True)
        return
    for model_name in args.models:
        results: dict[str, list[dict]] = {"baseline": [], "young": []}
        for _ in range(args.repeat):
            for mode in results:
                out = subprocess.run([sys.executable, __file__, "--child", model_name, mode],
                                     capture_output=True, text=True, check=True, cwd=ROOT)
                line = next(v for v in out.stdout.splitlines() if v.startswith("RESULT "))
                results[mode].append(json.loads(line[len("RESULT "):]))
        print(f"{model_name}: {results['young'][0]['tracked']:,} objects tracked before")
        for mode, rows in results.items():
            gaps = [r["gap_ms"] for r in rows]
            print(f"  {mode:8s} longest main-thread gap ms {[round(g) for g in gaps]} "
                  f"(median {statistics.median(gaps):.0f}); full collections ms "
                  f"{[r['full_gc_ms'] for r in rows]}; maps after "
                  f"{statistics.median(r['maps_s'] for r in rows):.2f} s")
        ratio = (statistics.median(r["gap_ms"] for r in results["young"])
                 / statistics.median(r["gap_ms"] for r in results["baseline"]))
        print(f"  young / baseline (median gap): {ratio:.2f}", flush=True)


if __name__ == "__main__":
    main()
