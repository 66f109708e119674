"""Capture cost against plain Keras, measured in the same run.

1. capture / predict: a CNN on 10,000 Fashion-MNIST images; ``perceiver.capture()`` (forward
   pass, pooled features of every layer, per-sample loss, standardisation, atomic write to disk)
   against ``model.predict`` with the same batch size. Median of several interleaved runs.
2. callback overhead: one training epoch on the 60,000 Fashion-MNIST training images, with the
   callback capturing a 5,000-sample probe set, against the same epoch without it.

Run: ``.venv/bin/python benchmarks/capture.py``
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import nbperceive as nbp  # noqa: E402


def cnn() -> keras.Model:
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(10, activation="softmax"),
    ], name="bench_cnn")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(repeats: int = 5) -> None:
    data = nbp.datasets.fashion_mnist()
    x = (data.x.astype(np.float32) / 255.0)[..., None]
    y = data.y
    x_train, y_train, x_probe, y_probe = x[:60000], y[:60000], x[60000:], y[60000:]
    tmp = tempfile.mkdtemp(prefix="nbp-bench-")

    model = cnn()
    model.fit(x_train[:5000], y_train[:5000], epochs=1, batch_size=128, verbose=0)
    perceiver = nbp.Perceiver(model, probe=(x_probe, y_probe), run_dir=f"{tmp}/capture",
                              batch_size=256)
    predict = lambda: model.predict(x_probe, batch_size=256, verbose=0)  # noqa: E731
    predict(), perceiver.capture(0)  # warm-up: tracing, kernels
    t_pred, t_cap = [], []
    for i in range(repeats):
        t_pred.append(timed(predict))
        t_cap.append(timed(lambda i=i: perceiver.capture(i + 1)))
    p, c = statistics.median(t_pred), statistics.median(t_cap)
    print(f"capture vs predict, N={len(x_probe)}, D={perceiver.probe.dim}, "
          f"{len(perceiver.probe.blocks)} layers: predict {p:.3f} s, capture {c:.3f} s, "
          f"ratio {c / p:.2f}x (target <= 1.15x), median of {repeats}")

    # callback overhead on a training epoch
    model = cnn()
    model.fit(x_train[:512], y_train[:512], epochs=1, verbose=0)  # warm-up
    plain = [timed(lambda: model.fit(x_train, y_train, epochs=1, batch_size=128, verbose=0))
             for _ in range(2)]
    perceiver = nbp.Perceiver(model, probe=(x_probe[:5000], y_probe[:5000]),
                              run_dir=f"{tmp}/callback")
    cb = perceiver.callback(at_train_begin=False)
    with_cb = []
    for _ in range(2):
        with_cb.append(timed(lambda: model.fit(x_train, y_train, epochs=1, batch_size=128,
                                               verbose=0, callbacks=[cb])))
    e, w = statistics.median(plain), statistics.median(with_cb)
    caps = [perceiver.run.snapshot(k).meta["capture_seconds"] for k in perceiver.run.epochs]
    print(f"callback overhead, 60,000-sample epoch, 5,000-sample probe: epoch {e:.2f} s, "
          f"with callback {w:.2f} s, overhead {100 * (w - e) / e:.1f} % "
          f"(capture itself {statistics.median(caps):.3f} s = "
          f"{100 * statistics.median(caps) / e:.1f} % of the epoch; target <= 10 %)")


if __name__ == "__main__":
    main()
