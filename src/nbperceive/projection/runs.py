"""Layouts of a run's epochs: cached in the epoch folders, aligned on the previous epoch."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ProjectionError
from ..store import Run, epoch_dirname, save_array_atomic
from .align import fit_rows, procrustes_align, to_box
from .fit import (
    _DEFAULTS,
    COVARIANCE_MAX,
    _as_matrix,
    _check_method,
    _pca,
    _pre_reduce,
    embed,
    require_finite,
)

_SAFE = re.compile(r"[^A-Za-z0-9_.]+")


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def cache_name(method: str, layer: str | None = None, **params: Any) -> str:
    """File name of a cached layout inside an epoch folder."""
    _check_method(method)
    name = f"proj-{method}"
    if layer is not None:
        safe = _SAFE.sub("_", layer)
        name += f"-{safe}" if safe == layer else f"-{safe}.{_short_hash(layer)}"
    custom = {k: v for k, v in params.items() if _DEFAULTS[method].get(k, object()) != v}
    if custom:
        name += "-" + _short_hash(json.dumps(custom, sort_keys=True, default=str))
    return name + ".npy"


def _open(run: Run | str | os.PathLike) -> Run:
    return run if isinstance(run, Run) else Run(run)


def _resolve_epoch(run: Run, epoch: int | None) -> int:
    epoch = run.resolve_epoch(epoch)
    run.epoch_path(epoch)  # raises RunError naming the recorded epochs
    return epoch


def _previous(run: Run, epoch: int) -> int | None:
    earlier = [e for e in run.epochs if e < epoch]
    return earlier[-1] if earlier else None


def _vectors(run: Run, epoch: int, layer: str | None) -> np.ndarray:
    return np.asarray(run.vectors(epoch, layer), dtype=np.float32)


def _load_cached(path: Path, n: int | None = None) -> np.ndarray | None:
    if not path.is_file():
        return None
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):  # a damaged cache is recomputed
        return None
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.dtype != np.float32:
        return None
    if n is not None and len(arr) != n:
        return None
    return arr


def cached(
    run: Run | str | os.PathLike,
    epoch: int | None = None,
    method: str = "pca",
    layer: str | None = None,
    **params: Any,
) -> np.ndarray | None:
    """The cached layout if one is on disk, else None (never computes)."""
    run = _open(run)
    epoch = _resolve_epoch(run, epoch)
    return _load_cached(run.path / epoch_dirname(epoch) / cache_name(method, layer, **params))


def is_cached(
    run: Run | str | os.PathLike,
    epoch: int | None = None,
    method: str = "pca",
    layer: str | None = None,
    **params: Any,
) -> bool:
    """Whether ``epoch``'s layout is on disk (looks, never reads: a view decides with it
    whether a layout is shown at once or computed on a thread first)."""
    run = _open(run)
    epoch = _resolve_epoch(run, epoch)
    return (run.path / epoch_dirname(epoch) / cache_name(method, layer, **params)).is_file()


def _pca_chain(run: Run, epoch: int, layer: str | None, recompute: bool) -> np.ndarray:
    """Aligned PCA layout of ``epoch``, each epoch aligned on the one before (from the latest
    cached one), cached.

    An earlier epoch not cached only serves to align the next, and an alignment is fitted on
    the rows PCA fits on (:func:`.align.fit_rows`), so earlier epochs are laid out at those
    rows only: one pass over ``epoch``'s vectors at any N (0.2 s at 1M x 138), not one per
    earlier epoch. The result is the same as laying out every epoch whole (the box each
    layout is scaled into does not change how the next one is aligned)."""
    epochs = [e for e in run.epochs if e <= epoch]
    name = cache_name("pca", layer)
    todo: list[int] = []
    reference = None
    for e in reversed(epochs):
        hit = None if recompute else _load_cached(run.path / epoch_dirname(e) / name)
        if hit is not None:
            reference = hit
            break
        todo.append(e)
    if not todo:
        assert reference is not None
        return reference
    x = _as_matrix(_vectors(run, epoch, layer), check_finite=False)
    rows = fit_rows(len(x))
    if reference is not None:
        reference = reference[rows] if len(reference) == len(x) else None
    for e in reversed(todo[1:]):  # earlier epochs, at the fitting rows only
        sample = _as_matrix(_vectors(run, e, layer), check_finite=False)
        if len(sample) != len(x):
            reference = None
            continue
        coords = _pca(np.asarray(sample[rows]), 2)
        require_finite(coords)
        reference = coords if reference is None else procrustes_align(coords, reference)
    coords = _pca_step(x, reference)
    save_array_atomic(run.path / epoch_dirname(epoch) / name, coords)
    return coords


def _pca_step(x: np.ndarray, reference: np.ndarray | None) -> np.ndarray:
    """The PCA layout of ``x`` (N, D) aligned on ``reference`` (the previous epoch's
    layout at the fitting rows, or None), in the unit box."""
    coords = _pca(x, 2)
    require_finite(coords)  # any NaN or inf in the vectors reaches the projection
    if reference is not None:
        coords = procrustes_align(coords, reference, fit_rows(len(x)))
    return to_box(coords)


def pca_at_capture(run_dir: Path, epochs: list[int], epoch: int,
                   vectors: np.ndarray) -> np.ndarray | None:
    """The layout :func:`project_run` gives ``epoch``'s PCA (all layers), made from its
    snapshot's ``vectors`` while they are being written (in memory: no second read of up to
    half a gigabyte when the run is opened later); None when the epoch before it has no
    cached layout to align on, or when the vectors are wider than :data:`.fit.COVARIANCE_MAX`
    (their PCA would copy the fitting rows in the training process; it is then made when
    first asked for)."""
    x = _as_matrix(vectors, check_finite=False)
    if x.shape[1] > COVARIANCE_MAX:
        return None
    earlier = [e for e in epochs if e < epoch]
    reference = None
    if earlier:
        reference = _load_cached(run_dir / epoch_dirname(earlier[-1]) / cache_name("pca"),
                                 len(x))
        if reference is None:
            return None
        reference = reference[fit_rows(len(x))]
    return _pca_step(x, reference)


def project_run(
    run: Run | str | os.PathLike,
    epoch: int | None = None,
    method: str = "pca",
    layer: str | None = None,
    *,
    recompute: bool = False,
    report: Callable[[float], bool] | None = None,
    **params: Any,
) -> np.ndarray:
    """float32 (N, 2) layout of ``epoch`` in [-1, 1], aligned on the previous epoch and cached.

    ``report(fraction, stage=None)`` receives progress (t-SNE: every 25 iterations; UMAP: its
    steps, with a ``stage`` text) and may return True to stop a t-SNE fit early; a stopped fit
    is not cached. UMAP and t-SNE fit in the worker process (:mod:`.worker`) unless ``params``
    hold arrays."""
    _check_method(method)
    run = _open(run)
    epoch = _resolve_epoch(run, epoch)
    if method == "pca":
        _check_params("pca", params)
        return _pca_chain(run, epoch, layer, recompute)
    _check_params(method, params)
    path = run.path / epoch_dirname(epoch) / cache_name(method, layer, **params)
    if not recompute:
        hit = _load_cached(path)
        if hit is not None:
            return hit
    from . import worker

    if worker.active() and worker.jsonable(params):
        # numba compiles UMAP's code holding the GIL, openTSNE's FFT gradient holds it for
        # long stretches: fit in the worker process (which writes the same cache file), so
        # the kernel never stalls; a report returning True ends the fit there (cancel)
        def progress(fraction: float, stage: str | None) -> bool:
            return bool(report(fraction, stage)) if report is not None else False

        worker.call("layout", progress, run=str(run.path), epoch=epoch, method=method,
                    layer=layer, recompute=recompute, params=params)
        hit = _load_cached(path)
        if hit is None:
            raise ProjectionError(f"the worker process left no layout at {path}.")
        return hit
    vectors = _vectors(run, epoch, layer)
    prev = _previous(run, epoch)
    reference = None
    fit_params = dict(params)
    if prev is not None:
        reference = _load_cached(
            run.path / epoch_dirname(prev) / cache_name(method, layer, **params), len(vectors)
        )
    if reference is None:
        reference = _pca_chain(run, epoch, layer, recompute=False)
    elif method == "tsne":
        # Starting from the previous epoch's t-SNE layout, early exaggeration would only
        # scatter it again (measured on digits: median displacement 0.32 -> 0.24, same
        # trustworthiness).
        fit_params.setdefault("early_exaggeration_iter", 0)
    if method == "umap" and len(vectors) > int({**_DEFAULTS["umap"], **params}["landmarks"]):
        coords = _landmark_umap(run, epoch, layer, vectors, reference, fit_params, report)
    else:
        if method == "umap":
            fit_params.update(_shared_graph(run, epoch, layer, params))
        coords = embed(vectors, method, init=reference, report=report, **fit_params)
    coords = to_box(procrustes_align(coords, reference))
    save_array_atomic(path, coords)
    return coords


def _landmark_umap(run: Run, epoch: int, layer: str | None, vectors: np.ndarray,
                   reference: np.ndarray, params: dict[str, Any],
                   report: Callable[..., Any] | None = None) -> np.ndarray:
    """UMAP of a landmark sample, the other samples placed on the run's neighbour graph
    (see :mod:`.landmarks`)."""
    from ..neighbours import cached_graph, knn_graph, run_graph
    from . import landmarks

    def step(fraction: float, stage: str) -> None:
        if report is not None:
            report(fraction, stage)

    merged = {**_DEFAULTS["umap"], **params}
    chosen = landmarks.choose(len(vectors), int(merged["landmarks"]), merged["random_state"])
    x = np.asarray(vectors[chosen])
    k = min(int(merged["n_neighbors"]), len(chosen) - 1)
    step(0.05, f"UMAP fit of {len(chosen):,} landmark samples")
    own = knn_graph(_pre_reduce(_as_matrix(x), int(merged["pre_dims"])), k, method="exact")
    knn = (np.ascontiguousarray(own.indices[:, :k]), np.ascontiguousarray(own.distances[:, :k]),
           None)  # UMAP counts the sample itself among its n_neighbors columns
    fitted = embed(x, "umap", init=reference[chosen], **{**params, "precomputed_knn": knn})
    fitted = procrustes_align(fitted, reference[chosen])
    k = min(int(merged["n_neighbors"]), len(vectors) - 1)
    pre_dims = int(merged["pre_dims"])
    if cached_graph(run, epoch, layer, k=k, pre_dims=pre_dims) is None:
        step(0.4, f"neighbour graph of {len(vectors):,} samples (NN-descent)")
    graph = run_graph(run, epoch, layer, k=k, pre_dims=pre_dims)
    step(0.9, f"placing {len(vectors) - len(chosen):,} samples on the neighbour graph")
    # column 0 of the graph is the sample itself
    return landmarks.place(graph.indices[:, 1:], graph.distances[:, 1:], chosen, fitted, reference)


def _shared_graph(run: Run, epoch: int, layer: str | None, params: dict[str, Any]
                  ) -> dict[str, Any]:
    """UMAP's ``precomputed_knn`` from the run's neighbour graph of this epoch and layer (the
    one ``suspects`` reads; built and cached here if missing), when UMAP would search the same
    space: Euclidean, on the same pre-reduction."""
    from ..neighbours import run_graph
    from .fit import _DEFAULTS

    merged = {**_DEFAULTS["umap"], **params}
    if merged["metric"] != "euclidean" or "precomputed_knn" in params:
        return {}
    n = len(run.samples)
    k = min(int(merged["n_neighbors"]), n - 1)
    if k < 2:
        return {}
    graph = run_graph(run, epoch, layer, k=k, pre_dims=int(merged["pre_dims"]))
    # UMAP counts the sample itself among its n_neighbors columns
    return {"precomputed_knn": (np.ascontiguousarray(graph.indices[:, :k]),
                                np.ascontiguousarray(graph.distances[:, :k]), None)}


def _check_params(method: str, params: dict[str, Any]) -> None:
    if method == "pca" and set(params) - {"pre_dims"}:
        raise ProjectionError(
            f"PCA takes no parameters, got {sorted(params)}; they belong to 'umap' or 'tsne'."
        )


def project_all(
    run: Run | str | os.PathLike,
    method: str = "pca",
    layer: str | None = None,
    epochs: Iterable[int] | None = None,
    *,
    progress: bool = True,
    **params: Any,
) -> dict[int, np.ndarray]:
    """Lay out every recorded epoch (or ``epochs``) in order, with a tqdm progress bar."""
    from tqdm.auto import tqdm

    _check_method(method)
    run = _open(run)
    todo = sorted(run.epochs if epochs is None else {_resolve_epoch(run, e) for e in epochs})
    out: dict[int, np.ndarray] = {}
    label = method if layer is None else f"{method} {layer}"
    for e in tqdm(todo, desc=f"{label} layouts", unit="epoch", disable=not progress):
        out[e] = project_run(run, e, method, layer, **params)
    return out
