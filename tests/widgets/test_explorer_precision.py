"""Precision and recall per class beside the explorer's confusion matrix, following the epoch."""

import numpy as np
import pytest

import nbperceive as nbp
from nbperceive.metrics import precision_recall


@pytest.fixture(scope="module")
def perceiver(tmp_path_factory):
    from core.models import digits_perceiver

    return digits_perceiver(tmp_path_factory.mktemp("pr") / "run", n_probe=200,
                            learning_rate=0.01)


def _cells(html: str) -> list[list[str]]:
    rows = html.split("<tr>")[2:]  # after the table tag and the header row
    return [[c.split("</td>")[0] for c in r.split("<td>")[1:]] for r in rows]


def test_precision_and_recall_follow_the_epoch(perceiver):
    ex = nbp.Explorer(perceiver)
    cells = _cells(ex.precision_recall.value)
    assert len(cells) == 10 and [c[0] for c in cells] == list(perceiver.run.class_names)
    for epoch in (max(perceiver.run.epochs), 0):
        ex.population.epoch = epoch
        p, r = precision_recall(perceiver.run.confusion_matrix(epoch))
        cells = _cells(ex.precision_recall.value)
        shown = [c[1] for c in cells], [c[2] for c in cells]
        assert shown == ([("-" if np.isnan(v) else f"{v:.2f}") for v in p],
                         [("-" if np.isnan(v) else f"{v:.2f}") for v in r])
    assert cells != _cells(nbp.Explorer(perceiver).precision_recall.value)  # epoch 0 differs


def test_class_names_are_shown_as_text():
    from nbperceive.widgets.explorer import _precision_recall_html

    html = _precision_recall_html(np.array([[3, 1], [0, 2]]), ["<img src=x onerror=1>", "b"])
    assert "<img" not in html and _cells(html)[0] == ["&lt;img src=x onerror=1&gt;", "1.00",
                                                      "0.75"]
