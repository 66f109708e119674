"""The Inspector widget's traits: binary heatmaps, defaults, recomputation, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import nbperceive as nbp
from nbperceive.attribution.result import Explanation
from nbperceive.errors import LabelError, ModelError, NbPerceiveError, ProbeError
from nbperceive.widgets.inspector import Inspector, image_pixels
from nbperceive.widgets.serializers import array_from_json as decode_array
from nbperceive.widgets.serializers import array_to_json as encode_array

DIGITS = [str(i) for i in range(10)]


def _explanation(n=3, layers=3, labels=(0, 1, 2), hw=(8, 8), method="gradcam", seed=0):
    """A hand-made result with known maps: map (s, l, k) peaks at pixel (l, k)."""
    rng = np.random.default_rng(seed)
    heat = rng.uniform(0, 0.1, (n, layers, len(labels), *hw)).astype(np.float32)
    for s in range(n):
        for layer in range(layers):
            for k in range(len(labels)):
                heat[s, layer, k, layer, k] = 3.0 + s
    probs = rng.dirichlet(np.ones(10), n).astype(np.float32)
    return Explanation(method=method, heatmaps=heat, layers=[f"conv{i}" for i in range(layers)],
                       depths=list(range(1, layers + 1)), labels=list(labels), input_name="img",
                       input_kind="image", probabilities=probs)


def test_encode_roundtrip_is_binary():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    enc = encode_array(a)
    assert isinstance(enc["view"], memoryview)  # sent as a binary buffer
    assert enc["dtype"] == "float32" and enc["shape"] == [2, 3, 4]
    np.testing.assert_array_equal(decode_array(enc), a)


def test_from_explanation_sends_all_depths_and_labels_as_uint8():
    expl = _explanation()
    x = np.random.default_rng(1).uniform(0, 16, (3, 8, 8, 1))
    w = Inspector.from_explanation(expl, x, class_names=DIGITS, y_true=[4, 5, 6])
    panel = w.panels[0]
    heat = panel["heatmaps"]
    assert isinstance(heat["view"], memoryview)
    assert heat["dtype"] == "uint8" and heat["shape"] == [3, 3, 8, 8]  # (L, K, H, W)
    maps = decode_array(heat)
    # each map is quantised on its own: its peak is 255 wherever it sits
    assert maps.reshape(9, -1).max(axis=1).tolist() == [255] * 9
    assert maps[2, 1, 2, 1] == 255 and maps[0, 2, 0, 2] == 255
    probs = decode_array(panel["probabilities"])
    assert probs.dtype == np.float32 and probs.shape == (10,)
    img = decode_array(w.image)
    assert img.dtype == np.uint8 and img.shape == (8, 8, 1)
    assert w.depth == 2  # deepest by default
    assert w.y_true == 4 and w.n_samples == 3
    assert w.input_kind == "image" and w.methods == ["gradcam"]


def test_label_defaults_to_prediction_when_explained():
    expl = _explanation(labels=tuple(range(10)), hw=(10, 10))
    preds = expl.probabilities.argmax(axis=1)
    assert preds[0] != preds[2]  # the fixture's samples are predicted differently
    w = Inspector.from_explanation(expl, np.zeros((3, 10, 10)))
    assert w.label == int(expl.probabilities[0].argmax())
    w.sample = 2
    assert w.label == int(expl.probabilities[2].argmax())


def test_sample_change_shows_that_sample_from_the_explanation():
    expl = _explanation()
    x = np.stack([np.full((8, 8), v, np.float32) for v in (0.0, 1.0, 2.0)])
    x[:, 0, 0] = 5.0
    w = Inspector.from_explanation(expl, x, y_true=[7, 8, 9])
    first = w.panels[0]["probabilities"]
    w.sample = 1
    assert w.y_true == 8
    assert w.panels[0]["probabilities"] != first
    np.testing.assert_allclose(decode_array(w.panels[0]["probabilities"]),
                               expl.probabilities[1])
    w.sample = -1  # "nothing selected" in a linked population view: keep the last sample
    assert w.y_true == 8 and w.error == ""
    w.sample = 3
    assert "out of range" in w.error


def test_method_change_without_model_explains_why_and_keeps_method():
    w = Inspector.from_explanation(_explanation(), np.zeros((3, 8, 8)))
    w.method = "layercam"
    assert w.method == "gradcam"
    assert "no model" in w.error


def test_display_images_replace_the_input_when_they_fit():
    expl = _explanation()
    x = np.zeros((3, 8, 8, 1), np.float32)
    shown = np.full((3, 8, 8, 3), 200, np.uint8)
    w = Inspector.from_explanation(expl, x, display=shown)
    assert decode_array(w.image).shape == (8, 8, 3) and decode_array(w.image).max() == 200
    with pytest.raises(ProbeError, match="display= images of the model's input size"):
        Inspector.from_explanation(expl, x, display=np.zeros((3, 16, 16, 3), np.uint8))


def test_image_pixels_scales_floats_and_keeps_uint8():
    d = np.arange(64, dtype=np.float64).reshape(8, 8) / 4
    px = image_pixels(d)
    assert px.dtype == np.uint8 and px[0, 0, 0] == 0 and px[7, 7, 0] == 255
    rgb = np.full((4, 4, 3), 9, np.uint8)
    assert image_pixels(rgb) is not None and image_pixels(rgb)[0, 0].tolist() == [9, 9, 9]
    with pytest.raises(ProbeError, match="display="):
        image_pixels(np.zeros((4, 4, 7)))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"x": np.zeros((5, 8, 8))}, ProbeError, "same samples"),
        ({"x": np.zeros((3, 8, 8)), "y_true": [1, 2]}, LabelError, "one ground-truth"),
        ({"x": np.zeros((3, 8, 8)), "sample": 3}, ProbeError, "out of range"),
        ({"x": np.zeros((3, 8, 8)), "tokens": "a b c"}, ProbeError, "list of token"),
        ({"x": np.zeros((3, 8, 8)), "tokens": [["a"], ["b"]]}, ProbeError, "one list"),
        ({"x": None}, ProbeError, "sample"),
    ],
)
def test_bad_input_raises_helpful_errors(kwargs, error, message):
    expl = _explanation()
    x = kwargs.pop("x")
    with pytest.raises(error, match=message) as info:
        Inspector.from_explanation(expl, x, **kwargs)
    assert isinstance(info.value, NbPerceiveError)


def test_needs_a_model_or_an_explanation():
    with pytest.raises(ModelError, match="needs a Keras model"):
        Inspector(None, np.zeros((2, 8, 8)))
    with pytest.raises(ModelError, match="at most 2"):
        Inspector(x=np.zeros((2, 8, 8)), models=[object(), object(), object()])
    with pytest.raises(ModelError, match="expected a Keras model"):
        Inspector(object(), np.zeros((2, 8, 8)))


def test_unbuilt_model_is_refused_with_a_fix():
    keras = pytest.importorskip("keras")
    with pytest.raises(ModelError, match="(?i)build it first"):
        Inspector(keras.Sequential([keras.layers.Dense(3)]), np.zeros((2, 4)))


def test_token_explanation_shows_tokens():
    heat = np.zeros((1, 1, 2, 5), np.float32)
    heat[0, 0, 0, 1] = 1.0
    heat[0, 0, 1, 4] = 2.0
    expl = Explanation(method="layercam", heatmaps=heat, layers=["embedding"], depths=[0],
                       labels=[0, 1], input_name="ids", input_kind="tokens",
                       probabilities=np.array([[0.3, 0.7]], np.float32))
    toks = ["a", "<script>alert(1)</script>", "fine", "film", "<img src=x onerror=alert(2)>"]
    w = Inspector.from_explanation(expl, np.array([3, 4, 5, 6, 7]), tokens=toks,
                                   class_names=["neg", "pos"])
    assert w.tokens == toks and w.image == {} and w.input_kind == "tokens"
    assert w.label == 1 and w.depth == 0
    assert decode_array(w.panels[0]["heatmaps"]).shape == (1, 2, 5)


def test_vocabulary_decodes_ids_and_trims_padding():
    heat = np.zeros((2, 1, 1, 6), np.float32)
    expl = Explanation(method="saliency", heatmaps=heat, layers=["emb"], depths=[0], labels=[1],
                       input_name="ids", input_kind="tokens",
                       probabilities=np.full((2, 2), 0.5, np.float32))
    ids = np.array([[2, 3, 0, 0, 0, 0], [3, 3, 2, 1, 0, 0]])
    w = Inspector.from_explanation(expl, ids, vocabulary=["", "[UNK]", "good", "film"])
    assert w.tokens == ["good", "film"]
    w.sample = 1
    assert w.tokens == ["film", "film", "good", "[UNK]"]


# ---- with real Keras models (nbp.explain computes) --------------------------------------------
@pytest.fixture(scope="module")
def digits_models():
    keras = pytest.importorskip("keras")
    from sklearn.datasets import load_digits

    keras.utils.set_random_seed(0)
    d = load_digits()
    x = (d.images[..., None] / 16.0).astype("float32")
    y = d.target

    def cnn(name, width):
        m = keras.Sequential([
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(width, 3, padding="same", activation="relu", name="conv_a"),
            keras.layers.Conv2D(width, 3, padding="same", activation="relu", name="conv_b"),
            keras.layers.Conv2D(width, 3, padding="same", activation="relu", name="conv_c"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10, activation="softmax"),
        ], name=name)
        m.compile("adam", "sparse_categorical_crossentropy")
        m.fit(x[:1200], y[:1200], epochs=2, batch_size=64, verbose=0)
        return m

    return cnn("cnn_a", 8), cnn("cnn_b", 12), x[1200:1210], y[1200:1210]


def test_model_inspector_holds_every_depth_and_label(digits_models):
    model, _, x, y = digits_models
    w = Inspector(model, x, y_true=y, class_names=DIGITS)
    panel = w.panels[0]
    n_layers = len(panel["layers"])
    assert n_layers >= 3 and panel["layers"][-1] == "conv_c"
    assert panel["heatmaps"]["dtype"] == "uint8"
    assert panel["heatmaps"]["shape"] == [n_layers, 10, 8, 8]
    assert len(panel["heatmaps"]["view"]) == n_layers * 10 * 64
    assert w.depth == n_layers - 1
    probs = decode_array(panel["probabilities"])
    np.testing.assert_allclose(probs, model.predict(x[:1], verbose=0)[0], atol=1e-4)
    assert w.label == int(probs.argmax()) == panel["prediction"]
    assert w.n_samples == 10 and w.y_true == int(y[0])


def test_each_map_travels_with_its_raw_range(digits_models):
    model, _, x, y = digits_models
    w = Inspector(model, x, y_true=y, class_names=DIGITS)
    panel = w.panels[0]
    ranges = decode_array(panel["ranges"])
    expl = nbp.explain(model, x[:1], method="gradcam")
    assert panel["signed"] is False
    assert ranges.dtype == np.float32 and ranges.shape == (len(panel["layers"]), 10, 2)
    # code 0 is 0 and code 255 the map's own peak, in the method's units (not 1 for every map)
    peaks = expl.heatmaps[0].reshape(len(panel["layers"]), 10, -1).max(axis=2)
    np.testing.assert_allclose(ranges[..., 1], peaks, rtol=1e-3, atol=1e-7)
    assert (ranges[..., 0] == 0).all() and len(set(ranges[..., 1].ravel().round(6))) > 5


@pytest.mark.parametrize("method", ["integrated_gradients", "occlusion", "baseline_delta"])
def test_signed_methods_send_signed_maps_with_zero_at_128(digits_models, method):
    model, _, x, y = digits_models
    w = Inspector(model, x, y_true=y, class_names=DIGITS, method=method)
    panel = w.panels[0]
    assert panel["signed"] is True and panel["layers"] and len(panel["layers"]) == 1
    codes = decode_array(panel["heatmaps"]).astype(int)[0]  # (K, 8, 8), one depth: the input
    signed = nbp.explain(model, x[:1], method=method).signed()[0, 0]  # (K, 8, 8)
    a = np.abs(signed).reshape(10, -1).max(axis=1)
    np.testing.assert_allclose(decode_array(panel["ranges"])[0],
                               np.stack([-a, a], axis=1), rtol=1e-3, atol=1e-7)
    want = 128 + np.round(127 * signed / np.where(a > 0, a, 1)[:, None, None])
    np.testing.assert_allclose(codes, want, atol=1)
    # both signs on a real sample: evidence against the label below 128, for it above
    assert (codes < 128).any() and (codes > 128).any()
    assert (codes[signed == 0] == 128).all()


def test_method_change_recomputes_and_sample_change_too(digits_models):
    model, _, x, y = digits_models
    w = Inspector(model, x, y_true=y, method="gradcam")
    gradcam = w.panels[0]["heatmaps"]["view"]
    w.depth = 0
    w.method = "layercam"
    assert w.panels[0]["method"] == "layercam" and w.error == ""
    assert w.panels[0]["heatmaps"]["view"] != gradcam
    assert w.depth == 0  # same candidate layers: the chosen depth stays
    w.method = "saliency"  # no layers: one map at the input
    assert w.panels[0]["heatmaps"]["shape"][0] == 1 and w.depth == 0
    w.method = "gradcam"
    assert w.panels[0]["heatmaps"]["view"] == gradcam
    w.sample = 4
    assert w.y_true == int(y[4])
    np.testing.assert_allclose(decode_array(w.panels[0]["probabilities"]),
                               model.predict(x[4:5], verbose=0)[0], atol=1e-4)
    assert decode_array(w.image).shape == (8, 8, 1)


def test_faithfulness_scores_travel_with_the_maps(digits_models):
    model, _, x, _ = digits_models
    w = Inspector(model, x[:2], faithfulness=True)
    panel = w.panels[0]
    n_layers = len(panel["layers"])
    scores = {m: decode_array(a) for m, a in panel["faithfulness"].items()}
    assert set(scores) == {"deletion", "insertion", "mufidelity"}
    for name, values in scores.items():
        assert panel["faithfulness"][name]["dtype"] == "float32"
        assert values.shape == (n_layers, 10) and np.ptp(values) > 0, name
    assert np.all((scores["deletion"] >= 0) & (scores["deletion"] <= 1))
    assert np.all((scores["mufidelity"] >= -1) & (scores["mufidelity"] <= 1))
    # the same numbers as the Python API, and a saved page carries them for each saved sample
    e = nbp.explain(model, x[:1], method="gradcam")
    np.testing.assert_allclose(scores["insertion"], e.scores("insertion", sample=0), atol=1e-6)
    w.export_samples = [1]
    saved = w.export_state()["saved"]
    assert {"0", "1"} <= set(saved)
    assert set(saved["1"]["panels"][0]["faithfulness"]) == {"deletion", "insertion", "mufidelity"}
    with pytest.raises(ModelError, match="unknown metrics"):
        Inspector(model, x[:1], faithfulness=["deletoin"])


def test_method_list_comes_from_the_registry(digits_models):
    from nbperceive.attribution import METHODS

    model, _, x, _ = digits_models
    w = Inspector(model, x[:1])
    image_methods = [n for n, c in METHODS.items() if c.heatmap and "image" in c.input_kinds]
    assert w.methods == image_methods
    assert {"integrated_gradients", "occlusion", "rise"} <= set(w.methods)
    assert "activation_max" not in w.methods  # a class model, not a heatmap of the sample
    w.method = "occlusion"
    assert w.error == "" and w.panels[0]["method"] == "occlusion"


def test_failed_recompute_is_shown_not_blank(digits_models):
    model, _, x, _ = digits_models
    w = Inspector(model, x)
    before = w.panels
    w.method = "no-such-method"
    assert "unknown attribution method" in w.error
    assert w.panels == before and w.status == "" and w.method == "gradcam"
    w.method = "layercam"
    assert w.error == ""


def test_compare_two_models_side_by_side(digits_models):
    a, b, x, y = digits_models
    w = Inspector.compare(a, b, x, y_true=y)
    assert [p["title"] for p in w.panels] == ["cnn_a", "cnn_b"]
    assert w.depth == len(w.panels[0]["layers"]) - 1
    assert w.depth_b == len(w.panels[1]["layers"]) - 1
    assert w.panels[0]["heatmaps"]["view"] != w.panels[1]["heatmaps"]["view"]
    w.method = "layercam"
    assert [p["method"] for p in w.panels] == ["layercam", "layercam"]


def test_model_input_errors(digits_models):
    model, _, x, _ = digits_models
    single = Inspector(model, x[0])  # one sample gets a batch axis
    assert single.n_samples == 1
    with pytest.raises(ProbeError, match="expects"):
        Inspector(model, x[:, :4])
    with pytest.raises(ProbeError, match="out of range"):
        Inspector(model, x, sample=10)
    with pytest.raises(ModelError, match="unknown attribution method"):
        Inspector(model, x, method="no-such-method")


def test_input_selector_switches_the_explained_input():
    keras = pytest.importorskip("keras")
    from sklearn.datasets import load_digits

    keras.utils.set_random_seed(1)
    d = load_digits()
    img = (d.images[..., None] / 16.0).astype("float32")
    quads = img.reshape(-1, 2, 4, 2, 4).mean(axis=(2, 4)).reshape(-1, 4)  # quadrant means
    a = keras.Input((8, 8, 1), name="img")
    b = keras.Input((4,), name="meta")
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv")(a)
    h = keras.layers.GlobalAveragePooling2D()(h)
    h = keras.layers.Concatenate()([h, keras.layers.Dense(8, activation="relu")(b)])
    model = keras.Model([a, b], keras.layers.Dense(10, activation="softmax")(h))
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit([img[:600], quads[:600]], d.target[:600], epochs=1, verbose=0)

    w = Inspector(model, [img[600:605], quads[600:605]], method="saliency")
    assert w.inputs == ["img", "meta"]
    assert w.input_kind == "image" and decode_array(w.image).shape == (8, 8, 1)
    w.input_name = "meta"
    assert w.error == "" and w.input_kind == "vector" and w.image == {}
    assert w.panels[0]["heatmaps"]["shape"][-1] == 4
    assert w.tokens == [f"{v:.3g}" for v in quads[600]]
    with pytest.raises(ModelError, match="not one of the model's inputs"):
        Inspector(model, [img[:2], quads[:2]], input="nope")


def test_linked_to_the_population_view_follows_its_selection(digits_models):
    import pandas as pd
    import traitlets

    from nbperceive.widgets.population import PopulationView

    model, _, x, y = digits_models
    pop = PopulationView(pd.DataFrame({"x": np.arange(10.0), "y": np.zeros(10)}))
    w = Inspector(model, x, y_true=y, method="layercam")
    traitlets.link((pop, "selected"), (w, "sample"))  # what jslink does in the browser
    assert pop.selected == -1 and w.shown == 0  # nothing selected: keep showing sample 0
    w.method = "gradcam"  # still computes for the sample on screen
    assert w.error == "" and w.panels[0]["method"] == "gradcam"
    pop.selected = 6
    assert w.shown == 6 and w.y_true == int(y[6])
    np.testing.assert_allclose(decode_array(w.panels[0]["probabilities"]),
                               model.predict(x[6:7], verbose=0)[0], atol=1e-4)
    pop.selected = -1
    assert w.shown == 6 and w.y_true == int(y[6])


def test_text_model_with_one_sigmoid_output_shows_review_tokens():
    keras = pytest.importorskip("keras")
    from nbperceive.datasets import movie_reviews

    data = movie_reviews()
    texts = [t.lower() for t in data.x[:1500]]
    keras.utils.set_random_seed(2)
    vec = keras.layers.TextVectorization(max_tokens=2000, output_sequence_length=20,
                                         standardize="lower", split="whitespace")
    vec.adapt(texts)
    ids = vec(np.array(texts)).numpy()
    inp = keras.Input((20,), dtype="int32")
    h = keras.layers.Embedding(2000, 8, name="embedding")(inp)
    h = keras.layers.Conv1D(8, 3, padding="same", activation="relu", name="conv")(h)
    out = keras.layers.Dense(1, activation="sigmoid")(keras.layers.GlobalMaxPooling1D()(h))
    model = keras.Model(inp, out)
    model.compile("adam", "binary_crossentropy")
    model.fit(ids[:1400], data.y[:1400], epochs=1, verbose=0)

    probe = ids[1400:1405]
    w = Inspector(model, probe, vocabulary=vec.get_vocabulary(), y_true=data.y[1400:1405],
                  class_names=data.class_names, method="layercam")
    assert w.input_kind == "tokens" and w.image == {}
    assert "occlusion" in w.methods and "rise" in w.methods  # registry methods for tokens
    assert not {"integrated_gradients", "scorecam"} & set(w.methods)
    vocab = set(vec.get_vocabulary())
    words = [t if t in vocab else "[UNK]" for t in texts[1400].split()[:20]]
    assert w.tokens == words  # ids decoded back to words, padding dropped
    panel = w.panels[0]
    assert panel["labels"] == [0, 1]  # a single sigmoid explains both classes
    assert panel["heatmaps"]["shape"] == [len(panel["layers"]), 2, 20]
    p_pos = float(model.predict(probe[:1], verbose=0)[0, 0])
    assert w.label == panel["prediction"] == int(p_pos >= 0.5)
    np.testing.assert_allclose(decode_array(panel["probabilities"]), [1 - p_pos, p_pos],
                               atol=1e-4)


def test_a_saved_report_carries_the_maps_of_the_chosen_samples(digits_models):
    model, other, x, y = digits_models
    w = Inspector.compare(model, other, x, y_true=y)
    live_state = w.saved
    w.export_samples = [3, 7, 3, 99]  # duplicates and out-of-range ids are dropped
    saved = w.export_state()["saved"]
    assert live_state == {} and w.saved == {}  # the live widget is untouched
    assert sorted(saved, key=int) == ["0", "3", "7"]  # the shown sample, then the chosen
    entry = saved["7"]
    assert entry["y_true"] == int(y[7]) and len(entry["panels"]) == 2
    for i, m in enumerate((model, other)):
        np.testing.assert_allclose(decode_array(entry["panels"][i]["probabilities"]),
                                   m.predict(x[7:8], verbose=0)[0], atol=1e-4)
    w.sample = 7  # what the live widget computes for sample 7 is what the report carries
    assert w.panels[0]["heatmaps"]["view"] == entry["panels"][0]["heatmaps"]["view"]
    # ... with each map's raw range, so the saved page's colour bar shows the same numbers
    np.testing.assert_allclose(decode_array(entry["panels"][0]["ranges"]),
                               decode_array(w.panels[0]["ranges"]), rtol=1e-5)
    assert w.image == entry["image"]
    # the report's samples are explained in one batch: the same maps as one sample alone
    alone = Inspector.compare(model, other, x, y_true=y, sample=7)
    for i in range(2):
        a = decode_array(alone.panels[i]["heatmaps"]).astype(int)
        np.testing.assert_allclose(decode_array(entry["panels"][i]["heatmaps"]), a, atol=1)


def test_a_regression_shows_its_target_value_not_a_class():
    """A model that predicts values: the target travels as a value (y_value), no class
    truth (y_true -1; a float target read as a class index made "p(true)=-9.674")."""
    import keras

    d = nbp.datasets.digits()
    x, y = d.x[:40].reshape(40, -1).astype(np.float32), d.y[:40].astype(np.float32) + 0.25
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1)])
    ins = Inspector(model, x, y_true=y, method="saliency", regression=True, sample=3)
    assert ins.regression and ins.y_true == -1 and ins.y_value == pytest.approx(float(y[3]))
    ins.sample = 5
    assert ins.y_value == pytest.approx(float(y[5]))
    with pytest.raises(LabelError, match="one target value per sample"):
        Inspector(model, x, y_true=np.zeros((3, 2)), method="saliency", regression=True)


def test_text_samples_are_tokenised_when_shown_not_all_up_front():
    """The model's own vectoriser tokenised every probe text when the Inspector was made
    (0.7 s of a 10k-text Explorer()'s 2.1 s; minutes at 1M): now a sample when it is shown."""
    import keras

    texts = np.array([f"sample {i} is a <b>fine</b> film" for i in range(500)], dtype=object)
    vec = keras.layers.TextVectorization(max_tokens=600, output_sequence_length=8)
    vec.adapt(texts)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((), dtype="string"), vec,
                              keras.layers.Embedding(600, 4), keras.layers.GlobalAveragePooling1D(),
                              keras.layers.Dense(2, activation="softmax")])
    ins = Inspector(model, texts, method="saliency", sample=3)
    assert ins.tokens == ["sample", "3", "is", "a", "bfineb", "film"]  # as standardised
    assert len(ins._tokens._done) == 1  # the shown one only
    ins.sample = 42
    assert ins.tokens[:2] == ["sample", "42"] and len(ins._tokens._done) == 2


