"""Projection: cached, aligned 2-D layouts of a real run (a small MLP trained on sklearn digits).

UMAP compiles numba code on its first fit in a process (tens of seconds here), so UMAP is fitted
in one module-scoped fixture and one async test, with few optimisation epochs.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
from sklearn.manifold import trustworthiness

from nbperceive import projection as proj
from nbperceive.errors import NbPerceiveError, ProjectionError, RunError
from nbperceive.store import Run, RunWriter

UMAP_FAST = {"n_epochs": 100}
TSNE_FAST = {"early_exaggeration_iter": 100, "n_iter": 150}
LAYOUT = [
    {"name": "hidden1", "start": 0, "stop": 32, "width": 32},
    {"name": "hidden2", "start": 32, "stop": 48, "width": 16},
]


def _record_digits_run(run_dir, n_epochs: int = 3, n: int = 1000) -> Run:
    """End to end: a Dense 64-32-16-10 net trained on digits with the Perceiver callback, which
    records both hidden layers for ``n`` held-out probe samples at every epoch (0 = untrained)."""
    import keras
    from sklearn.datasets import load_digits

    from nbperceive import Perceiver

    digits_x, digits_y = load_digits(return_X_y=True)
    digits_x = (digits_x / 16).astype(np.float32)
    keras.utils.set_random_seed(0)
    inp = keras.Input((64,))
    h1 = keras.layers.Dense(32, activation="relu", name="hidden1")(inp)
    h2 = keras.layers.Dense(16, activation="relu", name="hidden2")(h1)
    out = keras.layers.Dense(10, activation="softmax", name="out")(h2)
    model = keras.Model(inp, out)
    model.compile("adam", "sparse_categorical_crossentropy")
    perceiver = Perceiver(model, probe=(digits_x[:n], digits_y[:n]), run_dir=run_dir,
                          layers=["hidden1", "hidden2"])
    model.fit(digits_x[n:], digits_y[n:], epochs=n_epochs, batch_size=32, verbose=0,
              callbacks=[perceiver.callback()])
    return perceiver.run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return _record_digits_run(tmp_path_factory.mktemp("runs") / "digits")


def _vectors(run: Run, epoch: int, layer: str | None = None) -> np.ndarray:
    snap = run.snapshot(epoch)
    return np.asarray(snap.vectors if layer is None else snap.layer_vectors(layer))


def _residual(a: np.ndarray, b: np.ndarray) -> float:
    """How far ``a`` is from ``b`` after the best similarity transform (0 = same shape)."""
    return float(np.abs(proj.procrustes_align(a, b) - b).max())


def _assert_best_rotation_is_identity(coords: np.ndarray, previous: np.ndarray) -> None:
    """``coords`` is already turned onto ``previous``: the best extra rotation is none."""
    a, b = coords - coords.mean(0), previous - previous.mean(0)
    u, _, vt = np.linalg.svd(a.T @ b)
    np.testing.assert_allclose(u @ vt, np.eye(2), atol=1e-3)


# ------------------------------------------------------------------ PCA


def test_pca_layout_is_float32_in_the_unit_box_and_cached(run):
    coords = run.project()  # latest epoch, PCA
    assert coords.shape == (len(run.samples), 2) and coords.dtype == np.float32
    assert np.abs(coords).max() == pytest.approx(1.0)
    assert coords.min() >= -1 and coords.max() <= 1

    latest = run.path / "epoch-0003"
    cache = latest / "proj-pca.npy"
    assert cache.is_file()
    stamp = cache.stat().st_mtime_ns
    again = Run(run.path).project(3, "pca")  # a reopened run reads the cache
    assert cache.stat().st_mtime_ns == stamp
    np.testing.assert_array_equal(again, coords)

    cache.unlink()  # recomputed deterministically
    np.testing.assert_array_equal(run.project(3, "pca"), coords)


def test_pca_is_the_projection_of_the_vectors(run):
    coords = run.project(2, "pca")
    plain = proj.embed(_vectors(run, 2), "pca")
    assert _residual(plain, coords) < 1e-4


def test_layer_projects_that_layer_alone(run):
    whole = run.project(3, "pca")
    h1 = run.project(3, "pca", layer="hidden1")
    h2 = run.project(3, "pca", layer="hidden2")
    assert (run.path / "epoch-0003" / "proj-pca-hidden1.npy").is_file()
    assert (run.path / "epoch-0003" / "proj-pca-hidden2.npy").is_file()
    # each is the PCA layout of its own block, not of the whole vector or the other block
    assert _residual(proj.embed(_vectors(run, 3, "hidden1"), "pca"), h1) < 1e-4
    assert _residual(proj.embed(_vectors(run, 3, "hidden2"), "pca"), h2) < 1e-4
    assert _residual(whole, h1) > 0.1 and _residual(h2, h1) > 0.1


def test_pca_epochs_are_procrustes_aligned(run, capsys):
    aligned = proj.project_all(run, "pca", layer="hidden2")
    assert sorted(aligned) == run.epochs
    assert "pca hidden2 layouts" in capsys.readouterr().err  # tqdm bar
    for prev, cur in zip(run.epochs[:-1], run.epochs[1:], strict=True):
        _assert_best_rotation_is_identity(aligned[cur], aligned[prev])
    independent = [proj.to_box(proj.embed(_vectors(run, e, "hidden2"), "pca")) for e in run.epochs]
    assert proj.aligned_displacement(aligned.values()) <= proj.aligned_displacement(independent)


def test_one_epoch_laid_out_from_cold_equals_the_epoch_by_epoch_chain(run, tmp_path,
                                                                      monkeypatch):
    """The explorer's first view lays out the shown epoch alone (earlier epochs at the
    fitting rows only): the points sit exactly where laying out every epoch in turn puts
    them, and only that epoch's layout is written."""
    import shutil

    from nbperceive.projection import align

    monkeypatch.setattr(align, "FIT_ROWS", 300)  # fitted on a sample, as above 50,000 rows
    copy = tmp_path / "run"
    shutil.copytree(run.path, copy, ignore=shutil.ignore_patterns("proj-*", "knn-*"))
    stepwise = [Run(copy).project(e, "pca", layer="hidden1") for e in run.epochs]
    for f in copy.glob("epoch-*/proj-*.npy"):
        f.unlink()
    cold = Run(copy).project(run.epochs[-1], "pca", layer="hidden1")
    assert sorted(p.parent.name for p in copy.glob("epoch-*/proj-*.npy")) == ["epoch-0003"]
    np.testing.assert_allclose(cold, stepwise[-1], atol=1e-5)
    # and the layout was aligned: independent PCA of that epoch sits elsewhere
    alone = proj.to_box(proj.embed(_vectors(run, 3, "hidden1"), "pca"))
    assert np.abs(alone - cold).max() > 1e-2


