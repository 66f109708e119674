"""kill -9 at random moments of every write path: nothing written before is ever lost.

Each child repeats one write (its first round done before ``ready``), the parent kills it at a
random moment drawn from a seeded generator (0 to 2x one round), then checks what is on disk:
every write the child confirmed is there, whole, and the one in flight is all there or absent.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time

import numpy as np
import pandas as pd
import pytest

import nbperceive as nbp

from .conftest import spawn, wait_for_line

DELAYS = int(os.environ.get("NBP_FAULT_TRIALS", "3"))  # kills per write path, each at
# another random moment; raise it (e.g. 20) to hunt a rare window

LOOP = """
    import sys, time
    import numpy as np
    import nbperceive as nbp
    run = nbp.open_run({run!r})
    n = len(run.samples)
{setup}
    op(0)                                   # first round: imports and caches warm
    started = time.perf_counter(); op(1)
    print("ready", time.perf_counter() - started, flush=True)
    i = 2
    while True:
        op(i)
        print("done", i, flush=True)
        i += 1
"""

SETUPS = {
    "add_metadata": """
    def op(i):
        nbp.store.add_metadata(run, f"m{{i}}", np.char.add(f"v{{i}}-", np.arange(n).astype(str)))
""",
    "projection_cache": """
    from pathlib import Path
    def op(i):
        for cache in Path({run!r}).glob("epoch-*/proj-pca.npy"):
            cache.unlink()
        run.project(run.epochs[-1], "pca")
""",
    "save_html": """
    view = nbp.PopulationView.from_run(run)
    def op(i):
        view.color = ["loss", "label"][i % 2]
        nbp.save_html(view, {out!r}, title=f"round {{i}}")
""",
    "to_projector": """
    images = (nbp.datasets.digits().x[:n] * 255).astype(np.uint8)
    def op(i):
        run.to_projector({out!r}, images=images)