@pytest.mark.parametrize("method", ["saliency", "integrated_gradients"])
def test_flat_pixels_are_shown_as_the_image_with_its_maps(method):
    """An MLP fed flattened digits, display= the 8x8 images: the page draws the image with
    the maps reshaped over it (the numbers one by one said nothing), signed ones too; the
    method list stays the vector one, and the maps are the vector's maps, pixel for pixel."""
    import keras

    from nbperceive.widgets.maps import unpack_maps

    d = nbp.datasets.digits()
    images = d.x[:20]
    x = images.reshape(20, -1)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    flat = Inspector(model, x, method=method, sample=4)
    shown = Inspector(model, x, method=method, sample=4, display=images)
    panel, vector = shown.panels[0], flat.panels[0]
    assert vector["input_kind"] == "vector" and len(flat.tokens) == 64
    assert panel["input_kind"] == "image" and panel["input_axes"] == [8, 8]
    assert decode_array(shown.image).shape[:2] == (8, 8) and shown.tokens == []
    assert shown.methods == flat.methods and shown.input_kind == "vector"
    assert panel["signed"] == vector["signed"]
    for got, want in zip(unpack_maps(panel), unpack_maps(vector), strict=True):
        np.testing.assert_array_equal(got, want.reshape(want.shape[0], 8, 8))
    shown.sample = 7  # another sample: still an image
    assert shown.panels[0]["input_kind"] == "image"
    assert decode_array(shown.image).shape[:2] == (8, 8)