def test_each_capture_saves_the_pca_layout_the_run_would_make(tmp_path, monkeypatch):
    """A snapshot is written with its PCA layout, made from the vectors in memory (a run opened
    later shows its first view without reading them): the same points (to float32
    rounding: BLAS sums in another order over a memory map) that laying the epochs out
    from their vectors gives (aligned on the epoch before, fitted on a sample of rows as
    above 50,000)."""
    import shutil

    from nbperceive.projection import align

    monkeypatch.setattr(align, "FIT_ROWS", 300)
    run = _record_digits_run(tmp_path / "digits", n_epochs=2, n=600)
    saved = {e: np.load(run.epoch_path(e) / "proj-pca.npy", allow_pickle=False)
             for e in run.epochs}
    assert sorted(saved) == [0, 1, 2]
    copy = tmp_path / "copy"
    shutil.copytree(run.path, copy, ignore=shutil.ignore_patterns("proj-*", "knn-*"))
    for e in run.epochs:
        np.testing.assert_allclose(Run(copy).project(e, "pca"), saved[e], atol=1e-5)
    # an epoch whose predecessor has no layout to align on is laid out when asked for
    (run.epoch_path(2) / "proj-pca.npy").unlink()
    (run.epoch_path(1) / "proj-pca.npy").unlink()
    np.testing.assert_allclose(Run(run.path).project(2, "pca"), saved[2], atol=1e-5)


