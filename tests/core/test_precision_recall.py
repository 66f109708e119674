"""Precision and recall per class from the confusion matrix (the MNIST tutorial's
definitions), and the demo's picture of them per epoch."""

import numpy as np
import pandas as pd
from PIL import Image
from sklearn.metrics import precision_score, recall_score

from nbperceive.metrics import confusion_matrix, precision_recall
from nbperceive.pictures import precision_recall_png


def test_precision_and_recall_match_sklearn_and_mark_empty_classes():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 300)
    preds = np.where(rng.random(300) < 0.7, labels, rng.integers(0, 3, 300))
    preds[labels == 3] = rng.integers(0, 3, (labels == 3).sum())  # 3 is never predicted
    cm = confusion_matrix(pd.DataFrame({"label": labels, "pred": preds}), 5)  # 4 never present
    precision, recall = precision_recall(cm)
    classes = [0, 1, 2]
    np.testing.assert_allclose(precision[classes],
                               precision_score(labels, preds, labels=classes, average=None))
    np.testing.assert_allclose(recall[:4], recall_score(labels, preds, labels=range(4),
                                                        average=None))
    assert np.isnan(precision[3]) and np.isnan(precision[4]) and np.isnan(recall[4])
    assert recall[3] == 0.0  # class 3 exists but is never predicted


def test_precision_recall_picture_has_a_row_per_class_and_a_column_per_epoch(tmp_path):
    p = np.array([[0.5, 0.9, np.nan], [0.7, 0.95, 0.2]])
    r = np.array([[0.4, 0.8, 0.0], [0.6, 0.9, 0.1]])
    few = precision_recall_png(p[:1], r[:1], ["cat", "dog", "owl"], [0], tmp_path / "a.png")
    more = precision_recall_png(p, r, ["cat", "dog", "owl"], [0, 1], tmp_path / "b.png")
    a, b = np.asarray(Image.open(few)), np.asarray(Image.open(more))
    assert b.shape[1] > a.shape[1] and b.shape[0] == a.shape[0]  # one column more per epoch
    assert (b < 128).mean() > 0.01  # dark cells and text drawn, not a blank canvas
