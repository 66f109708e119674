"""Label-error ranking against the simplest baseline, in the same run.

MNIST (5,000 images offline) with 2 % of the labels flipped at random; a CNN trains on the
noisy labels with the callback recording the (noisy) training set as its probe. Precision of
the top-k suspects (k = number of flips) for ``run.suspects()`` vs ranking by final loss.

Run: ``.venv/bin/python benchmarks/label_errors.py``
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import nbperceive as nbp  # noqa: E402


def experiment(run_dir: str, n: int = 5000, epochs: int = 6, seed: int = 0) -> dict[str, float]:
    data = nbp.datasets.mnist()
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
    ours = run.suspects()["sample_id"].to_numpy()[:k]
    by_loss = run.snapshot().table.sort_values("loss", ascending=False)["sample_id"].to_numpy()[:k]
    return {
        "k": k,
        "precision_suspects": len(truth & set(ours.tolist())) / k,
        "precision_final_loss": len(truth & set(by_loss.tolist())) / k,
    }


if __name__ == "__main__":
    for seed in (0, 1, 2):
        r = experiment(tempfile.mkdtemp(prefix="nbp-label-errors-"), seed=seed)
        ratio = r["precision_suspects"] / max(r["precision_final_loss"], 1e-9)
        print(f"label errors, seed {seed}, MNIST 5,000 with 2 % flipped (k={r['k']}): "
              f"precision@k suspects {r['precision_suspects']:.2f} vs final loss "
              f"{r['precision_final_loss']:.2f} (ratio {ratio:.2f}x)")