# ------------------------------------------------------------------ UMAP / t-SNE


@pytest.fixture(scope="module")
def umap_layouts(run):
    aligned = proj.project_all(run, "umap", progress=False, **UMAP_FAST)
    independent = [
        proj.to_box(proj.embed(_vectors(run, e), "umap", **UMAP_FAST)) for e in run.epochs
    ]
    return aligned, independent


def test_umap_epochs_move_instead_of_jumping(run, umap_layouts):
    aligned, independent = umap_layouts
    for coords in aligned.values():
        assert coords.shape == (len(run.samples), 2) and coords.dtype == np.float32
        assert np.abs(coords).max() == pytest.approx(1.0)
    moved = proj.aligned_displacement(aligned.values())
    jumped = proj.aligned_displacement(independent)
    print(f"UMAP median displacement aligned {moved:.3f} vs independent {jumped:.3f}")
    assert moved < 0.6 * jumped
    for prev, cur in zip(run.epochs[:-1], run.epochs[1:], strict=True):
        _assert_best_rotation_is_identity(aligned[cur], aligned[prev])


def test_umap_layout_is_cached_and_keeps_neighbours(run, umap_layouts):
    aligned, _ = umap_layouts
    cache = run.path / "epoch-0003" / proj.cache_name("umap", **UMAP_FAST)
    stamp = cache.stat().st_mtime_ns
    np.testing.assert_array_equal(run.project(3, "umap", **UMAP_FAST), aligned[3])
    assert cache.stat().st_mtime_ns == stamp
    x = _vectors(run, 3)
    t_umap = trustworthiness(x, aligned[3], n_neighbors=10)
    t_pca = trustworthiness(x, run.project(3, "pca"), n_neighbors=10)
    assert t_umap > t_pca + 0.05


def test_umap_shares_the_runs_neighbour_graph(run, umap_layouts, tmp_path, monkeypatch):
    # UMAP gets its k-nearest-neighbour graph from the run's cache (nbperceive.neighbours),
    # the same graph suspects read, instead of searching again.
    import shutil
    import warnings

    from nbperceive import neighbours
    from nbperceive.projection import worker

    # in this process, so umap-learn's warnings about a precomputed graph reach the check
    monkeypatch.setattr(worker, "ENABLED", False)

    # a copy: the layouts this test caches must not look "already computed" to other tests
    run = Run(shutil.copytree(run.path, tmp_path / "copy"))
    for epoch in run.epochs:  # project_all built and cached one graph per epoch
        graph = neighbours.run_graph(run, epoch, None, k=15)
        assert (run.epoch_path(epoch) / "knn-all-d50-exact.indices.npy").is_file()
        assert graph.indices.shape == (len(run.samples), 16)
    # a graph built for suspects (layer hidden2) is reused by a UMAP of that layer
    ranked = run.suspects(layer="hidden2")
    epoch = ranked.attrs["epoch"]
    path = run.epoch_path(epoch) / "knn-hidden2-d50-exact.indices.npy"
    stamp = path.stat().st_mtime_ns
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        coords = run.project(epoch, "umap", layer="hidden2", **UMAP_FAST)
    assert path.stat().st_mtime_ns == stamp
    assert not [w for w in caught if "precomputed_knn" in str(w.message)]
    x = _vectors(run, epoch, "hidden2")
    assert trustworthiness(x, coords, n_neighbors=10) > \
        trustworthiness(x, run.project(epoch, "pca", layer="hidden2"), n_neighbors=10)


