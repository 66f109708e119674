"""Projection: first view, UMAP cold/warm/after warm_up, t-SNE, epoch alignment, trustworthiness.

Records a real run with ``nbp.Perceiver``: a small CNN trained on 20,000 Fashion-MNIST training
images (one epoch between captures), probe = the 10,000 test images, epochs 0..3. Then, in this
process (so the first UMAP fit pays numba's compile, as in a fresh kernel):

* first view: ``project_run_async(..., "umap")`` returns the PCA layout; time until it returns
  vs time until ``on_ready`` delivers the refined UMAP layout (cold);
* UMAP warm (later fits in the process), and, in a fresh child process, a fit after
  ``warm_up()``; t-SNE (openTSNE);
* how far points move between consecutive epochs, aligned (``project_all``) vs independent
  fits (``embed`` per epoch), both normalised to unit RMS radius;
* trustworthiness (k=10) of each 2-D layout against the vectors, on a 2,000-sample subsample.

Run: ``.venv/bin/python benchmarks/projection.py`` (about 10 min on 2 shared cores).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from nbperceive import projection as proj  # noqa: E402


def record_run(run_dir: Path, n: int, epochs: int, n_train: int) -> None:
    import keras

    import nbperceive as nbp
    from nbperceive.datasets import fashion_mnist

    data = fashion_mnist(source="offline")
    x = (data.x.astype(np.float32) / 255)[..., None]
    x_train, y_train = x[:n_train], data.y[:n_train]
    x_probe, y_probe = x[60000 : 60000 + n], data.y[60000 : 60000 + n]
    keras.utils.set_random_seed(0)
    inp = keras.Input((28, 28, 1), name="image")
    h = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1")(inp)
    h = keras.layers.MaxPooling2D(name="pool1")(h)
    h = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2")(h)
    h = keras.layers.MaxPooling2D(name="pool2")(h)
    h = keras.layers.Flatten(name="flat")(h)
    h = keras.layers.Dense(64, activation="relu", name="dense")(h)
    out = keras.layers.Dense(10, activation="softmax", name="probs")(h)
    model = keras.Model(inp, out)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    perceiver = nbp.Perceiver(model, probe=(x_probe, y_probe), run_dir=run_dir,
                              class_names=data.class_names, overwrite=True)
    model.fit(x_train, y_train, epochs=epochs, batch_size=128, verbose=0,
              callbacks=[perceiver.callback()])


def child_warm(run_dir: str, epoch: int) -> None:
    """Fresh process: warm_up(), then one UMAP fit; prints JSON timings."""
    from nbperceive.store import Run

    x = np.asarray(Run(run_dir).snapshot(epoch).vectors)
    t0 = time.perf_counter()
    proj.warm_up().result()
    t_warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    proj.embed(x, "umap")
    print(json.dumps({"warm_up": t_warm, "fit_after": time.perf_counter() - t0}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000, help="probe samples (Fashion-MNIST test)")
    ap.add_argument("--epochs", type=int, default=3, help="training epochs (captures: +1)")
    ap.add_argument("--train", type=int, default=20000, help="training images")
    ap.add_argument("--subsample", type=int, default=2000, help="rows for trustworthiness")
    ap.add_argument("--run-dir", help="record the run here, or reuse the one recorded there "
                    "(default: a temp dir)")
    ap.add_argument("--child-warm", nargs=2, metavar=("RUN_DIR", "EPOCH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_warm:
        child_warm(args.child_warm[0], int(args.child_warm[1]))
        return

    from sklearn.manifold import trustworthiness

    from nbperceive.store import Run

    tmp = tempfile.TemporaryDirectory(prefix="nbp-bench-proj-")
    run_dir = Path(args.run_dir or tmp.name) / "fashion"
    t0 = time.perf_counter()
    reuse = args.run_dir and (run_dir / "run.json").is_file() and len(Run(run_dir).epochs) > 1
    if not reuse:  # --run-dir with a recorded run: reuse it (delete it to re-record)
        record_run(run_dir, args.n, args.epochs, args.train)
    run = Run(run_dir)
    for child in run_dir.glob("epoch-*/proj-*.npy"):
        child.unlink()  # cold caches
    epochs, last = run.epochs, run.epochs[-1]
    dim = run.snapshot(last).vectors.shape[1]
    n = len(run.samples)
    print(f"{'reused' if reuse else 'recorded'} {run} in {time.perf_counter() - t0:.1f} s: "
          f"{n} samples x {dim} dims")

    # -- first view while the cold UMAP fit runs in the background
    ready = threading.Event()
    t0 = time.perf_counter()
    first = proj.project_run_async(run, epochs[0], "umap", lambda c: ready.set())
    t_first = time.perf_counter() - t0
    handle = first.refinement
    ready.wait()
    t_cold = time.perf_counter() - t0
    print(f"first view (PCA of epoch {epochs[0]}, cold cache, async return): {t_first:.2f} s")
    print(f"refined UMAP, first fit in process (cold, on_ready): {t_cold:.1f} s "
          f"-> first view {t_cold / t_first:.0f}x sooner than waiting for UMAP")
    assert handle.status == "done"

    # -- UMAP aligned chain (epoch 0 is cached from the async job) and warm fits
    times = []
    for e in epochs[1:]:
        t0 = time.perf_counter()
        proj.project_run(run, e, "umap")
        times.append(time.perf_counter() - t0)
    t_warm = float(np.median(times))
    print(f"UMAP warm (aligned, init from previous epoch), median of {len(times)}: {t_warm:.1f} s "
          f"= {t_warm / t_cold:.2f} x cold")
    umap_aligned = proj.project_all(run, "umap", progress=False)
    vectors = {e: np.asarray(run.snapshot(e).vectors) for e in epochs}
    t0 = time.perf_counter()
    umap_indep = [proj.embed(vectors[e], "umap") for e in epochs]
    t_indep = (time.perf_counter() - t0) / len(epochs)
    print(f"UMAP warm (independent, spectral init), mean: {t_indep:.1f} s")

    # -- fresh process: warm_up() first, then a fit
    out = subprocess.run([sys.executable, __file__, "--child-warm", str(run_dir), str(last)],
                         capture_output=True, text=True, check=True)
    child = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"fresh process: warm_up() {child['warm_up']:.1f} s (in the background), then "
          f"UMAP fit {child['fit_after']:.1f} s = {child['fit_after'] / t_cold:.2f} x cold")

    # -- t-SNE on the last two epochs, aligned vs independent
    tsne_epochs = epochs[-2:]
    t0 = time.perf_counter()
    proj.project_run(run, tsne_epochs[0], "tsne")
    t_tsne = time.perf_counter() - t0
    t0 = time.perf_counter()
    proj.project_run(run, tsne_epochs[1], "tsne")
    t_tsne_next = time.perf_counter() - t0
    print(f"t-SNE (openTSNE, n_jobs=1): {t_tsne:.1f} s from PCA; {t_tsne_next:.1f} s from the "
          "previous epoch's layout (no early exaggeration)")
    tsne_aligned = [proj.project_run(run, e, "tsne") for e in tsne_epochs]
    tsne_indep = [proj.embed(vectors[e], "tsne") for e in tsne_epochs]

    # -- displacement between consecutive epochs
    pca_aligned = proj.project_all(run, "pca", progress=False)
    pca_indep = [proj.embed(vectors[e], "pca") for e in epochs]
    print("median displacement between consecutive epochs (unit RMS radius), aligned vs "
          "independent:")
    for name, aligned, indep in [
        ("PCA", pca_aligned.values(), pca_indep),
        ("UMAP", umap_aligned.values(), umap_indep),
        (f"t-SNE {tsne_epochs[0]}->{tsne_epochs[1]}", tsne_aligned, tsne_indep),
    ]:
        a, b = proj.aligned_displacement(aligned), proj.aligned_displacement(indep)
        print(f"  {name:12s} aligned {a:.3f}  independent {b:.3f}  ratio {a / b:.2f}")

    # -- trustworthiness of the last epoch's layouts
    rows = np.random.default_rng(0).choice(n, min(args.subsample, n), replace=False)
    x = vectors[last][rows]
    print(f"trustworthiness (k=10, {len(rows)} samples) of epoch {last}'s layouts:")
    for name, coords in [("PCA", pca_aligned[last]), ("UMAP", umap_aligned[last]),
                         ("t-SNE", tsne_aligned[-1])]:
        print(f"  {name:6s} {trustworthiness(x, coords[rows], n_neighbors=10):.3f}")
    tmp.cleanup()


if __name__ == "__main__":
    main()
