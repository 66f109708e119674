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
``background.submit(key, description, job, on_ready=None, on_progress=None)``
    queues any other slow analysis of a run on the same worker (the Explorer's label-error
    ranking), with the same handle; ``job(handle)`` may ``handle.report(stage, progress)``.
``warm_up(n_samples=None)``
    queues a small UMAP fit (4,096 rows or ``n_samples`` if fewer, 5 epochs) that makes numba
    compile UMAP's code, so the first real refinement does not pay ~50 s of compilation.
    Returns its :class:`Refinement`; calling it again returns the same handle.
``embed(vectors, method, init=None, **params)``
    the bare fit of an (N, D) array, no cache or alignment (benchmarks, independent fits).

Worker process
--------------
UMAP fits (``project_run``, ``embed``, ``warm_up``) and approximate neighbour graphs
(:func:`nbperceive.neighbours.run_graph`) run in one child process per kernel
(:mod:`.worker`): numba compiles their code holding the GIL, which stalled the kernel's main
thread for seconds when they ran on the worker thread. The child reads the run and writes the
same cache files; ``worker.ENABLED = False`` runs everything in the calling process.

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

from .align import aligned_displacement, median_displacement, procrustes_align, to_box
from .background import Layout, Refinement, project_run_async, warm_up
from .fit import METHODS, PRE_DIMS, embed
from .runs import cache_name, cached, is_cached, project_all, project_run

__all__ = [
    "METHODS",
    "PRE_DIMS",
    "Layout",
    "Refinement",
    "aligned_displacement",
    "cache_name",
    "cached",
    "is_cached",
    "embed",
    "median_displacement",
    "procrustes_align",
    "project_all",
    "project_run",
    "project_run_async",
    "to_box",
    "warm_up",
]