def _knn_kept(x: np.ndarray, coords: np.ndarray, k: int = 15) -> float:
    """Mean share of each sample's k nearest neighbours in ``x`` that stay so in ``coords``."""
    from sklearn.neighbors import NearestNeighbors

    def knn(a):
        return NearestNeighbors(n_neighbors=k + 1).fit(a).kneighbors(a, return_distance=False)
    a, b = knn(x)[:, 1:], knn(coords)[:, 1:]
    return float(np.mean([len(set(i) & set(j)) / k for i, j in zip(a, b, strict=True)]))


def test_umap_of_more_samples_than_landmarks_fits_a_sample_and_places_the_rest(
        run, umap_layouts, tmp_path):
    # Above `landmarks` samples UMAP fits a sample; the rest sit among their graph neighbours.
    # On these 1,000 samples a 250-landmark layout keeps most of the full UMAP's neighbourhoods
    # (measured 0.41 vs 0.55 full and 0.20 PCA on 1,797 digits with 400 landmarks) and far more
    # than PCA's; the landmarks themselves keep their fitted positions.
    import shutil

    from nbperceive.projection import landmarks

    run = Run(shutil.copytree(run.path, tmp_path / "copy"))
    aligned, _ = umap_layouts
    coords = run.project(3, "umap", landmarks=250, **UMAP_FAST)
    assert coords.shape == (len(run.samples), 2) and np.isfinite(coords).all()
    assert (run.epoch_path(3) / proj.cache_name("umap", landmarks=250, **UMAP_FAST)).is_file()
    x = _vectors(run, 3)
    kept, full, pca = (_knn_kept(x, c) for c in (coords, aligned[3], run.project(3, "pca")))
    print(f"kNN kept: 250 landmarks {kept:.3f}, full UMAP {full:.3f}, PCA {pca:.3f}")
    assert kept > 0.6 * full and kept > pca + 0.05
    chosen = landmarks.choose(len(x), 250, 0)
    rest = np.setdiff1d(np.arange(len(x)), chosen)
    # a placed sample lies closer to its own graph neighbours than to random samples
    from nbperceive import neighbours

    graph = neighbours.run_graph(run, 3, None, k=15)
    near = np.linalg.norm(coords[rest, None] - coords[graph.indices[rest, 1:]], axis=2).mean()
    far = np.linalg.norm(coords[rest, None] - coords[np.random.default_rng(0).integers(
        0, len(x), (len(rest), 15))], axis=2).mean()
    assert near < 0.5 * far


def test_landmark_placement_reaches_samples_the_graph_cannot():
    # two components, landmarks only in the first: the second is placed by the PCA fallback
    from nbperceive.projection import landmarks

    idx = np.array([[1, 2], [0, 2], [0, 1], [4, 5], [3, 5], [3, 4]])
    dist = np.ones((6, 2), np.float32)
    fallback = np.arange(12, dtype=np.float64).reshape(6, 2)
    out = landmarks.place(idx, dist, np.array([0, 1]), np.array([[0.0, 0.0], [2.0, 2.0]]),
                          fallback)
    np.testing.assert_allclose(out[2], [1.0, 1.0])  # mean of its two placed neighbours
    assert np.isfinite(out).all() and len(np.unique(out[3:], axis=0)) == 3


def test_tsne_layout_aligned_cached_and_keeps_neighbours(run):
    coords = proj.project_all(run, "tsne", epochs=[2, 3], progress=False, **TSNE_FAST)
    assert set(coords) == {2, 3}
    assert coords[3].shape == (len(run.samples), 2) and coords[3].dtype == np.float32
    assert (run.path / "epoch-0003" / proj.cache_name("tsne", **TSNE_FAST)).is_file()
    x = _vectors(run, 3)
    assert trustworthiness(x, coords[3], n_neighbors=10) > trustworthiness(
        x, run.project(3, "pca"), n_neighbors=10
    ) + 0.05
    independent = [proj.embed(_vectors(run, e), "tsne", **TSNE_FAST) for e in (2, 3)]
    moved = proj.median_displacement(coords[2], coords[3])
    jumped = proj.median_displacement(*independent)
    print(f"t-SNE median displacement aligned {moved:.3f} vs independent {jumped:.3f}")
    assert moved < jumped
    _assert_best_rotation_is_identity(coords[3], coords[2])


