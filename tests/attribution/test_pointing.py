"""Trained models: the heatmaps point at what decides the class.

Images: the class is WHAT a small object is (plus, ring or X), drawn at a random place next to
a class-neutral bright square; LayerCAM's peak must fall inside the object.
Text: the class is decided by one planted sentiment word among neutral tokens; the
top-weighted token must be the planted one.
"""

import keras
import numpy as np
import pytest

import nbperceive as nbp

SIZE, PATCH = 24, 8


def _shape(kind: int) -> np.ndarray:
    p = np.zeros((PATCH, PATCH), np.float32)
    i = np.arange(PATCH)
    if kind == 0:  # plus
        p[PATCH // 2 - 1 : PATCH // 2 + 1, :] = 1
        p[:, PATCH // 2 - 1 : PATCH // 2 + 1] = 1
    elif kind == 1:  # ring, two pixels thick
        p[:2, :] = p[-2:, :] = p[:, :2] = p[:, -2:] = 1
    else:  # thick X
        p[i, i] = p[i, PATCH - 1 - i] = 1
        p[i[:-1], i[1:]] = p[i[:-1], PATCH - 2 - i[:-1]] = 1
    return p


def shapes_data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.random((n, SIZE, SIZE, 1), np.float32) * 0.3
    y = rng.integers(0, 3, n)
    boxes = np.zeros((n, 2), int)
    for k in range(n):
        while True:  # object and distractor do not overlap
            r, c = rng.integers(0, SIZE - PATCH + 1, 2)
            dr, dc = rng.integers(0, SIZE - 4 + 1, 2)
            if dr + 4 <= r or dr >= r + PATCH or dc + 4 <= c or dc >= c + PATCH:
                break
        x[k, dr : dr + 4, dc : dc + 4, 0] = 1.0
        x[k, r : r + PATCH, c : c + PATCH, 0] = np.maximum(
            x[k, r : r + PATCH, c : c + PATCH, 0], _shape(y[k])
        )
        boxes[k] = r, c
    return x, y, boxes


@pytest.fixture(scope="module")
def shapes_model():
    keras.utils.set_random_seed(0)
    x, y, _ = shapes_data(1000, 0)
    model = keras.Sequential([
        keras.Input((SIZE, SIZE, 1)),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="last_conv"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=6, batch_size=32, verbose=0)
    return model


def test_pointing_game_layercam_peak_inside_the_object(shapes_model):
    x, y, boxes = shapes_data(100, 1)
    accuracy = shapes_model.evaluate(x, y, verbose=0)[1]
    assert accuracy >= 0.85, f"the test model did not learn the shapes ({accuracy:.2f})"
    e = nbp.explain(shapes_model, x, method="layercam")
    assert e.layers[-1] == "last_conv" and e.heatmaps.shape == (100, 5, 3, SIZE, SIZE)
    maps = e.heatmaps[np.arange(100), -1, y]  # deepest layer, true class
    peaks = np.array([np.unravel_index(np.argmax(m), m.shape) for m in maps])
    inside = np.all((peaks >= boxes) & (peaks < boxes + PATCH), axis=1)
    print(f"pointing game, LayerCAM at last_conv: {inside.mean():.0%} of 100 (acc {accuracy:.2f})")
    assert inside.mean() >= 0.9


POSITIVE, NEGATIVE, VOCAB, LENGTH = (1, 2), (3, 4), 40, 12


def planted_words(n: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.integers(5, VOCAB, (n, LENGTH)).astype("int32")
    y = rng.integers(0, 2, n)
    where = rng.integers(0, LENGTH, n)
    x[np.arange(n), where] = np.where(y == 1, rng.choice(POSITIVE, n), rng.choice(NEGATIVE, n))
    return x, y, where


def test_planted_sentiment_word_is_the_top_token():
    keras.utils.set_random_seed(0)
    x, y, _ = planted_words(1000, 0)
    model = keras.Sequential([
        keras.Input((LENGTH,), dtype="int32"),
        keras.layers.Embedding(VOCAB, 16, name="emb"),
        keras.layers.Conv1D(16, 3, padding="same", activation="relu", name="conv"),
        keras.layers.GlobalMaxPooling1D(),
        keras.layers.Dense(2, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    xt, yt, where = planted_words(100, 100)
    assert model.evaluate(xt, yt, verbose=0)[1] >= 0.9
    for method in ("layercam", "focus_layercam"):
        e = nbp.explain(model, xt, method=method)
        assert e.input_kind == "tokens" and e.layers == ["emb", "conv"]
        top = np.argmax(e.heatmaps[np.arange(100), :, yt], axis=-1)  # (100, layers)
        at_embedding = (top[:, 0] == where).mean()
        near_conv = (np.abs(top[:, 1] - where) <= 1).mean()  # a width-3 filter's reach
        print(f"{method}: planted word on top at emb {at_embedding:.0%}, conv +-1 {near_conv:.0%}")
        assert at_embedding >= 0.9
        assert near_conv >= 0.9


def test_deletion_auc_follows_the_maps_ranking(shapes_model):
    """Deleting what LayerCAM ranks first hurts more than deleting what it ranks last."""
    from nbperceive.attribution.explain import engine_for
    from nbperceive.attribution.faithfulness import deletion_auc
    from nbperceive.attribution.result import Explanation

    x, y, _ = shapes_data(12, 2)
    e = nbp.explain(shapes_model, x, method="layercam", labels=[0, 1, 2], faithfulness=True)
    assert e.faithfulness.shape == (12, 5, 3)
    assert np.all((e.faithfulness >= 0) & (e.faithfulness <= 1))
    ours = e.faithfulness[np.arange(12), :, y].mean(0)  # (depths,)
    reverse = Explanation("reverse", -e.heatmaps, e.layers, e.depths, e.labels, e.input_name,
                          e.input_kind, e.probabilities)
    worst = deletion_auc(engine_for(shapes_model, [x], 0), [x], reverse)
    worst = worst[np.arange(12), :, y].mean(0)
    print(f"deletion AUC per depth: LayerCAM {ours.round(3)}, reversed order {worst.round(3)}")
    assert np.all(ours < worst - 0.05)
