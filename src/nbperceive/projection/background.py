"""Background refinement: one worker thread, handles with status/progress, UMAP warm-up."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ProjectionError
from ..store import Run
from . import fit
from .align import to_box
from .fit import MIN_SAMPLES_REFINED, _Cancelled, _check_method
from .runs import _check_params, _open, _resolve_epoch, cached, project_run


class Refinement:
    """Handle on one background job (a layout, the label-error ranking). Attributes are safe
    to read from any thread."""

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
        self._closed = False
        self._ready: list[Callable[[np.ndarray], None]] = []
        self._progress: list[Callable[[Refinement], None]] = []
        self._lock = threading.Lock()
        self._cell = threading.Event()  # the notebook cell that queued it has ended
        self._cell.set()
        self._queued_at = time.monotonic()

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

    def report(self, stage: str, progress: float | None = None) -> None:
        """What a running job is doing now (shown by the views that watch it)."""
        self._update(stage=stage, progress=progress)

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
        with self._lock:  # after this, no callback can join (see _submit)
            self._closed = True
            if error is not None:
                self.error = error
                status, stage = "failed", f"failed: {error}"
            elif self._cancel:
                status, stage = "cancelled", "cancelled"
            else:
                self._result = result
                status, stage = "done", "done"
            self.status = status
            ready = list(self._ready)
        self._returned.wait(timeout=5)
        self._finished.set()
        self._update(stage=stage, progress=1.0 if status == "done" else None)
        if status == "done":
            for fn in ready:
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

# A view just displayed waits for its page's first frame before the worker starts a job:
# the kernel answers the page's request for the widgets' state, and the browser decodes and
# draws, on the same two cores a neighbour search would take (plain Voila, 1M points). A job
# queued by a notebook cell first waits for that cell to end (its result is displayed then).
PAGE_WAIT = 5.0  # s after a display, or after a job was queued, at most (a headless run)
_pages: dict[str, float] = {}  # a displayed view's model id -> when the worker stops waiting
_pages_changed = threading.Condition()


def await_page(key: str, seconds: float | None = None) -> None:
    """A view ``key`` was displayed: jobs wait for :func:`page_painted` (``seconds`` at most,
    by default PAGE_WAIT)."""
    with _pages_changed:
        _pages[key] = time.monotonic() + (PAGE_WAIT if seconds is None else seconds)


def page_painted(key: str) -> None:
    """The page has drawn view ``key``: the worker may go on."""
    with _pages_changed:
        if _pages.pop(key, None) is not None:
            _pages_changed.notify_all()


def pages_awaited() -> int:
    """How many displayed views the worker waits for now."""
    with _pages_changed:
        now = time.monotonic()
        return sum(1 for until in _pages.values() if until > now)


def wait_for_pages() -> None:
    """Block until every displayed view's page has drawn it (or its wait ran out)."""
    with _pages_changed:
        while _pages:
            now = time.monotonic()
            for key in [k for k, until in _pages.items() if until <= now]:
                del _pages[key]
            if _pages:
                _pages_changed.wait(max(_pages.values()) - now)


def _running_cell(shell: Any) -> bool:
    """Whether the kernel is running a cell now (not a widget's message from the page)."""
    kernel = getattr(shell, "kernel", None)
    if kernel is None or not hasattr(kernel, "get_parent"):
        return True  # a shell without a kernel runs code in cells only
    try:
        parent = kernel.get_parent("shell") or {}
    except Exception:  # noqa: BLE001 - another kernel's API: assume a cell
        return True
    return parent.get("header", {}).get("msg_type") == "execute_request"


def cell_finished() -> threading.Event:
    """An event set when the notebook cell running now has ended (IPython's post_execute);
    set at once outside a cell (a script, another thread, a message from the page)."""
    done = threading.Event()
    shell = None
    if threading.current_thread() is threading.main_thread():
        try:
            from IPython import get_ipython

            shell = get_ipython()
        except ImportError:
            shell = None
    if shell is None or not hasattr(shell, "events") or not _running_cell(shell):
        done.set()
        return done

    def ended(*_: Any) -> None:
        done.set()
        with contextlib.suppress(ValueError):
            shell.events.unregister("post_execute", ended)

    shell.events.register("post_execute", ended)
    return done


