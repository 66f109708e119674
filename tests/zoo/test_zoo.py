"""Every model kind x task through the user's whole path, on digits (movie reviews for text).

Each step is marked ✔ (works), ✔ with a note (refused up front with nbperceive's own error that
says what to do instead, where the task has no such view) or ✖ (anything else: the test fails).
The model x step table is printed at the end of the session (see conftest.py).
"""

from __future__ import annotations

import time
import warnings

import keras
import numpy as np
import pytest

import nbperceive as nbp

from . import models, table

COMBOS = [(kind, "multiclass") for kind in [*models.IMAGE_KINDS, *models.SEQUENCE_KINDS]]
COMBOS += [(kind, task) for kind in ("sequential", "subclassed")
           for task in ("binary", "multilabel", "regression", "regression2", "none")]
COMBOS += [("functional", "onehot"), ("functional", "logits"), ("functional", "binary_logits"),
           ("text", "binary"),
           ("multi_io", "multiclass"), ("mixed_float16", "multiclass"),
           ("mixed_bfloat16", "binary"), ("mobilenet", "binary")]

# where a task has no such view, nbperceive refuses with its own error (checked by message)
REFUSALS = {("suspects", "regression"): "regression", ("suspects", "regression2"): "regression",
            ("suspects", "multilabel"): "multi-label", ("suspects", "none"): "label"}


def _data(kind, task, zoo_digits, zoo_reviews):
    if kind == "text":
        texts, y = zoo_reviews
        vocab = keras.layers.TextVectorization(max_tokens=2000)
        vocab.adapt(texts[:800])
        return texts, y, vocab.get_vocabulary()[2:]
    x, y = zoo_digits
    if kind in models.SEQUENCE_KINDS:
        x = x[..., 0]
    if kind == "mobilenet":  # 32x32 RGB digits
        x = np.repeat(np.repeat(np.repeat(x, 4, 1), 4, 2), 3, 3)
    labels = models.labels_for(task, y, x)
    if kind == "multi_io":  # a side vector (row sums) in, a value (mean ink) out
        side = x.reshape(len(x), 8, 8).sum(2)[:, ::2] / 16.0
        return [x, side.astype(np.float32)], [labels, x.reshape(len(x), -1).mean(1)], None
    return x, labels, None


def _rows(values, rows):
    """The same rows of an array or of each array of a list (several inputs / outputs)."""
    if isinstance(values, list):
        return [v[rows] for v in values]
    return values[rows]


