"""Each captured epoch keeps the model's weights (within a budget), and they load back."""

from __future__ import annotations

import resource
import signal
import warnings

import keras
import numpy as np
import pytest

import nbperceive as nbp


def _probe_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 1)),
                              keras.layers.Conv2D(8, 3, activation="relu", name="conv"),
                              keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(10, activation="softmax", name="out")])
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def _probs(table):
    return table[[c for c in table.columns if c.startswith("prob_")]].to_numpy()


def test_each_epochs_weights_give_that_epochs_predictions(digits, tmp_path):
    x, y = digits
    model = _probe_model()
    perceiver = nbp.Perceiver(model, probe=(x[:64], y[:64]), run_dir=tmp_path / "r")
    model.fit(x[:600], y[:600], epochs=2, verbose=0, callbacks=[perceiver.callback()])
    run = nbp.open_run(tmp_path / "r")
    assert run.weight_epochs == [0, 1, 2]
    first = _probs(run.snapshot(0).table)
    for epoch in run.epochs:
        recorded = _probs(run.snapshot(epoch).table)
        again = run.model_at(epoch, model).predict(x[:64], verbose=0)
        np.testing.assert_allclose(again, recorded, atol=1e-5)
    assert np.abs(_probs(run.snapshot(2).table) - first).max() > 0.01  # training moved them
    assert run.snapshot(1).meta["weights"]["bytes"] == run.weights_path(1).stat().st_size
    # the user's model is untouched by loading an earlier epoch
    np.testing.assert_allclose(model.predict(x[:64], verbose=0),
                               _probs(run.snapshot(2).table), atol=1e-5)
    # a damaged file is an error naming it, and leaves the model alone
    path = run.weights_path(1)
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(nbp.ModelError, match="epoch-0001/model.weights.h5 .*damaged"):
        run.model_at(1, model)
    with pytest.raises(nbp.ModelError, match="not a Keras weights file"):
        nbp.models.load_weights(model, run.epoch_path(1) / "table.parquet")


def test_budget_keeps_the_first_epochs_and_says_why(digits, tmp_path):
    x, y = digits
    model = _probe_model()
    perceiver = nbp.Perceiver(model, probe=(x[:32], y[:32]), run_dir=tmp_path / "r",
                              keep_weights=30_000)  # one file of this model is ~20 kB
    with pytest.warns(RuntimeWarning, match="without model weights.*budget") as seen:
        model.fit(x[:300], y[:300], epochs=2, verbose=0, callbacks=[perceiver.callback()])
    assert len([w for w in seen if "budget" in str(w.message)]) == 1  # once, not per epoch
    run = perceiver.run
    assert run.weight_epochs == [0]
    assert sum(run.weights_path(e).stat().st_size for e in run.weight_epochs) <= 30_000
    with pytest.raises(nbp.RunError, match="epoch 2 .* no saved weights .*budget"):
        run.weights_path(2)


def test_keep_weights_false_and_bad_values(digits, tmp_path):
    x, y = digits
    model = _probe_model()
    perceiver = nbp.Perceiver(model, probe=(x[:32], y[:32]), run_dir=tmp_path / "r",
                              keep_weights=False)
    perceiver.capture()
    assert perceiver.run.weight_epochs == []
    assert not list((tmp_path / "r").rglob("*.h5"))
    with pytest.raises(nbp.ModelError, match="keep_weights"):
        nbp.Perceiver(model, probe=(x[:32], y[:32]), run_dir=tmp_path / "s", keep_weights=-1)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # h5py, EFBIG
def test_a_weights_file_that_cannot_be_written_never_stops_training(digits, tmp_path):
    """A real write failure: a file-size limit (RLIMIT_FSIZE) below the weights file's size
    but above every other file of the epoch, so only the weights fail (EFBIG)."""
    x, y = digits
    model = _probe_model()
    perceiver = nbp.Perceiver(model, probe=(x[:16], y[:16]), run_dir=tmp_path / "r")
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (12_000, old_limit[1]))
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            history = model.fit(x[:200], y[:200], epochs=2, verbose=0,
                                callbacks=[perceiver.callback()])
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)
    assert len(history.history["loss"]) == 2
    run = perceiver.run
    assert run.epochs == [0, 1, 2] and run.weight_epochs == []
    assert any("recorded without model weights; saving failed" in str(w.message) for w in seen)
    assert "saving failed" in run.snapshot(1).meta["weights"]["skipped"]
    assert not [p for p in (tmp_path / "r").rglob("*") if p.name.startswith(".tmp-")]


