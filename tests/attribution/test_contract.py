"""One contract, every method: shapes, finiteness, non-negativity, probabilities, metadata."""

import numpy as np
import pytest

import nbperceive as nbp
from nbperceive.attribution import METHODS
from nbperceive.errors import ModelError

FAST_OPTIONS = {"smoothgrad": {"passes": 3}, "activation_max": {"steps": 3},
                "scorecam": {"layers": "all"}, "integrated_gradients": {"steps": 8},
                "rise": {"n_masks": 200}}
NO_TOKENS = {name for name, cls in METHODS.items() if "tokens" not in cls.input_kinds}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_image_contract(method, image_model, images):
    labels = [0, 2]
    e = nbp.explain(image_model, images, method=method, labels=labels,
                    **FAST_OPTIONS.get(method, {}))
    n_layers = len(e.layers)
    assert e.method == method
    assert e.heatmaps.dtype == np.float32
    assert e.heatmaps.shape == (4, n_layers, 2, 16, 16)
    assert len(e.depths) == n_layers and e.depths == sorted(e.depths)
    assert e.labels == labels and e.input_name == "img" and e.input_kind == "image"
    assert np.all(np.isfinite(e.heatmaps))
    assert e.heatmaps.min() >= 0.0, "every method's maps are non-negative"
    assert e.heatmaps.max() > 0.0
    assert e.probabilities.shape == (4, 3)
    np.testing.assert_allclose(e.probabilities, image_model.predict(images, verbose=0), atol=1e-5)
    nrm = e.normalized()
    assert nrm.shape == e.heatmaps.shape and nrm.min() >= 0 and nrm.max() <= 1
    if METHODS[method].layerwise or method == "scorecam":
        assert e.layers == ["c1", "p1", "c2"] and e.depths == [1, 2, 3]
    elif method != "activation_max":
        assert e.layers == ["img"] and e.depths == [0]


def test_methods_that_refuse_tokens_are_the_expected_ones():
    assert NO_TOKENS == {"scorecam", "activation_max", "integrated_gradients"}


@pytest.mark.parametrize("method", sorted(set(METHODS) - NO_TOKENS))
def test_token_contract(method, text_model, tokens):
    e = nbp.explain(text_model, tokens, method=method, **FAST_OPTIONS.get(method, {}))
    assert e.input_kind == "tokens" and e.labels == [0, 1]
    assert e.heatmaps.shape == (4, len(e.layers), 2, 10)
    assert np.all(np.isfinite(e.heatmaps)) and e.heatmaps.min() >= 0 and e.heatmaps.max() > 0
    if METHODS[method].layerwise:
        assert e.layers == ["emb", "conv", "lstm", "mha", "td_dense"]
        assert e.depths == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("method", sorted(NO_TOKENS))
def test_methods_without_token_support_refuse_tokens_clearly(method, text_model, tokens):
    with pytest.raises(ModelError, match="token"):
        nbp.explain(text_model, tokens, method=method, **FAST_OPTIONS.get(method, {}))


def test_baseline_delta_panels(image_model, images):
    e = nbp.explain(image_model, images, method="baseline_delta", labels=[1])
    p = e.panels
    assert set(p) == {"source", "baseline", "saliency", "delta", "overlay"}
    assert p["source"].shape == (4, 16, 16)
    np.testing.assert_allclose(p["source"], images[..., 0])
    np.testing.assert_allclose(p["delta"], p["saliency"] - p["baseline"], atol=1e-7)
    np.testing.assert_allclose(p["overlay"], p["delta"] * p["source"][:, None], atol=1e-7)
    saliency = nbp.explain(image_model, images, method="saliency", labels=[1])
    np.testing.assert_allclose(p["saliency"], saliency.heatmaps[:, 0], atol=1e-7)
    empty = nbp.explain(image_model, np.zeros_like(images), method="saliency", labels=[1])
    np.testing.assert_allclose(p["baseline"], empty.heatmaps[:, 0], atol=1e-7)


def test_faithfulness_is_a_deletion_auc_per_map(image_model, images):
    e = nbp.explain(image_model, images, method="layercam", labels=[0, 1], faithfulness=True)
    assert e.faithfulness.shape == (4, 3, 2)
    assert np.all((e.faithfulness >= 0) & (e.faithfulness <= 1))
