"""The headless train-and-report pipeline behind ``nbperceive demo``.

Load MNIST, train a CNN with progress output while the callback records every epoch, keep the
best model, then write PNG pictures (confusion matrix and PCA projection per epoch, precision
and recall per class and epoch,
baseline-delta saliency panels for the most suspicious samples, class-model visualisations)
and, when the report writer is available, one self-contained HTML report.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np


def _say(message: str) -> None:
    print(message, flush=True)


def mnist_cnn() -> Any:
    import keras

    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(16, 3, activation="relu", name="conv1"),
        keras.layers.MaxPooling2D(name="pool1"),
        keras.layers.Conv2D(32, 3, activation="relu", name="conv2"),
        keras.layers.MaxPooling2D(name="pool2"),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu", name="hidden"),
        keras.layers.Dense(10, activation="softmax", name="output"),
    ], name="mnist_cnn")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def run_demo(out_dir: str | os.PathLike = "runs/demo", epochs: int = 3, n_probe: int = 1000,
             verbose: int | str = "auto", pictures: bool = True) -> dict[str, Path]:
    """Train, record and report; returns the paths of everything written."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import pandas as pd

    from . import datasets
    from .perceiver import Perceiver
    from .store import save_array_atomic

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = datasets.mnist()
    _say(f"data: MNIST from {data.source}, {len(data)} images")
    train, probe = data.split(n_probe, seed=0)
    scale = lambda a: (a.astype(np.float32) / 255.0)[..., None]  # noqa: E731
    x_train, x_probe = scale(train.x), scale(probe.x)
    model = mnist_cnn()
    ink = pd.DataFrame({"ink": probe.x.reshape(len(probe), -1).mean(1)})
    from .samples import images

    perceiver = Perceiver(model, probe=(x_probe, probe.y), metadata=ink, run_dir=out / "run",
                          class_names=data.class_names, overwrite=True,
                          preview=images(probe.x))
    save_array_atomic(out / "probe.npy", x_probe)  # for `nbperceive report` later
    best = out / "best.keras"
    checkpoint = keras.callbacks.ModelCheckpoint(best, monitor="val_loss", save_best_only=True)
    model.fit(x_train, train.y, epochs=epochs, batch_size=64, verbose=verbose,
              validation_data=(x_probe, probe.y), callbacks=[perceiver.callback(), checkpoint])
    paths: dict[str, Path] = {"run": out / "run", "best model": best,
                              "probe inputs": out / "probe.npy"}
    if pictures:
        paths.update(write_pictures(perceiver.run, model, x_probe, out / "pictures"))
    from .widgets.explorer import Explorer

    paths["report"] = Explorer(perceiver).save_html(out / "report.html",
                                                    title="nbperceive demo: MNIST CNN")
    return paths


def write_pictures(run: Any, model: Any, x_probe: np.ndarray, out: Path,
                   n_panels: int = 5) -> dict[str, Path]:
    """Confusion matrices and projections per epoch, saliency panels, class models."""
    from .attribution import explain
    from .metrics import precision_recall
    from .pictures import confusion_png, grid_png, precision_recall_png, scatter_png

    written: dict[str, Path] = {}
    names = run.class_names
    labels = run.samples["label"].to_numpy()
    scores = []
    for epoch in run.epochs:
        cm = run.confusion_matrix(epoch)
        scores.append(precision_recall(cm))
        confusion_png(cm, names, out / f"confusion-epoch-{epoch:02d}.png",
                      title=f"confusion matrix of the probe, epoch {epoch}")
        scatter_png(run.project(epoch, method="pca"), labels,
                    out / f"projection-epoch-{epoch:02d}.png",
                    title=f"perception vectors, PCA, epoch {epoch}", class_names=names)
    if scores:
        written["precision and recall"] = precision_recall_png(
            np.stack([p for p, _ in scores]), np.stack([r for _, r in scores]), names,
            run.epochs, out / "precision-recall.png",
            title="precision and recall per class (rows) and epoch (columns), probe samples")
    written["confusion matrices"] = out / "confusion-epoch-*.png"
    written["projections"] = out / "projection-epoch-*.png"

    worst = run.suspects().sample_id.to_numpy()[:n_panels]
    expl = explain(model, x_probe[worst], method="baseline_delta")
    pred = run.snapshot().table.pred.to_numpy()[worst]
    rows, titles = [], []
    for n, (sid, k) in enumerate(zip(worst, pred)):
        kk = list(expl.labels).index(int(k))
        p = expl.panels
        rows.append([p["source"][n], p["baseline"][n, kk], p["saliency"][n, kk],
                     p["delta"][n, kk], p["overlay"][n, kk]])
        titles.append(f"#{sid}: {names[labels[sid]]}->{names[k]}")
    written["saliency panels"] = grid_png(
        rows, out / "baseline-delta.png", title="baseline-delta saliency (prediction)",
        col_titles=["source", "baseline", "saliency", "delta", "overlay"], row_titles=titles,
        signed_cols=(3, 4))

    classes = explain(model, np.zeros_like(x_probe[:1]), method="activation_max")
    tiles = [classes.heatmaps[0, 0, k] for k in range(len(classes.labels))]
    own = classes.panels["probabilities"][0]
    written["class models"] = grid_png(
        [tiles], out / "class-models.png",
        title="class models (regularised activation maximisation); p = model's probability",
        col_titles=[f"{names[k]} p={own[i]:.2f}" for i, k in enumerate(classes.labels)],
        side=56)
    return written


def write_report(run_dir: str | os.PathLike, out: str | os.PathLike,
                 model_path: str | os.PathLike | None = None,
                 inputs_path: str | os.PathLike | None = None,
                 title: str | None = None) -> Path:
    """The static HTML report of a recorded run (``nbperceive report``).

    With the model (``.keras``, loaded in safe mode) and the probe inputs (``.npy``, exactly
    what the model takes, in probe order) the report also carries the inspector's heatmaps of
    the suspects; image inputs become the hover previews.
    """
    from .errors import ProbeError, ReportError
    from .models import load_model
    from .samples import images
    from .store import open_run
    from .widgets.explorer import Explorer

    run = open_run(run_dir)
    if (model_path is None) != (inputs_path is None):
        raise ReportError("heatmaps need both the model and the probe inputs: pass --model "
                          "and --inputs together (or neither, for a report without them)")
    model = x = preview = None
    if model_path is not None:
        model = load_model(model_path)
        try:
            x = np.load(inputs_path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ProbeError(f"cannot read the probe inputs {inputs_path}: {exc}; save them "
                             "with numpy.save (no object arrays)") from exc
        if len(x) != len(run.samples):
            raise ProbeError(f"{inputs_path} holds {len(x)} samples but the run recorded "
                             f"{len(run.samples)}; pass the probe inputs in probe order")
        try:
            preview = images(x)  # image inputs become hover previews
        except ProbeError:
            preview = None
    explorer = Explorer(run, model=model, x=x, preview=preview)
    return explorer.save_html(out, title=title or f"nbperceive report: {run.path.name}")
