"""Bad input gets a specific nbperceive error that says what to do."""

import keras
import numpy as np
import pytest

import nbperceive as nbp
from nbperceive.errors import LabelError, ModelError, NbPerceiveError, ProbeError


def test_unknown_method(image_model, images):
    with pytest.raises(ModelError, match="unknown attribution method 'gradcamm'.*layercam"):
        nbp.explain(image_model, images, method="gradcamm")


@pytest.mark.parametrize("labels", [3, [0, 7], -1, [1.5]])
def test_label_out_of_range(image_model, images, labels):
    with pytest.raises(LabelError, match="label"):
        nbp.explain(image_model, images, labels=labels)


def test_x_shape_mismatch(image_model):
    with pytest.raises(ProbeError, match=r"expects \(batch, 16, 16, 1\)"):
        nbp.explain(image_model, np.zeros((2, 28, 28, 1), "float32"))


def test_unknown_input_name(image_model, images):
    with pytest.raises(ModelError, match="no input named 'pixels'.*'img'"):
        nbp.explain(image_model, images, input="pixels")


def test_float_values_for_token_input(text_model):
    with pytest.raises(ProbeError, match="integer token ids"):
        nbp.explain(text_model, np.full((2, 10), 0.5))


def test_multi_input_needs_every_array():
    a, b = keras.Input((4, 4, 1), name="a"), keras.Input((3,), name="b")
    h = keras.layers.Conv2D(2, 3, padding="same")(a)
    h = keras.layers.Concatenate()([keras.layers.Flatten()(h), b])
    model = keras.Model([a, b], keras.layers.Dense(2)(h))
    with pytest.raises(ProbeError, match="no entry for input"):
        nbp.explain(model, {"a": np.zeros((1, 4, 4, 1))})
    with pytest.raises(ProbeError, match="list or dict"):
        nbp.explain(model, np.zeros((1, 4, 4, 1)))


def test_layer_methods_on_a_model_without_spatial_layers():
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4), keras.layers.Dense(2)])
    with pytest.raises(ModelError, match="saliency"):
        nbp.explain(model, np.zeros((2, 5), "float32"), method="gradcam")
    e = nbp.explain(model, np.ones((2, 5), "float32"), method="saliency")
    assert e.heatmaps.shape == (2, 1, 2, 5)


def test_unbuilt_and_non_keras_models():
    with pytest.raises(ModelError, match="not built"):
        nbp.explain(keras.Sequential([keras.layers.Dense(2)]), np.zeros((1, 3)))
    with pytest.raises(ModelError, match="keras.Model"):
        nbp.explain(lambda x: x, np.zeros((1, 3)))


def test_errors_are_nbperceive_errors(image_model, images):
    with pytest.raises(NbPerceiveError):
        nbp.explain(image_model, images, method="smoothgrad", passes=0)