""",
}


def _kill_at_random(proc, rng: random.Random) -> tuple[float, list[str]]:
    """Kill ``proc`` -9 at a random moment within two of its rounds; the lines it printed."""
    round_seconds = float(wait_for_line(proc, "ready").split()[1])
    delay = rng.uniform(0, 2 * round_seconds)
    time.sleep(delay)  # the random kill point itself, not a wait for a condition
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return delay, proc.stdout.read().splitlines()


def _check_add_metadata(run_dir, out, done, before):
    samples = nbp.open_run(run_dir).samples  # readable: never half a parquet file
    pd.testing.assert_frame_equal(samples[before.columns], before)  # nothing older lost
    added = sorted(int(c[1:]) for c in samples.columns if c.startswith("m"))
    assert added == list(range(len(added))), added  # no confirmed column missing
    assert len(added) >= 2 + len(done)
    for i in added:
        assert samples[f"m{i}"].tolist() == [f"v{i}-{k}" for k in range(len(samples))]


def _check_projection_cache(run_dir, out, done, before):
    run = nbp.open_run(run_dir)
    assert run.epochs == [0, 1, 2]
    for cache in run_dir.glob("epoch-*/proj-pca.npy"):  # any cache there is whole
        arr = np.load(cache, allow_pickle=False)
        assert arr.shape == (300, 2) and np.isfinite(arr).all()
    np.testing.assert_allclose(run.project(2, "pca"), before, atol=1e-5)


def _check_save_html(run_dir, out, done, before):
    page = out.read_text(encoding="utf-8")  # the earlier round's page at least: never lost
    assert page.rstrip().endswith("</html>") and "round " in page
    assert len(page) > 0.9 * before


def _check_to_projector(run_dir, out, done, before):
    config = (out / "projector_config.pbtxt").read_text()
    for tensor in ("epoch-0000", "epoch-0001", "epoch-0002"):
        assert f'tensor_path: "{tensor}.tsv"' in config
        assert len((out / f"{tensor}.tsv").read_text().splitlines()) == 300
        assert len((out / f"{tensor}-metadata.tsv").read_text().splitlines()) == 301
    assert (out / "sprite.png").read_bytes().endswith(b"IEND\xaeB`\x82")  # a whole PNG


CHECKS = {"add_metadata": _check_add_metadata, "projection_cache": _check_projection_cache,
          "save_html": _check_save_html, "to_projector": _check_to_projector}


def _reference(path, run_dir, tmp_path):
    if path == "add_metadata":
        return nbp.open_run(run_dir).samples
    if path == "projection_cache":
        return nbp.open_run(run_dir).project(2, "pca")
    if path == "save_html":
        reference = tmp_path / "reference.html"
        nbp.save_html(nbp.PopulationView.from_run(nbp.open_run(run_dir)), reference)
        return len(reference.read_text(encoding="utf-8"))
    return None


@pytest.mark.parametrize("trial", range(DELAYS))
@pytest.mark.parametrize("path", list(SETUPS))
def test_kill_9_during_a_write_loses_nothing(path, trial, run_copy, tmp_path):
    rng = random.Random(f"{path}-{trial}")
    out = tmp_path / ("report.html" if path == "save_html" else "projector")
    before = _reference(path, run_copy, tmp_path)
    setup = SETUPS[path].format(run=str(run_copy), out=str(out))
    proc = spawn(LOOP.replace("{setup}", setup).replace("{run!r}", repr(str(run_copy))))
    try:
        delay, lines = _kill_at_random(proc, rng)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()[-2000:]
    done = [line for line in lines if line.startswith("done")]
    mid_write = list(tmp_path.rglob(".tmp-*"))  # the kill landed inside a write
    CHECKS[path](run_copy, out, done, before)
    print(f"{path}: killed after {delay:.3f} s, {len(done)} rounds confirmed, "
          f"{'mid-write' if mid_write else 'between writes'}")


CAPTURE = """
    import time
    import numpy as np
    import nbperceive as nbp
    from faults.models import named_cnn
    d = nbp.datasets.digits()
    model = named_cnn()
    p = nbp.Perceiver(model, probe=(d.x[:300, ..., None], d.y[:300]), run_dir={run!r})
    for epoch in range(3):
        p.capture(epoch)
    started = time.perf_counter(); p.capture(1)
    print("ready", time.perf_counter() - started, flush=True)
    i = 0
    while True:                 # every round re-captures an existing epoch: the commit swap
        p.capture(1 + i % 2)
        print("done", i, flush=True)
        i += 1
"""


@pytest.mark.slow  # a TensorFlow child per kill (the fast, deterministic twin: tests/core)
@pytest.mark.parametrize("trial", range(max(1, DELAYS // 3)))  # ~30 s a child: one by default
def test_kill_9_during_a_recapture_keeps_every_epoch(trial, tmp_path, digits):
    from faults.models import named_cnn

    run_dir = tmp_path / "run"
    proc = spawn(CAPTURE, run=str(run_dir))
    try:
        delay, _ = _kill_at_random(proc, random.Random(f"capture-{trial}"))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()[-2000:]
    run = nbp.open_run(run_dir)  # restores an epoch a kill left aside
    assert run.epochs == [0, 1, 2], sorted(p.name for p in run_dir.iterdir())
    for epoch in run.epochs:
        snap = run.snapshot(epoch)
        assert snap.vectors.shape[0] == len(snap.table) == 300
        assert json.loads((snap.path / "meta.json").read_text())["epoch"] == epoch
    x, y = digits
    p = nbp.Perceiver(named_cnn(), probe=(x[:300], y[:300]), run_dir=run_dir,
                      resume=True)  # the next writer cleans what the killed one left
    assert p.epoch == 2
    assert not [c.name for c in run_dir.iterdir()
                if c.name.startswith((".tmp-", ".replaced-"))]
    p.close()
