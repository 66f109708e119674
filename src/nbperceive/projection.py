"""2-D layouts of a run's perception vectors: PCA at once, UMAP / t-SNE refined, epochs aligned.

Entry points
------------
``project_run(run, epoch=None, method="pca", layer=None, **params)``
    float32 (N, 2) layout of one epoch (``epoch=None``: the latest; negative: from the end),
    cached in the epoch folder, so reopening a run is instant. ``layer=`` lays out one captured
    layer's block alone (the population at that depth). ``Run.project`` calls this.
``project_all(run, method="pca", layer=None, epochs=None, **params)``
    every epoch in order, with a ``tqdm.auto`` progress bar; ``{epoch: coords}``.
``project_run_async(run, epoch, method, on_ready, layer=None, on_progress=None, **params)``
    returns the best layout available *now* (the PCA layout, or the refined one if cached)
    and computes the refined layout on a background worker thread; ``on_ready(coords)`` is
    called once, from the worker thread, never before this function has returned. The returned
    array is a :class:`Layout` (an ``np.ndarray`` subclass); its ``.refinement`` attribute is
    the :class:`Refinement` handle: ``.status`` (``"queued" | "running" | "done" | "failed" |
    "cancelled"``), ``.stage`` (human-readable, e.g. that the first UMAP fit compiles numba
    code), ``.progress`` (0..1; coarse for UMAP, per 25 iterations for t-SNE), ``.done``,
    ``.result(timeout)`` and ``.cancel()``. ``on_progress(handle)`` is called on every change.
    One worker runs jobs in order (the machine's cores are few); the same request while one is
    queued or running joins it instead of starting another.
``warm_up(n_samples=None)``
    queues a small UMAP fit (4,096 rows or ``n_samples`` if fewer, 5 epochs) that makes numba
    compile UMAP's code, so the first real refinement does not pay ~50 s of compilation.
    Returns its :class:`Refinement`; calling it again returns the same handle.
``embed(vectors, method, init=None, **params)``
    the bare fit of an (N, D) array, no cache or alignment (benchmarks, independent fits).

Coordinates
-----------
Every layout (cached or not) is centred on its bounding box and scaled uniformly (aspect kept)
so that its longer side spans exactly [-1, 1]: a view can keep a fixed camera on
[-1, 1] x [-1, 1].

Refinement and alignment
------------------------
UMAP (umap-learn) and t-SNE (openTSNE) run on a PCA pre-reduction to ``pre_dims=50``
dimensions. Epoch k is aligned on a reference layout: for PCA the PCA layout of the previous
recorded epoch (a chain: laying out epoch k lays out the earlier ones first, cheaply); for UMAP
and t-SNE the previous epoch's refined layout when it is cached (``project_all`` computes
epochs in order, so it is), else epoch k's own aligned PCA layout. The refined fit starts from
the reference (UMAP ``init=``, openTSNE ``initialization=``, without early exaggeration when the
reference is the previous t-SNE layout), and the result is mapped onto the
reference with an orthogonal Procrustes fit (rotation or reflection, uniform scale, shift), so
points move rather than jump when epochs are scrubbed. ``aligned_displacement`` measures it.

Cache files: ``epoch-XXXX/proj-<method>[-<layer>][-<hash of non-default params>].npy``, written
atomically. Parameters: UMAP ``n_neighbors=15, min_dist=0.1, metric="euclidean", n_epochs=None,
random_state=0`` (a seed makes UMAP single-threaded and repeatable; pass ``random_state=None``
for threads) and any other ``umap.UMAP`` keyword; t-SNE ``perplexity=30, n_jobs=1,
random_state=0`` and other ``openTSNE.TSNE`` keywords; all methods ``pre_dims=50``.
``recompute=True`` ignores the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import threading
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ProjectionError, RunError
from .store import Run, Snapshot, epoch_dirname, save_array_atomic

METHODS = ("pca", "umap", "tsne")
PRE_DIMS = 50
MIN_SAMPLES_REFINED = 10
_DEFAULTS: dict[str, dict[str, Any]] = {
    "pca": {"pre_dims": PRE_DIMS},
    "umap": {"pre_dims": PRE_DIMS, "n_neighbors": 15, "min_dist": 0.1, "metric": "euclidean",
             "n_epochs": None, "random_state": 0},
    "tsne": {"pre_dims": PRE_DIMS, "perplexity": 30, "n_jobs": 1, "random_state": 0},
}
_umap_compiled = False  # set once a UMAP fit finished in this process


# ---------------------------------------------------------------- geometry helpers


def to_box(coords: np.ndarray) -> np.ndarray:
    """Centre on the bounding box and scale uniformly so the longer side spans [-1, 1]."""
    coords = np.asarray(coords, dtype=np.float64)
    if len(coords) == 0:
        return coords.astype(np.float32)
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    half = float(np.max(hi - lo)) / 2
    out = coords - (lo + hi) / 2
    if half > 0:
        out /= half
    return out.astype(np.float32)


def procrustes_align(coords: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Rotate/reflect, scale uniformly and shift ``coords`` to best match ``reference``."""
    x = np.asarray(coords, dtype=np.float64)
    y = np.asarray(reference, dtype=np.float64)
    mx, my = x.mean(axis=0), y.mean(axis=0)
    xc, yc = x - mx, y - my
    norm = float((xc**2).sum())
    if norm == 0:
        return np.broadcast_to(my, x.shape).copy()
    u, s, vt = np.linalg.svd(xc.T @ yc)
    rotation = u @ vt
    scale = float(s.sum()) / norm
    return scale * xc @ rotation + my


