"""Do the class models look like their class? Before (tf-keras-vis, as nbperceive did until
now) and after (regularised activation maximisation), on the demo's CNN and MNIST-5k.

Measures for each class model: the model's probability of its class (want >= 0.9) and the
Pearson correlation with each class's mean probe image (want: highest for its own class).
Writes docs/img/class-models-before-after.png. Run: .venv/bin/python benchmarks/class_models.py
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import nbperceive as nbp  # noqa: E402
from nbperceive import datasets  # noqa: E402
from nbperceive.attribution.activation_max import class_mean_correlations  # noqa: E402
from nbperceive.pipeline import mnist_cnn  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "img" / "class-models-before-after.png"


def before(model: keras.Model, n_classes: int) -> np.ndarray:
    """tf-keras-vis ActivationMaximization as nbperceive used it: 100 steps from zeros, logit,
    TotalVariation2D(1.0) + Norm(0.3, p=1), no input modifiers."""
    from tf_keras_vis.activation_maximization import ActivationMaximization
    from tf_keras_vis.activation_maximization.regularizers import Norm, TotalVariation2D
    from tf_keras_vis.utils.scores import CategoricalScore

    from nbperceive.attribution.clone import linear_functional
    from nbperceive.attribution.explain import engine_for

    seed = np.zeros((n_classes, 28, 28, 1), np.float32)
    structure = engine_for(model, [seed], 0).structure
    am = ActivationMaximization(linear_functional(model, structure), clone=False)
    out = am(CategoricalScore(list(range(n_classes))), seed_input=seed, input_range=(0.0, 1.0),
             input_modifiers=[], regularizers=[TotalVariation2D(weight=1.0), Norm(0.3, p=1)],
             steps=100)
    return np.asarray(out, np.float32)


def report(name: str, images: np.ndarray, model: keras.Model, x: np.ndarray, y: np.ndarray):
    probs = model.predict(images, verbose=0)
    own_p = probs[np.arange(len(images)), np.arange(len(images))]
    corr = class_mean_correlations(images, x, y)
    own_c = np.diag(corr)
    closest = corr.argmax(axis=1)
    print(f"-- {name}")
    print("p(own class):       ", np.round(own_p, 3).tolist())
    print("corr(own mean):     ", np.round(own_c, 3).tolist())
    print("closest class mean: ", closest.tolist())
    print(f"classes with p >= 0.9: {(own_p >= 0.9).sum()}/10; closest to own mean: "
          f"{(closest == np.arange(10)).sum()}/10")
    return own_p, own_c, closest


def picture(means: np.ndarray, rows: list) -> None:
    """Class means on top, then each row of class models with p and r under every tile."""
    from PIL import Image, ImageDraw

    from nbperceive.pictures import _to_tile

    side, gap, left, top, text = 56, 8, 150, 34, 30
    height = top + (side + text) * (1 + len(rows))
    img = Image.new("RGB", (left + 10 * (side + gap), height), "white")
    draw = ImageDraw.Draw(img)
    draw.text((4, 4), "class models of the demo CNN (MNIST-5k): p = model's probability of the "
              "class, r = correlation with the class's mean probe image (* = highest of all "
              "classes)", fill="black")
    for c in range(10):
        draw.text((left + c * (side + gap) + side // 2 - 3, top - 14), str(c), fill="black")
    all_rows = [("class mean (probe)", means, None, None, None), *rows]
    for r, (name, images, p, corr, closest) in enumerate(all_rows):
        y0 = top + r * (side + text)
        draw.text((4, y0 + side // 2 - 6), name, fill="black")
        for c in range(10):
            x0 = left + c * (side + gap)
            img.paste(_to_tile(images[c][..., 0], side), (x0, y0))
            if p is not None:
                mark = "*" if closest[c] == c else ""
                colour = "black" if p[c] >= 0.9 else "red"
                draw.text((x0, y0 + side + 2), f"p {p[c]:.2f}", fill=colour)
                draw.text((x0, y0 + side + 14), f"r {corr[c]:.2f}{mark}", fill="black")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    img.save(OUT)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=256)
    args = parser.parse_args()
    data = datasets.mnist("offline")
    train, probe = data.split(1000, seed=0)
    scale = lambda a: (a.astype(np.float32) / 255.0)[..., None]  # noqa: E731
    keras.utils.set_random_seed(0)
    model = mnist_cnn()
    model.fit(scale(train.x), train.y, epochs=args.epochs, batch_size=64, verbose=0)
    x_probe = scale(probe.x)
    acc = (model.predict(x_probe, verbose=0).argmax(-1) == probe.y).mean()
    print(f"demo CNN, {args.epochs} epochs on 4,000 MNIST images; probe accuracy {acc:.3f}")

    start = time.perf_counter()
    old = before(model, 10)
    t_old = time.perf_counter() - start
    start = time.perf_counter()
    e = nbp.explain(model, np.zeros_like(x_probe[:1]), method="activation_max",
                    steps=args.steps)
    t_new = time.perf_counter() - start
    new = e.panels["images"][0]
    print(f"time: before {t_old:.1f} s, after {t_new:.1f} s (10 classes)")
    rows = [report("before: tf-keras-vis, TV + L1 norm", old, model, x_probe, probe.y),
            report("after: Fourier + jitter + TV + L2, log-probability", new, model,
                   x_probe, probe.y)]
    means = np.stack([x_probe[probe.y == c].mean(0) for c in range(10)])
    picture(means, [("before (tf-keras-vis)", old, *rows[0]), ("after (regularised)", new,
                                                               *rows[1])])
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
