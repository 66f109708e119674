"""Model shapes users bring: Sequential, nested, several inputs, token inputs, logits heads."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import nbperceive as nbp

from .conftest import cnn


def _manual_gradcam(model_upto, model_rest, x, label):
    """GradCAM by hand: activations of the first part, gradient of the rest's logit."""
    a = tf.convert_to_tensor(model_upto(x))
    with tf.GradientTape() as tape:
        tape.watch(a)
        z = model_rest(a)[:, label]
    g = tape.gradient(z, a)
    w = tf.reduce_mean(g, axis=(1, 2), keepdims=True)
    return tf.nn.relu(tf.reduce_sum(w * a, -1)).numpy()


def test_sequential_softmax_model_uses_logits(images):
    keras.utils.set_random_seed(5)
    layers = [
        keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="s1"),
        keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="s2"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(3, activation="softmax", name="head"),
    ]
    seq = keras.Sequential([keras.Input((16, 16, 1)), *layers])
    e = nbp.explain(seq, images, method="gradcam", labels=[2])
    assert e.layers == ["s1", "s2"] and e.depths == [1, 2]
    np.testing.assert_allclose(e.probabilities, seq.predict(images, verbose=0), atol=1e-6)
    # expected: gradient of the pre-softmax logit (a linear copy of the head)
    linear = keras.layers.Dense(3, name="lin")
    linear.build((None, 16 * 16 * 4))
    linear.set_weights(layers[3].get_weights())
    upto = keras.Sequential([keras.Input((16, 16, 1)), layers[0], layers[1]])
    expected = _manual_gradcam(upto, lambda a: linear(layers[2](a)), images, 2)
    assert expected.max() > 0
    np.testing.assert_allclose(e.heatmaps[:, 1, 0], expected, rtol=1e-4, atol=1e-7)


def test_nested_submodel_inner_layers_are_candidates(images):
    keras.utils.set_random_seed(6)
    c1 = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="outer_conv")
    ic = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="inner_conv")
    ip = keras.layers.MaxPooling2D(name="inner_pool")
    gap = keras.layers.GlobalAveragePooling2D(name="gap")
    head = keras.layers.Dense(3, activation="softmax", name="head")
    inner = keras.Sequential([keras.Input((16, 16, 4)), ic, ip], name="block")
    x = keras.Input((16, 16, 1), name="img")
    nested = keras.Model(x, head(gap(inner(c1(x)))))
    flat = keras.Model(x, head(gap(ip(ic(c1(x))))))  # same layer objects, no nesting
    a = nbp.explain(nested, images, method="layercam")
    b = nbp.explain(flat, images, method="layercam")
    assert a.layers == ["outer_conv", "block/inner_conv", "block/inner_pool"]
    assert a.depths == [1, 2, 3] == b.depths
    assert a.heatmaps.max() > 0
    np.testing.assert_allclose(a.heatmaps, b.heatmaps, rtol=1e-5, atol=1e-8)


def test_multi_input_heatmaps_per_input():
    keras.utils.set_random_seed(7)
    big = keras.Input((16, 16, 1), name="big")
    small = keras.Input((8, 8, 3), name="small")
    meta = keras.Input((4,), name="meta")
    hb = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="big_conv")(big)
    hs = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="small_conv")(small)
    merged = keras.layers.Concatenate(name="cat")(
        [keras.layers.GlobalAveragePooling2D()(hb), keras.layers.GlobalAveragePooling2D()(hs),
         keras.layers.Dense(4, name="meta_dense")(meta)]
    )
    model = keras.Model([big, small, meta], keras.layers.Dense(2, name="logits")(merged))
    rng = np.random.default_rng(0)
    x = {"big": rng.random((3, 16, 16, 1)), "small": rng.random((3, 8, 8, 3)),
         "meta": rng.random((3, 4))}
    eb = nbp.explain(model, x, method="gradcam", input="big")
    es = nbp.explain(model, [x["big"], x["small"], x["meta"]], method="gradcam", input="small")
    em = nbp.explain(model, x, method="saliency", input="meta")
    assert eb.layers == ["big_conv"] and eb.heatmaps.shape == (3, 1, 2, 16, 16)
    assert es.layers == ["small_conv"] and es.heatmaps.shape == (3, 1, 2, 8, 8)
    assert em.input_kind == "vector" and em.heatmaps.shape == (3, 1, 2, 4)
    logits = model.predict(x, verbose=0)  # a logits head: probabilities are its softmax
    np.testing.assert_allclose(eb.probabilities, tf.nn.softmax(logits).numpy(), atol=1e-5)
    # saliency on meta is the |weight| path: nonzero exactly where meta matters
    assert np.all(em.heatmaps > 0)


