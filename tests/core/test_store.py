"""The run directory: readable while written, never half-written, no pickle."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import nbperceive as nbp

WRITER = textwrap.dedent("""
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    import numpy as np, keras
    import nbperceive as nbp
    sys.path.insert(0, {tests!r})
    from core import models
    d = nbp.datasets.digits()
    x = np.tile(d.x[..., None], (16, 1, 1, 1)); y = np.tile(d.y, 16)   # 28,752 real digits
    model = models.sequential_cnn()
    p = nbp.Perceiver(model, probe=(x, y), run_dir={run!r})
    epoch = 0
    while True:
        p.capture(epoch)
        print("captured", epoch, flush=True)
        epoch += 1
""")


@pytest.mark.slow
def test_kill_9_mid_write_leaves_every_finished_epoch_readable(tmp_path):
    run_dir = tmp_path / "run"
    script = WRITER.format(tests=os.path.dirname(os.path.dirname(__file__)), run=str(run_dir))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("captured 1"):
                break
        else:
            pytest.fail(f"writer died before two captures (exit {proc.wait()})")
        # wait until the writer is inside an epoch, then kill it without warning
        deadline = time.time() + 60
        while not any(p.name.startswith(".tmp-epoch") for p in run_dir.iterdir()):
            assert time.time() < deadline, "writer never started another epoch"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert any(p.name.startswith(".tmp-") for p in run_dir.iterdir())  # killed mid-write
    run = nbp.open_run(run_dir)
    assert len(run.epochs) >= 2
    assert run.epochs == list(range(len(run.epochs)))  # no partial epoch listed
    for epoch in run.epochs:
        snap = run.snapshot(epoch)
        assert snap.vectors.shape[0] == len(snap.table) == 1797 * 16
        assert np.isfinite(snap.vectors).all()


def test_arrays_are_plain_npy_without_pickle(tmp_path):
    d = nbp.datasets.digits()
    snap = nbp.Perceiver(_dense(), probe=(d.x[:64], d.y[:64]), run_dir=tmp_path / "r").capture()
    for npy in snap.path.glob("*.npy"):
        arr = np.load(npy, allow_pickle=False)  # raises if an object array had been written
        assert arr.dtype.kind == "f"
    assert sorted(p.name for p in snap.path.iterdir()) == ["meta.json", "model.weights.h5",
                                                           "proj-pca.npy", "table.parquet",
                                                           "vectors.npy"]
    assert snap.weights_path.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"  # HDF5, not a pickle


def test_recorded_probabilities_are_read_alone_and_a_few_rows_at_a_time(tmp_path):
    import keras

    d = nbp.datasets.digits()
    model = _dense()
    snap = nbp.Perceiver(model, probe=(d.x[:300], d.y[:300]), run_dir=tmp_path / "r").capture()
    run = nbp.open_run(tmp_path / "r")
    probs = run.probabilities()
    np.testing.assert_allclose(probs, model.predict(d.x[:300], verbose=0), atol=1e-5)
    table = snap.table
    np.testing.assert_array_equal(probs, table[[f"prob_{c}" for c in run.class_names]])
    np.testing.assert_array_equal(run.probabilities(0, rows=16), probs[:16])
    values = keras.Sequential([keras.Input((8, 8)), keras.layers.Flatten(),
                               keras.layers.Dense(1)])  # a regression records no prob_*
    values.compile("adam", "mse")
    nbp.Perceiver(values, probe=(d.x[:50], d.y[:50].astype("float32")),
                  run_dir=tmp_path / "v").capture()
    assert nbp.open_run(tmp_path / "v").probabilities() is None


def test_reader_in_another_process_sees_epochs_as_they_land(tmp_path):
    """open_run() from another process, while this one writes, sees only whole epochs."""
    d = nbp.datasets.digits()
    import keras

    model = keras.Sequential([keras.Input((8, 8)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    p = nbp.Perceiver(model, probe=(d.x, d.y), run_dir=tmp_path / "r")
    reader = textwrap.dedent(f"""
        import time, nbperceive as nbp
        seen = set()
        t = time.time()
        while time.time() - t < 60 and len(seen) < 3:
            try:
                run = nbp.open_run({str(tmp_path / 'r')!r})
            except nbp.RunError:
                continue
            for e in run.epochs:
                if e not in seen:
                    assert len(run.snapshot(e).table) == 1797
                    seen.add(e)
        print(sorted(seen))
    """)
    proc = subprocess.Popen([sys.executable, "-c", reader], stdout=subprocess.PIPE, text=True)
    for epoch in range(3):
        p.capture(epoch)
        time.sleep(0.2)
    out, _ = proc.communicate(timeout=90)
    assert proc.returncode == 0
    assert out.strip() == "[0, 1, 2]"


def test_capture_memory_does_not_hold_the_vectors(tmp_path):
    """Vectors stream to disk: RAM per extra sample stays far below the vector's own size."""
    import tracemalloc

    import keras

    d = nbp.datasets.digits()
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Flatten(),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy")
    peaks = {}
    for reps in (3, 9):  # both above the 4,096-row standardisation chunk
        x = np.tile(d.x[..., None], (reps, 1, 1, 1))
        y = np.tile(d.y, reps)
        p = nbp.Perceiver(model, probe=(x, y), run_dir=tmp_path / f"r{reps}")
        p.capture(0)  # trace first
        tracemalloc.start()
        p.capture(1)
        peaks[len(y)] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    (n1, m1), (n2, m2) = sorted(peaks.items())
    per_sample = (m2 - m1) / (n2 - n1)
    vector_bytes = p.probe.dim * 4
    assert vector_bytes >= 3000
    assert per_sample < vector_bytes / 3, (per_sample, vector_bytes)


