"""UMAP for more samples than UMAP can fit in time: fit a landmark sample, place the rest.

Above :data:`LANDMARKS` samples, UMAP (umap-learn) fits a random sample of that many (on their
exact neighbour graph, searched by brute force as :mod:`nbperceive.neighbours` does); every
other sample is then placed at the weighted mean of the positions of its neighbours in the
run's neighbour graph (the one ``suspects`` shares, see :mod:`nbperceive.neighbours`), in
rounds: a sample with no placed neighbour yet waits for the next round. Weights follow UMAP's
own membership strength, ``exp(-(d - d_nearest) / mean(d - d_nearest))`` per row. Samples the
graph never reaches (a component without landmarks) are placed by the affine map from the PCA
layout to the landmarks' UMAP layout. Cost beyond the landmark fit: O(N k) per round.
"""

from __future__ import annotations

import numpy as np

LANDMARKS = 20_000  # samples UMAP fits (their graph searched exactly: no numba NN-descent)
_MAX_ROUNDS = 64


def choose(n: int, count: int, seed: int | None) -> np.ndarray:
    """Sorted indices of ``count`` landmarks among ``n`` samples (seeded)."""
    rng = np.random.default_rng(0 if seed is None else seed)
    return np.sort(rng.choice(n, size=min(count, n), replace=False))


def _weights(distances: np.ndarray) -> np.ndarray:
    d = distances.astype(np.float64)
    rel = d - d[:, :1]
    scale = rel.mean(axis=1, keepdims=True)
    return np.exp(-rel / np.where(scale > 0, scale, 1.0))


def place(indices: np.ndarray, distances: np.ndarray, landmarks: np.ndarray,
          landmark_coords: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """(N, 2) positions: landmarks where fitted, the rest placed on the (N, k) graph.

    ``fallback`` (N, 2): a layout of every sample (PCA) mapped affinely onto the landmarks'
    coordinates for samples the graph does not reach."""
    n = len(indices)
    pos = np.zeros((n, 2), np.float64)
    placed = np.zeros(n, bool)
    pos[landmarks] = landmark_coords
    placed[landmarks] = True
    weights = _weights(distances)
    for _ in range(_MAX_ROUNDS):
        todo = np.flatnonzero(~placed)
        if not len(todo):
            break
        nb = indices[todo]
        w = weights[todo] * placed[nb]
        total = w.sum(axis=1)
        ready = total > 0
        if not ready.any():
            break
        rows, nb, w = todo[ready], nb[ready], w[ready]
        pos[rows] = np.einsum("ik,ikj->ij", w, pos[nb]) / total[ready, None]
        placed[rows] = True
    left = np.flatnonzero(~placed)
    if len(left):
        src = np.c_[fallback[landmarks], np.ones(len(landmarks))]
        affine, *_ = np.linalg.lstsq(src, landmark_coords, rcond=None)
        pos[left] = np.c_[fallback[left], np.ones(len(left))] @ affine
    return pos.astype(np.float32)
