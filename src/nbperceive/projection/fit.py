"""Bare 2-D fits of an (N, D) array: PCA, UMAP (umap-learn), t-SNE (openTSNE)."""

from __future__ import annotations

import functools
import logging
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ProjectionError
from .align import fit_rows
from .landmarks import LANDMARKS

log = logging.getLogger(__name__)

METHODS = ("pca", "umap", "tsne")
PRE_DIMS = 50
MIN_SAMPLES_REFINED = 10
_DEFAULTS: dict[str, dict[str, Any]] = {
    "pca": {"pre_dims": PRE_DIMS},
    "umap": {"pre_dims": PRE_DIMS, "n_neighbors": 15, "min_dist": 0.1, "metric": "euclidean",
             "n_epochs": None, "random_state": 0, "landmarks": LANDMARKS},
    "tsne": {"pre_dims": PRE_DIMS, "perplexity": 30, "n_jobs": 1, "random_state": 0},
}
_umap_compiled = False  # set once a UMAP fit finished in this process


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ProjectionError(
            f"unknown projection method {method!r}; choose one of {', '.join(METHODS)}."
        )
    return method


def _params(method: str, params: dict[str, Any]) -> dict[str, Any]:
    merged = dict(_DEFAULTS[method])
    merged.update(params)
    return merged


def _as_matrix(vectors: np.ndarray, check_finite: bool = True) -> np.ndarray:
    """float32 (N, D) ``vectors``; ``check_finite=False`` leaves the NaN check to the caller
    (PCA checks its output instead: one pass less over the vectors, 0.3 s at 1M x 138)."""
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2:
        raise ProjectionError(f"vectors must be a 2-D (samples, features) array, got {x.shape}.")
    if check_finite:
        require_finite(x)
    return x


def require_finite(values: np.ndarray) -> None:
    """Raise the ProjectionError a user sees for NaN or infinite vectors."""
    if not np.isfinite(values).all():
        raise ProjectionError(
            "the vectors contain NaN or infinite values (did training diverge?); "
            "lay out another epoch or layer."
        )


COVARIANCE_MAX = 256  # up to this many features PCA solves the covariance matrix (exact);
# above, sklearn's randomized SVD (the n x d x d covariance costs more there)
_CHUNK = 8_192  # rows per block: temporaries stay ~_CHUNK x d floats (8 MB at d = 256)


def _pca(x: np.ndarray, dims: int) -> np.ndarray:
    """PCA to ``dims`` columns (zero-padded when the data has fewer), deterministic signs.

    The directions come from at most :data:`.align.FIT_ROWS` rows (a seeded sample above
    that: at 100k Fashion-MNIST vectors the layout then differs from the exact PCA's by at
    most 2 % of its extent), so the PCA of those rows alone gives them the same coordinates;
    every row is then projected block by block: 1M x 138 in ~0.2 s here."""
    n = len(x)
    out = np.zeros((n, dims), dtype=np.float32)
    fitted = _pca_directions(x[fit_rows(n)], dims)
    if fitted is None:
        return out
    proj, shift = fitted
    for start in range(0, n, _CHUNK):
        out[start:start + _CHUNK, : proj.shape[1]] = x[start:start + _CHUNK] @ proj - shift
    return out


