"""GradCAM and LayerCAM equal tf-keras-vis's on a Functional CNN (same layer, same labels)."""

import numpy as np
import pytest
from tf_keras_vis.gradcam import Gradcam
from tf_keras_vis.layercam import Layercam
from tf_keras_vis.utils.model_modifiers import ReplaceToLinear
from tf_keras_vis.utils.scores import CategoricalScore

import nbperceive as nbp
from nbperceive.attribution.explain import engine_for
from nbperceive.attribution.gradcam import GradCAM
from nbperceive.attribution.layercam import LayerCAM

from .conftest import cnn

CASES = [("gradcam", Gradcam, GradCAM), ("layercam", Layercam, LayerCAM)]


@pytest.mark.parametrize("name,reference,ours", CASES)
def test_equals_tf_keras_vis_at_pooled_layer(name, reference, ours, images):
    model = cnn(seed=3)
    labels = [0, 2, 1, 2]
    vis = reference(cnn(seed=3), model_modifier=ReplaceToLinear(), clone=True)
    expected = vis(
        CategoricalScore(labels), images, penultimate_layer="c2",
        expand_cam=False, normalize_cam=False,
    )
    engine = engine_for(model, [images], 0)
    maps = engine.layer_maps(ours(), [images], [0, 1, 2])[engine.structure.candidates.index("c2")]
    got = maps[np.arange(4), labels]  # (N, 8, 8) at the layer's own resolution
    assert expected.shape == got.shape == (4, 8, 8)
    assert np.abs(expected).max() > 0
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6 * np.abs(expected).max())


@pytest.mark.parametrize("name,reference,ours", CASES)
def test_equals_tf_keras_vis_upsampled_full_resolution_layer(name, reference, ours, images):
    model = cnn(seed=4)
    vis = reference(cnn(seed=4), model_modifier=ReplaceToLinear(), clone=True)
    result = nbp.explain(model, images, method=name, labels=[1])
    for label in [1]:
        expected = vis(
            CategoricalScore([label] * 4), images, penultimate_layer="c1", normalize_cam=False
        )
        got = result.heatmaps[:, result.layers.index("c1"), result.labels.index(label)]
        assert np.abs(expected).max() > 0
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6 * np.abs(expected).max())
