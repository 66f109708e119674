"""Damaged files of every kind in a run dir: a RunError naming the file, the rest readable."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import nbperceive as nbp

DAMAGE = {
    "empty": lambda data: b"",
    "truncated": lambda data: data[: len(data) // 2],
    "garbage": lambda data: bytes(range(256)) * 4,
}


def _damage(path, how):
    path.write_bytes(DAMAGE[how](path.read_bytes()))


@pytest.mark.parametrize("how", list(DAMAGE))
def test_damaged_run_json(run_copy, how):
    _damage(run_copy / "run.json", how)
    with pytest.raises(nbp.RunError, match="run.json is damaged"):
        nbp.open_run(run_copy)


@pytest.mark.parametrize("how", list(DAMAGE))
def test_damaged_samples(run_copy, how):
    _damage(run_copy / "samples.parquet", how)
    run = nbp.open_run(run_copy)
    assert run.epochs == [0, 1, 2]
    with pytest.raises(nbp.RunError, match="samples.parquet is damaged"):
        run.snapshot(1)


@pytest.mark.parametrize("how", list(DAMAGE))
@pytest.mark.parametrize("name", ["meta.json", "table.parquet", "vectors.npy"])
def test_damaged_epoch_file_spoils_that_epoch_only(run_copy, name, how):
    _damage(run_copy / "epoch-0001" / name, how)
    run = nbp.open_run(run_copy)
    with pytest.raises(nbp.RunError, match=rf"epoch-0001/{name} is damaged"):
        _ = run.snapshot(1).vectors
    for epoch in (0, 2):  # the other epochs stay readable
        snap = run.snapshot(epoch)
        assert snap.vectors.shape == (300, snap.meta["dim"])
    if name == "vectors.npy":
        return
    if name == "table.parquet":
        # the history reads each epoch's sums in meta.json: the epoch stays in it, as recorded
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            history = run.history()
        assert history["epoch"].tolist() == [0, 1, 2]
        assert np.isfinite(history["probe_loss"]).all()
        # a run recorded before meta.json kept them reads the table: the epoch is left out
        meta_path = run_copy / "epoch-0001" / "meta.json"
        meta = json.loads(meta_path.read_text())
        del meta["probe"]
        meta_path.write_text(json.dumps(meta))
    with pytest.warns(RuntimeWarning, match="epoch 1 left out of the history"):
        history = run.history()
    assert history["epoch"].tolist() == [0, 2]


def test_rows_that_do_not_match(run_copy):
    vectors = np.load(run_copy / "epoch-0002" / "vectors.npy")
    np.save(run_copy / "epoch-0002" / "vectors.npy", vectors[:-1])
    samples = pd.read_parquet(run_copy / "samples.parquet")
    run = nbp.open_run(run_copy)
    with pytest.raises(nbp.RunError, match=r"vectors.npy is damaged.*\(299, \d+\)"):
        _ = run.snapshot(2).vectors
    samples.iloc[:-1].to_parquet(run_copy / "samples.parquet", index=False)
    with pytest.raises(nbp.RunError, match="samples.parquet has 299 rows but epoch 0 has 300"):
        run.snapshot(0)


@pytest.mark.parametrize("how", list(DAMAGE))
def test_damaged_projection_cache_is_recomputed(run_copy, how):
    run = nbp.open_run(run_copy)
    good = run.project(2, "pca")
    _damage(run_copy / "epoch-0002" / "proj-pca.npy", how)
    np.testing.assert_allclose(run.project(2, "pca"), good, atol=1e-5)
    assert np.load(run_copy / "epoch-0002" / "proj-pca.npy").shape == (300, 2)  # rewritten
