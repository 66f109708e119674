"""Suspects and the neighbour graph at 10k, 70k and 1M probe samples: wall time and growth.

Data: Fashion-MNIST (Debian's 70,000 images) with 3 % of the labels flipped at random; a small
MLP trains one epoch on the first 60,000 noisy labels while callbacks record probes of 10,000
and 70,000 real images and, for 1,000,000, the 70,000 real images repeated with random shifts
of up to 2 pixels (real images, augmented; labels and flips follow the source image). Every
probe is captured at epoch 0 and 1.

Stages per size: ``graph`` (the approximate neighbour graph of the chosen layer, pynndescent,
cached in the run), ``suspects cold`` (first call: graph built), ``suspects warm`` (graph from
the cache), ``cleanlab`` (``find_label_issues`` on the same probabilities), and, up to 70k,
precision@k with the approximate graph against exact search (brute force). The numba
compilation of pynndescent (first NN-descent in a process) is timed apart, on 5,000 rows.

Stage ``umap`` (``--stages umap``): the UMAP layout of the last epoch as the explorer refines
it: up to ``landmarks`` (20,000) samples fitted whole, above that a landmark sample fitted and
the rest placed on the shared graph (nbperceive.projection.landmarks); up to ``--exact-max``
also the whole-set UMAP of the same vectors, and the share of 15 nearest neighbours each
layout keeps (on 5,000 random samples).

Stage ``stall`` (``--stages stall``): the kernel's responsiveness while the explorer's slow
work runs, in a fresh process per size and mode (numba compiles there, as in a new kernel):
``Explorer(run_dir)`` returns (cold caches), then the UMAP layout is asked for
(``project_run_async``) and both background jobs (label-error ranking, UMAP) run to the end
while a probe thread ticks every 5 ms, standing in for the idle kernel's main thread: the
longest gap between its ticks is how long the GIL was held from it (numba's compiler holds
it). Modes: ``worker`` (numba work in the worker process, nbperceive.projection.worker, the
default) and ``in-process`` (``worker.ENABLED = False``: on the background thread, as before).

Stage ``graph`` (``--stages graph``, no training: generated vectors of
``nbp.datasets.synthetic_run``, 138-D as the 1M figures of issue 12): the approximate neighbour
graph on the PCA-50 vectors with NN-descent's ``umap`` settings (umap-learn's own, the
baseline) and ``scaled`` (nbperceive.neighbours.SETTINGS, the default), both in this process
(numba threads: one per core, 2 here), each with wall and CPU seconds, recall@15 against exact
search on 2,000 random rows, the ratio of the two and growth exponents; ``--baseline-max``
caps the sizes the baseline runs at (447 s at 1M here, load ~5; the default 171 s).

Stage ``page`` (``--stages page``): what a user of each recorded run waits for and receives: the
PCA first view as recorded (the capture saved the layout; not with ``--reuse``) and cold,
``Explorer(run_dir)`` returning (cold caches, in this process), ``Explorer(run, model=, x=)``
with the run's model and probe images returning and its inspector's first maps made (on a
thread), the explorer's widget state in bytes per point, ``save_html`` and the report's bytes
per point; then, in headless Debian Chromium (software GL), the live explorer served by real
Voila (navigation to the first drawn frame, hover -> card, click -> details from the first click
on, as a user who clicks at once, and the frame floor: a resize's redraw of every point) and the
saved report opened offline (the same four); and the explorer served as a deployed report is
(``voila --preheat_kernel``: the notebook, its suspects and layout done before the visit;
painted, pointable, click). With ``--jscatter PYTHON`` (a separate venv with jupyter-scatter
and voila) also jupyter-scatter's bytes and first paint in Voila on the same points (the
explorer's layout, coloured and sized by loss), beside a bare PopulationView's
(benchmarks/scatter.py), each served plain and preheated, from 50,000 points (its paint hook
counts dark pixels; fewer points never reach its count).
After all stages: one table of every stage at every size and each stage's growth exponent.

Run: ``nice -n 10 python benchmarks/scale.py [--sizes 10000 70000 1000000] [--dir DIR]
[--stages suspects umap stall]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


def record(root: Path, sizes: list[int]) -> dict[int, tuple[Path, np.ndarray]]:
    """One training, one run per probe size; returns {N: (run dir, flipped positions)}."""
    import keras

    import nbperceive as nbp

    data = nbp.datasets.fashion_mnist(source="offline")
    x, y = data.x, data.y  # uint8 (70000, 28, 28)
    noisy, flipped = nbp.datasets.flip_labels(y, 0.03, 10, seed=0)
    is_flipped = np.zeros(len(y), bool)
    is_flipped[flipped] = True
    keras.utils.set_random_seed(0)
    model = fashion_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    out, callbacks = {}, []
    for n in sizes:
        src, px = probe_pixels(x, n)
        run_dir = root / f"fashion-{n}"
        shutil.rmtree(run_dir, ignore_errors=True)
        p = nbp.Perceiver(model, probe=(px, noisy[src]), run_dir=run_dir,
                          class_names=data.class_names, max_width=64, batch_size=1024)
        callbacks.append(p.callback())
        out[n] = (run_dir, np.flatnonzero(is_flipped[src]))
    t0 = time.perf_counter()
    model.fit(x[:60_000], noisy[:60_000], epochs=1, batch_size=128, verbose=0,
              callbacks=callbacks)
    print(f"trained and captured {sizes} in {time.perf_counter() - t0:.0f} s", flush=True)
    return out


def fashion_model():
    """The benchmark's classifier: uint8 images, rescaled inside, two Dense layers."""
    import keras

    return keras.Sequential([
        keras.Input((28, 28), dtype="uint8"), keras.layers.Rescaling(1 / 255.0),
        keras.layers.Flatten(), keras.layers.Dense(128, activation="relu", name="hidden1"),
        keras.layers.Dense(64, activation="relu", name="hidden2"),
        keras.layers.Dense(10, activation="softmax", name="out"),
    ])


