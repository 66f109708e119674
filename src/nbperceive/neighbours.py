"""Nearest-neighbour graphs of perception vectors, one per epoch and layer, cached in the run.

One graph serves every consumer: ``metrics.suspects`` (the neighbours' labels) and UMAP
(``umap.UMAP(precomputed_knn=...)`` in :mod:`nbperceive.projection`), so a run's neighbours
are searched once per (epoch, layer), not once per consumer.

The graph lives in UMAP's space: the vectors after the PCA pre-reduction to ``pre_dims``
columns (:data:`nbperceive.projection.PRE_DIMS`) that UMAP fits on, Euclidean distance. Rows
hold each sample first (distance 0) and then its nearest neighbours, as UMAP expects.

Search: exact (brute force, BLAS) up to :data:`EXACT_MAX` samples, where it is fast and needs
no compilation; above, approximate with pynndescent's NN-descent (the library UMAP uses
itself; umap-learn's own settings and the faster default measured against them in
:data:`SETTINGS`). The first
NN-descent in a process compiles numba code (tens of seconds on 2 cores; numba caches part of
it on disk for the next process), holding the GIL: :func:`run_graph` therefore searches in the
worker process of :mod:`nbperceive.projection.worker`, which keeps the compiled code.
``method="exact" | "approx"`` forces one.

Cache files, written atomically (``.npy``, no pickle)::

    epoch-XXXX/knn-<layer or "all">-d<pre_dims>-<exact|approx>.indices.npy   int32 (N, K)
    epoch-XXXX/knn-<layer or "all">-d<pre_dims>-<exact|approx>.distances.npy float32 (N, K)

A request for K or fewer neighbours reads the cached columns; more rebuilds and replaces it.
Both files belong to their epoch folder, so re-capturing an epoch (which swaps the folder)
drops its graphs; each layer has its own pair.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import RunError

if TYPE_CHECKING:
    from .store import Run

EXACT_MAX = 20_000  # brute force below: 20k x 20k x 50 is ~1 s of BLAS, no numba compile
DEFAULT_K = 15  # UMAP's n_neighbors, so one graph serves both
_METHODS = ("auto", "exact", "approx")


@dataclass(frozen=True)
class Graph:
    """``indices`` int32 (N, K) and ``distances`` float32 (N, K); column 0 is the sample."""

    indices: np.ndarray
    distances: np.ndarray
    method: str  # "exact" or "approx"

    @property
    def k(self) -> int:
        """Neighbours per sample, the sample itself not counted."""
        return self.indices.shape[1] - 1

    def neighbours(self, k: int | None = None, rows: Sequence[int] | None = None
                   ) -> np.ndarray:
        """int (N, k) nearest neighbours of each sample (of ``rows`` only: (len(rows), k)),
        the sample itself left out."""
        k = self.k if k is None else min(k, self.k)
        if rows is None:
            idx, rows = self.indices, np.arange(len(self.indices))
        else:
            rows = np.asarray(rows, dtype=np.int64)
            idx = self.indices[rows]
        is_self = idx == rows[:, None]
        # duplicates can put the sample in another column than 0: drop it wherever it is,
        # else drop the farthest column
        has_self = is_self.any(1)
        drop = np.where(has_self, is_self.argmax(1), idx.shape[1] - 1)
        keep = np.ones(idx.shape, bool)
        keep[np.arange(len(idx)), drop] = False
        return idx[keep].reshape(len(idx), -1)[:, :k]

    def head(self, k: int) -> Graph:
        """The same graph with only the ``k`` nearest neighbours (plus the sample)."""
        return Graph(self.indices[:, : k + 1], self.distances[:, : k + 1], self.method)


def reduce(vectors: np.ndarray, pre_dims: int) -> np.ndarray:
    """The space graphs live in: UMAP's PCA pre-reduction of ``vectors``."""
    from .projection.fit import _as_matrix, _pre_reduce

    return _pre_reduce(_as_matrix(vectors), pre_dims)


