"""Confusion matrices and label-error suspects on real trained models."""

from __future__ import annotations

import keras
import numpy as np
from sklearn.metrics import confusion_matrix as sk_confusion

import nbperceive as nbp

from . import models


def test_confusion_matrix_matches_sklearn(digits, tmp_path):
    x, y = digits
    model = models.sequential_cnn()
    model.fit(x, y, epochs=2, verbose=0)
    p = nbp.Perceiver(model, probe=(x[:500], y[:500]), run_dir=tmp_path / "r")
    table = p.capture().table
    cm = p.run.confusion_matrix()
    np.testing.assert_array_equal(cm, sk_confusion(table.label, table.pred, labels=range(10)))
    assert cm.sum() == 500


def test_planted_label_flips_are_found_better_than_by_loss(mnist_5k, tmp_path):
    x, y_true = mnist_5k
    y, flipped = nbp.datasets.flip_labels(y_true, 0.02, 10, seed=0)
    keras.utils.set_random_seed(0)
    model = models.mnist_cnn()
    perceiver = nbp.Perceiver(model, probe=(x, y), run_dir=tmp_path / "r")
    model.fit(x, y, epochs=6, batch_size=64, verbose=0, callbacks=[perceiver.callback()])
    ranked = perceiver.run.suspects()
    k = len(flipped)
    ours = len(set(flipped) & set(ranked.sample_id[:k])) / k
    by_loss = perceiver.run.snapshot().table.nlargest(k, "loss").sample_id
    baseline = len(set(flipped) & set(by_loss)) / k
    assert ranked.attrs["layer"] == "hidden"  # the hidden layer where classes cluster
    assert ours > 0.8
    # on par with ranking by loss (measured: 0.90-0.93 vs 0.87-0.92 across seeds, see
    # benchmarks/label_errors.py); training noise moves either by a few points
    assert ours >= baseline - 0.05, (ours, baseline)
    assert {"aum", "forgetting", "neighbour_disagreement", "suspicion"} <= set(ranked.columns)
    # flipped samples keep a negative margin on average: AUM sees them too
    assert ranked.set_index("sample_id").loc[flipped, "aum"].mean() < 0
