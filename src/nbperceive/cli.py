"""Command line: ``nbperceive demo`` (train MNIST with the callback) and ``nbperceive info RUN``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def describe(run_dir: str | os.PathLike) -> str:
    """A short human summary of a run directory."""
    from .store import open_run

    run = open_run(run_dir)
    lines = [f"run {run.path}: epochs {run.epochs}"]
    if run.epochs:
        snap = run.snapshot()
        lines.append(f"  latest epoch {snap.epoch}: {len(snap.table)} samples, perception vectors "
                     f"{snap.vectors.shape[0]} x {snap.vectors.shape[1]} float32")
        lines.append("  layers: " + ", ".join(
            f"{b['name']}[{b['stop'] - b['start']}]" for b in snap.layout))
        lines.append("  table columns: " + ", ".join(snap.table.columns))
        hist = run.history()
        for row in hist.itertuples():
            acc = getattr(row, "probe_accuracy", float("nan"))
            lines.append(f"  epoch {row.epoch}: probe loss {row.probe_loss:.4f}, "
                         f"probe accuracy {acc:.3f}")
    return "\n".join(lines)


def demo(run_dir: str, epochs: int, n_probe: int) -> int:
    """Train a small CNN on MNIST with the nbperceive callback and report the run."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np
    import pandas as pd

    from . import datasets
    from .perceiver import Perceiver

    data = datasets.mnist()
    print(f"data: MNIST from {data.source}, {len(data)} images")
    train, probe = data.split(n_probe, seed=0)
    scale = lambda a: (a.astype(np.float32) / 255.0)[..., None]  # noqa: E731
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(16, 3, activation="relu", name="conv1"),
        keras.layers.MaxPooling2D(name="pool1"),
        keras.layers.Conv2D(32, 3, activation="relu", name="conv2"),
        keras.layers.MaxPooling2D(name="pool2"),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu", name="dense"),
        keras.layers.Dense(10, activation="softmax", name="output"),
    ], name="mnist_cnn")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    ink = pd.DataFrame({"ink": probe.x.reshape(len(probe), -1).mean(1)})
    perceiver = Perceiver(model, probe=(scale(probe.x), probe.y), metadata=ink,
                          run_dir=run_dir, class_names=data.class_names, overwrite=True)
    model.fit(scale(train.x), train.y, epochs=epochs, batch_size=64, verbose=2,
              callbacks=[perceiver.callback()])
    print(describe(run_dir))
    print(f"\nopen it later with: nbp.open_run({str(Path(run_dir))!r})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nbperceive", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="train a CNN on MNIST with the callback, report the run")
    p_demo.add_argument("--run-dir", default="runs/mnist-demo")
    p_demo.add_argument("--epochs", type=int, default=3)
    p_demo.add_argument("--probe", type=int, default=1000, help="probe set size")
    p_info = sub.add_parser("info", help="summarise a run directory")
    p_info.add_argument("run_dir")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args.run_dir, args.epochs, args.probe)
    try:
        print(describe(args.run_dir))
    except ValueError as err:
        print(f"nbperceive: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