def _dense(name="dense"):
    import keras

    model = keras.Sequential([keras.Input((8, 8)), keras.layers.Flatten(name="flat"),
                              keras.layers.Dense(10, activation="softmax", name="out")],
                             name=name)
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def _files(run_dir):
    return {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}


def test_a_refused_perceiver_writes_nothing(tmp_path):
    d = nbp.datasets.digits()
    run_dir = tmp_path / "r"
    p = nbp.Perceiver(_dense(), probe=(d.x[:64], d.y[:64]), run_dir=run_dir)
    p.capture()
    p.run.add_metadata("note", np.array(["kept"] * 64))
    p.close()
    before = _files(run_dir)
    with pytest.raises(nbp.RunError, match="already holds epochs"):
        nbp.Perceiver(_dense(), probe=(d.x[:64], d.y[:64]), run_dir=run_dir)
    with pytest.raises(nbp.RunError, match="another model or probe set"):
        nbp.Perceiver(_dense("other"), probe=(d.x[:64], d.y[:64]), run_dir=run_dir)
    assert _files(run_dir) == before
    assert nbp.open_run(run_dir).snapshot().table["note"].eq("kept").all()


def test_resume_keeps_metadata_unless_given_again(tmp_path):
    d = nbp.datasets.digits()
    run_dir = tmp_path / "r"
    p = nbp.Perceiver(_dense(), probe=(d.x[:64], d.y[:64]), run_dir=run_dir,
                      metadata={"source": ["a"] * 64})
    p.capture()
    p.run.add_metadata("note", np.arange(64))
    p = nbp.Perceiver(_dense(), probe=(d.x[:64], d.y[:64]), run_dir=run_dir, resume=True)
    assert p.capture(1).table[["source", "note"]].iloc[5].tolist() == ["a", 5]
    p = nbp.Perceiver(_dense(), probe=(d.x[:64], d.y[:64]), run_dir=run_dir, resume=True,
                      metadata={"note": np.zeros(64)})  # told otherwise: replaced
    assert nbp.open_run(run_dir).samples["note"].eq(0).all()
    p = nbp.Perceiver(_dense(), probe=(d.x[:64], d.y[:64]), run_dir=run_dir, overwrite=True)
    assert list(nbp.open_run(run_dir).samples.columns) == ["sample_id", "label"]


def test_resume_with_another_probe_of_the_same_size_is_refused(tmp_path):
    d = nbp.datasets.digits()
    run_dir = tmp_path / "r"
    nbp.Perceiver(_dense(), probe=(d.x[:64], d.y[:64]), run_dir=run_dir).capture()
    before = _files(run_dir)
    for x, y in [(d.x[64:128], d.y[:64]), (d.x[:64], d.y[64:128])]:  # other inputs, labels
        with pytest.raises(nbp.RunError, match="differs in probe"):
            nbp.Perceiver(_dense(), probe=(x, y), run_dir=run_dir, resume=True)
    assert _files(run_dir) == before


def test_a_newer_perceiver_in_this_process_takes_the_run_over(tmp_path):
    d = nbp.datasets.digits()
    run_dir = tmp_path / "r"
    old = nbp.Perceiver(_dense(), probe=(d.x[:64], d.y[:64]), run_dir=run_dir)
    old.capture(0)
    new = nbp.Perceiver(_dense(), probe=(d.x[:64], d.y[:64]), run_dir=run_dir, resume=True)
    with pytest.raises(nbp.RunError, match="another Perceiver in this process now records"):
        old.capture(1)
    new.capture(1)
    assert nbp.open_run(run_dir).epochs == [0, 1]


def test_a_recapture_killed_between_its_renames_is_restored(tmp_path):
    """The state kill -9 leaves between "old epoch aside" and "new epoch in" (the random
    kills of tests/faults rarely land in that window): the old epoch comes back on open."""
    d = nbp.datasets.digits()
    run_dir = tmp_path / "r"
    p = nbp.Perceiver(_dense(), probe=(d.x[:64], d.y[:64]), run_dir=run_dir)
    p.capture(0)
    vectors = np.asarray(p.capture(1).vectors).copy()
    p.close()
    os.replace(run_dir / "epoch-0001", run_dir / ".replaced-epoch-0001")
    (run_dir / ".tmp-epoch-0001-half").mkdir()  # the new epoch, never renamed in
    run = nbp.open_run(run_dir)
    assert run.epochs == [0, 1]
    np.testing.assert_array_equal(run.snapshot(1).vectors, vectors)
    assert not (run_dir / ".replaced-epoch-0001").exists()


def test_stale_temporary_files_in_epoch_folders_are_cleaned(tmp_path):
    d = nbp.datasets.digits()
    run_dir = tmp_path / "r"
    p = nbp.Perceiver(_dense(), probe=(d.x[:64], d.y[:64]), run_dir=run_dir)
    p.capture(0)
    p.close()
    stale = run_dir / "epoch-0000" / ".tmp-abc.npy"   # a projection cache write killed long ago
    fresh = run_dir / "epoch-0000" / ".tmp-def.npy"   # one another process is writing now
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    nbp.Perceiver(_dense(), probe=(d.x[:64], d.y[:64]), run_dir=run_dir, resume=True)
    assert not stale.exists() and fresh.exists()