def _build(kind, task, vocabulary):
    keras.utils.set_random_seed(0)
    if kind == "text":
        model = models.text(task, vocabulary)
    else:
        model = {**models.IMAGE_KINDS, **models.SEQUENCE_KINDS, **models.OTHER_KINDS}[kind](task)
    loss = models.HEADS[task][2]
    model.compile("adam", [loss, "mse"] if kind == "multi_io" else loss)
    return model


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "task"), COMBOS, ids=[f"{k}-{t}" for k, t in COMBOS])
def test_whole_path(kind, task, zoo_digits, zoo_reviews, tmp_path, monkeypatch):
    x, y, vocabulary = _data(kind, task, zoo_digits, zoo_reviews)
    model = _build(kind, task, vocabulary)
    fit_y = y if y is not None else models.labels_for("multiclass", zoo_digits[1], x)
    # the backbone (119 depths) is the zoo's slowest row: it trains on fewer samples and
    # explains one sample, so explain, inspector, explorer and report share one traced pass
    n_train, n_first = (128, 1) if kind == "mobilenet" else (384, 2)
    train_x, train_y = _rows(x, slice(0, n_train)), _rows(fit_y, slice(0, n_train))
    probe_x = _rows(x, slice(600, 728))
    probe_y = None if y is None else _rows(y, slice(600, 728))
    first = _rows(probe_x, slice(0, n_first))
    if kind in ("subclassed", "holds_functional"):
        model(_rows(train_x, slice(0, 1)))  # a subclassed model is built by its first call
    results = table.RESULTS.setdefault(f"{kind} / {task}", {})
    seconds = table.SECONDS.setdefault(f"{kind} / {task}", {})
    state: dict = {}

    def step(name, fn):
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)  # a skipped capture is a failure
                fn()
            results[name] = "✔"
        except nbp.NbPerceiveError as err:
            expected = REFUSALS.get((name, task)) or REFUSALS.get((name, kind))
            if expected and expected in str(err):
                results[name] = f"✔ refused: {str(err)[:90]}"
            else:
                results[name] = f"✖ {type(err).__name__}: {str(err)[:150]}"
        except Exception as err:  # noqa: BLE001 - the table shows what broke
            results[name] = f"✖ {type(err).__name__}: {str(err)[:150]}"
        seconds[name] = time.perf_counter() - start

    def fit():
        probe = probe_x if probe_y is None else (probe_x, probe_y)
        perceiver = nbp.Perceiver(model, probe=probe, run_dir=tmp_path / "run")
        callback = perceiver.callback()
        model.fit(train_x, train_y, epochs=1, batch_size=64, verbose=0, callbacks=[callback])
        assert not callback.failures, callback.failures
        state["perceiver"] = perceiver

    def run():
        r = nbp.open_run(tmp_path / "run")
        assert r.epochs == [0, 1]
        t = r.snapshot().table
        assert len(t) == 128 and np.isfinite(r.snapshot().vectors).all()
        if task in ("regression", "regression2"):
            np.testing.assert_allclose(t["residual"], t["pred"] - t["label"], atol=1e-5)
        elif task == "multilabel":
            assert {"hamming_accuracy", "label_0", "prob_2"} <= set(t.columns)
        elif task != "none":
            assert np.isfinite(t["loss"]).all()
        if task == "binary_logits":  # probabilities are the sigmoid of the linear unit
            z = model.predict(probe_x, verbose=0)[:, 0]
            np.testing.assert_allclose(t.filter(like="prob_").to_numpy()[:, 1],
                                       1 / (1 + np.exp(-z)), atol=1e-5)
        assert len(r.history()) == 2

    def project():
        xy = nbp.open_run(tmp_path / "run").project(method="pca")
        assert xy.shape == (128, 2) and np.isfinite(xy).all()

    def suspects():
        ranked = nbp.open_run(tmp_path / "run").suspects()
        assert len(ranked) == 128

    def explain():
        try:
            e = nbp.explain(model, first, method="gradcam")
        except nbp.ModelError as err:
            if "saliency" not in str(err):
                raise
            e = nbp.explain(model, first, method="saliency")
        assert np.isfinite(e.heatmaps).all() and e.heatmaps.shape[0] == n_first
        n_units = models.HEADS[task][0]
        assert len(e.labels) == (2 if n_units == 1 and task.startswith("binary") else n_units)
        if task == "binary_logits":  # a linear unit trained with from_logits: its sigmoid
            p = 1 / (1 + np.exp(-np.asarray(model(first, training=False))[:, 0]))
            np.testing.assert_allclose(e.probabilities[:, 1], p, atol=1e-5)

    def inspector():
        truth = probe_y[0] if isinstance(probe_y, list) else probe_y  # the first head's
        nbp.Inspector(model, _rows(probe_x, slice(0, 4)),
                      y_true=None if truth is None else truth[:4])

    def explorer():
        # as a large run's: its first layout (not cached) computed on a thread, the view
        # returned before it (every model kind and task takes this path here)
        from nbperceive.widgets import population

        for f in (tmp_path / "run").glob("epoch-*/proj-*.npy"):
            f.unlink()
        monkeypatch.setattr(population, "INLINE_LAYOUT_MAX", 0)
        ex = state["explorer"] = nbp.Explorer(state["perceiver"])
        assert ex.population.wait_for_layout(timeout=120)
        xy = np.stack([ex.population.x, ex.population.y], 1)
        assert xy.shape == (128, 2) and np.isfinite(xy).all()

    def save():
        path = nbp.save_html(state["explorer"], tmp_path / "report.html")
        assert path.stat().st_size > 10_000

    for name, fn in zip(table.STEPS, [fit, run, project, suspects, explain, inspector,
                                      explorer, save]):
        step(name, fn)
    failed = {k: v for k, v in results.items() if v.startswith("✖")}
    assert not failed, failed
