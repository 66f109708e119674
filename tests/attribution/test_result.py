import numpy as np
import pytest

from nbperceive.attribution.result import Explanation
from nbperceive.errors import LabelError, ProbeError


def _expl(h):
    n, n_layers, k = h.shape[:3]
    return Explanation(
        method="gradcam",
        heatmaps=h,
        layers=[f"l{i}" for i in range(n_layers)],
        depths=list(range(1, n_layers + 1)),
        labels=[3, 7][:k],
        input_name="x",
        input_kind="image",
        probabilities=np.full((n, 10), 0.1),
    )


def test_normalized_scales_each_map_and_keeps_zero_maps_zero():
    h = np.zeros((2, 3, 2, 4, 5), np.float32)
    h[0, 1, 0, 2, 3] = 7.0
    h[0, 1, 0, 0, 0] = 3.5
    e = _expl(h)
    nrm = e.normalized()
    assert nrm.shape == h.shape
    assert nrm[0, 1, 0].max() == 1.0 and nrm[0, 1, 0, 0, 0] == pytest.approx(0.5)
    assert np.all(nrm[1] == 0) and np.all(np.isfinite(nrm))


def test_map_picks_sample_label_and_depth():
    h = np.random.default_rng(0).random((2, 3, 2, 4, 5)).astype(np.float32)
    e = _expl(h)
    np.testing.assert_array_equal(e.map(1, label=7, depth=0), h[1, 0, 1])
    np.testing.assert_array_equal(e.map(), h[0, -1, 0])
    with pytest.raises(LabelError, match="labels=\\[5\\]"):
        e.map(0, label=5)
    with pytest.raises(ProbeError):
        e.map(5)


def test_inconsistent_lengths_are_rejected():
    h = np.zeros((1, 2, 1, 3, 3), np.float32)
    with pytest.raises(ValueError):
        Explanation("gradcam", h, ["a"], [1], [0], "x", "image", np.ones((1, 2)))
