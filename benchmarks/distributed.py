"""Capture under a two-replica MirroredStrategy against one device, in the same process.

Two logical CPU devices are made before TensorFlow starts (on this 2-core machine they share
the same cores, so the ratio shows the strategy's overhead, not a speed-up; with two GPUs the
same script measures the real thing). For each setting: ``model.predict`` (Keras distributes
it across replicas) and ``perceiver.capture()`` on 10,000 Fashion-MNIST images, samples per
second, median of a few interleaved runs; and the largest difference of the captured vectors
and losses between the two settings (same weights).

Run: ``.venv/bin/python benchmarks/distributed.py [--repeats 3]``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(_cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import numpy as np  # noqa: E402

import nbperceive as nbp  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from capture import cnn  # noqa: E402


def rate(fn, n: int, repeats: int) -> float:
    fn()  # warm-up: tracing
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return n / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data = nbp.datasets.fashion_mnist()
    x = (data.x.astype(np.float32) / 255.0)[..., None]
    x_probe, y_probe = x[60000:], data.y[60000:]
    tmp = Path(tempfile.mkdtemp(prefix="nbp-dist-"))
    n = len(x_probe)

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        mirrored = cnn()
    mirrored.fit(x[:2000], data.y[:2000], epochs=1, batch_size=128, verbose=0)
    plain = cnn()
    plain.set_weights(mirrored.get_weights())

    rows, snaps = [], {}
    for name, model, scope in (("one device", plain, None), ("MirroredStrategy x2", mirrored,
                                                             strategy)):
        with scope.scope() if scope else contextlib.nullcontext():
            perceiver = nbp.Perceiver(model, probe=(x_probe, y_probe), run_dir=tmp / name[:3],
                                      batch_size=256)
            pred = rate(lambda m=model: m.predict(x_probe, batch_size=256, verbose=0), n,
                        args.repeats)
            epochs = iter(range(100))
            cap = rate(lambda p=perceiver, e=epochs: p.capture(next(e)), n, args.repeats)
            snaps[name] = perceiver.run.snapshot()
        rows.append((name, pred, cap))
        print(f"{name}: predict {pred:,.0f} samples/s, capture {cap:,.0f} samples/s "
              f"(capture/predict time {pred / cap:.2f}x)", flush=True)
    a, b = snaps.values()
    print(f"max |vectors| difference {float(np.abs(a.vectors - b.vectors).max()):.2e}, "
          f"max |loss| difference {float(np.abs(a.table['loss'] - b.table['loss']).max()):.2e}")
    print(f"capture throughput, MirroredStrategy x2 / one device: {rows[1][2] / rows[0][2]:.2f}x "
          f"(predict: {rows[1][1] / rows[0][1]:.2f}x)")


if __name__ == "__main__":
    main()