def test_async_returns_pca_now_and_delivers_umap_later(run, umap_layouts):
    ready: list[np.ndarray] = []
    got = threading.Event()
    statuses: list[str] = []

    def on_ready(coords):
        ready.append(coords)
        got.set()

    layer = "hidden2"  # not computed yet for UMAP
    now = proj.project_run_async(run, 3, "umap", on_ready, layer=layer,
                                 on_progress=lambda h: statuses.append(h.status), **UMAP_FAST)
    handle = now.refinement
    np.testing.assert_array_equal(now, run.project(3, "pca", layer=layer))
    # a second job queued behind it can be cancelled and never reports
    other_ready: list[np.ndarray] = []
    other = proj.project_run_async(run, 1, "tsne", other_ready.append, **TSNE_FAST).refinement
    assert other.cancel()

    assert got.wait(120), handle
    assert handle.done and handle.status == "done" and handle.progress == 1.0
    refined = handle.result()
    np.testing.assert_array_equal(ready[0], refined)
    assert refined.shape == now.shape and refined.dtype == np.float32
    assert _residual(refined, np.asarray(now)) > 0.05  # a different layout than PCA
    np.testing.assert_array_equal(run.project(3, "umap", layer=layer, **UMAP_FAST), refined)
    assert "running" in statuses and statuses[-1] == "done"

    with pytest.raises(ProjectionError, match="cancelled"):
        other.result(timeout=30)
    assert other.status == "cancelled" and not other_ready
    assert not (run.path / "epoch-0001" / proj.cache_name("tsne", **TSNE_FAST)).is_file()

    # once cached, the refined layout is what comes back at once, and on_ready still fires
    again: list[np.ndarray] = []
    now2 = proj.project_run_async(run, 3, "umap", again.append, layer=layer, **UMAP_FAST)
    np.testing.assert_array_equal(now2, refined)
    now2.refinement.result(timeout=30)
    np.testing.assert_array_equal(again[0], refined)


def test_warm_up_runs_in_the_background_once(run, umap_layouts):
    # sized like the probe set (below 4,096 rows UMAP takes the same exact-neighbour path)
    handle = proj.warm_up(n_samples=len(run.samples))
    assert proj.warm_up(n_samples=len(run.samples)) is handle  # once per process
    coords = handle.result(timeout=300)
    assert handle.status == "done" and coords.shape == (len(run.samples), 2)


# ------------------------------------------------------------------ worker process

