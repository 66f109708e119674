"""A full disk is a warning and a skipped epoch: training goes on, written epochs stay."""

from __future__ import annotations

import json

import numpy as np

import nbperceive as nbp

from .conftest import spawn

TRAIN = """
    import json, warnings
    import numpy as np, keras
    import nbperceive as nbp
    from core import models
    d = nbp.datasets.digits()
    x, y = d.x[..., None], d.y
    keras.utils.set_random_seed(0)
    model = models.sequential_cnn()
    p = nbp.Perceiver(model, probe=(x[:300], y[:300]), run_dir={run!r})
    cb = p.callback()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x[:300], y[:300], epochs=6, batch_size=64, verbose=0,
                            callbacks=[cb])
    print(json.dumps({{"trained": len(history.history["loss"]), "failures": cb.failures,
                      "warnings": [str(w.message) for w in caught
                                   if issubclass(w.category, RuntimeWarning)]}}))
"""


def test_full_tmpfs_skips_epochs_and_training_goes_on(small_tmpfs):
    run_dir = small_tmpfs / "run"
    proc = spawn(TRAIN, run=str(run_dir))
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, f"training died (exit {proc.returncode}):\n{err[-3000:]}"
    report = json.loads(out.strip().splitlines()[-1])
    assert report["trained"] == 6  # every epoch trained
    assert report["failures"], "the disk never filled: make the tmpfs smaller"
    assert all("No space left on device" in f and "is full" in f for f in report["failures"]), \
        report["failures"]
    assert any("failed and was skipped; training goes on" in w for w in report["warnings"])
    run = nbp.open_run(run_dir)
    assert run.epochs, "not even epoch 0 fitted: make the tmpfs larger"
    assert run.epochs == list(range(len(run.epochs)))
    for epoch in run.epochs:  # what was written before the disk filled is whole
        snap = run.snapshot(epoch)
        assert snap.vectors.shape[0] == len(snap.table) == 300
        assert np.isfinite(snap.vectors).all()
    assert not [p.name for p in run_dir.iterdir() if p.name.startswith(".tmp-")]
    assert json.loads((run_dir / "run.json").read_text())["signature"]["n_samples"] == 300