def test_a_string_input_model_is_copied_with_its_vocabulary():
    # TextVectorization's vocabulary is a lookup table, not a weight: a copy rebuilt from the
    # config alone failed with "Table not initialized" (the inspector's earlier epochs)
    import keras
    import tensorflow as tf

    from nbperceive.models import clone

    texts = tf.constant(["good film", "bad film", "great fun", "awful mess"] * 8)
    vec = keras.layers.TextVectorization(max_tokens=20, output_sequence_length=4)
    vec.adapt(texts)
    inp = keras.Input((), dtype="string")
    h = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(20, 4)(vec(inp)))
    model = keras.Model(inp, keras.layers.Dense(2, activation="softmax")(h))
    copy = clone(model)
    assert copy is not model
    np.testing.assert_allclose(copy.predict(texts[:4], verbose=0),
                               model.predict(texts[:4], verbose=0), atol=1e-6)


def test_a_subclassed_model_is_copied(digits):
    # clone_model takes no clone_function for a subclassed model: passing one made every
    # copy fail, so a saved page left out every earlier epoch of a subclassed model
    from nbperceive.models import clone

    from . import models

    model = models.subclassed()
    copy = clone(model)
    assert copy is not model and type(copy) is type(model)
    x = digits[0][:4].astype("float32")
    np.testing.assert_allclose(copy.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)


def test_a_saved_page_carries_earlier_epochs_of_a_subclassed_regression(digits, tmp_path):
    # one output unit: the earlier epochs' maps are of that output (label 0), as the final
    # epoch's are; a subclassed model's epoch copy is made from its config
    class Value(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.conv = keras.layers.Conv2D(4, 3, padding="same", activation="relu")
            self.gap = keras.layers.GlobalAveragePooling2D()
            self.out = keras.layers.Dense(1)

        def call(self, x):
            return self.out(self.gap(self.conv(x)))

    x = digits[0][:300].astype("float32")
    ink = x.reshape(len(x), -1).mean(1)
    model = Value(name="value")
    model(x[:1])
    model.compile("adam", "mse")
    perceiver = nbp.Perceiver(model, probe=(x[200:], ink[200:]), run_dir=tmp_path / "r")
    model.fit(x[:200], ink[:200], epochs=2, verbose=0, callbacks=[perceiver.callback()])
    ins = nbp.Inspector(model, x[200:], run=tmp_path / "r")
    ins.export_samples = [0]
    entry = ins.export_state()["saved"]["0"]
    assert entry["panels"][0]["labels"] == [0]
    assert sorted(entry["epochs"]) == ["0", "1"]
    assert all(panels[0]["labels"] == [0] for panels in entry["epochs"].values())


def test_an_epoch_whose_model_cannot_be_copied_is_tried_once_for_all_saved_samples(
        digits, tmp_path, caplog):
    # a subclassed model whose config does not rebuild it (its width is a constructor argument
    # get_config leaves out): its epoch copies fail; the page leaves each earlier epoch out
    # once, instead of copying the model again for every saved sample
    class Wide(keras.Model):
        def __init__(self, units=10, **kwargs):
            super().__init__(**kwargs)
            self.conv = keras.layers.Conv2D(4, 3, padding="same", activation="relu")
            self.gap = keras.layers.GlobalAveragePooling2D()
            self.out = keras.layers.Dense(units)

        def call(self, x):
            return self.out(self.gap(self.conv(x)))

    x = digits[0][:300].astype("float32")
    ink = x.reshape(len(x), -1).mean(1)
    model = Wide(1, name="wide")
    model(x[:1])
    model.compile("adam", "mse")
    perceiver = nbp.Perceiver(model, probe=(x[200:], ink[200:]), run_dir=tmp_path / "r")
    model.fit(x[:200], ink[:200], epochs=2, verbose=0, callbacks=[perceiver.callback()])
    ins = nbp.Inspector(model, x[200:], run=tmp_path / "r")
    ins.export_samples = [0, 1, 2]
    with caplog.at_level("WARNING", logger="nbperceive"):
        saved = ins.export_state()["saved"]
    assert sorted(saved) == ["0", "1", "2"] and not any("epochs" in e for e in saved.values())
    left_out = [r.getMessage() for r in caplog.records if "left out" in r.getMessage()]
    assert len(left_out) == 2, left_out  # epochs 0 and 1, once each
    assert all("cannot be copied" in m for m in left_out)