def test_display_of_another_size_leaves_a_vector_as_numbers():
    import keras

    d = nbp.datasets.digits()
    x = d.x[:10].reshape(10, -1)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])
    ins = Inspector(model, x, method="saliency", display=np.zeros((10, 4, 4), np.uint8))
    assert ins.panels[0]["input_kind"] == "vector" and len(ins.tokens) == 64


def test_a_model_of_several_outputs_explains_the_output_asked_for():
    """output= picks the head (as nbp.explain(output=...)): here the digit classifier behind a
    value head that comes first; the maps, labels and probabilities are that head's."""
    import keras

    d = nbp.datasets.digits()
    x, y = d.x[:300, :, :, None].astype(np.float32), d.y[:300]
    ink = x.mean(axis=(1, 2, 3))[:, None]
    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 8, 1))
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv")(inp)
    h = keras.layers.GlobalAveragePooling2D()(h)
    model = keras.Model(inp, [keras.layers.Dense(1, name="ink")(h),
                              keras.layers.Dense(10, activation="softmax", name="digit")(h)])
    model.compile("adam", ["mse", "sparse_categorical_crossentropy"])
    model.fit(x, [ink, y], epochs=2, verbose=0)
    for background in (False, True):
        ins = Inspector(model, x[:10], y_true=y[:10], output="digit", sample=2,
                        background=background)
        assert ins.wait(60)
        panel = ins.panels[0]
        assert panel["heatmaps"]["shape"][1:] == [10, 8, 8]  # every digit, not one value
        probs = decode_array(panel["probabilities"])
        np.testing.assert_allclose(probs, model.predict(x[2:3], verbose=0)[1][0], atol=1e-4)
        assert ins.y_true == int(y[2])
        ins.close()
    first = Inspector(model, x[:10], y_true=ink[:10, 0], regression=True, method="saliency")
    assert decode_array(first.panels[0]["probabilities"]).size == 1  # default: the first head
    with pytest.raises(ModelError, match="no output named 'digits'.*'ink', 'digit'"):
        Inspector(model, x[:10], y_true=y[:10], output="digits")
    with pytest.raises(ModelError, match="no output named"):
        Inspector(model, x[:10], y_true=y[:10], output="digits", background=True)


def test_outputs_returned_by_name_are_counted_as_explain_counts_them():
    """A model returning a dict: output 0 is the first by sorted name (as explain flattens
    it), for the maps and for the top labels the inspector picks from its probabilities."""
    import keras

    x = nbp.datasets.digits().x[:5, :, :, None].astype(np.float32)
    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 8, 1))
    h = keras.layers.GlobalAveragePooling2D()(
        keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv")(inp))
    model = keras.Model(inp, {"ink": keras.layers.Dense(1, name="ink")(h),
                              "digit": keras.layers.Dense(10, activation="softmax",
                                                          name="digit")(h)})
    ins = Inspector(model, x, output=0, max_labels=3)  # "digit" < "ink"
    probs = decode_array(ins.panels[0]["probabilities"])
    np.testing.assert_allclose(probs, np.asarray(model(x[:1])["digit"])[0], atol=1e-5)
    assert sorted(ins.panels[0]["labels"]) == sorted(np.argsort(-probs)[:3].tolist())