def _page_first(handle: Refinement) -> None:
    """Before a job: the notebook cell that queued it ends (PAGE_WAIT after it was queued at
    most), then every displayed view is drawn; its stage says what it waits for."""
    left = handle._queued_at + PAGE_WAIT - time.monotonic()
    if left > 0 and not handle._cell.is_set():
        handle._update(stage="waiting for the notebook cell that queued it to end")
        handle._cell.wait(left)
    if pages_awaited():
        handle._update(stage="waiting for the page to draw the points first")
    wait_for_pages()


def _ensure_worker() -> None:
    global _worker
    with _active_lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="nbperceive-projection", daemon=True)
            _worker.start()


def _work() -> None:
    # below the kernel's main thread, as the worker process: on a busy machine the page and
    # the kernel answering its clicks come first (click -> details in JupyterLab while the
    # ranking runs, 10k samples: 118-120 -> 73-102 ms, benchmarks/scale.py --stages lab)
    from .worker import lower_priority  # not at import: `python -m ...worker` runs it as main

    lower_priority()
    while True:
        handle, job = _jobs.get()
        try:
            _page_first(handle)
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
            on_progress: Callable[[Refinement], None] | None) -> Refinement:
    """Queue ``job``, or join the same request while it is still queued or running."""

    def attach(handle: Refinement) -> None:
        if on_ready is not None:
            handle._ready.append(on_ready)
        if on_progress is not None:
            handle._progress.append(on_progress)

    with _active_lock:
        handle = _active.get(key)
        if handle is not None:
            with handle._lock:
                if not handle._cancel and not handle._closed:
                    attach(handle)
                    return handle
        handle = Refinement(key, description)
        handle._cell = cell_finished()
        attach(handle)
        _active[key] = handle
    _ensure_worker()
    _jobs.put((handle, job))
    return handle


def submit(key: tuple, description: str, job: Callable[[Refinement], Any],
           on_ready: Callable[[Any], None] | None = None,
           on_progress: Callable[[Refinement], None] | None = None) -> Refinement:
    """Queue any slow analysis of a run (e.g. the label-error ranking) on the same worker as
    the layouts, so analyses and refinements share the machine's few cores in turn.

    ``job(handle)`` returns the result (``handle._update(stage=..., progress=...)`` reports);
    ``on_ready(result)`` and ``on_progress(handle)`` run on the worker thread. The same
    ``key`` while queued or running joins that job."""
    handle = _submit(key, description, job, on_ready, on_progress)
    handle._returned.set()
    return handle


def _stage_text(method: str) -> str:
    if method == "umap":
        from . import worker

        if fit.cuml_umap() is not None:
            return "fitting UMAP on the GPU (RAPIDS cuML)"

        where = " in the worker process" if worker.active() else ""
        if worker.warmed if worker.active() else fit._umap_compiled:
            return f"fitting UMAP{where}"
        return (f"fitting UMAP{where} (its first fit compiles numba code: about a minute)")
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
        def report(fraction: float, stage: str | None = None) -> bool:
            handle._update(stage=stage, progress=0.1 + 0.85 * fraction)
            return handle._cancel

        handle._update(stage=_stage_text(method), progress=0.05)
        return project_run(run, epoch, method, layer, report=report, **params)

    handle = _submit(key, description, job, on_ready, on_progress)
    out = np.asarray(now).view(Layout)
    out.refinement = handle
    handle._returned.set()
    return out


def warm_up(n_samples: int | None = None) -> Refinement:
    """Queue a small UMAP fit so numba compiles UMAP's code in the background (once per process;
    in the worker process of :mod:`.worker`, where the fits run, when that is on).

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
        from . import worker

        where = " in the worker process" if worker.active() else " (once per process)"
        handle._update(stage=f"compiling UMAP (numba){where}", progress=0.1)
        x = np.random.default_rng(0).normal(size=(rows, 16)).astype(np.float32)
        return to_box(fit.embed(x, "umap", n_epochs=5))  # 16 columns: no pre-reduction

    _warm = _submit(("warm-up", rows), f"UMAP warm-up on {rows} rows", job, None, None)
    _warm._returned.set()
    return _warm
