"""Heatmaps as the Inspector ships them: each depth at its layer's own size, fewer depths in a
report (pure numpy: no model needed)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from nbperceive.errors import ReportError
from nbperceive.widgets.maps import native_maps, pack_maps, pick_depths, take_depths, unpack_maps
from nbperceive.widgets.serializers import array_from_json


def test_maps_keep_their_layers_resolution_and_upsample_back_to_the_input():
    rng = np.random.default_rng(0)
    small = rng.random((2, 4, 4)).astype(np.float32)  # K=2 labels at a 4x4 layer
    # what the engine hands the Inspector: upsampled to the 32x32 input (tf.image.resize)
    up = tf.image.resize(small[..., None], (32, 32), method="bilinear").numpy()[..., 0]
    full = rng.random((2, 32, 32)).astype(np.float32)  # a layer at the input's own size
    maps = np.stack([full, up])  # (L=2, K=2, 32, 32)
    blocks, ranges = native_maps(maps * 0.02, [(32, 32), (4, 4)])
    assert [b.shape for b in blocks] == [(2, 32, 32), (2, 4, 4)]
    # each map's raw range: code 0 is 0, code 255 the map's own peak (at its layer's size)
    assert ranges.dtype == np.float32 and ranges.shape == (2, 2, 2)
    np.testing.assert_allclose(ranges[1, :, 1], 0.02 * small.reshape(2, -1).max(1), rtol=1e-4)
    np.testing.assert_allclose(ranges[0, :, 1], 0.02 * full.reshape(2, -1).max(1), rtol=1e-6)
    assert (ranges[..., 0] == 0).all()
    # the 4x4 maps come back as the layer's values (each scaled to its own peak)
    want = small / small.reshape(2, -1).max(1)[:, None, None]
    np.testing.assert_allclose(blocks[1] / 255.0, want, atol=0.5 / 255 + 1e-6)
    assert blocks[1].reshape(2, -1).max(1).tolist() == [255, 255]
    # 16 + 2048 bytes instead of 2 x 2048: one flat array with each depth's shape
    packed = pack_maps(blocks)
    assert packed["map_shapes"] == [[32, 32], [4, 4]]
    assert array_from_json(packed["heatmaps"]).size == 2 * 32 * 32 + 2 * 4 * 4
    panel = {**packed, "labels": [3, 7]}
    for a, b in zip(unpack_maps(panel), blocks):
        np.testing.assert_array_equal(a, b)


def test_a_report_carries_a_dozen_depths_spread_over_the_network():
    chosen = pick_depths(119, 12)
    gaps = np.diff(chosen)
    assert len(chosen) == 12 and chosen[0] == 0 and chosen[-1] == 118
    assert gaps.min() >= 10 and gaps.max() <= 11  # evenly spread
    assert pick_depths(119, 12, keep=[5]) == sorted({*pick_depths(119, 12), 5})
    assert pick_depths(4, 12) == [0, 1, 2, 3] and pick_depths(4, None) == [0, 1, 2, 3]
    assert pick_depths(10, 1) == [9]
    with pytest.raises(ReportError, match="at least 1 depth"):
        pick_depths(10, 0)
    blocks = [np.full((2, s, s), d, np.uint8) for d, s in enumerate((8, 4, 2, 1))]
    ranges = np.arange(16, dtype=np.float32).reshape(4, 2, 2)
    panel = {**pack_maps(blocks), "labels": [0, 1], "layers": list("abcd"),
             "ranges": {"view": memoryview(ranges.reshape(-1)).cast("B"), "dtype": "float32",
                        "shape": [4, 2, 2]},
             "depths": [1, 2, 3, 4],
             "faithfulness": {"deletion": {"view": memoryview(np.arange(8, dtype=np.float32)),
                                           "dtype": "float32", "shape": [4, 2]}}}
    kept = take_depths(panel, [0, 3])
    assert kept["layers"] == ["a", "d"] and kept["depths"] == [1, 4]
    assert kept["map_shapes"] == [[8, 8], [1, 1]]
    assert [b[0, 0, 0] for b in unpack_maps(kept)] == [0, 3]
    np.testing.assert_array_equal(array_from_json(kept["faithfulness"]["deletion"]),
                                  [[0, 1], [6, 7]])
    np.testing.assert_array_equal(array_from_json(kept["ranges"]), ranges[[0, 3]])


def test_signed_maps_keep_their_sign_with_zero_at_128():
    m = np.zeros((1, 2, 3, 3), np.float32)  # one depth (the input), two labels
    m[0, 0, 0, 0], m[0, 0, 2, 2], m[0, 0, 1, 1] = -0.004, 0.002, 0.001
    blocks, ranges = native_maps(m, None, signed=True)
    codes = blocks[0]
    assert codes[0, 0, 0] == 1 and codes[0, 2, 2] == 128 + 64 and codes[0, 1, 1] == 128 + 32
    assert codes[0, 0, 1] == 128  # 0 stays 0
    np.testing.assert_allclose(ranges[0, 0], [-0.004, 0.004])  # symmetric: +-max|v|
    assert (codes[1] == 128).all() and (ranges[0, 1] == 0).all()  # a flat map: all zero
    # unsigned, the same map keeps only its positive part, scaled to its own peak
    blocks, ranges = native_maps(m, None)
    assert blocks[0][0, 0, 0] == 0 and blocks[0][0, 2, 2] == 255
    np.testing.assert_allclose(ranges[0, 0], [0, 0.002])