def _exact(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    n = len(x)
    x64 = x.astype(np.float64)
    sq = (x64**2).sum(1)
    xt = np.ascontiguousarray(x64.T)
    idx = np.empty((n, k + 1), np.int32)
    dist = np.empty((n, k + 1), np.float32)
    # ~2M distances per block: argpartition holds the GIL, ~0.1 s per block at most here
    step = max(1, 2**21 // max(n, 1))
    for start in range(0, n, step):
        block = x64[start : start + step]
        d2 = block @ xt
        d2 *= -2.0
        d2 += sq[start : start + step, None]
        d2 += sq[None, :]
        rows = np.arange(len(block))
        d2[rows, start + rows] = -1.0  # the sample itself comes first
        # partition on float32 (half the memory traffic, ~2x faster), order in float64
        part = np.argpartition(d2.astype(np.float32), k, axis=1)[:, : k + 1]
        near = np.take_along_axis(d2, part, 1)
        order = near.argsort(1, kind="stable")
        idx[start : start + step] = np.take_along_axis(part, order, 1)
        dist[start : start + step] = np.sqrt(np.maximum(np.take_along_axis(near, order, 1), 0.0))
    return idx, dist


# NN-descent settings. ``"umap"``: umap-learn's own (umap.umap_.nearest_neighbors: 5 +
# sqrt(N)/20 trees up to 64, log2(N) iterations, 60 candidates, low memory), the baseline
# benchmarks/scale.py measures against. ``"scaled"`` (the default): a fixed forest of
# SCALED_TREES trees (umap's grows as sqrt(N): 55 trees at 1M, whose build and leaf search
# took most of its time), the same candidates and iterations, not low-memory; NN-descent
# searches BUILD_FACTOR x k neighbours and keeps the k nearest (the wider heap finds far
# more of the true ones at about the same work, since the candidates per round are capped);
# and the rows are searched in the leaf order of one more RP tree, so neighbours of
# neighbours sit near in memory (1M x 50 float32 is 200 MB, past the 32 MB L3 here).
# benchmarks/scale.py --stages graph (generated 138-D clusters, load 5-8, recall@15 against
# exact search): 100k umap 12.8 CPU s, 0.920 / scaled 10.8 CPU s, 0.983; 1M umap 447 s wall
# (218 CPU s), 0.765 / scaled 171 s (156 CPU s), 0.880. Real Fashion-MNIST run, 30k: 0.9990 /
# 0.9992 (tests/core/test_neighbours.py holds the floor). Peak RSS of the 1M graph ~2.2 GB.
# Real Fashion-MNIST vectors, 1M (70k images repeated with shifts), scaled: 85.6 s.
UMAP_SETTINGS = "umap"
SCALED = "scaled"
SETTINGS = SCALED
SCALED_TREES = 8
BUILD_FACTOR = 2
_ORDER_LEAF = 64


def nndescent_params(n: int, settings: str | None = None) -> dict:
    """pynndescent ``NNDescent`` keyword arguments for ``n`` rows (``settings``: ``"scaled"``,
    the default, or ``"umap"``, umap-learn's own; see :data:`SETTINGS`)."""
    settings = settings or SETTINGS
    if settings not in (UMAP_SETTINGS, SCALED):
        raise RunError(f"unknown NN-descent settings {settings!r}; choose "
                       f"{SCALED!r} or {UMAP_SETTINGS!r}.")
    common = {"n_iters": max(5, int(round(np.log2(n)))), "max_candidates": 60}
    if settings == UMAP_SETTINGS:
        return {"n_trees": min(64, 5 + int(round(n**0.5 / 20.0))), **common,
                "low_memory": True}
    return {"n_trees": SCALED_TREES, **common, "low_memory": False}


def locality_order(x: np.ndarray, seed: int) -> np.ndarray:
    """A permutation of the rows of ``x`` that keeps near rows near: the leaves of one random
    projection tree (pynndescent's), depth first."""
    from pynndescent.rp_trees import make_dense_tree

    rng = np.random.default_rng(seed)
    state = rng.integers(np.iinfo(np.int32).min + 1, np.iinfo(np.int32).max - 1, 3
                         ).astype(np.int64)
    tree = make_dense_tree(x, state, _ORDER_LEAF)
    leaves = [tree.indices[i] for i in range(len(tree.children)) if tree.children[i][0] == -1]
    order = np.concatenate(leaves).astype(np.int64)
    if len(order) != len(x):  # never seen; the search is right in any order, only slower
        return np.arange(len(x))
    return order


def _approx(x: np.ndarray, k: int, seed: int, settings: str | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    from pynndescent import NNDescent

    params = nndescent_params(len(x), settings)
    order, search_k = None, k + 1
    if (settings or SETTINGS) == SCALED:
        order = locality_order(x, seed)
        x = np.ascontiguousarray(x[order])
        search_k = min(len(x) - 1, max(k + 1, BUILD_FACTOR * k))
    # numba threads: n_jobs=-1, one per core (2 here)
    index = NNDescent(x, n_neighbors=search_k, metric="euclidean", random_state=seed,
                      n_jobs=-1, compressed=True, verbose=False, **params)
    idx, dist = index.neighbor_graph  # each row sorted by distance
    idx, dist = idx[:, : k + 1].astype(np.int32), dist[:, : k + 1].astype(np.float32)
    if order is not None:  # back to the caller's rows and indices
        out_idx, out_dist = np.empty_like(idx), np.empty_like(dist)
        out_idx[order] = order.astype(np.int32)[idx]
        out_dist[order] = dist
        idx, dist = out_idx, out_dist
    return idx, dist


def knn_graph(vectors: np.ndarray, k: int = DEFAULT_K, method: str = "auto",
              seed: int = 0, settings: str | None = None) -> Graph:
    """The ``k`` nearest neighbours of every row of ``vectors`` (Euclidean), plus itself;
    ``settings`` of NN-descent: see :func:`nndescent_params`."""
    if method not in _METHODS:
        raise RunError(f"unknown neighbour search {method!r}; choose one of {_METHODS}.")
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(x)
    if n < 2:
        raise RunError(f"a neighbour graph needs at least 2 samples, got {n}.")
    k = int(max(1, min(k, n - 1)))
    if method == "auto":
        method = "exact" if n <= EXACT_MAX else "approx"
    idx, dist = _exact(x, k) if method == "exact" else _approx(x, k, seed, settings)
    return Graph(idx, dist, method)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.]+", "_", name)


def cache_paths(epoch_path: Path, layer: str | None, pre_dims: int, method: str
                ) -> tuple[Path, Path]:
    stem = f"knn-{_safe(layer) if layer else 'all'}-d{pre_dims}-{method}"
    return epoch_path / f"{stem}.indices.npy", epoch_path / f"{stem}.distances.npy"


def _load(paths: tuple[Path, Path], n: int, method: str) -> Graph | None:
    try:
        idx = np.load(paths[0], allow_pickle=False)
        dist = np.load(paths[1], allow_pickle=False)
    except (OSError, ValueError):
        return None
    if idx.ndim != 2 or idx.shape != dist.shape or len(idx) != n or idx.shape[1] < 2:
        return None
    return Graph(idx, dist, method)


def run_graph(run: Run, epoch: int, layer: str | None = None, k: int = DEFAULT_K,
              pre_dims: int | None = None, method: str = "auto",
              recompute: bool = False) -> Graph:
    """The neighbour graph of ``epoch``'s vectors (one ``layer``'s block, or all of them),
    from the run's cache when it holds at least ``k`` neighbours, else searched and cached.

    ``method="auto"`` searches exactly up to :data:`EXACT_MAX` samples, approximately above,
    and accepts a cached graph of either kind. The approximate search runs in the worker
    process (:mod:`nbperceive.projection.worker`: numba would stall the kernel)."""
    from .projection.fit import PRE_DIMS
    from .store import save_array_atomic

    if method not in _METHODS:
        raise RunError(f"unknown neighbour search {method!r}; choose one of {_METHODS}.")
    pre_dims = PRE_DIMS if pre_dims is None else int(pre_dims)
    epoch = run.resolve_epoch(epoch)
    epoch_path = run.epoch_path(epoch)
    vectors = run.vectors(epoch, layer)
    n = len(vectors)
    k = int(max(1, min(k, n - 1)))
    kinds = ("exact", "approx") if method == "auto" else (method,)
    if not recompute:
        for kind in kinds:
            cached = _load(cache_paths(epoch_path, layer, pre_dims, kind), n, kind)
            if cached is not None and cached.k >= k:
                return cached.head(k)
    from .projection import worker

    if worker.active() and (method == "approx" or (method == "auto" and n > EXACT_MAX)):
        # NN-descent compiles numba code holding the GIL: search in the worker process,
        # which writes the same cache files
        kind = worker.call("graph", run=str(run.path), epoch=epoch, layer=layer, k=k,
                           pre_dims=pre_dims, method=method, recompute=recompute)
        found = _load(cache_paths(epoch_path, layer, pre_dims, kind), n, kind)
        if found is None or found.k < k:
            raise RunError(f"the worker process left no neighbour graph in {epoch_path}.")
        return found.head(k)
    graph = knn_graph(reduce(vectors, pre_dims), k, method=method)
    paths = cache_paths(epoch_path, layer, pre_dims, graph.method)
    # distances first: whoever finds the indices file finds the matching distances
    save_array_atomic(paths[1], graph.distances)
    save_array_atomic(paths[0], graph.indices)
    return graph


def cached_graph(run: Run, epoch: int, layer: str | None = None, k: int = DEFAULT_K,
                 pre_dims: int | None = None) -> Graph | None:
    """The cached graph of ``epoch`` (either kind) with at least ``k`` neighbours, or None:
    never searches (for views that must not wait for NN-descent on a large run)."""
    from .projection.fit import PRE_DIMS

    pre_dims = PRE_DIMS if pre_dims is None else int(pre_dims)
    n = len(run.samples)
    k = int(max(1, min(k, n - 1)))
    for kind in ("exact", "approx"):
        found = _load(cache_paths(run.epoch_path(epoch), layer, pre_dims, kind), n, kind)
        if found is not None and found.k >= k:
            return found.head(k)
    return None
