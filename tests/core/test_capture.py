"""The perception vectors, losses and predictions of real trained models."""

from __future__ import annotations

import json
import warnings

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import nbperceive as nbp

from . import models


def _fit(model, x, y, epochs=1):
    model.fit(x, y, epochs=epochs, batch_size=64, verbose=0)
    return model


def test_callback_records_every_epoch_plus_the_start(digits, tmp_path):
    x, y = digits
    model = models.sequential_cnn()
    perceiver = nbp.Perceiver(model, probe=(x[:600], y[:600]), run_dir=tmp_path / "run")
    model.fit(x, y, epochs=3, batch_size=64, verbose=0, callbacks=[perceiver.callback()])

    run = nbp.open_run(tmp_path / "run")
    assert run.epochs == [0, 1, 2, 3]
    snap = run.snapshot(run.epochs[-1])
    assert snap.vectors.dtype == np.float32
    assert snap.vectors.shape == (600, perceiver.probe.dim)
    assert np.isfinite(snap.vectors).all()
    table = snap.table
    assert list(table.columns[:5]) == ["sample_id", "label", "pred", "correct", "loss"]
    assert [c for c in table.columns if c.startswith("prob_")] == [f"prob_{i}" for i in range(10)]
    np.testing.assert_allclose(table.filter(like="prob_").sum(1), 1.0, atol=1e-4)
    # training changed how the model sees the probe: epoch 3 is not epoch 0
    assert not np.allclose(run.snapshot(0).vectors, snap.vectors)
    # the history lines up with Keras' logs
    hist = run.history()
    assert list(hist.epoch) == [0, 1, 2, 3]
    assert hist.probe_loss.iloc[-1] < hist.probe_loss.iloc[0]
    assert "train_loss" in hist.columns
    # each row sums up that epoch's table (kept in meta.json: the history reads no table) ...
    for epoch, loss, accuracy in zip(hist.epoch, hist.probe_loss, hist.probe_accuracy):
        t = run.snapshot(epoch).table
        assert loss == pytest.approx(t["loss"].mean(), rel=1e-12)
        assert accuracy == pytest.approx(t["correct"].mean(), rel=1e-12)
    # ... and a run recorded before meta.json kept the sums reads them from the tables
    for epoch in run.epochs:
        meta_path = tmp_path / "run" / f"epoch-{epoch:04d}" / "meta.json"
        meta = json.loads(meta_path.read_text())
        del meta["probe"]
        meta_path.write_text(json.dumps(meta))
    pd.testing.assert_frame_equal(nbp.open_run(tmp_path / "run").history(), hist)


def test_loss_and_accuracy_equal_keras_evaluate(mnist_5k, tmp_path):
    x, y = mnist_5k
    model = _fit(models.mnist_cnn(), x[:4000], y[:4000], epochs=2)
    probe_x, probe_y = x[4000:], y[4000:]
    snap = nbp.Perceiver(model, probe=(probe_x, probe_y), run_dir=tmp_path / "m").capture()
    per_sample = keras.losses.sparse_categorical_crossentropy(
        probe_y, model.predict(probe_x, verbose=0)).numpy()
    np.testing.assert_allclose(snap.table["loss"], per_sample, rtol=1e-4, atol=1e-5)
    loss, acc = model.evaluate(probe_x, probe_y, verbose=0)
    assert snap.table["loss"].mean() == pytest.approx(loss, rel=1e-4)
    assert snap.table["correct"].mean() == pytest.approx(acc, abs=1e-6)
    assert acc > 0.7  # a real, trained model


def test_layers_are_standardised_and_weighted_equally(digits, tmp_path):
    x, y = digits
    model = _fit(models.sequential_cnn(), x, y)
    perceiver = nbp.Perceiver(model, probe=(x[:500], y[:500]), run_dir=tmp_path / "r")
    snap = perceiver.capture()
    names = [b["name"] for b in snap.layout]
    assert not any(n.startswith(("dropout", "global_average")) for n in names)
    for block in snap.layout:
        part = np.asarray(snap.layer_vectors(block["name"]), dtype=np.float64)
        np.testing.assert_allclose(part.mean(0), 0.0, atol=1e-4)
        # each layer's block has total variance 1 (unless a feature is constant, e.g. dead ReLU)
        assert part.var(0).sum() == pytest.approx(1.0, abs=0.05) or part.var(0).sum() < 1.0


