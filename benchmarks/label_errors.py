"""Label-error ranking against the simplest baseline, in the same run.

MNIST (5,000 images offline) with 2 % of the labels flipped at random; a CNN trains on the
noisy labels with the callback recording the (noisy) training set as its probe. Precision of
the top-k suspects (k = number of flips) for ``run.suspects()`` vs ranking by final loss (the
baseline), and by area under the margin (AUM) for reference; then the means over seeds.

Run: ``.venv/bin/python benchmarks/label_errors.py [--seeds 0 1 2 3 4 5] [--epochs 6]``
(``--epochs 20`` trains long enough for the model to memorise flipped labels).
"""

from __future__ import annotations

import argparse
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import nbperceive as nbp  # noqa: E402


def experiment(run_dir: str, n: int = 5000, epochs: int = 6, seed: int = 0) -> dict[str, float]:
    data = nbp.datasets.mnist(source="offline")
    order = np.random.default_rng(seed).permutation(len(data.y))[:n]
    x = (data.x[order].astype(np.float32) / 255.0)[..., None]
    y, flipped = nbp.datasets.flip_labels(data.y[order], 0.02, 10, seed)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Flatten(), keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    perceiver = nbp.Perceiver(model, probe=(x, y), run_dir=run_dir, overwrite=True)
    model.fit(x, y, epochs=epochs, batch_size=64, verbose=0, callbacks=[perceiver.callback()])
    run = perceiver.run
    k = len(flipped)
    truth = set(flipped.tolist())
    ranked = run.suspects()
    ours = ranked["sample_id"].to_numpy()[:k]
    by_aum = ranked.nsmallest(k, "aum")["sample_id"].to_numpy()
    by_loss = run.snapshot().table.sort_values("loss", ascending=False)["sample_id"].to_numpy()[:k]
    return {
        "k": k,
        "precision_suspects": len(truth & set(ours.tolist())) / k,
        "precision_final_loss": len(truth & set(by_loss.tolist())) / k,
        "precision_aum": len(truth & set(by_aum.tolist())) / k,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5],
                        help="one run per seed (data order, flips and weights)")
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()
    results = []
    for seed in args.seeds:
        with tempfile.TemporaryDirectory(prefix="nbp-label-errors-") as run_dir:
            r = experiment(run_dir, epochs=args.epochs, seed=seed)
        results.append(r)
        ratio = r["precision_suspects"] / max(r["precision_final_loss"], 1e-9)
        print(f"label errors, seed {seed}, MNIST 5,000 with 2 % flipped (k={r['k']}), "
              f"{args.epochs} epochs: precision@k suspects {r['precision_suspects']:.2f} vs "
              f"final loss {r['precision_final_loss']:.2f} (ratio {ratio:.2f}x); "
              f"AUM {r['precision_aum']:.2f}", flush=True)
    ours = np.array([r["precision_suspects"] for r in results])
    base = np.array([r["precision_final_loss"] for r in results])
    aum = np.array([r["precision_aum"] for r in results])
    diff = ours - base
    sem = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
    print(f"mean over {len(results)} seeds {args.seeds}: precision@k suspects {ours.mean():.3f} "
          f"vs final loss {base.mean():.3f} (ratio {ours.mean() / max(base.mean(), 1e-9):.3f}x; "
          f"difference {diff.mean():+.3f} +/- {sem:.3f} s.e., suspects ahead on "
          f"{(diff > 0).sum()}, behind on {(diff < 0).sum()}); AUM {aum.mean():.3f}")


if __name__ == "__main__":
    main()