def probe_pixels(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The probe of size ``n``: (source rows, uint8 images). Past the 70k real images, they
    repeat with random shifts of up to 2 px (seeded: the same for every call)."""
    if n <= len(x):
        return np.arange(n), x[:n]
    rng = np.random.default_rng(0)
    src = np.concatenate([np.arange(len(x))] * (n // len(x) + 1))[:n]
    px = np.empty((n, 28, 28), np.uint8)
    for start in range(0, n, len(x)):
        part = src[start:start + len(x)]
        dx, dy = rng.integers(-2, 3, 2) if start >= len(x) else (0, 0)
        px[start:start + len(part)] = np.roll(x[part], (int(dx), int(dy)), axis=(1, 2))
    return src, px


def precision(ranked, flipped: np.ndarray) -> float:
    k = len(flipped)
    return float(np.isin(ranked["sample_id"].to_numpy()[:k], flipped).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 70_000, 1_000_000])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/nbp-scale"))
    parser.add_argument("--exact-max", type=int, default=70_000,
                        help="largest size also ranked with exact neighbour search")
    parser.add_argument("--stages", nargs="+",
                        default=["suspects", "umap", "stall", "page", "lab"],
                        choices=["suspects", "umap", "stall", "graph", "page", "lab"])
    parser.add_argument("--jscatter", metavar="PYTHON",
                        help="interpreter of a venv with jupyter-scatter and voila (stage page)")
    parser.add_argument("--repeat", type=int, default=3, help="hovers and clicks per page")
    parser.add_argument("--baseline-max", type=int, default=1_000_000,
                        help="largest size of stage graph's baseline (umap settings)")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the runs recorded in --dir (fashion-N) instead of training")
    parser.add_argument("--child-stall", nargs=2, metavar=("RUN_DIR", "MODE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_stall:
        child_stall(Path(args.child_stall[0]), args.child_stall[1])
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.stages == ["graph"]:
        graph_table(args.sizes, args.baseline_max)
        return
    if "suspects" in args.stages:
        compile_times()

    if args.reuse:
        runs = {n: (args.dir / f"fashion-{n}", np.zeros(0, int)) for n in args.sizes}
    else:
        runs = record(args.dir, args.sizes)
    tables = {"capture": capture_table(runs)}
    if "stall" in args.stages:
        tables["stall"] = stall_table(runs)
    if "suspects" in args.stages:
        tables["suspects"] = suspects_table(runs, args.exact_max)
    if "umap" in args.stages:
        tables["umap"] = umap_table(runs, args.exact_max)
    if "page" in args.stages:
        tables["page"] = page_table(runs, args.dir, args.repeat, args.jscatter)
    if "lab" in args.stages:
        tables["lab"] = lab_table(runs, args.repeat)
    summary(tables)


def compile_times() -> None:
    from nbperceive import neighbours

    t0 = time.perf_counter()
    neighbours.knn_graph(np.random.default_rng(0).normal(size=(5000, 20)), 15, method="approx")
    compile_s = time.perf_counter() - t0
    print(f"pynndescent first call in this process (numba compile + 5,000 rows): "
          f"{compile_s:.1f} s", flush=True)
    t0 = time.perf_counter()
    neighbours.knn_graph(np.random.default_rng(1).normal(size=(5000, 20)), 15, method="approx")
    print(f"pynndescent second call, 5,000 rows: {time.perf_counter() - t0:.1f} s", flush=True)
    # a run's graph is searched in the worker process, which compiles numba code of its own
    # on its first search (27 s here): paid before the timed stages, like the above
    import nbperceive as nbp

    with tempfile.TemporaryDirectory() as tmp:
        run = nbp.datasets.synthetic_run(Path(tmp) / "warm", 5000, epochs=1, dim=20)
        t0 = time.perf_counter()
        neighbours.run_graph(run, run.epochs[-1], method="approx")
        print(f"worker process's first graph (numba compile + 5,000 rows): "
              f"{time.perf_counter() - t0:.1f} s", flush=True)


def exact_rows(x: np.ndarray, rows: np.ndarray, k: int = 15) -> np.ndarray:
    """int (len(rows), k) exact nearest neighbours of ``rows`` among all of ``x`` (unordered),
    200 rows at a time (memory ~200 N doubles)."""
    x64 = x.astype(np.float64)
    sq = (x64**2).sum(1)
    out = []
    for start in range(0, len(rows), 200):
        part = rows[start:start + 200]
        d2 = x64[part] @ x64.T
        d2 *= -2
        d2 += sq[part, None]
        d2 += sq[None]
        d2[np.arange(len(part)), part] = np.inf
        out.append(np.argpartition(d2, k, axis=1)[:, :k].copy())  # a view holds 200 N
    return np.concatenate(out)


def graph_table(sizes: list[int], baseline_max: int) -> None:
    import nbperceive as nbp
    from nbperceive import neighbours

    neighbours.knn_graph(np.random.default_rng(0).normal(size=(3000, 20)), 15,
                         method="approx")  # numba compile, not timed
    rows = []
    for n in sizes:
        path = Path(f"/tmp/nbp-scale-graph-{n}")
        shutil.rmtree(path, ignore_errors=True)
        run = nbp.datasets.synthetic_run(path, n, epochs=1, dim=138)
        x = neighbours.reduce(np.asarray(run.vectors(run.epochs[-1])), 50)
        sample = np.random.default_rng(0).choice(n, min(n, 2000), replace=False)
        truth = exact_rows(x, sample)
        for settings in (neighbours.UMAP_SETTINGS, neighbours.SCALED):
            if settings == neighbours.UMAP_SETTINGS and n > baseline_max:
                continue
            t0, c0 = time.perf_counter(), time.process_time()
            g = neighbours.knn_graph(x, 15, method="approx", settings=settings)
            secs, cpu = time.perf_counter() - t0, time.process_time() - c0
            got = g.neighbours()[sample]
            recall = float(np.mean([len(set(a) & set(b)) / 15 for a, b in
                                    zip(got.tolist(), truth.tolist(), strict=True)]))
            r = {"n": n, "settings": settings, "graph_s": secs, "cpu_s": cpu, "recall": recall,
                 "load": os.getloadavg()[0]}
            rows.append(r)
            print({k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()},
                  flush=True)
        shutil.rmtree(path, ignore_errors=True)
    print("\n| N | NN-descent settings | graph s | CPU s | recall@15 vs exact | load |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['n']:,} | {r['settings']} | {r['graph_s']:.1f} | {r['cpu_s']:.1f} "
              f"| {r['recall']:.3f} | {r['load']:.1f} |")
    by = {(r["n"], r["settings"]): r for r in rows}
    base, new = neighbours.UMAP_SETTINGS, neighbours.SCALED
    for n in sizes:
        if (n, base) in by:
            a, b = by[(n, base)], by[(n, new)]
            print(f"N={n:,}: {new} {a['graph_s'] / b['graph_s']:.1f}x faster (wall), "
                  f"{a['cpu_s'] / b['cpu_s']:.1f}x less CPU than {base} settings; "
                  f"recall {b['recall']:.3f} vs {a['recall']:.3f}")
    for settings in (base, new):
        got = sorted((r["n"], r["graph_s"], r["cpu_s"]) for r in rows
                     if r["settings"] == settings)
        if len(got) > 1:
            (a, ta, ca), (b, tb, cb) = got[0], got[-1]
            print(f"growth exponent of the graph ({settings}) between {a:,} and {b:,}: "
                  f"{np.log(tb / ta) / np.log(b / a):.2f} wall, "
                  f"{np.log(cb / ca) / np.log(b / a):.2f} CPU")


def capture_table(runs: dict) -> None:
    """Seconds of each probe's capture (recorded in its meta.json) and their growth in N."""
    import nbperceive as nbp

    secs = {}
    for n, (run_dir, _) in runs.items():
        run = nbp.open_run(run_dir)
        secs[n] = [run.snapshot(e, metadata=False).meta["capture_seconds"] for e in run.epochs]
        print(f"capture, N={n:,}: " + ", ".join(f"epoch {e} {t:.1f} s" for e, t in
                                                zip(run.epochs, secs[n], strict=True)) +
              f" ({1e6 * secs[n][-1] / n:.1f} us/sample)", flush=True)
    if len(secs) > 1:
        (a, ta), (b, tb) = min(secs.items()), max(secs.items())
        print(f"growth exponent of capture between {a:,} and {b:,}: "
              f"{np.log(tb[-1] / ta[-1]) / np.log(b / a):.2f}")
    return [{"n": n, "capture": t[-1]} for n, t in secs.items()]


def clear_caches(run_dir: Path) -> None:
    """Delete the run's cached layouts and neighbour graphs (the next reader computes them)."""
    for pattern in ("proj-*.npy", "knn-*.npy"):
        for f in run_dir.glob(f"epoch-*/{pattern}"):
            f.unlink()


LONG_RUN_EPOCHS = 30


def explorer_long_run(run_dir: Path) -> float:
    """``Explorer()`` of the run grown to LONG_RUN_EPOCHS epochs (hard links of its last
    epoch's files, meta.json rewritten with each epoch's number): what a run of a longer
    training adds to opening it (s; the PCA layouts as recorded)."""
    import nbperceive as nbp

    long = run_dir.parent / f"{run_dir.name}-long"
    shutil.rmtree(long, ignore_errors=True)
    shutil.copytree(run_dir, long, copy_function=os.link)
    last = long / f"epoch-{nbp.open_run(long).epochs[-1]:04d}"
    meta = json.loads((last / "meta.json").read_text())
    for e in range(meta["epoch"] + 1, LONG_RUN_EPOCHS + 1):
        d = long / f"epoch-{e:04d}"
        shutil.copytree(last, d, copy_function=os.link, ignore=shutil.ignore_patterns(
            "meta.json"))
        (d / "meta.json").write_text(json.dumps({**meta, "epoch": e}))
    try:
        t0 = time.perf_counter()
        ex = nbp.Explorer(long)
        took = time.perf_counter() - t0
        ex.population.wait_for_layout()
        ex.close()
        return took
    finally:
        shutil.rmtree(long, ignore_errors=True)


def child_stall(run_dir: Path, mode: str) -> None:
    """Fresh process: cold caches, Explorer(), then UMAP; prints one JSON line of figures."""
    import nbperceive as nbp
    from nbperceive.projection import project_run_async, worker
    from nbperceive.stall import StallProbe

    worker.ENABLED = mode == "worker"
    clear_caches(run_dir)
    nbp.open_run(run_dir).samples  # noqa: B018  (the table read, as a reopened run has it)
    from nbperceive.widgets.explorer import Explorer  # imports (widgets, bqplot) not timed

    idle = StallProbe()  # the floor: the longest gap with nothing else running
    idle.start()
    time.sleep(5)
    idle.stop()
    t0 = time.perf_counter()
    ex = Explorer(run_dir)
    r = {"explorer_s": time.perf_counter() - t0, "idle_stall_ms": 1000 * idle.max_gap}
    probe = StallProbe()
    probe.start()
    # the control: the same ticker in a process doing nothing else, over the same time; its
    # longest gap is what the machine's scheduler alone costs (2 cores shared under load)
    control = subprocess.Popen([sys.executable, "-m", "nbperceive.stall"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    t0 = time.perf_counter()
    layout = project_run_async(ex.run, None, "umap")
    r["async_s"] = time.perf_counter() - t0
    ex.wait_for_suspects()
    r["suspects_s"] = time.perf_counter() - t0
    layout.refinement.result()
    r["umap_s"] = time.perf_counter() - t0
    probe.stop()
    r["max_stall_ms"], r["stall_at_s"] = 1000 * probe.max_gap, probe.at
    r["control_stall_ms"] = 1000 * float(control.communicate("")[0])
    print(json.dumps(r), flush=True)
    os._exit(0)  # the worker process ends with its stdin


def stall_table(runs: dict) -> None:
    rows = []
    for n, (run_dir, _) in runs.items():
        for mode in ("in-process", "worker"):
            out = subprocess.run([sys.executable, __file__, "--child-stall", str(run_dir), mode],
                                 capture_output=True, text=True, check=True)
            r = {"n": n, "mode": mode, **json.loads(out.stdout.strip().splitlines()[-1])}
            rows.append(r)
            print({k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()},
                  flush=True)
    print("\n| N | numba work | Explorer() returns, s | suspects ready, s | UMAP ready, s "
          "| longest main-thread stall, ms (at s) | control process meanwhile, ms "
          "| same probe idle before, ms |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['n']:,} | {r['mode']} | {r['explorer_s']:.2f} | {r['suspects_s']:.0f} | "
              f"{r['umap_s']:.0f} | {r['max_stall_ms']:.0f} ({r['stall_at_s']:.0f}) | "
              f"{r['control_stall_ms']:.0f} | {r['idle_stall_ms']:.0f} |")
    by = {(r["n"], r["mode"]): r for r in rows}
    for n in runs:
        a, b = by[(n, "in-process")], by[(n, "worker")]
        print(f"N={n:,}: longest stall {a['max_stall_ms']:.0f} -> {b['max_stall_ms']:.0f} ms "
              f"({a['max_stall_ms'] / max(b['max_stall_ms'], 1e-3):.0f}x shorter)")
    if len(runs) > 1:
        lo, hi = min(runs), max(runs)
        a, b = by[(lo, "worker")], by[(hi, "worker")]
        print(f"growth exponent of Explorer() between {lo:,} and {hi:,}: "
              f"{np.log(b['explorer_s'] / a['explorer_s']) / np.log(hi / lo):.2f}")
    return [{"n": r["n"], "explorer_fresh": r["explorer_s"], "stall_ms": r["max_stall_ms"]}
            for r in rows if r["mode"] == "worker"]


def knn_kept(x: np.ndarray, coords: np.ndarray, rows: np.ndarray, k: int = 15) -> float:
    """Share of the k nearest neighbours (in ``x``) of each of ``rows`` kept in ``coords``."""
    from sklearn.neighbors import NearestNeighbors

    def near(a):
        return NearestNeighbors(n_neighbors=k + 1).fit(a).kneighbors(
            a[rows], return_distance=False)[:, 1:]
    a, b = near(x), near(coords)
    return float(np.mean([len(set(i) & set(j)) / k for i, j in zip(a, b, strict=True)]))


def umap_table(runs: dict, full_max: int) -> None:
    import nbperceive as nbp
    from nbperceive.projection.fit import _pre_reduce

    t0 = time.perf_counter()  # UMAP's numba compile, paid once per process, timed apart
    nbp.projection.embed(np.random.default_rng(0).normal(size=(500, 10)), "umap", n_epochs=20)
    print(f"UMAP first fit in this process (numba compile + 500 rows): "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    rows = []
    for n, (run_dir, _) in runs.items():
        run = nbp.open_run(run_dir)
        epoch = run.epochs[-1]
        r = {"n": n}
        t0 = time.perf_counter()
        coords = run.project(epoch, "umap", recompute=True)
        r["umap"] = time.perf_counter() - t0
        x = _pre_reduce(np.asarray(run.vectors(epoch)), 50)
        sample = np.random.default_rng(0).choice(n, min(n, 5000), replace=False)
        r["kept"] = knn_kept(x, coords, sample)
        r["kept_pca"] = knn_kept(x, run.project(epoch, "pca"), sample)
        if n <= full_max:
            t0 = time.perf_counter()
            whole = run.project(epoch, "umap", recompute=True, landmarks=n)
            r["umap_whole"] = time.perf_counter() - t0
            r["kept_whole"] = knn_kept(x, whole, sample)
        rows.append(r)
        print({k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()}, flush=True)
    print("\n| N | UMAP as the explorer refines it, s | whole-set UMAP s | 15-NN kept: "
          "explorer's / whole-set / PCA |")
    print("|---|---|---|---|")
    for r in rows:
        whole = f"{r['umap_whole']:.1f}" if "umap_whole" in r else "-"
        kw = f"{r['kept_whole']:.3f}" if "kept_whole" in r else "-"
        print(f"| {r['n']:,} | {r['umap']:.1f} | {whole} | {r['kept']:.3f} / {kw} / "
              f"{r['kept_pca']:.3f} |")
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        exp = np.log(b["umap"] / a["umap"]) / np.log(b["n"] / a["n"])
        print(f"growth exponent of umap between {a['n']:,} and {b['n']:,}: {exp:.2f}")
    return rows


def suspects_table(runs: dict, exact_max: int) -> None:
    import nbperceive as nbp
    from nbperceive import neighbours
    from nbperceive.metrics import _probabilities

    rows = []
    for n, (run_dir, flipped) in runs.items():
        clear_caches(run_dir)  # cold: an earlier stage (stall, page) may have cached the graph
        run = nbp.open_run(run_dir)
        r = {"n": n}
        t0 = time.perf_counter()
        ranked = run.suspects(neighbour_search="approx")
        r["suspects_cold"] = time.perf_counter() - t0
        layer, epoch = ranked.attrs["layer"], ranked.attrs["epoch"]
        t0 = time.perf_counter()
        neighbours.run_graph(run, epoch, layer, recompute=True, method="approx")
        r["graph"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        ranked = run.suspects(neighbour_search="approx")
        r["suspects_warm"] = time.perf_counter() - t0
        r["p_approx"] = precision(ranked, flipped)
        last = run.snapshot(run.epochs[-1]).table
        probs = _probabilities(last, run.class_names)
        from cleanlab.filter import find_label_issues

        t0 = time.perf_counter()
        find_label_issues(last["label"].to_numpy(), probs / probs.sum(1, keepdims=True))
        r["cleanlab"] = time.perf_counter() - t0
        by_loss = last.nlargest(len(flipped), "loss")["sample_id"].to_numpy()
        r["p_loss"] = float(np.isin(by_loss, flipped).mean())
        if n <= exact_max:
            t0 = time.perf_counter()
            exact = run.suspects(neighbour_search="exact")
            r["suspects_exact"] = time.perf_counter() - t0
            r["p_exact"] = precision(exact, flipped)
            g_a = neighbours.run_graph(run, epoch, layer, method="approx").neighbours()
            g_e = neighbours.run_graph(run, epoch, layer, method="exact").neighbours()
            r["recall"] = float(np.mean([len(set(a) & set(b)) for a, b in
                                         zip(g_a.tolist(), g_e.tolist(), strict=True)]) / 15)
        rows.append(r)
        print({k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()}, flush=True)
    print("\n| N | graph s | suspects, graph not cached s | suspects, graph cached s "
          "| suspects, exact search s | cleanlab s | precision@k approx / exact / loss "
          "| graph recall vs exact |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        ex = f"{r['suspects_exact']:.1f}" if "suspects_exact" in r else "-"
        pe = f"{r['p_exact']:.3f}" if "p_exact" in r else "-"
        rc = f"{r['recall']:.3f}" if "recall" in r else "-"
        print(f"| {r['n']:,} | {r['graph']:.1f} | {r['suspects_cold']:.1f} | "
              f"{r['suspects_warm']:.1f} | {ex} | {r['cleanlab']:.2f} | "
              f"{r['p_approx']:.3f} / {pe} / {r['p_loss']:.3f} | {rc} |")
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        for key in ("graph", "suspects_cold", "suspects_warm"):
            exp = np.log(b[key] / a[key]) / np.log(b["n"] / a["n"])
            print(f"growth exponent of {key} between {a['n']:,} and {b['n']:,}: {exp:.2f}")
    return rows


TIP_SHOWN = ("() => document.querySelector('.nbp-tip')?.style.display === 'block' && "
             "/^sample \\d+$/.test(document.querySelector('.nbp-tip-title')?.textContent)")


def pointer_ms(page, n: int, repeat: int) -> tuple[float, float]:
    """Median ms of hover -> card and click -> details over ``repeat`` random samples."""
    from browser.test_population import screen_point
    from interaction import timed  # benchmarks/interaction.py: from the input event on

    hovers, clicks = [], []
    for k in range(repeat):
        i = int(np.random.default_rng(k).integers(n))
        page.mouse.move(2, 2)
        page.wait_for_function("() => document.querySelector('.nbp-tip')?.style.display"
                               " !== 'block'", timeout=30_000)
        x, y = screen_point(page, i)
        hovers.append(timed(page, "mousemove", TIP_SHOWN, lambda x=x, y=y: page.mouse.move(x, y)))
        shown = page.locator(".nbp-tip-title").first.inner_text().split()[-1]
        clicks.append(timed(page, "mousedown", "() => document.querySelector('.nbp-details')"
                            f"?.textContent.includes('sample{shown}')",
                            lambda: (page.mouse.down(), page.mouse.up())))
    return float(np.median(hovers)), float(np.median(clicks))


def open_and_point(browser, url: str, n: int, repeat: int) -> dict:
    """Navigation -> all n points painted, and -> pointable (their KD-tree built) (s), then
    hover and click (ms)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    t0 = time.perf_counter()
    page.goto(url, timeout=600_000)
    out = painted_and_open(page, n, t0)
    out.update(pointing(page, n, repeat))
    page.close()
    assert not errors, errors
    return out


def painted_and_open(page, n: int, t0: float, new: str = "") -> dict[str, float]:
    """s from ``t0`` to all n points on the canvas, and to their KD-tree built (hover and
    click wait for it); ``new`` narrows the view looked for (":not([data-old])")."""
    page.wait_for_selector(f".nbp-pop[data-painted='{n}']{new}", timeout=600_000)
    painted = time.perf_counter() - t0
    page.wait_for_selector(f".nbp-pop[data-draws][data-points='{n}']{new}", timeout=600_000)
    return {"paint": painted, "open": time.perf_counter() - t0}


def pointing(page, n: int, repeat: int) -> dict[str, float]:
    """Hover and click (median ms) and the frame floor, the plot scrolled into view."""
    page.locator(".nbp-plot canvas").first.scroll_into_view_if_needed()
    hover, click = pointer_ms(page, n, repeat)
    return {"hover": hover, "click": click, "frame": frame_ms(page)}


def frame_ms(page) -> float:
    """The frame floor: ms from a resize of the page to the next frame of every point drawn
    (software WebGL here: what any redraw costs, which hover and click avoid)."""
    size = page.viewport_size
    drawn = page.evaluate("() => Number(document.querySelector('.nbp-pop').dataset.frames)")
    t0 = time.perf_counter()
    page.set_viewport_size({"width": size["width"] - 40, "height": size["height"]})
    page.wait_for_function("(f) => Number(document.querySelector('.nbp-pop').dataset.frames)"
                           " > f", arg=drawn, polling="raf", timeout=60_000)
    ms = 1000 * (time.perf_counter() - t0)
    page.set_viewport_size(size)
    return ms


def lab_table(runs: dict, repeat: int) -> list[dict]:
    """The explorer in JupyterLab, where most users meet it: a running kernel, the user runs
    ``import nbperceive as nbp; nbp.Explorer(run_dir)``. From the run command to every point
    painted and pointable: the kernel's first such cell (the import, a new kernel's TensorFlow-
    free imports, included) and the same cell run again (the earlier output replaced); then
    hover and click in the notebook page."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from browser import servers
    from playwright.sync_api import sync_playwright

    rows = []
    for n, (run_dir, _) in runs.items():
        clear_caches(run_dir)
        r = {"n": n}
        with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
            cell = f"import nbperceive as nbp\nex = nbp.Explorer({str(run_dir)!r})\nex"
            servers.write_notebook(Path(tmp), [cell])
            browser = p.chromium.launch(executable_path=servers.CHROMIUM, headless=True,
                                        args=servers.CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            with servers.lab_server(Path(tmp)) as srv:
                for key in ("lab_first", "lab_again"):
                    if key == "lab_first":  # the notebook open, its new kernel idle
                        page.goto(f"{srv.url}/lab/tree/nb.ipynb", timeout=600_000)
                        page.get_by_text("Python 3 (ipykernel) | Idle").first.wait_for(
                            timeout=600_000)
                    else:  # the earlier output is marked; the new one replaces it
                        page.evaluate("() => document.querySelectorAll('.nbp-pop')"
                                      ".forEach((e) => e.setAttribute('data-old', ''))")
                    t0 = time.perf_counter()
                    page.evaluate("() => window.jupyterapp.commands.execute("
                                  "'notebook:run-all-cells')")
                    times = painted_and_open(page, n, t0, new=":not([data-old])")
                    r.update({f"{key}_{k}": v for k, v in times.items()})
                r.update({f"lab_{k}": v for k, v in pointing(page, n, repeat).items()})
            browser.close()
            assert not errors, errors
        rows.append(r)
        print({k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()}, flush=True)
    return rows


# scatter.py's paint hook waits for ~8,000 dark pixels: fewer points never count as painted
JSCATTER_MIN = 50_000


def explorer_with_model(run_dir: Path, n: int) -> dict[str, float]:
    """``Explorer(run, model=, x=)`` from cold caches: until it returns, and until the
    inspector's first maps are made (on a thread: the model is checked, then traced)."""
    import nbperceive as nbp

    run = nbp.open_run(run_dir)
    model = fashion_model()
    model.load_weights(run.weights_path(run.epochs[-1]))
    px = probe_pixels(nbp.datasets.fashion_mnist(source="offline").x, n)[1]
    clear_caches(run_dir)
    run = nbp.open_run(run_dir)
    t0 = time.perf_counter()
    ex = nbp.Explorer(run, model=model, x=px)
    out = {"explorer_model": time.perf_counter() - t0}
    if ex.inspector is not None and ex.inspector.wait():
        out["explorer_model_maps"] = time.perf_counter() - t0
    ex.population.wait_for_layout()
    ex.wait_for_suspects()
    ex.close()
    return out


def page_table(runs: dict, root: Path, repeat: int, jscatter: str | None) -> list[dict]:
    import nbperceive as nbp
    from nbperceive.report import save_html, wire_bytes

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the browser tests'
    import scatter  # benchmarks/scatter.py: Voila first paint of a PopulationView, ours and theirs
    from browser import servers  # Chromium path and flags, Voila server
    from playwright.sync_api import sync_playwright

    import nbperceive.widgets.explorer  # noqa: F401  (imports: widgets, bqplot; not timed)

    rows = []
    for n, (run_dir, _) in runs.items():
        r = {"n": n}
        layout = run_dir / f"epoch-{nbp.open_run(run_dir).epochs[-1]:04d}" / "proj-pca.npy"
        if layout.is_file():  # written by the capture (a run recorded here, not --reuse'd)
            t0 = time.perf_counter()
            nbp.open_run(run_dir).project(None, "pca")
            r["pca_recorded"] = time.perf_counter() - t0
        clear_caches(run_dir)
        run = nbp.open_run(run_dir)
        t0 = time.perf_counter()
        run.project(run.epochs[-1], "pca")
        r["pca"] = time.perf_counter() - t0
        clear_caches(run_dir)  # Explorer() from cold too: its PCA and graph not on disk
        run = nbp.open_run(run_dir)
        t0 = time.perf_counter()
        ex = nbp.Explorer(run)
        r["explorer"] = time.perf_counter() - t0
        ex.population.wait_for_layout()  # above 200k samples the PCA is laid out on a thread
        r["explorer_points"] = time.perf_counter() - t0
        r.update(explorer_with_model(run_dir, n))
        r["explorer_long"] = explorer_long_run(run_dir)
        ex.wait_for_suspects()
        r["state_bpp"] = wire_bytes(ex) / n
        report = root / f"report-{n}.html"
        t0 = time.perf_counter()
        save_html(ex, report)
        r["save_html"] = time.perf_counter() - t0
        r["report_bpp"] = report.stat().st_size / n
        pop = ex.population
        xy, loss = np.column_stack([pop.x, pop.y]), pop.data["loss"].to_numpy()
        ex.close()
        with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=servers.CHROMIUM, headless=True,
                                        args=servers.CHROMIUM_ARGS)
            cells = [f"import nbperceive as nbp\nex = nbp.Explorer({str(run_dir)!r})\nex"]
            with servers.voila_server(servers.write_notebook(Path(tmp), cells),
                                      timeout=600) as srv:
                live = open_and_point(browser, srv.url + "/", n, repeat)
            r.update({f"voila_{k}": v for k, v in live.items()})
            # served as a deployed report is (--preheat_kernel): the notebook has run before
            # the visit, its background analyses too
            cells += ["ex.wait_for_suspects()", "ex.population.wait_for_layout()",
                      scatter.EXECUTED_CELL]
            with servers.voila_server(servers.write_notebook(Path(tmp), cells),
                                      preheat=True) as srv:
                servers.wait_for_file_json(Path(tmp) / "executed.json", timeout=600)
                live = open_and_point(browser, srv.url + "/", n, repeat)
            r.update({f"voila_pre_{k}": v for k, v in live.items()})
            saved = open_and_point(browser, report.as_uri(), n, repeat)
            r.update({f"report_{k}": v for k, v in saved.items()})
            browser.close()
        if jscatter and n >= JSCATTER_MIN:
            label = np.zeros(n)
            for who, cell, python in (("ours", scatter.OURS_CELL, None),
                                      ("jscatter", scatter.JSCATTER_CELL, jscatter)):
                for pre in (False, True):
                    paint, received = scatter.voila_first_paint(xy, loss, label, cell, python,
                                                                preheat=pre)
                    key = f"{who}_pre" if pre else who
                    r[f"{key}_paint"] = paint / 1000 if paint is not None else float("nan")
                r[f"{who}_ws_bpp"] = received / n
        rows.append(r)
        print({k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()}, flush=True)
    return rows


SUMMARY = [  # (table, key, what, unit)
    ("capture", "capture", "capture (last epoch)", "s"),
    ("page", "pca_recorded", "PCA first view of a run as recorded (its capture saved it)", "s"),
    ("page", "pca", "PCA first view, cold (layouts deleted: computed from the vectors)", "s"),
    ("umap", "umap", "UMAP as the explorer refines it", "s"),
    ("suspects", "graph", "neighbour graph", "s"),
    ("suspects", "suspects_cold", "suspects, graph not cached", "s"),
    ("suspects", "suspects_warm", "suspects, graph cached", "s"),
    ("suspects", "cleanlab", "cleanlab find_label_issues", "s"),
    ("page", "explorer", "Explorer() returns (this process)", "s"),
    ("page", "explorer_long", f"Explorer() returns, the run grown to {LONG_RUN_EPOCHS} epochs",
     "s"),
    ("page", "explorer_points", "Explorer(): its points laid out (a thread above 200k)", "s"),
    ("page", "explorer_model", "Explorer(run, model=, x=) returns", "s"),
    ("page", "explorer_model_maps", "Explorer(run, model=, x=): first maps (a thread)", "s"),
    ("stall", "explorer_fresh", "Explorer() returns (fresh process)", "s"),
    ("stall", "stall_ms", "longest main-thread stall meanwhile", "ms"),
    ("page", "state_bpp", "widget state", "B/pt"),
    ("page", "save_html", "save_html", "s"),
    ("page", "report_bpp", "report", "B/pt"),
    ("page", "voila_paint", "Voila explorer: navigation -> points painted", "s"),
    ("page", "voila_open", "Voila explorer: navigation -> points pointable (KD-tree in)", "s"),
    ("page", "voila_hover", "Voila explorer: hover -> card", "ms"),
    ("page", "voila_click", "Voila explorer: click -> details", "ms"),
    ("page", "voila_frame", "Voila explorer: frame floor (a redraw of every point)", "ms"),
    ("page", "voila_pre_paint", "Voila explorer, preheated kernel: navigation -> painted", "s"),
    ("page", "voila_pre_open", "Voila explorer, preheated kernel: -> pointable", "s"),
    ("page", "voila_pre_click", "Voila explorer, preheated kernel: click -> details", "ms"),
    ("lab", "lab_first_paint", "JupyterLab, new kernel: run the cell -> points painted", "s"),
    ("lab", "lab_first_open", "JupyterLab, new kernel: run the cell -> pointable", "s"),
    ("lab", "lab_again_paint", "JupyterLab, the cell run again -> points painted", "s"),
    ("lab", "lab_again_open", "JupyterLab, the cell run again -> pointable", "s"),
    ("lab", "lab_hover", "JupyterLab: hover -> card", "ms"),
    ("lab", "lab_click", "JupyterLab: click -> details", "ms"),
    ("lab", "lab_frame", "JupyterLab: frame floor (a redraw of every point)", "ms"),
    ("page", "report_paint", "saved report: open -> points painted", "s"),
    ("page", "report_open", "saved report: open -> points pointable (KD-tree in)", "s"),
    ("page", "report_hover", "saved report: hover -> card", "ms"),
    ("page", "report_click", "saved report: click -> details", "ms"),
    ("page", "report_frame", "saved report: frame floor (a redraw of every point)", "ms"),
    ("page", "ours_paint", "PopulationView in Voila: first paint", "s"),
    ("page", "jscatter_paint", "jupyter-scatter in Voila: first paint", "s"),
    ("page", "ours_pre_paint", "PopulationView in Voila, preheated kernel: first paint", "s"),
    ("page", "jscatter_pre_paint", "jupyter-scatter in Voila, preheated kernel: first paint",
     "s"),
    ("page", "ours_ws_bpp", "PopulationView in Voila: websocket", "B/pt"),
    ("page", "jscatter_ws_bpp", "jupyter-scatter in Voila: websocket", "B/pt"),
]


def summary(tables: dict[str, list[dict]]) -> None:
    """Every stage at every size in one table, with its growth exponent (first to last N)."""
    sizes = sorted({r["n"] for rows in tables.values() for r in rows})
    print("\n| stage | " + " | ".join(f"{n:,}" for n in sizes) + " | growth exponent |")
    print("|---|" + "---|" * (len(sizes) + 1))
    for table, key, what, unit in SUMMARY:
        got = {r["n"]: r[key] for r in tables.get(table, []) if key in r}
        if not got:
            continue
        cells = [f"{got[n]:.3g}" if n in got else "-" for n in sizes]
        ns = sorted(n for n in got if np.isfinite(got[n]) and got[n] > 0)
        exp = (f"{np.log(got[ns[-1]] / got[ns[0]]) / np.log(ns[-1] / ns[0]):.2f}"
               if len(ns) > 1 else "-")
        print(f"| {what}, {unit} | " + " | ".join(cells) + f" | {exp} |")


if __name__ == "__main__":
    main()