def test_token_inputs_with_masking_get_heatmaps_over_tokens():
    keras.utils.set_random_seed(8)
    model = keras.Sequential([
        keras.Input((7,), dtype="int32"),
        keras.layers.Embedding(20, 6, mask_zero=True, name="emb"),
        keras.layers.GRU(5, return_sequences=True, name="gru"),
        keras.layers.GlobalAveragePooling1D(name="pool"),
        keras.layers.Dense(1, activation="sigmoid", name="p"),
    ])
    tokens = np.array([[4, 5, 6, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6, 7]], "int32")
    e = nbp.explain(model, tokens, method="layercam")
    assert e.input_kind == "tokens" and e.layers == ["emb", "gru"] and e.labels == [0, 1]
    assert e.heatmaps.shape == (2, 2, 2, 7)
    p = model.predict(tokens, verbose=0)[:, 0]
    np.testing.assert_allclose(e.probabilities[:, 1], p, atol=1e-5)
    np.testing.assert_allclose(e.probabilities.sum(1), 1.0, atol=1e-6)
    # padding (masked) positions carry no evidence at the GRU
    assert np.all(e.heatmaps[0, 1, :, 3:] == 0) and e.heatmaps[0, 1, :, :3].max() > 0


def test_string_input_conv1d_text_model_gets_gradcam_at_every_depth():
    # the Explorer's default method on a TextVectorization + Embedding + Conv1D model: the
    # gradient at the Conv1D, taken through the substituted Embedding output, lost its rank
    keras.utils.set_random_seed(9)
    texts = np.array(["a good film", "a bad film here", "so so", "good good good"], dtype=str)
    vec = keras.layers.TextVectorization(max_tokens=50, output_sequence_length=8)
    vec.adapt(texts)
    inp = keras.Input((), dtype="string")
    h = keras.layers.Embedding(50, 4, name="emb")(vec(inp))
    h = keras.layers.Conv1D(4, 3, activation="relu", name="conv")(h)
    out = keras.layers.Dense(2, activation="softmax", name="out")(
        keras.layers.GlobalMaxPooling1D()(h))
    model = keras.Model(inp, out)
    e = nbp.explain(model, texts[:2], method="gradcam")
    assert e.layers == ["emb", "conv"] and e.labels == [0, 1]
    assert e.heatmaps.shape[:3] == (2, 2, 2) and np.isfinite(e.heatmaps).all()


def test_probability_outputs_without_known_softmax_use_log_probs(images):
    """A model whose last layer is not a known softmax but outputs probabilities."""
    base = cnn(seed=9)
    x = keras.Input((16, 16, 1))
    probs = keras.layers.Lambda(lambda t: t * 1.0, name="ident")(base(x))
    wrapped = keras.Model(x, probs)
    e = nbp.explain(wrapped, images, method="saliency", labels=[0])
    np.testing.assert_allclose(e.probabilities, base.predict(images, verbose=0), atol=1e-5)
    assert np.all(np.isfinite(e.heatmaps)) and e.heatmaps.max() > 0


def test_a_single_sample_without_batch_axis(image_model, images):
    e = nbp.explain(image_model, images[0], method="layercam", labels=1)
    assert e.heatmaps.shape == (1, 3, 1, 16, 16)
    full = nbp.explain(image_model, images, method="layercam", labels=[1])
    np.testing.assert_allclose(e.heatmaps[0], full.heatmaps[0], rtol=1e-5, atol=1e-8)


def test_runs_under_the_callers_device_scope(image_model, images):
    with tf.device("/CPU:0"):
        e = nbp.explain(image_model, images, method="gradcam", labels=[0])
    assert e.heatmaps.shape == (4, 3, 1, 16, 16) and np.all(np.isfinite(e.heatmaps))