def _normalised(coords: np.ndarray) -> np.ndarray:
    c = np.asarray(coords, dtype=np.float64)
    c = c - c.mean(axis=0)
    rms = float(np.sqrt((c**2).sum(axis=1).mean()))
    return c / rms if rms > 0 else c


def median_displacement(a: np.ndarray, b: np.ndarray) -> float:
    """Median distance a point travels from layout ``a`` to ``b``, both first centred and scaled
    to unit root-mean-square radius (so layouts of any scale compare)."""
    return float(np.median(np.linalg.norm(_normalised(a) - _normalised(b), axis=1)))


def aligned_displacement(layouts: Iterable[np.ndarray]) -> float:
    """Mean over consecutive pairs of :func:`median_displacement` for a sequence of layouts."""
    seq = list(layouts)
    if len(seq) < 2:
        raise ProjectionError("need at least two layouts to measure how far points move.")
    pairs = zip(seq[:-1], seq[1:], strict=True)
    return float(np.mean([median_displacement(a, b) for a, b in pairs]))


# ---------------------------------------------------------------- fitting


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


def _as_matrix(vectors: np.ndarray) -> np.ndarray:
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2:
        raise ProjectionError(f"vectors must be a 2-D (samples, features) array, got {x.shape}.")
    if not np.isfinite(x).all():
        raise ProjectionError(
            "the vectors contain NaN or infinite values (did training diverge?); "
            "lay out another epoch or layer."
        )
    return x


def _pca(x: np.ndarray, dims: int) -> np.ndarray:
    """PCA to ``dims`` columns (zero-padded when the data has fewer), deterministic signs."""
    from sklearn.decomposition import PCA

    n, d = x.shape
    k = min(dims, n, d)
    out = np.zeros((n, dims), dtype=np.float32)
    if k == 0 or n < 2:
        return out
    solver = "randomized" if k < min(n, d) and min(n, d) > 200 else "full"
    out[:, :k] = PCA(n_components=k, svd_solver=solver, random_state=0).fit_transform(x)
    return out


def _pre_reduce(x: np.ndarray, dims: int) -> np.ndarray:
    if x.shape[1] <= dims:
        return (x - x.mean(axis=0)).astype(np.float32)
    return _pca(x, dims)


