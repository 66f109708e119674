"""What each task records and shows, checked against Keras' own numbers."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import nbperceive as nbp

from . import models


def _trained(kind, task, x, y):
    keras.utils.set_random_seed(0)
    model = models.IMAGE_KINDS[kind](task)
    model.compile("adam", models.HEADS[task][2])
    model.fit(x[:600], y[:600], epochs=2, batch_size=64, verbose=0)
    return model


@pytest.fixture(scope="module")
def multilabel(zoo_digits):
    x, digit = zoo_digits
    y = models.labels_for("multilabel", digit, x)
    return _trained("sequential", "multilabel", x, y), x[600:800], y[600:800]


@pytest.fixture(scope="module")
def regression(zoo_digits):
    x, digit = zoo_digits
    y = models.labels_for("regression", digit, x)
    return _trained("subclassed", "regression", x, y), x[600:800], y[600:800]


def test_multilabel_records_every_label(multilabel, tmp_path):
    model, x, y = multilabel
    perceiver = nbp.Perceiver(model, probe=(x, y), class_names=["small", "even", "loop"],
                              run_dir=tmp_path / "m")
    snap = perceiver.capture()
    t = snap.table
    p = model.predict(x, verbose=0)
    np.testing.assert_allclose(t[["prob_small", "prob_even", "prob_loop"]], p, atol=1e-6)
    hits = (p >= 0.5) == y.astype(bool)
    np.testing.assert_array_equal(t["correct"], hits.all(1))
    np.testing.assert_allclose(t["hamming_accuracy"], hits.mean(1))
    np.testing.assert_array_equal(t[["label_small", "label_even", "label_loop"]], y)
    assert t["loss"].mean() == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-4)
    # the inspector shows every true label of the sample, not an argmax of the multi-hot row
    sample = int(np.flatnonzero(y.sum(1) >= 2)[0])
    inspector = nbp.Inspector(model, x[:sample + 1], y_true=y[:sample + 1], sample=sample,
                              class_names=["small", "even", "loop"])
    assert inspector.y_true_labels == [int(i) for i in np.flatnonzero(y[sample])]
    e = nbp.explain(model, x[:3], method="gradcam")
    assert e.labels == [0, 1, 2]
    np.testing.assert_allclose(e.probabilities, p[:3], atol=1e-6)  # sigmoids, not a softmax

    # the explorer: a 2x2 per label (truth x p >= 0.5), the label picked in a dropdown that
    # the page's selection view follows; the inspector gets the multi-hot truth
    explorer = nbp.Explorer(perceiver)
    assert explorer.label_picker.options == ("small", "even", "loop")
    for i, name in enumerate(["small", "even", "loop"]):
        explorer.label_picker.value = name
        truth, said = y[:, i].astype(bool), p[:, i] >= 0.5
        want = [[np.sum(~truth & ~said), np.sum(~truth & said)],
                [np.sum(truth & ~said), np.sum(truth & said)]]
        np.testing.assert_array_equal(explorer._cm_grid.color, want)
    assert explorer.selection_view.confusion_label == 0  # then jslinked to the picker
    assert "even" in explorer.precision_recall.value
    explorer.population.selected = sample
    assert explorer.inspector.multi_label
    explorer.inspector.sample = sample
    assert explorer.inspector.wait(120)  # its first maps are made on its worker
    assert explorer.inspector.y_true_labels == [int(i) for i in np.flatnonzero(y[sample])]
    # no colour by the constant -1 of label and pred; the hover card names the labels
    assert not {"label", "pred"} & set(explorer.population.columns)
    names = ["small", "even", "loop"]
    card = explorer.population.info(sample)
    assert card["label"] == ", ".join(n for n, v in zip(names, y[sample]) if v)
    assert card["pred"] == (", ".join(n for n, q in zip(names, p[sample]) if q >= 0.5)
                            or "no label")


def test_regression_records_residuals_and_shows_predicted_vs_true(regression, tmp_path):
    model, x, y = regression
    perceiver = nbp.Perceiver(model, probe=(x, y), run_dir=tmp_path / "r")
    t = perceiver.capture().table
    pred = model.predict(x, verbose=0)[:, 0]
    np.testing.assert_allclose(t["pred"], pred, atol=1e-6)
    np.testing.assert_allclose(t["residual"], pred - y, atol=1e-6)
    np.testing.assert_allclose(t["loss"], (pred - y) ** 2, rtol=1e-4, atol=1e-7)
    with pytest.raises(nbp.RunError, match="regression"):
        perceiver.run.suspects()
    for source in (perceiver, tmp_path / "r"):  # live and from the run directory
        explorer = nbp.Explorer(source)
        # the background ranking fails, and the list says why instead of waiting forever
        assert explorer.wait_for_suspects(120)
        assert "regression" in explorer.suspects.empty and explorer.suspects.ids == []
        np.testing.assert_allclose(explorer._pred_true.x, y, atol=1e-6)
        np.testing.assert_allclose(explorer._pred_true.y, pred, atol=1e-6)


def test_regression_is_explained_on_its_output_value(regression):
    model, x, _ = regression
    e = nbp.explain(model, x[:3], method="saliency")
    assert e.labels == [0]  # one output value, not two invented classes
    np.testing.assert_allclose(e.probabilities[:, 0], model.predict(x[:3], verbose=0)[:, 0],
                               atol=1e-6)
    xt = tf.constant(x[:3])
    with tf.GradientTape() as tape:
        tape.watch(xt)
        out = model(xt)[:, 0]
    grad = np.abs(tape.gradient(out, xt).numpy()).max(-1)
    np.testing.assert_allclose(e.heatmaps[:, 0, 0], grad, rtol=1e-4, atol=1e-7)


def test_a_model_explain_cannot_handle_gets_an_explorer_without_inspector(zoo_digits, tmp_path):
    """Integer inputs without an Embedding have no gradient anywhere: say so, show the rest."""
    x, digit = zoo_digits
    ids = (x.reshape(len(x), -1) > 0.5).astype("int32")[:200]
    inp = keras.Input((64,), dtype="int32")
    h = keras.layers.Dense(16, activation="relu", name="hidden")(keras.ops.cast(inp, "float32"))
    model = keras.Model(inp, keras.layers.Dense(10, activation="softmax", name="out")(h))
    model.compile("adam", "sparse_categorical_crossentropy")
    perceiver = nbp.Perceiver(model, probe=(ids, digit[:200]), run_dir=tmp_path / "i")
    perceiver.capture()
    with pytest.raises(nbp.ModelError, match="Embedding"):
        nbp.explain(model, ids[:1])
    explorer = nbp.Explorer(perceiver)
    assert explorer.inspector is None
    assert explorer.no_inspector.startswith("No inspector for this model:")
    assert "Embedding" in explorer.no_inspector