def test_many_classes_default_to_the_predicted_ones():
    keras.utils.set_random_seed(10)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c"),
        keras.layers.Flatten(),
        keras.layers.Dense(25, activation="softmax"),
    ])
    x = np.random.default_rng(3).random((3, 8, 8, 1)).astype("float32")
    e = nbp.explain(model, x, method="layercam")
    predicted = sorted(set(model.predict(x, verbose=0).argmax(-1).tolist()))
    assert e.labels == predicted and e.heatmaps.shape[2] == len(predicted)
    assert e.probabilities.shape == (3, 25)


def test_scorecam_on_sequential_and_nested_models(images):
    """tf-keras-vis alone fails on Keras 3 Sequential models (ReplaceToLinear)."""
    keras.utils.set_random_seed(11)
    inner = keras.Sequential([
        keras.Input((16, 16, 1)),
        keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="in_conv"),
    ], name="inner")
    seq = keras.Sequential([
        keras.Input((16, 16, 1)), inner, keras.layers.MaxPooling2D(name="pool"),
        keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax", name="head"),
    ])
    e = nbp.explain(seq, images, method="scorecam", labels=[1], layers="all")
    assert e.layers == ["inner/in_conv", "pool"] and e.heatmaps.shape == (4, 2, 1, 16, 16)
    assert np.all(np.isfinite(e.heatmaps)) and e.heatmaps.max() > 0


def test_scorecam_defaults_to_the_deepest_layer_clamps_max_n_and_prints_nothing(
        images, capfd):
    keras.utils.set_random_seed(13)
    x = keras.Input((16, 16, 1))
    h = keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="three")(x)
    h = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="six")(h)
    model = keras.Model(x, keras.layers.Dense(2, activation="softmax")(
        keras.layers.GlobalAveragePooling2D()(h)))
    capfd.readouterr()
    deepest = nbp.explain(model, images[:2], method="scorecam", labels=[0])
    assert deepest.layers == ["six"] and deepest.depths == [2]
    # max_n above a layer's 3 channels: clamped there, not tf-keras-vis' raw ValueError
    both = nbp.explain(model, images[:2], method="scorecam", labels=[0], layers="all", max_n=5)
    assert both.layers == ["three", "six"] and np.isfinite(both.heatmaps).all()
    full = nbp.explain(model, images[:2], method="scorecam", labels=[0], layers="all")
    np.testing.assert_allclose(both.heatmaps[:, 0], full.heatmaps[:, 0], rtol=1e-5, atol=1e-7)
    assert "step" not in capfd.readouterr().out  # no Keras progress bar per masked batch