_PROBE = """
import json, shutil, subprocess, sys
from nbperceive.stall import StallProbe
probe = StallProbe()
probe.start()
from nbperceive import projection as proj
from nbperceive.store import Run
run = Run(shutil.copytree(sys.argv[1], sys.argv[2]))
# the same ticker in a process that does nothing else: the machine's own scheduling gaps
control = subprocess.Popen([sys.executable, "-m", "nbperceive.stall"], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True)
method = sys.argv[3]
params = {"n_epochs": 100} if method == "umap" else {"n_iter": 250}
layout = proj.project_run_async(run, 3, method, layer="hidden1", **params)
coords = layout.refinement.result(600)
print(json.dumps({"stall": probe.stop(), "control": float(control.communicate("")[0]),
                  "numba": "numba" in sys.modules or "openTSNE" in sys.modules,
                  "shape": list(coords.shape), "stage": layout.refinement.stage}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("method", ["umap", "tsne"])
def test_a_refined_fit_leaves_the_kernel_responsive(run, tmp_path, method):
    # issue 12: numba compiles UMAP's code holding the GIL (stalls of seconds on the kernel's
    # main thread, with the fit on a background thread). A fresh interpreter stands in for a
    # new kernel: while its first UMAP fit runs, a ticking thread is held up no longer than
    # 200 ms beyond what an idle control process ticking meanwhile suffers from the machine's
    # scheduler (2 shared cores: 0.7-1.6 s under load 12; numba on a thread: 8.6 s), and numba
    # is never imported there (the fit ran in the worker process). t-SNE likewise: openTSNE
    # (numba, FFT gradient holding the GIL) is never imported in the kernel.
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _PROBE, str(run.path), str(tmp_path / "copy"),
                          method],
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["shape"] == [len(run.samples), 2] and got["stage"] == "done"
    assert not got["numba"]
    assert got["stall"] < 0.2 + 2 * got["control"], got


def test_the_worker_process_raises_our_errors_and_caches_in_the_run(run, umap_layouts,
                                                                   tmp_path):
    import shutil

    from nbperceive import neighbours
    from nbperceive.projection import worker

    assert worker.active()  # on by default; the module fixture's UMAP fits ran there
    with pytest.raises(RunError, match="not an nbperceive run"):
        worker.call("graph", run=str(tmp_path), epoch=0, layer=None, k=5, pre_dims=None,
                    method="approx", recompute=False)
    # an approximate graph is searched there and cached in the run for every reader
    run = Run(shutil.copytree(run.path, tmp_path / "copy"))
    graph = neighbours.run_graph(run, 3, "hidden2", k=10, method="approx")
    assert graph.method == "approx" and graph.indices.shape == (len(run.samples), 11)
    assert (run.epoch_path(3) / "knn-hidden2-d50-approx.indices.npy").is_file()
    exact = neighbours.run_graph(run, 3, "hidden2", k=10, method="exact").neighbours()
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(
        graph.neighbours().tolist(), exact.tolist(), strict=True)])
    assert recall > 0.9  # the NN-descent graph of these vectors, not a placeholder


# ------------------------------------------------------------------ bad input


def test_bad_input_raises_errors_that_say_what_to_do(run, tmp_path):
    with pytest.raises(ProjectionError, match="pca, umap, tsne"):
        run.project(method="tnse")
    with pytest.raises(ProjectionError, match="pca, umap, tsne"):
        proj.project_run_async(run, None, "UMAP", print)
    with pytest.raises(RunError, match="hidden1"):
        run.project(layer="conv9")
    with pytest.raises(RunError, match=r"recorded epochs are \[0, 1, 2, 3\]"):
        run.project(epoch=7)
    with pytest.raises(ProjectionError, match="umap"):
        run.project(method="pca", n_neighbors=5)
    with pytest.raises(ProjectionError, match="perplexty"):
        run.project(method="tsne", perplexty=5)
    with pytest.raises(RunError, match="not an nbperceive run"):
        proj.project_run(tmp_path, method="pca")
    with pytest.raises(ProjectionError, match="at least 10 samples"):
        proj.embed(_vectors(run, 0)[:5], "umap")
    assert issubclass(ProjectionError, NbPerceiveError) and issubclass(ProjectionError, ValueError)


def test_nan_vectors_are_reported(tmp_path, run):
    x = _vectors(run, 1).copy()
    x[5, 3] = np.nan
    writer = RunWriter(tmp_path / "bad", {"model": "m", "n_samples": len(x)},
                       pd.DataFrame({"sample_id": np.arange(len(x))}), [])
    w = writer.begin_epoch(0, *x.shape)
    w.vectors[:] = x
    w.commit(pd.DataFrame({"sample_id": np.arange(len(x)), "loss": 0.0, "correct": True}),
             {"epoch": 0, "layout": LAYOUT})
    with pytest.raises(ProjectionError, match="NaN"):
        Run(tmp_path / "bad").project(0, "pca")