def _pca_directions(sample: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(float32 (d, k) directions, float32 (k,) mean projected) of ``sample``'s top
    k = min(dims, n, d) principal components; None when there are none.

    Up to :data:`COVARIANCE_MAX` features: eigenvectors of the covariance matrix (no sklearn
    import), largest loading positive; above, sklearn's (randomized) SVD."""
    n, d = sample.shape
    k = min(dims, n, d)
    if k == 0 or n < 2:
        return None
    if d > COVARIANCE_MAX:
        return _pca_randomized(sample, k)
    mean = sample.mean(axis=0, dtype=np.float64)
    centre = mean.astype(np.float32)
    cov = np.zeros((d, d), np.float64)
    for start in range(0, n, _CHUNK):
        block = sample[start:start + _CHUNK] - centre
        cov += block.T @ block
    require_finite(cov)  # a NaN or inf in the fitted rows (the others show in the output)
    _, vecs = np.linalg.eigh(cov)
    top = vecs[:, ::-1][:, :k]
    top *= np.sign(top[np.abs(top).argmax(axis=0), np.arange(k)])  # largest loading > 0
    return top.astype(np.float32), (mean @ top).astype(np.float32)


def _pca_randomized(sample: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.decomposition import PCA

    require_finite(sample)  # sklearn's own check would raise a ValueError
    n, d = sample.shape
    # full SVD of a 10,000 x 170 matrix takes ~10x longer than the randomized top-k
    solver = "randomized" if k < min(n, d) and min(n, d) > 100 else "full"
    pca = PCA(n_components=k, svd_solver=solver, random_state=0).fit(sample)
    proj = pca.components_.T.astype(np.float32)
    return proj, (pca.mean_ @ pca.components_.T).astype(np.float32)


def _pre_reduce(x: np.ndarray, dims: int) -> np.ndarray:
    if x.shape[1] <= dims:
        return (x - x.mean(axis=0)).astype(np.float32)
    return _pca(x, dims)


# the umap-learn parameters cuML's UMAP takes too (it builds its own graph, inits "spectral")
_CUML_PARAMS = ("min_dist", "n_epochs", "random_state", "metric", "spread", "negative_sample_rate")


@functools.cache
def cuml_umap() -> Any:
    """cuML's ``UMAP`` class when RAPIDS cuML is installed and a CUDA GPU is visible (the same
    API as umap-learn's, on the GPU); None otherwise, or with ``NBPERCEIVE_NO_CUML=1``.
    Untested here: these machines have no GPU."""
    if os.environ.get("NBPERCEIVE_NO_CUML") == "1":
        return None
    try:
        import cupy
        from cuml.manifold import UMAP

        return UMAP if cupy.cuda.runtime.getDeviceCount() > 0 else None
    except Exception:  # noqa: BLE001 - not installed, no driver, no device: umap-learn
        return None


def _fit_cuml(gpu_umap: Any, x: np.ndarray, n_neighbors: int, params: dict[str, Any]
              ) -> np.ndarray:
    kept = {k: v for k, v in params.items() if k in _CUML_PARAMS}
    reducer = gpu_umap(n_components=2, n_neighbors=n_neighbors, init="spectral", **kept)
    return np.asarray(reducer.fit_transform(np.asarray(x, np.float32)), dtype=np.float32)


def _fit_umap(x: np.ndarray, init: np.ndarray | None, params: dict[str, Any]) -> np.ndarray:
    global _umap_compiled

    params.pop("landmarks", None)  # a run layout's sampling (projection.runs): fit every row
    n_neighbors = min(int(params.pop("n_neighbors")), len(x) - 1)
    gpu_umap = cuml_umap()
    if gpu_umap is not None:  # its layout is aligned onto the previous epoch's afterwards
        try:
            return _fit_cuml(gpu_umap, x, n_neighbors, params)
        except Exception as err:  # noqa: BLE001 - the CPU fit below still gives a layout
            log.warning("cuML UMAP failed (%s); fitting with umap-learn on the CPU", err)
    import umap

    if params.get("random_state") is not None:
        params.setdefault("n_jobs", 1)  # what a seed implies anyway; UMAP warns otherwise
    try:
        reducer = umap.UMAP(
            n_components=2,
            n_neighbors=n_neighbors,
            init=np.asarray(init, dtype=np.float32) if init is not None else "spectral",
            **params,
        )
    except TypeError as err:
        raise ProjectionError(f"umap: {err}; see umap.UMAP for its parameters.") from err
    with warnings.catch_warnings():
        # a shared graph comes without a search index: only transform() needs one
        warnings.filterwarnings("ignore", message=".*knn_search_index.*")
        out = reducer.fit_transform(x)
    _umap_compiled = True
    return np.asarray(out, dtype=np.float32)


class _Cancelled(Exception):
    pass


def _fit_tsne(
    x: np.ndarray,
    init: np.ndarray | None,
    params: dict[str, Any],
    report: Callable[[float], bool] | None,
) -> np.ndarray:
    from openTSNE import TSNE
    from openTSNE.initialization import rescale

    total = int(params.get("early_exaggeration_iter", 250)) + int(params.get("n_iter", 500))
    done = [0]
    extra: dict[str, Any] = {}
    if report is not None:
        every = 25

        def callback(iteration: int, error: float, embedding: np.ndarray) -> bool:
            done[0] += every
            return report(min(done[0] / total, 1.0))

        extra = {"callbacks": callback, "callbacks_every_iters": every}
    if init is not None:
        start = np.asarray(init, dtype=np.float64)
        start = rescale(start - start.mean(axis=0), target_std=1e-4)
    else:
        start = "pca"
    perplexity = min(float(params.pop("perplexity")), (len(x) - 1) / 3)
    try:
        tsne = TSNE(n_components=2, perplexity=perplexity, initialization=start, **params, **extra)
    except TypeError as err:
        raise ProjectionError(f"tsne: {err}; see openTSNE.TSNE for its parameters.") from err
    out = tsne.fit(x)
    if report is not None and report(1.0):
        raise _Cancelled
    return np.asarray(out, dtype=np.float32)


def embed(
    vectors: np.ndarray,
    method: str = "pca",
    init: np.ndarray | None = None,
    report: Callable[[float], bool] | None = None,
    **params: Any,
) -> np.ndarray:
    """Bare 2-D fit of an (N, D) array: no cache, no alignment, no box scaling.

    ``init`` (N, 2) starts UMAP / t-SNE from a layout (ignored by PCA). ``report(fraction)``
    gets progress and may return True to stop (honoured by t-SNE). UMAP and t-SNE fit in the
    worker process (:mod:`.worker`) unless ``params`` hold arrays."""
    _check_method(method)
    params = _params(method, params)
    x = _as_matrix(vectors)
    pre_dims = int(params.pop("pre_dims"))
    if method == "pca":
        return _pca(x, 2)
    if len(x) < MIN_SAMPLES_REFINED:
        raise ProjectionError(
            f"{method} needs at least {MIN_SAMPLES_REFINED} samples, got {len(x)}; "
            "use method='pca' for so few."
        )
    if init is not None and np.shape(init) != (len(x), 2):
        raise ProjectionError(f"init must have shape ({len(x)}, 2), got {np.shape(init)}.")
    from . import worker

    if worker.active() and worker.jsonable(params):  # numba / FFT hold the GIL: not here
        def progress(fraction: float, stage: str | None) -> bool:
            return bool(report(fraction)) if report is not None else False

        return worker.embed_in_child(x, method, init, {**params, "pre_dims": pre_dims},
                                     progress)
    if method == "umap":
        return _fit_umap(_pre_reduce(x, pre_dims), init, params)
    reduced = _pre_reduce(x, pre_dims)
    return _fit_tsne(reduced, init, params, report)