def _fit_umap(x: np.ndarray, init: np.ndarray | None, params: dict[str, Any]) -> np.ndarray:
    global _umap_compiled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import umap

        n_neighbors = min(int(params.pop("n_neighbors")), len(x) - 1)
        reducer = umap.UMAP(
            n_components=2,
            n_neighbors=n_neighbors,
            init=np.asarray(init, dtype=np.float32) if init is not None else "spectral",
            **params,
        )
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = TSNE(n_components=2, perplexity=perplexity, initialization=start,
                   **params, **extra).fit(x)
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
    gets progress and may return True to stop (honoured by t-SNE)."""
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
    reduced = _pre_reduce(x, pre_dims)
    if method == "umap":
        return _fit_umap(reduced, init, params)
    return _fit_tsne(reduced, init, params, report)


# ---------------------------------------------------------------- run-level, cached

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
    epochs = run.epochs
    if not epochs:
        raise RunError(f"{run.path} holds no completed epoch yet; nothing to lay out.")
    if epoch is None:
        return epochs[-1]
    epoch = int(epoch)
    if epoch < 0:
        if -epoch > len(epochs):
            raise RunError(f"epoch {epoch} is out of range; recorded epochs are {epochs}.")
        return epochs[epoch]
    run.epoch_path(epoch)  # raises RunError naming the recorded epochs
    return epoch


def _previous(run: Run, epoch: int) -> int | None:
    earlier = [e for e in run.epochs if e < epoch]
    return earlier[-1] if earlier else None


def _vectors(run: Run, epoch: int, layer: str | None) -> np.ndarray:
    path = run.path / epoch_dirname(epoch)
    meta = json.loads((path / "meta.json").read_text())
    snap = Snapshot(epoch=epoch, path=path, table=None, meta=meta)  # type: ignore[arg-type]
    vectors = snap.vectors if layer is None else snap.layer_vectors(layer)
    return np.asarray(vectors, dtype=np.float32)


def _load_cached(path: Path, n: int | None = None) -> np.ndarray | None:
    if not path.is_file():
        return None
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
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


def _pca_chain(run: Run, epoch: int, layer: str | None, recompute: bool) -> np.ndarray:
    """Aligned PCA layout of ``epoch``: earlier epochs first, from the latest cached one."""
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
    for e in reversed(todo):
        coords = _pca(_as_matrix(_vectors(run, e, layer)), 2)
        if reference is not None and len(reference) == len(coords):
            coords = procrustes_align(coords, reference)
        reference = to_box(coords)
        save_array_atomic(run.path / epoch_dirname(e) / name, reference)
    assert reference is not None
    return reference


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

    ``report(fraction)`` receives progress (t-SNE: every 25 iterations) and may return True to
    stop a t-SNE fit early; a stopped fit is not cached."""
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
    coords = embed(vectors, method, init=reference, report=report, **fit_params)
    coords = to_box(procrustes_align(coords, reference))
    save_array_atomic(path, coords)
    return coords


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


# ---------------------------------------------------------------- background refinement


class Refinement:
    """Handle on one background layout job. Attributes are safe to read from any thread."""

    def __init__(self, key: tuple, description: str):
        self.key = key
        self.description = description
        self.status = "queued"
        self.stage = "waiting for the projection worker"
        self.progress = 0.0
        self.error: BaseException | None = None
        self._result: np.ndarray | None = None
        self._finished = threading.Event()
        self._returned = threading.Event()
        self._cancel = False
        self._ready: list[Callable[[np.ndarray], None]] = []
        self._progress: list[Callable[[Refinement], None]] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Refinement {self.description}: {self.status}, {self.progress:.0%}, {self.stage}>"

    @property
    def done(self) -> bool:
        """True once the job finished, failed or was cancelled."""
        return self._finished.is_set()

    def result(self, timeout: float | None = None) -> np.ndarray:
        """The refined layout; waits up to ``timeout`` s. Raises the job's error if it failed,
        ``TimeoutError`` if not done in time, ``ProjectionError`` if cancelled."""
        if not self._finished.wait(timeout):
            raise TimeoutError(f"{self.description} not done after {timeout} s ({self.stage}).")
        if self.error is not None:
            raise self.error
        if self.status == "cancelled":
            raise ProjectionError(f"{self.description} was cancelled.")
        assert self._result is not None
        return self._result

    def cancel(self) -> bool:
        """Drop a queued job, or stop a running t-SNE fit; a running UMAP fit finishes (and is
        cached) but ``on_ready`` is not called. True if the job will not deliver a result."""
        with self._lock:
            if self.done:
                return self.status == "cancelled"
            self._cancel = True
            return True

    def _update(self, stage: str | None = None, progress: float | None = None,
                status: str | None = None) -> None:
        if stage is not None:
            self.stage = stage
        if progress is not None:
            self.progress = float(progress)
        if status is not None:
            self.status = status
        for fn in list(self._progress):
            try:
                fn(self)
            except Exception as exc:  # a broken view callback must not kill the worker
                warnings.warn(f"nbperceive on_progress callback failed: {exc!r}", stacklevel=1)

    def _finish(self, result: np.ndarray | None, error: BaseException | None) -> None:
        with self._lock:
            if error is not None:
                self.error = error
                status, stage = "failed", f"failed: {error}"
            elif self._cancel:
                status, stage = "cancelled", "cancelled"
            else:
                self._result = result
                status, stage = "done", "done"
            self.status = status
        self._returned.wait(timeout=5)
        self._finished.set()
        self._update(stage=stage, progress=1.0 if status == "done" else None)
        if status == "done":
            for fn in list(self._ready):
                try:
                    fn(result)  # type: ignore[arg-type]
                except Exception as exc:
                    warnings.warn(f"nbperceive on_ready callback failed: {exc!r}", stacklevel=1)


class Layout(np.ndarray):
    """An ``np.ndarray`` of coordinates that also carries its :class:`Refinement` handle."""

    refinement: Refinement | None = None

    def __array_finalize__(self, obj: Any) -> None:
        self.refinement = getattr(obj, "refinement", None)