def test_inference_mode_for_dropout_and_batch_norm(images):
    keras.utils.set_random_seed(12)
    model = keras.Sequential([
        keras.Input((16, 16, 1)),
        keras.layers.Conv2D(4, 3, padding="same", name="c"),
        keras.layers.BatchNormalization(name="bn"),
        keras.layers.Activation("relu", name="act"),
        keras.layers.Dropout(0.5, name="drop"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.layers[1].moving_mean.assign(np.full(4, 0.3, "float32"))  # BN statistics matter
    a = nbp.explain(model, images, method="layercam", labels=[0])
    b = nbp.explain(model, images, method="layercam", labels=[0])
    assert a.layers == ["c", "bn", "act", "drop"]
    np.testing.assert_allclose(a.probabilities, model.predict(images, verbose=0), atol=1e-5)
    np.testing.assert_array_equal(a.heatmaps, b.heatmaps)  # no dropout noise


class _Net(keras.Model):
    """Subclassed: layers made in __init__, used in call."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.c1 = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="sc1")
        self.c2 = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="sc2")
        self.gap = keras.layers.GlobalAveragePooling2D(name="sgap")
        self.head = keras.layers.Dense(3, activation="softmax", name="shead")

    def call(self, x):
        return self.head(self.gap(self.c2(self.c1(x))))


def test_subclassed_model_is_explained_at_its_inner_layers(images):
    keras.utils.set_random_seed(11)
    net = _Net(name="net")
    net(images[:1])
    x = keras.Input((16, 16, 1), name="img")
    flat = keras.Model(x, net.head(net.gap(net.c2(net.c1(x)))))  # same layer objects
    for method in ("gradcam", "layercam", "saliency"):
        a = nbp.explain(net, images, method=method)
        b = nbp.explain(flat, images, method=method)
        assert a.layers == (["sc1", "sc2"] if method != "saliency" else ["input"])
        assert a.depths == b.depths
        assert a.heatmaps.max() > 0
        np.testing.assert_allclose(a.heatmaps, b.heatmaps, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(a.probabilities, net.predict(images, verbose=0), atol=1e-6)


def test_subclassed_model_nested_in_a_functional_one(images):
    keras.utils.set_random_seed(12)
    inner = _Net(name="inner")
    x = keras.Input((16, 16, 1), name="img")
    model = keras.Model(x, inner(x))
    e = nbp.explain(model, images, method="gradcam", labels=[1])
    assert e.layers == ["inner/sc1", "inner/sc2"] and e.depths == [1, 2]
    direct = nbp.explain(inner, images, method="gradcam", labels=[1])
    np.testing.assert_allclose(e.heatmaps, direct.heatmaps, rtol=1e-5, atol=1e-8)
    s = nbp.explain(model, images[:1], method="scorecam", labels=[1], max_n=2, layers="all")
    assert s.layers == ["inner/sc1", "inner/sc2"] and np.isfinite(s.heatmaps).all()


def test_uint8_pixels_through_rescaling_are_explained_like_the_rescaled_floats():
    # a common Keras pattern: the model takes uint8 images and rescales them itself. Integers
    # have no gradient; the maps start at the Rescaling output, so they equal the maps of the
    # same layers fed the rescaled floats.
    data = nbp.datasets.fashion_mnist(source="offline")
    xu = data.x[:600, :, :, None]
    keras.utils.set_random_seed(3)
    body = [keras.layers.Conv2D(8, 3, activation="relu", name="conv1"),
            keras.layers.Conv2D(8, 3, activation="relu", name="conv2"),
            keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax", name="out")]
    as_uint8 = keras.Sequential([keras.Input((28, 28, 1), dtype="uint8"),
                                 keras.layers.Rescaling(1 / 255.0, name="scale"), *body])
    as_uint8.compile("adam", "sparse_categorical_crossentropy")
    as_uint8.fit(xu, data.y[:600], epochs=1, batch_size=64, verbose=0)
    as_float = keras.Sequential([keras.Input((28, 28, 1)), *body])
    xf = xu[:4].astype("float32") / 255.0
    for method in ("gradcam", "saliency"):
        u, f = nbp.explain(as_uint8, xu[:4], method=method), nbp.explain(as_float, xf,
                                                                          method=method)
        assert u.input_kind == "image"
        np.testing.assert_allclose(u.probabilities, f.probabilities, atol=1e-6)
        np.testing.assert_allclose(u.heatmaps, f.heatmaps, rtol=1e-4, atol=1e-6)
    assert nbp.explain(as_uint8, xu[:1]).layers == ["conv1", "conv2"]  # not the Rescaling


def test_a_model_of_several_outputs_explains_the_one_asked_for(images):
    # output= by name or index; by default the first (the one a run's pred describes); the
    # maps equal those of a model made of that output alone
    keras.utils.set_random_seed(4)
    inp = keras.Input((16, 16, 1))
    h = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c1")(inp)
    h = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c2")(h)
    flat = keras.layers.Flatten()(h)
    a = keras.layers.Dense(3, activation="softmax", name="kind")(flat)
    b = keras.layers.Dense(2, activation="softmax", name="side")(flat)
    both = keras.Model(inp, [a, b])
    for output, alone in ((None, keras.Model(inp, a)), ("side", keras.Model(inp, b)),
                          (1, keras.Model(inp, b))):
        got = nbp.explain(both, images, method="gradcam", output=output)
        want = nbp.explain(alone, images, method="gradcam")
        assert got.layers == want.layers == ["c1", "c2"]
        np.testing.assert_allclose(got.probabilities, want.probabilities, atol=1e-6)
        np.testing.assert_allclose(got.heatmaps, want.heatmaps, rtol=1e-4, atol=1e-6)
    with pytest.raises(nbp.ModelError, match="no output named 'nope'.*kind"):
        nbp.explain(both, images, output="nope")
    with pytest.raises(nbp.ModelError, match="out of range"):
        nbp.explain(both, images, output=2)