def test_wide_layers_are_reduced_by_a_fixed_random_projection(digits, tmp_path):
    x, y = digits
    model = _fit(models.sequential_cnn(), x, y)
    a = nbp.Perceiver(model, probe=(x[:300], y[:300]), run_dir=tmp_path / "a", max_width=4)
    b = nbp.Perceiver(model, probe=(x[:300], y[:300]), run_dir=tmp_path / "b", max_width=4)
    assert all(blk.stop - blk.start <= 4 for blk in a.probe.blocks)
    assert any(blk.projected and blk.width == 16 for blk in a.probe.blocks)
    np.testing.assert_allclose(a.capture().vectors, b.capture().vectors, atol=1e-5)


def test_multi_input_multi_output_model(digits, tmp_path):
    x, y = digits
    side = np.stack([x.mean((1, 2, 3)), x.std((1, 2, 3)), x.max((1, 2, 3)), x.min((1, 2, 3))], 1)
    reg = x.mean((1, 2, 3))[:, None]
    model = models.multi_io()
    model.fit([x, side], [y, reg], epochs=1, verbose=0)
    perceiver = nbp.Perceiver(model, probe=([x[:400], side[:400]], [y[:400], reg[:400]]),
                              run_dir=tmp_path / "mio")
    snap = perceiver.capture()
    names = [b["name"] for b in snap.layout]
    assert {"conv", "side_dense", "merge", "cls", "reg"} <= set(names)
    cls_p, reg_p = model.predict([x[:400], side[:400]], verbose=0)
    expected = (keras.losses.sparse_categorical_crossentropy(y[:400], cls_p).numpy()
                + 0.5 * ((reg[:400] - reg_p) ** 2).mean(1))
    np.testing.assert_allclose(snap.table["loss"], expected, rtol=1e-4, atol=1e-5)
    assert (snap.table["pred"] == cls_p.argmax(1)).all()
    # every output has columns of its own, named after it: its loss (unweighted), and for the
    # second one its prediction, label and residual
    t = snap.table
    np.testing.assert_allclose(t["cls_loss"], keras.losses.sparse_categorical_crossentropy(
        y[:400], cls_p).numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(t["reg_loss"], ((reg[:400] - reg_p) ** 2)[:, 0], rtol=1e-4,
                               atol=1e-6)
    np.testing.assert_allclose(t["loss"], t["cls_loss"] + 0.5 * t["reg_loss"], rtol=1e-5)
    np.testing.assert_allclose(t["reg_pred"], reg_p[:, 0], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(t["reg_label"], reg[:400, 0], rtol=1e-6)
    np.testing.assert_allclose(t["reg_residual"], reg_p[:, 0] - reg[:400, 0], atol=1e-5)
    assert "cls_pred" not in t.columns  # the first output's are pred, label and prob_*
    with pytest.raises(nbp.MetadataError, match="reg_pred"):
        nbp.Perceiver(model, probe=([x[:400], side[:400]], [y[:400], reg[:400]]),
                      metadata={"reg_pred": np.zeros(400)}, run_dir=tmp_path / "clash")
    assert not (tmp_path / "clash").exists()  # refused before anything was written


def test_two_classifier_heads_each_say_what_they_predict(digits, tmp_path):
    # the second head: parity of the digit, one sigmoid unit (binary), its own accuracy
    x, y = digits
    inp = keras.Input((8, 8, 1))
    h = keras.layers.Flatten()(keras.layers.Conv2D(8, 3, activation="relu", name="conv")(inp))
    digit = keras.layers.Dense(10, activation="softmax", name="digit")(h)
    odd = keras.layers.Dense(1, activation="sigmoid", name="odd")(h)
    model = keras.Model(inp, [digit, odd])
    model.compile("adam", ["sparse_categorical_crossentropy", "binary_crossentropy"])
    parity = (y % 2).astype("float32")[:, None]
    model.fit(x, [y, parity], epochs=3, verbose=0)
    snap = nbp.Perceiver(model, probe=(x[:300], [y[:300], parity[:300]]),
                         run_dir=tmp_path / "two").capture()
    t = snap.table
    p_odd = model.predict(x[:300], verbose=0)[1][:, 0]
    assert (t["odd_pred"] == (p_odd >= 0.5)).all() and (t["odd_label"] == y[:300] % 2).all()
    assert (t["odd_correct"] == ((p_odd >= 0.5) == (y[:300] % 2))).all()
    assert t["odd_correct"].mean() > 0.6  # it learnt something: a real head, real data
    with pytest.raises(nbp.LabelError, match="binary labels"):
        nbp.Perceiver(model, probe=(x[:300], [y[:300], y[:300] + 2.0]),
                      run_dir=tmp_path / "bad")


def test_branched_model_with_logits(digits, tmp_path):
    x, y = digits
    model = _fit(models.branched(), x, y)
    snap = nbp.Perceiver(model, probe=(x[:300], y[:300]), run_dir=tmp_path / "b").capture()
    assert {"stem", "res_conv", "res_bn", "skip", "post", "logits"} <= {
        b["name"] for b in snap.layout}
    probs = snap.table.filter(like="prob_").to_numpy()
    expected = tf.nn.softmax(model.predict(x[:300], verbose=0)).numpy()
    np.testing.assert_allclose(probs, expected, atol=1e-5)


def test_nested_model_inner_layers_count(digits, tmp_path):
    x, y = digits
    model = _fit(models.nested(), x, y)
    snap = nbp.Perceiver(model, probe=(x[:300], y[:300]), run_dir=tmp_path / "n").capture()
    assert [b["name"] for b in snap.layout] == ["inner_conv", "inner_conv2", "head"]
    np.testing.assert_allclose(snap.table.filter(like="prob_").to_numpy(),
                               model.predict(x[:300], verbose=0), atol=1e-5)


def test_dataset_probe_matches_arrays(digits, tmp_path):
    x, y = digits
    model = _fit(models.sequential_cnn(), x, y)
    from_arrays = nbp.Perceiver(model, probe=(x[:300], y[:300]), run_dir=tmp_path / "a").capture()
    ds = tf.data.Dataset.from_tensor_slices((x[:300], y[:300]))  # unbatched: batched for you
    from_ds = nbp.Perceiver(model, probe=ds, run_dir=tmp_path / "d").capture()
    np.testing.assert_allclose(from_ds.vectors, from_arrays.vectors, atol=1e-5)
    pd.testing.assert_frame_equal(from_ds.table, from_arrays.table)


def test_metadata_columns_join_the_table(digits, tmp_path):
    x, y = digits
    model = models.sequential_cnn()
    ink = x[:200].sum((1, 2, 3))
    meta = pd.DataFrame({"ink": ink, "parity": np.where(y[:200] % 2, "odd", "even")})
    perceiver = nbp.Perceiver(model, probe=(x[:200], y[:200]), metadata=meta,
                              run_dir=tmp_path / "m", class_names=list("abcdefghij"))
    table = perceiver.capture().table
    np.testing.assert_allclose(table["ink"], ink)
    assert list(table["parity"][:3]) == list(meta["parity"][:3])
    assert "prob_j" in table.columns
    # a function of one sample is applied to every probe sample, in probe order
    by_fn = nbp.Perceiver(model, probe=(x[:200], y[:200]), run_dir=tmp_path / "f",
                          metadata={"ink": lambda img: float(img.sum()), "parity": meta.parity})
    np.testing.assert_allclose(by_fn.capture().table["ink"], ink, rtol=1e-5)


def test_capture_runs_under_the_callers_device_scope(digits, tmp_path):
    x, y = digits
    model = models.sequential_cnn()
    perceiver = nbp.Perceiver(model, probe=(x[:100], y[:100]), run_dir=tmp_path / "dev")
    with tf.device("/CPU:0"):
        snap = perceiver.capture()
    assert np.isfinite(snap.vectors).all()


@pytest.fixture(scope="module")
def binary_model(digits):
    x, y = digits
    model = models.binary_mlp()
    model.fit(x, (y < 5).astype("float32"), epochs=2, batch_size=64, verbose=0)
    return model


@pytest.mark.parametrize("form", ["(N,)", "(N,1)", "bool", "float"])
def test_binary_labels_of_every_shape_record_the_loss_fit_uses(binary_model, digits, tmp_path,
                                                               form):
    x, y = digits
    x, target = x[:300], (y[:300] < 5)
    labels = {"(N,)": target.astype(np.int64), "(N,1)": target.astype(np.int64)[:, None],
              "bool": target, "float": target.astype(np.float32)}[form]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "capture failed" nor "diverging" warning
        snap = nbp.Perceiver(binary_model, probe=(x, labels), run_dir=tmp_path / "b").capture()
    p = binary_model.predict(x, verbose=0)
    expected = keras.losses.BinaryCrossentropy(reduction=None)(
        target.astype(np.float32)[:, None], p).numpy()
    np.testing.assert_allclose(snap.table["loss"], expected, rtol=1e-5, atol=1e-6)
    binary_model.make_test_function(force=True)  # Keras' own trace would keep the last rank
    loss, acc = binary_model.evaluate(x, labels, verbose=0)
    assert snap.table["loss"].mean() == pytest.approx(loss, rel=1e-4)
    assert snap.table["correct"].mean() == pytest.approx(acc, abs=1e-6)
    np.testing.assert_allclose(snap.table["prob_1"], p[:, 0], atol=1e-6)
    assert list(snap.table["label"]) == list(target.astype(int))


def test_uncompiled_model_with_labels_is_refused_and_without_labels_records(digits, tmp_path):
    x, y = digits
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax", name="out")])
    with pytest.raises(nbp.ModelError, match=r"model.compile\(loss=...\)"):
        nbp.Perceiver(model, probe=(x[:50], y[:50]), run_dir=tmp_path / "u")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NaN loss without labels is no divergence
        snap = nbp.Perceiver(model, probe=x[:50], run_dir=tmp_path / "v").capture()
    assert snap.table["loss"].isna().all()
    assert snap.vectors.shape[0] == 50


def test_a_model_recompiled_after_the_perceiver_is_recorded_with_its_new_loss(digits, tmp_path):
    x, y = digits
    model = models.sequential_cnn()
    perceiver = nbp.Perceiver(model, probe=(x[:100], y[:100]), run_dir=tmp_path / "r")
    first = perceiver.capture(0).table["loss"].to_numpy()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(), loss_weights=[2.0])
    second = perceiver.capture(1).table["loss"].to_numpy()
    np.testing.assert_allclose(second, 2.0 * first, rtol=1e-5)


def _pooled(t):
    t = np.asarray(t)
    return t.mean(axis=tuple(range(1, t.ndim - 1))) if t.ndim > 2 else t


@pytest.mark.parametrize("build", [models.subclassed, models.subclassed_in_functional,
                                   models.holds_functional])
def test_subclassed_models_record_their_inner_layers(build, digits, tmp_path):
    x, y = digits
    model = build()
    model.fit(x[:256], y[:256], epochs=1, batch_size=64, verbose=0)
    probe_x, probe_y = x[:120], y[:120]
    perceiver = nbp.Perceiver(model, probe=(probe_x, probe_y), run_dir=tmp_path / "s")
    names = [b.name for b in perceiver.probe.blocks]
    expected_names = {
        "subnet": ["sub_conv", "sub_hidden", "sub_head"],
        "sub_in_func": ["stem", "sub_conv", "sub_hidden", "sub_head", "outer_head"],
        "holds_func": ["blk_conv", "blk_pool", "hf_head"],
    }[model.name]
    assert names == expected_names
    snap = perceiver.capture()
    # raw features of the first block equal that layer's output computed by hand
    raw = perceiver._capturer.probe(tf.constant(probe_x))[1][0].numpy()
    first_layer = perceiver.probe.layers[0]
    by_hand = first_layer(tf.constant(probe_x))  # every first layer here takes the input
    np.testing.assert_allclose(raw, _pooled(by_hand), rtol=1e-5, atol=1e-6)
    p = model.predict(probe_x, verbose=0)
    np.testing.assert_allclose(snap.table.filter(like="prob_").to_numpy(), p, atol=1e-6)
    loss = model.evaluate(probe_x, probe_y, verbose=0)
    assert snap.table["loss"].mean() == pytest.approx(loss, rel=1e-4)