_jobs: queue.Queue = queue.Queue()
_active: dict[tuple, Refinement] = {}
_active_lock = threading.Lock()
_worker: threading.Thread | None = None
_warm: Refinement | None = None


def _ensure_worker() -> None:
    global _worker
    with _active_lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="nbperceive-projection", daemon=True)
            _worker.start()


def _work() -> None:
    while True:
        handle, job = _jobs.get()
        try:
            if handle._cancel:
                handle._finish(None, None)
                continue
            handle._update(status="running", stage="starting")
            try:
                result = job(handle)
            except _Cancelled:
                handle._finish(None, None)
            except Exception as exc:
                handle._finish(None, exc)
            else:
                handle._finish(result, None)
        finally:
            with _active_lock:
                if _active.get(handle.key) is handle:
                    del _active[handle.key]
            _jobs.task_done()


def _submit(key: tuple, description: str, job: Callable[[Refinement], np.ndarray],
            on_ready: Callable[[np.ndarray], None] | None,
            on_progress: Callable[[Refinement], None] | None) -> tuple[Refinement, bool]:
    with _active_lock:
        handle = _active.get(key)
        fresh = handle is None or handle._cancel
        if fresh:
            handle = Refinement(key, description)
            _active[key] = handle
    assert handle is not None
    with handle._lock:
        if on_ready is not None:
            handle._ready.append(on_ready)
        if on_progress is not None:
            handle._progress.append(on_progress)
    if fresh:
        _ensure_worker()
        _jobs.put((handle, job))
    return handle, fresh


def _stage_text(method: str) -> str:
    if method == "umap":
        if _umap_compiled:
            return "fitting UMAP"
        return "fitting UMAP (the first fit in this process compiles numba code: about a minute)"
    return "fitting t-SNE" if method == "tsne" else "computing PCA"


def project_run_async(
    run: Run | str | os.PathLike,
    epoch: int | None,
    method: str,
    on_ready: Callable[[np.ndarray], None] | None = None,
    layer: str | None = None,
    on_progress: Callable[[Refinement], None] | None = None,
    **params: Any,
) -> Layout:
    """The layout to show now (PCA, or the refined layout if cached) with the refinement queued.

    ``on_ready(coords)`` runs on the worker thread once the refined layout of ``method`` is
    ready (also when it was cached). The returned :class:`Layout`'s ``.refinement`` is the
    handle (status, stage, progress, result(), cancel())."""
    _check_method(method)
    run = _open(run)
    epoch = _resolve_epoch(run, epoch)
    _check_params(method, params)
    now = cached(run, epoch, method, layer, **params)
    if now is None:
        now = project_run(run, epoch, "pca", layer)
    key = (str(run.path.resolve()), epoch, method, layer,
           json.dumps(params, sort_keys=True, default=str))
    description = f"{method} layout of epoch {epoch}" + (f", layer {layer!r}" if layer else "")

    def job(handle: Refinement) -> np.ndarray:
        def report(fraction: float) -> bool:
            handle._update(progress=0.1 + 0.85 * fraction)
            return handle._cancel

        handle._update(stage=_stage_text(method), progress=0.05)
        return project_run(run, epoch, method, layer, report=report, **params)

    handle, _ = _submit(key, description, job, on_ready, on_progress)
    out = np.asarray(now).view(Layout)
    out.refinement = handle
    handle._returned.set()
    return out


def warm_up(n_samples: int | None = None) -> Refinement:
    """Queue a small UMAP fit so numba compiles UMAP's code in the background (once per process).

    By default the fit has 4,096 rows and 5 epochs, which takes most of the ~50 s compile cost
    off the first real fit of a larger set (on fewer rows UMAP skips its nearest-neighbour
    descent, which would then compile later). Pass ``n_samples`` when the data to lay out is
    smaller than that: the warm-up then uses as many rows, exercising the same code paths."""
    global _warm
    rows = 4096 if n_samples is None else max(MIN_SAMPLES_REFINED, min(int(n_samples), 4096))
    with _active_lock:
        if _warm is not None and _warm.status != "failed" and _warm.key[1] >= rows:
            return _warm

    def job(handle: Refinement) -> np.ndarray:
        handle._update(stage="compiling UMAP (numba), once per process", progress=0.1)
        rng = np.random.default_rng(0)
        x = rng.normal(size=(rows, 16)).astype(np.float32)
        params = _params("umap", {"n_epochs": 5})
        params.pop("pre_dims")
        return to_box(_fit_umap(x, None, params))

    _warm, _ = _submit(("warm-up", rows), f"UMAP warm-up on {rows} rows", job, None, None)
    _warm._returned.set()
    return _warm
